// Winograd F(4x4, 3x3) convolution kernels (float32): forward, input gradient, weight gradient.
// Twins: ops/cpu/winograd.h (API), ops/cpu/conv.cpp (dispatch), test/ops/test_winograd.cpp.
//
// Note [Winograd F(4,3)]: a 4x4 block of outputs of a 3x3 convolution is
//   y = Aᵀ [ Σ_c (G g_kc Gᵀ) ⊙ (Bᵀ d_c B) ] A        (Lavin & Gray 2016, points 0, ±1, ±2, ∞)
// with d_c the 6x6 input window of channel c and g_kc the kernel. Per tile and output channel that
// is 36 multiply-adds per input channel where the direct form needs 144: 4x fewer. Written as
// GEMMs, one per tile position ξ of the 6x6 transformed tile:
//   M[ξ] (tiles, K) = V[ξ] (tiles, C) · U[ξ] (C, K)
// where V is the transformed input (Bᵀ d B), U the transformed weights (G g Gᵀ), and the output
// transform Aᵀ M A gives y. The three passes of a convolution all take this form:
//   forward        y  = conv(x, w, pad)
//   input grad     dx = conv(dy, w flipped and transposed, 2 - pad)   (stride 1: a full correlation)
//   weight grad    y is bilinear in (U, V), so dU[ξ] (C, K) = Σ_tiles V[ξ]ᵀ · (A dy Aᵀ)[ξ], and
//                  dw = Gᵀ dU G (the adjoint of U = G g Gᵀ).
// Tiles are processed in blocks of 64 (Note [Winograd blocks]): transform, 36 GEMMs, inverse
// transform, while the block's V and M are still in cache; blocks are spread over the threads.
// Transforms run on 16 channels at a time (kLanes: one AVX-512 register of floats), so a tile
// transform is a few dozen vector operations.
// Accuracy: the transforms multiply by up to 8 (Aᵀ) and 5 (Bᵀ) and divide by 24 (G), so float32
// results differ from im2col's by a few 1e-6 relative to the output's scale (test_winograd.cpp
// measures it); float64 convolutions never come here.
#include "ops/cpu/winograd.h"

#include <algorithm>
#include <mutex>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/parallel.h"
#include "ops/cpu/matmul.h"
#include "ops/cpu/pooled_buffer.h"

namespace ember::cpu {

namespace {


constexpr int64_t kLanes = 16;      // channels transformed together
constexpr int64_t kTile = 6;        // transformed tile side: 4 outputs + 3 taps - 1
constexpr int64_t kOut = 4;         // output tile side
constexpr int64_t kPositions = 36;  // kTile * kTile: one GEMM each

// ---------------------------------------------------------------- 1-D transforms
// Each maps a column of n rows of kLanes floats (row i at in + i * is) to m rows (at out + o * os).
// `in` and `out` never overlap; saying so (__restrict) lets the lanes vectorise even when the
// strides are only known at run time (the tiles read from and written to the GEMM operands).

// Bᵀ (6x6)
inline void input_1d(const float* __restrict in, int64_t is, float* __restrict out, int64_t os) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const float i0 = in[l], i1 = in[is + l], i2 = in[2 * is + l], i3 = in[3 * is + l], i4 = in[4 * is + l],
                i5 = in[5 * is + l];
    out[l] = 4 * i0 - 5 * i2 + i4;
    out[os + l] = -4 * (i1 + i2) + i3 + i4;
    out[2 * os + l] = 4 * (i1 - i2) - i3 + i4;
    out[3 * os + l] = 2 * (i3 - i1) - i2 + i4;
    out[4 * os + l] = 2 * (i1 - i3) - i2 + i4;
    out[5 * os + l] = 4 * i1 - 5 * i3 + i5;
  }
}

// Aᵀ (4x6)
inline void output_1d(const float* __restrict in, int64_t is, float* __restrict out, int64_t os) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const float i0 = in[l], i1 = in[is + l], i2 = in[2 * is + l], i3 = in[3 * is + l], i4 = in[4 * is + l],
                i5 = in[5 * is + l];
    const float sum12 = i1 + i2, diff12 = i1 - i2, sum34 = i3 + i4, diff34 = i3 - i4;
    out[l] = i0 + sum12 + sum34;
    out[os + l] = diff12 + 2 * diff34;
    out[2 * os + l] = sum12 + 4 * sum34;
    out[3 * os + l] = diff12 + 8 * diff34 + i5;
  }
}

