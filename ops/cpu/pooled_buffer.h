// PooledBuffer: kernel scratch memory taken from the tensor allocator, whose block cache
// (engine/storage.cpp, Note [Block cache]) hands the same blocks back every training step, where a
// std::vector of 128 KiB or more would be fresh pages from the kernel each time (a page fault
// and a zeroing per 4 KiB). Users: ops/cpu/conv.cpp, ops/cpu/attention.cpp.
#pragma once
#include <algorithm>
#include <cstdint>

#include "engine/factories.h"
#include "engine/tensor.h"

namespace ember::cpu {

template <class T>
class PooledBuffer {
 public:
  // `count` uninitialised elements (at least one, so data() is never null).
  explicit PooledBuffer(int64_t count)
      : storage_(empty({std::max<int64_t>(count, 1)}, TensorOptions(dtype_v<T>))), data_(storage_.data_ptr<T>()) {}
  T* data() const { return data_; }

 private:
  Tensor storage_;
  T* data_;
};

}  // namespace ember::cpu
