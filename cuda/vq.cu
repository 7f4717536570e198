// Vector-quantization kernels on the GPU (launchers in cuda/vq_launch.h). CPU twin: ops/cpu/vq.cpp.
//
// Note [CUDA nearest search]: the N × K distances are never stored. A block of 256 threads owns a
// tile of 64 rows of z and walks the codebook in tiles of 64 codes; the (rows × codes) dot
// products of a tile are built from depth slices of 16 staged through shared memory, each thread
// holding a 4 × 4 register tile (rows ty + 16 i, codes tx + 16 j). Each thread keeps, per row, its
// running best (score, code) with score = ||c||² - 2 z·c as on the CPU, visiting its codes in
// increasing order and replacing only on a strictly smaller score; the 16 threads of a row (one
// half-warp) then combine by (score, code) lexicographic minimum. So ties go to the lowest code,
// as on the CPU. A second pass recomputes the exact Σ (z - c)² of the chosen code (one warp per row).
#include "cuda/kernel_util.cuh"
#include "cuda/vq_launch.h"

namespace ember::cuda {

namespace {

constexpr int kRowTile = 64;
constexpr int kCodeTile = 64;
constexpr int kDepth = 16;
constexpr int kThreads = 256;  // 16 × 16
constexpr int kMicro = 4;      // 4 × 4 register tile per thread
constexpr unsigned kMaxBlocks = 1u << 20;

template <class T> __device__ __forceinline__ T infinity_of() {
  if constexpr (std::is_same_v<T, float>) return __int_as_float(0x7f800000);
  else return __longlong_as_double(0x7ff0000000000000LL);
}

template <class T>
__global__ void code_norms_kernel(int64_t K, int64_t D, const T* codebook, T* norms) {
  for (int64_t k = global_thread_index(); k < K; k += global_thread_count()) {
    T acc = T(0);
    for (int64_t d = 0; d < D; ++d) acc += codebook[k * D + d] * codebook[k * D + d];
    norms[k] = acc;
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    nearest_kernel(int64_t N, int64_t K, int64_t D, const T* z, const T* codebook, const T* norms, int64_t* indices) {
  __shared__ T z_tile[kDepth][kRowTile + 1];   // [depth][row]
  __shared__ T c_tile[kDepth][kCodeTile + 1];  // [depth][code]
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t none = K;  // "no code yet": above every real code in the tie-break
  for (int64_t r0 = static_cast<int64_t>(blockIdx.x) * kRowTile; r0 < N; r0 += static_cast<int64_t>(gridDim.x) * kRowTile) {
    T best[kMicro];
    int64_t best_code[kMicro];
    for (int i = 0; i < kMicro; ++i) {
      best[i] = infinity_of<T>();
      best_code[i] = none;
    }
    for (int64_t k0 = 0; k0 < K; k0 += kCodeTile) {
      T acc[kMicro][kMicro];
      for (int i = 0; i < kMicro; ++i)
        for (int j = 0; j < kMicro; ++j) acc[i][j] = T(0);
      for (int64_t d0 = 0; d0 < D; d0 += kDepth) {
        for (int e = threadIdx.x; e < kRowTile * kDepth; e += kThreads) {
          const int row = e / kDepth, dd = e % kDepth;
          const int64_t n = r0 + row, d = d0 + dd;
          z_tile[dd][row] = (n < N && d < D) ? z[n * D + d] : T(0);
        }
        for (int e = threadIdx.x; e < kCodeTile * kDepth; e += kThreads) {
          const int code = e / kDepth, dd = e % kDepth;
          const int64_t k = k0 + code, d = d0 + dd;
          c_tile[dd][code] = (k < K && d < D) ? codebook[k * D + d] : T(0);
        }
        __syncthreads();
#pragma unroll
        for (int dd = 0; dd < kDepth; ++dd) {
          T a[kMicro], b[kMicro];
#pragma unroll
          for (int i = 0; i < kMicro; ++i) a[i] = z_tile[dd][ty + 16 * i];
#pragma unroll
          for (int j = 0; j < kMicro; ++j) b[j] = c_tile[dd][tx + 16 * j];
#pragma unroll
          for (int i = 0; i < kMicro; ++i) {
#pragma unroll
            for (int j = 0; j < kMicro; ++j) acc[i][j] += a[i] * b[j];
          }
        }
        __syncthreads();
      }
      for (int j = 0; j < kMicro; ++j) {  // this thread's codes, in increasing order
        const int64_t k = k0 + tx + 16 * j;
        if (k >= K) continue;
        const T norm = norms[k];
        for (int i = 0; i < kMicro; ++i) {
          const T score = norm - T(2) * acc[i][j];
          if (score < best[i]) {
            best[i] = score;
            best_code[i] = k;
          }
        }
      }
    }
    // The 16 threads of a row are lanes tx = 0..15 of one half-warp: combine by (score, code).
    for (int i = 0; i < kMicro; ++i) {
      for (int offset = 8; offset > 0; offset >>= 1) {
        const T other = __shfl_xor_sync(0xffffffffu, best[i], offset);
        const int64_t other_code = __shfl_xor_sync(0xffffffffu, best_code[i], offset);
        if (other < best[i] || (other == best[i] && other_code < best_code[i])) {
          best[i] = other;
          best_code[i] = other_code;
        }
      }
      const int64_t n = r0 + ty + 16 * i;
      if (tx == 0 && n < N) indices[n] = best_code[i] == none ? 0 : best_code[i];
    }
  }
}

// distances[n] = Σ_d (z[n, d] - codebook[indices[n], d])²: one warp per row.
template <class T>
__global__ void distances_kernel(int64_t N, int64_t D, const T* z, const T* codebook, const int64_t* indices,
                                 T* distances) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = global_thread_count() / 32;
  for (int64_t n = global_thread_index() / 32; n < N; n += warps) {
    const T* zr = z + n * D;
    const T* c = codebook + indices[n] * D;
    T acc = T(0);
    for (int64_t d = lane; d < D; d += 32) {
      const T diff = zr[d] - c[d];
      acc += diff * diff;
    }
    acc = warp_sum(acc);
    if (lane == 0) distances[n] = acc;
  }
}

template <class T>
__global__ void gather_kernel(int64_t N, int64_t K, int64_t D, const T* codebook, const int64_t* indices, T* out,
                              unsigned long long* first_bad) {
  const int64_t total = N * D;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t n = i / D, code = indices[n];
    if (code < 0 || code >= K) {
      out[i] = T(0);
      atomicMin(first_bad, static_cast<unsigned long long>(n));
    } else {
      out[i] = codebook[code * D + i % D];
    }
  }
}

__global__ void count_kernel(int64_t N, int64_t K, const int64_t* indices, unsigned long long* counts,
                             unsigned long long* first_bad) {
  for (int64_t n = global_thread_index(); n < N; n += global_thread_count()) {
    const int64_t code = indices[n];
    if (code < 0 || code >= K) atomicMin(first_bad, static_cast<unsigned long long>(n));
    else atomicAdd(counts + code, 1ull);
  }
}

template <class F> void dispatch_real(ScalarType type, const char* op, F&& f) {
  if (type == ScalarType::f32) return f.template operator()<float>();
  if (type == ScalarType::f64) return f.template operator()<double>();
  detail::kernel_error(op, "expected float32 or float64");
}

}  // namespace

void vq_nearest_search(ScalarType type, int64_t N, int64_t K, int64_t D, const void* z, const void* codebook,
                       void* code_norms, int64_t* indices, void* distances, Stream stream) {
  if (N == 0) return;
  const cudaStream_t raw = raw_stream(stream);
  dispatch_real(type, "vq_nearest", [&]<class T>() {
    const T* zt = static_cast<const T*>(z);
    const T* ct = static_cast<const T*>(codebook);
    T* norms = static_cast<T*>(code_norms);
    code_norms_kernel<T><<<grid_for(K), 256, 0, raw>>>(K, D, ct, norms);
    EMBER_CUDA_LAUNCH_CHECK("vq_nearest (code norms)");
    const int64_t tiles = (N + kRowTile - 1) / kRowTile;
    const unsigned blocks = static_cast<unsigned>(tiles < kMaxBlocks ? tiles : kMaxBlocks);
    nearest_kernel<T><<<blocks, kThreads, 0, raw>>>(N, K, D, zt, ct, norms, indices);
    EMBER_CUDA_LAUNCH_CHECK("vq_nearest");
    distances_kernel<T><<<grid_for(N * 32), 256, 0, raw>>>(N, D, zt, ct, indices, static_cast<T*>(distances));
    EMBER_CUDA_LAUNCH_CHECK("vq_nearest (distances)");
  });
}

void vq_gather_codes(ScalarType type, int64_t N, int64_t K, int64_t D, const void* codebook, const int64_t* indices,
                     void* out, unsigned long long* first_bad, Stream stream) {
  if (N * D == 0) return;
  dispatch_real(type, "vq_quantize_st", [&]<class T>() {
    gather_kernel<T><<<grid_for(N * D), 256, 0, raw_stream(stream)>>>(N, K, D, static_cast<const T*>(codebook),
                                                                       indices, static_cast<T*>(out), first_bad);
  });
  EMBER_CUDA_LAUNCH_CHECK("vq_quantize_st");
}

void vq_count_codes(int64_t N, int64_t K, const int64_t* indices, int64_t* counts, unsigned long long* first_bad,
                    Stream stream) {
  static_assert(sizeof(unsigned long long) == sizeof(int64_t), "counts are added as unsigned long long");
  const cudaStream_t raw = raw_stream(stream);
  EMBER_CUDA_CHECK(cudaMemsetAsync(counts, 0, sizeof(int64_t) * K, raw));
  if (N == 0) return;
  count_kernel<<<grid_for(N), 256, 0, raw>>>(N, K, indices, reinterpret_cast<unsigned long long*>(counts), first_bad);
  EMBER_CUDA_LAUNCH_CHECK("vq_code_counts");
}

}  // namespace ember::cuda
