// Weight averaging of a model: the shared shadow copy (AveragedWeights), the exponential moving
// average ModelEMA with its warm-up variants, and Switch EMA (SEMA, papers.md §6), which copies the
// EMA weights back into the trained model at switch points.
// Twins: optim/swa.h (equal-weight running mean, BN statistics recomputed) reuses AveragedWeights;
// optim/lookahead.h and optim/sam.h wrap optimizers. Implementation: optim/ema.cpp;
// tests: test/optim/test_averaging.cpp.
//
// Trainer use (SEMA = SwitchEMA; plain EMA = the same calls on a ModelEMA, without the switch):
//   optim::SwitchEMA sema(model, {.momentum = 0.999, .warmup = optim::EmaWarmup::linear,
//                                 .warmup_iters = 2500}, {.interval = 1});
//   for epoch: sema.before_train_epoch(model, epoch);          // the switch (epoch mode)
//     for batch: loss.backward(); opt.step(); sema.after_train_iter(model, ++iteration);
//     { auto use_ema = sema.ema().swapped_into(model); evaluate(model); }  // restored on exit
//   checkpoint: sema.state_dict() (a TensorMap: safetensors-ready); resume: load_state_dict.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/serialize.h"
#include "engine/tensor.h"
#include "models/nn/module.h"

namespace ember::optim {

// A shadow copy of a model's parameters, or of its whole state (parameters and persistent
// buffers: BN running statistics and num_batches_tracked). The layout (names, shapes, dtypes) is
// fixed at construction; every call that takes a model checks the model still has it.
class AveragedWeights {
 public:
  // `owner` names the caller in errors ("ema", "swa").
  AveragedWeights(std::string owner, const nn::Module& model, bool full_state);
  // Not copyable: a copy would share the shadow tensors.
  AveragedWeights(const AveragedWeights&) = delete;
  AveragedWeights& operator=(const AveragedWeights&) = delete;
  AveragedWeights(AveragedWeights&&) = default;
  AveragedWeights& operator=(AveragedWeights&&) = default;

  bool full_state() const { return full_state_; }
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<Tensor>& tensors() const { return shadow_; }

  // shadow += weight·(θ − shadow) for floating tensors, one fused pass per tensor under NoGradGuard
  // (torch's lerp_ / SWA's running-mean form); non-floating ones (num_batches_tracked) are copied.
  void lerp_from(const nn::Module& model, double weight);
  void copy_from(const nn::Module& model);  // shadow = θ
  void copy_to(nn::Module& model) const;    // θ = shadow (the switch); the model's tensors keep identity
  void swap_with(nn::Module& model);        // exchanges values element by element: exact both ways

  // "<prefix><name>" -> clone of the shadow tensor.
  TensorMap state_dict(const std::string& prefix) const;
  // Checks every name, shape and dtype before copying anything.
  void load_state_dict(const TensorMap& state, const std::string& prefix);

 private:
  // The model's tensors in the shadow's order; errors list what differs.
  std::vector<Tensor> live_tensors(const nn::Module& model) const;

  std::string owner_;
  bool full_state_;
  std::vector<std::string> names_;
  std::vector<Tensor> shadow_;
};

// Swaps the averaged weights into the model for the scope's lifetime (evaluation with EMA / SWA
// weights) and swaps them back on exit, restoring the training weights bit for bit.
class AveragedWeightsScope {
 public:
  AveragedWeightsScope(AveragedWeights& weights, nn::Module& model);
  ~AveragedWeightsScope();
  AveragedWeightsScope(const AveragedWeightsScope&) = delete;
  AveragedWeightsScope& operator=(const AveragedWeightsScope&) = delete;