// G (6x3)
inline void kernel_1d(const float* __restrict in, int64_t is, float* __restrict out, int64_t os) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const float i0 = in[l], i1 = in[is + l], i2 = in[2 * is + l];
    out[l] = i0 / 4;
    out[os + l] = -(i0 + i1 + i2) / 6;
    out[2 * os + l] = -(i0 - i1 + i2) / 6;
    out[3 * os + l] = i0 / 24 + i1 / 12 + i2 / 6;
    out[4 * os + l] = i0 / 24 - i1 / 12 + i2 / 6;
    out[5 * os + l] = i2;
  }
}

// A = (Aᵀ)ᵀ (6x4): the output gradient into the transformed domain
inline void grad_output_1d(const float* __restrict in, int64_t is, float* __restrict out, int64_t os) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const float i0 = in[l], i1 = in[is + l], i2 = in[2 * is + l], i3 = in[3 * is + l];
    out[l] = i0;
    out[os + l] = i0 + i1 + i2 + i3;
    out[2 * os + l] = i0 - i1 + i2 - i3;
    out[3 * os + l] = i0 + 2 * i1 + 4 * i2 + 8 * i3;
    out[4 * os + l] = i0 - 2 * i1 + 4 * i2 - 8 * i3;
    out[5 * os + l] = i3;
  }
}

// Gᵀ (3x6): the transformed weight gradient back to 3x3
inline void kernel_grad_1d(const float* __restrict in, int64_t is, float* __restrict out, int64_t os) {
#pragma omp simd
  for (int64_t l = 0; l < kLanes; ++l) {
    const float i0 = in[l], i1 = in[is + l], i2 = in[2 * is + l], i3 = in[3 * is + l], i4 = in[4 * is + l],
                i5 = in[5 * is + l];
    out[l] = i0 / 4 - (i1 + i2) / 6 + (i3 + i4) / 24;
    out[os + l] = (i2 - i1) / 6 + (i3 - i4) / 12;
    out[2 * os + l] = (i3 + i4 - i1 - i2) / 6 + i5;
  }
}

using Transform1d = void (*)(const float* __restrict, int64_t, float* __restrict, int64_t);

// out (m x m) = T in Tᵀ for an (n x n) tile whose elements are rows of kLanes floats: element
// (i, j) of `in` at in + i * in_rs + j * in_cs, of `out` at out + i * out_rs + j * out_cs (so a
// tile can be read from and written to the GEMM operands in place).
template <int64_t n, int64_t m, Transform1d transform>
inline void transform_2d(const float* in, int64_t in_rs, int64_t in_cs, float* out, int64_t out_rs,
                         int64_t out_cs) {
  alignas(64) float half[m * n * kLanes];  // (m x n): the columns transformed
  for (int64_t j = 0; j < n; ++j) transform(in + j * in_cs, in_rs, half + j * kLanes, n * kLanes);
  for (int64_t i = 0; i < m; ++i) transform(half + i * n * kLanes, kLanes, out + i * out_rs, out_cs);
}

// A dense (side x side) tile of lanes, element (i, j) at (i * side + j) * kLanes.
template <int64_t n, int64_t m, Transform1d transform>
inline void transform_dense(const float* in, float* out) {
  transform_2d<n, m, transform>(in, n * kLanes, kLanes, out, m * kLanes, kLanes);
}

// ---------------------------------------------------------------- problem and tiles
// y (N, K, OH, OW) = x (N, C, H, W) ⋆ 3x3 kernel, stride 1, padding (pad_h, pad_w); the output in
// 4x4 tiles (the last row / column of tiles may stick out: those outputs are dropped).
struct Problem {
  int64_t N, C, K, H, W, OH, OW, pad_h, pad_w;
  int64_t tiles_h() const { return (OH + kOut - 1) / kOut; }
  int64_t tiles_w() const { return (OW + kOut - 1) / kOut; }
  int64_t tiles() const { return N * tiles_h() * tiles_w(); }
};

