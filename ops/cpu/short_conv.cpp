// CPU kernels for short_conv: fused causal depthwise conv1d + bias + activation, forward and
// backward, vectorised over the channel dim D (contiguous in the (B, L, D) layout).
// Twins: ops/cpu/short_conv.h, ops/short_conv.cpp.
//
// The forward splits the B·L rows among threads (rows are independent). The backward splits
// the channels instead: a thread owning channels [d0, d1) owns those columns of grad_x, grad_w
// and grad_bias, so it walks time forward and scatters grad_x[t - s] += w[s] · gz[t] with no
// races and no reduction across threads.
#include "ops/cpu/short_conv.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/parallel.h"
#include "ops/cpu/math.h"

namespace ember::cpu {

namespace {

constexpr int64_t kChannelBlock = 32;

template <class T>
EMBER_MATH_INLINE T activate(ShortConvActivation kind, T z) {
  switch (kind) {
    case ShortConvActivation::silu: return z * math::fast_sigmoid(z);
    case ShortConvActivation::gelu: return T(0.5) * z * (T(1) + math::fast_erf(z * T(0.70710678118654752440)));
    case ShortConvActivation::relu: return z > T(0) ? z : T(0);
    case ShortConvActivation::none: break;
  }
  return z;
}

// d act / dz.
template <class T>
EMBER_MATH_INLINE T activation_slope(ShortConvActivation kind, T z) {
  switch (kind) {
    case ShortConvActivation::silu: {
      const T s = math::fast_sigmoid(z);
      return s * (T(1) + z * (T(1) - s));
    }
    case ShortConvActivation::gelu:
      return T(0.5) * (T(1) + math::fast_erf(z * T(0.70710678118654752440))) +
             z * T(0.39894228040143267794) * math::fast_exp(T(-0.5) * z * z);
    case ShortConvActivation::relu: return z > T(0) ? T(1) : T(0);
    case ShortConvActivation::none: break;
  }
  return T(1);
}

// w (D, K) -> (K, D): tap s of every channel contiguous, for loops vectorised over d.
template <class T>
std::vector<T> taps_by_shift(const ShortConvProblem& p, const T* w) {
  std::vector<T> taps(static_cast<size_t>(p.kernel_size * p.channels));
  for (int64_t d = 0; d < p.channels; ++d)
    for (int64_t s = 0; s < p.kernel_size; ++s) taps[s * p.channels + d] = w[d * p.kernel_size + s];
  return taps;
}

// A loop over the activation kinds hoisted out of the inner loops: body(kind constant).
template <class F>
void with_activation(ShortConvActivation kind, F&& body) {
  switch (kind) {
    case ShortConvActivation::none: body.template operator()<ShortConvActivation::none>(); break;
    case ShortConvActivation::silu: body.template operator()<ShortConvActivation::silu>(); break;
    case ShortConvActivation::gelu: body.template operator()<ShortConvActivation::gelu>(); break;
    case ShortConvActivation::relu: body.template operator()<ShortConvActivation::relu>(); break;
  }
}

}  // namespace

template <class T>
void short_conv_fwd(const ShortConvProblem& p, const T* x, const T* w, const T* bias, T* y) {
  const int64_t L = p.length, D = p.channels, K = p.kernel_size;
  if (p.batch * L * D == 0) return;
  const std::vector<T> taps = taps_by_shift(p, w);
  const T* tap = taps.data();
  with_activation(p.activation, [&]<ShortConvActivation kAct>() {
    parallel_for(p.batch * L, std::max<int64_t>(1, kParallelGrain / (D * K)), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t t = row % L;
        T* out = y + row * D;
        for (int64_t d = 0; d < D; ++d) out[d] = bias != nullptr ? bias[d] : T(0);
        for (int64_t s = 0; s < K && s <= t; ++s) {
          const T* in = x + (row - s) * D;
          const T* ws = tap + s * D;
          for (int64_t d = 0; d < D; ++d) out[d] += ws[d] * in[d];
        }
        if constexpr (kAct != ShortConvActivation::none)
          for (int64_t d = 0; d < D; ++d) out[d] = activate(kAct, out[d]);
      }
    });
  });
}

