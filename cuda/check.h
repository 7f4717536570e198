// Checked CUDA calls, for code built only with CUDA (it includes <cuda_runtime.h>):
//   EMBER_CUDA_CHECK(cudaMalloc(&p, n));   throws ember::Error naming the call's text, the CUDA error
//                                          (name and cudaGetErrorString) and file:line;
//   kernel<<<grid, block, 0, s>>>(...); EMBER_CUDA_LAUNCH_CHECK("layer_norm");
//                                          checks the launch (cudaGetLastError) and, under
//                                          sync_debug (cuda/runtime.h), synchronizes the device so an
//                                          asynchronous fault is blamed on the op that caused it.
// cuBLAS/cuDNN/cuFFT/NCCL get their twins of EMBER_CUDA_CHECK with their libraries.
#pragma once
#include <cuda_runtime.h>

namespace ember::cuda::detail {
[[noreturn]] void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line);
void check_launch(const char* op, const char* file, int line);
// Raises ember::Error "cuda <op>: <what>" from code nvcc compiles (which cannot include
// engine/error.h: Note [CUDA kernel boundary] in cuda/layout.h).
[[noreturn]] void kernel_error(const char* op, const char* what);
}  // namespace ember::cuda::detail

#define EMBER_CUDA_CHECK(call)                                                         \
  do {                                                                                 \
    const cudaError_t ember_cuda_error_ = (call);                                      \
    if (ember_cuda_error_ != cudaSuccess) [[unlikely]] {                               \
      ::ember::cuda::detail::throw_cuda_error(ember_cuda_error_, #call, __FILE__, __LINE__); \
    }                                                                                  \
  } while (0)

#define EMBER_CUDA_LAUNCH_CHECK(op) ::ember::cuda::detail::check_launch(op, __FILE__, __LINE__)
