// cuda/runtime.h over the CUDA runtime API (built only when CUDA is enabled; its twin for
// -Dcuda=disabled is runtime_nocuda.cpp): devices, streams, the checked-call helpers of
// cuda/check.h, and the cudaMalloc backend of the per-device caching allocators.
// Plain C++ compiled by g++ against <cuda_runtime.h>: no device code here, so no nvcc.
#include <fmt/format.h>

#include <memory>
#include <mutex>
#include <vector>

#include "cuda/check.h"
#include "cuda/runtime.h"
#include "engine/error.h"

namespace ember::cuda {

namespace detail {

void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line) {
  // Clear the error unless it is sticky (a sticky one poisons the context until the process ends).
  cudaGetLastError();
  ::ember::detail::throw_error(file, line,
                               fmt::format("cuda: {} failed: {} ({})", call, cudaGetErrorString(error),
                                           cudaGetErrorName(error)));
}

void kernel_error(const char* op, const char* what) {
  ::ember::detail::throw_error(__FILE__, __LINE__, fmt::format("cuda {}: {}", op, what));
}

void check_launch(const char* op, const char* file, int line) {
  if (const cudaError_t error = cudaGetLastError(); error != cudaSuccess) {
    ::ember::detail::throw_error(file, line,
                                 fmt::format("cuda: launching {} failed: {} ({})", op, cudaGetErrorString(error),
                                             cudaGetErrorName(error)));
  }
  if (sync_debug()) {
    if (const cudaError_t error = cudaDeviceSynchronize(); error != cudaSuccess) {
      cudaGetLastError();
      ::ember::detail::throw_error(file, line,
                                   fmt::format("cuda: {} failed while running (sync_debug): {} ({})", op,
                                               cudaGetErrorString(error), cudaGetErrorName(error)));
    }
  }
}

}  // namespace detail

DeviceGuard::DeviceGuard(int device) {
  EMBER_CUDA_CHECK(cudaGetDevice(&previous_));
  if (device != previous_) EMBER_CUDA_CHECK(cudaSetDevice(device));
}
DeviceGuard::~DeviceGuard() { cudaSetDevice(previous_); }  // no throw from a destructor; it was valid before

namespace {



// -1 -> the current device; otherwise checks the index.
int resolve_device(int device, const char* op) {
  const int count = device_count();
  EMBER_CHECK(count > 0, "cuda::{}: no CUDA device is available (no driver, or no GPU on this machine)", op);
  if (device < 0) return current_device();
  EMBER_CHECK(device < count, "cuda::{}: device {} requested but only {} visible", op, device, count);
  return device;
}

class CudaMallocBackend final : public MemoryBackend {
 public:
  explicit CudaMallocBackend(int device) : device_(device) {}
  void* malloc(size_t bytes) override {
    DeviceGuard guard(device_);
    void* ptr = nullptr;
    const cudaError_t error = cudaMalloc(&ptr, bytes);
    if (error == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // not sticky: the allocator will release its cache and retry
      return nullptr;
    }
    if (error != cudaSuccess) detail::throw_cuda_error(error, "cudaMalloc(&ptr, bytes)", __FILE__, __LINE__);
    return ptr;
  }
  void free(void* ptr) override {
    DeviceGuard guard(device_);
    EMBER_CUDA_CHECK(cudaFree(ptr));
  }
  std::string name() const override { return fmt::format("cuda:{}", device_); }

 private:
  int device_;
};

// The calling thread's current stream per device (nullptr = default stream).
thread_local std::vector<void*> current_streams;

}  // namespace

int device_count() {
  // Asked once: the count cannot change while the process runs.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {  // no driver / no device: "none", never an error
      cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

const char* unavailable_reason() { return "no CUDA device is available (no driver, or no GPU on this machine)"; }

bool is_available() { return device_count() > 0; }

DeviceProperties device_properties(int device) {
  device = resolve_device(device, "device_properties");
  cudaDeviceProp prop{};
  EMBER_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DeviceProperties out;
  out.index = device;
  out.name = prop.name;
  out.total_memory = prop.totalGlobalMem;
  out.multiprocessor_count = prop.multiProcessorCount;
  out.major = prop.major;
  out.minor = prop.minor;
  out.warp_size = prop.warpSize;
  out.max_threads_per_block = prop.maxThreadsPerBlock;
  out.shared_memory_per_block_optin = prop.sharedMemPerBlockOptin;
  out.l2_cache_size = static_cast<size_t>(prop.l2CacheSize);
  return out;
}

int current_device() {
  EMBER_CHECK(device_count() > 0, "cuda::current_device: no CUDA device is available");
  int device = 0;
  EMBER_CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

void set_device(int device) {
  device = resolve_device(device, "set_device");
  EMBER_CUDA_CHECK(cudaSetDevice(device));
}

Stream current_stream(int device) {
  device = resolve_device(device, "current_stream");
  if (current_streams.size() < static_cast<size_t>(device_count())) current_streams.resize(device_count(), nullptr);
  return Stream{device, current_streams[device]};
}

void set_current_stream(Stream stream) {
  const int device = resolve_device(stream.device, "set_current_stream");
  if (current_streams.size() < static_cast<size_t>(device_count())) current_streams.resize(device_count(), nullptr);
  current_streams[device] = stream.handle;
}

Stream create_stream(int device) {
  device = resolve_device(device, "create_stream");
  DeviceGuard guard(device);
  cudaStream_t stream = nullptr;
  EMBER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return Stream{device, stream};
}

void destroy_stream(Stream stream) {
  EMBER_CHECK(stream.handle != nullptr, "cuda::destroy_stream: the default stream of cuda:{} cannot be destroyed",
              stream.device);
  DeviceGuard guard(resolve_device(stream.device, "destroy_stream"));
  EMBER_CUDA_CHECK(cudaStreamDestroy(static_cast<cudaStream_t>(stream.handle)));
}

void synchronize(Stream stream) {
  DeviceGuard guard(resolve_device(stream.device, "synchronize"));
  EMBER_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream.handle)));
}

void synchronize_device(int device) {
  DeviceGuard guard(resolve_device(device, "synchronize_device"));
  EMBER_CUDA_CHECK(cudaDeviceSynchronize());
}

void copy_to_host(void* dst, const void* src, size_t bytes, Stream stream) {
  DeviceGuard guard(resolve_device(stream.device, "copy_to_host"));
  const auto s = static_cast<cudaStream_t>(stream.handle);
  EMBER_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
  EMBER_CUDA_CHECK(cudaStreamSynchronize(s));
}

void copy_to_device(void* dst, const void* src, size_t bytes, Stream stream) {
  DeviceGuard guard(resolve_device(stream.device, "copy_to_device"));
  const auto s = static_cast<cudaStream_t>(stream.handle);
  EMBER_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s));
  EMBER_CUDA_CHECK(cudaStreamSynchronize(s));
}

CachingAllocator& device_allocator(int device) {
  device = resolve_device(device, "device_allocator");
  static std::mutex mutex;
  // Never destroyed: blocks may be freed by static destructors after main returns, and cudaFree
  // during process teardown fails anyway (PyTorch leaks its allocators the same way).
  static auto* allocators = new std::vector<CachingAllocator*>(device_count(), nullptr);
  std::lock_guard<std::mutex> lock(mutex);
  CachingAllocator*& slot = (*allocators)[device];
  if (slot == nullptr) slot = new CachingAllocator(std::make_unique<CudaMallocBackend>(device));
  return *slot;
}

}  // namespace ember::cuda
