// NovoGrad (optim/novograd.h). Per parameter: ‖g‖² (chunked, fixed order), the layer's scalar
// second moment v (scalar state "exp_avg_sq"), then one pass m = β1·m + c·(g/(√v + ε) + λ·w),
// w = w − lr·m.
#include "optim/novograd.h"

#include <cmath>

namespace ember::optim {

NovoGrad::NovoGrad(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("novograd", std::move(groups),
                merge_options("novograd",
                              {{"lr", 1e-3}, {"beta1", 0.95}, {"beta2", 0.98}, {"eps", 1e-8}, {"weight_decay", 0.0},
                               {"grad_averaging", 0.0}},
                              options)) {
  check_adam_options();
}

void NovoGrad::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2");
    const double eps = p.group.get("eps"), wd = p.group.get("weight_decay");
    const double scale = p.group.flag("grad_averaging") ? 1.0 - beta1 : 1.0;
    dispatch_floating(p.param.dtype(), "novograd", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      const double norm_sq = chunked_sums<1>(p.param.numel(), [=](int64_t i, std::array<double, 1>& sum) {
        sum[0] += static_cast<double>(g[i]) * static_cast<double>(g[i]);
      })[0];
      const bool first = !has_slot(p.index, "exp_avg");
      double& v = scalar_slot(p.index, "exp_avg_sq", 0.0);
      v = first ? norm_sq : beta2 * v + (1.0 - beta2) * norm_sq;
      const double inv_denom = 1.0 / (std::sqrt(v) + eps);
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      elementwise(p.param.numel(), [=](int64_t i) {
        m[i] = T(beta1) * m[i] + T(scale) * (g[i] * T(inv_denom) + T(wd) * w[i]);
        w[i] -= T(lr) * m[i];
      });
    });
  });
}

}  // namespace ember::optim
