// Stochastic Weight Averaging (Izmailov et al. 2018), as torch.optim.swa_utils: an equal-weight
// running mean of the weights from a start epoch (AveragedModel's default avg_fn), and update_bn,
// which recomputes BatchNorm running statistics for the averaged weights with momentum=None
// (a cumulative average over the batches). Twin: optim/ema.h (the shared AveragedWeights and the
// exponential average). Implementation: optim/swa.cpp; tests: test/optim/test_averaging.cpp.
//
//   optim::SWA swa(model, {.start_epoch = 150});
//   end of each epoch: if (swa.should_update(epoch)) swa.update(model);
//   at the end: swa.copy_to(model); optim::update_bn(model, train_loader);
#pragma once
#include <functional>
#include <optional>

#include "data/dataloader.h"
#include "optim/ema.h"

namespace ember::optim {

struct SwaOptions {
  int64_t start_epoch = 0;  // epochs e >= start_epoch are averaged
  bool full_state = false;  // torch's use_buffers: also average the persistent buffers
};

class SWA {
 public:
  SWA(const nn::Module& model, SwaOptions options = {});

  const SwaOptions& options() const { return options_; }
  int64_t n_averaged() const { return n_averaged_; }
  bool should_update(int64_t epoch) const { return epoch >= options_.start_epoch; }

  // The first update copies θ; the n-th (n >= 2) does avg += (θ − avg)/n, so after n updates avg is
  // the mean of the n weight snapshots (torch's avg + (θ − avg)/(n_averaged + 1)).
  void update(const nn::Module& model);
  void copy_to(nn::Module& model) const;  // errors before the first update (no average yet)
  [[nodiscard]] AveragedWeightsScope swapped_into(nn::Module& model) { return {weights_, model}; }  // as ModelEMA's
  AveragedWeights& weights() { return weights_; }
  const AveragedWeights& weights() const { return weights_; }

  // "swa.<name>" and "swa_n_averaged" (0-d int64).
  TensorMap state_dict() const;
  void load_state_dict(const TensorMap& state);

 private:
  SwaOptions options_;
  AveragedWeights weights_;
  int64_t n_averaged_ = 0;
};

// Recomputes every BatchNorm's running_mean / running_var (and num_batches_tracked) in `model`
// from scratch over the inputs `next_input` yields until nullopt: the statistics are reset, the
// momenta set to None (cumulative: the equal-weight mean over batches of each batch's mean and
// unbiased variance), the model run in training mode under NoGradGuard, then the momenta and the
// training mode restored. A model without BatchNorm is left untouched (next_input is not called).
void update_bn(nn::Module& model, const std::function<std::optional<Tensor>()>& next_input);
// The same over one epoch of `loader` (batch inputs only).
void update_bn(nn::Module& model, data::DataLoader& loader, int64_t epoch = 0);

}  // namespace ember::optim
