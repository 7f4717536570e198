// cuda/unary.h: Tensors -> launchers of cuda/unary.cu. CPU twin: ops/cpu/unary.cpp.
#include "cuda/unary.h"

#include "cuda/elementwise.h"
#include "cuda/tensor_args.h"
#include "cuda/unary_launch.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

// UnaryKind and FloatClassKind number the ops like the CPU enums, so a cast converts them.
#define EMBER_SAME_UNARY(name) static_assert(static_cast<int>(UnaryOp::name) == static_cast<int>(UnaryKind::name));
EMBER_SAME_UNARY(exp) EMBER_SAME_UNARY(expm1) EMBER_SAME_UNARY(log) EMBER_SAME_UNARY(log1p) EMBER_SAME_UNARY(log2)
EMBER_SAME_UNARY(sqrt) EMBER_SAME_UNARY(rsqrt) EMBER_SAME_UNARY(sin) EMBER_SAME_UNARY(cos) EMBER_SAME_UNARY(tan)
EMBER_SAME_UNARY(erf) EMBER_SAME_UNARY(erfinv) EMBER_SAME_UNARY(reciprocal) EMBER_SAME_UNARY(abs)
EMBER_SAME_UNARY(sign) EMBER_SAME_UNARY(square) EMBER_SAME_UNARY(floor) EMBER_SAME_UNARY(ceil)
EMBER_SAME_UNARY(round) EMBER_SAME_UNARY(trunc)
#undef EMBER_SAME_UNARY
static_assert(static_cast<int>(FloatClass::nan) == static_cast<int>(FloatClassKind::nan) &&
              static_cast<int>(FloatClass::inf) == static_cast<int>(FloatClassKind::inf) &&
              static_cast<int>(FloatClass::finite) == static_cast<int>(FloatClassKind::finite));

}  // namespace

void unary(const Tensor& out, const Tensor& x, UnaryOp op) {
  const char* name = cpu::unary_op_name(op);
  DeviceGuard guard(common_cuda_device(name, {&out, &x}));
  check_dtype(name, out.dtype(), {&x});
  EMBER_CHECK(out.dtype() != DType::bool_, "{}: not supported for bool tensors, got {}", name, x.describe());
  EMBER_CHECK(op > UnaryOp::reciprocal || is_floating(out.dtype()),
              "{}: expected a floating dtype on CUDA, got {} (the op converts integers to float32)", name,
              x.describe());
  launch_unary(static_cast<UnaryKind>(op), scalar_type(out.dtype()), operand_of(out, out.sizes(), name),
               operand_of(x, out.sizes(), name), stream_of(out));
}

void classify(const Tensor& out, const Tensor& x, FloatClass which) {
  const char* name = which == FloatClass::nan ? "isnan" : (which == FloatClass::inf ? "isinf" : "isfinite");
  DeviceGuard guard(common_cuda_device(name, {&out, &x}));
  check_dtype(name, DType::bool_, {&out});
  launch_classify(static_cast<FloatClassKind>(which), scalar_type(x.dtype()), operand_of(out, out.sizes(), name),
                  operand_of(x, out.sizes(), name), stream_of(out));
}

void exp(const Tensor& out, const Tensor& x) { cuda::unary(out, x, UnaryOp::exp); }
void sqrt(const Tensor& out, const Tensor& x) { cuda::unary(out, x, UnaryOp::sqrt); }

void clamp(const Tensor& out, const Tensor& x, double min_value, double max_value) {
  DeviceGuard guard(common_cuda_device("clamp", {&out, &x}));
  check_dtype("clamp", out.dtype(), {&x});
  EMBER_CHECK(out.dtype() != DType::bool_, "clamp: not supported for bool tensors, got {}", x.describe());
  launch_clamp(scalar_type(out.dtype()), operand_of(out, out.sizes(), "clamp"), operand_of(x, out.sizes(), "clamp"),
               min_value, max_value, stream_of(out));
}

}  // namespace ember::cuda
