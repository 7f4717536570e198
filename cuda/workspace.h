// Scratch device memory for library calls (cuBLAS/cuBLASLt workspaces, cuDNN algorithms), taken
// from the device's caching allocator for one call and given back right after it is queued. The
// block is tagged with the call's stream and only reused by work queued later on that stream, so
// returning it before the kernels finish is safe (cuda/caching_allocator.h) and, in steady state,
// costs no cudaMalloc. Plain C++ (cuda/runtime.h); used by cuda/blas.cpp, matmul.cpp, conv.cpp.
#pragma once
#include <cstddef>

#include "cuda/runtime.h"

namespace ember::cuda {

class Workspace {
 public:
  Workspace(Stream stream, size_t bytes)
      : allocator_(&device_allocator(stream.device)), bytes_(bytes),
        ptr_(bytes ? allocator_->allocate(bytes, stream.id()) : nullptr) {}
  ~Workspace() { allocator_->deallocate(ptr_); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  CachingAllocator* allocator_;
  size_t bytes_;
  void* ptr_;
};

}  // namespace ember::cuda
