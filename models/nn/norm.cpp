// BatchNorm1d/2d, LayerNorm, LayerNorm2d (channels-first), GroupNorm, RMSNorm over ops/norm.h.
// See models/nn/norm.h; tests: test/nn/test_layers.cpp.
#include "models/nn/norm.h"

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "engine/shape.h"
#include "models/nn/init.h"
#include "ops/ops.h"

namespace ember::nn {

namespace {

std::string describe(const Tensor& x) { return x.defined() ? x.describe() : std::string("undefined"); }

// x's trailing dims must equal `normalized_shape`.
void check_trailing(const char* type, const Tensor& x, const Shape& normalized_shape) {
  const auto n = static_cast<int64_t>(normalized_shape.size());
  bool ok = x.defined() && x.dim() >= n;
  for (int64_t i = 0; ok && i < n; ++i) ok = x.size(x.dim() - n + i) == normalized_shape[i];
  EMBER_CHECK(ok, "{}: expected input (*, {}) ending in normalized_shape {}, got {}", type,
              fmt::join(normalized_shape, ", "), shape_str(normalized_shape), describe(x));
}

}  // namespace

// ---- BatchNorm ----

BatchNorm::BatchNorm(const char* type_name, int64_t expected_dim_min, int64_t expected_dim_max, int64_t num_features_,
                     double eps_, double momentum_, bool affine_, bool track_running_stats_)
    : Module(type_name), num_features(num_features_), eps(eps_), momentum(momentum_), affine(affine_),
      track_running_stats(track_running_stats_), dim_min_(expected_dim_min), dim_max_(expected_dim_max) {
  EMBER_CHECK(num_features > 0, "{}: num_features must be positive, got {}", type_name, num_features);
  if (affine) {
    weight = register_parameter("weight", empty({num_features}));
    bias = register_parameter("bias", empty({num_features}));
  }
  if (track_running_stats) {
    running_mean = register_buffer("running_mean", empty({num_features}));
    running_var = register_buffer("running_var", empty({num_features}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::i64));
  }
  reset_parameters();
}

void BatchNorm::reset_running_stats() {
  if (!track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1.0);
  num_batches_tracked.zero_();
}

void BatchNorm::reset_parameters() {
  reset_running_stats();
  if (!affine) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor BatchNorm::forward(const Tensor& x) {
  // x: (N, C) / (N, C, L) / (N, C, H, W), statistics per channel C.
  EMBER_CHECK(x.defined() && x.dim() >= dim_min_ && x.dim() <= dim_max_,
              "{}: expected a {} input (N, {}, ...), got {}", type_name(),
              dim_min_ == dim_max_ ? fmt::format("{}-D", dim_min_) : fmt::format("{}-D or {}-D", dim_min_, dim_max_),
              num_features, describe(x));
  EMBER_CHECK(x.size(1) == num_features, "{}: expected {} channels (dim 1), got {} in {}", type_name(), num_features,
              x.size(1), x.describe());
  // Without running statistics the layer always normalises with the batch's own (as PyTorch).
  const bool use_batch_stats = is_training() || !track_running_stats;
  if (use_batch_stats) {
    EMBER_CHECK(x.numel() / num_features > 1, "{}: expected more than 1 value per channel when training, got {}",
                type_name(), x.describe());
  }
  const bool update = is_training() && track_running_stats;
  if (update) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1.0);
  }
  // running_mean / running_var are undefined without track_running_stats: nothing to update.
  return batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats, momentum, eps);
}

std::string BatchNorm::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features, eps, momentum,
                     affine, track_running_stats);
}

// ---- LayerNorm ----

LayerNorm::LayerNorm(Shape normalized_shape_, double eps_, bool elementwise_affine, bool has_bias)
    : Module("LayerNorm"), normalized_shape(std::move(normalized_shape_)), eps(eps_) {
  EMBER_CHECK(!normalized_shape.empty() && numel_of(normalized_shape) > 0,
              "LayerNorm: normalized_shape must be non-empty with positive sizes, got {}", shape_str(normalized_shape));
  if (elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape));
    if (has_bias) bias = register_parameter("bias", zeros(normalized_shape));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  check_trailing("LayerNorm", x, normalized_shape);
  return layer_norm(x, normalized_shape, weight, bias, eps);
}

