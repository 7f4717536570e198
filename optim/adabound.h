// AdaBound (Luo et al. 2019, "Adaptive Gradient Methods with Dynamic Bound of Learning Rate"), as
// the authors' Luolc/AdaBound: Adam whose per-element step lr·√(1 − β2ᵗ)/(1 − β1ᵗ)/(√v + ε) is
// clipped into [η_l(t), η_u(t)] = final_lr·(1 − 1/(γt + 1)), final_lr·(1 + 1/(γt)), which both tend
// to final_lr (SGD). final_lr follows schedules: it is scaled by lr/initial_lr. Weight decay is
// decoupled (w *= 1 − lr·λ, as BOCB's table lists; AdaBoundW) unless weight_decouple 0 (the
// original coupled L2). Options: lr 1e-3, beta1 0.9, beta2 0.999, final_lr 0.1, gamma 1e-3,
// eps 1e-8, weight_decay 0, weight_decouple 1, amsbound 0.
// Implementation: optim/adabound.cpp; tests: test/optim/test_paper_optimizers.cpp.
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class AdaBound : public Optimizer {
 public:
  explicit AdaBound(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
