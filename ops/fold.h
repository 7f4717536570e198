// unfold / fold (im2col / col2im), adjoints of each other, both differentiable.
// Twins: ops/cpu/fold.cpp (kernels), autograd/derivatives/matmul.md (formulas).
#pragma once
#include "engine/tensor.h"
#include "ops/conv.h"  // Size2

namespace ember {

// x (N, C, H, W) or (C, H, W) -> (N, C * kh * kw, L) or (C * kh * kw, L): every sliding block as
// a column, L = out_h * out_w blocks, as torch.nn.functional.unfold.
Tensor unfold(const Tensor& x, Size2 kernel_size, Size2 dilation = 1, Size2 padding = 0, Size2 stride = 1);
// cols (N, C * kh * kw, L) or (C * kh * kw, L) -> (N, C, H, W) or (C, H, W) with (H, W) =
// output_size, summing overlapping blocks, as torch.nn.functional.fold.
Tensor fold(const Tensor& cols, Size2 output_size, Size2 kernel_size, Size2 dilation = 1, Size2 padding = 0,
            Size2 stride = 1);

}  // namespace ember
