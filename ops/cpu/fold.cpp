// im2col / col2im kernels (one image) and their batched drivers for unfold / fold.
// Twins: ops/cpu/fold.h (geometry), ops/fold.cpp (API + backward), ops/cpu/conv.cpp (user).
#include "ops/cpu/fold.h"

#include <algorithm>
#include <cstring>

#include "engine/dispatch.h"
#include "engine/parallel.h"

namespace ember::cpu {

template <class T>
void im2col(const T* x, T* col, const PatchGeometry& g, int64_t ld) {
  // x: (C, H, W) -> col: (C, kh, kw, out_h, out_w)
  // With unit strides and out_w == in_w ('same' padding), consecutive output rows read consecutive
  // input rows, so a tap's whole column row is one shifted copy of the plane: one memcpy, then the
  // few columns that wrapped in from a neighbouring row are zeroed. Otherwise row by row.
  const int64_t L = g.locations();
  if (ld == 0) ld = L;
  const bool contiguous_rows = g.stride_h == 1 && g.stride_w == 1 && g.in_w == g.out_w;
  for (int64_t c = 0; c < g.channels; ++c) {
    const T* plane = x + c * g.in_h * g.in_w;
    for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
      const ValidRange rows = valid_outputs(g.out_h, g.in_h, g.stride_h, g.pad_h, ki * g.dilation_h);
      for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
        T* row = col + ((c * g.kernel_h + ki) * g.kernel_w + kj) * ld;
        const ValidRange cols = valid_outputs(g.out_w, g.in_w, g.stride_w, g.pad_w, kj * g.dilation_w);
        const int64_t shift = kj * g.dilation_w - g.pad_w;
        if (rows.first >= rows.last || cols.first >= cols.last) {
          std::fill(row, row + L, T(0));
          continue;
        }
        std::fill(row, row + rows.first * g.out_w, T(0));
        std::fill(row + rows.last * g.out_w, row + L, T(0));
        if (contiguous_rows) {
          const int64_t begin = rows.first * g.out_w + cols.first, end = (rows.last - 1) * g.out_w + cols.last;
          const int64_t ih = rows.first - g.pad_h + ki * g.dilation_h;
          std::memcpy(row + begin, plane + ih * g.in_w + cols.first + shift, sizeof(T) * (end - begin));
          for (int64_t oh = rows.first; oh < rows.last; ++oh) {
            T* out = row + oh * g.out_w;
            std::fill(out, out + cols.first, T(0));
            std::fill(out + cols.last, out + g.out_w, T(0));
          }
          continue;
        }
        for (int64_t oh = rows.first; oh < rows.last; ++oh) {
          T* out = row + oh * g.out_w;
          const T* in = plane + (oh * g.stride_h - g.pad_h + ki * g.dilation_h) * g.in_w;
          std::fill(out, out + cols.first, T(0));
          if (g.stride_w == 1) {
            std::memcpy(out + cols.first, in + cols.first + shift, sizeof(T) * (cols.last - cols.first));
          } else {
            for (int64_t ow = cols.first; ow < cols.last; ++ow) out[ow] = in[ow * g.stride_w + shift];
          }
          std::fill(out + cols.last, out + g.out_w, T(0));
        }
      }
    }
  }
}

template <class T>
void col2im_add(const T* col, T* x, const PatchGeometry& g, int64_t ld) {
  // col: (C, kh, kw, out_h, out_w) -> x: (C, H, W), summing overlapping taps.
  if (ld == 0) ld = g.locations();
  for (int64_t c = 0; c < g.channels; ++c) {
    T* plane = x + c * g.in_h * g.in_w;
    for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
      for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
        const T* row = col + ((c * g.kernel_h + ki) * g.kernel_w + kj) * ld;
        const ValidRange cols = valid_outputs(g.out_w, g.in_w, g.stride_w, g.pad_w, kj * g.dilation_w);
        const int64_t shift = kj * g.dilation_w - g.pad_w;
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dilation_h;
          if (ih < 0 || ih >= g.in_h) continue;
          const T* in = row + oh * g.out_w;
          T* out = plane + ih * g.in_w;
          if (g.stride_w == 1) {
            for (int64_t ow = cols.first; ow < cols.last; ++ow) out[ow + shift] += in[ow];
          } else {
            for (int64_t ow = cols.first; ow < cols.last; ++ow) out[ow * g.stride_w + shift] += in[ow];
          }
        }
      }
    }
  }
}

void unfold_images(const Tensor& cols, const Tensor& x, const PatchGeometry& g) {
  const int64_t batch = x.size(0);
  dispatch_floating(x.dtype(), "unfold", [&]<class T>() {
    const T* px = x.data_ptr<T>();
    T* pc = cols.data_ptr<T>();
    const int64_t image = g.channels * g.in_h * g.in_w, patches = g.patch_size() * g.locations();
    parallel_for(batch, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(patches, 1)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t n = begin; n < end; ++n) im2col(px + n * image, pc + n * patches, g);
                 });
  });
}

void fold_images(const Tensor& out, const Tensor& cols, const PatchGeometry& g) {
  const int64_t batch = out.size(0);
  dispatch_floating(out.dtype(), "fold", [&]<class T>() {
    const T* pc = cols.data_ptr<T>();
    T* po = out.data_ptr<T>();
    const int64_t image = g.channels * g.in_h * g.in_w, patches = g.patch_size() * g.locations();
    parallel_for(batch, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(patches, 1)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t n = begin; n < end; ++n) {
                     std::fill(po + n * image, po + (n + 1) * image, T(0));
                     col2im_add(pc + n * patches, po + n * image, g);
                   }
                 });
  });
}

template void im2col<float>(const float*, float*, const PatchGeometry&, int64_t);
template void im2col<double>(const double*, double*, const PatchGeometry&, int64_t);
template void col2im_add<float>(const float*, float*, const PatchGeometry&, int64_t);
template void col2im_add<double>(const double*, double*, const PatchGeometry&, int64_t);

}  // namespace ember::cpu
