// Launchers of cuda/embedding.cu: row gather (forward) and deterministic scatter-add (backward).
// Raw pointers only (Note [CUDA kernel boundary] in cuda/layout.h); Tensor side: cuda/embedding.cpp.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// out: (n, D) contiguous; weight: (V, D) with element strides (row_stride, col_stride);
// indices: n int64 in [0, V). Rows whose index equals zero_row (when >= 0) are written as zeros.
void embedding_forward(void* out, const void* weight, ScalarType type, int64_t row_stride, int64_t col_stride,
                       const int64_t* indices, int64_t n, int64_t D, int64_t zero_row, Stream stream);

// Device scratch bytes embedding_backward needs for n indices.
size_t embedding_backward_workspace_bytes(int64_t n, int64_t V);
// grad_weight: (V, D) contiguous zeros on entry; grad: (n, D) contiguous. Rows of index skip_row
// (when >= 0) are left zero. Deterministic: contributions to a row are added in index order.
void embedding_backward(void* grad_weight, const void* grad, ScalarType type, const int64_t* indices, int64_t n,
                        int64_t V, int64_t D, int64_t skip_row, void* workspace, size_t workspace_bytes, Stream stream);

}  // namespace ember::cuda
