// AdaFactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory
// Cost"), as timm's / HF's Adafactor: for parameters with dim >= 2 the second moment is factored
// over the last two dims into row and column averages (V ≈ R·Cᵀ/mean(R)), for others it is kept
// whole; β2ₜ = 1 − t^decay_rate; the update g/√V is clipped to RMS <= clip_threshold; optional first
// moment (beta1 > 0); decoupled weight decay w −= lr·λ·w. With relative_step 1 the lr is
// min(1e-2, 1/√t) (min(1e-6·t, 1/√t) with warmup_init), times max(eps_scale, RMS(w)) with
// scale_parameter, and the group lr (and schedules) are ignored.
// Options: lr 1e-3, relative_step 0, eps 1e-30, eps_scale 1e-3, clip_threshold 1, decay_rate −0.8,
// beta1 0, weight_decay 0, scale_parameter 1, warmup_init 0.
// Three passes per parameter (statistics, RMS of the update, update); state is O(rows + cols).
// Implementation: optim/adafactor.cpp; tests: test/optim/test_paper_optimizers.cpp.
#pragma once
#include "optim/optimizer.h"

namespace ember::optim {

class AdaFactor : public Optimizer {
 public:
  explicit AdaFactor(std::vector<ParamGroup> groups, const std::map<std::string, double>& options = {});
  void step() override;

 protected:
  Shape slot_shape(const Tensor& param, const std::string& slot_name) const override;
};

}  // namespace ember::optim
