// Sorting and scans: API, checks, dispatch and backward. Kernels: ops/cpu/sort.cpp.
// Formulas: autograd/DERIVATIVES.md.
#include "ops/sort.h"

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "cuda/sort.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/compare.h"
#include "ops/cpu/sort.h"
#include "ops/flops.h"
#include "ops/elementwise.h"
#include "ops/index.h"

namespace ember {

namespace {

// Shared by sort and topk: the first k of the stable sort along dim, and the backward that puts
// the gradient back where each value came from.
ValuesIndices sorted_prefix(const char* op, const Tensor& x, int64_t dim, bool descending, int64_t k) {
  EMBER_PROFILE_OP(op, {x}, flops::same_shape(x, 0));
  Shape out_sizes = x.sizes();
  if (x.dim() > 0) out_sizes[dim] = k;
  ValuesIndices out{empty(out_sizes, TensorOptions(x.dtype()).device(x.device())),
                    empty(out_sizes, TensorOptions(DType::i64).device(x.device()))};
  const Tensor input = x.detach().contiguous();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::sort(out.values, out.indices, input, dim, descending, k)); else cpu::sort(out.values, out.indices, input, dim, descending, k);
  record_backward(op, {x}, {out.values, out.indices}, {out.indices}, [dim](BackwardContext& ctx) -> TensorList {
    return {scatter_grad_along_dim(ctx.grad(0), ctx.saved(0), dim, ctx.input_shape(0))};
  });
  return out;
}

DType scan_dtype(const Tensor& x) { return is_floating(x.dtype()) ? x.dtype() : DType::i64; }

// Inclusive sum scan, forwards or from the end. Each direction's backward is the other one:
// d/dx_i of sum_{j<=i} x_j reaches every output j >= i.
Tensor cumsum_directed(const Tensor& x, int64_t dim, bool reverse) {
  EMBER_PROFILE_OP("cumsum", {x}, flops::same_shape(x, 1));
  Tensor out = empty(x.sizes(), TensorOptions(scan_dtype(x)).device(x.device()));
  const Tensor input = x.detach().contiguous();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("cumsum", cuda::scan(out, input, dim, cpu::ScanOp::sum, reverse)); else cpu::scan(out, input, dim, cpu::ScanOp::sum, reverse);
  record_backward("cumsum", {x}, {out}, {}, [dim, reverse](BackwardContext& ctx) -> TensorList {
    return {cumsum_directed(ctx.grad(0), dim, !reverse)};
  });
  return out;
}

// Note [CUDA dispatch]: sort, topk and the scans run on the CPU or on a GPU (cuda/sort.h).
void check_scan_args(const char* op, const Tensor& x) { check_defined(op, x, "self"); }

}  // namespace

// ---------------------------------------------------------------- sort, argsort, topk
ValuesIndices sort(const Tensor& x, int64_t dim_in, bool descending) {
  check_defined("sort", x, "self");
  const int64_t dim = wrap_dim(dim_in, x.dim(), "sort");
  return sorted_prefix("sort", x, dim, descending, x.dim() == 0 ? 1 : x.size(dim));
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  check_defined("argsort", x, "self");
  NoGradGuard no_grad;  // indices only
  return sort(x, dim, descending).indices;
}

ValuesIndices topk(const Tensor& x, int64_t k, int64_t dim_in, bool largest, bool /*sorted*/) {
  check_defined("topk", x, "self");
  const int64_t dim = wrap_dim(dim_in, x.dim(), "topk");
  const int64_t size = x.dim() == 0 ? 1 : x.size(dim);
  EMBER_CHECK(k >= 0 && k <= size, "topk: k = {} is out of range for dim {} of {} (size {})", k, dim_in,
              x.describe(), size);
  EMBER_CHECK(x.dim() > 0 || k == 1, "topk: k must be 1 for a 0-d input, got k = {}", k);
  return sorted_prefix("topk", x, dim, largest, k);
}

// ---------------------------------------------------------------- cumsum, cumprod
Tensor cumsum(const Tensor& x, int64_t dim) {
  check_scan_args("cumsum", x);
  return cumsum_directed(x, wrap_dim(dim, x.dim(), "cumsum"), /*reverse=*/false);
}

// Backward of y = cumprod(x) along `dim` (g = dL/dy), with r(v) = cumsum of v from the end:
//   no zero in x:  dL/dx_i = r(g * y)_i / x_i
//   otherwise, per line with first zero at k, and x' = x with x_k replaced by 1:
//     i < k:   r(g * y)_i / x_i            (y_j = 0 for j >= k, so only j < k contribute)
//     i = k:   B_k                          where B = this backward applied to x' (recursion:
//     i > k:   x_k * B_i                    x' has one zero fewer per line)
//   The i > k case is 0 in value, but written as x_k * B_i its derivative in x_k is right, so
//   double backward is exact for any number of zeros. Built from differentiable ops only.
static Tensor cumprod_backward(const Tensor& grad, const Tensor& input, const Tensor& result, int64_t dim) {
  Tensor from_later = cumsum_directed(mul(grad, result), dim, /*reverse=*/true);
  Tensor is_zero = eq(input, 0.0);
  if (!any(is_zero).item<bool>()) return div(from_later, input);
  Tensor zeros_so_far = cumsum_directed(is_zero, dim, /*reverse=*/false);  // int64, no graph
  Tensor before_first = eq(zeros_so_far, 0.0);
  Tensor first_zero = logical_and(is_zero, eq(zeros_so_far, 1.0));
  Tensor part_before = where(before_first, div(from_later, where(before_first, input, 1.0)), 0.0);
  Tensor skip_zero = where(first_zero, 1.0, input);
  Tensor later = cumprod_backward(grad, skip_zero, cumprod(skip_zero, dim), dim);
  Tensor zero_value = sum(where(first_zero, input, 0.0), {dim}, /*keepdim=*/true);  // x_k, value 0
  Tensor part_after = where(before_first, 0.0, mul(later, where(first_zero, 1.0, zero_value)));
  return add(part_before, part_after);
}

Tensor cumprod(const Tensor& x, int64_t dim_in) {
  EMBER_PROFILE_OP("cumprod", {x}, flops::same_shape(x, 1));
  check_scan_args("cumprod", x);
  const int64_t dim = wrap_dim(dim_in, x.dim(), "cumprod");
  Tensor out = empty(x.sizes(), TensorOptions(scan_dtype(x)).device(x.device()));
  const Tensor input = x.detach().contiguous();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("cumprod", cuda::scan(out, input, dim, cpu::ScanOp::prod, false)); else cpu::scan(out, input, dim, cpu::ScanOp::prod, /*reverse=*/false);
  record_backward("cumprod", {x}, {out}, {x, out}, [dim](BackwardContext& ctx) -> TensorList {
    return {cumprod_backward(ctx.grad(0), ctx.saved(0), ctx.saved(1), dim)};
  });
  return out;
}

}  // namespace ember
