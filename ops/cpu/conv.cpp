// CPU convolution kernels. General convolutions: im2col + GEMM per (image, group, band of output
// rows; Note [Row bands]), the images spread over threads with single-threaded BLAS (or, for a
// single image, BLAS's own threads).
// Depthwise convolutions (one filter per channel, the large dilated kernels of the papers) use
// direct kernels, where im2col + a (1 x kh*kw) GEMM per channel would be mostly copying: stencils
// on zero-padded planes for unit strides (Note [Padded depthwise planes]), row loops otherwise.
// Float32 3x3 stride-1 convolutions (most of a ResNet) go to Winograd F(4x4, 3x3) instead
// (ops/cpu/winograd.cpp) when winograd_applies(); float64 always stays here (exact references).
// Twins: ops/cpu/conv.h, ops/conv.cpp (API + backward), ops/cpu/fold.cpp (im2col / col2im).
#include "ops/cpu/conv.h"

#include <algorithm>
#include <mutex>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/dispatch.h"
#include "engine/parallel.h"
#include "ops/cpu/matmul.h"
#include "ops/cpu/pooled_buffer.h"
#include "ops/cpu/winograd.h"

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
//
// Note [Image groups]: the opposite problem at the end of a ResNet: a 4x4 output has L = 16
// columns, and a (512 x 16 x 4608) GEMM per image streams the whole 9 MB weight (and, for the
// weight gradient, a 9 MB dwᵀ accumulator with K = 16) once per image: memory-bound, with BLAS
// running at a fraction of its peak. Images with fewer than kMinColumns locations are therefore
// processed in groups of G, their column matrices side by side in one (P, G * L) matrix (im2col
// and col2im take the leading dimension G * L), so one GEMM of width G * L serves the group. The
// GEMM's (C, G * L) side is staged in a buffer and moved to / from the images' (C, L) planes.
constexpr int64_t kBandBytes = 512 * 1024;
constexpr int64_t kMinColumns = 256;

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

// Images per group (Note [Image groups]): 1 unless an image has fewer than kMinColumns locations.
int64_t image_group_size(const PatchGeometry& p) {
  const int64_t L = std::max<int64_t>(p.locations(), 1);
  return L >= kMinColumns ? 1 : (kMinColumns + L - 1) / L;
}

// One thread's column buffer: the largest band's column matrix, or a group's (none for 1x1 kernels
// without groups).
template <class T>
PooledBuffer<T> column_buffer(const PatchGeometry& p) {
  const int64_t G = image_group_size(p);
  if (G > 1) return PooledBuffer<T>(p.patch_size() * G * p.locations());
  return PooledBuffer<T>(p.is_pointwise() ? 0 : p.patch_size() * row_bands<T>(p).rows_per_band * p.out_w);
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

// Moves `rows` rows of L values between count images' planes (rows at `image`, `image_stride`
// apart per image, L apart per row) and the staged (rows, count * L) matrix.
template <class T>
void stage_images(T* staged, const T* image, int64_t image_stride, int64_t count, int64_t rows, int64_t L) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < count; ++j)
      std::copy(image + j * image_stride + r * L, image + j * image_stride + (r + 1) * L, staged + (r * count + j) * L);
}
template <class T>
void unstage_images(T* image, const T* staged, int64_t image_stride, int64_t count, int64_t rows, int64_t L) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < count; ++j)
      std::copy(staged + (r * count + j) * L, staged + (r * count + j + 1) * L, image + j * image_stride + r * L);
}

// im2col of `count` images (image_stride apart) side by side: col (P, count * L).
template <class T>
void group_columns(const T* first_image, int64_t image_stride, int64_t count, T* col, const PatchGeometry& p) {
  const int64_t L = p.locations();
  for (int64_t j = 0; j < count; ++j) im2col(first_image + j * image_stride, col + j * L, p, count * L);
}

// Runs body(first image, image count) over [begin, end) in groups of image_group_size(p).
template <class F>
void for_each_image_group(const PatchGeometry& p, int64_t begin, int64_t end, F&& body) {
  const int64_t G = image_group_size(p);
  for (int64_t n = begin; n < end; n += G) body(n, std::min(G, end - n));
}

