// BatchNorm1d/2d, LayerNorm, LayerNorm2d (channels-first), GroupNorm, RMSNorm over ops/norm.h.
// See models/nn/norm.h; tests: test/nn/test_layers.cpp.
#include "models/nn/norm.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "engine/dispatch.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "engine/parallel.h"
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
                     double eps_, std::optional<double> momentum_, bool affine_, bool track_running_stats_)
    : Module(type_name), num_features(num_features_), eps(eps_), momentum(momentum_), affine(affine_),
      track_running_stats(track_running_stats_), dim_min_(expected_dim_min), dim_max_(expected_dim_max) {
  EMBER_CHECK(num_features > 0, "{}: num_features must be positive, got {}", type_name, num_features);
  EMBER_CHECK(!momentum || (*momentum >= 0.0 && *momentum <= 1.0), "{}: momentum must be in [0, 1] or none, got {}",
              type_name, momentum.value_or(0.0));
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
  double factor = momentum.value_or(0.0);
  if (update) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1.0);
    if (!momentum) factor = 1.0 / static_cast<double>(num_batches_tracked.item<int64_t>());
  }
  // running_mean / running_var are undefined without track_running_stats: nothing to update.
  return batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats, factor, eps);
}

std::string BatchNorm::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features, eps,
                     momentum ? fmt::format("{}", *momentum) : std::string("None"),
                     repr_bool(affine), repr_bool(track_running_stats));
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
                     repr_bool(weight.defined()));
}

// ---- LayerNorm2d ----
//
// Note [Channels-first layer norm]: ConvNeXt normalises over C at every pixel of an NCHW tensor.
// Permuting to NHWC for layer_norm costs two full copies each way, and composing the statistics from
// reductions over dim 1 costs ~10 passes plus their backward; a fused kernel reads x in its own
// layout instead. Pixels are processed in tiles of kTile: for a tile, the loop over C walks rows of
// length kTile (contiguous), so the per-pixel accumulators stay in L1 and the inner loop vectorises.
// Statistics use two passes (mean, then centred variance) as layer_norm does. The backward is fused
// too; double backward (create_graph) uses the same formulas written with differentiable ops.

namespace {

constexpr int64_t kTile = 256;

// x, y: (N, C, P) contiguous; weight, bias: (C); mean, rstd: (N, P).
template <class T>
void channels_first_forward(const T* x, const T* weight, const T* bias, T* y, T* mean, T* rstd, int64_t N, int64_t C,
                            int64_t P, double eps) {
  const int64_t tiles = (P + kTile - 1) / kTile;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / (C * kTile));
  parallel_for(N * tiles, grain, [&](int64_t begin, int64_t end) {
    T acc[kTile], shift[kTile];
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / tiles, p0 = (task % tiles) * kTile, len = std::min(kTile, P - p0);
      const T* xn = x + n * C * P + p0;
      T* yn = y + n * C * P + p0;
      std::fill(acc, acc + len, T(0));
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t i = 0; i < len; ++i) acc[i] += xn[c * P + i];
      }
      for (int64_t i = 0; i < len; ++i) shift[i] = acc[i] / T(C);
      std::fill(acc, acc + len, T(0));
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t i = 0; i < len; ++i) {
          const T d = xn[c * P + i] - shift[i];
          acc[i] += d * d;
        }
      }
      T* mean_tile = mean + n * P + p0;
      T* rstd_tile = rstd + n * P + p0;
      for (int64_t i = 0; i < len; ++i) {
        mean_tile[i] = shift[i];
        rstd_tile[i] = T(1) / std::sqrt(acc[i] / T(C) + T(eps));
      }
      for (int64_t c = 0; c < C; ++c) {
        const T w = weight[c], b = bias[c];
        for (int64_t i = 0; i < len; ++i) yn[c * P + i] = (xn[c * P + i] - mean_tile[i]) * rstd_tile[i] * w + b;
      }
    }
  });
}

