// Fused causal depthwise conv1d + bias + activation on the GPU (launchers in
// cuda/short_conv_launch.h). CPU twin: ops/cpu/short_conv.cpp (same formulas; the GPU uses the
// accurate erf/exp where the CPU uses its vectorised ones, within the tests' tolerances).
//
// Forward: one thread per output (b, t, d), K taps along t (consecutive threads are consecutive d:
// coalesced). Backward, in three passes:
//   1. gz[b, t, d] = grad_y · act'(z), z recomputed (one thread per element);
//   2. grad_x[b, u, d] = Σ_s w[d, s] gz[b, u + s, d] (a gather: no atomics);
//   3. grad_w[d, s] = Σ_{b,t} gz[b, t, d] x[b, t - s, d] and grad_bias[d] = Σ gz[b, t, d]:
//      blocks of 32 channels × 8 row lanes per (tap, chunk of rows) write one float64 partial per
//      (chunk, tap, channel), summed over the row lanes in a fixed order; a last kernel adds the
//      chunks in order. The chunking depends only on the shape: the same bits on every run.
#include "cuda/kernel_util.cuh"
#include "cuda/short_conv_launch.h"

namespace ember::cuda {

namespace {

constexpr int kChannelLanes = 32;
constexpr int kRowLanes = 8;
constexpr int64_t kRowsPerChunk = 512;
constexpr int64_t kMaxChunks = 256;

template <class T> __device__ __forceinline__ T activate(ShortConvAct kind, T z) {
  switch (kind) {
    case ShortConvAct::silu: return z / (T(1) + exp(-z));
    case ShortConvAct::gelu: return T(0.5) * z * (T(1) + erf(z * T(0.70710678118654752440)));
    case ShortConvAct::relu: return z > T(0) ? z : T(0);
    case ShortConvAct::none: break;
  }
  return z;
}

template <class T> __device__ __forceinline__ T activation_slope(ShortConvAct kind, T z) {
  switch (kind) {
    case ShortConvAct::silu: {
      const T s = T(1) / (T(1) + exp(-z));
      return s * (T(1) + z * (T(1) - s));
    }
    case ShortConvAct::gelu:
      return T(0.5) * (T(1) + erf(z * T(0.70710678118654752440))) +
             z * T(0.39894228040143267794) * exp(T(-0.5) * z * z);
    case ShortConvAct::relu: return z > T(0) ? T(1) : T(0);
    case ShortConvAct::none: break;
  }
  return T(1);
}

// z[b, t, d] = bias[d] + Σ_{s <= t} w[d, s] x[b, t - s, d] for the element at linear index i.
template <class T>
__device__ __forceinline__ T pre_activation(const ShortConvShape& s, const T* x, const T* w, const T* bias, int64_t i) {
  const int64_t D = s.channels, K = s.kernel_size;
  const int64_t d = i % D, t = (i / D) % s.length;
  T z = bias != nullptr ? bias[d] : T(0);
  for (int64_t tap = 0; tap < K && tap <= t; ++tap) z += w[d * K + tap] * x[i - tap * D];
  return z;
}

template <class T>
__global__ void forward_kernel(ShortConvShape s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t total = s.batch * s.length * s.channels;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count())
    y[i] = activate(s.activation, pre_activation(s, x, w, bias, i));
}

template <class T>
__global__ void gz_kernel(ShortConvShape s, const T* x, const T* w, const T* bias, const T* grad_y, int64_t gb,
                          int64_t gt, int64_t gd, T* gz) {
  const int64_t D = s.channels, L = s.length, total = s.batch * L * D;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t d = i % D, t = (i / D) % L, b = i / (D * L);
    const T g = grad_y[b * gb + t * gt + d * gd];
    gz[i] = s.activation == ShortConvAct::none ? g
                                               : g * activation_slope(s.activation, pre_activation(s, x, w, bias, i));
  }
}

template <class T>
__global__ void grad_x_kernel(ShortConvShape s, const T* w, const T* gz, T* grad_x) {
  const int64_t D = s.channels, L = s.length, K = s.kernel_size, total = s.batch * L * D;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t d = i % D, u = (i / D) % L;
    T acc = T(0);
    for (int64_t tap = 0; tap < K && u + tap < L; ++tap) acc += w[d * K + tap] * gz[i + tap * D];
    grad_x[i] = acc;
  }
}

// grid (channel tiles, K + 1 taps (tap K: the bias), chunks), block (32, 8).
template <class T>
__global__ void partial_sums_kernel(ShortConvShape s, const T* x, const T* gz, int64_t chunk_rows, double* partials) {
  __shared__ double lanes[kRowLanes][kChannelLanes];
  const int64_t D = s.channels, L = s.length, K = s.kernel_size, rows = s.batch * L;
  const int64_t d = static_cast<int64_t>(blockIdx.x) * kChannelLanes + threadIdx.x;
  const int64_t tap = blockIdx.y, chunk = blockIdx.z;
  const int64_t r0 = chunk * chunk_rows, r1 = r0 + chunk_rows < rows ? r0 + chunk_rows : rows;
  double acc = 0.0;
  if (d < D) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kRowLanes) {  // r = b·L + t
      const double g = static_cast<double>(gz[r * D + d]);
      if (tap == K) {
        acc += g;
      } else if (r % L >= tap) {
        acc += g * static_cast<double>(x[(r - tap) * D + d]);
      }
    }
  }
  lanes[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && d < D) {
    double total = 0.0;
    for (int lane = 0; lane < kRowLanes; ++lane) total += lanes[lane][threadIdx.x];
    partials[(chunk * (K + 1) + tap) * D + d] = total;
  }
}

