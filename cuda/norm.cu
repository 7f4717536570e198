// CUDA normalization kernels (launchers in cuda/norm_launch.h). Twins: ops/cpu/norm.cpp (CPU,
// same formulas), cuda/norm.cpp (Tensor side), ops/norm.cpp (API, autograd).
//
// Row norms (layer_norm, rms_norm, group_norm): one row group per row (cuda/row_group.cuh: a
// warp for rows up to kWarpRowMaxLength elements, else a block), two passes for the statistics
// (mean, then squared deviations: no cancellation), then the affine map. The backward's input
// gradient is the same per-row walk; the weight/bias gradients are column sums over rows, one
// block per parameter channel. Batch norm: one block per channel for the statistics and the
// backward sums, elementwise grid-stride kernels for the maps. Arithmetic in acc_t<T> (float
// for float32/bf16/f16, double for float64). Deterministic: fixed trees, no atomics.
#include "cuda/norm_launch.h"
#include "cuda/row_group.cuh"

namespace ember::cuda {

namespace {

// Optional per-channel parameter: p[i], or `fallback` when absent.
template <class T> __device__ __forceinline__ acc_t<T> param(const T* p, int64_t i, float fallback) {
  return p ? convert<acc_t<T>>(p[i]) : static_cast<acc_t<T>>(fallback);
}
template <class T> __device__ __forceinline__ acc_t<T> grad_at(const T* g, bool broadcast, int64_t i) {
  return convert<acc_t<T>>(g[broadcast ? 0 : i]);
}

// ---------------------------------------------------------------- row norms
template <class T, bool kWarp>
__global__ void __launch_bounds__(kRowBlock) row_norm_fwd_kernel(T* y, T* mean, T* rstd, const T* x, const T* w,
                                                                 const T* b, RowNormDims dims, double eps) {
  using A = acc_t<T>;
  using G = RowGroup<kWarp>;
  __shared__ A scratch[32];
  const int64_t n = dims.channels * dims.inner;
  for (int64_t row = G::first_row(); row < dims.rows; row += G::row_step()) {
    const T* xr = x + row * n;
    A m = 0;
    if (dims.center) {
      A s = 0;
      for (int64_t i = G::rank(); i < n; i += G::size()) s += convert<A>(xr[i]);
      m = G::sum(s, scratch) / static_cast<A>(n);
    }
    A squares = 0;
    for (int64_t i = G::rank(); i < n; i += G::size()) {
      const A d = convert<A>(xr[i]) - m;
      squares += d * d;
    }
    const A r = A(1) / acc_sqrt(G::sum(squares, scratch) / static_cast<A>(n) + static_cast<A>(eps));
    if (G::rank() == 0) {
      mean[row] = convert<T>(m);
      rstd[row] = convert<T>(r);
    }
    const int64_t a0 = (row % dims.groups) * dims.channels;
    T* yr = y + row * n;
    for (int64_t i = G::rank(); i < n; i += G::size()) {
      const int64_t c = a0 + i / dims.inner;
      yr[i] = convert<T>((convert<A>(xr[i]) - m) * r * param(w, c, 1.f) + param(b, c, 0.f));
    }
  }
}

// grad_x = rstd * (g w - mean(g w) - x̂ mean(g w x̂)), the mean(g w) term dropped for RMS norm.
template <class T, bool kWarp>
__global__ void __launch_bounds__(kRowBlock) row_norm_bwd_input(T* dx, const T* g, bool broadcast, const T* x,
                                                                const T* mean, const T* rstd, const T* w,
                                                                RowNormDims dims) {
  using A = acc_t<T>;
  using G = RowGroup<kWarp>;
  __shared__ A scratch[32];
  const int64_t n = dims.channels * dims.inner;
  for (int64_t row = G::first_row(); row < dims.rows; row += G::row_step()) {
    const int64_t base = row * n, a0 = (row % dims.groups) * dims.channels;
    const A m = convert<A>(mean[row]), r = convert<A>(rstd[row]);
    A sum_gw = 0, sum_gwx = 0;
    for (int64_t i = G::rank(); i < n; i += G::size()) {
      const A gw = grad_at(g, broadcast, base + i) * param(w, a0 + i / dims.inner, 1.f);
      sum_gw += gw;
      sum_gwx += gw * ((convert<A>(x[base + i]) - m) * r);
    }
    sum_gw = G::sum(sum_gw, scratch);
    sum_gwx = G::sum(sum_gwx, scratch);
    const A mean_gw = dims.center ? sum_gw / static_cast<A>(n) : A(0);
    const A mean_gwx = sum_gwx / static_cast<A>(n);
    for (int64_t i = G::rank(); i < n; i += G::size()) {
      const A gw = grad_at(g, broadcast, base + i) * param(w, a0 + i / dims.inner, 1.f);
      const A xhat = (convert<A>(x[base + i]) - m) * r;
      dx[base + i] = convert<T>(r * (gw - mean_gw - xhat * mean_gwx));
    }
  }
}

// grad_weight[c] = sum of g x̂, grad_bias[c] = sum of g over the elements that use channel c:
// rows r = group, group + G, ... and their `inner` positions. One block per channel.
template <class T>
__global__ void __launch_bounds__(kRowBlock) row_norm_bwd_params(T* dw, T* db, const T* g, bool broadcast, const T* x,
                                                                 const T* mean, const T* rstd, RowNormDims dims) {
  using A = acc_t<T>;
  __shared__ A scratch[32];
  const int64_t channels_total = dims.groups * dims.channels, n = dims.channels * dims.inner;
  const int64_t terms = (dims.rows / dims.groups) * dims.inner;
  for (int64_t c = blockIdx.x; c < channels_total; c += gridDim.x) {
    const int64_t group = c / dims.channels, k = c % dims.channels;
    A sum_gx = 0, sum_g = 0;
    for (int64_t t = threadIdx.x; t < terms; t += blockDim.x) {
      const int64_t r = group + (t / dims.inner) * dims.groups;
      const int64_t at = r * n + k * dims.inner + t % dims.inner;
      const A gv = grad_at(g, broadcast, at);
      sum_gx += gv * ((convert<A>(x[at]) - convert<A>(mean[r])) * convert<A>(rstd[r]));
      sum_g += gv;
    }
    sum_gx = block_sum(sum_gx, scratch);
    sum_g = block_sum(sum_g, scratch);
    if (threadIdx.x == 0) {
      if (dw) dw[c] = convert<T>(sum_gx);
      if (db) db[c] = convert<T>(sum_g);
    }
  }
}

// ---------------------------------------------------------------- batch norm
// Offset of element t of channel c's (batch, inner) slab.
__device__ __forceinline__ int64_t channel_offset(const BatchNormDims& d, int64_t c, int64_t t) {
  return ((t / d.inner) * d.channels + c) * d.inner + t % d.inner;
}

template <class T>
__global__ void __launch_bounds__(kRowBlock) batch_norm_stats_kernel(T* mean, T* var, const T* x, BatchNormDims d) {
  using A = acc_t<T>;
  __shared__ A scratch[32];
  const int64_t count = d.batch * d.inner;
  for (int64_t c = blockIdx.x; c < d.channels; c += gridDim.x) {
    A s = 0;
    for (int64_t t = threadIdx.x; t < count; t += blockDim.x) s += convert<A>(x[channel_offset(d, c, t)]);
    const A m = convert<A>(convert<T>(block_sum(s, scratch) / static_cast<A>(count)));  // rounded like the CPU's
    A squares = 0;
    for (int64_t t = threadIdx.x; t < count; t += blockDim.x) {
      const A dev = convert<A>(x[channel_offset(d, c, t)]) - m;
      squares += dev * dev;
    }
    squares = block_sum(squares, scratch);
    if (threadIdx.x == 0) {
      mean[c] = convert<T>(m);
      var[c] = convert<T>(squares / static_cast<A>(count));
    }
  }
}

template <class T>
__global__ void batch_norm_fwd_kernel(T* y, const T* x, const T* mean, const T* rstd, const T* w, const T* b,
                                      BatchNormDims d) {
  using A = acc_t<T>;
  const int64_t total = d.batch * d.channels * d.inner;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t c = (i / d.inner) % d.channels;
    const A a = convert<A>(convert<T>(convert<A>(rstd[c]) * param(w, c, 1.f)));
    y[i] = convert<T>(a * (convert<A>(x[i]) - convert<A>(mean[c])) + param(b, c, 0.f));
  }
}

// Per channel: sum(g), sum(g (x - mean)) -> grad_weight, grad_bias and the coefficients of
// grad_x = a (x - mean) + p g + q kept in `coef` (p, a, q; 3 * channels doubles):
//   p = w rstd;  training: a = -w rstd^2 mean(g x̂), q = -w rstd mean(g);  eval: a = q = 0.
template <class T>
__global__ void __launch_bounds__(kRowBlock) batch_norm_bwd_sums(T* dw, T* db, double* coef, const T* g, bool broadcast,
                                                                 const T* x, const T* mean, const T* rstd, const T* w,
                                                                 BatchNormDims d, bool training) {
  using A = acc_t<T>;
  __shared__ A scratch[32];
  const int64_t count = d.batch * d.inner;
  for (int64_t c = blockIdx.x; c < d.channels; c += gridDim.x) {
    const A m = convert<A>(mean[c]);
    A sum_g = 0, sum_gx = 0;
    for (int64_t t = threadIdx.x; t < count; t += blockDim.x) {
      const int64_t at = channel_offset(d, c, t);
      const A gv = grad_at(g, broadcast, at);
      sum_g += gv;
      sum_gx += gv * (convert<A>(x[at]) - m);
    }
    sum_g = block_sum(sum_g, scratch);
    sum_gx = block_sum(sum_gx, scratch);
    if (threadIdx.x == 0) {
      const double r = convert<double>(rstd[c]);
      const double wr = convert<double>(param(w, c, 1.f)) * r;
      const double n = static_cast<double>(count);
      if (dw) dw[c] = convert<T>(convert<double>(sum_gx) * r);
      if (db) db[c] = convert<T>(sum_g);
      coef[c] = wr;
      coef[d.channels + c] = training ? -wr * r * (convert<double>(sum_gx) * r) / n : 0.0;
      coef[2 * d.channels + c] = training ? -wr * convert<double>(sum_g) / n : 0.0;
    }
  }
}

template <class T>
__global__ void batch_norm_bwd_input(T* dx, const double* coef, const T* g, bool broadcast, const T* x, const T* mean,
                                     BatchNormDims d) {
  using A = acc_t<T>;
  const int64_t total = d.batch * d.channels * d.inner;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t c = (i / d.inner) % d.channels;
    const A p = static_cast<A>(coef[c]), a = static_cast<A>(coef[d.channels + c]),
            q = static_cast<A>(coef[2 * d.channels + c]);
    dx[i] = convert<T>(a * (convert<A>(x[i]) - convert<A>(mean[c])) + p * grad_at(g, broadcast, i) + q);
  }
}

