// long_conv (and its direct reference): argument checks, dispatch and backward, side by side.
// Kernels: ops/cpu/long_conv.cpp (Note [Long conv by FFT]), cuda/long_conv.cpp (cuFFT; the
// direct reference stays CPU-only). Formulas: autograd/derivatives/sequence.md.
//
// Note [Long conv triangle]: as for conv2d (ops/conv.cpp), three bilinear cores share one
// geometry (offset 0 causal, (K - 1) / 2 centred):
//   conv(x, k)        y[b, t, d]  = Σ_s k[d, s] x[b, t + o - s, d]
//   transpose(g, k)   gx[b, u, d] = Σ_s k[d, s] g[b, u - o + s, d]    (the adjoint in x)
//   kernel_grad(x, g) gk[d, s]    = Σ_b Σ_t g[b, t, d] x[b, t + o - s, d]  (the adjoint in k)
// <g, conv(x, k)> = <transpose(g, k), x> = <kernel_grad(x, g), k>, so each core's backward is
// written with the other two and every order of derivative works. Each core runs the FFT
// kernel, or the direct loops for detail::long_conv_direct.
#include "ops/long_conv.h"

#include <cmath>

#include "autograd/function.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "cuda/long_conv.h"
#include "ops/cpu/fft.h"
#include "ops/cpu/long_conv.h"
#include "ops/flops.h"

