// RMSProp (Hinton's lecture 6e; centered variant from Graves 2013), as torch.optim.RMSprop:
// coupled L2 weight decay, optional momentum. Options: lr 1e-2, alpha 0.99, eps 1e-8,
// weight_decay 0, momentum 0, centered 0, maximize 0.
// Implementation: optim/rmsprop.cpp; tests: test/optim/test_adaptive.cpp (hand-worked steps, PyTorch fixtures).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class RMSProp : public Optimizer {
 public:
  explicit RMSProp(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
