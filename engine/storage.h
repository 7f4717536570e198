// Storage: a ref-counted block of device memory. Tensors are views over a Storage
// (sizes, strides, offset); many tensors may share one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "engine/device.h"

namespace ember {

class Storage {
 public:
  // Allocates `nbytes` on `device` (64-byte aligned on the CPU, uninitialised).
  Storage(size_t nbytes, Device device);
  // Wraps memory the caller owns; `deleter` runs when the last tensor lets go.
  Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  std::function<void(void*)> deleter_;
};

// Bytes currently held by CPU storages (for tests and the profiler).
size_t cpu_bytes_allocated();
// The high-water mark of cpu_bytes_allocated() since the last reset (engine/profiler.cpp).
size_t cpu_peak_bytes_allocated();
void reset_cpu_peak_bytes_allocated();
// Bytes this thread has allocated since it started (never decreases): the profiler's per-op count.
uint64_t thread_bytes_allocated_total();

}  // namespace ember