struct TilePos {
  int64_t n, oh, ow;  // image and the tile's first output row / column
};
TilePos tile_position(const Problem& p, int64_t t) {
  const int64_t per_image = p.tiles_h() * p.tiles_w(), within = t % per_image;
  return {t / per_image, (within / p.tiles_w()) * kOut, (within % p.tiles_w()) * kOut};
}

// Window rows [r_lo, r_hi) x columns [s_lo, s_hi) of `count` planes into lanes of d (side x side,
// element (r, s) at (r * side + s) * kLanes; lane l = plane l; zeros elsewhere). `first` points
// at element (r_lo, s_lo) of plane 0; planes are plane_stride apart, rows ld. The full window has
// compile-time bounds, so it compiles to straight-line loads and stores.
template <int64_t side>
inline void gather_window(const float* first, int64_t plane_stride, int64_t ld, int64_t count, int64_t r_lo,
                          int64_t r_hi, int64_t s_lo, int64_t s_hi, float* d) {
  if (count == kLanes && r_lo == 0 && r_hi == side && s_lo == 0 && s_hi == side) {
    for (int64_t l = 0; l < kLanes; ++l)
      for (int64_t r = 0; r < side; ++r)
        for (int64_t s = 0; s < side; ++s) d[(r * side + s) * kLanes + l] = first[l * plane_stride + r * ld + s];
    return;
  }
  std::fill(d, d + side * side * kLanes, 0.0f);
  for (int64_t l = 0; l < count; ++l)
    for (int64_t r = r_lo; r < r_hi; ++r)
      for (int64_t s = s_lo; s < s_hi; ++s)
        d[(r * side + s) * kLanes + l] = first[l * plane_stride + (r - r_lo) * ld + (s - s_lo)];
}

// Writes a transformed (kTile x kTile) tile `v` of lanes to the GEMM operand: position ξ's lanes
// at dst + ξ * xi_stride, the first `count` of them.
inline void scatter_positions(const float* v, int64_t count, float* dst, int64_t xi_stride) {
  if (count == kLanes) {  // fixed size: one vector move per position, not a memmove call
    for (int64_t xi = 0; xi < kPositions; ++xi)
      for (int64_t l = 0; l < kLanes; ++l) dst[xi * xi_stride + l] = v[xi * kLanes + l];
    return;
  }
  for (int64_t xi = 0; xi < kPositions; ++xi) std::copy(v + xi * kLanes, v + xi * kLanes + count, dst + xi * xi_stride);
}

// V (36, tb, C): v[ξ][t][c] = (Bᵀ d B)[ξ] for the 6x6 input window d of tile t0 + t, channel c
// (zeros outside the image); the block's tiles t in [first, last) (the block transformed in
// pieces when its threads share it, Note [Winograd blocks]).
void transform_input_block(const float* x, const Problem& p, int64_t t0, int64_t tb, float* V, int64_t first,
                           int64_t last) {
  alignas(64) float d[kPositions * kLanes], v[kPositions * kLanes];
  const int64_t xi_stride = tb * p.C;
  for (int64_t t = first; t < last; ++t) {
    const TilePos pos = tile_position(p, t0 + t);
    const int64_t ih0 = pos.oh - p.pad_h, iw0 = pos.ow - p.pad_w;
    const int64_t r_lo = std::max<int64_t>(0, -ih0), r_hi = std::min<int64_t>(kTile, p.H - ih0);
    const int64_t s_lo = std::max<int64_t>(0, -iw0), s_hi = std::min<int64_t>(kTile, p.W - iw0);
    for (int64_t c0 = 0; c0 < p.C; c0 += kLanes) {
      const int64_t nc = std::min(kLanes, p.C - c0);
      // window element (r_lo, s_lo) of channel c0: inside x, where (0, 0) may not be
      const float* first = x + ((pos.n * p.C + c0) * p.H + ih0 + r_lo) * p.W + iw0 + s_lo;
      gather_window<kTile>(first, p.H * p.W, p.W, nc, r_lo, r_hi, s_lo, s_hi, d);
      float* dst = V + t * p.C + c0;
      if (nc == kLanes) {
        transform_2d<kTile, kTile, input_1d>(d, kTile * kLanes, kLanes, dst, kTile * xi_stride, xi_stride);
      } else {
        transform_dense<kTile, kTile, input_1d>(d, v);
        scatter_positions(v, nc, dst, xi_stride);
      }
    }
  }
}