// With x̂ = (x - mean) rstd and gw = g w[c], per pixel over C:
//   grad_x = rstd (gw - mean_C(gw) - x̂ mean_C(gw x̂)); grad_weight[c] = Σ g x̂, grad_bias[c] = Σ g.
// grad_weight / grad_bias are summed per channel in a fixed order (deterministic on any thread count).
template <class T>
void channels_first_backward(const T* g, const T* x, const T* mean, const T* rstd, const T* weight, T* grad_x,
                             T* grad_weight, T* grad_bias, int64_t N, int64_t C, int64_t P) {
  if (grad_x != nullptr) {
    const int64_t tiles = (P + kTile - 1) / kTile;
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / (C * kTile));
    parallel_for(N * tiles, grain, [&](int64_t begin, int64_t end) {
      T sum_gw[kTile], sum_gwx[kTile];
      for (int64_t task = begin; task < end; ++task) {
        const int64_t n = task / tiles, p0 = (task % tiles) * kTile, len = std::min(kTile, P - p0);
        const int64_t off = n * C * P + p0;
        const T* m = mean + n * P + p0;
        const T* r = rstd + n * P + p0;
        std::fill(sum_gw, sum_gw + len, T(0));
        std::fill(sum_gwx, sum_gwx + len, T(0));
        for (int64_t c = 0; c < C; ++c) {
          const T w = weight[c];
          for (int64_t i = 0; i < len; ++i) {
            const T gw = g[off + c * P + i] * w;
            sum_gw[i] += gw;
            sum_gwx[i] += gw * (x[off + c * P + i] - m[i]) * r[i];
          }
        }
        for (int64_t i = 0; i < len; ++i) {
          sum_gw[i] /= T(C);
          sum_gwx[i] /= T(C);
        }
        for (int64_t c = 0; c < C; ++c) {
          const T w = weight[c];
          for (int64_t i = 0; i < len; ++i) {
            const T xhat = (x[off + c * P + i] - m[i]) * r[i];
            grad_x[off + c * P + i] = r[i] * (g[off + c * P + i] * w - sum_gw[i] - xhat * sum_gwx[i]);
          }
        }
      }
    });
  }
  if (grad_weight == nullptr && grad_bias == nullptr) return;
  parallel_for(C, std::max<int64_t>(1, kParallelGrain / (N * P)), [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      double sum_gx = 0.0, sum_g = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        const T* gc = g + (n * C + c) * P;
        const T* xc = x + (n * C + c) * P;
        const T* m = mean + n * P;
        const T* r = rstd + n * P;
        T part_gx = 0, part_g = 0;
        for (int64_t i = 0; i < P; ++i) {
          part_gx += gc[i] * (xc[i] - m[i]) * r[i];
          part_g += gc[i];
        }
        sum_gx += part_gx;
        sum_g += part_g;
      }
      if (grad_weight != nullptr) grad_weight[c] = static_cast<T>(sum_gx);
      if (grad_bias != nullptr) grad_bias[c] = static_cast<T>(sum_g);
    }
  });
}

// The same function from differentiable ops: the double-backward path and the test reference.
Tensor channels_first_composed(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const int64_t C = x.size(1);
  Tensor centered = x - mean(x, {1}, true);
  Tensor normed = centered * rsqrt(mean(centered * centered, {1}, true) + eps);
  return normed * weight.view({1, C, 1, 1}) + bias.view({1, C, 1, 1});
}

// First-order gradients of channels_first_composed, written with ops so they are differentiable.
TensorList channels_first_grads_composed(const Tensor& g, const Tensor& x, const Tensor& weight, double eps,
                                         const BackwardContext& ctx) {
  const int64_t C = x.size(1);
  Tensor centered = x - mean(x, {1}, true);
  Tensor r = rsqrt(mean(centered * centered, {1}, true) + eps);
  Tensor xhat = centered * r;
  Tensor gw = g * weight.view({1, C, 1, 1});
  Tensor grad_x = ctx.needs_grad(0) ? r * (gw - mean(gw, {1}, true) - xhat * mean(gw * xhat, {1}, true)) : Tensor();
  Tensor grad_w = ctx.needs_grad(1) ? sum(g * xhat, {0, 2, 3}) : Tensor();
  Tensor grad_b = ctx.needs_grad(2) ? sum(g, {0, 2, 3}) : Tensor();
  return {grad_x, grad_w, grad_b};
}

