// Launchers of cuda/fold.cu: im2col (unfold) and col2im (fold) over a batch of images. Raw
// pointers and a POD geometry (Note [CUDA kernel boundary] in cuda/layout.h); Tensor level:
// cuda/fold.h. The geometry mirrors ops/cpu/fold.h's PatchGeometry.
#pragma once
#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

struct PatchShape {
  int64_t channels = 1, in_h = 1, in_w = 1, kernel_h = 1, kernel_w = 1, out_h = 1, out_w = 1;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
};

// cols: (N, C*kh*kw, out_h*out_w) from x: (N, C, H, W), both contiguous; zeros outside the image.
void unfold_images(void* cols, const void* x, ScalarType type, int64_t batch, const PatchShape& g, Stream stream);
// out: (N, C, H, W) overwritten with the sum of the overlapping patches of cols; one thread per
// pixel, taps in (ki, kj) order (the CPU's order), no atomics.
void fold_images(void* out, const void* cols, ScalarType type, int64_t batch, const PatchShape& g, Stream stream);

}  // namespace ember::cuda
