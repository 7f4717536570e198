// Reductions: API, checks, dispatch and backward. Kernels: ops/cpu/reduce.cpp.
#include "ops/reduce.h"

#include "autograd/function.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/reduce.h"
#include "ops/elementwise.h"

namespace ember {

// Re-inserts reduced dims as size 1 so a gradient of the output shape broadcasts over the input.
static Tensor unsqueeze_reduced(const Tensor& g, const std::vector<int64_t>& dims, bool keepdim) {
  if (keepdim) return g;
  Tensor out = g;
  for (int64_t d : dims) out = out.unsqueeze(d);
  return out;
}

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_defined("sum", x, "self");
  check_cpu("sum", {&x});
  const std::vector<int64_t> dims = wrap_dims(dims_in, x.dim(), "sum");
  // Sums of bool and small integers accumulate in int64, as in PyTorch.
  const DType out_dtype = is_floating(x.dtype()) ? x.dtype() : DType::i64;
  cpu::ReductionRows rows = cpu::to_rows(x.to(out_dtype), dims, keepdim);
  Tensor out = empty(rows.out_sizes, out_dtype);
  cpu::sum_rows(out, rows);
  record_backward("sum", {x}, {out}, {}, [dims, keepdim](BackwardContext& ctx) -> TensorList {
    return {unsqueeze_reduced(ctx.grad(0), dims, keepdim).expand(ctx.input_shape(0))};
  });
  return out;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_defined("mean", x, "self");
  EMBER_CHECK(is_floating(x.dtype()), "mean: expected a floating-point tensor, got {}", x.describe());
  const std::vector<int64_t> dims = wrap_dims(dims_in, x.dim(), "mean");
  int64_t count = 1;
  for (int64_t d : dims) count *= x.size(d);
  return div(sum(x, dims, keepdim), static_cast<double>(count));
}

}  // namespace ember
