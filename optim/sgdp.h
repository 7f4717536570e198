// SGDP (Heo et al. 2021, as clovaai/AdamP's SGDP): SGD with momentum (buffer from zero:
// b = μ·b + (1 − τ)·g) whose update loses its radial component on scale-invariant weights
// (optim/projection.h), with decoupled weight decay w *= 1 − lr·λ·ratio/(1 − μ).
// Options: lr (required), momentum 0, dampening 0, weight_decay 0, nesterov 0, eps 1e-8,
// delta 0.1, wd_ratio 0.1. Implementation: optim/sgdp.cpp; tests: test/optim/test_paper_optimizers.cpp.
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class SGDP : public Optimizer {
 public:
  explicit SGDP(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;
};

}  // namespace ember::optim
