// Adamax (Kingma & Ba 2015, §7.1: Adam with the infinity norm), as torch.optim.Adamax: coupled L2
// weight decay. Options: lr 2e-3, beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0, maximize 0.
// Implementation: optim/adamax.cpp; tests: test/optim/test_adaptive.cpp (hand-worked steps, PyTorch fixtures).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class Adamax : public Optimizer {
 public:
  explicit Adamax(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