// Y (36, tb, K): the output gradient's tiles in the transformed domain, (A e Aᵀ)[ξ] for the 4x4
// block e of dy at tile t0 + t (zeros where the tile sticks out of the output); t in [first, last).
void transform_grad_output_block(const float* dy, const Problem& p, int64_t t0, int64_t tb, float* Y, int64_t first,
                                 int64_t last) {
  alignas(64) float e[kOut * kOut * kLanes], v[kPositions * kLanes];
  const int64_t xi_stride = tb * p.K;
  for (int64_t t = first; t < last; ++t) {
    const TilePos pos = tile_position(p, t0 + t);
    const int64_t rows = std::min(kOut, p.OH - pos.oh), cols = std::min(kOut, p.OW - pos.ow);
    for (int64_t k0 = 0; k0 < p.K; k0 += kLanes) {
      const int64_t nk = std::min(kLanes, p.K - k0);
      gather_window<kOut>(dy + ((pos.n * p.K + k0) * p.OH + pos.oh) * p.OW + pos.ow, p.OH * p.OW, p.OW, nk, 0, rows,
                          0, cols, e);
      float* dst = Y + t * p.K + k0;
      if (nk == kLanes) {
        transform_2d<kOut, kTile, grad_output_1d>(e, kOut * kLanes, kLanes, dst, kTile * xi_stride, xi_stride);
      } else {
        transform_dense<kOut, kTile, grad_output_1d>(e, v);
        scatter_positions(v, nk, dst, xi_stride);
      }
    }
  }
}

// y at tiles t0 + t, t in [first, last), = Aᵀ M A (+ bias per output channel); M (36, tb, K)
// followed by kLanes readable floats.
void transform_output_block(const float* M, const Problem& p, const float* bias, int64_t t0, int64_t tb, float* y,
                            int64_t first, int64_t last) {
  alignas(64) float o[kOut * kOut * kLanes], b[kLanes] = {};
  const int64_t xi_stride = tb * p.K, plane = p.OH * p.OW;
  for (int64_t t = first; t < last; ++t) {
    const TilePos pos = tile_position(p, t0 + t);
    const int64_t rows = std::min(kOut, p.OH - pos.oh), cols = std::min(kOut, p.OW - pos.ow);
    for (int64_t k0 = 0; k0 < p.K; k0 += kLanes) {
      // M's lanes past K (a partial last block) are other rows' values: computed, never stored
      const int64_t nk = std::min(kLanes, p.K - k0);
      transform_2d<kTile, kOut, output_1d>(M + t * p.K + k0, kTile * xi_stride, xi_stride, o, kOut * kLanes, kLanes);
      for (int64_t l = 0; l < nk; ++l) b[l] = bias ? bias[k0 + l] : 0.0f;
      float* dst = y + ((pos.n * p.K + k0) * p.OH + pos.oh) * p.OW + pos.ow;
      if (nk == kLanes && rows == kOut && cols == kOut) {
        for (int64_t l = 0; l < kLanes; ++l)
          for (int64_t i = 0; i < kOut; ++i)
            for (int64_t j = 0; j < kOut; ++j) dst[l * plane + i * p.OW + j] = o[(i * kOut + j) * kLanes + l] + b[l];
        continue;
      }
      for (int64_t l = 0; l < nk; ++l)
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j) dst[l * plane + i * p.OW + j] = o[(i * kOut + j) * kLanes + l] + b[l];
    }
  }
}

// U (36, inner, outer): u[ξ][i][o] = (G g Gᵀ)[ξ] with g the 3x3 kernel that takes input channel i
// to output channel o, stored at w + (i * outer + o) * 9 (w: (inner, outer, 3, 3)), rotated by
// 180° when `flipped`. The 16 kernels of a block are contiguous in w, and consecutive blocks
// write consecutive lanes of each of U's 36 planes.
void transform_weights_range(const float* w, int64_t inner, int64_t outer, bool flipped, float* U, int64_t begin,
                             int64_t end) {
  alignas(64) float g[9 * kLanes] = {}, u[kPositions * kLanes];
  for (int64_t i = begin; i < end; ++i) {
    for (int64_t o0 = 0; o0 < outer; o0 += kLanes) {
      const int64_t no = std::min(kLanes, outer - o0);
      const float* kernels = w + (i * outer + o0) * 9;
      for (int64_t l = 0; l < no; ++l)
        for (int64_t tap = 0; tap < 9; ++tap) g[tap * kLanes + l] = kernels[l * 9 + (flipped ? 8 - tap : tap)];
      transform_dense<3, kTile, kernel_1d>(g, u);
      scatter_positions(u, no, U + i * outer + o0, inner * outer);
    }
  }
}