unsigned channel_blocks(int64_t channels) {
  return static_cast<unsigned>(channels < 1 ? 1 : (channels < 65536 ? channels : 65536));
}

}  // namespace

void row_norm_forward(void* y, void* mean, void* rstd, const void* x, const void* weight, const void* bias,
                      ScalarType type, RowNormDims dims, double eps, Stream stream) {
  if (dims.rows == 0) return;
  const cudaStream_t s = raw_stream(stream);
  const bool warp = dims.channels * dims.inner <= kWarpRowMaxLength;
  dispatch_floating_type(type, "norm forward", [&]<class T>() {
    auto args = [&](auto kernel) {
      kernel<<<row_blocks(dims.rows, warp), kRowBlock, 0, s>>>(
          static_cast<T*>(y), static_cast<T*>(mean), static_cast<T*>(rstd), static_cast<const T*>(x),
          static_cast<const T*>(weight), static_cast<const T*>(bias), dims, eps);
    };
    if (warp) args(row_norm_fwd_kernel<T, true>);
    else args(row_norm_fwd_kernel<T, false>);
  });
  EMBER_CUDA_LAUNCH_CHECK("norm forward");
}

void row_norm_backward(void* grad_x, void* grad_weight, void* grad_bias, GradPointer grad, const void* x,
                       const void* mean, const void* rstd, const void* weight, ScalarType type, RowNormDims dims,
                       Stream stream) {
  if (dims.rows == 0 && !grad_weight && !grad_bias) return;
  const cudaStream_t s = raw_stream(stream);
  const bool warp = dims.channels * dims.inner <= kWarpRowMaxLength;
  dispatch_floating_type(type, "norm backward", [&]<class T>() {
    const T* g = static_cast<const T*>(grad.data);
    if (grad_x && dims.rows > 0) {
      auto args = [&](auto kernel) {
        kernel<<<row_blocks(dims.rows, warp), kRowBlock, 0, s>>>(
            static_cast<T*>(grad_x), g, grad.broadcast, static_cast<const T*>(x), static_cast<const T*>(mean),
            static_cast<const T*>(rstd), static_cast<const T*>(weight), dims);
      };
      if (warp) args(row_norm_bwd_input<T, true>);
      else args(row_norm_bwd_input<T, false>);
    }
    if (grad_weight || grad_bias) {
      row_norm_bwd_params<T><<<channel_blocks(dims.groups * dims.channels), kRowBlock, 0, s>>>(
          static_cast<T*>(grad_weight), static_cast<T*>(grad_bias), g, grad.broadcast, static_cast<const T*>(x),
          static_cast<const T*>(mean), static_cast<const T*>(rstd), dims);
    }
  });
  EMBER_CUDA_LAUNCH_CHECK("norm backward");
}

