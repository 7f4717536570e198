// CPU kernels for ops/embedding.cpp. Indices arrive contiguous as int64 and already range-checked.
#pragma once
#include "engine/tensor.h"

namespace ember::cpu {

// out: (n, D) contiguous; weight: (V, D) any strides; indices: (n) int64.
// Rows whose index equals zero_row (when >= 0) are written as zeros.
void embedding_fwd(const Tensor& out, const Tensor& weight, const Tensor& indices, int64_t zero_row);
// grad_weight: (V, D) contiguous zeros on entry; grad: (n, D) contiguous. Rows of index skip_row
// (when >= 0) are not accumulated.
void embedding_bwd(const Tensor& grad_weight, const Tensor& grad, const Tensor& indices, int64_t skip_row);

}  // namespace ember::cpu
