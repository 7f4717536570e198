// SGD (optim/sgd.h). Per parameter, one pass over its data (torch.optim.SGD's update):
//   d = ±g + wd·w
//   b = d on the first step, else μ·b + (1 − τ)·d          (only when μ ≠ 0)
//   d = d + μ·b (Nesterov) or b
//   w = w − lr·d
#include "optim/sgd.h"

#include <limits>

#include "cuda/optim.h"
#include "engine/dispatch.h"

namespace ember::optim {

SGD::SGD(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("sgd", std::move(groups),
                merge_options("sgd",
                              {{"lr", std::numeric_limits<double>::quiet_NaN()},
                               {"momentum", 0.0},
                               {"dampening", 0.0},
                               {"weight_decay", 0.0},
                               {"nesterov", 0.0},
                               {"maximize", 0.0}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("momentum", 0.0, 1e300);
  check_option("dampening", 0.0, 1.0);
  check_option("weight_decay", 0.0, 1e300);
  for (const ParamGroup& group : groups_) {
    EMBER_CHECK(!group.flag("nesterov") || (group.get("momentum") > 0.0 && group.get("dampening") == 0.0),
                "sgd: nesterov momentum requires momentum > 0 and dampening = 0 (group '{}' has momentum {}, "
                "dampening {})", group.name, group.get("momentum"), group.get("dampening"));
  }
}

void SGD::step() {
  cuda::FusedStepQueue on_cuda(cuda::FusedOptimizer::sgd);  // CUDA parameters: one fused launch at the end
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), momentum = p.group.get("momentum"), wd = p.group.get("weight_decay");
    const double keep = 1.0 - p.group.get("dampening");
    const bool nesterov = p.group.flag("nesterov");
    const bool first = !has_slot(p.index, "momentum_buffer");  // as torch: the buffer starts as d
    const double sign = p.group.flag("maximize") ? -1.0 : 1.0;
    if (p.param.device().is_cuda()) {
      cuda::FusedHyper h;
      h.lr = lr, h.beta1 = momentum, h.keep = keep, h.weight_decay = wd, h.sign = sign;
      h.flags = (momentum != 0.0 ? cuda::kFusedMomentum : 0u) | (nesterov ? cuda::kFusedNesterov : 0u) |
                (first ? cuda::kFusedFirstStep : 0u);
      const Tensor buffer = momentum != 0.0 ? slot(p.index, "momentum_buffer", p.param) : Tensor();
      EMBER_CUDA_KERNEL("sgd", on_cuda.add(p.param, p.grad, {buffer}, h));
      return;
    }
    dispatch_floating(p.param.dtype(), "sgd", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      if (momentum == 0.0) {
        elementwise(p.param.numel(), [=](int64_t i) {
          const T d = T(sign) * g[i] + T(wd) * w[i];
          w[i] -= T(lr) * d;
        });
        return;
      }
      T* b = slot(p.index, "momentum_buffer", p.param).template data_ptr<T>();
      elementwise(p.param.numel(), [=](int64_t i) {
        const T d = T(sign) * g[i] + T(wd) * w[i];
        b[i] = first ? d : T(momentum) * b[i] + T(keep) * d;
        w[i] -= T(lr) * (nesterov ? d + T(momentum) * b[i] : b[i]);
      });
    });
  });
  if (!on_cuda.empty()) EMBER_CUDA_KERNEL("sgd", on_cuda.launch());
}

}  // namespace ember::optim
