// Unary math ops: API, checks, dispatch, backward. Kernels: ops/cpu/unary.cpp (sigmoid and tanh
// share the activation kernels of ops/cpu/activation.cpp). Formulas:
// autograd/derivatives/elementwise.md. Backwards that reuse the forward output save it
// (Note [Saved outputs], autograd/saved_tensor.h), so double backward flows through it.
#include "ops/unary.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "autograd/function.h"
#include "cuda/activation.h"
#include "cuda/unary.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/compare.h"
#include "ops/cpu/activation.h"
#include "ops/cpu/unary.h"
#include "ops/elementwise.h"
#include "ops/elementwise_util.h"
#include "ops/flops.h"

namespace ember {

namespace {

// Float-result ops: integer inputs convert to float32 first.
Tensor float_unary(const Tensor& x, cpu::UnaryOp op) {
  EMBER_PROFILE_OP(cpu::unary_op_name(op), {x}, flops::elementwise({x}));
  const char* name = cpu::unary_op_name(op);
  check_defined(name, x, "self");
  const DType dtype = float_dtype_for(x.dtype());
  Tensor out = empty(x.sizes(), options_like(x, dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL(name, cuda::unary(out, x.to(dtype), op));
  else cpu::unary(out, x.to(dtype), op);
  return out;
}

// Dtype-keeping ops: any numeric dtype except bool.
Tensor keep_dtype_unary(const Tensor& x, cpu::UnaryOp op) {
  EMBER_PROFILE_OP(cpu::unary_op_name(op), {x}, flops::elementwise({x}));
  const char* name = cpu::unary_op_name(op);
  check_defined(name, x, "self");
  EMBER_CHECK(x.dtype() != DType::bool_, "{}: not supported for bool tensors, got {}", name, x.describe());
  Tensor out = empty(x.sizes(), options_like(x, x.dtype()));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL(name, cuda::unary(out, x, op));
  else cpu::unary(out, x, op);
  return out;
}

// Ops whose derivative is zero almost everywhere (sign, rounding): the gradient is zeros.
void record_zero_grad(const char* name, const Tensor& x, const Tensor& out) {
  record_backward(name, {x}, {out}, {}, [](BackwardContext& ctx) -> TensorList {
    return {zeros(ctx.input_shape(0), options_like(ctx.grad(0), ctx.grad(0).dtype()))};
  });
}

// sigmoid / tanh: forward and fused backward from the activation kernels; the composite
// backward (create_graph) is written with ops so it can be differentiated again.
Tensor output_saving_activation(const char* name, const Tensor& x, cpu::Activation kind,
                                Tensor (*composite_backward)(const Tensor& grad, const Tensor& out)) {
  EMBER_PROFILE_OP(name, {x}, flops::same_shape(x, 1));
  check_defined(name, x, "self");
  const DType dtype = float_dtype_for(x.dtype());
  Tensor out = empty(x.sizes(), options_like(x, dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL(name, cuda::activation_forward(name, out, x.to(dtype), kind, {}));
  else cpu::activation_forward(name, out, x.to(dtype), kind, {});
  record_backward(name, {x}, {out}, {out}, [name, kind, composite_backward](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    const Tensor& y = ctx.saved(0);
    if (ctx.create_graph()) return {composite_backward(g, y)};
    EMBER_PROFILE_OP(std::string(name) + "_backward", {g, y}, flops::same_shape(y, 2, {g}));
    Tensor grad_input = empty(y.sizes(), options_like(y, y.dtype()));
    if (y.device().is_cuda()) EMBER_CUDA_KERNEL(name, cuda::activation_backward(name, grad_input, g.to(y.dtype()), y, kind, {}));
    else cpu::activation_backward(name, grad_input, g.to(y.dtype()), y, kind, {});
    return {grad_input};
  });
  return out;
}

}  // namespace

// ---------------------------------------------------------------- exp / log family
Tensor exp(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::exp);
  record_backward("exp", {x}, {out}, {out}, [](BackwardContext& ctx) -> TensorList {
    return {mul(ctx.grad(0), ctx.saved(0))};  // d exp(x) = exp(x)
  });
  return out;
}

Tensor expm1(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::expm1);
  record_backward("expm1", {x}, {out}, {out}, [](BackwardContext& ctx) -> TensorList {
    return {mul(ctx.grad(0), add(ctx.saved(0), 1.0))};  // d expm1(x) = expm1(x) + 1
  });
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::log);
  record_backward("log", {x}, {out}, {x}, [](BackwardContext& ctx) -> TensorList {
    return {div(ctx.grad(0), ctx.saved(0))};
  });
  return out;
}

Tensor log1p(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::log1p);
  record_backward("log1p", {x}, {out}, {x}, [](BackwardContext& ctx) -> TensorList {
    return {div(ctx.grad(0), add(ctx.saved(0), 1.0))};
  });
  return out;
}

Tensor log2(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::log2);
  record_backward("log2", {x}, {out}, {x}, [](BackwardContext& ctx) -> TensorList {
    return {div(ctx.grad(0), mul(ctx.saved(0), std::numbers::ln2))};
  });
  return out;
}

