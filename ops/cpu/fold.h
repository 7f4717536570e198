// im2col / col2im for one image: the patch-matrix kernels behind unfold/fold (ops/fold.cpp) and
// the GEMM convolutions (ops/cpu/conv.cpp). Implementation: ops/cpu/fold.cpp.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace ember::cpu {

// The sliding-window geometry of one image. Input pixel of output (oh, ow) and tap (ki, kj):
// ih = oh * stride_h - pad_h + ki * dilation_h (likewise iw); outside [0, in_h) it reads zero.
// out_h / out_w are given explicitly so asymmetric ('same') padding and transposed convolutions
// with output_padding use the same kernels.
struct PatchGeometry {
  int64_t channels = 1, in_h = 1, in_w = 1;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t out_h = 1, out_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;

  int64_t patch_size() const { return channels * kernel_h * kernel_w; }  // rows of the column matrix
  int64_t locations() const { return out_h * out_w; }                     // its columns
  // A 1x1 kernel with unit stride and no padding: the column matrix is the image itself.
  bool is_pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0 &&
           out_h == in_h && out_w == in_w;
  }
};

// The output positions o whose input position i = o * stride - pad + tap_offset lies in
// [0, in_size): [first, last). Computed once per row, it keeps the inner loops branch-free.
struct ValidRange {
  int64_t first, last;
};
inline ValidRange valid_outputs(int64_t out_size, int64_t in_size, int64_t stride, int64_t pad, int64_t tap_offset) {
  const int64_t shift = tap_offset - pad;  // i = o * stride + shift
  int64_t first = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
  int64_t last = in_size - shift <= 0 ? 0 : (in_size - shift + stride - 1) / stride;
  first = first < out_size ? first : out_size;
  last = last < first ? first : (last > out_size ? out_size : last);
  return {first, last};
}

// x: (channels, in_h, in_w) contiguous -> col: (channels * kernel_h * kernel_w, out_h * out_w), rows
// `ld` apart (0: out_h * out_w; larger when several images share one column matrix side by side).
template <class T>
void im2col(const T* x, T* col, const PatchGeometry& g, int64_t ld = 0);
// The adjoint: x (channels, in_h, in_w) += col2im(col). x must be initialised by the caller.
template <class T>
void col2im_add(const T* col, T* x, const PatchGeometry& g, int64_t ld = 0);

// Batched over images, parallel over the batch. x: (N, C, H, W) contiguous, cols: (N, C*kh*kw, L).
void unfold_images(const Tensor& cols, const Tensor& x, const PatchGeometry& g);
// out: (N, C, H, W) contiguous, overwritten with the sum of overlapping patches of cols.
void fold_images(const Tensor& out, const Tensor& cols, const PatchGeometry& g);

}  // namespace ember::cpu
