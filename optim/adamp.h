// AdamP (Heo et al. 2021, as clovaai/AdamP): Adam whose update loses its radial component on
// scale-invariant weights (optim/projection.h), with decoupled weight decay scaled by wd_ratio
// where projected. Options: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0, delta 0.1,
// wd_ratio 0.1, nesterov 0. Implementation: optim/adamp.cpp; tests: test/optim/test_paper_optimizers.cpp.
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class AdamP : public Optimizer {
 public:
  explicit AdamP(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
