// SAM / ASAM (optim/sam.h).
#include "optim/sam.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "engine/error.h"

namespace ember::optim {

SAM::SAM(std::unique_ptr<Optimizer> base, double rho, bool adaptive)
    : WrappedOptimizer("sam", std::move(base)), rho_(rho), adaptive_(adaptive) {
  EMBER_CHECK(rho_ >= 0.0 && std::isfinite(rho_), "sam: rho must be >= 0 and finite, got {}", rho_);
  size_t count = 0;
  for (const ParamGroup& group : groups_) count += group.params.size();
  saved_.resize(count);
}

namespace {
// The gradient of `param` as a contiguous tensor of its shape and dtype, or undefined.
Tensor grad_of(const Tensor& param, size_t index) {
  const Tensor& grad = param.grad();
  if (!grad.defined()) return grad;
  EMBER_CHECK(grad.sizes() == param.sizes() && grad.dtype() == param.dtype(),
              "sam: parameter {} is {} but its gradient is {}", index, param.describe(), grad.describe());
  EMBER_CHECK(param.is_contiguous(), "sam: parameter {} ({}) is not contiguous", index, param.describe());
  return grad.contiguous();
}
}  // namespace

void SAM::first_step(bool zero_grad) {
  EMBER_CHECK(!perturbed_, "sam: first_step called twice without second_step");
  NoGradGuard no_grad;
  // ‖T·g‖² over every parameter with a gradient (T = |θ| when adaptive, else 1), in double.
  double sum_sq = 0.0;
  size_t index = 0;
  for (const ParamGroup& group : groups_) {
    for (const Tensor& param : group.params) {
      const Tensor grad = grad_of(param, index++);
      if (!grad.defined()) continue;
      dispatch_floating(param.dtype(), "sam", [&]<class T>() {
        const T* w = param.data_ptr<T>();
        const T* g = grad.data_ptr<T>();
        const bool adaptive = adaptive_;
        sum_sq += chunked_sums<1>(param.numel(), [=](int64_t i, std::array<double, 1>& s) {
          const double tg = (adaptive ? std::fabs(double(w[i])) : 1.0) * double(g[i]);
          s[0] += tg * tg;
        })[0];
      });
    }
  }
  const double scale = rho_ / (std::sqrt(sum_sq) + 1e-12);
  index = 0;
  for (const ParamGroup& group : groups_) {
    for (const Tensor& param : group.params) {
      const size_t i_param = index++;
      const Tensor grad = grad_of(param, i_param);
      if (!grad.defined()) {
        saved_[i_param] = Tensor();
        continue;
      }
      if (!saved_[i_param].defined() || saved_[i_param].sizes() != param.sizes() ||
          saved_[i_param].dtype() != param.dtype()) {
        saved_[i_param] = param.detach().clone();
      }
      const Tensor& saved = saved_[i_param];
      dispatch_floating(param.dtype(), "sam", [&]<class T>() {
        T* w = param.data_ptr<T>();
        T* old = saved.data_ptr<T>();
        const T* g = grad.data_ptr<T>();
        const T s = T(scale);
        const bool adaptive = adaptive_;
        elementwise(param.numel(), [=](int64_t i) {
          old[i] = w[i];
          w[i] += (adaptive ? w[i] * w[i] : T(1)) * g[i] * s;
        });
      });
      param.bump_version();
    }
  }
  perturbed_ = true;
  if (zero_grad) this->zero_grad();
}

void SAM::second_step(bool zero_grad) {
  EMBER_CHECK(perturbed_, "sam: second_step called without first_step");
  {
    NoGradGuard no_grad;
    size_t index = 0;
    for (const ParamGroup& group : groups_) {
      for (const Tensor& param : group.params) {
        const Tensor& saved = saved_[index++];
        if (!saved.defined()) continue;
        dispatch_floating(param.dtype(), "sam", [&]<class T>() {
          T* w = param.data_ptr<T>();
          const T* old = saved.data_ptr<T>();
          elementwise(param.numel(), [=](int64_t i) { w[i] = old[i]; });
        });
        param.bump_version();
      }
    }
  }
  perturbed_ = false;
  step_base();
  if (zero_grad) this->zero_grad();
}

Tensor SAM::step(const std::function<Tensor()>& closure) {
  EMBER_CHECK(static_cast<bool>(closure), "sam: step(closure) needs a closure that recomputes the loss");
  first_step(true);
  Tensor loss;
  {
    EnableGradGuard grad_on;
    loss = closure();
  }
  second_step(false);
  return loss;
}

void SAM::step() {
  EMBER_FAIL("sam: step() needs the second forward/backward pass: call step(closure), or first_step() and "
             "second_step() around your own loss + backward");
}

void SAM::wrapper_state(OptimizerState& out) const {
  EMBER_CHECK(!perturbed_, "sam: state_dict between first_step and second_step (the weights are perturbed)");
  out.scalars["sam"] = {{"rho", rho_}, {"adaptive", adaptive_}};
}

void SAM::load_wrapper_state(const OptimizerState& state, bool commit) {
  EMBER_CHECK(state.scalars.contains("sam"), "sam: load_state_dict: the state has no 'sam' entry");
  EMBER_CHECK(!perturbed_, "sam: load_state_dict between first_step and second_step");
  const nlohmann::json& own = state.scalars.at("sam");
  const auto rho = own.at("rho").get<double>();
  const auto adaptive = own.at("adaptive").get<bool>();
  EMBER_CHECK(rho >= 0.0, "sam: load_state_dict: rho {} in the state is negative", rho);
  if (commit) {
    rho_ = rho;
    adaptive_ = adaptive;
  }
}

}  // namespace ember::optim
