// RMSProp (optim/rmsprop.h). Per parameter, one pass:
//   g = ±g + wd·w;  s = α·s + (1 − α)·g²;  centered: ḡ = α·ḡ + (1 − α)·g, d = √(s − ḡ²) + ε, else d = √s + ε
//   momentum μ > 0: b = μ·b + g/d, w = w − lr·b;  else w = w − lr·g/d
#include "optim/rmsprop.h"

#include <cmath>

namespace ember::optim {

RMSProp::RMSProp(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("rmsprop", std::move(groups),
                merge_options("rmsprop",
                              {{"lr", 1e-2}, {"alpha", 0.99}, {"eps", 1e-8}, {"weight_decay", 0.0}, {"momentum", 0.0},
                               {"centered", 0.0}, {"maximize", 0.0}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("alpha", 0.0, 1.0);
  check_option("eps", 0.0, 1e300);
  check_option("weight_decay", 0.0, 1e300);
  check_option("momentum", 0.0, 1e300);
}

void RMSProp::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), alpha = p.group.get("alpha"), eps = p.group.get("eps");
    const double wd = p.group.get("weight_decay"), momentum = p.group.get("momentum");
    const double sign = p.group.flag("maximize") ? -1.0 : 1.0;
    const bool centered = p.group.flag("centered");
    dispatch_floating(p.param.dtype(), "rmsprop", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* s = slot(p.index, "square_avg", p.param).template data_ptr<T>();
      T* mean = centered ? slot(p.index, "grad_avg", p.param).template data_ptr<T>() : nullptr;
      T* b = momentum > 0.0 ? slot(p.index, "momentum_buffer", p.param).template data_ptr<T>() : nullptr;
      elementwise(p.param.numel(), [=](int64_t i) {
        const T grad = T(sign) * g[i] + T(wd) * w[i];
        s[i] = T(alpha) * s[i] + T(1.0 - alpha) * grad * grad;
        T denom;
        if (mean) {
          mean[i] = T(alpha) * mean[i] + T(1.0 - alpha) * grad;
          denom = std::sqrt(s[i] - mean[i] * mean[i]) + T(eps);
        } else {
          denom = std::sqrt(s[i]) + T(eps);
        }
        if (b) {
          b[i] = T(momentum) * b[i] + grad / denom;
          w[i] -= T(lr) * b[i];
        } else {
          w[i] -= T(lr) * grad / denom;
        }
      });
    });
  });
}

}  // namespace ember::optim
