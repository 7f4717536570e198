// Indexing ops: API, checks, dispatch, backward. Kernels: ops/cpu/index.cpp.
// The backwards pair up: gather <-> scatter_add, index_select <-> index_add, and scatter's
// gradient is the incoming one with the overwritten positions zeroed (for x) / gathered (for src).
#include "ops/index.h"

#include "autograd/function.h"
#include "cuda/index.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/compare.h"
#include "ops/cpu/index.h"
#include "ops/flops.h"
#include "ops/cpu/shape.h"
#include "ops/elementwise.h"
#include "ops/shape.h"

namespace ember {

namespace {

// Note [CUDA dispatch]: every op here runs on the CPU or on one GPU (cuda/index.h); the checks
// below name the op and both devices when its tensors are on different ones.
void check_input(const char* op, const Tensor& t, const char* name) { check_defined(op, t, name); }

TensorOptions like(const Tensor& t, DType dtype) { return TensorOptions(dtype).device(t.device()); }

// Index tensors are int64 or int32; kernels read a contiguous int64 one.
Tensor index_as_int64(const char* op, const Tensor& index, const char* name = "index") {
  check_input(op, index, name);
  EMBER_CHECK(index.dtype() == DType::i64 || index.dtype() == DType::i32,
              "{}: {} must be an int64 or int32 tensor, got {}", op, name, index.describe());
  return index.to(DType::i64).contiguous();
}

// The first index outside [low, high), if any (on a GPU this synchronizes: the answer is needed here).
std::optional<int64_t> first_outside(const char* op, const Tensor& index, int64_t low, int64_t high) {
  std::optional<int64_t> bad;
  if (index.device().is_cuda()) EMBER_CUDA_KERNEL(op, bad = cuda::first_outside(index, low, high)); else bad = cpu::first_outside(index, low, high);
  return bad;
}

// Every index must lie in [-size, size) of dim `dim`.
void check_index_range(const char* op, const Tensor& index, int64_t dim, int64_t size) {
  if (auto bad = first_outside(op, index, -size, size))
    EMBER_FAIL("{}: index {} is out of bounds for dim {} with size {}", op, *bad, dim, size);
}

// Zero-pads `t` at the end of each dim up to `shape` (src larger than index in scatter).
Tensor grow_to(const Tensor& t, const Shape& shape) {
  if (t.sizes() == shape) return t;
  std::vector<int64_t> pads;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    pads.push_back(0);
    pads.push_back(shape[d] - t.size(d));
  }
  return pad(t, pads);
}

// The checks shared by gather and the scatters: dims, shapes, dtypes and index range.
// Returns the wrapped dim and the int64 index.
std::pair<int64_t, Tensor> check_gather_scatter(const char* op, const Tensor& x, int64_t dim_in,
                                                const Tensor& index_in, const Tensor* src) {
  check_input(op, x, "self");
  check_same_device(op, {&x, &index_in, src});
  Tensor index = index_as_int64(op, index_in);
  const int64_t dim = wrap_dim(dim_in, x.dim(), op);
  EMBER_CHECK(index.dim() == x.dim(), "{}: index {} must have as many dims as self {}", op, index_in.describe(),
              x.describe());
  if (src) {
    check_input(op, *src, "src");
    EMBER_CHECK(src->dtype() == x.dtype(), "{}: src {} must have the dtype of self {}", op, src->describe(),
                x.describe());
    EMBER_CHECK(src->dim() == x.dim(), "{}: src {} must have as many dims as self {}", op, src->describe(),
                x.describe());
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    EMBER_CHECK(d == dim || index.size(d) <= x.size(d), "{}: index {} is larger than self {} in dim {}", op,
                index_in.describe(), x.describe(), d);
    EMBER_CHECK(!src || index.size(d) <= src->size(d), "{}: index {} is larger than src {} in dim {}", op,
                index_in.describe(), src->describe(), d);
  }
  check_index_range(op, index, dim, x.dim() > 0 ? x.size(dim) : 1);
  return {dim, index};
}

}  // namespace

// ---------------------------------------------------------------- gather / scatter
Tensor gather(const Tensor& x, int64_t dim_in, const Tensor& index_in) {
  EMBER_PROFILE_OP("gather", {x, index_in}, flops::movement({index_in}, flops::numel(index_in)));
  auto [dim, index] = check_gather_scatter("gather", x, dim_in, index_in, nullptr);
  Tensor out = empty(index.sizes(), like(x, x.dtype()));
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("gather", cuda::gather(out, x.detach(), dim, index)); else cpu::gather(out, x.detach(), dim, index);
  record_backward("gather", {x}, {out}, {index}, [dim](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    return {scatter_add(zeros(ctx.input_shape(0), like(g, g.dtype())), dim, ctx.saved(0), g)};
  });
  return out;
}

