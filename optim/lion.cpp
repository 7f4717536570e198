// LION (optim/lion.h). Per parameter, one pass:
//   c = β1·m + (1 − β1)·g;  w = w·(1 − lr·λ) − lr·sign(c);  m = β2·m + (1 − β2)·g
#include "optim/lion.h"

#include "cuda/optim.h"
#include "engine/dispatch.h"

namespace ember::optim {

Lion::Lion(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer("lion", std::move(groups),
                merge_options("lion", {{"lr", 1e-4}, {"beta1", 0.9}, {"beta2", 0.99}, {"weight_decay", 0.0}},
                              options)) {
  check_option("lr", 0.0, 1e300);
  check_option("beta1", 0.0, 1.0);
  check_option("beta2", 0.0, 1.0);
  check_option("weight_decay", 0.0, 1e300);
}

void Lion::step() {
  cuda::FusedStepQueue on_cuda(cuda::FusedOptimizer::lion);  // CUDA parameters: one fused launch at the end
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2");
    const double shrink = 1.0 - lr * p.group.get("weight_decay");
    if (p.param.device().is_cuda()) {
      cuda::FusedHyper h;
      h.lr = lr, h.beta1 = beta1, h.beta2 = beta2, h.shrink = shrink;
      EMBER_CUDA_KERNEL("lion", on_cuda.add(p.param, p.grad, {slot(p.index, "exp_avg", p.param)}, h));
      return;
    }
    dispatch_floating(p.param.dtype(), "lion", [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      elementwise(p.param.numel(), [=](int64_t i) {
        const T c = T(beta1) * m[i] + T(1.0 - beta1) * g[i];
        const T sign = c > T(0) ? T(1) : (c < T(0) ? T(-1) : T(0));
        w[i] = w[i] * T(shrink) - T(lr) * sign;
        m[i] = T(beta2) * m[i] + T(1.0 - beta2) * g[i];
      });
    });
  });
  if (!on_cuda.empty()) EMBER_CUDA_KERNEL("lion", on_cuda.launch());
}

}  // namespace ember::optim
