// AdamP (optim/adamp.h). Per parameter and step t:
//   pass 1: m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g², d = m/(√v/√(1 − β2ᵗ) + ε)
//           (Nesterov: (β1·m + (1 − β1)·g)/(...)), plus the projection's row sums
//   pass 2: d = d − w·scale(row) if projected; w = w·(1 − lr·λ·ratio) − lr/(1 − β1ᵗ)·d
#include "optim/adamp.h"

#include <cmath>

#include "optim/projection.h"

namespace ember::optim {

AdamP::AdamP(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("adamp", std::move(groups),
                merge_options("adamp",
                              {{"lr", 1e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0.0},
                               {"delta", 0.1}, {"wd_ratio", 0.1}, {"nesterov", 0.0}},
                              options)) {
  check_adam_options();
  check_option("delta", 0.0, 1e300);
  check_option("wd_ratio", 0.0, 1.0);
}

void AdamP::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2");
    const double eps = p.group.get("eps"), wd = p.group.get("weight_decay");
    const bool nesterov = p.group.flag("nesterov");
    const double t = static_cast<double>(p.step);
    const double step_size = lr / (1.0 - std::pow(beta1, t)), correction2_sqrt = std::sqrt(1.0 - std::pow(beta2, t));
    dispatch_floating(p.param.dtype(), "adamp", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      T* v = slot(p.index, "exp_avg_sq", p.param).template data_ptr<T>();
      const auto direction = [=](int64_t i) {
        const T denom = std::sqrt(v[i]) / T(correction2_sqrt) + T(eps);
        return (nesterov ? T(beta1) * m[i] + T(1.0 - beta1) * g[i] : m[i]) / denom;
      };
      const Projection proj = plan_projection<T>(p.param, w, g, [=](int64_t i) {
        m[i] = T(beta1) * m[i] + T(1.0 - beta1) * g[i];
        v[i] = T(beta2) * v[i] + T(1.0 - beta2) * g[i] * g[i];
        return direction(i);
      }, p.group.get("delta"), eps);
      const double shrink = 1.0 - lr * wd * (proj.active ? p.group.get("wd_ratio") : 1.0);
      const Projection* plan = &proj;
      elementwise(p.param.numel(), [=](int64_t i) {
        const T d = direction(i) - w[i] * T(plan->scale(i));
        w[i] = w[i] * T(shrink) - T(step_size) * d;
      });
    });
  });
}

}  // namespace ember::optim
