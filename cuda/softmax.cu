// CUDA softmax / log_softmax, forward and fused backward (launchers in cuda/softmax_launch.h).
// Twins: ops/cpu/softmax.cpp (CPU), cuda/softmax.cpp (Tensor side), ops/softmax.cpp (API).
//
// inner == 1 (softmax over the last dim): one row group per row (cuda/row_group.cuh: a warp
// for rows up to kWarpRowMaxLength, else a block of kRowBlock threads); three sweeps over the
// row (max, sum of exp(x - max), normalise), exp recomputed rather than stored.
// inner > 1: one thread per (outer, inner) column, walking the softmax dim sequentially
// (neighbouring threads read neighbouring addresses). Arithmetic in acc_t<T> (float for
// float32 and the 16-bit types, double for float64). Deterministic: fixed reduction trees.
#include "cuda/row_group.cuh"
#include "cuda/softmax_launch.h"

namespace ember::cuda {

namespace {

// ---------------------------------------------------------------- forward
template <class T, bool kWarp>
__global__ void __launch_bounds__(kRowBlock) softmax_fwd_rows(T* y, const T* x, int64_t rows, int64_t D, bool log) {
  using A = acc_t<T>;
  using G = RowGroup<kWarp>;
  __shared__ A scratch[32];
  for (int64_t row = G::first_row(); row < rows; row += G::row_step()) {
    const T* xr = x + row * D;
    T* yr = y + row * D;
    A m = negative_infinity(A{});
    for (int64_t d = G::rank(); d < D; d += G::size()) {
      const A v = convert<A>(xr[d]);
      m = v > m ? v : m;
    }
    m = G::max(m, scratch, negative_infinity(A{}));
    A s = 0;
    for (int64_t d = G::rank(); d < D; d += G::size()) s += acc_exp(convert<A>(xr[d]) - m);
    s = G::sum(s, scratch);
    if (log) {
      // (x - max) - log(total), as on the CPU: exact near large x.
      const A log_total = acc_log(s);
      for (int64_t d = G::rank(); d < D; d += G::size()) yr[d] = convert<T>((convert<A>(xr[d]) - m) - log_total);
    } else {
      const A inverse = A(1) / s;
      for (int64_t d = G::rank(); d < D; d += G::size()) yr[d] = convert<T>(acc_exp(convert<A>(xr[d]) - m) * inverse);
    }
  }
}

template <class T>
__global__ void softmax_fwd_columns(T* y, const T* x, SoftmaxDims dims, bool log) {
  using A = acc_t<T>;
  const int64_t columns = dims.outer * dims.inner, D = dims.size, step = dims.inner;
  for (int64_t col = global_thread_index(); col < columns; col += global_thread_count()) {
    const int64_t start = (col / dims.inner) * D * dims.inner + col % dims.inner;
    const T* xc = x + start;
    T* yc = y + start;
    A m = negative_infinity(A{});
    for (int64_t d = 0; d < D; ++d) {
      const A v = convert<A>(xc[d * step]);
      m = v > m ? v : m;
    }
    A s = 0;
    for (int64_t d = 0; d < D; ++d) s += acc_exp(convert<A>(xc[d * step]) - m);
    if (log) {
      const A log_total = acc_log(s);
      for (int64_t d = 0; d < D; ++d) yc[d * step] = convert<T>((convert<A>(xc[d * step]) - m) - log_total);
    } else {
      const A inverse = A(1) / s;
      for (int64_t d = 0; d < D; ++d) yc[d * step] = convert<T>(acc_exp(convert<A>(xc[d * step]) - m) * inverse);
    }
  }
}

// ---------------------------------------------------------------- backward
// The row's total: sum(g) for log_softmax, sum(g * y) for softmax.
template <class T> __device__ __forceinline__ acc_t<T> backward_term(const T* g, const T* y, int64_t at, bool log) {
  return log ? convert<acc_t<T>>(g[at]) : convert<acc_t<T>>(g[at]) * convert<acc_t<T>>(y[at]);
}
template <class T> __device__ __forceinline__ T backward_value(const T* g, const T* y, int64_t at, acc_t<T> total, bool log) {
  using A = acc_t<T>;
  const A gv = convert<A>(g[at]), yv = convert<A>(y[at]);
  return convert<T>(log ? gv - acc_exp(yv) * total : yv * (gv - total));
}

template <class T, bool kWarp>
__global__ void __launch_bounds__(kRowBlock) softmax_bwd_rows(T* gi, const T* g, const T* y, int64_t rows, int64_t D,
                                                              bool log) {
  using A = acc_t<T>;
  using G = RowGroup<kWarp>;
  __shared__ A scratch[32];
  for (int64_t row = G::first_row(); row < rows; row += G::row_step()) {
    const int64_t base = row * D;
    A total = 0;
    for (int64_t d = G::rank(); d < D; d += G::size()) total += backward_term(g, y, base + d, log);
    total = G::sum(total, scratch);
    for (int64_t d = G::rank(); d < D; d += G::size()) gi[base + d] = backward_value(g, y, base + d, total, log);
  }
}

template <class T>
__global__ void softmax_bwd_columns(T* gi, const T* g, const T* y, SoftmaxDims dims, bool log) {
  using A = acc_t<T>;
  const int64_t columns = dims.outer * dims.inner, D = dims.size, step = dims.inner;
  for (int64_t col = global_thread_index(); col < columns; col += global_thread_count()) {
    const int64_t start = (col / dims.inner) * D * dims.inner + col % dims.inner;
    A total = 0;
    for (int64_t d = 0; d < D; ++d) total += backward_term(g, y, start + d * step, log);
    for (int64_t d = 0; d < D; ++d) gi[start + d * step] = backward_value(g, y, start + d * step, total, log);
  }
}

}  // namespace

void softmax_forward(void* y, const void* x, ScalarType type, SoftmaxDims dims, bool log, Stream stream) {
  const int64_t rows = dims.outer * dims.inner;
  if (rows == 0 || dims.size == 0) return;
  const char* op = log ? "log_softmax" : "softmax";
  const cudaStream_t s = raw_stream(stream);
  dispatch_floating_type(type, op, [&]<class T>() {
    T* out = static_cast<T*>(y);
    const T* in = static_cast<const T*>(x);
    if (dims.inner > 1) {
      softmax_fwd_columns<T><<<grid_for(rows), 256, 0, s>>>(out, in, dims, log);
    } else if (dims.size <= kWarpRowMaxLength) {
      softmax_fwd_rows<T, true><<<row_blocks(rows, true), kRowBlock, 0, s>>>(out, in, rows, dims.size, log);
    } else {
      softmax_fwd_rows<T, false><<<row_blocks(rows, false), kRowBlock, 0, s>>>(out, in, rows, dims.size, log);
    }
  });
  EMBER_CUDA_LAUNCH_CHECK(op);
}

void softmax_backward(void* grad_in, const void* grad_out, const void* y, ScalarType type, SoftmaxDims dims, bool log,
                      Stream stream) {
  const int64_t rows = dims.outer * dims.inner;
  if (rows == 0 || dims.size == 0) return;
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  const cudaStream_t s = raw_stream(stream);
  dispatch_floating_type(type, op, [&]<class T>() {
    T* gi = static_cast<T*>(grad_in);
    const T* g = static_cast<const T*>(grad_out);
    const T* yv = static_cast<const T*>(y);
    if (dims.inner > 1) {
      softmax_bwd_columns<T><<<grid_for(rows), 256, 0, s>>>(gi, g, yv, dims, log);
    } else if (dims.size <= kWarpRowMaxLength) {
      softmax_bwd_rows<T, true><<<row_blocks(rows, true), kRowBlock, 0, s>>>(gi, g, yv, rows, dims.size, log);
    } else {
      softmax_bwd_rows<T, false><<<row_blocks(rows, false), kRowBlock, 0, s>>>(gi, g, yv, rows, dims.size, log);
    }
  });
  EMBER_CUDA_LAUNCH_CHECK(op);
}

}  // namespace ember::cuda
