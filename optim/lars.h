// LARS (You et al. 2017, "Large Batch Training of Convolutional Networks", Algorithm 1): SGD whose
// gradient (+ L2 term) is scaled per parameter by the local lr η·‖w‖/(‖g‖ + β‖w‖ + ε) (1 when
// either norm is 0), then momentum as SGD's. As timm's Lars the scaling applies where
// weight_decay ≠ 0 or always_adapt, and trust_clip caps η_local/lr at 1. Options: lr 1.0,
// momentum 0, dampening 0, weight_decay 0, nesterov 0, trust_coeff (η) 1e-3, eps 1e-8, trust_clip 0,
// always_adapt 0. Two passes per parameter (norms, then update).
// Implementation: optim/lars.cpp; tests: test/optim/test_paper_optimizers.cpp (hand-worked steps).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class Lars : public Optimizer {
 public:
  explicit Lars(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
