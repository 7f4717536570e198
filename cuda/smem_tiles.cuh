// Device helpers shared by the attention kernels (cuda/attention.cu, cuda/linear_attention.cu):
// row tiles staged in shared memory in the accumulation type, exp/log of that type, and the
// dynamic shared-memory opt-in. Included only by .cu files (Note [CUDA kernel boundary]).
#pragma once
#include <cmath>

#include "cuda/kernel_util.cuh"

namespace ember::cuda {

// The launch's dynamic shared memory, where a kernel carves its tiles.
template <class A> __device__ __forceinline__ A* arena_as() {
  extern __shared__ __align__(128) unsigned char tile_arena[];  // wmma tiles need 32-byte alignment
  return reinterpret_cast<A*>(tile_arena);
}

template <class A> __device__ __forceinline__ A exp_acc(A x) {
  if constexpr (std::is_same_v<A, float>) {
    return expf(x);  // the accurate one, not __expf: the tests compare with the CPU to ~1e-6
  } else {
    return exp(x);
  }
}
template <class A> __device__ __forceinline__ A log_acc(A x) {
  if constexpr (std::is_same_v<A, float>) {
    return logf(x);
  } else {
    return log(x);
  }
}
template <class A> __device__ __forceinline__ A infinity_of() { return static_cast<A>(INFINITY); }

// dst[r * ld + c] = src[r * src_stride + c] for c < width and r < rows (src points at the first
// element) and 0 for rows in [rows, tile_rows): every tile row is defined, so padded rows give 0,
// never NaN. All threads of the block take part; the caller synchronizes before reading.
template <class A, class T>
__device__ void load_block(A* dst, int ld, const T* src, int64_t src_stride, int rows, int tile_rows, int width) {
  const int total = tile_rows * width;
  for (int idx = threadIdx.x; idx < total; idx += blockDim.x) {
    const int r = idx / width, c = idx % width;
    dst[r * ld + c] = r < rows ? convert<A>(src[r * src_stride + c]) : convert<A>(0.0f);
  }
}
// Whole rows of a row-major (rows, width) array.
template <class A, class T>
__device__ void load_rows(A* dst, int ld, const T* src, int rows, int tile_rows, int width) {
  load_block(dst, ld, src, width, rows, tile_rows, width);
}

template <class A> __device__ void fill_tile(A* dst, int count, A value) {
  for (int idx = threadIdx.x; idx < count; idx += blockDim.x) dst[idx] = value;
}

// The largest dynamic shared memory a block of this device may opt into.
inline size_t max_shared_memory_optin() {
  int device = 0, bytes = 0;
  EMBER_CUDA_CHECK(cudaGetDevice(&device));
  EMBER_CUDA_CHECK(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  return static_cast<size_t>(bytes);
}

// Lets `kernel` start with `bytes` of dynamic shared memory (beyond 48 KiB needs the opt-in).
template <class Kernel> void allow_shared_memory(Kernel kernel, size_t bytes) {
  EMBER_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

}  // namespace ember::cuda
