// AdaDelta (optim/adadelta.h). Per parameter, one pass:
//   g = ±g + wd·w;  s = ρ·s + (1 − ρ)·g²;  Δ = √(a + ε)/√(s + ε)·g;  a = ρ·a + (1 − ρ)·Δ²;  w = w − lr·Δ
#include "optim/adadelta.h"

#include <cmath>

namespace ember::optim {

AdaDelta::AdaDelta(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("adadelta", std::move(groups),
                merge_options("adadelta",
                              {{"lr", 1.0}, {"rho", 0.9}, {"eps", 1e-6}, {"weight_decay", 0.0}, {"maximize", 0.0}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("rho", 0.0, 1.0);
  check_option("eps", 0.0, 1e300);
  check_option("weight_decay", 0.0, 1e300);
}

void AdaDelta::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), rho = p.group.get("rho"), eps = p.group.get("eps");
    const double wd = p.group.get("weight_decay"), sign = p.group.flag("maximize") ? -1.0 : 1.0;
    dispatch_floating(p.param.dtype(), "adadelta", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* s = slot(p.index, "square_avg", p.param).template data_ptr<T>();
      T* a = slot(p.index, "acc_delta", p.param).template data_ptr<T>();
      elementwise(p.param.numel(), [=](int64_t i) {
        const T grad = T(sign) * g[i] + T(wd) * w[i];
        s[i] = T(rho) * s[i] + T(1.0 - rho) * grad * grad;
        const T delta = std::sqrt(a[i] + T(eps)) / std::sqrt(s[i] + T(eps)) * grad;
        a[i] = T(rho) * a[i] + T(1.0 - rho) * delta * delta;
        w[i] -= T(lr) * delta;
      });
    });
  });
}

}  // namespace ember::optim