void transform_weights(const float* w, int64_t inner, int64_t outer, bool flipped, float* U) {
  parallel_for(inner, std::max<int64_t>(1, kParallelGrain / (kPositions * outer)),
               [&](int64_t begin, int64_t end) { transform_weights_range(w, inner, outer, flipped, U, begin, end); });
}

// wt (C, K, 3, 3) = w (K, C, 3, 3) with the two channel dims swapped, in bands of kBand input
// channels so that both the reads and the kBand write streams stay sequential.
void swap_kernel_channels(const float* w, int64_t K, int64_t C, float* wt) {
  constexpr int64_t kBand = 64;
  parallel_for((C + kBand - 1) / kBand, std::max<int64_t>(1, kParallelGrain / (9 * kBand * K)),
               [&](int64_t first_band, int64_t end_band) {
                 for (int64_t c0 = first_band * kBand; c0 < std::min(C, end_band * kBand); c0 += kBand) {
                   const int64_t c1 = std::min(C, c0 + kBand);
                   for (int64_t k = 0; k < K; ++k)
                     for (int64_t c = c0; c < c1; ++c)
                       for (int64_t tap = 0; tap < 9; ++tap) wt[(c * K + k) * 9 + tap] = w[(k * C + c) * 9 + tap];
                 }
               });
}

// dwt (C, K, 3, 3) = Gᵀ dU G per (c, k), dU (36, C, K) followed by kLanes readable floats;
// channels c in [begin, end). (Written channel-swapped so each block's 16 kernels are contiguous.)
void transform_weight_grad(const float* dU, int64_t C, int64_t K, int64_t begin, int64_t end, float* dwt) {
  alignas(64) float o[9 * kLanes];
  for (int64_t c = begin; c < end; ++c) {
    for (int64_t k0 = 0; k0 < K; k0 += kLanes) {
      // lanes past K read the next row of dU, or the kLanes floats past its end: computed, never stored
      const int64_t nk = std::min(kLanes, K - k0);
      transform_2d<kTile, 3, kernel_grad_1d>(dU + c * K + k0, kTile * C * K, C * K, o, 3 * kLanes, kLanes);
      float* kernels = dwt + (c * K + k0) * 9;
      for (int64_t l = 0; l < nk; ++l)
        for (int64_t tap = 0; tap < 9; ++tap) kernels[l * 9 + tap] = o[tap * kLanes + l];
    }
  }
}

// ---------------------------------------------------------------- blocks and threads
// Note [Winograd blocks]: tiles are processed in blocks of kBlockTiles: the block's transformed
// input V (36 x tb x C) and GEMM output M (36 x tb x K) are written, multiplied and read back
// while they are still in cache (L2 for 64 channels, L3 beyond), and each GEMM runs over tb = 64
// rows, enough to amortise streaming its U[ξ] (C x K; all of U is 38 MB at 512 channels). Smaller
// blocks sized to fit L2 at 128-512 channels (16-32 tiles) measured 1.5-2x slower on layer3/4 of
// ResNet-18: OpenBLAS then repacks U for too few rows. With at least two blocks the blocks are
// spread over the threads (one V / M per thread); with a single block (ResNet's 4x4 layer4 at
// batch 32 has 32 tiles) its threads share it: the transforms split its tiles and the 36 GEMMs
// are dealt out by position, one parallel region each.
constexpr int64_t kBlockTiles = 64;

int64_t block_tiles(int64_t tiles) { return std::min(tiles, kBlockTiles); }

bool use_threads(int64_t blocks) {
#ifdef _OPENMP
  return blocks >= 2 && omp_get_max_threads() > 1 && !omp_in_parallel();
#else
  (void)blocks;
  return false;
#endif
}

