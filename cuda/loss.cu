// CUDA loss kernels (launchers in cuda/loss_launch.h). Twins: ops/cpu/loss.cpp (same formulas),
// cuda/loss.cpp (Tensor side), ops/loss.cpp (API, reductions, backward written with ops).
//
// nll gather/scatter and the elementwise losses: one thread per element (grid-stride); every
// output element has exactly one writer. cross_entropy forward: one row group per sample
// (cuda/row_group.cuh: max, then the sum of exp), backward one thread per logit. The
// total weight of nll's "mean" is one block's fixed-order sum in double. Arithmetic in acc_t<T>.
#include "cuda/loss_launch.h"
#include "cuda/row_group.cuh"

namespace ember::cuda {

namespace {

template <class T> __device__ __forceinline__ acc_t<T> class_weight(const T* w, int64_t c) {
  return w ? convert<acc_t<T>>(w[c]) : acc_t<T>(1);
}

// ---------------------------------------------------------------- nll
template <class T>
__global__ void nll_gather_kernel(T* out, const T* x, const int64_t* target, const T* w, NllDims d, int64_t ignore) {
  for (int64_t i = global_thread_index(); i < d.N * d.S; i += global_thread_count()) {
    const int64_t n = i / d.S, s = i % d.S, c = target[i];
    out[i] = c == ignore ? convert<T>(0.0)
                         : convert<T>(-class_weight(w, c) * convert<acc_t<T>>(x[n * d.stride_n + c * d.stride_c + s * d.stride_s]));
  }
}

template <class T>
__global__ void nll_scatter_kernel(T* grad_x, const T* grad, const int64_t* target, const T* w, NllDims d,
                                   int64_t ignore) {
  for (int64_t i = global_thread_index(); i < d.N * d.S; i += global_thread_count()) {
    const int64_t n = i / d.S, s = i % d.S, c = target[i];
    if (c == ignore) continue;
    grad_x[(n * d.C + c) * d.S + s] = convert<T>(-class_weight(w, c) * convert<acc_t<T>>(grad[n * d.stride_n + s * d.stride_s]));
  }
}

template <class T>
__global__ void __launch_bounds__(kRowBlock) total_weight_kernel(double* total, const int64_t* target, int64_t n,
                                                                 const T* w, int64_t ignore) {
  __shared__ double scratch[32];
  double sum = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    if (target[i] != ignore) sum += w ? convert<double>(w[target[i]]) : 1.0;
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) *total = sum;
}

// ---------------------------------------------------------------- cross_entropy
template <class T, bool kWarp>
__global__ void __launch_bounds__(kRowBlock) cross_entropy_fwd_kernel(T* out, T* lse, const T* x, const int64_t* target,
                                                                      const T* w, int64_t N, int64_t C, int64_t ignore) {
  using A = acc_t<T>;
  using G = RowGroup<kWarp>;
  __shared__ A scratch[32];
  for (int64_t row = G::first_row(); row < N; row += G::row_step()) {
    const T* xr = x + row * C;
    A m = negative_infinity(A{});
    for (int64_t c = G::rank(); c < C; c += G::size()) {
      const A v = convert<A>(xr[c]);
      m = v > m ? v : m;
    }
    m = G::max(m, scratch, negative_infinity(A{}));
    A total = 0;
    for (int64_t c = G::rank(); c < C; c += G::size()) total += acc_exp(convert<A>(xr[c]) - m);
    total = G::sum(total, scratch);
    if (G::rank() == 0) {
      const A log_total = acc_log(total);
      lse[row] = convert<T>(m + log_total);
      const int64_t t = target[row];
      out[row] = t == ignore ? convert<T>(0.0) : convert<T>(class_weight(w, t) * ((m - convert<A>(xr[t])) + log_total));
    }
  }
}

template <class T>
__global__ void cross_entropy_bwd_kernel(T* gx, const T* g, int64_t grad_stride, const T* x, const T* lse,
                                         const int64_t* target, const T* w, int64_t N, int64_t C, int64_t ignore) {
  using A = acc_t<T>;
  for (int64_t i = global_thread_index(); i < N * C; i += global_thread_count()) {
    const int64_t n = i / C, c = i % C, t = target[n];
    if (t == ignore) {
      gx[i] = convert<T>(0.0);
      continue;
    }
    const A scale = convert<A>(convert<T>(convert<A>(g[n * grad_stride]) * class_weight(w, t)));
    const A value = scale * acc_exp(convert<A>(x[i]) - convert<A>(lse[n]));
    gx[i] = convert<T>(c == t ? value - scale : value);
  }
}

// ---------------------------------------------------------------- elementwise losses
template <class A> __device__ __forceinline__ A pointwise(LossKind kind, A x, A t, A p) {
  switch (kind) {
    case LossKind::mse: return (x - t) * (x - t);
    case LossKind::l1: return acc_abs(x - t);
    case LossKind::smooth_l1: {
      const A z = acc_abs(x - t);
      return z < p ? A(0.5) * z * z / p : z - A(0.5) * p;
    }
    case LossKind::huber: {
      const A z = acc_abs(x - t);
      return z < p ? A(0.5) * z * z : p * (z - A(0.5) * p);
    }
    case LossKind::bce: {
      const A log_p = acc_max(acc_log(x), A(-100));
      const A log_1mp = acc_max(acc_log1p(-x), A(-100));
      return -(t * log_p + (A(1) - t) * log_1mp);
    }
    case LossKind::kl_div: return (t == A(0) ? A(0) : t * acc_log(t)) - t * x;
    case LossKind::kl_div_log_target: return acc_exp(t) * (t - x);
  }
  return A(0);
}

template <class T>
__global__ void pointwise_kernel(T* out, const T* x, StridedLayout xl, const T* t, StridedLayout tl, LossKind kind,
                                 acc_t<T> p) {
  using A = acc_t<T>;
  for (int64_t i = global_thread_index(); i < xl.numel; i += global_thread_count())
    out[i] = convert<T>(pointwise<A>(kind, convert<A>(x[xl.offset_of(i)]), convert<A>(t[tl.offset_of(i)]), p));
}

template <class T>
__global__ void bce_with_logits_kernel(T* out, const T* x, StridedLayout xl, const T* t, StridedLayout tl, const T* pw,
                                       StridedLayout pl) {
  using A = acc_t<T>;
  for (int64_t i = global_thread_index(); i < xl.numel; i += global_thread_count()) {
    const A xv = convert<A>(x[xl.offset_of(i)]), tv = convert<A>(t[tl.offset_of(i)]), pv = convert<A>(pw[pl.offset_of(i)]);
    const A softplus_neg_x = acc_log1p(acc_exp(-acc_abs(xv))) + acc_max(-xv, A(0));  // log(1 + e^-x), never overflows
    out[i] = convert<T>((A(1) - tv) * xv + (A(1) + (pv - A(1)) * tv) * softplus_neg_x);
  }
}

template <class T> __global__ void clamped_log_kernel(T* out, const T* x, StridedLayout xl) {
  using A = acc_t<T>;
  for (int64_t i = global_thread_index(); i < xl.numel; i += global_thread_count())
    out[i] = convert<T>(acc_max(acc_log(convert<A>(x[xl.offset_of(i)])), A(-100)));
}

// Every writer stores the same value 1, so the result does not depend on the order.
template <class T> __global__ void outside_unit_kernel(int32_t* flag, const T* x, StridedLayout xl) {
  using A = acc_t<T>;
  for (int64_t i = global_thread_index(); i < xl.numel; i += global_thread_count()) {
    const A v = convert<A>(x[xl.offset_of(i)]);
    if (!(v >= A(0) && v <= A(1))) *flag = 1;
  }
}

}  // namespace

