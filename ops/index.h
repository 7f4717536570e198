// Indexing ops: gather/scatter, index_select/index_add, masked_fill/masked_select, one_hot.
// Twins: ops/cpu/index.cpp (kernels), autograd/derivatives/shape.md (formulas).
//
// Index tensors are int64 (int32 is accepted and widened). An index i along a dim of size n
// must satisfy -n <= i < n (negatives count from the end); anything else is an ember::Error
// naming the op, the index and the size, raised before anything is written.
#pragma once
#include "engine/tensor.h"

namespace ember {

// out[i][j][k] = x[i][index[i][j][k]][k] (dim = 1). index has x's number of dims and is no
// larger than x in the other dims; out has index's shape.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// A copy of x with x[i][index[i][j][k]][k] = src[i][j][k] (dim = 1). src has x's dtype and is at
// least index's shape. With duplicate indices the last one along `dim` wins.
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, double value);
// As scatter, but adds: duplicates accumulate (in a fixed, thread-count independent order).
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);

// The slices of x at `index` (0-d or 1-d) along dim; that dim becomes index.numel() long.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// A copy of x with alpha * src[..., j, ...] added to x[..., index[j], ...] along dim.
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, double alpha = 1.0);

// x with `value` where mask (bool, broadcastable to x) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
// The elements of x (broadcast with mask) where mask is true, as a 1-d tensor in row-major order.
Tensor masked_select(const Tensor& x, const Tensor& mask);

// int64 tensor of shape (..., num_classes) with a 1 at each index; num_classes -1 = max + 1.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);

// zeros(shape) with `grad` added at `index` along `dim` (repeats add up): the backward of every op
// that picks values by index along a dim (max/min with indices, sort, topk). Built on scatter_add,
// so it is differentiable (its backward is a gather). A 0-d shape takes the gradient as it is.
Tensor scatter_grad_along_dim(const Tensor& grad, const Tensor& index, int64_t dim, const Shape& shape);

}  // namespace ember
