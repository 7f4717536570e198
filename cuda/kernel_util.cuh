// Device-side helpers shared by every cuda/<family>.cu: the CUDA element type of each
// ScalarType, conversions, the dtype switch, grid-stride loops and warp/block reductions.
// Included only by .cu files (Note [CUDA kernel boundary] in cuda/layout.h).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "cuda/check.h"
#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

inline cudaStream_t raw_stream(Stream stream) { return static_cast<cudaStream_t>(stream.handle); }

template <class T> inline constexpr bool is_half_v = std::is_same_v<T, __nv_bfloat16> || std::is_same_v<T, __half>;

// What arithmetic on T runs in: float for the 16-bit storage types (as on the CPU), else T.
template <class T> using acc_t = std::conditional_t<is_half_v<T>, float, T>;

// Element conversion with the CPU's rules (engine/copy.cpp): to bool is "!= 0" in the source
// type, 16-bit floats go through float.
template <class To, class From> __host__ __device__ __forceinline__ To convert(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (is_half_v<From>) {
    return convert<To>(static_cast<float>(value));
  } else if constexpr (std::is_same_v<To, bool>) {
    return value != static_cast<From>(0);
  } else if constexpr (is_half_v<To>) {
    return To(static_cast<float>(value));
  } else {
    return static_cast<To>(value);
  }
}

// Calls f.template operator()<T>() with T the CUDA type of `type`.
template <class F> void dispatch_scalar_type(ScalarType type, const char* op, F&& f) {
  switch (type) {
    case ScalarType::f32: return f.template operator()<float>();
    case ScalarType::f64: return f.template operator()<double>();
    case ScalarType::i64: return f.template operator()<int64_t>();
    case ScalarType::i32: return f.template operator()<int32_t>();
    case ScalarType::u8: return f.template operator()<uint8_t>();
    case ScalarType::bool_: return f.template operator()<bool>();
    case ScalarType::bf16: return f.template operator()<__nv_bfloat16>();
    case ScalarType::f16: return f.template operator()<__half>();
  }
  detail::kernel_error(op, "unknown dtype");
}

// The floating types only (what differentiable kernels support on the GPU).
template <class F> void dispatch_floating_type(ScalarType type, const char* op, F&& f) {
  switch (type) {
    case ScalarType::f32: return f.template operator()<float>();
    case ScalarType::f64: return f.template operator()<double>();
    case ScalarType::bf16: return f.template operator()<__nv_bfloat16>();
    case ScalarType::f16: return f.template operator()<__half>();
    default: break;
  }
  detail::kernel_error(op, "no CUDA kernel for this dtype (expected float32, float64, bfloat16 or float16)");
}

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, never above the grid limit.
inline unsigned grid_for(int64_t n, int threads_per_block = 256) {
  const int64_t wanted = (n + threads_per_block - 1) / threads_per_block;
  constexpr int64_t kMaxBlocks = int64_t{1} << 16;  // 65536 blocks x 256 threads; the loop covers the rest
  return static_cast<unsigned>(wanted < 1 ? 1 : (wanted < kMaxBlocks ? wanted : kMaxBlocks));
}

__device__ __forceinline__ int64_t global_thread_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t global_thread_count() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// Warp-wide reductions (all 32 lanes take part; every lane gets the result).
template <class T> __device__ __forceinline__ T warp_sum(T value) {
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}
template <class T> __device__ __forceinline__ T warp_max(T value) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const T other = __shfl_xor_sync(0xffffffffu, value, offset);
    value = other > value ? other : value;
  }
  return value;
}

// Block-wide sum for blockDim.x a multiple of 32 (<= 1024); every thread gets the result.
// `scratch` is __shared__ T[32]; the call synchronizes the block, so it may be reused after.
template <class T> __device__ T block_sum(T value, T* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  value = warp_sum(value);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  value = lane < warps ? scratch[lane] : T(0);
  return warp_sum(value);
}
template <class T> __device__ T block_max(T value, T* scratch, T lowest) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  value = warp_max(value);
  __syncthreads();
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  value = lane < warps ? scratch[lane] : lowest;
  return warp_max(value);
}

}  // namespace ember::cuda