// Runs body(block, scratch) over blocks [0, count): spread over the threads (dynamic schedule, so a
// thread that lost its core to another process does not hold up the rest) with one
// scratch = make_scratch() per thread and finish(scratch) when a thread is done, or in sequence.
template <class MakeScratch, class Body, class Finish>
void for_each_block(int64_t count, MakeScratch&& make_scratch, Body&& body, Finish&& finish) {
#ifdef _OPENMP
  if (use_threads(count)) {
    SingleThreadedBlas single_threaded;
#pragma omp parallel
    {
      auto scratch = make_scratch();
#pragma omp for schedule(dynamic, 1)
      for (int64_t b = 0; b < count; ++b) body(b, scratch);
      finish(scratch);
    }
    return;
  }
#endif
  auto scratch = make_scratch();
  for (int64_t b = 0; b < count; ++b) body(b, scratch);
  finish(scratch);
}

// The tiles [0, count) of a block: shared by the threads when the blocks run in sequence (too few
// to go round), in one piece inside a thread's block (parallel_for runs serially there).
template <class F>
void over_tiles(int64_t count, F&& body) {
  parallel_for(count, 1, body);
}

// The 36 GEMMs of a block: when its threads share it, each thread runs a share of the positions
// with single-threaded BLAS (one parallel region, where splitting each GEMM would take 36).
template <class F>
void over_positions(F&& gemm_at) {
  parallel_for(kPositions, 1, [&](int64_t begin, int64_t end) {
    SingleThreadedBlas single_threaded;
    for (int64_t xi = begin; xi < end; ++xi) gemm_at(xi);
  });
}

struct BlockBuffers {
  PooledBuffer<float> V, M;  // (36, tb, C) and (36, tb, K): inputs and outputs of the block's GEMMs
};

// y = conv(x, U) (+ bias) with U (36, C, K) from transform_weights.
void winograd_conv(float* y, const float* x, const float* U, const float* bias, const Problem& p) {
  const int64_t tiles = p.tiles(), tb = block_tiles(tiles), blocks = (tiles + tb - 1) / tb;
  for_each_block(
      blocks, [&] { return BlockBuffers{PooledBuffer<float>(kPositions * tb * p.C), PooledBuffer<float>(kPositions * tb * p.K + kLanes)}; },
      [&](int64_t b, BlockBuffers& s) {
        const int64_t t0 = b * tb, count = std::min(tb, tiles - t0);
        over_tiles(count, [&](int64_t first, int64_t last) {
          transform_input_block(x, p, t0, count, s.V.data(), first, last);
        });
        over_positions([&](int64_t xi) {
          // M[ξ] (count, K) = V[ξ] (count, C) · U[ξ] (C, K)
          gemm<float>(count, p.K, p.C, s.V.data() + xi * count * p.C, p.C, 1, U + xi * p.C * p.K, p.K, 1,
                      s.M.data() + xi * count * p.K, p.K, /*accumulate=*/false);
        });
        over_tiles(count, [&](int64_t first, int64_t last) {
          transform_output_block(s.M.data(), p, bias, t0, count, y, first, last);
        });
      },
      [](BlockBuffers&) {});
}

Problem forward_problem(const Conv2dGeometry& g) {
  const PatchGeometry& q = g.patch;
  return {g.batch, g.in_channels, g.out_channels, q.in_h, q.in_w, q.out_h, q.out_w, q.pad_h, q.pad_w};
}

}  // namespace

bool winograd_applies(const Conv2dGeometry& g) {
  const PatchGeometry& p = g.patch;
  if (g.groups != 1 || p.kernel_h != 3 || p.kernel_w != 3 || p.stride_h != 1 || p.stride_w != 1 ||
      p.dilation_h != 1 || p.dilation_w != 1 || p.pad_h < 0 || p.pad_h > 2 || p.pad_w < 0 || p.pad_w > 2 ||
      p.out_h != p.in_h + 2 * p.pad_h - 2 || p.out_w != p.in_w + 2 * p.pad_w - 2) {
    return false;
  }
  // The transforms cost about as much per tile as a 16-channel GEMM slice, and tiles that stick
  // out of a small plane compute outputs that are thrown away: at most half of them may be.
  auto tiles_worth_it = [](int64_t h, int64_t w) {
    return 2 * h * w >= kOut * kOut * ((h + kOut - 1) / kOut) * ((w + kOut - 1) / kOut);
  };
  return g.in_channels >= 16 && g.out_channels >= 16 && tiles_worth_it(p.out_h, p.out_w) &&
         tiles_worth_it(p.in_h, p.in_w);
}

