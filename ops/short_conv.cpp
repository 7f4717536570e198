// short_conv: argument checks, dispatch and backward, side by side. Kernels: ops/cpu/short_conv.cpp,
// cuda/short_conv.cpp.
// Formulas: autograd/derivatives/sequence.md.
//
// First-order backward runs the fused kernel. With create_graph it is written with
// differentiable ops instead (shifted copies by pad, the activation's slope by sigmoid/erf/exp),
// so double backward works; that path holds a few (B, L, D) temporaries per tap.
#include "ops/short_conv.h"

#include <cmath>
#include <numbers>

#include "autograd/function.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "cuda/short_conv.h"
#include "ops/compare.h"
#include "ops/cpu/short_conv.h"
#include "ops/elementwise.h"
#include "ops/flops.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/unary.h"

namespace ember {

namespace {

constexpr const char* kOp = "short_conv";
using cpu::ShortConvActivation;

ShortConvActivation parse_activation(const std::string& name) {
  if (name == "none") return ShortConvActivation::none;
  if (name == "silu") return ShortConvActivation::silu;
  if (name == "gelu") return ShortConvActivation::gelu;
  if (name == "relu") return ShortConvActivation::relu;
  EMBER_FAIL("{}: unknown activation '{}' (expected none, silu, gelu or relu)", kOp, name);
}

// x (B, L, D) delayed by s steps along L: out[:, t] = x[:, t - s], zeros for t < s.
Tensor delayed(const Tensor& x, int64_t s) { return s == 0 ? x : pad(x, {0, 0, s, -s}); }
// The adjoint of delayed: out[:, t] = g[:, t + s], zeros for t >= L - s.
Tensor advanced(const Tensor& g, int64_t s) { return s == 0 ? g : pad(g, {0, 0, -s, s}); }

// d act / dz with differentiable ops (the create_graph path).
Tensor activation_slope(ShortConvActivation kind, const Tensor& z) {
  switch (kind) {
    case ShortConvActivation::silu: {
      Tensor s = sigmoid(z);
      return mul(s, add(mul(z, rsub(s, 1.0)), 1.0));
    }
    case ShortConvActivation::gelu: {
      Tensor cdf = mul(add(erf(mul(z, std::numbers::sqrt2 / 2.0)), 1.0), 0.5);
      Tensor pdf = mul(exp(mul(square(z), -0.5)), 1.0 / std::sqrt(2.0 * std::numbers::pi));
      return add(cdf, mul(z, pdf));
    }
    case ShortConvActivation::relu: return gt(z, 0.0).to(z.dtype());
    case ShortConvActivation::none: break;
  }
  return ones_like(z);
}

// Gradients (x, w, bias) from differentiable ops: z = bias + Σ_s w[:, s] · delayed(x, s),
// gz = g · act'(z), gx = Σ_s w[:, s] · advanced(gz, s), gw[:, s] = Σ_{b,t} gz · delayed(x, s).
TensorList differentiable_backward(const BackwardContext& ctx, const Tensor& g, ShortConvActivation kind) {
  const Tensor& x = ctx.saved(0);
  const Tensor& w = ctx.saved(1);
  const Tensor& bias = ctx.saved(2);
  const int64_t K = w.size(1);
  Tensor gz = g;
  if (kind != ShortConvActivation::none) {
    Tensor z = bias.defined() ? bias : zeros({w.size(0)}, TensorOptions(w.dtype()).device(w.device()));
    for (int64_t s = 0; s < K; ++s) z = add(z, mul(delayed(x, s), w.select(1, s)));
    gz = mul(g, activation_slope(kind, z));
  }
  TensorList grads(3);
  if (ctx.needs_grad(0)) {
    Tensor gx;
    for (int64_t s = 0; s < K; ++s) {
      Tensor term = mul(advanced(gz, s), w.select(1, s));
      gx = gx.defined() ? add(gx, term) : term;
    }
    grads[0] = gx;
  }
  if (ctx.needs_grad(1)) {
    TensorList taps;
    for (int64_t s = 0; s < K; ++s) taps.push_back(sum(mul(gz, delayed(x, s)), {0, 1}));
    grads[1] = stack(taps, 1);  // (D, K)
  }
  if (ctx.needs_grad(2)) grads[2] = sum(gz, {0, 1});
  return grads;
}

}  // namespace

Tensor short_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const std::string& activation) {
  check_defined(kOp, x, "x");
  check_defined(kOp, w, "w");
  check_same_device(kOp, {&x, &w, &bias});
  const ShortConvActivation kind = parse_activation(activation);
  EMBER_CHECK(x.dim() == 3 && w.dim() == 2, "{}: expected x (B, L, D) and w (D, K), got x {} and w {}", kOp,
              x.describe(), w.describe());
  EMBER_CHECK(x.dtype() == w.dtype() && (x.dtype() == DType::f32 || x.dtype() == DType::f64),
              "{}: x and w must share one dtype, float32 or float64, got x {} and w {}", kOp, x.describe(),
              w.describe());
  EMBER_CHECK(w.size(0) == x.size(2) && w.size(1) >= 1,
              "{}: w {} needs one row of K >= 1 taps per channel of x {} (D = {})", kOp, w.describe(), x.describe(),
              x.size(2));
  if (bias.defined()) {
    EMBER_CHECK(bias.dim() == 1 && bias.size(0) == x.size(2) && bias.dtype() == x.dtype(),
                "{}: bias must be ({}) of x's dtype {}, got {}", kOp, x.size(2), dtype_name(x.dtype()),
                bias.describe());
  }
  cpu::ShortConvProblem p;
  p.batch = x.size(0);
  p.length = x.size(1);
  p.channels = x.size(2);
  p.kernel_size = w.size(1);
  p.activation = kind;
  EMBER_PROFILE_OP(kOp, {x, w, bias},
                   profiler::OpCost{flops::numel(x) * (2.0 * static_cast<double>(p.kernel_size) + 2.0),
                                    flops::bytes_of({x, w, bias, x})});
  const TensorOptions on_device = TensorOptions(x.dtype()).device(x.device());
  Tensor y = empty(x.sizes(), on_device);
  {
    const Tensor xc = x.detach().contiguous(), wc = w.detach().contiguous();
    const Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor();
    if (x.device().is_cuda()) {
      EMBER_CUDA_KERNEL(kOp, cuda::short_conv_fwd(p, xc, wc, bc, y));
    } else {
      dispatch_floating(x.dtype(), kOp, [&]<class T>() {
        cpu::short_conv_fwd<T>(p, xc.data_ptr<T>(), wc.data_ptr<T>(), bc.defined() ? bc.data_ptr<T>() : nullptr,
                               y.data_ptr<T>());
      });
    }
  }
  record_backward(kOp, {x, w, bias}, {y}, {x, w, bias}, [p](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    if (!g.defined()) return {Tensor(), Tensor(), Tensor()};
    if (ctx.create_graph()) return differentiable_backward(ctx, g, p.activation);
    EMBER_PROFILE_OP("short_conv_backward", {g, ctx.saved(0), ctx.saved(1)},
                     profiler::OpCost{flops::numel(g) * (6.0 * static_cast<double>(p.kernel_size) + 4.0),
                                      flops::bytes_of({g, ctx.saved(0), ctx.saved(1), g})});
    const Tensor xc = ctx.saved(0).detach().contiguous(), wc = ctx.saved(1).detach().contiguous();
    const Tensor bc = ctx.saved(2).defined() ? ctx.saved(2).detach().contiguous() : Tensor();
    const TensorOptions on_device = TensorOptions(xc.dtype()).device(xc.device());
    Tensor grad_x = ctx.needs_grad(0) ? empty(xc.sizes(), on_device) : Tensor();
    Tensor grad_w = ctx.needs_grad(1) ? empty(wc.sizes(), on_device) : Tensor();
    Tensor grad_bias = ctx.needs_grad(2) ? empty({p.channels}, on_device) : Tensor();
    if (xc.device().is_cuda()) {
      EMBER_CUDA_KERNEL(kOp, cuda::short_conv_bwd(p, xc, wc, bc, g, grad_x, grad_w, grad_bias));
      return {grad_x, grad_w, grad_bias};
    }
    dispatch_floating(xc.dtype(), kOp, [&]<class T>() {
      cpu::short_conv_bwd<T>(p, xc.data_ptr<T>(), wc.data_ptr<T>(), bc.defined() ? bc.data_ptr<T>() : nullptr,
                             cpu::GradView<T>{g.data_ptr<T>(), g.stride(0), g.stride(1), g.stride(2)},
                             grad_x.defined() ? grad_x.data_ptr<T>() : nullptr,
                             grad_w.defined() ? grad_w.data_ptr<T>() : nullptr,
                             grad_bias.defined() ? grad_bias.data_ptr<T>() : nullptr);
    });
    return {grad_x, grad_w, grad_bias};
  });
  return y;
}

}  // namespace ember
