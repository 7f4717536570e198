// GradScaler: dynamic loss scaling for float16 mixed precision (torch.cuda.amp.GradScaler).
// float16 gradients underflow below ~6e-8; multiplying the loss by a large scale S lifts them into
// range, and the optimizer sees them divided by S again. When a scaled gradient overflows (inf or
// NaN) the step is skipped and S is halved; after `growth_interval` clean steps S doubles.
//
//   optim::GradScaler scaler;
//   { AutocastGuard autocast(true, DType::f16); loss = criterion(model(x), y); }
//   scaler.scale(loss).backward();
//   scaler.unscale_(optimizer);            // optional: to clip the true gradients first
//   clip_grad_norm_(params, 1.0);
//   scaler.step(optimizer);                // skipped when a gradient was inf/NaN
//   scaler.update();
//
// Works on any device (it uses ops); with bfloat16 (the autocast default) no scaling is needed.
// Its state (scale, growth tracker) goes into checkpoints through state_dict().
#pragma once
#include <map>

#include <nlohmann/json.hpp>

#include "engine/tensor.h"
#include "optim/optimizer.h"

namespace ember::optim {

struct GradScalerOptions {
  double init_scale = 65536.0;  // 2^16, as PyTorch
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
  bool enabled = true;  // false: every call passes through (scale 1, no checks)
};

class GradScaler {
 public:
  explicit GradScaler(GradScalerOptions options = {});

  // loss * scale (differentiable); the loss itself when disabled.
  Tensor scale(const Tensor& loss) const;
  // Divides the optimizer's gradients by the scale in place and records whether any is inf/NaN.
  // At most once per optimizer between update() calls.
  void unscale_(Optimizer& optimizer);
  // Unscales (unless done), then runs optimizer.step() unless a gradient was inf/NaN. Returns
  // whether the step ran.
  bool step(Optimizer& optimizer);
  // Backs off after an overflow, grows after growth_interval clean steps; forgets this step's
  // per-optimizer records. Call once per iteration, after step().
  void update();

  double get_scale() const { return scale_; }
  int64_t growth_tracker() const { return growth_tracker_; }
  bool enabled() const { return options_.enabled; }
  nlohmann::json state_dict() const;
  void load_state_dict(const nlohmann::json& state);

 private:
  struct Record {
    bool unscaled = false;
    bool found_inf = false;
  };
  GradScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;
  std::map<const Optimizer*, Record> records_;
};

}  // namespace ember::optim
