// Adan (optim/adan.h). Per parameter and step t, with Δ = g − g_prev (0 on the first step), one pass:
//   m = β1·m + (1 − β1)·g;  d = β2·d + (1 − β2)·Δ;  u = g + β2·Δ;  n = β3·n + (1 − β3)·u²
//   q = √n/√(1 − β3ᵗ) + ε;   w = w − lr/(1 − β1ᵗ)·m/q − lr·β2/(1 − β2ᵗ)·d/q;   w = w/(1 + lr·λ)
// (no_prox: w = w·(1 − lr·λ) before the update instead). The previous gradient is kept negated
// (slot "neg_pre_grad"), as the authors' code.
#include "optim/adan.h"

#include <cmath>

namespace ember::optim {

Adan::Adan(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("adan", std::move(groups),
                merge_options("adan",
                              {{"lr", 1e-3}, {"beta1", 0.98}, {"beta2", 0.92}, {"beta3", 0.99}, {"eps", 1e-8},
                               {"weight_decay", 0.0}, {"no_prox", 0.0}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("eps", 0.0, 1e300);
  check_option("beta1", 0.0, 1.0, false, true);
  check_option("beta2", 0.0, 1.0, false, true);
  check_option("beta3", 0.0, 1.0, false, true);
  check_option("weight_decay", 0.0, 1e300);
}

void Adan::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2");
    const double beta3 = p.group.get("beta3"), eps = p.group.get("eps"), wd = p.group.get("weight_decay");
    const bool no_prox = p.group.flag("no_prox");
    const double t = static_cast<double>(p.step);
    const double step_size = lr / (1.0 - std::pow(beta1, t));
    const double step_size_diff = lr * beta2 / (1.0 - std::pow(beta2, t));
    const double correction3_sqrt = std::sqrt(1.0 - std::pow(beta3, t));
    const double shrink = no_prox ? 1.0 - lr * wd : 1.0, prox = no_prox ? 1.0 : 1.0 + lr * wd;
    const bool first = !has_slot(p.index, "neg_pre_grad");
    dispatch_floating(p.param.dtype(), "adan", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      T* d = slot(p.index, "exp_avg_diff", p.param).template data_ptr<T>();
      T* n = slot(p.index, "exp_avg_sq", p.param).template data_ptr<T>();
      T* neg_prev = slot(p.index, "neg_pre_grad", p.param).template data_ptr<T>();
      elementwise(p.param.numel(), [=](int64_t i) {
        const T diff = first ? T(0) : g[i] + neg_prev[i];
        m[i] = T(beta1) * m[i] + T(1.0 - beta1) * g[i];
        d[i] = T(beta2) * d[i] + T(1.0 - beta2) * diff;
        const T u = T(beta2) * diff + g[i];
        n[i] = T(beta3) * n[i] + T(1.0 - beta3) * u * u;
        const T denom = std::sqrt(n[i]) / T(correction3_sqrt) + T(eps);
        if (shrink != 1.0) w[i] *= T(shrink);
        w[i] -= T(step_size) * m[i] / denom;
        w[i] -= T(step_size_diff) * d[i] / denom;
        if (prox != 1.0) w[i] /= T(prox);
        neg_prev[i] = -g[i];
      });
    });
  });
}

}  // namespace ember::optim
