// Reductions: API, checks, dispatch and backward. Kernels: ops/cpu/reduce.cpp (one reducer per
// op over the shared walk of Note [Reduction layout]). Formulas: autograd/derivatives/reduce.md.
#include "ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "cuda/reduce.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/compare.h"
#include "ops/cpu/reduce.h"
#include "ops/flops.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/sort.h"
#include "ops/unary.h"

namespace ember {

namespace {

struct Reduction {
  std::vector<int64_t> dims;  // wrapped, sorted
  cpu::ReductionPlan plan;
};

// Common argument handling: defined, dims valid; then the kernel's layout plan (the same plan
// serves the CPU and the CUDA kernels).
Reduction prepare(const char* op, const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_defined(op, x, "self");
  check_same_device(op, {&x});
  Reduction r;
  r.dims = wrap_dims(dims_in, x.dim(), op);
  r.plan = cpu::plan_reduction(x, r.dims, keepdim);
  return r;
}

// A reduction's output, on x's device.
Tensor output(const Reduction& r, DType dtype, const Tensor& x) { return make_tensor(r.plan.out_sizes, dtype, x.device()); }

void check_floating(const char* op, const Tensor& x) {
  EMBER_CHECK(x.defined() && is_floating(x.dtype()), "{}: expected a floating-point tensor, got {}", op,
              x.defined() ? x.describe() : std::string("undefined tensor"));
}

// max/min/amax/argmax have no identity: reducing an empty set is an error (as in PyTorch).
void check_nonempty(const char* op, const Tensor& x, const Reduction& r) {
  EMBER_CHECK(r.plan.R > 0, "{}: cannot reduce {} over an empty dimension (the operation has no identity)", op,
              x.describe());
}

// Re-inserts reduced dims as size 1 so a gradient of the output shape broadcasts over the input.
Tensor unsqueeze_reduced(const Tensor& g, const std::vector<int64_t>& dims, bool keepdim) {
  if (keepdim) return g;
  Tensor out = g;
  for (int64_t d : dims) out = out.unsqueeze(d);
  return out;
}

int64_t reduced_count(const Shape& shape, const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= shape[d];
  return n;
}

// sign(x) as a constant (no graph): +1, -1 or 0.
Tensor sign_of(const Tensor& x) {
  NoGradGuard no_grad;
  return sub(gt(x, 0.0).to(x.dtype()), lt(x, 0.0).to(x.dtype()));
}

// d var / dx = 2 (x - mean) / (N - correction), written with ops so it is differentiable.
// `grad`: the gradient of var with reduced dims kept as size 1.
Tensor var_backward(const Tensor& grad, const Tensor& x, const std::vector<int64_t>& dims, double correction) {
  const double n = static_cast<double>(reduced_count(x.sizes(), dims));
  const double scale = 2.0 / std::max(0.0, n - correction);
  return mul(mul(grad, sub(x, mean(x, dims, /*keepdim=*/true))), scale);
}

// amax/amin backward: the gradient is split evenly among the elements equal to the extreme.
Tensor evenly_distribute_backward(const Tensor& grad, const Tensor& x, const Tensor& extreme) {
  Tensor ties = eq(x, extreme).to(grad.dtype());
  std::vector<int64_t> reduced;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (extreme.size(d) == 1 && x.size(d) != 1) reduced.push_back(d);
  Tensor count = reduced.empty() ? ties : sum(ties, reduced, /*keepdim=*/true);
  return div(mul(grad, ties), count);
}

}  // namespace

// ---------------------------------------------------------------- sum, mean
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  EMBER_PROFILE_OP("sum", {x}, flops::reduction(x, dims_in));
  Reduction r = prepare("sum", x, dims_in, keepdim);
  // Sums of bool and integers accumulate in int64, as in PyTorch.
  const DType out_dtype = is_floating(x.dtype()) ? x.dtype() : DType::i64;
  Tensor out = output(r, out_dtype, x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("sum", cuda::sum(r.plan, out)); else cpu::sum(r.plan, out);
  record_backward("sum", {x}, {out}, {}, [dims = r.dims, keepdim](BackwardContext& ctx) -> TensorList {
    return {unsqueeze_reduced(ctx.grad(0), dims, keepdim).expand(ctx.input_shape(0))};
  });
  return out;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  EMBER_PROFILE_OP("mean", {x}, flops::reduction(x, dims_in));
  check_defined("mean", x, "self");
  EMBER_CHECK(is_floating(x.dtype()), "mean: expected a floating-point tensor, got {}", x.describe());
  const std::vector<int64_t> dims = wrap_dims(dims_in, x.dim(), "mean");
  return div(sum(x, dims, keepdim), static_cast<double>(reduced_count(x.sizes(), dims)));
}

// ---------------------------------------------------------------- prod
// Backward without dividing by zero. dL/dx_i = g * prod_{m != i} x_m, computed per slice:
//   no zero in x:  g * P / x_i
//   otherwise, with x_k the first zero of a slice (row-major over the reduced dims) and x' = x
//   with x_k replaced by 1, dL/dx = B * (1 at k, x_k elsewhere) where B is this backward applied
//   to x' (recursion: one zero fewer per slice). Elsewhere-than-k it is 0 in value, but its
//   derivative in x_k is right, so double backward is exact for any number of zeros.
// Slices are laid out along the last dim first (a differentiable permute + reshape).
static Tensor prod_backward_last_dim(const Tensor& grad, const Tensor& x) {
  Tensor is_zero = eq(x, 0.0);
  if (!any(is_zero).item<bool>()) return div(mul(grad, prod(x, {-1}, /*keepdim=*/true)), x);
  Tensor first_zero = logical_and(is_zero, eq(cumsum(is_zero, -1), 1.0));
  Tensor skip_zero = where(first_zero, 1.0, x);
  Tensor zero_value = where(any(is_zero, {-1}, /*keepdim=*/true),
                            sum(where(first_zero, x, 0.0), {-1}, /*keepdim=*/true), 1.0);
  return mul(prod_backward_last_dim(grad, skip_zero), where(first_zero, 1.0, zero_value));
}

Tensor prod(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  EMBER_PROFILE_OP("prod", {x}, flops::reduction(x, dims_in));
  Reduction r = prepare("prod", x, dims_in, keepdim);
  const DType out_dtype = is_floating(x.dtype()) ? x.dtype() : DType::i64;
  Tensor out = output(r, out_dtype, x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("prod", cuda::prod(r.plan, out)); else cpu::prod(r.plan, out);
  record_backward("prod", {x}, {out}, {x, out}, [dims = r.dims, keepdim](BackwardContext& ctx) -> TensorList {
    const Tensor& input = ctx.saved(0);
    const Tensor grad = unsqueeze_reduced(ctx.grad(0), dims, keepdim);
    if (dims.empty()) return {grad};  // 0-d: nothing is reduced
    if (!any(eq(input, 0.0)).item<bool>())
      return {div(mul(grad, unsqueeze_reduced(ctx.saved(1), dims, keepdim)), input)};
    // (kept..., reduced...) -> (kept..., R), and back.
    std::vector<int64_t> perm, inverse(input.dim());
    for (int64_t d = 0; d < input.dim(); ++d)
      if (!std::binary_search(dims.begin(), dims.end(), d)) perm.push_back(d);
    perm.insert(perm.end(), dims.begin(), dims.end());
    for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
    const int64_t kept = input.dim() - static_cast<int64_t>(dims.size());
    Tensor permuted = input.permute(perm);
    Tensor slices = permuted.flatten(kept, -1);
    Tensor grad_slices = grad.permute(perm).flatten(kept, -1);
    Tensor result = prod_backward_last_dim(grad_slices, slices);
    return {result.reshape(permuted.sizes()).permute(inverse)};
  });
  return out;
}

// ---------------------------------------------------------------- var, std, var_mean
Tensor var(const Tensor& x, const std::vector<int64_t>& dims_in, double correction, bool keepdim) {
  EMBER_PROFILE_OP("var", {x}, flops::reduction(x, dims_in, 3));
  check_defined("var", x, "self");
  check_floating("var", x);
  Reduction r = prepare("var", x, dims_in, keepdim);
  Tensor out = output(r, x.dtype(), x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("var", cuda::var_mean(r.plan, out, Tensor(), correction)); else cpu::var_mean(r.plan, out, Tensor(), correction);
  record_backward("var", {x}, {out}, {x}, [dims = r.dims, keepdim, correction](BackwardContext& ctx) -> TensorList {
    return {var_backward(unsqueeze_reduced(ctx.grad(0), dims, keepdim), ctx.saved(0), dims, correction)};
  });
  return out;
}

Tensor std(const Tensor& x, const std::vector<int64_t>& dims_in, double correction, bool keepdim) {
  EMBER_PROFILE_OP("std", {x}, flops::reduction(x, dims_in, 3));
  check_defined("std", x, "self");
  check_floating("std", x);
  Reduction r = prepare("std", x, dims_in, keepdim);
  Tensor out = output(r, x.dtype(), x);
  {
    if (x.device().is_cuda()) EMBER_CUDA_KERNEL("var", cuda::var_mean(r.plan, out, Tensor(), correction)); else cpu::var_mean(r.plan, out, Tensor(), correction);
    NoGradGuard no_grad;
    out.sqrt_();
  }
  // d std = d var / (2 std); 0 where std == 0 (PyTorch's choice, instead of inf).
  record_backward("std", {x}, {out}, {x, out}, [dims = r.dims, keepdim, correction](BackwardContext& ctx) -> TensorList {
    const Tensor result = unsqueeze_reduced(ctx.saved(1), dims, keepdim);
    const Tensor grad = unsqueeze_reduced(ctx.grad(0), dims, keepdim);
    Tensor is_zero = eq(result, 0.0);
    Tensor grad_var = where(is_zero, 0.0, div(grad, mul(where(is_zero, 1.0, result), 2.0)));
    return {var_backward(grad_var, ctx.saved(0), dims, correction)};
  });
  return out;
}

std::pair<Tensor, Tensor> var_mean(const Tensor& x, const std::vector<int64_t>& dims_in, double correction,
                                   bool keepdim) {
  EMBER_PROFILE_OP("var_mean", {x}, flops::reduction(x, dims_in, 3));
  check_defined("var_mean", x, "self");
  check_floating("var_mean", x);
  Reduction r = prepare("var_mean", x, dims_in, keepdim);
  Tensor variance = output(r, x.dtype(), x);
  Tensor average = output(r, x.dtype(), x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("var_mean", cuda::var_mean(r.plan, variance, average, correction)); else cpu::var_mean(r.plan, variance, average, correction);
  record_backward("var_mean", {x}, {variance, average}, {x},
                  [dims = r.dims, keepdim, correction](BackwardContext& ctx) -> TensorList {
                    const Tensor& input = ctx.saved(0);
                    const double n = static_cast<double>(reduced_count(input.sizes(), dims));
                    Tensor from_var = var_backward(unsqueeze_reduced(ctx.grad(0), dims, keepdim), input, dims, correction);
                    return {add(from_var, div(unsqueeze_reduced(ctx.grad(1), dims, keepdim), n))};
                  });
  return {variance, average};
}

// ---------------------------------------------------------------- max / min over a dim
static ValuesIndices extreme_along_dim(const char* op, const Tensor& x, int64_t dim_in, bool keepdim, bool is_max) {
  EMBER_PROFILE_OP(op, {x}, flops::reduction(x, {dim_in}));
  check_defined(op, x, "self");
  const int64_t dim = wrap_dim(dim_in, x.dim(), op);
  Reduction r = prepare(op, x, {dim}, keepdim);
  check_nonempty(op, x, r);
  ValuesIndices out{output(r, x.dtype(), x), output(r, DType::i64, x)};
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::max_with_indices(r.plan, out.values, out.indices, is_max)); else cpu::max_with_indices(r.plan, out.values, out.indices, is_max);
  record_backward(op, {x}, {out.values, out.indices}, {out.indices},
                  [dims = r.dims, keepdim](BackwardContext& ctx) -> TensorList {
                    // The gradient goes to the reported index only (0-d input: dims is empty).
                    if (dims.empty()) return {ctx.grad(0).reshape(ctx.input_shape(0))};
                    return {scatter_grad_along_dim(unsqueeze_reduced(ctx.grad(0), dims, keepdim),
                                            unsqueeze_reduced(ctx.saved(0), dims, keepdim), dims[0],
                                            ctx.input_shape(0))};
                  });
  return out;
}

ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim) { return extreme_along_dim("max", x, dim, keepdim, true); }
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim) { return extreme_along_dim("min", x, dim, keepdim, false); }

// ---------------------------------------------------------------- amax / amin, max() / min()
static Tensor extreme_over_dims(const char* op, const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim,
                                bool is_max) {
  EMBER_PROFILE_OP(op, {x}, flops::reduction(x, dims_in));
  Reduction r = prepare(op, x, dims_in, keepdim);
  check_nonempty(op, x, r);
  Tensor out = output(r, x.dtype(), x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::amax(r.plan, out, is_max)); else cpu::amax(r.plan, out, is_max);
  record_backward(op, {x}, {out}, {x, out}, [dims = r.dims, keepdim](BackwardContext& ctx) -> TensorList {
    return {evenly_distribute_backward(unsqueeze_reduced(ctx.grad(0), dims, keepdim), ctx.saved(0),
                                       unsqueeze_reduced(ctx.saved(1), dims, keepdim))};
  });
  return out;
}

Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extreme_over_dims("amax", x, dims, keepdim, true);
}
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extreme_over_dims("amin", x, dims, keepdim, false);
}
Tensor max(const Tensor& x) { return extreme_over_dims("max", x, {}, false, true); }
Tensor min(const Tensor& x) { return extreme_over_dims("min", x, {}, false, false); }