void nll_gather(void* out, const void* x, const int64_t* target, const void* weight, ScalarType type, NllDims dims,
                int64_t ignore_index, Stream stream) {
  if (dims.N * dims.S == 0) return;
  dispatch_floating_type(type, "nll_loss", [&]<class T>() {
    nll_gather_kernel<T><<<grid_for(dims.N * dims.S), 256, 0, raw_stream(stream)>>>(
        static_cast<T*>(out), static_cast<const T*>(x), target, static_cast<const T*>(weight), dims, ignore_index);
  });
  EMBER_CUDA_LAUNCH_CHECK("nll_loss");
}

void nll_scatter(void* grad_x, const void* grad, const int64_t* target, const void* weight, ScalarType type,
                 NllDims dims, int64_t ignore_index, Stream stream) {
  if (dims.N * dims.S == 0) return;
  dispatch_floating_type(type, "nll_loss_backward", [&]<class T>() {
    nll_scatter_kernel<T><<<grid_for(dims.N * dims.S), 256, 0, raw_stream(stream)>>>(
        static_cast<T*>(grad_x), static_cast<const T*>(grad), target, static_cast<const T*>(weight), dims, ignore_index);
  });
  EMBER_CUDA_LAUNCH_CHECK("nll_loss_backward");
}

void nll_total_weight(double* total, const int64_t* target, int64_t n, const void* weight, ScalarType weight_type,
                      int64_t ignore_index, Stream stream) {
  dispatch_floating_type(weight_type, "nll_loss", [&]<class T>() {
    total_weight_kernel<T><<<1, kRowBlock, 0, raw_stream(stream)>>>(total, target, n, static_cast<const T*>(weight),
                                                                     ignore_index);
  });
  EMBER_CUDA_LAUNCH_CHECK("nll_loss");
}