void batch_norm_stats(void* mean, void* var, const void* x, ScalarType type, BatchNormDims dims, Stream stream) {
  if (dims.channels == 0) return;
  dispatch_floating_type(type, "batch_norm", [&]<class T>() {
    batch_norm_stats_kernel<T><<<channel_blocks(dims.channels), kRowBlock, 0, raw_stream(stream)>>>(
        static_cast<T*>(mean), static_cast<T*>(var), static_cast<const T*>(x), dims);
  });
  EMBER_CUDA_LAUNCH_CHECK("batch_norm");
}

void batch_norm_forward(void* y, const void* x, const void* mean, const void* rstd, const void* weight, const void* bias,
                        ScalarType type, BatchNormDims dims, Stream stream) {
  const int64_t total = dims.batch * dims.channels * dims.inner;
  if (total == 0) return;
  dispatch_floating_type(type, "batch_norm", [&]<class T>() {
    batch_norm_fwd_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(
        static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(mean), static_cast<const T*>(rstd),
        static_cast<const T*>(weight), static_cast<const T*>(bias), dims);
  });
  EMBER_CUDA_LAUNCH_CHECK("batch_norm");
}

void batch_norm_backward(void* grad_x, void* grad_weight, void* grad_bias, double* workspace, GradPointer grad,
                         const void* x, const void* mean, const void* rstd, const void* weight, ScalarType type,
                         BatchNormDims dims, bool training, Stream stream) {
  if (dims.channels == 0) return;
  const cudaStream_t s = raw_stream(stream);
  const int64_t total = dims.batch * dims.channels * dims.inner;
  dispatch_floating_type(type, "batch_norm backward", [&]<class T>() {
    const T* g = static_cast<const T*>(grad.data);
    batch_norm_bwd_sums<T><<<channel_blocks(dims.channels), kRowBlock, 0, s>>>(
        static_cast<T*>(grad_weight), static_cast<T*>(grad_bias), workspace, g, grad.broadcast,
        static_cast<const T*>(x), static_cast<const T*>(mean), static_cast<const T*>(rstd),
        static_cast<const T*>(weight), dims, training);
    if (grad_x && total > 0) {
      batch_norm_bwd_input<T><<<grid_for(total), 256, 0, s>>>(static_cast<T*>(grad_x), workspace, g, grad.broadcast,
                                                               static_cast<const T*>(x), static_cast<const T*>(mean),
                                                               dims);
    }
  });
  EMBER_CUDA_LAUNCH_CHECK("batch_norm backward");
}

}  // namespace ember::cuda
