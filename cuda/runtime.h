// The CUDA runtime layer: device discovery and properties, current device, one current stream per
// device (+ user streams), the per-device caching allocators, and the sync_debug switch.
// Every function exists in every build: runtime_cuda.cpp implements them over the CUDA runtime API
// (built with -Dcuda=auto when nvcc is found), runtime_nocuda.cpp for -Dcuda=disabled, where
// is_available() is false, device_count() is 0 and the rest raise "built without CUDA".
// Checked-call macros for code that calls CUDA itself: cuda/check.h. Docs: docs/GPU.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "cuda/caching_allocator.h"

namespace ember::cuda {

// True when the library was built with CUDA and a device is usable (driver present, >= 1 GPU).
bool is_available();
// Number of visible devices; 0 without a driver or without CUDA support, never an error.
int device_count();
// Why is_available() is false, for error messages: "no CUDA device is available (...)" or
// "Ember was built without CUDA (...)".
const char* unavailable_reason();

struct DeviceProperties {
  int index = 0;
  std::string name;
  size_t total_memory = 0;  // bytes
  int multiprocessor_count = 0;
  int major = 0;  // compute capability major.minor (9.0 for the H100/H200)
  int minor = 0;
  int warp_size = 0;
  int max_threads_per_block = 0;
  size_t shared_memory_per_block_optin = 0;  // bytes
  size_t l2_cache_size = 0;                  // bytes
  // "cuda:0 NVIDIA H200, sm_90, 132 SMs, 139.80 GiB"
  std::string str() const;
};
DeviceProperties device_properties(int device);

// The calling thread's current device (cudaGetDevice / cudaSetDevice).
int current_device();
void set_device(int device);

// Sets the calling thread's current device for a scope and restores the previous one. Every
// launch on a tensor's device runs under one (the ops' cuda/<family>.cpp wrappers).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// A stream of one device. handle is the cudaStream_t (nullptr = the device's legacy default
// stream). Plain value: copying does not own anything.
struct Stream {
  int device = 0;
  void* handle = nullptr;
  StreamId id() const { return reinterpret_cast<StreamId>(handle); }
  bool operator==(const Stream&) const = default;
};
// The calling thread's current stream of `device` (-1 = the current device); the default stream
// until set_current_stream changes it.
Stream current_stream(int device = -1);
void set_current_stream(Stream stream);
// A user stream (non-blocking with respect to the default stream); destroy it once its work is
// done and no block allocated on it is in use.
Stream create_stream(int device = -1);
void destroy_stream(Stream stream);
void synchronize(Stream stream);
void synchronize_device(int device = -1);
// Copies between host and device memory on `stream` and waits for the copy.
void copy_to_host(void* dst, const void* src, size_t bytes, Stream stream);
void copy_to_device(void* dst, const void* src, size_t bytes, Stream stream);

// The caching allocator of `device` (-1 = current), created on first use over cudaMalloc.
CachingAllocator& device_allocator(int device = -1);
MemoryStats memory_stats(int device = -1);
void empty_cache(int device = -1);

// sync_debug: when on, every checked launch (EMBER_CUDA_LAUNCH_CHECK) synchronizes the device
// so an asynchronous error is reported by the op that caused it. Starts from the environment
// (EMBER_CUDA_SYNC_DEBUG=1); set_sync_debug overrides it for the whole process.
bool sync_debug();
void set_sync_debug(bool on);
// Parses an EMBER_CUDA_SYNC_DEBUG value: "1", "true", "on", "yes" (any case) are on; unset/other off.
bool parse_sync_debug(const char* value);

}  // namespace ember::cuda
