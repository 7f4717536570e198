// LARS (optim/lars.h). Per parameter:
//   pass 1: ‖w‖, ‖g‖;  φ = η·‖w‖/(‖g‖ + λ‖w‖ + ε) (1 when a norm is 0; min(φ/lr, 1) with trust_clip)
//   pass 2: d = φ·(g + λ·w); b = d on the first step, else μ·b + (1 − τ)·d; d = d + μ·b (Nesterov) or b;
//           w = w − lr·d
#include "optim/lars.h"

#include <cmath>
#include <limits>

namespace ember::optim {

Lars::Lars(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("lars", std::move(groups),
                merge_options("lars",
                              {{"lr", 1.0}, {"momentum", 0.0}, {"dampening", 0.0}, {"weight_decay", 0.0},
                               {"nesterov", 0.0}, {"trust_coeff", 1e-3}, {"eps", 1e-8}, {"trust_clip", 0.0},
                               {"always_adapt", 0.0}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("momentum", 0.0, 1e300);
  check_option("dampening", 0.0, 1.0);
  check_option("weight_decay", 0.0, 1e300);
  check_option("trust_coeff", 0.0, 1e300);
  check_option("eps", 0.0, 1e300);
  for (const ParamGroup& group : groups_) {
    EMBER_CHECK(!group.flag("nesterov") || (group.get("momentum") > 0.0 && group.get("dampening") == 0.0),
                "lars: nesterov momentum requires momentum > 0 and dampening = 0 (group '{}')", group.name);
  }
}

void Lars::step() {
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), momentum = p.group.get("momentum"), wd = p.group.get("weight_decay");
    const double keep = 1.0 - p.group.get("dampening");
    const bool nesterov = p.group.flag("nesterov");
    const bool adapt = wd != 0.0 || p.group.flag("always_adapt");
    const bool first = !has_slot(p.index, "momentum_buffer");
    dispatch_floating(p.param.dtype(), "lars", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      const int64_t n = p.param.numel();
      double trust = 1.0;
      if (adapt) {
        const auto norms = chunked_sums<2>(n, [=](int64_t i, std::array<double, 2>& sums) {
          sums[0] += static_cast<double>(w[i]) * static_cast<double>(w[i]);
          sums[1] += static_cast<double>(g[i]) * static_cast<double>(g[i]);
        });
        const double w_norm = std::sqrt(norms[0]), g_norm = std::sqrt(norms[1]);
        if (w_norm > 0.0 && g_norm > 0.0) trust = p.group.get("trust_coeff") * w_norm / (g_norm + wd * w_norm + p.group.get("eps"));
        if (p.group.flag("trust_clip")) trust = std::min(trust / lr, 1.0);
      }
      T* b = momentum != 0.0 ? slot(p.index, "momentum_buffer", p.param).template data_ptr<T>() : nullptr;
      elementwise(n, [=](int64_t i) {
        T d = (g[i] + T(wd) * w[i]) * T(trust);
        if (b) {
          b[i] = first ? d : T(momentum) * b[i] + T(keep) * d;
          d = nesterov ? d + T(momentum) * b[i] : b[i];
        }
        w[i] -= T(lr) * d;
      });
    });
  });
}

}  // namespace ember::optim
