// AdaDelta (Zeiler 2012), as torch.optim.Adadelta: coupled L2 weight decay. Options: lr 1.0,
// rho 0.9, eps 1e-6, weight_decay 0, maximize 0.
// Implementation: optim/adadelta.cpp; tests: test/optim/test_adaptive.cpp (hand-worked steps, PyTorch fixtures).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class AdaDelta : public Optimizer {
 public:
  explicit AdaDelta(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
