// AdaGrad (optim/adagrad.h). Per parameter and step t, one pass:
//   g = ±g + wd·w;  s = s + g²  (s starts at initial_accumulator_value);
//   w = w − lr/(1 + (t − 1)·lr_decay) · g/(√s + ε)
#include "optim/adagrad.h"

#include <cmath>

namespace ember::optim {

AdaGrad::AdaGrad(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("adagrad", std::move(groups),
                merge_options("adagrad",
                              {{"lr", 1e-2}, {"lr_decay", 0.0}, {"weight_decay", 0.0},
                               {"initial_accumulator_value", 0.0}, {"eps", 1e-10}, {"maximize", 0.0}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("lr_decay", 0.0, 1e300);
  check_option("weight_decay", 0.0, 1e300);
  check_option("initial_accumulator_value", 0.0, 1e300);
  check_option("eps", 0.0, 1e300);
}

void AdaGrad::step() {
  for_each_param([&](ParamRef& p) {
    const double wd = p.group.get("weight_decay"), eps = p.group.get("eps");
    const double sign = p.group.flag("maximize") ? -1.0 : 1.0;
    const double clr = p.group.get("lr") / (1.0 + static_cast<double>(p.step - 1) * p.group.get("lr_decay"));
    const double initial = p.group.get("initial_accumulator_value");
    dispatch_floating(p.param.dtype(), "adagrad", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* s = slot(p.index, "sum", p.param, initial).template data_ptr<T>();
      elementwise(p.param.numel(), [=](int64_t i) {
        const T grad = T(sign) * g[i] + T(wd) * w[i];
        s[i] += grad * grad;
        w[i] -= T(clr) * grad / (std::sqrt(s[i]) + T(eps));
      });
    });
  });
}

}  // namespace ember::optim
