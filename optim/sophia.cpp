// Sophia (optim/sophia.h). Per parameter, one pass:
//   w = w·(1 − lr·λ);  m = β1·m + (1 − β1)·g;  w = w − lr·sign(m)·min(|m|/(ρ·h + ε), 1)
// and the Hessian EMA h = β2·h + (1 − β2)·ĥ when the caller supplies an estimate.
#include "optim/sophia.h"

#include <cmath>

#include "autograd/engine.h"
#include "ops/ops.h"

namespace ember::optim {

Sophia::Sophia(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("sophia", std::move(groups),
                merge_options("sophia",
                              {{"lr", 1e-4}, {"beta1", 0.965}, {"beta2", 0.99}, {"rho", 0.04}, {"weight_decay", 0.1},
                               {"eps", 1e-15}, {"update_interval", 10.0}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("beta1", 0.0, 1.0, false, true);
  check_option("beta2", 0.0, 1.0, false, true);
  check_option("rho", 0.0, 1e300, true);
  check_option("weight_decay", 0.0, 1e300);
  check_option("eps", 0.0, 1e300);
  check_option("update_interval", 1.0, 1e12);
}

bool Sophia::hessian_due() const {
  const int64_t steps = *std::max_element(steps_.begin(), steps_.end());
  const auto interval = static_cast<int64_t>(groups_.at(0).get("update_interval"));
  return steps % interval == 0;
}

void Sophia::update_hessian(const std::vector<Tensor>& estimates) {
  EMBER_CHECK(estimates.size() == num_params(), "sophia: update_hessian got {} estimate(s) for {} parameter(s)",
              estimates.size(), num_params());
  NoGradGuard no_grad;
  size_t index = 0;
  for (const ParamGroup& group : groups_) {
    const double beta2 = group.get("beta2");
    for (const Tensor& param : group.params) {
      const size_t i = index++;
      if (!estimates[i].defined()) continue;
      EMBER_CHECK(estimates[i].sizes() == param.sizes(), "sophia: the estimate for parameter {} is {} but it is {}", i,
                  estimates[i].describe(), param.describe());
      const Tensor estimate = estimates[i].to(param.dtype()).contiguous();
      dispatch_floating(param.dtype(), "sophia", [&]<class T>() {
        T* h = slot(i, "hessian", param).template data_ptr<T>();
        const T* e = estimate.data_ptr<T>();
        elementwise(param.numel(), [=](int64_t k) { h[k] = T(beta2) * h[k] + T(1.0 - beta2) * e[k]; });
      });
    }
  }
}

void Sophia::update_hessian_from_grads(double scale) {
  std::vector<Tensor> estimates;
  NoGradGuard no_grad;
  for (const ParamGroup& group : groups_) {
    for (const Tensor& param : group.params) {
      estimates.push_back(param.grad().defined() ? mul(mul(param.grad(), param.grad()), scale) : Tensor());
    }
  }
  update_hessian(estimates);
}

void Sophia::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), rho = p.group.get("rho");
    const double eps = p.group.get("eps"), shrink = 1.0 - lr * p.group.get("weight_decay");
    dispatch_floating(p.param.dtype(), "sophia", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      const T* h = slot(p.index, "hessian", p.param).template data_ptr<T>();
      elementwise(p.param.numel(), [=](int64_t i) {
        w[i] *= T(shrink);
        m[i] = T(beta1) * m[i] + T(1.0 - beta1) * g[i];
        const T ratio = std::min(std::abs(m[i]) / (T(rho) * h[i] + T(eps)), T(1));
        const T sign = m[i] > T(0) ? T(1) : (m[i] < T(0) ? T(-1) : T(0));
        w[i] -= T(lr) * sign * ratio;
      });
    });
  });
}

std::vector<Tensor> hutchinson_hessian_diagonal(const Tensor& loss, const std::vector<Tensor>& params, Generator& gen) {
  EMBER_CHECK(loss.numel() == 1, "hutchinson_hessian_diagonal: the loss must be a scalar, got {}", loss.describe());
  const TensorList grads = autograd::grad({loss}, params, {}, /*retain_graph=*/true, /*create_graph=*/true);
  std::vector<Tensor> probes;
  Tensor dot;
  for (size_t i = 0; i < params.size(); ++i) {
    // Rademacher: ±1 with probability 1/2 each.
    probes.push_back(sub(mul(bernoulli(params[i].sizes(), 0.5, gen, TensorOptions(params[i].dtype())), 2.0), 1.0));
    const Tensor term = sum(mul(grads[i], probes[i]));
    dot = dot.defined() ? add(dot, term) : term;
  }
  // retain_graph: the double-backward graph shares nodes with the loss's, which the caller may reuse.
  const TensorList hv = autograd::grad({dot}, params, {}, /*retain_graph=*/true);
  std::vector<Tensor> out;
  NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) out.push_back(mul(probes[i], hv[i]));
  return out;
}

}  // namespace ember::optim
