// AdaGrad (Duchi et al. 2011), as torch.optim.Adagrad: coupled L2 weight decay. Options: lr 1e-2,
// lr_decay 0, weight_decay 0, initial_accumulator_value 0, eps 1e-10, maximize 0.
// Implementation: optim/adagrad.cpp; tests: test/optim/test_adaptive.cpp (hand-worked steps, PyTorch fixtures).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class AdaGrad : public Optimizer {
 public:
  explicit AdaGrad(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
