// cuda/blas.h: per-thread, per-device cuBLAS/cuBLASLt handles and the cuBLAS error helper.
#include "cuda/blas.h"

#include <fmt/format.h>

#include <vector>

#include "engine/error.h"

namespace ember::cuda {

namespace detail {

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  ::ember::detail::throw_error(file, line,
                               fmt::format("cublas: {} failed: {} ({})", call, cublasGetStatusString(status),
                                           cublasGetStatusName(status)));
}

}  // namespace detail

namespace {

// Note [Library handles] in cuda/blas.h. Indexed by device; grown on first use.
struct ThreadHandles {
  std::vector<cublasHandle_t> blas;
  std::vector<cublasLtHandle_t> lt;
};
thread_local ThreadHandles thread_handles;

template <class H, class Create>
H& handle_slot(std::vector<H>& slots, int device, Create create) {
  if (slots.size() <= static_cast<size_t>(device)) slots.resize(static_cast<size_t>(device) + 1, nullptr);
  H& slot = slots[static_cast<size_t>(device)];
  if (slot == nullptr) {
    DeviceGuard guard(device);
    create(&slot);
  }
  return slot;
}

}  // namespace

cublasHandle_t cublas_handle(Stream stream, void* workspace, size_t workspace_bytes) {
  cublasHandle_t handle = handle_slot(thread_handles.blas, stream.device, [](cublasHandle_t* h) {
    EMBER_CUBLAS_CHECK(cublasCreate(h));
    // Tensor-core use is decided per call by the compute type (cuda/matmul.cpp), not the handle.
    EMBER_CUBLAS_CHECK(cublasSetMathMode(*h, CUBLAS_DEFAULT_MATH));
  });
  EMBER_CUBLAS_CHECK(cublasSetStream(handle, static_cast<cudaStream_t>(stream.handle)));
  EMBER_CUBLAS_CHECK(cublasSetWorkspace(handle, workspace, workspace_bytes));
  return handle;
}

cublasLtHandle_t cublaslt_handle(int device) {
  return handle_slot(thread_handles.lt, device, [](cublasLtHandle_t* h) { EMBER_CUBLASLT_CHECK(cublasLtCreate(h)); });
}

}  // namespace ember::cuda
