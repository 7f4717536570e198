// AdaBound (optim/adabound.h). Per parameter and step t, one pass:
//   m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g² (AMSBound: v̂ = max(v̂, v));
//   η = clamp(lr·√(1 − β2ᵗ)/(1 − β1ᵗ) / (√v + ε), η_l(t), η_u(t));  w = w − η·m
#include "optim/adabound.h"

#include <cmath>

namespace ember::optim {

AdaBound::AdaBound(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("adabound", std::move(groups),
                merge_options("adabound",
                              {{"lr", 1e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"final_lr", 0.1}, {"gamma", 1e-3},
                               {"eps", 1e-8}, {"weight_decay", 0.0}, {"weight_decouple", 1.0}, {"amsbound", 0.0}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("eps", 0.0, 1e300);
  check_option("beta1", 0.0, 1.0, false, true);
  check_option("beta2", 0.0, 1.0, false, true);
  check_option("final_lr", 0.0, 1e300);
  check_option("gamma", 0.0, 1.0, true, true);
  check_option("weight_decay", 0.0, 1e300);
}

void AdaBound::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2");
    const double eps = p.group.get("eps"), wd = p.group.get("weight_decay"), gamma = p.group.get("gamma");
    const bool decoupled = p.group.flag("weight_decouple"), amsbound = p.group.flag("amsbound");
    const double coupled_wd = decoupled ? 0.0 : wd, shrink = decoupled ? 1.0 - lr * wd : 1.0;
    const auto initial = p.group.options.find("initial_lr");
    const double base_lr = initial != p.group.options.end() ? initial->second : lr;
    const double final_lr = base_lr > 0.0 ? p.group.get("final_lr") * lr / base_lr : 0.0;
    const double t = static_cast<double>(p.step);
    const double lower = final_lr * (1.0 - 1.0 / (gamma * t + 1.0)), upper = final_lr * (1.0 + 1.0 / (gamma * t));
    const double step_size = lr * std::sqrt(1.0 - std::pow(beta2, t)) / (1.0 - std::pow(beta1, t));
    dispatch_floating(p.param.dtype(), "adabound", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      T* v = slot(p.index, "exp_avg_sq", p.param).template data_ptr<T>();
      T* vmax = amsbound ? slot(p.index, "max_exp_avg_sq", p.param).template data_ptr<T>() : nullptr;
      elementwise(p.param.numel(), [=](int64_t i) {
        const T grad = g[i] + T(coupled_wd) * w[i];
        if (shrink != 1.0) w[i] *= T(shrink);
        m[i] = T(beta1) * m[i] + T(1.0 - beta1) * grad;
        v[i] = T(beta2) * v[i] + T(1.0 - beta2) * grad * grad;
        T second = v[i];
        if (vmax) second = vmax[i] = std::max(vmax[i], v[i]);
        const T eta = std::clamp(T(step_size) / (std::sqrt(second) + T(eps)), T(lower), T(upper));
        w[i] -= eta * m[i];
      });
    });
  });
}

}  // namespace ember::optim