// ---------------------------------------------------------------- argmax / argmin
static Tensor arg_extreme(const char* op, const Tensor& x, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  EMBER_PROFILE_OP(op, {x}, flops::reduction(x, dim ? std::vector<int64_t>{*dim} : std::vector<int64_t>{}));
  check_defined(op, x, "self");
  // No dim: the index into the flattened input (the reduced index of a full reduction is exactly
  // that, see Note [Reduction layout]); keepdim then keeps every dim as size 1.
  const std::vector<int64_t> dims = dim ? std::vector<int64_t>{wrap_dim(*dim, x.dim(), op)} : std::vector<int64_t>{};
  Reduction r = prepare(op, x, dims, keepdim);
  check_nonempty(op, x, r);
  Tensor indices = output(r, DType::i64, x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::max_with_indices(r.plan, Tensor(), indices, is_max)); else cpu::max_with_indices(r.plan, Tensor(), indices, is_max);
  return indices;
}

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_extreme("argmax", x, dim, keepdim, true); }
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_extreme("argmin", x, dim, keepdim, false); }

// ---------------------------------------------------------------- logsumexp
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  EMBER_PROFILE_OP("logsumexp", {x}, flops::reduction(x, dims_in, 3));
  check_defined("logsumexp", x, "self");
  check_floating("logsumexp", x);
  Reduction r = prepare("logsumexp", x, dims_in, keepdim);
  Tensor out = output(r, x.dtype(), x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("logsumexp", cuda::logsumexp(r.plan, out)); else cpu::logsumexp(r.plan, out);
  // d lse / dx = softmax(x) = exp(x - lse)
  record_backward("logsumexp", {x}, {out}, {x, out}, [dims = r.dims, keepdim](BackwardContext& ctx) -> TensorList {
    const Tensor result = unsqueeze_reduced(ctx.saved(1), dims, keepdim);
    return {mul(unsqueeze_reduced(ctx.grad(0), dims, keepdim), exp(sub(ctx.saved(0), result)))};
  });
  return out;
}