template <class T>
void gemm_forward(T* y, const T* x, const T* w, const T* bias, const Conv2dGeometry& g) {
  // per group of images, conv group and band: y[:, band] (Og, band_L) = w (Og, P) · col (P, band_L)
  const PatchGeometry& p = g.patch;
  const int64_t L = p.locations(), P = p.patch_size(), Og = g.out_channels / g.groups;
  const int64_t group_in = p.channels * p.in_h * p.in_w, image_in = g.in_channels * p.in_h * p.in_w;
  const int64_t image_out = g.out_channels * L, G = image_group_size(p);
  for_each_image(g.batch, g.out_channels * P * L, [&](int64_t begin, int64_t end) {
    PooledBuffer<T> col = column_buffer<T>(p);
    PooledBuffer<T> staged(G > 1 ? Og * G * L : 0);
    for_each_image_group(p, begin, end, [&](int64_t n, int64_t count) {
      T* yn = y + n * image_out;
      for (int64_t j = 0; j < count; ++j)
        if (bias) fill_channels(yn + j * image_out, bias, g.out_channels, L);
      for (int64_t group = 0; group < g.groups; ++group) {
        const T* xg = x + n * image_in + group * group_in;
        const T* wg = w + group * Og * P;
        if (G > 1) {
          // staged (Og, count * L) = w · col, then into each image's (Og, L) block
          if (bias) stage_images(staged.data(), yn + group * Og * L, image_out, count, Og, L);
          group_columns(xg, image_in, count, col.data(), p);
          gemm<T>(Og, count * L, P, wg, P, 1, col.data(), count * L, 1, staged.data(), count * L, bias != nullptr);
          unstage_images(yn + group * Og * L, staged.data(), image_out, count, Og, L);
          continue;
        }
        for_each_band<T>(p, [&](const PatchGeometry& band, int64_t offset, int64_t band_L) {
          const auto [cols, ld] = band_columns(xg, col.data(), p, band, offset, band_L);
          gemm<T>(Og, band_L, P, wg, P, 1, cols, ld, 1, yn + group * Og * L + offset, L, bias != nullptr);
        });
      }
    });
  });
}

template <class T>
void gemm_input_backward(T* dx, const T* dy, const T* w, const T* bias, const Conv2dGeometry& g) {
  // per group of images, conv group and band: col (P, band_L) = w (Og, P)ᵀ · dy[:, band] (Og, band_L);
  // dx += col2im(col)
  const PatchGeometry& p = g.patch;
  const int64_t L = p.locations(), P = p.patch_size(), Og = g.out_channels / g.groups;
  const int64_t plane = p.in_h * p.in_w, group_in = p.channels * plane, image_in = g.in_channels * plane;
  const int64_t image_out = g.out_channels * L, G = image_group_size(p);
  for_each_image(g.batch, g.out_channels * P * L, [&](int64_t begin, int64_t end) {
    PooledBuffer<T> col = column_buffer<T>(p);
    PooledBuffer<T> staged(G > 1 ? Og * G * L : 0);
    for_each_image_group(p, begin, end, [&](int64_t n, int64_t count) {
      for (int64_t j = 0; j < count; ++j) fill_channels(dx + (n + j) * image_in, bias, g.in_channels, plane);
      for (int64_t group = 0; group < g.groups; ++group) {
        T* dxg = dx + n * image_in + group * group_in;
        const T* dyg = dy + n * image_out + group * Og * L;
        const T* wg = w + group * Og * P;
        if (G > 1) {
          // col (P, count * L) = wᵀ · staged dy (Og, count * L), then col2im per image
          stage_images(staged.data(), dyg, image_out, count, Og, L);
          gemm<T>(P, count * L, Og, wg, 1, P, staged.data(), count * L, 1, col.data(), count * L, /*accumulate=*/false);
          for (int64_t j = 0; j < count; ++j) col2im_add(col.data() + j * L, dxg + j * image_in, p, count * L);
          continue;
        }
        for_each_band<T>(p, [&](const PatchGeometry& band, int64_t offset, int64_t band_L) {
          if (p.is_pointwise()) {
            gemm<T>(P, band_L, Og, wg, 1, P, dyg + offset, L, 1, dxg + offset, L, /*accumulate=*/true);
          } else {
            gemm<T>(P, band_L, Og, wg, 1, P, dyg + offset, L, 1, col.data(), band_L, /*accumulate=*/false);
            col2im_add(col.data(), dxg, band);
          }
        });
      }
    });
  });
}

