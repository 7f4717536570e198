// cuda/compare.h: Tensors -> launchers of cuda/compare.cu. CPU twin: ops/cpu/compare.cpp.
#include "cuda/compare.h"

#include "cuda/compare_launch.h"
#include "cuda/elementwise.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

// CompareKind numbers the ops like cpu::CompareOp, so a cast converts them.
#define EMBER_SAME_COMPARE(name) static_assert(static_cast<int>(CompareOp::name) == static_cast<int>(CompareKind::name));
EMBER_SAME_COMPARE(eq) EMBER_SAME_COMPARE(ne) EMBER_SAME_COMPARE(lt) EMBER_SAME_COMPARE(le) EMBER_SAME_COMPARE(gt)
EMBER_SAME_COMPARE(ge) EMBER_SAME_COMPARE(logical_and) EMBER_SAME_COMPARE(logical_or) EMBER_SAME_COMPARE(logical_xor)
#undef EMBER_SAME_COMPARE

}  // namespace

void compare(const Tensor& out, const Tensor& a, const Tensor& b, CompareOp op) {
  DeviceGuard guard(common_cuda_device("compare", {&out, &a, &b}));
  check_dtype("compare", DType::bool_, {&out});
  check_dtype("compare", a.dtype(), {&b});
  launch_compare(static_cast<CompareKind>(op), scalar_type(a.dtype()), operand_of(out, out.sizes(), "compare"),
                 operand_of(a, out.sizes(), "compare"), operand_of(b, out.sizes(), "compare"), stream_of(out));
}

void logical_not(const Tensor& out, const Tensor& a) {
  DeviceGuard guard(common_cuda_device("logical_not", {&out, &a}));
  check_dtype("logical_not", DType::bool_, {&out});
  launch_logical_not(scalar_type(a.dtype()), operand_of(out, out.sizes(), "logical_not"),
                     operand_of(a, out.sizes(), "logical_not"), stream_of(out));
}

void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b) {
  DeviceGuard guard(common_cuda_device("where", {&out, &condition, &a, &b}));
  check_dtype("where", DType::bool_, {&condition});
  check_dtype("where", out.dtype(), {&a, &b});
  const Shape& shape = out.sizes();
  launch_where(scalar_type(out.dtype()), operand_of(out, shape, "where"), operand_of(condition, shape, "where"),
               operand_of(a, shape, "where"), operand_of(b, shape, "where"), stream_of(out));
}

}  // namespace ember::cuda
