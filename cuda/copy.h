// Launchers of cuda/copy.cu: strided copy with dtype conversion, and fill. Raw pointers and
// StridedLayouts (Note [CUDA kernel boundary] in cuda/layout.h); the Tensor-level entry points
// that engine/copy.cpp calls are in cuda/tensor_copy.h. CPU twin: engine/copy.cpp.
#pragma once
#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// dst[dst_layout.offset_of(i)] = convert(src[src_layout.offset_of(i)]) for i < dst_layout.numel;
// both layouts describe the same shape. Queued on `stream`.
void copy_strided(void* dst, ScalarType dst_type, const StridedLayout& dst_layout, const void* src,
                  ScalarType src_type, const StridedLayout& src_layout, Stream stream);
// Every element of the view = value (converted like a copy from double).
void fill_strided(void* dst, ScalarType type, const StridedLayout& layout, double value, Stream stream);

}  // namespace ember::cuda
