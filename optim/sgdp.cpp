// SGDP (optim/sgdp.h). Per parameter:
//   pass 1: b = μ·b + (1 − τ)·g;  d = g + μ·b (Nesterov) or b; plus the projection's row sums
//   pass 2: d = d − w·scale(row) if projected; w = w·(1 − lr·λ·ratio/(1 − μ)) − lr·d
#include "optim/sgdp.h"

#include <limits>

#include "optim/projection.h"

namespace ember::optim {

SGDP::SGDP(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("sgdp", std::move(groups),
                merge_options("sgdp",
                              {{"lr", std::numeric_limits<double>::quiet_NaN()},
                               {"momentum", 0.0},
                               {"dampening", 0.0},
                               {"weight_decay", 0.0},
                               {"nesterov", 0.0},
                               {"eps", 1e-8},
                               {"delta", 0.1},
                               {"wd_ratio", 0.1}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("momentum", 0.0, 1.0, false, true);  // the decay divides by 1 − μ
  check_option("dampening", 0.0, 1.0);
  check_option("weight_decay", 0.0, 1e300);
  check_option("eps", 0.0, 1e300);
  check_option("delta", 0.0, 1e300);
  check_option("wd_ratio", 0.0, 1.0);
}

void SGDP::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), momentum = p.group.get("momentum"), wd = p.group.get("weight_decay");
    const double keep = 1.0 - p.group.get("dampening");
    const bool nesterov = p.group.flag("nesterov");
    dispatch_floating(p.param.dtype(), "sgdp", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* b = slot(p.index, "momentum", p.param).template data_ptr<T>();
      const auto direction = [=](int64_t i) { return nesterov ? g[i] + T(momentum) * b[i] : b[i]; };
      const Projection proj = plan_projection<T>(p.param, w, g, [=](int64_t i) {
        b[i] = T(momentum) * b[i] + T(keep) * g[i];
        return direction(i);
      }, p.group.get("delta"), p.group.get("eps"));
      const double shrink = 1.0 - lr * wd * (proj.active ? p.group.get("wd_ratio") : 1.0) / (1.0 - momentum);
      const Projection* plan = &proj;
      elementwise(p.param.numel(), [=](int64_t i) {
        const T d = direction(i) - w[i] * T(plan->scale(i));
        w[i] = w[i] * T(shrink) - T(lr) * d;
      });
    });
  });
}

}  // namespace ember::optim