template <class T>
__global__ void finish_sums_kernel(ShortConvShape s, const double* partials, int64_t chunks, T* grad_w, T* grad_bias) {
  const int64_t D = s.channels, K = s.kernel_size, total = (K + 1) * D;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t tap = i / D, d = i % D;
    double sum = 0.0;
    for (int64_t c = 0; c < chunks; ++c) sum += partials[c * total + i];
    if (tap < K && grad_w != nullptr) grad_w[d * K + tap] = static_cast<T>(sum);
    if (tap == K && grad_bias != nullptr) grad_bias[d] = static_cast<T>(sum);
  }
}

template <class F> void dispatch_real(ScalarType type, const char* op, F&& f) {
  if (type == ScalarType::f32) return f.template operator()<float>();
  if (type == ScalarType::f64) return f.template operator()<double>();
  detail::kernel_error(op, "expected float32 or float64");
}

int64_t chunk_rows_of(const ShortConvShape& s, int64_t chunks) {
  const int64_t rows = s.batch * s.length;
  return (rows + chunks - 1) / chunks;
}

}  // namespace

int64_t short_conv_reduction_chunks(const ShortConvShape& s) {
  const int64_t rows = s.batch * s.length;
  const int64_t wanted = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
  return wanted < 1 ? 1 : (wanted < kMaxChunks ? wanted : kMaxChunks);
}

void short_conv_forward(const ShortConvShape& s, ScalarType type, const void* x, const void* w, const void* bias,
                        void* y, Stream stream) {
  const int64_t total = s.batch * s.length * s.channels;
  if (total == 0) return;
  dispatch_real(type, "short_conv", [&]<class T>() {
    forward_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(
        s, static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(bias), static_cast<T*>(y));
  });
  EMBER_CUDA_LAUNCH_CHECK("short_conv");
}

void short_conv_backward(const ShortConvShape& s, ScalarType type, const void* x, const void* w, const void* bias,
                         const void* grad_y, int64_t grad_batch_stride, int64_t grad_time_stride,
                         int64_t grad_channel_stride, void* gz, double* partials, void* grad_x, void* grad_w,
                         void* grad_bias, Stream stream) {
  const int64_t total = s.batch * s.length * s.channels;
  const int64_t chunks = short_conv_reduction_chunks(s);
  if (s.channels > int64_t{65535} * kChannelLanes) detail::kernel_error("short_conv backward", "too many channels");
  if (s.kernel_size + 1 > 65535) detail::kernel_error("short_conv backward", "kernel too long for one grid");
  dispatch_real(type, "short_conv backward", [&]<class T>() {
    const cudaStream_t raw = raw_stream(stream);
    if (total > 0) {
      gz_kernel<T><<<grid_for(total), 256, 0, raw>>>(s, static_cast<const T*>(x), static_cast<const T*>(w),
                                                     static_cast<const T*>(bias), static_cast<const T*>(grad_y),
                                                     grad_batch_stride, grad_time_stride, grad_channel_stride,
                                                     static_cast<T*>(gz));
      EMBER_CUDA_LAUNCH_CHECK("short_conv backward (gz)");
      if (grad_x != nullptr) {
        grad_x_kernel<T><<<grid_for(total), 256, 0, raw>>>(s, static_cast<const T*>(w), static_cast<const T*>(gz),
                                                           static_cast<T*>(grad_x));
        EMBER_CUDA_LAUNCH_CHECK("short_conv backward (grad_x)");
      }
    }
    if (grad_w == nullptr && grad_bias == nullptr) return;
    if (s.channels == 0) return;
    if (total > 0) {
      const dim3 grid(static_cast<unsigned>((s.channels + kChannelLanes - 1) / kChannelLanes),
                      static_cast<unsigned>(s.kernel_size + 1), static_cast<unsigned>(chunks));
      partial_sums_kernel<T><<<grid, dim3(kChannelLanes, kRowLanes), 0, raw>>>(
          s, static_cast<const T*>(x), static_cast<const T*>(gz), chunk_rows_of(s, chunks), partials);
      EMBER_CUDA_LAUNCH_CHECK("short_conv backward (partial sums)");
    } else {  // no rows: every sum is 0
      EMBER_CUDA_CHECK(cudaMemsetAsync(partials, 0, sizeof(double) * chunks * (s.kernel_size + 1) * s.channels, raw));
    }
    finish_sums_kernel<T><<<grid_for((s.kernel_size + 1) * s.channels), 256, 0, raw>>>(
        s, partials, chunks, static_cast<T*>(grad_w), static_cast<T*>(grad_bias));
    EMBER_CUDA_LAUNCH_CHECK("short_conv backward (sums)");
  });
}

}  // namespace ember::cuda
