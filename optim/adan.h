// Adan (Xie et al. 2022, "Adaptive Nesterov Momentum Algorithm", Algorithm 1, as the authors'
// sail-sg/Adan): moments of the gradient, of the gradient difference and of their Nesterov
// combination, bias-corrected, with the paper's proximal weight decay w /= (1 + lr·λ) (no_prox 1:
// w *= 1 − lr·λ first). Options: lr 1e-3, beta1 0.98, beta2 0.92, beta3 0.99, eps 1e-8,
// weight_decay 0, no_prox 0. The βs weight the old values, as in the authors' code (the paper's
// β is 1 − ours).
// Implementation: optim/adan.cpp; tests: test/optim/test_paper_optimizers.cpp (hand-worked steps).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class Adan : public Optimizer {
 public:
  explicit Adan(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
