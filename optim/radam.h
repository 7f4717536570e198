// RAdam (Liu et al. 2020: Adam whose adaptive step is switched on and rectified once the variance
// of the adaptive lr is tractable, ρₜ > 5), as torch.optim.RAdam. Weight decay is coupled L2 by
// default; decoupled_weight_decay 1 gives AdamW-style decay (torch >= 2.0's option; BOCB's setting).
// Options: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0, decoupled_weight_decay 0.
// Implementation: optim/radam.cpp; tests: test/optim/test_adaptive.cpp (hand-worked steps, PyTorch fixtures).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class RAdam : public Optimizer {
 public:
  explicit RAdam(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
