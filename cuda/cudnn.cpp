// cuda/cudnn.h: per-thread, per-device cuDNN handles and the cuDNN error helper.
#include "cuda/cudnn.h"

#include <fmt/format.h>

#include <vector>

#include "engine/error.h"

namespace ember::cuda {

namespace detail {

void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  char message[512] = {};
  cudnnGetLastErrorString(message, sizeof(message));  // cuDNN 9's detail on the failure, if any
  ::ember::detail::throw_error(file, line,
                               fmt::format("cudnn: {} failed: {}{}{}", call, cudnnGetErrorString(status),
                                           message[0] ? ": " : "", message));
}

}  // namespace detail

namespace {
thread_local std::vector<cudnnHandle_t> thread_cudnn_handles;  // indexed by device
}  // namespace

cudnnHandle_t cudnn_handle(Stream stream) {
  auto& slots = thread_cudnn_handles;
  if (slots.size() <= static_cast<size_t>(stream.device)) slots.resize(static_cast<size_t>(stream.device) + 1, nullptr);
  cudnnHandle_t& handle = slots[static_cast<size_t>(stream.device)];
  if (handle == nullptr) {
    DeviceGuard guard(stream.device);
    EMBER_CUDNN_CHECK(cudnnCreate(&handle));
  }
  EMBER_CUDNN_CHECK(cudnnSetStream(handle, static_cast<cudaStream_t>(stream.handle)));
  return handle;
}

}  // namespace ember::cuda
