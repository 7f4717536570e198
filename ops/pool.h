// Pooling: max/avg pool 1d/2d, adaptive avg/max pool, and the differentiable helper ops their
// backwards are made of (so double backward works).
// Twins: ops/pool.cpp (checks, dispatch, backward), ops/cpu/pool.cpp (kernels),
// autograd/derivatives/norm.md (formulas).
//
// Layouts follow PyTorch: 1d ops take (N, C, L) or unbatched (C, L); 2d ops take (N, C, H, W) or
// unbatched (C, H, W). Indices returned by the *_with_indices ops are int64 positions in the
// flattened input plane (L, or H*W), exactly like torch.nn.functional.max_pool2d(return_indices=True).
#pragma once
#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace ember {

// A 2d pooling size argument that is either one int (used for both axes) or {h, w}, as in
// PyTorch. An empty one (the default for `stride`) means "same as kernel_size".
struct Pool2dArg {
  std::vector<int64_t> values;
  Pool2dArg() = default;
  Pool2dArg(int64_t v) : values{v} {}                         // NOLINT: implicit on purpose
  Pool2dArg(std::initializer_list<int64_t> v) : values(v) {}  // NOLINT
  Pool2dArg(const std::vector<int64_t>& v) : values(v) {}     // NOLINT
  bool empty() const { return values.empty(); }
};

// ---- max pooling (stride defaults to kernel_size) ----
Tensor max_pool1d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride = std::nullopt,
                  int64_t padding = 0, int64_t dilation = 1, bool ceil_mode = false);
std::pair<Tensor, Tensor> max_pool1d_with_indices(const Tensor& x, int64_t kernel_size,
                                                  std::optional<int64_t> stride = std::nullopt, int64_t padding = 0,
                                                  int64_t dilation = 1, bool ceil_mode = false);
Tensor max_pool2d(const Tensor& x, Pool2dArg kernel_size, Pool2dArg stride = {}, Pool2dArg padding = 0,
                  Pool2dArg dilation = 1, bool ceil_mode = false);
// (values, int64 indices into the flattened H*W plane)
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Pool2dArg kernel_size, Pool2dArg stride = {},
                                                  Pool2dArg padding = 0, Pool2dArg dilation = 1, bool ceil_mode = false);

// ---- average pooling ----
Tensor avg_pool1d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride = std::nullopt,
                  int64_t padding = 0, bool ceil_mode = false, bool count_include_pad = true);
Tensor avg_pool2d(const Tensor& x, Pool2dArg kernel_size, Pool2dArg stride = {}, Pool2dArg padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt);

// ---- adaptive pooling: window o covers [floor(o*I/O), ceil((o+1)*I/O)) ----
Tensor adaptive_avg_pool1d(const Tensor& x, int64_t output_size);
Tensor adaptive_avg_pool2d(const Tensor& x, Pool2dArg output_size);
Tensor adaptive_max_pool1d(const Tensor& x, int64_t output_size);
std::pair<Tensor, Tensor> adaptive_max_pool1d_with_indices(const Tensor& x, int64_t output_size);
Tensor adaptive_max_pool2d(const Tensor& x, Pool2dArg output_size);
std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& x, Pool2dArg output_size);

// ---- backward helpers (differentiable, each other's adjoint) ----
// The last `plane_dims` dims of a tensor form one plane; the dims before them must agree.
// zeros(input_shape) with grad[..., q] added at plane position indices[..., q]: max pool's backward.
Tensor max_pool_scatter(const Tensor& grad, const Tensor& indices, const Shape& input_shape, int64_t plane_dims);
// x_plane[..., indices[..., q]]: the backward of max_pool_scatter (and vice versa).
Tensor max_pool_gather(const Tensor& x, const Tensor& indices, int64_t plane_dims);
// The linear adjoint of avg_pool2d (its backward); its own backward is avg_pool2d again.
Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, Pool2dArg kernel_size, Pool2dArg stride = {},
                           Pool2dArg padding = 0, bool ceil_mode = false, bool count_include_pad = true,
                           std::optional<int64_t> divisor_override = std::nullopt);
// The linear adjoint of adaptive_avg_pool2d.
Tensor adaptive_avg_pool2d_backward(const Tensor& grad, const Shape& input_shape);

}  // namespace ember