// ---------------------------------------------------------------- powers
Tensor sqrt(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::sqrt);
  record_backward("sqrt", {x}, {out}, {out}, [](BackwardContext& ctx) -> TensorList {
    return {div(ctx.grad(0), mul(ctx.saved(0), 2.0))};  // 1 / (2 sqrt(x))
  });
  return out;
}

Tensor rsqrt(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::rsqrt);
  record_backward("rsqrt", {x}, {out}, {out}, [](BackwardContext& ctx) -> TensorList {
    const Tensor& y = ctx.saved(0);  // d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
    return {mul(ctx.grad(0), mul(mul(y, square(y)), -0.5))};
  });
  return out;
}

Tensor reciprocal(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::reciprocal);
  record_backward("reciprocal", {x}, {out}, {out}, [](BackwardContext& ctx) -> TensorList {
    return {mul(ctx.grad(0), neg(square(ctx.saved(0))))};  // d 1/x = -1/x^2 = -y^2
  });
  return out;
}

Tensor square(const Tensor& x) {
  Tensor out = keep_dtype_unary(x, cpu::UnaryOp::square);
  record_backward("square", {x}, {out}, {x}, [](BackwardContext& ctx) -> TensorList {
    return {mul(ctx.grad(0), mul(ctx.saved(0), 2.0))};
  });
  return out;
}

// ---------------------------------------------------------------- trig, sigmoid, erf
Tensor sin(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::sin);
  record_backward("sin", {x}, {out}, {x}, [](BackwardContext& ctx) -> TensorList {
    return {mul(ctx.grad(0), cos(ctx.saved(0)))};
  });
  return out;
}

Tensor cos(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::cos);
  record_backward("cos", {x}, {out}, {x}, [](BackwardContext& ctx) -> TensorList {
    return {mul(ctx.grad(0), neg(sin(ctx.saved(0))))};
  });
  return out;
}

Tensor tan(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::tan);
  record_backward("tan", {x}, {out}, {out}, [](BackwardContext& ctx) -> TensorList {
    return {mul(ctx.grad(0), add(square(ctx.saved(0)), 1.0))};  // 1 + tan^2
  });
  return out;
}

Tensor tanh(const Tensor& x) {
  return output_saving_activation("tanh", x, cpu::Activation::tanh, [](const Tensor& g, const Tensor& y) {
    return mul(g, rsub(square(y), 1.0));  // 1 - tanh^2
  });
}

Tensor sigmoid(const Tensor& x) {
  return output_saving_activation("sigmoid", x, cpu::Activation::sigmoid, [](const Tensor& g, const Tensor& y) {
    return mul(g, mul(y, rsub(y, 1.0)));  // s (1 - s)
  });
}

Tensor erf(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::erf);
  record_backward("erf", {x}, {out}, {x}, [](BackwardContext& ctx) -> TensorList {
    // d erf(x) = 2/sqrt(pi) exp(-x^2)
    return {mul(ctx.grad(0), mul(exp(neg(square(ctx.saved(0)))), 2.0 * std::numbers::inv_sqrtpi))};
  });
  return out;
}

