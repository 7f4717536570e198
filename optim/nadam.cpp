// NAdam (optim/nadam.h). Per parameter and step t, with μₜ = β1·(1 − 0.5·0.96^(t·ψ)) and the
// running product Πₜ = Π_{i<=t} μᵢ (scalar state "mu_product"), one pass:
//   g = g + wd·w;  m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²;  d = √(v/(1 − β2ᵗ)) + ε
//   w = w − lr·(1 − μₜ)/(1 − Πₜ)·g/d − lr·μₜ₊₁/(1 − Πₜ·μₜ₊₁)·m/d
#include "optim/nadam.h"

#include <cmath>

namespace ember::optim {

NAdam::NAdam(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("nadam", std::move(groups),
                merge_options("nadam",
                              {{"lr", 2e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0.0},
                               {"momentum_decay", 4e-3}},
                              options)) {
  check_adam_options();
  check_option("momentum_decay", 0.0, 1e300);
}

void NAdam::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2");
    const double eps = p.group.get("eps"), wd = p.group.get("weight_decay"), psi = p.group.get("momentum_decay");
    const double t = static_cast<double>(p.step);
    const double mu = beta1 * (1.0 - 0.5 * std::pow(0.96, t * psi));
    const double mu_next = beta1 * (1.0 - 0.5 * std::pow(0.96, (t + 1.0) * psi));
    double& mu_product = scalar_slot(p.index, "mu_product", 1.0);
    mu_product *= mu;
    const double grad_coef = lr * (1.0 - mu) / (1.0 - mu_product);
    const double momentum_coef = lr * mu_next / (1.0 - mu_product * mu_next);
    const double correction2 = 1.0 - std::pow(beta2, t);
    dispatch_floating(p.param.dtype(), "nadam", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      T* v = slot(p.index, "exp_avg_sq", p.param).template data_ptr<T>();
      elementwise(p.param.numel(), [=](int64_t i) {
        const T grad = g[i] + T(wd) * w[i];
        m[i] = T(beta1) * m[i] + T(1.0 - beta1) * grad;
        v[i] = T(beta2) * v[i] + T(1.0 - beta2) * grad * grad;
        const T denom = std::sqrt(v[i] / T(correction2)) + T(eps);
        w[i] -= T(grad_coef) * grad / denom;
        w[i] -= T(momentum_coef) * m[i] / denom;
      });
    });
  });
}

}  // namespace ember::optim
