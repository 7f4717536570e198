// Row groups (and accumulation-type math) for the row-wise kernels of cuda/softmax.cu, cuda/loss.cu and cuda/norm.cu: the
// threads that reduce one row together are either one warp (short rows: a block of kRowBlock
// threads then serves kRowBlock / 32 rows at once) or the whole block (long rows). Rows are
// handed out grid-stride, one group-uniform loop, so the warp shuffles and __syncthreads inside
// the group reductions are always reached by every thread of the group.
// Included only by .cu files (Note [CUDA kernel boundary] in cuda/layout.h).
#pragma once
#include "cuda/kernel_util.cuh"

namespace ember::cuda {

constexpr int kRowBlock = 256;            // threads per block of every row kernel
constexpr int64_t kWarpRowMaxLength = 1024;  // rows up to this long take a warp, longer ones a block

template <bool kWarp> struct RowGroup {
  static constexpr int kRowsPerBlock = kWarp ? kRowBlock / 32 : 1;
  __device__ static int rank() { return kWarp ? static_cast<int>(threadIdx.x % 32) : static_cast<int>(threadIdx.x); }
  __device__ static int size() { return kWarp ? 32 : kRowBlock; }
  __device__ static int64_t first_row() {
    return kWarp ? static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32 : static_cast<int64_t>(blockIdx.x);
  }
  __device__ static int64_t row_step() { return static_cast<int64_t>(gridDim.x) * kRowsPerBlock; }
  // `scratch`: __shared__ A[32] (unused by warps). Every thread of the group gets the result.
  template <class A> __device__ static A sum(A v, A* scratch) {
    if constexpr (kWarp) return warp_sum(v);
    else return block_sum(v, scratch);
  }
  template <class A> __device__ static A max(A v, A* scratch, A lowest) {
    if constexpr (kWarp) return warp_max(v);
    else return block_max(v, scratch, lowest);
  }
};

// Blocks for `rows` rows with groups of kind kWarp (grid-stride covers any rest).
inline unsigned row_blocks(int64_t rows, bool warp) {
  const int64_t per_block = warp ? kRowBlock / 32 : 1;
  const int64_t wanted = (rows + per_block - 1) / per_block;
  return static_cast<unsigned>(wanted < 1 ? 1 : (wanted < 65536 ? wanted : 65536));
}

// Math in the accumulation type, spelled out per precision (no reliance on overload sets).
__device__ __forceinline__ float acc_exp(float v) { return expf(v); }
__device__ __forceinline__ double acc_exp(double v) { return exp(v); }
__device__ __forceinline__ float acc_log(float v) { return logf(v); }
__device__ __forceinline__ double acc_log(double v) { return log(v); }
__device__ __forceinline__ float acc_log1p(float v) { return log1pf(v); }
__device__ __forceinline__ double acc_log1p(double v) { return log1p(v); }
__device__ __forceinline__ float acc_sqrt(float v) { return sqrtf(v); }
__device__ __forceinline__ double acc_sqrt(double v) { return sqrt(v); }
__device__ __forceinline__ float acc_abs(float v) { return fabsf(v); }
__device__ __forceinline__ double acc_abs(double v) { return fabs(v); }
__device__ __forceinline__ float acc_max(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ double acc_max(double a, double b) { return fmax(a, b); }

__device__ __forceinline__ float negative_infinity(float) { return __int_as_float(0xff800000); }
__device__ __forceinline__ double negative_infinity(double) { return __longlong_as_double(static_cast<long long>(0xfff0000000000000ULL)); }

}  // namespace ember::cuda
