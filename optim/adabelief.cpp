// AdaBelief (optim/adabelief.h). Per parameter and step t, one pass:
//   w = w·(1 − lr·λ) (weight_decouple; else g = g + λ·w)
//   m = β1·m + (1 − β1)·g;  s = β2·s + (1 − β2)·(g − m)² + ε;  AMSGrad: ŝ = max(ŝ, s)
//   not rectified: w = w − lr/(1 − β1ᵗ)·m/(√s/√(1 − β2ᵗ) + ε)
//   rectified (ρₜ >= 5, ρ as RAdam): w = w − lr·k·m/(√s + ε), k = √((1 − β2ᵗ)(ρ−4)(ρ−2)ρ∞ /
//                                       ((ρ∞−4)(ρ∞−2)ρ)) / (1 − β1ᵗ);  ρₜ < 5: w = w − lr/(1 − β1ᵗ)·m
#include "optim/adabelief.h"

#include <cmath>

namespace ember::optim {

AdaBelief::AdaBelief(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("adabelief", std::move(groups),
                merge_options("adabelief",
                              {{"lr", 1e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-16}, {"weight_decay", 0.0},
                               {"weight_decouple", 1.0}, {"amsgrad", 0.0}, {"rectify", 1.0},
                               {"degenerated_to_sgd", 1.0}},
                              options)) {
  check_adam_options();
}

void AdaBelief::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2");
    const double eps = p.group.get("eps"), wd = p.group.get("weight_decay");
    const bool decoupled = p.group.flag("weight_decouple"), amsgrad = p.group.flag("amsgrad");
    const double coupled_wd = decoupled ? 0.0 : wd, shrink = decoupled ? 1.0 - lr * wd : 1.0;
    const double t = static_cast<double>(p.step);
    const double correction1 = 1.0 - std::pow(beta1, t), correction2 = 1.0 - std::pow(beta2, t);
    const double correction2_sqrt = std::sqrt(correction2);
    // 0: Adam-style step; 1: rectified; 2: momentum SGD (ρ < 5, degenerated_to_sgd); 3: no step.
    int mode = 0;
    double rect_step = 0.0;
    if (p.group.flag("rectify")) {
      const double rho_inf = 2.0 / (1.0 - beta2) - 1.0;
      const double rho = rho_inf - 2.0 * t * std::pow(beta2, t) / correction2;
      if (rho >= 5.0) {
        mode = 1;
        rect_step = lr * std::sqrt(correction2 * (rho - 4.0) / (rho_inf - 4.0) * (rho - 2.0) / rho * rho_inf /
                                   (rho_inf - 2.0)) / correction1;
      } else {
        mode = p.group.flag("degenerated_to_sgd") ? 2 : 3;
      }
    }
    const double step_size = lr / correction1;
    dispatch_floating(p.param.dtype(), "adabelief", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      T* s = slot(p.index, "exp_avg_var", p.param).template data_ptr<T>();
      T* smax = amsgrad ? slot(p.index, "max_exp_avg_var", p.param).template data_ptr<T>() : nullptr;
      elementwise(p.param.numel(), [=](int64_t i) {
        const T grad = g[i] + T(coupled_wd) * w[i];
        if (shrink != 1.0) w[i] *= T(shrink);
        m[i] = T(beta1) * m[i] + T(1.0 - beta1) * grad;
        const T residual = grad - m[i];
        s[i] = T(beta2) * s[i] + T(1.0 - beta2) * residual * residual + T(eps);
        if (smax) smax[i] = std::max(smax[i], s[i]);
        if (mode == 0) {
          w[i] -= T(step_size) * m[i] / (std::sqrt(smax ? smax[i] : s[i]) / T(correction2_sqrt) + T(eps));
        } else if (mode == 1) {
          w[i] -= T(rect_step) * m[i] / (std::sqrt(s[i]) + T(eps));
        } else if (mode == 2) {
          w[i] -= T(step_size) * m[i];
        }
      });
    });
  });
}

}  // namespace ember::optim
