// The cuDNN handle of the calling thread, one per device, created lazily and bound to the stream
// of each call (Note [Library handles] in cuda/blas.h), and the checked-call macro:
//   EMBER_CUDNN_CHECK(cudnnConvolutionForward(...));  throws ember::Error naming the call's text,
//                                                     the status, cuDNN's last error message and
//                                                     file:line.
// Built only with CUDA. User: cuda/conv.cpp. Docs: docs/GPU.md, "Kernels: matmul, conv".
#pragma once
#include <cudnn.h>

#include "cuda/runtime.h"

namespace ember::cuda {

cudnnHandle_t cudnn_handle(Stream stream);

namespace detail {
[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line);
}  // namespace detail

}  // namespace ember::cuda

#define EMBER_CUDNN_CHECK(call)                                                             \
  do {                                                                                      \
    const cudnnStatus_t ember_cudnn_status_ = (call);                                       \
    if (ember_cudnn_status_ != CUDNN_STATUS_SUCCESS) [[unlikely]] {                         \
      ::ember::cuda::detail::throw_cudnn_error(ember_cudnn_status_, #call, __FILE__, __LINE__); \
    }                                                                                       \
  } while (0)
