// CPU convolution kernels. General convolutions: im2col + GEMM per (image, group, band of output
// rows; Note [Row bands]), the images spread over threads with single-threaded BLAS (or, for a
// single image, BLAS's own threads).
// Depthwise convolutions (one filter per channel, the large dilated kernels of the papers) use
// direct kernels, where im2col + a (1 x kh*kw) GEMM per channel would be mostly copying.
// Twins: ops/cpu/conv.h, ops/conv.cpp (API + backward), ops/cpu/fold.cpp (im2col / col2im).
#include "ops/cpu/conv.h"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "engine/dispatch.h"
#include "engine/parallel.h"
#include "ops/cpu/matmul.h"

namespace ember::cpu {

namespace {

// Runs body(begin, end) over images: one chunk per thread with single-threaded BLAS when there
// are at least two images worth the threads (multiply-adds per image), else in sequence with
// BLAS threading each GEMM (which it does only when the GEMM is large).
template <class F>
void for_each_image(int64_t batch, int64_t work_per_image, F&& body) {
  if (batch >= 2 && work_per_image * batch >= 64 * kParallelGrain && num_threads() > 1) {
    SingleThreadedBlas single_threaded;
    parallel_for(batch, 1, body);
  } else {
    body(int64_t{0}, batch);
  }
}

template <class T>
void fill_channels(T* out, const T* bias, int64_t channels, int64_t plane) {
  for (int64_t c = 0; c < channels; ++c) std::fill(out + c * plane, out + (c + 1) * plane, bias ? bias[c] : T(0));
}

const void* optional_data(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

// ---------------------------------------------------------------- im2col + GEMM
// Note [Row bands]: the column matrix of a whole image (P x L, 2.4 MB for a 64-channel 32x32 3x3
// layer) overflows the per-core L2, so im2col would write it out to L3 and the GEMM's packing read
// it back. Each image is therefore cut into bands of output rows whose column matrix fits in
// about kBandBytes; a band is a geometry of its own (same input, pad_h shifted), so im2col and
// col2im run unchanged on it, and its GEMM writes (or reads) its columns of the image's (C, L)
// matrix in place, with leading dimension L.
constexpr int64_t kBandBytes = 512 * 1024;

struct RowBands {
  int64_t rows_per_band, count;
};
template <class T>
RowBands row_bands(const PatchGeometry& p) {
  // 1x1 kernels read the image in place: one band, no copy.
  const int64_t row_bytes = static_cast<int64_t>(sizeof(T)) * p.patch_size() * p.out_w;
  const int64_t rows = p.is_pointwise() ? p.out_h
                                        : std::clamp<int64_t>(kBandBytes / std::max<int64_t>(row_bytes, 1), 1,
                                                              std::max<int64_t>(p.out_h, 1));
  return {rows, (p.out_h + rows - 1) / rows};
}

// Output rows [first, first + rows) of p: the same input with the padding moved up by `first` rows.
PatchGeometry band_geometry(const PatchGeometry& p, int64_t first, int64_t rows) {
  PatchGeometry band = p;
  band.out_h = rows;
  band.pad_h = p.pad_h - first * p.stride_h;
  return band;
}

// Runs body(band geometry, column offset into the image's L columns, band columns) over the row
// bands of p.
template <class T, class F>
void for_each_band(const PatchGeometry& p, F&& body) {
  const RowBands bands = row_bands<T>(p);
  for (int64_t b = 0; b < bands.count; ++b) {
    const int64_t first = b * bands.rows_per_band, rows = std::min(bands.rows_per_band, p.out_h - first);
    body(band_geometry(p, first, rows), first * p.out_w, rows * p.out_w);
  }
}

// One thread's column buffer: the largest band's column matrix (none for 1x1 kernels).
template <class T>
std::vector<T> band_buffer(const PatchGeometry& p) {
  const int64_t columns = p.is_pointwise() ? 0 : p.patch_size() * row_bands<T>(p).rows_per_band * p.out_w;
  return std::vector<T>(static_cast<size_t>(columns));
}

// The band's column matrix (P, band_L) and its leading dimension: the image itself for 1x1
// kernels, else im2col into `col`.
template <class T>
std::pair<const T*, int64_t> band_columns(const T* image, T* col, const PatchGeometry& p, const PatchGeometry& band,
                                          int64_t offset, int64_t band_L) {
  if (p.is_pointwise()) return {image + offset, p.locations()};
  im2col(image, col, band);
  return {col, band_L};
}

template <class T>
void gemm_forward(T* y, const T* x, const T* w, const T* bias, const Conv2dGeometry& g) {
  // per image, group and band: y[:, band] (Og, band_L) = w (Og, P) · col (P, band_L)
  const PatchGeometry& p = g.patch;
  const int64_t L = p.locations(), P = p.patch_size(), Og = g.out_channels / g.groups;
  const int64_t group_in = p.channels * p.in_h * p.in_w;
  for_each_image(g.batch, g.out_channels * P * L, [&](int64_t begin, int64_t end) {
    std::vector<T> col = band_buffer<T>(p);
    for (int64_t n = begin; n < end; ++n) {
      T* yn = y + n * g.out_channels * L;
      if (bias) fill_channels(yn, bias, g.out_channels, L);
      for (int64_t group = 0; group < g.groups; ++group) {
        const T* xg = x + (n * g.groups + group) * group_in;
        for_each_band<T>(p, [&](const PatchGeometry& band, int64_t offset, int64_t band_L) {
          const auto [cols, ld] = band_columns(xg, col.data(), p, band, offset, band_L);
          gemm<T>(Og, band_L, P, w + group * Og * P, P, 1, cols, ld, 1, yn + group * Og * L + offset, L,
                  bias != nullptr);
        });
      }
    }
  });
}

template <class T>
void gemm_input_backward(T* dx, const T* dy, const T* w, const T* bias, const Conv2dGeometry& g) {
  // per image, group and band: col (P, band_L) = w (Og, P)ᵀ · dy[:, band] (Og, band_L); dx += col2im(col)
  const PatchGeometry& p = g.patch;
  const int64_t L = p.locations(), P = p.patch_size(), Og = g.out_channels / g.groups;
  const int64_t plane = p.in_h * p.in_w, group_in = p.channels * plane;
  for_each_image(g.batch, g.out_channels * P * L, [&](int64_t begin, int64_t end) {
    std::vector<T> col = band_buffer<T>(p);
    for (int64_t n = begin; n < end; ++n) {
      fill_channels(dx + n * g.in_channels * plane, bias, g.in_channels, plane);
      for (int64_t group = 0; group < g.groups; ++group) {
        T* dxg = dx + (n * g.groups + group) * group_in;
        const T* dyg = dy + (n * g.out_channels + group * Og) * L;
        const T* wg = w + group * Og * P;
        for_each_band<T>(p, [&](const PatchGeometry& band, int64_t offset, int64_t band_L) {
          if (p.is_pointwise()) {
            gemm<T>(P, band_L, Og, wg, 1, P, dyg + offset, L, 1, dxg + offset, L, /*accumulate=*/true);
          } else {
            gemm<T>(P, band_L, Og, wg, 1, P, dyg + offset, L, 1, col.data(), band_L, /*accumulate=*/false);
            col2im_add(col.data(), dxg, band);
          }
        });
      }
    }
  });
}

template <class T>
void gemm_weight_backward(T* dw, const T* x, const T* dy, const Conv2dGeometry& g) {
  // per image, group and band: dw (Og, P) += dy[:, band] (Og, band_L) · col (P, band_L)ᵀ; each
  // thread sums its images into its own buffer, then the buffers are added under a lock.
  const PatchGeometry& p = g.patch;
  const int64_t L = p.locations(), P = p.patch_size(), Og = g.out_channels / g.groups;
  const int64_t group_in = p.channels * p.in_h * p.in_w, weight_numel = g.out_channels * P;
  std::fill(dw, dw + weight_numel, T(0));
  std::mutex merge;
  for_each_image(g.batch, g.out_channels * P * L, [&](int64_t begin, int64_t end) {
    std::vector<T> col = band_buffer<T>(p);
    std::vector<T> partial(static_cast<size_t>(weight_numel), T(0));
    for (int64_t n = begin; n < end; ++n) {
      for (int64_t group = 0; group < g.groups; ++group) {
        const T* xg = x + (n * g.groups + group) * group_in;
        const T* dyg = dy + (n * g.out_channels + group * Og) * L;
        for_each_band<T>(p, [&](const PatchGeometry& band, int64_t offset, int64_t band_L) {
          const auto [cols, ld] = band_columns(xg, col.data(), p, band, offset, band_L);
          gemm<T>(Og, P, band_L, dyg + offset, L, 1, cols, 1, ld, partial.data() + group * Og * P, P,
                  /*accumulate=*/true);
        });
      }
    }
    std::lock_guard<std::mutex> lock(merge);
    for (int64_t i = 0; i < weight_numel; ++i) dw[i] += partial[i];
  });
}

// ---------------------------------------------------------------- depthwise, direct
// Every kernel walks (output row, tap row, tap column) and runs the output columns in the inner
// loop: contiguous (vectorisable) for stride 1.

template <class T>
void depthwise_forward(T* y, const T* x, const T* w, const T* bias, const Conv2dGeometry& g) {
  // per plane (n, c): y (out_h, out_w) = Σ_taps w[c, ki, kj] · shifted x (H, W)
  const PatchGeometry& p = g.patch;
  const int64_t C = g.in_channels, L = p.locations(), taps = p.kernel_h * p.kernel_w;
  parallel_for(g.batch * C, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(L * taps, 1)),
               [&](int64_t begin, int64_t end) {
                 for (int64_t plane = begin; plane < end; ++plane) {
                   const int64_t c = plane % C;
                   T* out = y + plane * L;
                   const T* in = x + plane * p.in_h * p.in_w;
                   const T* kernel = w + c * taps;
                   std::fill(out, out + L, bias ? bias[c] : T(0));
                   for (int64_t oh = 0; oh < p.out_h; ++oh) {
                     T* out_row = out + oh * p.out_w;
                     for (int64_t ki = 0; ki < p.kernel_h; ++ki) {
                       const int64_t ih = oh * p.stride_h - p.pad_h + ki * p.dilation_h;
                       if (ih < 0 || ih >= p.in_h) continue;
                       const T* in_row = in + ih * p.in_w;
                       for (int64_t kj = 0; kj < p.kernel_w; ++kj) {
                         const T weight = kernel[ki * p.kernel_w + kj];
                         const int64_t shift = kj * p.dilation_w - p.pad_w;
                         const ValidRange r = valid_outputs(p.out_w, p.in_w, p.stride_w, p.pad_w, kj * p.dilation_w);
                         if (p.stride_w == 1) {
                           for (int64_t ow = r.first; ow < r.last; ++ow) out_row[ow] += weight * in_row[ow + shift];
                         } else {
                           for (int64_t ow = r.first; ow < r.last; ++ow)
                             out_row[ow] += weight * in_row[ow * p.stride_w + shift];
                         }
                       }
                     }
                   }
                 }
               });
}

template <class T>
void depthwise_input_backward(T* dx, const T* dy, const T* w, const T* bias, const Conv2dGeometry& g) {
  // per plane (n, c): dx (H, W) = Σ_taps w[c, ki, kj] · dy scattered back to the tap's inputs
  const PatchGeometry& p = g.patch;
  const int64_t C = g.in_channels, L = p.locations(), taps = p.kernel_h * p.kernel_w, plane_in = p.in_h * p.in_w;
  parallel_for(g.batch * C, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(L * taps, 1)),
               [&](int64_t begin, int64_t end) {
                 for (int64_t plane = begin; plane < end; ++plane) {
                   const int64_t c = plane % C;
                   T* out = dx + plane * plane_in;
                   const T* grad = dy + plane * L;
                   const T* kernel = w + c * taps;
                   std::fill(out, out + plane_in, bias ? bias[c] : T(0));
                   for (int64_t oh = 0; oh < p.out_h; ++oh) {
                     const T* grad_row = grad + oh * p.out_w;
                     for (int64_t ki = 0; ki < p.kernel_h; ++ki) {
                       const int64_t ih = oh * p.stride_h - p.pad_h + ki * p.dilation_h;
                       if (ih < 0 || ih >= p.in_h) continue;
                       T* out_row = out + ih * p.in_w;
                       for (int64_t kj = 0; kj < p.kernel_w; ++kj) {
                         const T weight = kernel[ki * p.kernel_w + kj];
                         const int64_t shift = kj * p.dilation_w - p.pad_w;
                         const ValidRange r = valid_outputs(p.out_w, p.in_w, p.stride_w, p.pad_w, kj * p.dilation_w);
                         if (p.stride_w == 1) {
                           for (int64_t ow = r.first; ow < r.last; ++ow) out_row[ow + shift] += weight * grad_row[ow];
                         } else {
                           for (int64_t ow = r.first; ow < r.last; ++ow)
                             out_row[ow * p.stride_w + shift] += weight * grad_row[ow];
                         }
                       }
                     }
                   }
                 }
               });
}

template <class T>
void depthwise_weight_backward(T* dw, const T* x, const T* dy, const Conv2dGeometry& g) {
  // per channel c: dw[c, ki, kj] = Σ_n Σ_(oh, ow) dy[n, c, oh, ow] · x[n, c, ih, iw]
  const PatchGeometry& p = g.patch;
  const int64_t C = g.in_channels, L = p.locations(), taps = p.kernel_h * p.kernel_w, plane_in = p.in_h * p.in_w;
  parallel_for(C, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(g.batch * L * taps, 1)),
               [&](int64_t begin, int64_t end) {
                 for (int64_t c = begin; c < end; ++c) {
                   T* kernel_grad = dw + c * taps;
                   std::fill(kernel_grad, kernel_grad + taps, T(0));
                   for (int64_t n = 0; n < g.batch; ++n) {
                     const T* in = x + (n * C + c) * plane_in;
                     const T* grad = dy + (n * C + c) * L;
                     for (int64_t oh = 0; oh < p.out_h; ++oh) {
                       const T* grad_row = grad + oh * p.out_w;
                       for (int64_t ki = 0; ki < p.kernel_h; ++ki) {
                         const int64_t ih = oh * p.stride_h - p.pad_h + ki * p.dilation_h;
                         if (ih < 0 || ih >= p.in_h) continue;
                         const T* in_row = in + ih * p.in_w;
                         for (int64_t kj = 0; kj < p.kernel_w; ++kj) {
                           const int64_t shift = kj * p.dilation_w - p.pad_w;
                           const ValidRange r =
                               valid_outputs(p.out_w, p.in_w, p.stride_w, p.pad_w, kj * p.dilation_w);
                           T acc = 0;
                           for (int64_t ow = r.first; ow < r.last; ++ow)
                             acc += grad_row[ow] * in_row[ow * p.stride_w + shift];
                           kernel_grad[ki * p.kernel_w + kj] += acc;
                         }
                       }
                     }
                   }
                 }
               });
}

}  // namespace

