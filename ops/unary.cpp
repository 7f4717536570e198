// Unary math ops: API, checks, dispatch, backward. Kernels: ops/cpu/unary.cpp.
#include "ops/unary.h"

#include <cmath>
#include <limits>

#include "autograd/function.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/compare.h"
#include "ops/cpu/unary.h"
#include "ops/elementwise.h"
#include "ops/elementwise_util.h"

namespace ember {

namespace {
// Allocates the float output of a unary op, converting integer inputs to float32.
std::pair<Tensor, Tensor> float_unary_args(const char* op, const Tensor& x) {
  check_defined(op, x, "self");
  check_cpu(op, {&x});
  const DType dtype = float_dtype_for(x.dtype());
  return {empty(x.sizes(), dtype), x.to(dtype)};
}
}  // namespace

Tensor exp(const Tensor& x) {
  auto [out, input] = float_unary_args("exp", x);
  cpu::exp(out, input);
  // d exp(x) = exp(x): saves the output (Note [Saved outputs], autograd/saved_tensor.h).
  record_backward("exp", {x}, {out}, {out}, [](BackwardContext& ctx) -> TensorList {
    return {mul(ctx.grad(0), ctx.saved(0))};
  });
  return out;
}

Tensor sqrt(const Tensor& x) {
  auto [out, input] = float_unary_args("sqrt", x);
  cpu::sqrt(out, input);
  // d sqrt(x) = 1 / (2 sqrt(x))
  record_backward("sqrt", {x}, {out}, {out}, [](BackwardContext& ctx) -> TensorList {
    return {div(ctx.grad(0), mul(ctx.saved(0), 2.0))};
  });
  return out;
}

Tensor clamp(const Tensor& x, double min_value, double max_value) {
  check_defined("clamp", x, "self");
  check_cpu("clamp", {&x});
  EMBER_CHECK(std::isnan(min_value) || std::isnan(max_value) || min_value <= max_value,
              "clamp: min {} is greater than max {}", min_value, max_value);
  Tensor out = empty(x.sizes(), x.dtype());
  cpu::clamp(out, x, min_value, max_value);
  // Gradient passes where min <= x <= max (PyTorch's convention at the bounds).
  record_backward("clamp", {x}, {out}, {x}, [min_value, max_value](BackwardContext& ctx) -> TensorList {
    const Tensor& input = ctx.saved(0);
    Tensor pass = ones(input.sizes(), DType::bool_);
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

}  // namespace ember
