// SGD with momentum, dampening, Nesterov, coupled (L2) weight decay and maximize, exactly as
// torch.optim.SGD (1.13). Options: lr (required), momentum 0, dampening 0, weight_decay 0,
// nesterov 0, maximize 0. Implementation: optim/sgd.cpp; tests: test/optim/test_sgd_adamw.cpp.
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
  bool has_cuda_step() const override { return true; }
};

}  // namespace ember::optim