void winograd_forward(float* y, const float* x, const float* w, const float* bias, const Conv2dGeometry& g) {
  const Problem p = forward_problem(g);
  PooledBuffer<float> wt(p.C * p.K * 9), U(kPositions * p.C * p.K);
  swap_kernel_channels(w, p.K, p.C, wt.data());  // kernel (c, k) at wt + (c * K + k) * 9
  transform_weights(wt.data(), p.C, p.K, /*flipped=*/false, U.data());
  winograd_conv(y, x, U.data(), bias, p);
}

void winograd_input_backward(float* dx, const float* dy, const float* w, const float* bias, const Conv2dGeometry& g) {
  // dx = conv(dy, w rotated and transposed) with padding 2 - pad: the input gradient of a stride-1
  // convolution is the full correlation of dy with the flipped kernel.
  const Problem f = forward_problem(g);
  const Problem p{f.N, f.K, f.C, f.OH, f.OW, f.H, f.W, 2 - f.pad_h, 2 - f.pad_w};
  PooledBuffer<float> U(kPositions * p.C * p.K);
  transform_weights(w, p.C, p.K, /*flipped=*/true, U.data());  // kernel (k, c) at w + (k * C + c) * 9
  winograd_conv(dx, dy, U.data(), bias, p);
}

void winograd_weight_backward(float* dw, const float* x, const float* dy, const Conv2dGeometry& g) {
  // dU[ξ] (C, K) = Σ_blocks V[ξ]ᵀ (C, tb) · Y[ξ] (tb, K), then dw = Gᵀ dU G
  const Problem p = forward_problem(g);
  const int64_t tiles = p.tiles(), tb = block_tiles(tiles), blocks = (tiles + tb - 1) / tb;
  const int64_t u_size = kPositions * p.C * p.K;
  PooledBuffer<float> dU(u_size + kLanes);  // + the lanes transform_weight_grad reads past K
  const bool threaded = use_threads(blocks);
  // Each thread sums its blocks into its own dU (the first block overwrites it), added up at the
  // end; run in sequence, the blocks sum into dU itself.
  struct Scratch {
    PooledBuffer<float> V, Y, partial;
    bool empty = true;  // nothing summed into the target yet
  };
  if (threaded) std::fill(dU.data(), dU.data() + u_size, 0.0f);
  std::mutex merge;
  for_each_block(
      blocks,
      [&] {
        return Scratch{PooledBuffer<float>(kPositions * tb * p.C), PooledBuffer<float>(kPositions * tb * p.K),
                       PooledBuffer<float>(threaded ? u_size : 0)};
      },
      [&](int64_t b, Scratch& s) {
        const int64_t t0 = b * tb, count = std::min(tb, tiles - t0);
        float* target = threaded ? s.partial.data() : dU.data();
        over_tiles(count, [&](int64_t first, int64_t last) {
          transform_input_block(x, p, t0, count, s.V.data(), first, last);
          transform_grad_output_block(dy, p, t0, count, s.Y.data(), first, last);
        });
        over_positions([&](int64_t xi) {
          // dU[ξ] (C, K) (+)= V[ξ]ᵀ (C, count) · Y[ξ] (count, K)
          gemm<float>(p.C, p.K, count, s.V.data() + xi * count * p.C, 1, p.C, s.Y.data() + xi * count * p.K, p.K, 1,
                      target + xi * p.C * p.K, p.K, /*accumulate=*/!s.empty);
        });
        s.empty = false;
      },
      [&](Scratch& s) {
        if (!threaded || s.empty) return;
        std::lock_guard<std::mutex> lock(merge);
        float* total = dU.data();
        const float* mine = s.partial.data();
        for (int64_t i = 0; i < u_size; ++i) total[i] += mine[i];
      });
  PooledBuffer<float> dwt(p.C * p.K * 9);
  parallel_for(p.C, std::max<int64_t>(1, kParallelGrain / (kPositions * p.K)),
               [&](int64_t begin, int64_t end) { transform_weight_grad(dU.data(), p.C, p.K, begin, end, dwt.data()); });
  swap_kernel_channels(dwt.data(), p.C, p.K, dw);  // (C, K, 3, 3) -> (K, C, 3, 3)
}

}  // namespace ember::cpu