template <class T>
void short_conv_bwd(const ShortConvProblem& p, const T* x, const T* w, const T* bias, const T* grad_y, T* grad_x,
                    T* grad_w, T* grad_bias) {
  const int64_t L = p.length, D = p.channels, K = p.kernel_size;
  if (grad_w != nullptr) std::fill(grad_w, grad_w + D * K, T(0));
  if (grad_bias != nullptr) std::fill(grad_bias, grad_bias + D, T(0));
  if (p.batch * L * D == 0) return;
  const std::vector<T> taps = taps_by_shift(p, w);
  const T* tap = taps.data();
  const int64_t blocks = (D + kChannelBlock - 1) / kChannelBlock;
  const bool threads = p.batch * L * D * K >= 4 * kParallelGrain;
  with_activation(p.activation, [&]<ShortConvActivation kAct>() {
#pragma omp parallel for schedule(dynamic, 1) if (threads)
    for (int64_t block = 0; block < blocks; ++block) {
      const int64_t d0 = block * kChannelBlock, width = std::min(kChannelBlock, D - d0);
      std::vector<T> w_grad(static_cast<size_t>(K * kChannelBlock), T(0));
      T b_grad[kChannelBlock] = {};
      T gz[kChannelBlock];
      for (int64_t b = 0; b < p.batch; ++b)
        for (int64_t t = 0; t < L; ++t) {
          const int64_t row = b * L + t;
          const T* g = grad_y + row * D + d0;
          if constexpr (kAct == ShortConvActivation::none) {
            for (int64_t j = 0; j < width; ++j) gz[j] = g[j];
          } else {
            T z[kChannelBlock];  // the pre-activation, recomputed
            for (int64_t j = 0; j < width; ++j) z[j] = bias != nullptr ? bias[d0 + j] : T(0);
            for (int64_t s = 0; s < K && s <= t; ++s) {
              const T* in = x + (row - s) * D + d0;
              const T* ws = tap + s * D + d0;
              for (int64_t j = 0; j < width; ++j) z[j] += ws[j] * in[j];
            }
            for (int64_t j = 0; j < width; ++j) gz[j] = g[j] * activation_slope(kAct, z[j]);
          }
          for (int64_t j = 0; j < width; ++j) b_grad[j] += gz[j];
          for (int64_t s = 0; s < K && s <= t; ++s) {
            const T* in = x + (row - s) * D + d0;
            T* wg = w_grad.data() + s * kChannelBlock;
            for (int64_t j = 0; j < width; ++j) wg[j] += gz[j] * in[j];
          }
          if (grad_x != nullptr) {
            // grad_x[t] is first written here (tap 0), later taps of rows t + s add to it.
            T* gx = grad_x + row * D + d0;
            for (int64_t j = 0; j < width; ++j) gx[j] = tap[d0 + j] * gz[j];
            for (int64_t s = 1; s < K && s <= t; ++s) {
              T* gxs = grad_x + (row - s) * D + d0;
              const T* ws = tap + s * D + d0;
              for (int64_t j = 0; j < width; ++j) gxs[j] += ws[j] * gz[j];
            }
          }
        }
      for (int64_t j = 0; j < width; ++j) {
        if (grad_bias != nullptr) grad_bias[d0 + j] = b_grad[j];
        if (grad_w != nullptr)
          for (int64_t s = 0; s < K; ++s) grad_w[(d0 + j) * K + s] = w_grad[s * kChannelBlock + j];
      }
    }
  });
}

#define EMBER_INSTANTIATE_SHORT_CONV(T)                                                           \
  template void short_conv_fwd<T>(const ShortConvProblem&, const T*, const T*, const T*, T*);    \
  template void short_conv_bwd<T>(const ShortConvProblem&, const T*, const T*, const T*, const T*, T*, T*, T*);
EMBER_INSTANTIATE_SHORT_CONV(float)
EMBER_INSTANTIATE_SHORT_CONV(double)
#undef EMBER_INSTANTIATE_SHORT_CONV

}  // namespace ember::cpu