template <class T>
void gemm_weight_backward(T* dw, const T* x, const T* dy, const Conv2dGeometry& g) {
  // per group of images, conv group and band: dwᵀ (P, Og) += col (P, band_L) · dy[:, band]ᵀ (band_L, Og).
  // The transposed product runs ~15% faster in OpenBLAS than dw = dy · colᵀ (the long P side
  // becomes the GEMM's M). Each thread sums its images into its own dwᵀ, then the buffers are
  // added, transposed back, under a lock.
  const PatchGeometry& p = g.patch;
  const int64_t L = p.locations(), P = p.patch_size(), Og = g.out_channels / g.groups;
  const int64_t group_in = p.channels * p.in_h * p.in_w, image_in = g.in_channels * p.in_h * p.in_w;
  const int64_t image_out = g.out_channels * L, weight_numel = g.out_channels * P, G = image_group_size(p);
  std::fill(dw, dw + weight_numel, T(0));
  std::mutex merge;
  for_each_image(g.batch, g.out_channels * P * L, [&](int64_t begin, int64_t end) {
    PooledBuffer<T> col = column_buffer<T>(p);
    PooledBuffer<T> staged(G > 1 ? Og * G * L : 0);
    PooledBuffer<T> partial(weight_numel);  // (groups, P, Og)
    std::fill(partial.data(), partial.data() + weight_numel, T(0));
    for_each_image_group(p, begin, end, [&](int64_t n, int64_t count) {
      for (int64_t group = 0; group < g.groups; ++group) {
        const T* xg = x + n * image_in + group * group_in;
        const T* dyg = dy + n * image_out + group * Og * L;
        T* partial_g = partial.data() + group * P * Og;
        if (G > 1) {
          group_columns(xg, image_in, count, col.data(), p);
          stage_images(staged.data(), dyg, image_out, count, Og, L);
          gemm<T>(P, Og, count * L, col.data(), count * L, 1, staged.data(), 1, count * L, partial_g, Og,
                  /*accumulate=*/true);
          continue;
        }
        for_each_band<T>(p, [&](const PatchGeometry& band, int64_t offset, int64_t band_L) {
          const auto [cols, ld] = band_columns(xg, col.data(), p, band, offset, band_L);
          gemm<T>(P, Og, band_L, cols, ld, 1, dyg + offset, 1, L, partial_g, Og, /*accumulate=*/true);
        });
      }
    });
    // dw (Og, P) += partialᵀ in 64 x 64 tiles: a row-by-row transpose would read `partial` Og
    // elements apart, a cache miss per element once dwᵀ outgrows the cache (9 MB at 512 channels).
    constexpr int64_t kTile = 64;
    std::lock_guard<std::mutex> lock(merge);
    for (int64_t group = 0; group < g.groups; ++group) {
      const T* from = partial.data() + group * P * Og;  // (P, Og)
      T* to = dw + group * Og * P;                       // (Og, P)
      for (int64_t o0 = 0; o0 < Og; o0 += kTile)
        for (int64_t q0 = 0; q0 < P; q0 += kTile)
          for (int64_t o = o0; o < std::min(Og, o0 + kTile); ++o)
            for (int64_t q = q0; q < std::min(P, q0 + kTile); ++q) to[o * P + q] += from[q * Og + o];
    }
  });
}

// ---------------------------------------------------------------- depthwise, direct (any stride)
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

// ---------------------------------------------------------------- depthwise, stride 1, padded planes
// Note [Padded depthwise planes]: with unit strides, a plane is copied once into a zero-padded
// buffer `cols` = out_w + (kw - 1) * dilation_w wide, and the output is computed in that width
// too (the extra columns are junk and dropped). Every tap is then one constant offset into the
// padded plane: the forward is one multiply-add per tap over the whole contiguous run (it stays in
// L1), the weight gradient one dot product per tap, where the direct kernels above run a short
// row (and its bounds) per (output row, tap). With unit strides the input gradient is the
// same stencil on dy with the taps flipped and the padding dilation * (k - 1) - pad: dx[ih] =
// Σ_a w[k - 1 - a] · dy[ih - pad' + a * dilation].
template <class T>
constexpr int64_t kStencilBlock = 256 / sizeof(T);  // dot-product lanes (four 512-bit registers); runs round up to it

template <class T>
struct PaddedPlanes {
  int64_t rows, cols, top, left;   // padded plane (rows, cols); input pixel (i, j) lands at (i + top, j + left)
  int64_t out_h, out_w, count;     // outputs, and the padded-width run that covers them
  std::vector<int64_t> offsets;    // per tap (ki, kj): its offset into the padded plane
  std::vector<T> padded, out;      // one thread's buffers; padded has a row and a block of zero slack
                                   // past the end, read by the junk outputs of the last block

