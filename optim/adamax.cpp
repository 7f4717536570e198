// Adamax (optim/adamax.h). Per parameter and step t, one pass:
//   g = ±g + wd·w;  m = β1·m + (1 − β1)·g;  u = max(β2·u, |g| + ε);  w = w − (lr/(1 − β1ᵗ))·m/u
#include "optim/adamax.h"

#include <cmath>

namespace ember::optim {

Adamax::Adamax(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("adamax", std::move(groups),
                merge_options("adamax",
                              {{"lr", 2e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0.0},
                               {"maximize", 0.0}},
                              options)) {
  check_adam_options();
}

void Adamax::step() {
  for_each_param([&](ParamRef& p) {
    const double beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2"), eps = p.group.get("eps");
    const double wd = p.group.get("weight_decay"), sign = p.group.flag("maximize") ? -1.0 : 1.0;
    const double step_size = p.group.get("lr") / (1.0 - std::pow(beta1, static_cast<double>(p.step)));
    dispatch_floating(p.param.dtype(), "adamax", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      T* u = slot(p.index, "exp_inf", p.param).template data_ptr<T>();
      elementwise(p.param.numel(), [=](int64_t i) {
        const T grad = T(sign) * g[i] + T(wd) * w[i];
        m[i] = T(beta1) * m[i] + T(1.0 - beta1) * grad;
        u[i] = std::max(T(beta2) * u[i], std::abs(grad) + T(eps));
        w[i] -= T(step_size) * m[i] / u[i];
      });
    });
  });
}

}  // namespace ember::optim
