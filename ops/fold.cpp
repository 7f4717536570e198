// unfold / fold: API, argument checks, dispatch and backward. Each is the other's backward.
// Kernels: ops/cpu/fold.cpp, cuda/fold.h (Note [CUDA dispatch]). Formulas: autograd/derivatives/matmul.md.
#include "ops/fold.h"

#include "autograd/function.h"
#include "cuda/fold.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/fold.h"
#include "ops/flops.h"

namespace ember {

namespace {

void check_window(const char* op, Size2 kernel_size, Size2 dilation, Size2 padding, Size2 stride) {
  EMBER_CHECK(kernel_size.h >= 1 && kernel_size.w >= 1, "{}: kernel_size must be positive, got ({}, {})", op,
              kernel_size.h, kernel_size.w);
  EMBER_CHECK(dilation.h >= 1 && dilation.w >= 1, "{}: dilation must be positive, got ({}, {})", op, dilation.h,
              dilation.w);
  EMBER_CHECK(stride.h >= 1 && stride.w >= 1, "{}: stride must be positive, got ({}, {})", op, stride.h, stride.w);
  EMBER_CHECK(padding.h >= 0 && padding.w >= 0, "{}: padding must be non-negative, got ({}, {})", op, padding.h,
              padding.w);
}

// The block grid over an (H, W) image; errors when not even one block fits.
cpu::PatchGeometry window(const char* op, int64_t channels, int64_t in_h, int64_t in_w, Size2 kernel_size,
                          Size2 dilation, Size2 padding, Size2 stride) {
  cpu::PatchGeometry g{.channels = channels, .in_h = in_h, .in_w = in_w, .kernel_h = kernel_size.h,
                       .kernel_w = kernel_size.w, .stride_h = stride.h, .stride_w = stride.w, .pad_h = padding.h,
                       .pad_w = padding.w, .dilation_h = dilation.h, .dilation_w = dilation.w};
  const int64_t span_h = dilation.h * (kernel_size.h - 1) + 1, span_w = dilation.w * (kernel_size.w - 1) + 1;
  const int64_t padded_h = in_h + 2 * padding.h, padded_w = in_w + 2 * padding.w;
  EMBER_CHECK(padded_h >= span_h && padded_w >= span_w,
              "{}: image {}x{} (padded to {}x{}) is smaller than the dilated kernel {}x{}", op, in_h, in_w, padded_h,
              padded_w, span_h, span_w);
  g.out_h = (padded_h - span_h) / stride.h + 1;
  g.out_w = (padded_w - span_w) / stride.w + 1;
  return g;
}

}  // namespace

Tensor unfold(const Tensor& x, Size2 kernel_size, Size2 dilation, Size2 padding, Size2 stride) {
  EMBER_PROFILE_OP("unfold", {x}, {});
  check_defined("unfold", x, "input");
  EMBER_CHECK(x.dim() == 3 || x.dim() == 4, "unfold: input must be (N, C, H, W) or (C, H, W), got {}", x.describe());
  EMBER_CHECK(is_floating(x.dtype()), "unfold: expected a floating-point input, got {}", x.describe());
  check_window("unfold", kernel_size, dilation, padding, stride);
  if (x.dim() == 3) return unfold(x.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0);
  const cpu::PatchGeometry g =
      window("unfold", x.size(1), x.size(2), x.size(3), kernel_size, dilation, padding, stride);
  Tensor cols = empty({x.size(0), g.patch_size(), g.locations()}, TensorOptions(x.dtype()).device(x.device()));
  const Tensor input = x.contiguous();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL("unfold", cuda::unfold_images(cols, input, g)); else cpu::unfold_images(cols, input, g);
  const Size2 image{x.size(2), x.size(3)};
  record_backward("unfold", {x}, {cols}, {},
                  [image, kernel_size, dilation, padding, stride](BackwardContext& ctx) -> TensorList {
                    return {fold(ctx.grad(0), image, kernel_size, dilation, padding, stride)};
                  });
  return cols;
}

Tensor fold(const Tensor& cols, Size2 output_size, Size2 kernel_size, Size2 dilation, Size2 padding, Size2 stride) {
  EMBER_PROFILE_OP("fold", {cols}, flops::same_shape(cols, 1));
  check_defined("fold", cols, "input");
  EMBER_CHECK(cols.dim() == 2 || cols.dim() == 3, "fold: input must be (N, C*kh*kw, L) or (C*kh*kw, L), got {}",
              cols.describe());
  EMBER_CHECK(is_floating(cols.dtype()), "fold: expected a floating-point input, got {}", cols.describe());
  check_window("fold", kernel_size, dilation, padding, stride);
  EMBER_CHECK(output_size.h >= 1 && output_size.w >= 1, "fold: output_size must be positive, got ({}, {})",
              output_size.h, output_size.w);
  if (cols.dim() == 2) {
    return fold(cols.unsqueeze(0), output_size, kernel_size, dilation, padding, stride).squeeze(0);
  }
  const int64_t kernel_numel = kernel_size.h * kernel_size.w;
  EMBER_CHECK(cols.size(1) % kernel_numel == 0, "fold: {} rows of input {} are not divisible by the kernel's {}x{}",
              cols.size(1), cols.describe(), kernel_size.h, kernel_size.w);
  const cpu::PatchGeometry g = window("fold", cols.size(1) / kernel_numel, output_size.h, output_size.w, kernel_size,
                                      dilation, padding, stride);
  EMBER_CHECK(cols.size(2) == g.locations(), "fold: input {} has {} blocks but output {}x{} holds {} ({}x{})",
              cols.describe(), cols.size(2), output_size.h, output_size.w, g.locations(), g.out_h, g.out_w);
  Tensor out = empty({cols.size(0), g.channels, output_size.h, output_size.w},
                     TensorOptions(cols.dtype()).device(cols.device()));
  const Tensor input = cols.contiguous();
  if (cols.device().is_cuda()) EMBER_CUDA_KERNEL("fold", cuda::fold_images(out, input, g)); else cpu::fold_images(out, input, g);
  record_backward("fold", {cols}, {out}, {}, [kernel_size, dilation, padding, stride](BackwardContext& ctx) -> TensorList {
    return {unfold(ctx.grad(0), kernel_size, dilation, padding, stride)};
  });
  return out;
}

}  // namespace ember
