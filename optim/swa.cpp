// SWA and update_bn (optim/swa.h).
#include "optim/swa.h"

#include <utility>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "models/nn/norm.h"

namespace ember::optim {

SWA::SWA(const nn::Module& model, SwaOptions options)
    : options_(options), weights_("swa", model, options.full_state) {
  EMBER_CHECK(options_.start_epoch >= 0, "swa: start_epoch must be >= 0, got {}", options_.start_epoch);
}

void SWA::update(const nn::Module& model) {
  if (n_averaged_ == 0) {
    weights_.copy_from(model);
  } else {
    weights_.lerp_from(model, 1.0 / static_cast<double>(n_averaged_ + 1));
  }
  ++n_averaged_;
}

void SWA::copy_to(nn::Module& model) const {
  EMBER_CHECK(n_averaged_ > 0, "swa: copy_to before any update (nothing averaged yet)");
  weights_.copy_to(model);
}

TensorMap SWA::state_dict() const {
  TensorMap out = weights_.state_dict("swa.");
  out.emplace("swa_n_averaged", counter_tensor(n_averaged_));
  return out;
}

void SWA::load_state_dict(const TensorMap& state) {
  const int64_t n = read_counter(state, "swa_n_averaged", "swa");
  weights_.load_state_dict(state, "swa.");
  n_averaged_ = n;
}

void update_bn(nn::Module& model, const std::function<std::optional<Tensor>()>& next_input) {
  std::vector<std::pair<nn::BatchNorm*, std::optional<double>>> momenta;
  for (auto& [name, module] : model.named_modules()) {
    auto* bn = dynamic_cast<nn::BatchNorm*>(module);
    if (bn == nullptr || !bn->track_running_stats) continue;
    bn->reset_running_stats();
    momenta.emplace_back(bn, bn->momentum);
  }
  if (momenta.empty()) return;
  const bool was_training = model.is_training();
  model.train();
  for (auto& [bn, momentum] : momenta) bn->momentum = std::nullopt;
  // Restore the momenta and mode even when a batch throws.
  struct Restore {
    nn::Module& model;
    bool was_training;
    std::vector<std::pair<nn::BatchNorm*, std::optional<double>>>& momenta;
    ~Restore() {
      for (auto& [bn, momentum] : momenta) bn->momentum = momentum;
      model.train(was_training);
    }
  } restore{model, was_training, momenta};
  NoGradGuard no_grad;
  while (std::optional<Tensor> input = next_input()) model(*input);
}

void update_bn(nn::Module& model, data::DataLoader& loader, int64_t epoch) {
  bool started = false;
  update_bn(model, [&]() -> std::optional<Tensor> {
    if (!started) {
      loader.start_epoch(epoch);
      started = true;
    }
    std::optional<data::Batch> batch = loader.next();
    if (!batch) return std::nullopt;
    return batch->input;
  });
}

}  // namespace ember::optim