// ---------------------------------------------------------------- norm
Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims_in, bool keepdim) {
  EMBER_PROFILE_OP("norm", {x}, flops::reduction(x, dims_in, 3));
  check_defined("norm", x, "self");
  check_floating("norm", x);
  cpu::NormKind kind;
  if (p == 1.0) kind = cpu::NormKind::l1;
  else if (p == 2.0) kind = cpu::NormKind::l2;
  else if (std::isinf(p) && p > 0) kind = cpu::NormKind::linf;
  else EMBER_FAIL("norm: p = {} is not supported (expected 1, 2, inf or \"fro\") for {}", p, x.describe());
  Reduction r = prepare("norm", x, dims_in, keepdim);
  Tensor out = output(r, x.dtype(), x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("norm", cuda::norm(r.plan, out, kind)); else cpu::norm(r.plan, out, kind);
  record_backward("norm", {x}, {out}, {x, out}, [dims = r.dims, keepdim, kind](BackwardContext& ctx) -> TensorList {
    const Tensor& input = ctx.saved(0);
    const Tensor grad = unsqueeze_reduced(ctx.grad(0), dims, keepdim);
    const Tensor result = unsqueeze_reduced(ctx.saved(1), dims, keepdim);
    switch (kind) {
      case cpu::NormKind::l1: return {mul(grad, sign_of(input))};
      case cpu::NormKind::l2:
        // x / ||x||, with 0 (not NaN) where the norm is 0: there x is all zeros, so x / 1 = 0.
        return {mul(grad, div(input, where(eq(result, 0.0), 1.0, result)))};
      case cpu::NormKind::linf: {
        Tensor sign = sign_of(input);
        Tensor magnitude;
        {
          NoGradGuard no_grad;
          magnitude = mul(input, sign);
        }
        return {mul(sign, evenly_distribute_backward(grad, magnitude, result))};
      }
    }
    return {Tensor()};
  });
  return out;
}

Tensor norm(const Tensor& x, const std::string& p, const std::vector<int64_t>& dims, bool keepdim) {
  EMBER_CHECK(p == "fro", "norm: unknown norm \"{}\" (expected \"fro\" or a number) for {}", p,
              x.defined() ? x.describe() : std::string("undefined tensor"));
  return norm(x, 2.0, dims, keepdim);
}

// ---------------------------------------------------------------- all, any, count_nonzero
Tensor all(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  EMBER_PROFILE_OP("all", {x}, flops::reduction(x, dims));
  Reduction r = prepare("all", x, dims, keepdim);
  Tensor out = output(r, DType::bool_, x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("all", cuda::any_all(r.plan, out, /*is_all=*/true)); else cpu::any_all(r.plan, out, /*is_all=*/true);
  return out;
}

Tensor any(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  EMBER_PROFILE_OP("any", {x}, flops::reduction(x, dims));
  Reduction r = prepare("any", x, dims, keepdim);
  Tensor out = output(r, DType::bool_, x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("any", cuda::any_all(r.plan, out, /*is_all=*/false)); else cpu::any_all(r.plan, out, /*is_all=*/false);
  return out;
}

Tensor count_nonzero(const Tensor& x, const std::vector<int64_t>& dims) {
  EMBER_PROFILE_OP("count_nonzero", {x}, flops::reduction(x, dims));
  Reduction r = prepare("count_nonzero", x, dims, /*keepdim=*/false);
  Tensor out = output(r, DType::i64, x);
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("count_nonzero", cuda::count_nonzero(r.plan, out)); else cpu::count_nonzero(r.plan, out);
  return out;
}

}  // namespace ember
