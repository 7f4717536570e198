// Arithmetic ops: API, argument checks, dispatch and backward, side by side.
// Kernels: ops/cpu/elementwise.cpp. Formulas: autograd/DERIVATIVES.md and
// autograd/derivatives/elementwise.md.
#include "ops/elementwise.h"

#include <cmath>
#include <optional>

#include "autograd/function.h"
#include "cuda/elementwise.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/compare.h"
#include "ops/cpu/elementwise.h"
#include "ops/elementwise_util.h"
#include "ops/flops.h"
#include "ops/reduce.h"
#include "ops/unary.h"

namespace ember {

namespace {
enum class Category { boolean, integral, floating };
Category category(DType d) {
  if (d == DType::bool_) return Category::boolean;
  return is_floating(d) ? Category::floating : Category::integral;
}
}  // namespace

DType result_type(const Tensor& a, const Tensor& b) {
  const bool a_dims = a.dim() > 0;
  const bool b_dims = b.dim() > 0;
  if (a_dims == b_dims) return promote_types(a.dtype(), b.dtype());
  const Tensor& dimensioned = a_dims ? a : b;
  const Tensor& zero_dim = a_dims ? b : a;
  if (category(zero_dim.dtype()) > category(dimensioned.dtype())) {
    return promote_types(zero_dim.dtype(), dimensioned.dtype());
  }
  return dimensioned.dtype();
}

DType result_type(const TensorList& tensors) {
  EMBER_CHECK(!tensors.empty(), "result_type: needs at least one tensor");
  std::optional<DType> dimensioned, zero_dim;
  for (const Tensor& t : tensors) {
    std::optional<DType>& slot = t.dim() > 0 ? dimensioned : zero_dim;
    slot = slot ? promote_types(*slot, t.dtype()) : t.dtype();
  }
  if (!dimensioned) return *zero_dim;
  if (!zero_dim || category(*zero_dim) <= category(*dimensioned)) return *dimensioned;
  return promote_types(*zero_dim, *dimensioned);
}

BinaryArgs prepare_binary(const char* op, const Tensor& a, const Tensor& b, std::optional<DType> compute) {
  check_defined(op, a, "self");
  check_defined(op, b, "other");
  check_same_device(op, {&a, &b});
  BinaryArgs args;
  args.dtype = compute ? *compute : result_type(a, b);
  args.shape = broadcast_shapes(a.sizes(), b.sizes(), op);
  args.a = a.to(args.dtype);
  args.b = b.to(args.dtype);
  return args;
}

Tensor wrap_scalar(double value, const Tensor& like) {
  const bool floating_value = value != static_cast<double>(static_cast<int64_t>(value));
  return scalar_tensor(value,
                       options_like(like, promote_with_scalar(like.dtype(), floating_value || is_floating(like.dtype()))));
}

TensorOptions options_like(const Tensor& like, DType dtype) { return TensorOptions(dtype).device(like.device()); }

DType float_dtype_for(DType dtype) { return is_floating(dtype) ? dtype : DType::f32; }

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.sizes() == shape) return grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  EMBER_CHECK(lead >= 0, "sum_to: cannot reduce {} to the larger shape {}", grad.describe(), shape_str(shape));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < grad.dim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && grad.size(d) != 1)) dims.push_back(d);
  }
  Tensor reduced = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
  return reduced.reshape(shape);
}

// ---------------------------------------------------------------- add / sub
Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  EMBER_PROFILE_OP("add", {a, b}, flops::elementwise({a, b}));
  BinaryArgs args = prepare_binary("add", a, b);
  Tensor out = empty(args.shape, options_like(a, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("add", cuda::add(out, args.a, args.b, alpha));
  else cpu::add(out, args.a, args.b, alpha);
  record_backward("add", {a, b}, {out}, {}, [alpha](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    return {ctx.needs_grad(0) ? sum_to(g, ctx.input_shape(0)) : Tensor(),
            ctx.needs_grad(1) ? sum_to(alpha == 1.0 ? g : mul(g, alpha), ctx.input_shape(1)) : Tensor()};
  });
  return out;
}

Tensor add(const Tensor& a, double b) { return add(a, wrap_scalar(b, a)); }
Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  EMBER_CHECK(a.dtype() != DType::bool_ || b.dtype() != DType::bool_,
              "sub: subtraction of bool tensors is not supported ({} - {})", a.describe(), b.describe());
  return add(a, b, -alpha);
}
Tensor sub(const Tensor& a, double b) { return add(a, wrap_scalar(-b, a)); }
Tensor rsub(const Tensor& a, double b) { return add(neg(a), wrap_scalar(b, a)); }

