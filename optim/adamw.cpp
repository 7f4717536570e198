// Adam and AdamW (optim/adamw.h). Per parameter and step t, one pass over its data:
//   g = ±g (+ wd·w for Adam);  w = w·(1 − lr·wd) first for AdamW
//   m = β1·m + (1 − β1)·g
//   v = β2·v + (1 − β2)·g²;   v̂max = max(v̂max, v) with AMSGrad (the denominator then uses v̂max)
//   w = w − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
// The operations and their order follow torch's single-tensor Adam so float64 results agree to
// the last bits and float32 ones to rounding.
#include "optim/adamw.h"

#include <cmath>

#include "cuda/optim.h"
#include "engine/dispatch.h"

namespace ember::optim {
namespace {

std::map<std::string, double> adam_defaults(double weight_decay) {
  return {{"lr", 1e-3},         {"beta1", 0.9},    {"beta2", 0.999}, {"eps", 1e-8},
          {"weight_decay", weight_decay}, {"amsgrad", 0.0}, {"maximize", 0.0}};
}

}  // namespace

Adam::Adam(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Adam("adam", false, std::move(groups), options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Adam("adamw", true, std::move(groups), options) {}

Adam::Adam(std::string name, bool decoupled, std::vector<ParamGroup> groups, const std::map<std::string, double>& options)
    : Optimizer(name, std::move(groups), merge_options(name, adam_defaults(decoupled ? 1e-2 : 0.0), options)),
      decoupled_(decoupled) {
  check_adam_options();
}

void Adam::step() {
  cuda::FusedStepQueue on_cuda(cuda::FusedOptimizer::adam);  // CUDA parameters: one fused launch at the end
  for_each_param([&](ParamRef& p) {
    const double lr = p.group.get("lr"), beta1 = p.group.get("beta1"), beta2 = p.group.get("beta2");
    const double eps = p.group.get("eps"), wd = p.group.get("weight_decay");
    const bool amsgrad = p.group.flag("amsgrad");
    const double sign = p.group.flag("maximize") ? -1.0 : 1.0;
    const double coupled_wd = decoupled_ ? 0.0 : wd;
    const double shrink = decoupled_ ? 1.0 - lr * wd : 1.0;
    const double t = static_cast<double>(p.step);
    const double step_size = lr / (1.0 - std::pow(beta1, t));
    const double correction2_sqrt = std::sqrt(1.0 - std::pow(beta2, t));
    if (p.param.device().is_cuda()) {
      cuda::FusedHyper h;
      h.beta1 = beta1, h.beta2 = beta2, h.eps = eps, h.weight_decay = coupled_wd, h.shrink = shrink, h.sign = sign;
      h.step_size = step_size, h.correction2_sqrt = correction2_sqrt, h.flags = amsgrad ? cuda::kFusedAmsgrad : 0u;
      const Tensor vmax = amsgrad ? slot(p.index, "max_exp_avg_sq", p.param) : Tensor();
      EMBER_CUDA_KERNEL(name_.c_str(), on_cuda.add(p.param, p.grad,
                                                   {slot(p.index, "exp_avg", p.param), slot(p.index, "exp_avg_sq", p.param), vmax}, h));
      return;
    }
    dispatch_floating(p.param.dtype(), name_.c_str(), [&]<class T>() {
      T* w = p.param.data_ptr<T>();
      const T* g = p.grad.data_ptr<T>();
      T* m = slot(p.index, "exp_avg", p.param).template data_ptr<T>();
      T* v = slot(p.index, "exp_avg_sq", p.param).template data_ptr<T>();
      T* vmax = amsgrad ? slot(p.index, "max_exp_avg_sq", p.param).template data_ptr<T>() : nullptr;
      elementwise(p.param.numel(), [=](int64_t i) {
        const T grad = T(sign) * g[i] + T(coupled_wd) * w[i];
        if (shrink != 1.0) w[i] *= T(shrink);
        m[i] = T(beta1) * m[i] + T(1.0 - beta1) * grad;
        v[i] = T(beta2) * v[i] + T(1.0 - beta2) * grad * grad;
        T second = v[i];
        if (vmax) second = vmax[i] = std::max(vmax[i], v[i]);
        const T denom = std::sqrt(second) / T(correction2_sqrt) + T(eps);
        w[i] -= T(step_size) * m[i] / denom;  // torch's addcdiv order: (value·m)/denom
      });
    });
  });
  if (!on_cuda.empty()) EMBER_CUDA_KERNEL(name_.c_str(), on_cuda.launch());
}

}  // namespace ember::optim
