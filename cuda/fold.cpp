// cuda/fold.h: Tensors and PatchGeometry -> the launchers of cuda/fold.cu.
#include "cuda/fold.h"

#include "cuda/fold_launch.h"
#include "cuda/runtime.h"
#include "cuda/tensor_args.h"

namespace ember::cuda {

namespace {

PatchShape shape_of(const PatchGeometry& g) {
  return {g.channels, g.in_h,     g.in_w,  g.kernel_h, g.kernel_w,   g.out_h,     g.out_w,
          g.stride_h, g.stride_w, g.pad_h, g.pad_w,    g.dilation_h, g.dilation_w};
}

}  // namespace

void unfold_images(const Tensor& cols, const Tensor& x, const PatchGeometry& g) {
  DeviceGuard guard(common_cuda_device("unfold", {&cols, &x}));
  cuda::unfold_images(cols.raw_data(), x.raw_data(), scalar_type(x.dtype()), x.size(0), shape_of(g), stream_of(x));
}

void fold_images(const Tensor& out, const Tensor& cols, const PatchGeometry& g) {
  DeviceGuard guard(common_cuda_device("fold", {&out, &cols}));
  cuda::fold_images(out.raw_data(), cols.raw_data(), scalar_type(cols.dtype()), out.size(0), shape_of(g),
                    stream_of(cols));
}

}  // namespace ember::cuda