Tensor erfinv(const Tensor& x) {
  Tensor out = float_unary(x, cpu::UnaryOp::erfinv);
  record_backward("erfinv", {x}, {out}, {out}, [](BackwardContext& ctx) -> TensorList {
    // d erfinv(x) = sqrt(pi)/2 exp(erfinv(x)^2)
    return {mul(ctx.grad(0), mul(exp(square(ctx.saved(0))), 0.5 / std::numbers::inv_sqrtpi))};
  });
  return out;
}

// ---------------------------------------------------------------- abs, sign, rounding
Tensor abs(const Tensor& x) {
  Tensor out = keep_dtype_unary(x, cpu::UnaryOp::abs);
  record_backward("abs", {x}, {out}, {x}, [](BackwardContext& ctx) -> TensorList {
    return {mul(ctx.grad(0), sign(ctx.saved(0)))};  // sign(0) = 0, as PyTorch
  });
  return out;
}

Tensor sign(const Tensor& x) {
  Tensor out = keep_dtype_unary(x, cpu::UnaryOp::sign);
  record_zero_grad("sign", x, out);
  return out;
}

Tensor floor(const Tensor& x) {
  Tensor out = keep_dtype_unary(x, cpu::UnaryOp::floor);
  record_zero_grad("floor", x, out);
  return out;
}

Tensor ceil(const Tensor& x) {
  Tensor out = keep_dtype_unary(x, cpu::UnaryOp::ceil);
  record_zero_grad("ceil", x, out);
  return out;
}

Tensor round(const Tensor& x) {
  Tensor out = keep_dtype_unary(x, cpu::UnaryOp::round);
  record_zero_grad("round", x, out);
  return out;
}

Tensor trunc(const Tensor& x) {
  Tensor out = keep_dtype_unary(x, cpu::UnaryOp::trunc);
  record_zero_grad("trunc", x, out);
  return out;
}

// ---------------------------------------------------------------- clamp
Tensor clamp(const Tensor& x, double min_value, double max_value) {
  EMBER_PROFILE_OP("clamp", {x}, flops::elementwise({x}));
  check_defined("clamp", x, "self");
  EMBER_CHECK(std::isnan(min_value) || std::isnan(max_value) || min_value <= max_value,
              "clamp: min {} is greater than max {}", min_value, max_value);
  Tensor out = empty(x.sizes(), options_like(x, x.dtype()));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("clamp", cuda::clamp(out, x, min_value, max_value));
  else cpu::clamp(out, x, min_value, max_value);
  // Gradient passes where min <= x <= max (PyTorch's convention at the bounds).
  record_backward("clamp", {x}, {out}, {x}, [min_value, max_value](BackwardContext& ctx) -> TensorList {
    const Tensor& input = ctx.saved(0);
    Tensor pass = ones(input.sizes(), options_like(input, DType::bool_));
    if (!std::isnan(min_value)) pass = logical_and(pass, ge(input, min_value));
    if (!std::isnan(max_value)) pass = logical_and(pass, le(input, max_value));
    return {mul(ctx.grad(0), pass.to(ctx.grad(0).dtype()))};
  });
  return out;
}

Tensor clamp_min(const Tensor& x, double min_value) {
  return clamp(x, min_value, std::numeric_limits<double>::quiet_NaN());
}
Tensor clamp_max(const Tensor& x, double max_value) {
  return clamp(x, std::numeric_limits<double>::quiet_NaN(), max_value);
}

// ---------------------------------------------------------------- classification
namespace {
Tensor classify(const char* name, const Tensor& x, cpu::FloatClass which) {
  EMBER_PROFILE_OP(name, {x}, flops::elementwise({x}));
  check_defined(name, x, "self");
  Tensor out = empty(x.sizes(), options_like(x, DType::bool_));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL(name, cuda::classify(out, x, which));
  else cpu::classify(out, x, which);
  return out;
}
}  // namespace

Tensor isnan(const Tensor& x) { return classify("isnan", x, cpu::FloatClass::nan); }
Tensor isinf(const Tensor& x) { return classify("isinf", x, cpu::FloatClass::inf); }
Tensor isfinite(const Tensor& x) { return classify("isfinite", x, cpu::FloatClass::finite); }

}  // namespace ember
