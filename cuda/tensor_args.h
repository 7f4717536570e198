// Unpacking Tensors for the CUDA launchers (g++ side of Note [CUDA kernel boundary] in
// cuda/layout.h): the ScalarType of a DType, the StridedLayout of a view, the stream and device
// a tensor's kernels run on. Used by every cuda/<family>.cpp.
#pragma once
#include <initializer_list>

#include "cuda/layout.h"
#include "cuda/runtime.h"
#include "engine/tensor.h"

namespace ember::cuda {

ScalarType scalar_type(DType dtype);
// Sizes and strides of t (at most StridedLayout::kMaxDims dims, else ember::Error naming `op`).
StridedLayout layout_of(const Tensor& t, const char* op = "cuda");
// The current stream of t's device (kernels for t are queued there).
Stream stream_of(const Tensor& t);
// Errors unless every defined tensor is on one CUDA device; returns that device's index.
int common_cuda_device(const char* op, std::initializer_list<const Tensor*> tensors);

}  // namespace ember::cuda
