// LAMB (You et al. 2020, "Large Batch Optimization for Deep Learning", Algorithm 2): the
// bias-corrected Adam direction plus decoupled weight decay, r = m̂/(√v̂ + ε) + λ·w, scaled per
// parameter by the trust ratio ‖w‖/‖r‖ (1 when either norm is 0). As timm's Lamb, the ratio is
// applied where weight_decay ≠ 0 or always_adapt (so a no-decay group of biases and norms takes
// plain Adam steps); trust_clip caps it at 1. Options: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-6,
// weight_decay 0.01, always_adapt 0, trust_clip 0. Two passes per parameter (norms, then update).
// Implementation: optim/lamb.cpp; tests: test/optim/test_paper_optimizers.cpp (hand-worked steps).
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class Lamb : public Optimizer {
 public:
  explicit Lamb(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
