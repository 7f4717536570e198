// Library math modes that trade float32 precision for speed, off by default (docs/GPU.md,
// "Kernels: matmul, conv"). Header-only plain C++, so it exists in every build.
//
// Note [TF32 off by default]: on Ampere and later GPUs cuBLAS and cuDNN can run float32 products
// on the tensor cores in TF32 (10-bit mantissa inputs, float32 accumulation): several times
// faster, but a float32 GEMM then agrees with the CPU to ~1e-3 instead of ~1e-6. Ember keeps full
// float32 unless the user opts in with cuda::set_allow_tf32(true), which the GEMMs (cuda/matmul.cpp:
// CUBLAS_COMPUTE_32F_FAST_TF32) and convolutions (cuda/conv.cpp: CUDNN_DEFAULT_MATH instead of
// CUDNN_FMA_MATH) read at every call. bfloat16/float16 always use the tensor cores (with float32
// accumulation) and float64 never does. The cuDNN algorithm cache keys on the setting.
#pragma once
#include <atomic>

namespace ember::cuda {

namespace detail {
inline std::atomic<bool> allow_tf32_flag{false};
}  // namespace detail

inline bool allow_tf32() { return detail::allow_tf32_flag.load(std::memory_order_relaxed); }
inline void set_allow_tf32(bool allow) { detail::allow_tf32_flag.store(allow, std::memory_order_relaxed); }

}  // namespace ember::cuda