namespace ember {

namespace {

struct Geometry {
  int64_t kernel_size = 0, offset = 0;
  bool direct = false;
};

cpu::LongConvProblem problem_of(const Tensor& x, const Geometry& geo) {
  cpu::LongConvProblem p;
  p.batch = x.size(0);
  p.length = x.size(1);
  p.channels = x.size(2);
  p.kernel_size = geo.kernel_size;
  p.offset = geo.offset;
  p.fft_size = geo.direct ? 0 : cpu::fast_fft_size(p.length + p.kernel_size - 1);
  return p;
}

// FFT: about three transforms of size N per channel row (2.5 N log2 N each) plus the spectra
// products; direct: 2 FLOPs per (b, t, d, s).
profiler::OpCost cost(const cpu::LongConvProblem& p, bool direct, double bytes) {
  const double rows = static_cast<double>(p.batch * p.channels);
  if (direct) return {2.0 * rows * static_cast<double>(p.length * p.kernel_size), bytes};
  const double n = static_cast<double>(p.fft_size);
  return {rows * (3.0 * 2.5 * n * std::log2(std::max(n, 2.0)) + 3.0 * n), bytes};
}

// A (B, L, D) tensor as the FFT kernels read it: by strides, without a copy.
template <class T>
cpu::SeqView<T> view_of(const Tensor& t) {
  return {t.data_ptr<T>(), t.stride(0), t.stride(1), t.stride(2)};
}

const char* op_name(const Geometry& geo) { return geo.direct ? "long_conv_direct" : "long_conv"; }

// An uninitialised tensor of t's dtype on t's device.
Tensor empty_on(const Shape& sizes, const Tensor& t) { return empty(sizes, TensorOptions(t.dtype()).device(t.device())); }

Tensor conv_core(const Tensor& x, const Tensor& k, const Geometry& geo);
Tensor transpose_core(const Tensor& g, const Tensor& k, const Geometry& geo);
Tensor kernel_grad_core(const Tensor& x, const Tensor& g, const Geometry& geo);

// y = conv(x, k): x (B, L, D), k (D, K) -> (B, L, D)
Tensor conv_core(const Tensor& x, const Tensor& k, const Geometry& geo) {
  const cpu::LongConvProblem p = problem_of(x, geo);
  EMBER_PROFILE_OP(op_name(geo), {x, k}, cost(p, geo.direct, flops::bytes_of({x, k, x})));
  Tensor y = empty_on(x.sizes(), x);
  if (x.device().is_cuda()) {
    EMBER_CUDA_KERNEL(op_name(geo), cuda::long_conv_fft_fwd(p, x, k.detach().contiguous(), y));
  } else {
    const Tensor kc = k.detach().contiguous();
    dispatch_floating(x.dtype(), op_name(geo), [&]<class T>() {
      if (geo.direct) {
        const Tensor xc = x.detach().contiguous();
        cpu::long_conv_direct_fwd<T>(p, xc.data_ptr<T>(), kc.data_ptr<T>(), y.data_ptr<T>());
      } else {
        cpu::long_conv_fft_fwd<T>(p, view_of<T>(x), kc.data_ptr<T>(), y.data_ptr<T>());
      }
    });
  }
  record_backward(op_name(geo), {x, k}, {y}, {x, k}, [geo](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    if (!g.defined()) return {Tensor(), Tensor()};
    return {ctx.needs_grad(0) ? transpose_core(g, ctx.saved(1), geo) : Tensor(),
            ctx.needs_grad(1) ? kernel_grad_core(ctx.saved(0), g, geo) : Tensor()};
  });
  return y;
}

// The two backward kernels in one: grad_x = transpose(g, k) when k is given, grad_k =
// kernel_grad(x, g) when x is given.
void run_backward(const cpu::LongConvProblem& p, const Geometry& geo, const Tensor& x, const Tensor& k,
                  const Tensor& g, const Tensor& grad_x, const Tensor& grad_k) {
  const Tensor kc = k.defined() ? k.detach().contiguous() : Tensor();
  if (g.device().is_cuda()) {
    EMBER_CUDA_KERNEL(op_name(geo), cuda::long_conv_fft_bwd(p, x, kc, g, grad_x, grad_k));
    return;
  }
  dispatch_floating(g.dtype(), op_name(geo), [&]<class T>() {
    const T* k_data = kc.defined() ? kc.data_ptr<T>() : nullptr;
    T* gx = grad_x.defined() ? grad_x.data_ptr<T>() : nullptr;
    T* gk = grad_k.defined() ? grad_k.data_ptr<T>() : nullptr;
    if (geo.direct) {
      const Tensor xc = x.defined() ? x.detach().contiguous() : Tensor();
      const Tensor gc = g.detach().contiguous();
      cpu::long_conv_direct_bwd<T>(p, xc.defined() ? xc.data_ptr<T>() : nullptr, k_data, gc.data_ptr<T>(), gx, gk);
    } else {
      cpu::long_conv_fft_bwd<T>(p, x.defined() ? view_of<T>(x) : cpu::SeqView<T>(), k_data, view_of<T>(g), gx, gk);
    }
  });
}

// gx = transpose(g, k): g (B, L, D), k (D, K) -> (B, L, D)
Tensor transpose_core(const Tensor& g, const Tensor& k, const Geometry& geo) {
  const cpu::LongConvProblem p = problem_of(g, geo);
  EMBER_PROFILE_OP(std::string(op_name(geo)) + "_backward_x", {g, k}, cost(p, geo.direct, flops::bytes_of({g, k, g})));
  Tensor gx = empty_on(g.sizes(), g);
  run_backward(p, geo, Tensor(), k, g, gx, Tensor());
  record_backward(std::string(op_name(geo)) + "_backward_x", {g, k}, {gx}, {g, k},
                  [geo](BackwardContext& ctx) -> TensorList {
                    const Tensor& h = ctx.grad(0);
                    if (!h.defined()) return {Tensor(), Tensor()};
                    return {ctx.needs_grad(0) ? conv_core(h, ctx.saved(1), geo) : Tensor(),
                            ctx.needs_grad(1) ? kernel_grad_core(h, ctx.saved(0), geo) : Tensor()};
                  });
  return gx;
}

// gk = kernel_grad(x, g): x, g (B, L, D) -> (D, K)
Tensor kernel_grad_core(const Tensor& x, const Tensor& g, const Geometry& geo) {
  const cpu::LongConvProblem p = problem_of(x, geo);
  EMBER_PROFILE_OP(std::string(op_name(geo)) + "_backward_k", {x, g}, cost(p, geo.direct, flops::bytes_of({x, g})));
  Tensor gk = empty_on({p.channels, p.kernel_size}, x);
  run_backward(p, geo, x, Tensor(), g, Tensor(), gk);
  record_backward(std::string(op_name(geo)) + "_backward_k", {x, g}, {gk}, {x, g},
                  [geo](BackwardContext& ctx) -> TensorList {
                    const Tensor& h = ctx.grad(0);
                    if (!h.defined()) return {Tensor(), Tensor()};
                    return {ctx.needs_grad(0) ? transpose_core(ctx.saved(1), h, geo) : Tensor(),
                            ctx.needs_grad(1) ? conv_core(ctx.saved(0), h, geo) : Tensor()};
                  });
  return gk;
}

Geometry check_and_geometry(const char* op, const Tensor& x, const Tensor& k, bool causal) {
  check_defined(op, x, "x");
  check_defined(op, k, "k");
  check_same_device(op, {&x, &k});
  EMBER_CHECK(x.dim() == 3 && k.dim() == 2, "{}: expected x (B, L, D) and k (D, K), got x {} and k {}", op,
              x.describe(), k.describe());
  EMBER_CHECK(x.dtype() == k.dtype() && (x.dtype() == DType::f32 || x.dtype() == DType::f64),
              "{}: x and k must share one dtype, float32 or float64, got x {} and k {}", op, x.describe(),
              k.describe());
  EMBER_CHECK(k.size(0) == x.size(2), "{}: k {} needs one row per channel of x {} (D = {})", op, k.describe(),
              x.describe(), x.size(2));
  const int64_t L = x.size(1), K = k.size(1);
  EMBER_CHECK(K >= 1, "{}: the kernel length K must be >= 1, got k {}", op, k.describe());
  if (causal) {
    EMBER_CHECK(K <= L, "{}: a causal kernel cannot be longer than the sequence: K = {} > L = {} (x {}, k {})", op, K,
                L, x.describe(), k.describe());
  } else {
    EMBER_CHECK(K % 2 == 1 && K <= 2 * L - 1,
                "{}: a bidirectional (centred) kernel needs odd K <= 2L - 1, got K = {}, L = {} (x {}, k {})", op, K,
                L, x.describe(), k.describe());
  }
  return Geometry{K, causal ? 0 : (K - 1) / 2, false};
}

}  // namespace

Tensor long_conv(const Tensor& x, const Tensor& k, bool causal) {
  return conv_core(x, k, check_and_geometry("long_conv", x, k, causal));
}

namespace detail {

Tensor long_conv_direct(const Tensor& x, const Tensor& k, bool causal) {
  check_cpu("long_conv_direct", {&x, &k});  // the O(L·K) reference has no CUDA kernel
  Geometry geo = check_and_geometry("long_conv_direct", x, k, causal);
  geo.direct = true;
  return conv_core(x, k, geo);
}

}  // namespace detail
}  // namespace ember
