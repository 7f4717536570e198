// Kernels around cuFFT for the FFT long convolution (launchers in cuda/long_conv_launch.h).
// CPU twin: ops/cpu/long_conv.cpp (gather_block / scatter_block / complex_multiply there).
//
// Gathers and scatters transpose 32 × 32 tiles through shared memory: the (B, L, D) side is read
// or written along d (contiguous) and the (B·D, N) rows along t, so both sides are coalesced.
// Block (32, 8): each thread moves 4 elements of a tile.
#include "cuda/kernel_util.cuh"
#include "cuda/long_conv_launch.h"

namespace ember::cuda {

namespace {

constexpr int kTile = 32;
constexpr int kTileRows = 8;
constexpr unsigned kMaxGridZ = 65535;

// grid.x over time tiles of `time_extent`, grid.y over channel tiles, grid.z over the batch.
dim3 tile_grid(int64_t time_extent, int64_t D, int64_t B) {
  const int64_t z = B < kMaxGridZ ? B : kMaxGridZ;
  return dim3(static_cast<unsigned>((time_extent + kTile - 1) / kTile), static_cast<unsigned>((D + kTile - 1) / kTile),
              static_cast<unsigned>(z < 1 ? 1 : z));
}

template <class T>
__global__ void gather_kernel(const T* src, SeqStrides s, int64_t B, int64_t L, int64_t D, int64_t N, T* rows) {
  __shared__ T tile[kTile][kTile + 1];  // [t][d]
  const int64_t t0 = static_cast<int64_t>(blockIdx.x) * kTile, d0 = static_cast<int64_t>(blockIdx.y) * kTile;
  for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
    for (int i = threadIdx.y; i < kTile; i += kTileRows) {  // read along d
      const int64_t t = t0 + i, d = d0 + threadIdx.x;
      tile[i][threadIdx.x] = (t < L && d < D) ? src[b * s.batch + t * s.time + d * s.channel] : T(0);
    }
    __syncthreads();
    for (int j = threadIdx.y; j < kTile; j += kTileRows) {  // write along t
      const int64_t d = d0 + j, t = t0 + threadIdx.x;
      if (d < D && t < N) rows[(b * D + d) * N + t] = tile[threadIdx.x][j];
    }
    __syncthreads();
  }
}

template <class T>
__global__ void scatter_kernel(const T* rows, int64_t B, int64_t L, int64_t D, int64_t N, int64_t shift, T scale,
                               T* dst) {
  __shared__ T tile[kTile][kTile + 1];  // [d][t]
  const int64_t t0 = static_cast<int64_t>(blockIdx.x) * kTile, d0 = static_cast<int64_t>(blockIdx.y) * kTile;
  for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
    for (int j = threadIdx.y; j < kTile; j += kTileRows) {  // read along t
      const int64_t d = d0 + j, t = t0 + threadIdx.x;
      if (d < D && t < L) {
        int64_t index = (t + shift) % N;
        index = index < 0 ? index + N : index;
        tile[j][threadIdx.x] = rows[(b * D + d) * N + index];
      }
    }
    __syncthreads();
    for (int i = threadIdx.y; i < kTile; i += kTileRows) {  // write along d
      const int64_t t = t0 + i, d = d0 + threadIdx.x;
      if (t < L && d < D) dst[(b * L + t) * D + d] = scale * tile[threadIdx.x][i];
    }
    __syncthreads();
  }
}

template <class T>
__global__ void complex_multiply_kernel(const T* a, const T* b, int64_t rows, int64_t b_rows, int64_t bins, T sign,
                                        T* out) {
  const int64_t total = rows * bins;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t r = i / bins, f = i % bins;
    const int64_t j = (r % b_rows) * bins + f;
    const T ar = a[2 * i], ai = a[2 * i + 1], br = b[2 * j], bi = sign * b[2 * j + 1];
    out[2 * i] = ar * br - ai * bi;
    out[2 * i + 1] = ar * bi + ai * br;
  }
}

template <class T>
__global__ void batch_sum_conj_kernel(const T* a, const T* c, int64_t B, int64_t D, int64_t bins, T* out) {
  const int64_t total = D * bins;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    T re = T(0), im = T(0);
    for (int64_t b = 0; b < B; ++b) {  // i = d·bins + f, so row b·D + d holds it at b·D·bins + i
      const int64_t j = b * total + i;
      const T ar = a[2 * j], ai = a[2 * j + 1], cr = c[2 * j], ci = c[2 * j + 1];
      re += ar * cr + ai * ci;
      im += ai * cr - ar * ci;
    }
    out[2 * i] = re;
    out[2 * i + 1] = im;
  }
}

