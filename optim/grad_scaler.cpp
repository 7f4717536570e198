// optim/grad_scaler.h. The overflow test is sum(g * 0): 0 for finite gradients, NaN as soon as one
// element is inf or NaN, and it cannot overflow itself (a plain sum of large finite values could).
#include "optim/grad_scaler.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "ops/ops.h"

namespace ember::optim {

GradScaler::GradScaler(GradScalerOptions options) : options_(options), scale_(options.init_scale) {
  EMBER_CHECK(options.init_scale > 0 && std::isfinite(options.init_scale),
              "GradScaler: init_scale must be positive and finite, got {}", options.init_scale);
  EMBER_CHECK(options.growth_factor > 1.0, "GradScaler: growth_factor must be > 1, got {}", options.growth_factor);
  EMBER_CHECK(options.backoff_factor > 0.0 && options.backoff_factor < 1.0,
              "GradScaler: backoff_factor must be in (0, 1), got {}", options.backoff_factor);
  EMBER_CHECK(options.growth_interval >= 1, "GradScaler: growth_interval must be >= 1, got {}",
              options.growth_interval);
}

Tensor GradScaler::scale(const Tensor& loss) const {
  EMBER_CHECK(loss.defined() && is_floating(loss.dtype()), "GradScaler.scale: expected a floating loss, got {}",
              loss.describe());
  if (!options_.enabled) return loss;
  return mul(loss, scale_);
}

void GradScaler::unscale_(Optimizer& optimizer) {
  if (!options_.enabled) return;
  Record& record = records_[&optimizer];
  EMBER_CHECK(!record.unscaled, "GradScaler.unscale_: already called for this optimizer since the last update()");
  NoGradGuard no_grad;
  const double inverse = 1.0 / scale_;
  for (ParamGroup& group : optimizer.param_groups()) {
    for (const Tensor& param : group.params) {
      const Tensor& grad = param.grad();
      if (!grad.defined()) continue;
      Tensor(grad).mul_(inverse);
      if (!record.found_inf && sum(mul(grad, 0.0)).item<double>() != 0.0) record.found_inf = true;  // NaN != 0
    }
  }
  record.unscaled = true;
}

bool GradScaler::step(Optimizer& optimizer) {
  if (!options_.enabled) {
    optimizer.step();
    return true;
  }
  if (!records_[&optimizer].unscaled) unscale_(optimizer);
  if (records_[&optimizer].found_inf) return false;
  optimizer.step();
  return true;
}

void GradScaler::update() {
  if (!options_.enabled) return;
  bool found_inf = false;
  for (const auto& [optimizer, record] : records_) found_inf = found_inf || record.found_inf;
  if (found_inf) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
  } else if (++growth_tracker_ == options_.growth_interval) {
    const double grown = scale_ * options_.growth_factor;
    if (std::isfinite(grown)) scale_ = grown;  // as PyTorch: never grow into inf
    growth_tracker_ = 0;
  }
  records_.clear();
}

nlohmann::json GradScaler::state_dict() const {
  return {{"scale", scale_},
          {"growth_factor", options_.growth_factor},
          {"backoff_factor", options_.backoff_factor},
          {"growth_interval", options_.growth_interval},
          {"growth_tracker", growth_tracker_},
          {"enabled", options_.enabled}};
}

void GradScaler::load_state_dict(const nlohmann::json& state) {
  EMBER_CHECK(state.is_object() && state.contains("scale") && state.contains("growth_tracker"),
              "GradScaler.load_state_dict: expected an object with 'scale' and 'growth_tracker', got {}", state.dump());
  const double scale = state.at("scale").get<double>();
  EMBER_CHECK(scale > 0 && std::isfinite(scale), "GradScaler.load_state_dict: scale {} is not positive", scale);
  scale_ = scale;
  growth_tracker_ = state.at("growth_tracker").get<int64_t>();
  if (state.contains("growth_factor")) options_.growth_factor = state.at("growth_factor").get<double>();
  if (state.contains("backoff_factor")) options_.backoff_factor = state.at("backoff_factor").get<double>();
  if (state.contains("growth_interval")) options_.growth_interval = state.at("growth_interval").get<int64_t>();
  if (state.contains("enabled")) options_.enabled = state.at("enabled").get<bool>();
  records_.clear();
}

}  // namespace ember::optim
