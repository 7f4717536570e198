// LAMB (optim/lamb.h). Per parameter and step t:
//   pass 1: m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g², and ‖w‖², ‖r‖² with
//           r = (m/(1 − β1ᵗ)) / (√v/√(1 − β2ᵗ) + ε) + λ·w
//   pass 2: w = w − lr·φ·r with φ = ‖w‖/‖r‖ (1 when a norm is 0; min(φ, 1) with trust_clip)
// r is recomputed in pass 2 instead of stored: no temporary the size of the parameter.
#include "optim/lamb.h"

#include <cmath>

namespace ember::optim {

Lamb::Lamb(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("lamb", std::move(groups),
                merge_options("lamb",
                              {{"lr", 1e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-6}, {"weight_decay", 0.01},
                               {"always_adapt", 0.0}, {"trust_clip", 0.0}},
                              options)) {
  check_adam_options();
}

void Lamb::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2");
    const double eps = p.group.get("eps"), wd = p.group.get("weight_decay");
    const bool adapt = wd != 0.0 || p.group.flag("always_adapt");
    const double t = static_cast<double>(p.step);
    const double correction1 = 1.0 - std::pow(beta1, t), correction2_sqrt = std::sqrt(1.0 - std::pow(beta2, t));
    dispatch_floating(p.param.dtype(), "lamb", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      T* v = slot(p.index, "exp_avg_sq", p.param).template data_ptr<T>();
      const auto direction = [=](int64_t i) {
        return (m[i] / T(correction1)) / (std::sqrt(v[i]) / T(correction2_sqrt) + T(eps)) + T(wd) * w[i];
      };
      const int64_t n = p.param.numel();
      double trust = 1.0;
      if (adapt) {
        const auto norms = chunked_sums<2>(n, [=](int64_t i, std::array<double, 2>& sums) {
          m[i] = T(beta1) * m[i] + T(1.0 - beta1) * g[i];
          v[i] = T(beta2) * v[i] + T(1.0 - beta2) * g[i] * g[i];
          const double r = static_cast<double>(direction(i));
          sums[0] += static_cast<double>(w[i]) * static_cast<double>(w[i]);
          sums[1] += r * r;
        });
        const double w_norm = std::sqrt(norms[0]), r_norm = std::sqrt(norms[1]);
        if (w_norm > 0.0 && r_norm > 0.0) trust = w_norm / r_norm;
        if (p.group.flag("trust_clip")) trust = std::min(trust, 1.0);
        elementwise(n, [=](int64_t i) { w[i] -= T(lr * trust) * direction(i); });
      } else {
        elementwise(n, [=](int64_t i) {
          m[i] = T(beta1) * m[i] + T(1.0 - beta1) * g[i];
          v[i] = T(beta2) * v[i] + T(1.0 - beta2) * g[i] * g[i];
          w[i] -= T(lr) * direction(i);
        });
      }
    });
  });
}

}  // namespace ember::optim