void cross_entropy_forward(void* out, void* lse, const void* logits, const int64_t* target, const void* weight,
                           ScalarType type, int64_t N, int64_t C, int64_t ignore_index, Stream stream) {
  if (N == 0) return;
  const cudaStream_t s = raw_stream(stream);
  const bool warp = C <= kWarpRowMaxLength;
  dispatch_floating_type(type, "cross_entropy", [&]<class T>() {
    auto launch = [&](auto kernel) {
      kernel<<<row_blocks(N, warp), kRowBlock, 0, s>>>(static_cast<T*>(out), static_cast<T*>(lse),
                                                       static_cast<const T*>(logits), target,
                                                       static_cast<const T*>(weight), N, C, ignore_index);
    };
    if (warp) launch(cross_entropy_fwd_kernel<T, true>);
    else launch(cross_entropy_fwd_kernel<T, false>);
  });
  EMBER_CUDA_LAUNCH_CHECK("cross_entropy");
}

void cross_entropy_backward(void* grad_logits, const void* grad, int64_t grad_stride, const void* logits,
                            const void* lse, const int64_t* target, const void* weight, ScalarType type, int64_t N,
                            int64_t C, int64_t ignore_index, Stream stream) {
  if (N * C == 0) return;
  dispatch_floating_type(type, "cross_entropy_backward", [&]<class T>() {
    cross_entropy_bwd_kernel<T><<<grid_for(N * C), 256, 0, raw_stream(stream)>>>(
        static_cast<T*>(grad_logits), static_cast<const T*>(grad), grad_stride, static_cast<const T*>(logits),
        static_cast<const T*>(lse), target, static_cast<const T*>(weight), N, C, ignore_index);
  });
  EMBER_CUDA_LAUNCH_CHECK("cross_entropy_backward");
}

void pointwise_loss(void* out, const void* input, const StridedLayout& input_layout, const void* target,
                    const StridedLayout& target_layout, ScalarType type, LossKind kind, double param, Stream stream) {
  if (input_layout.numel == 0) return;
  dispatch_floating_type(type, "loss", [&]<class T>() {
    pointwise_kernel<T><<<grid_for(input_layout.numel), 256, 0, raw_stream(stream)>>>(
        static_cast<T*>(out), static_cast<const T*>(input), input_layout, static_cast<const T*>(target), target_layout,
        kind, static_cast<acc_t<T>>(param));
  });
  EMBER_CUDA_LAUNCH_CHECK("loss");
}

void bce_with_logits(void* out, const void* logits, const StridedLayout& logits_layout, const void* target,
                     const StridedLayout& target_layout, const void* pos_weight, const StridedLayout& pos_weight_layout,
                     ScalarType type, Stream stream) {
  if (logits_layout.numel == 0) return;
  dispatch_floating_type(type, "binary_cross_entropy_with_logits", [&]<class T>() {
    bce_with_logits_kernel<T><<<grid_for(logits_layout.numel), 256, 0, raw_stream(stream)>>>(
        static_cast<T*>(out), static_cast<const T*>(logits), logits_layout, static_cast<const T*>(target),
        target_layout, static_cast<const T*>(pos_weight), pos_weight_layout);
  });
  EMBER_CUDA_LAUNCH_CHECK("binary_cross_entropy_with_logits");
}

void clamped_log(void* out, const void* x, const StridedLayout& x_layout, ScalarType type, Stream stream) {
  if (x_layout.numel == 0) return;
  dispatch_floating_type(type, "loss_log", [&]<class T>() {
    clamped_log_kernel<T><<<grid_for(x_layout.numel), 256, 0, raw_stream(stream)>>>(static_cast<T*>(out),
                                                                                     static_cast<const T*>(x), x_layout);
  });
  EMBER_CUDA_LAUNCH_CHECK("loss_log");
}

void flag_outside_unit_interval(int32_t* flag, const void* x, const StridedLayout& x_layout, ScalarType type,
                                Stream stream) {
  if (x_layout.numel == 0) return;
  dispatch_floating_type(type, "binary_cross_entropy", [&]<class T>() {
    outside_unit_kernel<T><<<grid_for(x_layout.numel), 256, 0, raw_stream(stream)>>>(flag, static_cast<const T*>(x),
                                                                                     x_layout);
  });
  EMBER_CUDA_LAUNCH_CHECK("binary_cross_entropy");
}

}  // namespace ember::cuda