Tensor scatter(const Tensor& x, int64_t dim_in, const Tensor& index_in, const Tensor& src) {
  EMBER_PROFILE_OP("scatter", {x, index_in, src}, flops::movement({x, index_in, src}, flops::numel(x)));
  auto [dim, index] = check_gather_scatter("scatter", x, dim_in, index_in, &src);
  Tensor out = x.detach().clone();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("scatter", cuda::scatter(out, dim, index, src.detach(), false)); else cpu::scatter(out, dim, index, src.detach(), /*accumulate=*/false);
  record_backward("scatter", {x, src}, {out}, {index}, [dim](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    const Tensor& idx = ctx.saved(0);
    return {ctx.needs_grad(0) ? scatter(g, dim, idx, 0.0) : Tensor(),
            ctx.needs_grad(1) ? grow_to(gather(g, dim, idx), ctx.input_shape(1)) : Tensor()};
  });
  return out;
}

Tensor scatter(const Tensor& x, int64_t dim_in, const Tensor& index_in, double value) {
  EMBER_PROFILE_OP("scatter", {x, index_in}, flops::movement({x, index_in}, flops::numel(x)));
  auto [dim, index] = check_gather_scatter("scatter", x, dim_in, index_in, nullptr);
  Tensor out = x.detach().clone();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("scatter", cuda::scatter_fill(out, dim, index, value)); else cpu::scatter_fill(out, dim, index, value);
  record_backward("scatter", {x}, {out}, {index}, [dim](BackwardContext& ctx) -> TensorList {
    return {scatter(ctx.grad(0), dim, ctx.saved(0), 0.0)};
  });
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim_in, const Tensor& index_in, const Tensor& src) {
  EMBER_PROFILE_OP("scatter_add", {x, index_in, src}, flops::movement({x, index_in, src}, flops::numel(x)));
  auto [dim, index] = check_gather_scatter("scatter_add", x, dim_in, index_in, &src);
  Tensor out = x.detach().clone();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("scatter_add", cuda::scatter(out, dim, index, src.detach(), true)); else cpu::scatter(out, dim, index, src.detach(), /*accumulate=*/true);
  record_backward("scatter_add", {x, src}, {out}, {index}, [dim](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    return {ctx.needs_grad(0) ? g : Tensor(),
            ctx.needs_grad(1) ? grow_to(gather(g, dim, ctx.saved(0)), ctx.input_shape(1)) : Tensor()};
  });
  return out;
}

// ---------------------------------------------------------------- index_select / index_add
Tensor index_select(const Tensor& x, int64_t dim_in, const Tensor& index_in) {
  EMBER_PROFILE_OP("index_select", {x, index_in}, {});
  check_input("index_select", x, "self");
  check_same_device("index_select", {&x, &index_in});
  Tensor index = index_as_int64("index_select", index_in);
  EMBER_CHECK(index.dim() <= 1, "index_select: index must be 0-d or 1-d, got {}", index_in.describe());
  EMBER_CHECK(x.dim() > 0, "index_select: self must have at least one dim, got {}", x.describe());
  const int64_t dim = wrap_dim(dim_in, x.dim(), "index_select");
  check_index_range("index_select", index, dim, x.size(dim));
  index = index.reshape({-1});
  Shape out_shape = x.sizes();
  out_shape[dim] = index.numel();
  Tensor out = empty(out_shape, like(x, x.dtype()));
  if (x.device().is_cuda()) {
    EMBER_CUDA_KERNEL("index_select", cuda::index_select(out, x.detach(), dim, index));  // any strides
  } else if (x.is_contiguous()) {
    cpu::index_select(out, x.detach(), dim, index);  // whole (B-element) slabs per index
  } else {
    // A strided input is read in place, as a gather through per-dim maps (Note [Index maps]).
    cpu::IndexMaps maps;
    for (int64_t d = 0; d < x.dim(); ++d) {
      std::vector<int64_t> map(static_cast<size_t>(out_shape[d]));
      for (int64_t i = 0; i < out_shape[d]; ++i) {
        const int64_t picked = d == dim ? index.data_ptr<int64_t>()[i] : i;
        map[i] = picked < 0 ? picked + x.size(d) : picked;
      }
      maps.push_back(std::move(map));
    }
    cpu::gather_by_maps(out, x.detach(), maps, 0.0);
  }
  record_backward("index_select", {x}, {out}, {index}, [dim](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    return {index_add(zeros(ctx.input_shape(0), like(g, g.dtype())), dim, ctx.saved(0), g)};
  });
  return out;
}

