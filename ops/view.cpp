// View ops: new geometry over the same storage (no copy), each with its backward.
// Note [Version counter] (engine/tensor.h): views share their base's counter via make_view.
#include "ops/view.h"

#include <algorithm>
#include <limits>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "engine/copy.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/elementwise_util.h"
#include "ops/reduce.h"

namespace ember {

namespace {

// Resolves a single -1 in `sizes` against numel; errors name `op`.
Shape infer_size(const Shape& sizes, int64_t numel, const char* op, const Tensor& x) {
  Shape out = sizes;
  int64_t known = 1;
  int64_t infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      EMBER_CHECK(infer < 0, "{}: only one dimension can be inferred (-1) in shape {}", op, shape_str(sizes));
      infer = static_cast<int64_t>(i);
    } else {
      EMBER_CHECK(out[i] >= 0, "{}: invalid size {} in shape {}", op, out[i], shape_str(sizes));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    EMBER_CHECK(known != 0 && numel % known == 0, "{}: shape {} is invalid for input {} ({} elements)", op,
                shape_str(sizes), x.describe(), numel);
    out[infer] = numel / known;
  }
  EMBER_CHECK(numel_of(out) == numel, "{}: shape {} is invalid for input {} ({} elements)", op,
              shape_str(sizes), x.describe(), numel);
  return out;
}

// Strides for viewing (sizes, strides) as new_sizes without a copy, or empty if impossible.
// Walks chunks of dims that are contiguous with each other (as PyTorch's computeStride does).
std::optional<Shape> view_strides(const Shape& sizes, const Shape& strides, const Shape& new_sizes) {
  if (numel_of(sizes) == 0 || sizes.empty()) return contiguous_strides(new_sizes);
  Shape new_strides(new_sizes.size());
  int64_t view_d = static_cast<int64_t>(new_sizes.size()) - 1;
  int64_t chunk_base_stride = strides.back();
  int64_t tensor_numel = 1;
  int64_t view_numel = 1;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= sizes[d];
    if (d == 0 || (sizes[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[view_d] == 1)) {
        new_strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_sizes[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

Tensor record_view(const char* op, const Tensor& x, Tensor out, BackwardFn fn) {
  record_backward(op, {x}, {out}, {}, std::move(fn));
  return out;
}

}  // namespace

Tensor Tensor::view(const Shape& sizes_in) const {
  const Shape new_sizes = infer_size(sizes_in, numel(), "view", *this);
  auto strides_or = view_strides(sizes(), strides(), new_sizes);
  EMBER_CHECK(strides_or.has_value(),
              "view: shape {} is not compatible with input {} and strides {} (use reshape, which copies)",
              shape_str(new_sizes), describe(), shape_str(strides()));
  Tensor out = make_view(*this, new_sizes, *strides_or, offset());
  return record_view("view", *this, out, [](BackwardContext& ctx) -> TensorList {
    return {ctx.grad(0).reshape(ctx.input_shape(0))};
  });
}

Tensor Tensor::reshape(const Shape& sizes_in) const {
  const Shape new_sizes = infer_size(sizes_in, numel(), "reshape", *this);
  if (view_strides(sizes(), strides(), new_sizes)) return view(new_sizes);
  // Not viewable, so contiguous() copies: the result is a fresh tensor, not a view of `this`
  // (as in PyTorch), and in-place ops on it are allowed inside graphs.
  Tensor out = contiguous().view(new_sizes);
  out.impl().is_view = false;
  return out;
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  EMBER_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: {} dims given for a tensor of {} dims ({})",
              dims.size(), dim(), describe());
  Shape new_sizes(dim()), new_strides(dim());
  std::vector<int64_t> inverse(dim(), -1);
  for (int64_t i = 0; i < dim(); ++i) {
    const int64_t d = wrap_dim(dims[i], dim(), "permute");
    EMBER_CHECK(inverse[d] < 0, "permute: dimension {} repeats in the permutation", d);
    inverse[d] = i;
    new_sizes[i] = size(d);
    new_strides[i] = stride(d);
  }
  Tensor out = make_view(*this, new_sizes, new_strides, offset());
  return record_view("permute", *this, out, [inverse](BackwardContext& ctx) -> TensorList {
    return {ctx.grad(0).permute(inverse)};
  });
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  std::vector<int64_t> perm(dim());
  for (int64_t i = 0; i < dim(); ++i) perm[i] = i;
  if (dim() == 0) return permute(perm);
  std::swap(perm[wrap_dim(d0, dim(), "transpose")], perm[wrap_dim(d1, dim(), "transpose")]);
  return permute(perm);
}

Tensor Tensor::t() const {
  EMBER_CHECK(dim() <= 2, "t: expects a tensor with <= 2 dims, got {}", describe());
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::expand(const Shape& sizes_in) const {
  const int64_t n = static_cast<int64_t>(sizes_in.size());
  EMBER_CHECK(n >= dim(), "expand: target shape {} has fewer dims than input {}", shape_str(sizes_in), describe());
  Shape new_sizes(n), new_strides(n);
  const int64_t lead = n - dim();
  for (int64_t i = n - 1; i >= 0; --i) {
    const int64_t target = sizes_in[i];
    if (i < lead) {
      EMBER_CHECK(target >= 0, "expand: new leading dim {} cannot be -1 or negative (shape {})", i,
                  shape_str(sizes_in));
      new_sizes[i] = target;
      new_strides[i] = 0;
      continue;
    }
    const int64_t own = size(i - lead);
    if (target == -1 || target == own) {
      new_sizes[i] = own;
      new_strides[i] = stride(i - lead);
    } else {
      EMBER_CHECK(own == 1 && target >= 0, "expand: cannot expand {} to {} (dim {}: {} -> {})", describe(),
                  shape_str(sizes_in), i, own, target);
      new_sizes[i] = target;
      new_strides[i] = 0;
    }
  }
  if (new_sizes == sizes()) return *this;
  Tensor out = make_view(*this, new_sizes, new_strides, offset());
  return record_view("expand", *this, out, [](BackwardContext& ctx) -> TensorList {
    return {sum_to(ctx.grad(0), ctx.input_shape(0))};
  });
}

Tensor Tensor::squeeze() const {
  Shape new_sizes, new_strides;
  for (int64_t d = 0; d < dim(); ++d) {
    if (size(d) == 1) continue;
    new_sizes.push_back(size(d));
    new_strides.push_back(stride(d));
  }
  Tensor out = make_view(*this, new_sizes, new_strides, offset());
  return record_view("squeeze", *this, out, [](BackwardContext& ctx) -> TensorList {
    return {ctx.grad(0).reshape(ctx.input_shape(0))};
  });
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d, dim(), "squeeze");
  if (dim() == 0 || size(d) != 1) return *this;
  Shape new_sizes = sizes(), new_strides = strides();
  new_sizes.erase(new_sizes.begin() + d);
  new_strides.erase(new_strides.begin() + d);
  Tensor out = make_view(*this, new_sizes, new_strides, offset());
  return record_view("squeeze", *this, out, [d](BackwardContext& ctx) -> TensorList {
    return {ctx.grad(0).unsqueeze(d)};
  });
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape new_sizes = sizes(), new_strides = strides();
  const int64_t stride_here = d < dim() ? stride(d) * size(d) : 1;
  new_sizes.insert(new_sizes.begin() + d, 1);
  new_strides.insert(new_strides.begin() + d, stride_here);
  Tensor out = make_view(*this, new_sizes, new_strides, offset());
  return record_view("unsqueeze", *this, out, [d](BackwardContext& ctx) -> TensorList {
    return {ctx.grad(0).squeeze(d)};
  });
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  EMBER_CHECK(dim() > 0, "slice: cannot slice a 0-d tensor");
  d = wrap_dim(d, dim(), "slice");
  EMBER_CHECK(step > 0, "slice: step must be positive, got {}", step);
  const int64_t n = size(d);
  // Python semantics: negative indices count from the end; out-of-range bounds clamp.
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape new_sizes = sizes(), new_strides = strides();
  // ceil((end - start) / step) without overflow for huge steps (end >= start after clamping).
  new_sizes[d] = end == start ? 0 : (end - start - 1) / step + 1;
  new_strides[d] = stride(d) * step;
  Tensor out = make_view(*this, new_sizes, new_strides, offset() + start * stride(d));
  return record_view("slice", *this, out, [d, start, end, step](BackwardContext& ctx) -> TensorList {
    return {slice_backward(ctx.grad(0), ctx.input_shape(0), d, start, end, step)};
  });
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  EMBER_CHECK(dim() > 0, "narrow: cannot narrow a 0-d tensor");
  d = wrap_dim(d, dim(), "narrow");
  if (start < 0) start += size(d);
  EMBER_CHECK(start >= 0 && length >= 0 && start + length <= size(d),
              "narrow: start {} + length {} exceeds dim {} of size {} ({})", start, length, d, size(d), describe());
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  EMBER_CHECK(dim() > 0, "select: cannot select from a 0-d tensor");
  d = wrap_dim(d, dim(), "select");
  const int64_t n = size(d);
  EMBER_CHECK(index >= -n && index < n, "select: index {} is out of range for dim {} of size {} ({})", index, d,
              n, describe());
  if (index < 0) index += n;
  Shape new_sizes = sizes(), new_strides = strides();
  new_sizes.erase(new_sizes.begin() + d);
  new_strides.erase(new_strides.begin() + d);
  Tensor out = make_view(*this, new_sizes, new_strides, offset() + index * stride(d));
  return record_view("select", *this, out, [d, index](BackwardContext& ctx) -> TensorList {
    return {select_backward(ctx.grad(0), ctx.input_shape(0), d, index)};
  });
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  start_dim = wrap_dim(start_dim, dim(), "flatten");
  end_dim = wrap_dim(end_dim, dim(), "flatten");
  EMBER_CHECK(start_dim <= end_dim, "flatten: start_dim {} comes after end_dim {}", start_dim, end_dim);
  Shape new_sizes;
  for (int64_t d = 0; d < start_dim; ++d) new_sizes.push_back(size(d));
  int64_t merged = 1;
  for (int64_t d = start_dim; d <= end_dim; ++d) merged *= size(d);
  new_sizes.push_back(merged);
  for (int64_t d = end_dim + 1; d < dim(); ++d) new_sizes.push_back(size(d));
  return reshape(new_sizes);
}

Tensor Tensor::unflatten(int64_t d, const Shape& split_sizes) const {
  d = wrap_dim(d, dim(), "unflatten");
  Shape inner = infer_size(split_sizes, size(d), "unflatten", *this);
  Shape new_sizes(sizes().begin(), sizes().begin() + d);
  new_sizes.insert(new_sizes.end(), inner.begin(), inner.end());
  new_sizes.insert(new_sizes.end(), sizes().begin() + d + 1, sizes().end());
  return reshape(new_sizes);
}

Tensor slice_backward(const Tensor& grad, const Shape& input_shape, int64_t dim, int64_t start, int64_t end,
                      int64_t step) {
  Tensor out = zeros(input_shape, TensorOptions(grad.dtype()).device(grad.device()));
  {
    NoGradGuard no_grad;
    copy_data(out.detach().slice(dim, start, end, step), grad);
  }
  record_backward("slice_backward", {grad}, {out}, {}, [dim, start, end, step](BackwardContext& ctx) -> TensorList {
    return {ctx.grad(0).slice(dim, start, end, step)};
  });
  return out;
}

Tensor select_backward(const Tensor& grad, const Shape& input_shape, int64_t dim, int64_t index) {
  Tensor out = zeros(input_shape, TensorOptions(grad.dtype()).device(grad.device()));
  {
    NoGradGuard no_grad;
    copy_data(out.detach().select(dim, index), grad);
  }
  record_backward("select_backward", {grad}, {out}, {}, [dim, index](BackwardContext& ctx) -> TensorList {
    return {ctx.grad(0).select(dim, index)};
  });
  return out;
}

}  // namespace ember
