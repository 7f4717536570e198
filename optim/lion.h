// LION (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2): the sign of
// an interpolation of momentum and gradient, decoupled weight decay. Options: lr 1e-4, beta1 0.9,
// beta2 0.99, weight_decay 0.
// Implementation: optim/lion.cpp; tests: test/optim/test_paper_optimizers.cpp (hand-worked steps).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class Lion : public Optimizer {
 public:
  explicit Lion(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
  bool has_cuda_step() const override { return true; }
};

}  // namespace ember::optim