template <class T>
__global__ void extract_taps_kernel(const T* rows, int64_t D, int64_t N, int64_t K, int64_t offset, T scale,
                                    T* grad_k) {
  const int64_t total = D * K;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t d = i / K, s = i % K;
    int64_t index = s - offset;
    index = index < 0 ? index + N : index;
    grad_k[i] = scale * rows[d * N + index];
  }
}

template <class F> void dispatch_fft_type(ScalarType type, const char* op, F&& f) {
  if (type == ScalarType::f32) return f.template operator()<float>();
  if (type == ScalarType::f64) return f.template operator()<double>();
  detail::kernel_error(op, "expected float32 or float64");
}

void check_tile_grid(int64_t D) {
  if ((D + kTile - 1) / kTile > 65535) detail::kernel_error("long_conv", "too many channels for one grid (D > 2097120)");
}

}  // namespace

void gather_channel_rows(const void* src, SeqStrides strides, ScalarType type, int64_t B, int64_t L, int64_t D,
                         int64_t N, void* rows, Stream stream) {
  if (B * D * N == 0) return;
  check_tile_grid(D);
  dispatch_fft_type(type, "long_conv gather", [&]<class T>() {
    gather_kernel<T><<<tile_grid(N, D, B), dim3(kTile, kTileRows), 0, raw_stream(stream)>>>(
        static_cast<const T*>(src), strides, B, L, D, N, static_cast<T*>(rows));
  });
  EMBER_CUDA_LAUNCH_CHECK("long_conv gather");
}

void scatter_channel_rows(const void* rows, ScalarType type, int64_t B, int64_t L, int64_t D, int64_t N,
                          int64_t shift, double scale, void* dst, Stream stream) {
  if (B * D * L == 0) return;
  check_tile_grid(D);
  dispatch_fft_type(type, "long_conv scatter", [&]<class T>() {
    scatter_kernel<T><<<tile_grid(L, D, B), dim3(kTile, kTileRows), 0, raw_stream(stream)>>>(
        static_cast<const T*>(rows), B, L, D, N, shift, static_cast<T>(scale), static_cast<T*>(dst));
  });
  EMBER_CUDA_LAUNCH_CHECK("long_conv scatter");
}

void complex_multiply_rows(const void* a, const void* b, ScalarType type, int64_t rows, int64_t b_rows, int64_t bins,
                           bool conj_b, void* out, Stream stream) {
  if (rows * bins == 0) return;
  dispatch_fft_type(type, "long_conv multiply", [&]<class T>() {
    complex_multiply_kernel<T><<<grid_for(rows * bins), 256, 0, raw_stream(stream)>>>(
        static_cast<const T*>(a), static_cast<const T*>(b), rows, b_rows, bins, conj_b ? T(-1) : T(1),
        static_cast<T*>(out));
  });
  EMBER_CUDA_LAUNCH_CHECK("long_conv multiply");
}

void batch_sum_conj_products(const void* a, const void* c, ScalarType type, int64_t B, int64_t D, int64_t bins,
                             void* out, Stream stream) {
  if (D * bins == 0) return;
  dispatch_fft_type(type, "long_conv kernel grad", [&]<class T>() {
    batch_sum_conj_kernel<T><<<grid_for(D * bins), 256, 0, raw_stream(stream)>>>(
        static_cast<const T*>(a), static_cast<const T*>(c), B, D, bins, static_cast<T*>(out));
  });
  EMBER_CUDA_LAUNCH_CHECK("long_conv kernel grad");
}

void extract_kernel_taps(const void* rows, ScalarType type, int64_t D, int64_t N, int64_t K, int64_t offset,
                         double scale, void* grad_k, Stream stream) {
  if (D * K == 0) return;
  dispatch_fft_type(type, "long_conv kernel taps", [&]<class T>() {
    extract_taps_kernel<T><<<grid_for(D * K), 256, 0, raw_stream(stream)>>>(
        static_cast<const T*>(rows), D, N, K, offset, static_cast<T>(scale), static_cast<T*>(grad_k));
  });
  EMBER_CUDA_LAUNCH_CHECK("long_conv kernel taps");
}

}  // namespace ember::cuda
