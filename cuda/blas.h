// cuBLAS and cuBLASLt handles of the calling thread, one per device, created lazily and bound to
// the stream of each call, plus the checked-call macro for both libraries:
//   EMBER_CUBLAS_CHECK(cublasGemmEx(...));     throws ember::Error naming the call's text, the
//   EMBER_CUBLASLT_CHECK(cublasLtMatmul(...)); status (name and description) and file:line.
// Built only with CUDA (includes the library headers). Users: cuda/matmul.cpp, the GPU benchmarks.
// The TF32 switch the GEMMs read: cuda/math_mode.h. Docs: docs/GPU.md, "Kernels: matmul, conv".
#pragma once
#include <cublasLt.h>
#include <cublas_v2.h>

#include <cstddef>

#include "cuda/runtime.h"

namespace ember::cuda {

// The workspace each cuBLAS/cuBLASLt call gets (cuda/workspace.h): 32 MiB, what cuBLAS itself
// reserves per handle on Hopper.
inline constexpr size_t kBlasWorkspaceBytes = size_t{32} << 20;

// Note [Library handles]: handles are per thread and per device (a cuBLAS handle must not be
// used by two threads at once with different streams), created on first use under the device's
// DeviceGuard and never destroyed (destroying them from static destructors races the driver's
// own teardown). Every call binds the handle to the call's stream, and cuBLAS also to the call's
// workspace, since cublasSetStream resets a user workspace.
cublasHandle_t cublas_handle(Stream stream, void* workspace, size_t workspace_bytes);
cublasLtHandle_t cublaslt_handle(int device);

namespace detail {
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);
}  // namespace detail

}  // namespace ember::cuda

#define EMBER_CUBLAS_CHECK(call)                                                              \
  do {                                                                                        \
    const cublasStatus_t ember_cublas_status_ = (call);                                       \
    if (ember_cublas_status_ != CUBLAS_STATUS_SUCCESS) [[unlikely]] {                         \
      ::ember::cuda::detail::throw_cublas_error(ember_cublas_status_, #call, __FILE__, __LINE__); \
    }                                                                                         \
  } while (0)
// cuBLASLt reports with cublasStatus_t too; the second name only says which library is called.
#define EMBER_CUBLASLT_CHECK(call) EMBER_CUBLAS_CHECK(call)
