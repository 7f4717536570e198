// Comparisons, logical ops and where: API, checks, dispatch, backward.
// Kernels: ops/cpu/compare.cpp.
#include "ops/compare.h"

#include "autograd/function.h"
#include "cuda/compare.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/compare.h"
#include "ops/elementwise.h"
#include "ops/elementwise_util.h"
#include "ops/flops.h"

namespace ember {

namespace {
Tensor compare_op(const char* name, const Tensor& a, const Tensor& b, cpu::CompareOp op) {
  EMBER_PROFILE_OP(name, {a, b}, flops::elementwise({a, b}));
  BinaryArgs args = prepare_binary(name, a, b);
  Tensor out = empty(args.shape, options_like(a, DType::bool_));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL(name, cuda::compare(out, args.a, args.b, op));
  else cpu::compare(out, args.a, args.b, op);
  return out;
}
}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) { return compare_op("eq", a, b, cpu::CompareOp::eq); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare_op("ne", a, b, cpu::CompareOp::ne); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare_op("lt", a, b, cpu::CompareOp::lt); }
Tensor le(const Tensor& a, const Tensor& b) { return compare_op("le", a, b, cpu::CompareOp::le); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare_op("gt", a, b, cpu::CompareOp::gt); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare_op("ge", a, b, cpu::CompareOp::ge); }
Tensor eq(const Tensor& a, double b) { return eq(a, wrap_scalar(b, a)); }
Tensor ne(const Tensor& a, double b) { return ne(a, wrap_scalar(b, a)); }
Tensor lt(const Tensor& a, double b) { return lt(a, wrap_scalar(b, a)); }
Tensor le(const Tensor& a, double b) { return le(a, wrap_scalar(b, a)); }
Tensor gt(const Tensor& a, double b) { return gt(a, wrap_scalar(b, a)); }
Tensor ge(const Tensor& a, double b) { return ge(a, wrap_scalar(b, a)); }
Tensor logical_and(const Tensor& a, const Tensor& b) {
  return compare_op("logical_and", a, b, cpu::CompareOp::logical_and);
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return compare_op("logical_or", a, b, cpu::CompareOp::logical_or);
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return compare_op("logical_xor", a, b, cpu::CompareOp::logical_xor);
}
Tensor logical_not(const Tensor& a) {
  EMBER_PROFILE_OP("logical_not", {a}, flops::elementwise({a}));
  check_defined("logical_not", a, "self");
  Tensor out = empty(a.sizes(), options_like(a, DType::bool_));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("logical_not", cuda::logical_not(out, a));
  else cpu::logical_not(out, a);
  return out;
}

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  EMBER_PROFILE_OP("where", {condition, a, b}, flops::elementwise({condition, a, b}));
  check_defined("where", condition, "condition");
  check_same_device("where", {&condition, &a, &b});
  EMBER_CHECK(condition.dtype() == DType::bool_, "where: condition must be a bool tensor, got {}",
              condition.describe());
  BinaryArgs args = prepare_binary("where", a, b);
  const Shape shape = broadcast_shapes(condition.sizes(), args.shape, "where");
  Tensor out = empty(shape, options_like(condition, args.dtype));
  if (out.device().is_cuda()) EMBER_CUDA_KERNEL("where", cuda::where(out, condition, args.a, args.b));
  else cpu::where(out, condition, args.a, args.b);
  record_backward("where", {a, b}, {out}, {condition}, [](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    const Tensor& c = ctx.saved(0);
    Tensor zero = zeros({}, options_like(g, g.dtype()));
    return {ctx.needs_grad(0) ? sum_to(where(c, g, zero), ctx.input_shape(0)) : Tensor(),
            ctx.needs_grad(1) ? sum_to(where(c, zero, g), ctx.input_shape(1)) : Tensor()};
  });
  return out;
}

Tensor where(const Tensor& condition, const Tensor& a, double b) { return where(condition, a, wrap_scalar(b, a)); }
Tensor where(const Tensor& condition, double a, const Tensor& b) { return where(condition, wrap_scalar(a, b), b); }

}  // namespace ember
