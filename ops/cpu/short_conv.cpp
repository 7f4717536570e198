// CPU kernels for short_conv: fused causal depthwise conv1d + bias + activation, forward and
// backward, vectorised over the channel dim D (contiguous in the (B, L, D) layout).
// Twins: ops/cpu/short_conv.h, ops/short_conv.cpp.
//
// Every loop runs over whole (D) rows, which are contiguous. The forward splits the B·L rows
// among threads (rows are independent). The backward splits each sequence into chunks of time
// steps; a chunk walks its steps backwards, keeping the last K rows of gz = g · act'(z) in a ring,
// so grad_x[t] = Σ_s w[s] gz[t + s] is a gather (no write conflicts between chunks). A chunk
// first recomputes the K - 1 rows of gz after its end (its "halo", ~5 % extra work); grad_w and
// grad_bias are summed per chunk in T and across chunks in double.
#include "ops/cpu/short_conv.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/parallel.h"
#include "ops/cpu/math.h"

namespace ember::cpu {

namespace {

constexpr int64_t kTimeChunk = 64;  // steps per backward work item

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
void short_conv_bwd(const ShortConvProblem& p, const T* x, const T* w, const T* bias, GradView<T> grad_y, T* grad_x,
                    T* grad_w, T* grad_bias) {
  const int64_t L = p.length, D = p.channels, K = p.kernel_size;
  if (grad_w != nullptr) std::fill(grad_w, grad_w + D * K, T(0));
  if (grad_bias != nullptr) std::fill(grad_bias, grad_bias + D, T(0));
  if (p.batch * L * D == 0) return;
  const std::vector<T> taps = taps_by_shift(p, w);
  const T* tap = taps.data();
  const int64_t chunks_per_sequence = (L + kTimeChunk - 1) / kTimeChunk;
  const int64_t chunks = p.batch * chunks_per_sequence;
  std::vector<double> w_total(static_cast<size_t>(K * D), 0.0), bias_total(static_cast<size_t>(D), 0.0);
  const bool threads = p.batch * L * D * K >= 4 * kParallelGrain;
  with_activation(p.activation, [&]<ShortConvActivation kAct>() {
#pragma omp parallel if (threads)
    {
      // ring[t % K]: gz of step t; w_chunk/bias_chunk: this chunk's sums; *_thread: this thread's.
      std::vector<T> ring(static_cast<size_t>(K * D)), g_row(static_cast<size_t>(D));
      std::vector<T> w_chunk(static_cast<size_t>(K * D)), bias_chunk(static_cast<size_t>(D));
      std::vector<double> w_thread(static_cast<size_t>(K * D), 0.0), bias_thread(static_cast<size_t>(D), 0.0);
      // gz of step t of sequence b into out (D).
      auto compute_gz = [&](int64_t b, int64_t t, T* out) {
        const T* g = grad_y.data + b * grad_y.batch_stride + t * grad_y.time_stride;
        if (grad_y.channel_stride != 1) {
          for (int64_t d = 0; d < D; ++d) g_row[d] = g[d * grad_y.channel_stride];
          g = g_row.data();
        }
        if constexpr (kAct == ShortConvActivation::none) {
          std::copy(g, g + D, out);
        } else {
          for (int64_t d = 0; d < D; ++d) out[d] = bias != nullptr ? bias[d] : T(0);  // z, recomputed
          for (int64_t s = 0; s < K && s <= t; ++s) {
            const T* in = x + (b * L + t - s) * D;
            const T* ws = tap + s * D;
            for (int64_t d = 0; d < D; ++d) out[d] += ws[d] * in[d];
          }
          for (int64_t d = 0; d < D; ++d) out[d] = g[d] * activation_slope(kAct, out[d]);
        }
      };
#pragma omp for schedule(static)
      for (int64_t chunk = 0; chunk < chunks; ++chunk) {
        const int64_t b = chunk / chunks_per_sequence;
        const int64_t t0 = (chunk % chunks_per_sequence) * kTimeChunk, t1 = std::min(L, t0 + kTimeChunk);
        for (int64_t t = std::min(L, t1 + K - 1) - 1; t >= t1; --t) compute_gz(b, t, ring.data() + (t % K) * D);
        std::fill(w_chunk.begin(), w_chunk.end(), T(0));
        std::fill(bias_chunk.begin(), bias_chunk.end(), T(0));
        for (int64_t t = t1 - 1; t >= t0; --t) {
          T* gz = ring.data() + (t % K) * D;
          compute_gz(b, t, gz);
          for (int64_t d = 0; d < D; ++d) bias_chunk[d] += gz[d];
          for (int64_t s = 0; s < K && s <= t; ++s) {
            const T* in = x + (b * L + t - s) * D;
            T* wg = w_chunk.data() + s * D;
            for (int64_t d = 0; d < D; ++d) wg[d] += gz[d] * in[d];
          }
          if (grad_x != nullptr) {
            T* gx = grad_x + (b * L + t) * D;
            for (int64_t d = 0; d < D; ++d) gx[d] = tap[d] * gz[d];
            for (int64_t s = 1; s < K && t + s < L; ++s) {
              const T* later = ring.data() + ((t + s) % K) * D;
              const T* ws = tap + s * D;
              for (int64_t d = 0; d < D; ++d) gx[d] += ws[d] * later[d];
            }
          }
        }
        for (int64_t i = 0; i < K * D; ++i) w_thread[i] += static_cast<double>(w_chunk[i]);
        for (int64_t d = 0; d < D; ++d) bias_thread[d] += static_cast<double>(bias_chunk[d]);
      }
#pragma omp critical(ember_short_conv_bwd)
      {
        for (int64_t i = 0; i < K * D; ++i) w_total[i] += w_thread[i];
        for (int64_t d = 0; d < D; ++d) bias_total[d] += bias_thread[d];
      }
    }
  });
  for (int64_t d = 0; d < D; ++d) {
    if (grad_bias != nullptr) grad_bias[d] = static_cast<T>(bias_total[d]);
    if (grad_w != nullptr)
      for (int64_t s = 0; s < K; ++s) grad_w[d * K + s] = static_cast<T>(w_total[s * D + d]);
  }
}

#define EMBER_INSTANTIATE_SHORT_CONV(T)                                                           \
  template void short_conv_fwd<T>(const ShortConvProblem&, const T*, const T*, const T*, T*);    \
  template void short_conv_bwd<T>(const ShortConvProblem&, const T*, const T*, const T*, GradView<T>, T*, T*, T*);
EMBER_INSTANTIATE_SHORT_CONV(float)
EMBER_INSTANTIATE_SHORT_CONV(double)
#undef EMBER_INSTANTIATE_SHORT_CONV

}  // namespace ember::cpu