void conv2d_forward(const Tensor& y, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dGeometry& g) {
  dispatch_floating(x.dtype(), "conv2d", [&]<class T>() {
    const T* b = static_cast<const T*>(optional_data(bias));
    if (g.is_depthwise()) {
      depthwise_forward(y.data_ptr<T>(), x.data_ptr<T>(), w.data_ptr<T>(), b, g);
    } else {
      gemm_forward(y.data_ptr<T>(), x.data_ptr<T>(), w.data_ptr<T>(), b, g);
    }
  });
}

void conv2d_input_backward(const Tensor& dx, const Tensor& dy, const Tensor& w, const Tensor& bias,
                           const Conv2dGeometry& g) {
  dispatch_floating(dy.dtype(), "conv_transpose2d", [&]<class T>() {
    const T* b = static_cast<const T*>(optional_data(bias));
    if (g.is_depthwise()) {
      depthwise_input_backward(dx.data_ptr<T>(), dy.data_ptr<T>(), w.data_ptr<T>(), b, g);
    } else {
      gemm_input_backward(dx.data_ptr<T>(), dy.data_ptr<T>(), w.data_ptr<T>(), b, g);
    }
  });
}

void conv2d_weight_backward(const Tensor& dw, const Tensor& x, const Tensor& dy, const Conv2dGeometry& g) {
  dispatch_floating(x.dtype(), "conv2d_weight_backward", [&]<class T>() {
    if (g.is_depthwise()) {
      depthwise_weight_backward(dw.data_ptr<T>(), x.data_ptr<T>(), dy.data_ptr<T>(), g);
    } else {
      gemm_weight_backward(dw.data_ptr<T>(), x.data_ptr<T>(), dy.data_ptr<T>(), g);
    }
  });
}

}  // namespace ember::cpu