Tensor index_add(const Tensor& x, int64_t dim_in, const Tensor& index_in, const Tensor& src, double alpha) {
  EMBER_PROFILE_OP("index_add", {x, index_in, src}, flops::movement({x, index_in, src}, flops::numel(x)));
  check_input("index_add", x, "self");
  check_input("index_add", src, "source");
  check_same_device("index_add", {&x, &index_in, &src});
  Tensor index = index_as_int64("index_add", index_in);
  EMBER_CHECK(index.dim() <= 1, "index_add: index must be 0-d or 1-d, got {}", index_in.describe());
  EMBER_CHECK(x.dim() > 0, "index_add: self must have at least one dim, got {}", x.describe());
  EMBER_CHECK(src.dtype() == x.dtype(), "index_add: source {} must have the dtype of self {}", src.describe(),
              x.describe());
  const int64_t dim = wrap_dim(dim_in, x.dim(), "index_add");
  index = index.reshape({-1});
  Shape expected = x.sizes();
  expected[dim] = index.numel();
  EMBER_CHECK(src.sizes() == expected, "index_add: source {} must have shape {} (self {} with dim {} of size {})",
              src.describe(), shape_str(expected), x.describe(), dim, index.numel());
  check_index_range("index_add", index, dim, x.size(dim));
  Tensor out = x.detach().clone();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("index_add", cuda::index_add(out, dim, index, src.detach().contiguous(), alpha)); else cpu::index_add(out, dim, index, src.detach().contiguous(), alpha);
  record_backward("index_add", {x, src}, {out}, {index}, [dim, alpha](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    Tensor grad_src;
    if (ctx.needs_grad(1)) {
      grad_src = index_select(g, dim, ctx.saved(0));
      if (alpha != 1.0) grad_src = mul(grad_src, alpha);
    }
    return {ctx.needs_grad(0) ? g : Tensor(), grad_src};
  });
  return out;
}

// ---------------------------------------------------------------- masks
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  check_input("masked_fill", x, "self");
  check_input("masked_fill", mask, "mask");
  check_same_device("masked_fill", {&x, &mask});
  EMBER_CHECK(mask.dtype() == DType::bool_, "masked_fill: mask must be a bool tensor, got {}", mask.describe());
  const Shape shape = broadcast_shapes(x.sizes(), mask.sizes(), "masked_fill");
  EMBER_CHECK(shape == x.sizes(), "masked_fill: mask {} does not broadcast to the input {}", mask.describe(),
              x.describe());
  return where(mask, scalar_tensor(value, like(x, x.dtype())), x);
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  EMBER_PROFILE_OP("masked_select", {x, mask}, {});
  check_input("masked_select", x, "self");
  check_input("masked_select", mask, "mask");
  check_same_device("masked_select", {&x, &mask});
  EMBER_CHECK(mask.dtype() == DType::bool_, "masked_select: mask must be a bool tensor, got {}", mask.describe());
  const Shape shape = broadcast_shapes(x.sizes(), mask.sizes(), "masked_select");
  // An index_select of the flattened (broadcast) input, so the gradient comes for free.
  const Tensor dense_mask = mask.expand(shape).contiguous();
  Tensor positions;
  if (mask.device().is_cuda()) EMBER_CUDA_KERNEL("masked_select", positions = cuda::true_positions(dense_mask)); else positions = cpu::true_positions(dense_mask);
  return index_select(x.expand(shape).reshape({-1}), 0, positions);
}

// ---------------------------------------------------------------- one_hot
Tensor one_hot(const Tensor& indices_in, int64_t num_classes) {
  EMBER_PROFILE_OP("one_hot", {indices_in}, {});
  Tensor indices = index_as_int64("one_hot", indices_in, "indices");
  EMBER_CHECK(num_classes >= -1, "one_hot: num_classes must be -1 (infer) or non-negative, got {}", num_classes);
  if (num_classes == -1) {
    EMBER_CHECK(indices.numel() > 0, "one_hot: cannot infer num_classes from the empty tensor {}",
                indices_in.describe());
    int64_t largest = 0;
    if (indices.device().is_cuda()) EMBER_CUDA_KERNEL("one_hot", largest = cuda::max_value(indices)); else largest = cpu::max_value(indices);
    num_classes = largest + 1;
  }
  if (auto bad = first_outside("one_hot", indices, 0, num_classes))
    EMBER_FAIL("one_hot: class index {} is out of range for num_classes {}", *bad, num_classes);
  Shape shape = indices.sizes();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, like(indices, DType::i64));
  if (indices.device().is_cuda()) EMBER_CUDA_KERNEL("one_hot", cuda::one_hot(out, indices)); else cpu::one_hot(out, indices);
  return out;
}

Tensor scatter_grad_along_dim(const Tensor& grad, const Tensor& index, int64_t dim, const Shape& shape) {
  if (shape.empty()) return grad.reshape(shape);
  return scatter_add(zeros(shape, TensorOptions(grad.dtype()).device(grad.device())), dim, index, grad);
}

}  // namespace ember