template <class T>
T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

}  // namespace

Tensor layer_norm_channels_first(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  // x: (N, C, H, W); weight, bias: (C)
  const int64_t N = x.size(0), C = x.size(1), P = x.size(2) * x.size(3);
  EMBER_CHECK(weight.dtype() == x.dtype() && bias.dtype() == x.dtype(),
              "LayerNorm2d: input {} and parameters ({}) must have the same dtype", x.describe(),
              dtype_name(weight.dtype()));
  const bool fused = x.device() == Device::cpu() && (x.dtype() == DType::f32 || x.dtype() == DType::f64);
  if (!fused) return channels_first_composed(x, weight, bias, eps);
  Tensor input = x.detach().contiguous();
  Tensor w = weight.detach().contiguous(), b = bias.detach().contiguous();
  Tensor y = empty(x.sizes(), x.dtype());
  Tensor mean_px = empty({N, P}, x.dtype()), rstd_px = empty({N, P}, x.dtype());
  dispatch_floating(x.dtype(), "LayerNorm2d", [&]<class T>() {
    channels_first_forward<T>(input.data_ptr<T>(), w.data_ptr<T>(), b.data_ptr<T>(), y.data_ptr<T>(),
                              mean_px.data_ptr<T>(), rstd_px.data_ptr<T>(), N, C, P, eps);
  });
  record_backward("layer_norm_channels_first", {x, weight, bias}, {y}, {x, weight, mean_px, rstd_px},
                  [N, C, P, eps](BackwardContext& ctx) -> TensorList {
                    const Tensor& saved_x = ctx.saved(0);
                    const Tensor& saved_w = ctx.saved(1);
                    if (ctx.create_graph()) {
                      return channels_first_grads_composed(ctx.grad(0), saved_x, saved_w, eps, ctx);
                    }
                    Tensor g = ctx.grad(0).contiguous();
                    Tensor in = saved_x.detach().contiguous(), w_c = saved_w.detach().contiguous();
                    const DType dtype = in.dtype();
                    Tensor grad_x = ctx.needs_grad(0) ? empty(in.sizes(), dtype) : Tensor();
                    Tensor grad_w = ctx.needs_grad(1) ? empty({C}, dtype) : Tensor();
                    Tensor grad_b = ctx.needs_grad(2) ? empty({C}, dtype) : Tensor();
                    dispatch_floating(dtype, "LayerNorm2d backward", [&]<class T>() {
                      channels_first_backward<T>(g.data_ptr<T>(), in.data_ptr<T>(), ctx.saved(2).data_ptr<T>(),
                                                 ctx.saved(3).data_ptr<T>(), w_c.data_ptr<T>(), ptr_or_null<T>(grad_x),
                                                 ptr_or_null<T>(grad_w), ptr_or_null<T>(grad_b), N, C, P);
                    });
                    return {grad_x, grad_w, grad_b};
                  });
  return y;
}

LayerNorm2d::LayerNorm2d(int64_t num_channels_, double eps_)
    : Module("LayerNorm2d"), num_channels(num_channels_), eps(eps_) {
  EMBER_CHECK(num_channels > 0, "LayerNorm2d: num_channels must be positive, got {}", num_channels);
  weight = register_parameter("weight", ones({num_channels}));
  bias = register_parameter("bias", zeros({num_channels}));
}

Tensor LayerNorm2d::forward(const Tensor& x) {
  EMBER_CHECK(x.defined() && x.dim() == 4 && x.size(1) == num_channels,
              "LayerNorm2d: expected input (N, {}, H, W), got {}", num_channels, describe(x));
  return layer_norm_channels_first(x, weight, bias, eps);
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
  return fmt::format("{}, {}, eps={}, affine={}", num_groups, num_channels, eps, repr_bool(weight.defined()));
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
                     repr_bool(weight.defined()));
}

}  // namespace ember::nn
