// NAdam (Dozat 2016: Adam with Nesterov momentum and the momentum-decay schedule
// μₜ = β1·(1 − 0.5·0.96^(t·ψ))), as torch.optim.NAdam with coupled L2 weight decay. Options: lr 2e-3,
// beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0, momentum_decay (ψ) 4e-3.
// Note: torch 1.13 multiplies one μₜ too many into the next-step product (Π_{i<=t} μᵢ·μₜ·μₜ₊₁);
// we follow the paper and torch >= 2.0 (Π_{i<=t+1} μᵢ). The fixture script carries that fix.
// Implementation: optim/nadam.cpp; tests: test/optim/test_adaptive.cpp (hand-worked steps, PyTorch fixtures).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class NAdam : public Optimizer {
 public:
  explicit NAdam(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