  PaddedPlanes(const PatchGeometry& p, int64_t in_h, int64_t in_w, int64_t out_rows, int64_t out_cols, int64_t pad_top,
               int64_t pad_left)
      : rows(out_rows + (p.kernel_h - 1) * p.dilation_h),
        cols(out_cols + (p.kernel_w - 1) * p.dilation_w),
        top(pad_top),
        left(pad_left),
        out_h(out_rows),
        out_w(out_cols),
        count(((out_rows * cols + kStencilBlock<T> - 1) / kStencilBlock<T>) * kStencilBlock<T>),
        padded(static_cast<size_t>((rows + 1) * cols + kStencilBlock<T>)),
        out(static_cast<size_t>(count)),
        in_h_(in_h),
        in_w_(in_w) {
    for (int64_t ki = 0; ki < p.kernel_h; ++ki)
      for (int64_t kj = 0; kj < p.kernel_w; ++kj) offsets.push_back(ki * p.dilation_h * cols + kj * p.dilation_w);
  }

  // padded = the (in_h, in_w) plane `in` shifted by (top, left), zeros around it.
  void load(const T* in) {
    std::fill(padded.begin(), padded.end(), T(0));
    const int64_t first_col = std::max<int64_t>(0, -left), last_col = std::min(in_w_, cols - left);
    if (first_col >= last_col) return;
    for (int64_t i = std::max<int64_t>(0, -top); i < std::min(in_h_, rows - top); ++i) {
      const T* row = in + i * in_w_;
      std::copy(row + first_col, row + last_col, padded.data() + (i + top) * cols + left + first_col);
    }
  }

  // out[j] = base + Σ_t taps[t] · padded[j + offsets[t]] over the padded-width run (tap by tap: the
  // run stays in L1); y (out_h, out_w) = its valid columns.
  void stencil(const T* taps, T base, T* y) {
    std::fill(out.begin(), out.end(), base);
    const int64_t n_taps = static_cast<int64_t>(offsets.size());
    for (int64_t t = 0; t < n_taps; ++t) {
      const T weight = taps[t];
      const T* src = padded.data() + offsets[t];
      for (int64_t j = 0; j < count; ++j) out[j] += weight * src[j];
    }
    for (int64_t oh = 0; oh < out_h; ++oh)
      std::copy(out.data() + oh * cols, out.data() + oh * cols + out_w, y + oh * out_w);
  }

  // grads[t] += Σ_(oh, ow) g[oh, ow] · padded[oh * cols + ow + offsets[t]], g: (out_h, out_w).
  void correlate(const T* g, T* grads) {
    constexpr int64_t B = kStencilBlock<T>;
    std::fill(out.begin(), out.end(), T(0));  // g in the padded width, junk columns zero
    for (int64_t oh = 0; oh < out_h; ++oh) std::copy(g + oh * out_w, g + (oh + 1) * out_w, out.data() + oh * cols);
    const int64_t n_taps = static_cast<int64_t>(offsets.size());
    for (int64_t t = 0; t < n_taps; ++t) {
      T acc[B] = {};
      const T* src = padded.data() + offsets[t];
      for (int64_t j = 0; j < count; j += B)
        for (int64_t l = 0; l < B; ++l) acc[l] += out[j + l] * src[j + l];
      grads[t] += std::accumulate(acc, acc + B, T(0));
    }
  }

 private:
  int64_t in_h_, in_w_;
};

template <class T>
void padded_depthwise_forward(T* y, const T* x, const T* w, const T* bias, const Conv2dGeometry& g) {
  // per plane (n, c): y (out_h, out_w) = bias[c] + Σ_taps w[c, t] · padded x
  const PatchGeometry& p = g.patch;
  const int64_t C = g.in_channels, L = p.locations(), taps = p.kernel_h * p.kernel_w;
  parallel_for(g.batch * C, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(L * taps, 1)),
               [&](int64_t begin, int64_t end) {
                 PaddedPlanes<T> planes(p, p.in_h, p.in_w, p.out_h, p.out_w, p.pad_h, p.pad_w);
                 for (int64_t plane = begin; plane < end; ++plane) {
                   const int64_t c = plane % C;
                   planes.load(x + plane * p.in_h * p.in_w);
                   planes.stencil(w + c * taps, bias ? bias[c] : T(0), y + plane * L);
                 }
               });
}

