// Launchers of cuda/softmax.cu: softmax / log_softmax forward and fused backward over a
// contiguous (outer, size, inner) view, softmax along `size`. Raw pointers only
// (Note [CUDA kernel boundary] in cuda/layout.h). Tensor side: cuda/softmax.cpp.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

struct SoftmaxDims {
  int64_t outer = 1, size = 1, inner = 1;
};

// y = softmax(x) or log_softmax(x); x, y contiguous, same shape and dtype.
void softmax_forward(void* y, const void* x, ScalarType type, SoftmaxDims dims, bool log, Stream stream);
// softmax:     grad_in = y * (g - sum(g * y));   log_softmax: grad_in = g - exp(y) * sum(g)
void softmax_backward(void* grad_in, const void* grad_out, const void* y, ScalarType type, SoftmaxDims dims, bool log,
                      Stream stream);

}  // namespace ember::cuda
