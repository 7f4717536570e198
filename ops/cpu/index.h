// CPU kernels for ops/index.cpp. Index tensors arrive as contiguous int64 and already range
// checked (negative indices in [-size, 0) count from the end); outputs are contiguous.
#pragma once
#include <optional>

#include "engine/tensor.h"

namespace ember::cpu {

// The first value of `index` (contiguous int64) outside [low, high), if any.
std::optional<int64_t> first_outside(const Tensor& index, int64_t low, int64_t high);
// The largest value of a non-empty contiguous int64 tensor.
int64_t max_value(const Tensor& index);
// Positions (row-major, int64 1-D) of the true elements of a contiguous bool tensor.
Tensor true_positions(const Tensor& mask);

// out[..., j, ...] = x[..., index[..., j, ...], ...] along dim; out has index's shape.
void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);
// out[..., index[..., j, ...], ...] = src[..., j, ...] (or += when accumulate); out already holds
// self. Duplicate indices: the last one along `dim` wins (assign) / all are summed in order (add).
void scatter(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, bool accumulate);
void scatter_fill(const Tensor& out, int64_t dim, const Tensor& index, double value);
// out: (A, J, B) = x: (A, N, B) rows picked by index (J); x contiguous.
void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);
// out: (A, N, B) += alpha * src: (A, J, B) into rows index (J); out and src contiguous.
void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, double alpha);
// out: (..., C) int64 zeros; sets out[..., indices[...]] = 1.
void one_hot(const Tensor& out, const Tensor& indices);

}  // namespace ember::cpu
