// NovoGrad (Ginsburg et al. 2019, "Stochastic Gradient Methods with Layer-wise Adaptive Moments",
// Algorithm 1): a per-parameter (layer) second moment of the gradient norm, vₜ = β2·vₜ₋₁ +
// (1 − β2)·‖g‖² (v₁ = ‖g₁‖²), and momentum on the normalized gradient plus decoupled weight decay,
// m = β1·m + (g/(√v + ε) + λ·w) (× (1 − β1) with grad_averaging), w = w − lr·m.
// Options: lr 1e-3, beta1 0.95, beta2 0.98, eps 1e-8, weight_decay 0, grad_averaging 0.
// Two passes per parameter (‖g‖, then update). Implementation: optim/novograd.cpp;
// tests: test/optim/test_paper_optimizers.cpp.
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class NovoGrad : public Optimizer {
 public:
  explicit NovoGrad(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