// ---------------------------------------------------------------- mul
Tensor mul(const Tensor& a, const Tensor& b) {
  EMBER_PROFILE_OP("mul", {a, b}, flops::elementwise({a, b}));
  BinaryArgs args = prepare_binary("mul", a, b);
  Tensor out = empty(args.shape, options_like(a, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("mul", cuda::mul(out, args.a, args.b));
  else cpu::mul(out, args.a, args.b);
  record_backward("mul", {a, b}, {out}, {a, b}, [](BackwardContext& ctx) -> TensorList {
    // d(a*b)/da = b, d(a*b)/db = a
    const Tensor& g = ctx.grad(0);
    return {ctx.needs_grad(0) ? sum_to(mul(g, ctx.saved(1)), ctx.input_shape(0)) : Tensor(),
            ctx.needs_grad(1) ? sum_to(mul(g, ctx.saved(0)), ctx.input_shape(1)) : Tensor()};
  });
  return out;
}

Tensor mul(const Tensor& a, double b) { return mul(a, wrap_scalar(b, a)); }

// ---------------------------------------------------------------- div
Tensor div(const Tensor& a, const Tensor& b) {
  EMBER_PROFILE_OP("div", {a, b}, flops::elementwise({a, b}));
  BinaryArgs args = prepare_binary("div", a, b, float_dtype_for(result_type(a, b)));
  Tensor out = empty(args.shape, options_like(a, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("div", cuda::div(out, args.a, args.b));
  else cpu::div(out, args.a, args.b);
  record_backward("div", {a, b}, {out}, {a, b}, [](BackwardContext& ctx) -> TensorList {
    // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
    const Tensor& g = ctx.grad(0);
    const Tensor& a_saved = ctx.saved(0);
    const Tensor& b_saved = ctx.saved(1);
    Tensor grad_a, grad_b;
    if (ctx.needs_grad(0)) grad_a = sum_to(div(g, b_saved), ctx.input_shape(0));
    if (ctx.needs_grad(1)) grad_b = sum_to(neg(div(mul(g, a_saved), mul(b_saved, b_saved))), ctx.input_shape(1));
    return {grad_a, grad_b};
  });
  return out;
}

Tensor div(const Tensor& a, double b) {
  return div(a, scalar_tensor(b, options_like(a, float_dtype_for(a.dtype()))));
}
Tensor rdiv(const Tensor& a, double b) { return div(scalar_tensor(b, options_like(a, float_dtype_for(a.dtype()))), a); }

// ---------------------------------------------------------------- neg
Tensor neg(const Tensor& a) {
  EMBER_PROFILE_OP("neg", {a}, flops::elementwise({a}));
  check_defined("neg", a, "self");
  Tensor out = empty(a.sizes(), options_like(a, a.dtype()));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("neg", cuda::neg(out, a));
  else cpu::neg(out, a);
  record_backward("neg", {a}, {out}, {}, [](BackwardContext& ctx) -> TensorList { return {neg(ctx.grad(0))}; });
  return out;
}

// ---------------------------------------------------------------- pow
Tensor pow(const Tensor& base, const Tensor& exponent) {
  EMBER_PROFILE_OP("pow", {base, exponent}, flops::elementwise({base, exponent}));
  BinaryArgs args = prepare_binary("pow", base, exponent);
  EMBER_CHECK(args.dtype != DType::bool_, "pow: not supported for bool tensors ({} ** {})", base.describe(),
              exponent.describe());
  Tensor out = empty(args.shape, options_like(base, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("pow", cuda::pow(out, args.a, args.b));
  else cpu::pow(out, args.a, args.b);
  record_backward("pow", {base, exponent}, {out}, {base, exponent, out}, [](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    const Tensor& x = ctx.saved(0);
    const Tensor& e = ctx.saved(1);
    const Tensor& y = ctx.saved(2);
    Tensor grad_base, grad_exponent;
    if (ctx.needs_grad(0)) {  // e x^(e-1), and 0 where e == 0 (x^0 is constant even at x = 0)
      grad_base = sum_to(where(eq(e, 0.0), 0.0, mul(g, mul(e, pow(x, sub(e, 1.0))))), ctx.input_shape(0));
    }
    if (ctx.needs_grad(1)) {  // x^e log(x), and 0 where x == 0 and e >= 0
      Tensor zero_base = logical_and(eq(x, 0.0), ge(e, 0.0));
      grad_exponent = sum_to(where(zero_base, 0.0, mul(g, mul(y, log(x)))), ctx.input_shape(1));
    }
    return {grad_base, grad_exponent};
  });
  return out;
}

Tensor pow(const Tensor& base, double exponent) {
  EMBER_PROFILE_OP("pow", {base}, flops::elementwise({base}));
  check_defined("pow", base, "self");
  const bool integral_exponent = exponent == std::trunc(exponent);
  const DType dtype = promote_with_scalar(base.dtype(), !integral_exponent || is_floating(base.dtype()));
  EMBER_CHECK(dtype != DType::bool_, "pow: not supported for bool tensors ({} ** {})", base.describe(), exponent);
  EMBER_CHECK(is_floating(dtype) || exponent >= 0,
              "pow: integers to negative integer powers are not allowed ({} ** {})", base.describe(), exponent);
  Tensor out = empty(base.sizes(), options_like(base, dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("pow", cuda::pow_scalar(out, base.to(dtype), exponent));
  else cpu::pow_scalar(out, base.to(dtype), exponent);
  record_backward("pow", {base}, {out}, {base}, [exponent](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    if (exponent == 0.0) return {zeros(ctx.input_shape(0), options_like(g, g.dtype()))};
    if (exponent == 1.0) return {g};
    if (exponent == 2.0) return {mul(g, mul(ctx.saved(0), 2.0))};
    return {mul(g, mul(pow(ctx.saved(0), exponent - 1.0), exponent))};
  });
  return out;
}

Tensor pow(double base, const Tensor& exponent) {
  check_defined("pow", exponent, "exponent");
  return pow(wrap_scalar(base, exponent), exponent);
}

// ---------------------------------------------------------------- minimum / maximum
namespace {
Tensor min_max(const char* op, const Tensor& a, const Tensor& b, bool is_max) {
  EMBER_PROFILE_OP(op, {a, b}, flops::elementwise({a, b}));
  BinaryArgs args = prepare_binary(op, a, b);
  Tensor out = empty(args.shape, options_like(a, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL(op, (is_max ? cuda::maximum : cuda::minimum)(out, args.a, args.b));
  else (is_max ? cpu::maximum : cpu::minimum)(out, args.a, args.b);
  record_backward(op, {a, b}, {out}, {a, b}, [is_max](BackwardContext& ctx) -> TensorList {
    // PyTorch's rule: the gradient goes to the winner, half to each on a tie, and (with NaN,
    // where no comparison holds) in full to both.
    const Tensor& g = ctx.grad(0);
    const Tensor& x = ctx.saved(0);
    const Tensor& y = ctx.saved(1);
    Tensor half_on_tie = mul(eq(x, y).to(g.dtype()), 0.5);
    auto share = [&](const Tensor& loses) { return mul(g, rsub(add(loses.to(g.dtype()), half_on_tie), 1.0)); };
    Tensor grad_a, grad_b;
    if (ctx.needs_grad(0)) grad_a = sum_to(share(is_max ? lt(x, y) : gt(x, y)), ctx.input_shape(0));
    if (ctx.needs_grad(1)) grad_b = sum_to(share(is_max ? gt(x, y) : lt(x, y)), ctx.input_shape(1));
    return {grad_a, grad_b};
  });
  return out;
}

struct TernaryArgs {
  Tensor x, a, b;  // converted to `dtype`, broadcast by stride in the kernel
  Shape shape;
  DType dtype;
};

TernaryArgs prepare_ternary(const char* op, const Tensor& x, const Tensor& a, const Tensor& b) {
  check_defined(op, x, "self");
  check_defined(op, a, "tensor1");
  check_defined(op, b, "tensor2");
  check_same_device(op, {&x, &a, &b});
  TernaryArgs args;
  args.dtype = result_type({x, a, b});
  args.shape = broadcast_shapes(broadcast_shapes(x.sizes(), a.sizes(), op), b.sizes(), op);
  args.x = x.to(args.dtype);
  args.a = a.to(args.dtype);
  args.b = b.to(args.dtype);
  return args;
}
}  // namespace

Tensor minimum(const Tensor& a, const Tensor& b) { return min_max("minimum", a, b, false); }
Tensor maximum(const Tensor& a, const Tensor& b) { return min_max("maximum", a, b, true); }
Tensor minimum(const Tensor& a, double b) {
  check_defined("minimum", a, "self");
  return minimum(a, wrap_scalar(b, a));
}
Tensor maximum(const Tensor& a, double b) {
  check_defined("maximum", a, "self");
  return maximum(a, wrap_scalar(b, a));
}

// ---------------------------------------------------------------- lerp
Tensor lerp(const Tensor& start, const Tensor& end, double weight) {
  EMBER_PROFILE_OP("lerp", {start, end}, flops::elementwise({start, end}, 2));
  BinaryArgs args = prepare_binary("lerp", start, end);
  EMBER_CHECK(is_floating(args.dtype), "lerp: expected floating-point tensors, got {} and {}", start.describe(),
              end.describe());
  Tensor out = empty(args.shape, options_like(start, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("lerp", cuda::lerp(out, args.a, args.b, weight));
  else cpu::lerp(out, args.a, args.b, weight);
  record_backward("lerp", {start, end}, {out}, {}, [weight](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    return {ctx.needs_grad(0) ? sum_to(mul(g, 1.0 - weight), ctx.input_shape(0)) : Tensor(),
            ctx.needs_grad(1) ? sum_to(mul(g, weight), ctx.input_shape(1)) : Tensor()};
  });
  return out;
}

Tensor lerp(const Tensor& start, const Tensor& end, const Tensor& weight) {
  EMBER_PROFILE_OP("lerp", {start, end, weight}, flops::elementwise({start, end, weight}, 2));
  TernaryArgs args = prepare_ternary("lerp", start, end, weight);
  EMBER_CHECK(is_floating(args.dtype), "lerp: expected floating-point tensors, got {}, {} and {}", start.describe(),
              end.describe(), weight.describe());
  Tensor out = empty(args.shape, options_like(start, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("lerp", cuda::lerp(out, args.x, args.a, args.b));
  else cpu::lerp(out, args.x, args.a, args.b);
  record_backward("lerp", {start, end, weight}, {out}, {start, end, weight}, [](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    const Tensor& w = ctx.saved(2);
    Tensor grad_start, grad_end, grad_weight;
    if (ctx.needs_grad(0)) grad_start = sum_to(mul(g, rsub(w, 1.0)), ctx.input_shape(0));
    if (ctx.needs_grad(1)) grad_end = sum_to(mul(g, w), ctx.input_shape(1));
    if (ctx.needs_grad(2)) grad_weight = sum_to(mul(g, sub(ctx.saved(1), ctx.saved(0))), ctx.input_shape(2));
    return {grad_start, grad_end, grad_weight};
  });
  return out;
}

// ---------------------------------------------------------------- addcmul / addcdiv
Tensor addcmul(const Tensor& x, const Tensor& a, const Tensor& b, double value) {
  EMBER_PROFILE_OP("addcmul", {x, a, b}, flops::elementwise({x, a, b}, 3));
  TernaryArgs args = prepare_ternary("addcmul", x, a, b);
  EMBER_CHECK(args.dtype != DType::bool_, "addcmul: not supported for bool tensors");
  Tensor out = empty(args.shape, options_like(x, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("addcmul", cuda::addcmul(out, args.x, args.a, args.b, value));
  else cpu::addcmul(out, args.x, args.a, args.b, value);
  record_backward("addcmul", {x, a, b}, {out}, {a, b}, [value](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    Tensor grad_x, grad_a, grad_b;
    if (ctx.needs_grad(0)) grad_x = sum_to(g, ctx.input_shape(0));
    if (ctx.needs_grad(1)) grad_a = sum_to(mul(g, mul(ctx.saved(1), value)), ctx.input_shape(1));
    if (ctx.needs_grad(2)) grad_b = sum_to(mul(g, mul(ctx.saved(0), value)), ctx.input_shape(2));
    return {grad_x, grad_a, grad_b};
  });
  return out;
}

Tensor addcdiv(const Tensor& x, const Tensor& a, const Tensor& b, double value) {
  EMBER_PROFILE_OP("addcdiv", {x, a, b}, flops::elementwise({x, a, b}, 3));
  TernaryArgs args = prepare_ternary("addcdiv", x, a, b);
  EMBER_CHECK(is_floating(args.dtype), "addcdiv: integer division is not supported ({}, {}, {}); use floats",
              x.describe(), a.describe(), b.describe());
  Tensor out = empty(args.shape, options_like(x, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("addcdiv", cuda::addcdiv(out, args.x, args.a, args.b, value));
  else cpu::addcdiv(out, args.x, args.a, args.b, value);
  record_backward("addcdiv", {x, a, b}, {out}, {a, b}, [value](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    const Tensor& numerator = ctx.saved(0);
    const Tensor& denominator = ctx.saved(1);
    Tensor grad_x, grad_a, grad_b;
    if (ctx.needs_grad(0)) grad_x = sum_to(g, ctx.input_shape(0));
    if (ctx.needs_grad(1)) grad_a = sum_to(mul(div(g, denominator), value), ctx.input_shape(1));
    if (ctx.needs_grad(2)) {  // -value a / b^2
      grad_b = sum_to(mul(div(mul(g, numerator), square(denominator)), -value), ctx.input_shape(2));
    }
    return {grad_x, grad_a, grad_b};
  });
  return out;
}

// ---------------------------------------------------------------- fmod / remainder
namespace {
Tensor modulo(const char* op, const Tensor& a, const Tensor& b, bool python_sign) {
  EMBER_PROFILE_OP(op, {a, b}, flops::elementwise({a, b}));
  BinaryArgs args = prepare_binary(op, a, b);
  EMBER_CHECK(args.dtype != DType::bool_, "{}: not supported for bool tensors ({}, {})", op, a.describe(),
              b.describe());
  if (!is_floating(args.dtype)) {
    // Checked before the kernel: an exception cannot leave an OpenMP region.
    EMBER_CHECK(sum(eq(args.b, 0.0)).item<int64_t>() == 0, "{}: integer division by zero (divisor {})", op,
                b.describe());
  }
  Tensor out = empty(args.shape, options_like(a, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL(op, (python_sign ? cuda::remainder : cuda::fmod)(out, args.a, args.b));
  else (python_sign ? cpu::remainder : cpu::fmod)(out, args.a, args.b);
  record_backward(op, {a, b}, {out}, {a, b}, [python_sign](BackwardContext& ctx) -> TensorList {
    // a mod b = a - q b with q = trunc(a/b) (fmod) or floor(a/b) (remainder), piecewise constant.
    const Tensor& g = ctx.grad(0);
    Tensor grad_a, grad_b;
    if (ctx.needs_grad(0)) grad_a = sum_to(g, ctx.input_shape(0));
    if (ctx.needs_grad(1)) {
      Tensor ratio = div(ctx.saved(0), ctx.saved(1));
      Tensor quotient = python_sign ? floor(ratio) : trunc(ratio);
      grad_b = sum_to(neg(mul(g, quotient)), ctx.input_shape(1));
    }
    return {grad_a, grad_b};
  });
  return out;
}
}  // namespace

Tensor fmod(const Tensor& a, const Tensor& b) { return modulo("fmod", a, b, false); }
Tensor remainder(const Tensor& a, const Tensor& b) { return modulo("remainder", a, b, true); }
Tensor fmod(const Tensor& a, double b) {
  check_defined("fmod", a, "self");
  return fmod(a, wrap_scalar(b, a));
}
Tensor remainder(const Tensor& a, double b) {
  check_defined("remainder", a, "self");
  return remainder(a, wrap_scalar(b, a));
}

}  // namespace ember