 private:
  AveragedWeights& weights_;
  nn::Module& model_;
};

// Momentum during the first updates. t is the number of updates done before the current one
// (0 for the first, as mmcv's runner.iter in after_train_iter); m the momentum, r warmup_ratio,
// W warmup_iters. The first three follow openmixup's EMAHook.get_warmup_momentum (papers.md §6),
// applied while t <= W:
//   none:        m_t = m
//   constant:    m_t = r·m
//   linear:      m_t = (1 − (1 − t/W)·(1 − r))·m          (r·m at t = 0, rising to m at t = W)
//   exp:         m_t = r^(1 − t/W)·m                      (r·m at t = 0, rising to m at t = W)
//   num_updates: m_t = min(m, (1 + t)/(10 + t))           (TF ExponentialMovingAverage's num_updates,
//                                                         timm ModelEma; no W or r)
enum class EmaWarmup { none, constant, linear, exp, num_updates };
EmaWarmup ema_warmup_from_name(const std::string& name);  // "none", "constant", ... (errors list them)
std::string ema_warmup_name(EmaWarmup warmup);

struct EmaOptions {
  double momentum = 0.9999;  // weight of the old average: ema = m·ema + (1 − m)·θ (openmixup's convention)
  EmaWarmup warmup = EmaWarmup::none;
  int64_t warmup_iters = 0;  // W: > 0 for constant / linear / exp
  double warmup_ratio = 0.9; // r in (0, 1]
  bool full_state = false;   // false: parameters only; true: also the persistent buffers (BN statistics)
};

class ModelEMA {
 public:
  // The shadow starts as a copy of the model's current weights. Errors name the bad option.
  ModelEMA(const nn::Module& model, EmaOptions options = {});

  const EmaOptions& options() const { return options_; }
  int64_t num_updates() const { return num_updates_; }
  double momentum_at(int64_t t) const;      // m_t above
  double current_momentum() const { return momentum_at(num_updates_); }  // for the next update

  // ema = m_t·ema + (1 − m_t)·θ after each optimizer step; then t += 1.
  void update(const nn::Module& model);
  void copy_to(nn::Module& model) const { weights_.copy_to(model); }
  // Evaluation with the EMA weights: `{ auto scope = ema.swapped_into(model); evaluate(model); }`.
  [[nodiscard]] AveragedWeightsScope swapped_into(nn::Module& model) { return {weights_, model}; }
  AveragedWeights& weights() { return weights_; }
  const AveragedWeights& weights() const { return weights_; }

  // "ema.<name>" shadow tensors and "ema_num_updates" (0-d int64): everything an exact resume needs.
  TensorMap state_dict() const;
  void load_state_dict(const TensorMap& state);

 private:
  EmaOptions options_;
  AveragedWeights weights_;
  int64_t num_updates_ = 0;
};

// When SEMA switches. Epoch mode: asked at the start of epoch e (e epochs done, as mmcv's
// before_train_epoch); iteration mode: asked after the EMA update of iteration i (i iterations done,
// counted from 1). With n = e or i, it switches when
//   n > start  and  (n − start) % interval == 0  and  (end < 0 or n <= end).
// interval 1 in epoch mode is the paper's "switch after each epoch". The two released hooks differ
// for interval > 1 (openmixup: `not every_n_epochs(interval)`, mmdet: `(n + 1) % interval == 0`,
// papers.md §6); we count the interval from `start` instead, which agrees with both at interval 1.
struct SwitchOptions {
  bool by_iter = false;
  int64_t interval = 1;
  int64_t start = 0;
  int64_t end = -1;  // -1: no end
};

class SwitchEMA {
 public:
  SwitchEMA(const nn::Module& model, EmaOptions ema_options = {}, SwitchOptions switch_options = {});

  const SwitchOptions& switch_options() const { return options_; }
  ModelEMA& ema() { return ema_; }
  const ModelEMA& ema() const { return ema_; }
  int64_t num_switches() const { return num_switches_; }

  // Epoch mode looks only at `epoch`, iteration mode only at `iteration` (see SwitchOptions).
  bool should_switch(int64_t epoch, int64_t iteration) const;
  void switch_(nn::Module& model);  // θ ← ema (parameters, and buffers in full-state mode)

  // The two trainer hooks: EMA update, then the switch in iteration mode; the switch in epoch mode.
  // They return whether the model was switched.
  bool after_train_iter(nn::Module& model, int64_t iteration);
  bool before_train_epoch(nn::Module& model, int64_t epoch);

  // The EMA's state and "sema_num_switches".
  TensorMap state_dict() const;
  void load_state_dict(const TensorMap& state);

 private:
  ModelEMA ema_;
  SwitchOptions options_;
  int64_t num_switches_ = 0;
};

// Internal: a 0-d int64 counter in a state map, and reading it back with a checked key.
Tensor counter_tensor(int64_t value);
int64_t read_counter(const TensorMap& state, const std::string& key, const std::string& owner);

}  // namespace ember::optim
