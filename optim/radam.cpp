// RAdam (optim/radam.h). Per parameter and step t, with ρ∞ = 2/(1 − β2) − 1 and
// ρₜ = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ), one pass:
//   g = g + wd·w (coupled) or w = w·(1 − lr·wd) (decoupled)
//   m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²;  m̂ = m/(1 − β1ᵗ)
//   ρₜ > 5: r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)),  w = w − lr·m̂·√(1 − β2ᵗ)/(√v + ε)·r
//   else:   w = w − lr·m̂                                      (momentum SGD while the variance is intractable)
#include "optim/radam.h"

#include <cmath>

namespace ember::optim {

RAdam::RAdam(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("radam", std::move(groups),
                merge_options("radam",
                              {{"lr", 1e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0.0},
                               {"decoupled_weight_decay", 0.0}},
                              options)) {
  check_adam_options();
}

void RAdam::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2");
    const double eps = p.group.get("eps"), wd = p.group.get("weight_decay");
    const bool decoupled = p.group.flag("decoupled_weight_decay");
    const double coupled_wd = decoupled ? 0.0 : wd, shrink = decoupled ? 1.0 - lr * wd : 1.0;
    const double t = static_cast<double>(p.step);
    const double correction1 = 1.0 - std::pow(beta1, t), correction2 = 1.0 - std::pow(beta2, t);
    const double rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    const double rho = rho_inf - 2.0 * t * std::pow(beta2, t) / correction2;
    const bool rectified = rho > 5.0;
    const double rect = rectified ? std::sqrt((rho - 4.0) * (rho - 2.0) * rho_inf /
                                              ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))
                                  : 0.0;
    const double correction2_sqrt = std::sqrt(correction2);
    dispatch_floating(p.param.dtype(), "radam", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      T* v = slot(p.index, "exp_avg_sq", p.param).template data_ptr<T>();
      elementwise(p.param.numel(), [=](int64_t i) {
        const T grad = g[i] + T(coupled_wd) * w[i];
        if (shrink != 1.0) w[i] *= T(shrink);
        m[i] = T(beta1) * m[i] + T(1.0 - beta1) * grad;
        v[i] = T(beta2) * v[i] + T(1.0 - beta2) * grad * grad;
        const T m_hat = m[i] / T(correction1);
        if (rectified) {
          const T adaptive = T(correction2_sqrt) / (std::sqrt(v[i]) + T(eps));
          w[i] -= m_hat * T(lr) * adaptive * T(rect);
        } else {
          w[i] -= m_hat * T(lr);
        }
      });
    });
  });
}

}  // namespace ember::optim
