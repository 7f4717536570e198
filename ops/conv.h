// Convolutions: conv1d, conv2d (stride, padding as ints or "same"/"valid", dilation, groups,
// depthwise), conv_transpose2d, and the weight-gradient op their backwards share.
// Twins: ops/cpu/conv.cpp (kernels), autograd/derivatives/matmul.md (formulas).
#pragma once
#include <concepts>
#include <string>

#include "engine/tensor.h"

namespace ember {

// A (height, width) pair that a single int also converts to, like PyTorch's `int or tuple`.
struct Size2 {
  int64_t h, w;
  Size2(int64_t both) : h(both), w(both) {}  // NOLINT: implicit on purpose
  Size2(int64_t height, int64_t width) : h(height), w(width) {}
};

// Explicit zero padding (an int or a pair), or "same" (output size = input size; stride 1 only;
// an odd total goes to the bottom/right, as in PyTorch) or "valid" (no padding).
struct ConvPadding {
  std::string mode;  // "" for explicit sizes
  Size2 size{0};
  // A template so that a literal 0 picks this, not the const char* constructor.
  template <std::integral I>
  ConvPadding(I both) : size(static_cast<int64_t>(both)) {}  // NOLINT: implicit on purpose
  ConvPadding(int64_t height, int64_t width) : size(height, width) {}
  ConvPadding(const char* name) : mode(name) {}  // NOLINT
  ConvPadding(std::string name) : mode(std::move(name)) {}  // NOLINT
};

// x (N, C_in, H, W) or unbatched (C_in, H, W); weight (C_out, C_in / groups, kh, kw); bias (C_out).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = 1,
              ConvPadding padding = 0, Size2 dilation = 1, int64_t groups = 1);
// x (N, C_in, L) or (C_in, L); weight (C_out, C_in / groups, k). Runs conv2d on a height-1 image.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), int64_t stride = 1,
              ConvPadding padding = 0, int64_t dilation = 1, int64_t groups = 1);
// The adjoint of conv2d: x (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out / groups, kh, kw);
// output size (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = 1,
                        Size2 padding = 0, Size2 output_padding = 0, int64_t groups = 1, Size2 dilation = 1);

// The weight gradient of conv2d(x, w) for output gradient grad_out, for a kernel of
// `kernel_size`: (C_out, C_in / groups, kh, kw). Differentiable (its backward is conv2d and
// conv_transpose2d), which is what makes conv double backward work. padding is explicit here.
Tensor conv2d_weight_backward(const Tensor& x, const Tensor& grad_out, Size2 kernel_size, Size2 stride,
                              Size2 padding, Size2 dilation, int64_t groups);

}  // namespace ember
