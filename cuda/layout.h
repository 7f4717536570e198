// Plain descriptions of tensors that cross the g++ / nvcc boundary.
// Note [CUDA kernel boundary]: nvcc cannot parse the engine's headers (fmt's consteval format
// strings), so every CUDA family is split in two: cuda/<family>.cpp (g++) takes Tensors, checks
// them, and unpacks them into the raw pointers and these POD structs; cuda/<family>.cu (nvcc)
// holds the kernels and their launchers and includes only CUDA headers, this file, cuda/check.h
// and cuda/kernel_util.cuh. Errors in .cu files are raised with cuda::detail::kernel_error.
// Twins: ops/<family>.cpp picks cuda:: or cpu:: with one visible switch (Note [CUDA dispatch] in
// engine/dispatch.h).
#pragma once
#include <cstdint>

namespace ember::cuda {

// The element types of engine/dtype.h, by the same numbers (static_assert in cuda/tensor_args.h).
enum class ScalarType : uint8_t { f32, f64, i64, i32, u8, bool_, bf16, f16 };

// Sizes and element strides of a tensor view, up to kMaxDims dims (more is rejected on the host).
struct StridedLayout {
  static constexpr int kMaxDims = 12;
  int ndim = 0;
  int64_t numel = 1;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};  // in elements
  bool contiguous = true;          // row-major dense: element i sits at offset i

  // Element offset of row-major linear index i (walks the dims from the last).
#ifdef __CUDACC__
  __host__ __device__
#endif
  int64_t offset_of(int64_t i) const {
    if (contiguous) return i;
    int64_t offset = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t size = sizes[d];
      offset += (i % size) * strides[d];
      i /= size;
    }
    return offset;
  }
};

}  // namespace ember::cuda