std::string LayerNorm::extra_repr() const {
  return fmt::format("({},), eps={}, elementwise_affine={}", fmt::join(normalized_shape, ", "), eps,
                     weight.defined());
}

// ---- LayerNorm2d ----

LayerNorm2d::LayerNorm2d(int64_t num_channels_, double eps_)
    : Module("LayerNorm2d"), num_channels(num_channels_), eps(eps_) {
  EMBER_CHECK(num_channels > 0, "LayerNorm2d: num_channels must be positive, got {}", num_channels);
  weight = register_parameter("weight", ones({num_channels}));
  bias = register_parameter("bias", zeros({num_channels}));
}

// ConvNeXt's channels_first LayerNorm: statistics over C at every pixel, biased variance. Composed
// from reductions over dim 1 so the input is read in its own NCHW layout (no permute copies); the
// autograd of the composing ops gives the backward.
Tensor LayerNorm2d::forward(const Tensor& x) {
  // x: (N, C, H, W)
  EMBER_CHECK(x.defined() && x.dim() == 4 && x.size(1) == num_channels,
              "LayerNorm2d: expected input (N, {}, H, W), got {}", num_channels, describe(x));
  Tensor centered = x - mean(x, {1}, true);
  Tensor variance = mean(centered * centered, {1}, true);
  Tensor normed = centered * rsqrt(variance + eps);
  return normed * weight.view({1, num_channels, 1, 1}) + bias.view({1, num_channels, 1, 1});
}

std::string LayerNorm2d::extra_repr() const { return fmt::format("({},), eps={}", num_channels, eps); }

// ---- GroupNorm ----

GroupNorm::GroupNorm(int64_t num_groups_, int64_t num_channels_, double eps_, bool affine)
    : Module("GroupNorm"), num_groups(num_groups_), num_channels(num_channels_), eps(eps_) {
  EMBER_CHECK(num_groups > 0 && num_channels > 0 && num_channels % num_groups == 0,
              "GroupNorm: num_channels ({}) must be divisible by num_groups ({}), both positive", num_channels,
              num_groups);
  if (affine) {
    weight = register_parameter("weight", ones({num_channels}));
    bias = register_parameter("bias", zeros({num_channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  // x: (N, C, *)
  EMBER_CHECK(x.defined() && x.dim() >= 2 && x.size(1) == num_channels,
              "GroupNorm: expected input (N, {}, *), got {}", num_channels, describe(x));
  return group_norm(x, num_groups, weight, bias, eps);
}

std::string GroupNorm::extra_repr() const {
  return fmt::format("{}, {}, eps={}, affine={}", num_groups, num_channels, eps, weight.defined());
}

// ---- RMSNorm ----

RMSNorm::RMSNorm(Shape normalized_shape_, double eps_, bool elementwise_affine)
    : Module("RMSNorm"), normalized_shape(std::move(normalized_shape_)), eps(eps_) {
  EMBER_CHECK(!normalized_shape.empty() && numel_of(normalized_shape) > 0,
              "RMSNorm: normalized_shape must be non-empty with positive sizes, got {}", shape_str(normalized_shape));
  if (elementwise_affine) weight = register_parameter("weight", ones(normalized_shape));
}

Tensor RMSNorm::forward(const Tensor& x) {
  check_trailing("RMSNorm", x, normalized_shape);
  return rms_norm(x, normalized_shape, weight, eps);
}

std::string RMSNorm::extra_repr() const {
  return fmt::format("({},), eps={}, elementwise_affine={}", fmt::join(normalized_shape, ", "), eps,
                     weight.defined());
}

}  // namespace ember::nn