template <class T>
void padded_depthwise_input_backward(T* dx, const T* dy, const T* w, const T* bias, const Conv2dGeometry& g) {
  // per plane (n, c): dx (H, W) = bias[c] + Σ_taps flipped w[c, t] · padded dy
  const PatchGeometry& p = g.patch;
  const int64_t C = g.in_channels, L = p.locations(), taps = p.kernel_h * p.kernel_w, plane_in = p.in_h * p.in_w;
  std::vector<T> flipped(static_cast<size_t>(C * taps));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t t = 0; t < taps; ++t) flipped[c * taps + t] = w[c * taps + taps - 1 - t];
  parallel_for(g.batch * C, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(L * taps, 1)),
               [&](int64_t begin, int64_t end) {
                 PaddedPlanes<T> planes(p, p.out_h, p.out_w, p.in_h, p.in_w,
                                        p.dilation_h * (p.kernel_h - 1) - p.pad_h,
                                        p.dilation_w * (p.kernel_w - 1) - p.pad_w);
                 for (int64_t plane = begin; plane < end; ++plane) {
                   const int64_t c = plane % C;
                   planes.load(dy + plane * L);
                   planes.stencil(flipped.data() + c * taps, bias ? bias[c] : T(0), dx + plane * plane_in);
                 }
               });
}

template <class T>
void padded_depthwise_weight_backward(T* dw, const T* x, const T* dy, const Conv2dGeometry& g) {
  // per channel c: dw[c, t] = Σ_n Σ_(oh, ow) dy[n, c, oh, ow] · padded x[n, c] at the tap's offset
  const PatchGeometry& p = g.patch;
  const int64_t C = g.in_channels, L = p.locations(), taps = p.kernel_h * p.kernel_w, plane_in = p.in_h * p.in_w;
  parallel_for(C, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(g.batch * L * taps, 1)),
               [&](int64_t begin, int64_t end) {
                 PaddedPlanes<T> planes(p, p.in_h, p.in_w, p.out_h, p.out_w, p.pad_h, p.pad_w);
                 for (int64_t c = begin; c < end; ++c) {
                   std::fill(dw + c * taps, dw + (c + 1) * taps, T(0));
                   for (int64_t n = 0; n < g.batch; ++n) {
                     planes.load(x + (n * C + c) * plane_in);
                     planes.correlate(dy + (n * C + c) * L, dw + c * taps);
                   }
                 }
               });
}

}  // namespace

void conv2d_forward(const Tensor& y, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dGeometry& g) {
  dispatch_floating(x.dtype(), "conv2d", [&]<class T>() {
    const T* b = static_cast<const T*>(optional_data(bias));
    if constexpr (std::is_same_v<T, float>) {
      if (winograd_applies(g)) return winograd_forward(y.data_ptr<T>(), x.data_ptr<T>(), w.data_ptr<T>(), b, g);
    }
    if (g.is_depthwise() && g.patch.stride_h == 1 && g.patch.stride_w == 1) {
      padded_depthwise_forward(y.data_ptr<T>(), x.data_ptr<T>(), w.data_ptr<T>(), b, g);
    } else if (g.is_depthwise()) {
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
    if constexpr (std::is_same_v<T, float>) {
      if (winograd_applies(g)) return winograd_input_backward(dx.data_ptr<T>(), dy.data_ptr<T>(), w.data_ptr<T>(), b, g);
    }
    if (g.is_depthwise() && g.patch.stride_h == 1 && g.patch.stride_w == 1) {
      padded_depthwise_input_backward(dx.data_ptr<T>(), dy.data_ptr<T>(), w.data_ptr<T>(), b, g);
    } else if (g.is_depthwise()) {
      depthwise_input_backward(dx.data_ptr<T>(), dy.data_ptr<T>(), w.data_ptr<T>(), b, g);
    } else {
      gemm_input_backward(dx.data_ptr<T>(), dy.data_ptr<T>(), w.data_ptr<T>(), b, g);
    }
  });
}

void conv2d_weight_backward(const Tensor& dw, const Tensor& x, const Tensor& dy, const Conv2dGeometry& g) {
  dispatch_floating(x.dtype(), "conv2d_weight_backward", [&]<class T>() {
    if constexpr (std::is_same_v<T, float>) {
      if (winograd_applies(g)) return winograd_weight_backward(dw.data_ptr<T>(), x.data_ptr<T>(), dy.data_ptr<T>(), g);
    }
    if (g.is_depthwise() && g.patch.stride_h == 1 && g.patch.stride_w == 1) {
      padded_depthwise_weight_backward(dw.data_ptr<T>(), x.data_ptr<T>(), dy.data_ptr<T>(), g);
    } else if (g.is_depthwise()) {
      depthwise_weight_backward(dw.data_ptr<T>(), x.data_ptr<T>(), dy.data_ptr<T>(), g);
    } else {
      gemm_weight_backward(dw.data_ptr<T>(), x.data_ptr<T>(), dy.data_ptr<T>(), g);
    }
  });
}

}  // namespace ember::cpu
