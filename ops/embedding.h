// embedding lookup with padding_idx.
// Twin: ops/cpu/embedding.cpp (kernels), autograd/derivatives/nn.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {

// Rows of weight (V, D) picked by indices (any shape, int64 or int32): out has shape
// (*indices.shape, D). padding_idx in [0, V) names a row that gets no gradient; -1 means none.
Tensor embedding(const Tensor& indices, const Tensor& weight, int64_t padding_idx = -1);

// The backward of embedding, itself differentiable: a (num_weights, D) tensor whose row v is the
// sum of grad's rows at the positions where indices == v (row padding_idx stays zero).
// grad: (*indices.shape, D). Deterministic (a fixed summation order on any thread count).
Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights, int64_t padding_idx = -1);

}  // namespace ember
