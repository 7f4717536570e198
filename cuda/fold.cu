// unfold / fold kernels (launchers declared in cuda/fold_launch.h): one thread per column-matrix
// element for unfold, one per image pixel for fold (a gather over the taps that cover it, so
// deterministic and atomic-free). CPU twin: ops/cpu/fold.cpp.
#include "cuda/fold_launch.h"
#include "cuda/movement.cuh"

namespace ember::cuda {

namespace {

template <class T> __global__ void unfold_kernel(T* cols, const T* x, int64_t batch, PatchShape g) {
  const int64_t L = g.out_h * g.out_w, rows = g.channels * g.kernel_h * g.kernel_w;
  const int64_t total = batch * rows * L;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    const int64_t l = t % L, row = (t / L) % rows, n = t / (L * rows);
    const int64_t kj = row % g.kernel_w, ki = (row / g.kernel_w) % g.kernel_h, c = row / (g.kernel_w * g.kernel_h);
    const int64_t ih = (l / g.out_w) * g.stride_h - g.pad_h + ki * g.dilation_h;
    const int64_t iw = (l % g.out_w) * g.stride_w - g.pad_w + kj * g.dilation_w;
    const bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
    cols[t] = inside ? x[((n * g.channels + c) * g.in_h + ih) * g.in_w + iw] : T(0);
  }
}

// The output position o with o * stride - pad + tap * dilation == i, or -1 when there is none.
__device__ __forceinline__ int64_t source_of(int64_t i, int64_t tap, int64_t stride, int64_t pad, int64_t dilation,
                                            int64_t out_size) {
  const int64_t scaled = i + pad - tap * dilation;
  if (scaled < 0 || scaled % stride != 0) return -1;
  const int64_t o = scaled / stride;
  return o < out_size ? o : -1;
}

template <class T> __global__ void fold_kernel(T* out, const T* cols, int64_t batch, PatchShape g) {
  const int64_t L = g.out_h * g.out_w, rows = g.channels * g.kernel_h * g.kernel_w;
  const int64_t total = batch * g.channels * g.in_h * g.in_w;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    const int64_t iw = t % g.in_w, ih = (t / g.in_w) % g.in_h, c = (t / (g.in_w * g.in_h)) % g.channels;
    const int64_t n = t / (g.in_w * g.in_h * g.channels);
    const T* image_cols = cols + n * rows * L;
    T sum = 0;
    for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
      const int64_t oh = source_of(ih, ki, g.stride_h, g.pad_h, g.dilation_h, g.out_h);
      if (oh < 0) continue;
      for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
        const int64_t ow = source_of(iw, kj, g.stride_w, g.pad_w, g.dilation_w, g.out_w);
        if (ow < 0) continue;
        sum += image_cols[((c * g.kernel_h + ki) * g.kernel_w + kj) * L + oh * g.out_w + ow];
      }
    }
    out[t] = sum;
  }
}

}  // namespace

void unfold_images(void* cols, const void* x, ScalarType type, int64_t batch, const PatchShape& g, Stream stream) {
  const int64_t total = batch * g.channels * g.kernel_h * g.kernel_w * g.out_h * g.out_w;
  if (total == 0) return;
  dispatch_cpu_floating(type, "unfold", [&]<class T>() {
    unfold_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(static_cast<T*>(cols), static_cast<const T*>(x),
                                                                      batch, g);
  });
  EMBER_CUDA_LAUNCH_CHECK("unfold");
}

void fold_images(void* out, const void* cols, ScalarType type, int64_t batch, const PatchShape& g, Stream stream) {
  const int64_t total = batch * g.channels * g.in_h * g.in_w;
  if (total == 0) return;
  dispatch_cpu_floating(type, "fold", [&]<class T>() {
    fold_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(static_cast<T*>(out), static_cast<const T*>(cols),
                                                                    batch, g);
  });
  EMBER_CUDA_LAUNCH_CHECK("fold");
}

}  // namespace ember::cuda
