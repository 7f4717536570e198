// Matrix products: matmul (PyTorch broadcasting), mm, bmm, dot, outer, linear, einsum (two operands).
// Twins: ops/cpu/matmul.cpp (kernels), autograd/derivatives/matmul.md (formulas).
#pragma once
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace ember {

// torch.matmul: 1-D·1-D dot, 2-D·1-D and 1-D·2-D matrix-vector, 2-D·2-D, and batched N-D with
// broadcasting of the batch dims (a 1-D operand gets a size-1 dim that is removed afterwards).
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);   // (M, K) · (K, N)
Tensor bmm(const Tensor& a, const Tensor& b);  // (B, M, K) · (B, K, N)
Tensor dot(const Tensor& a, const Tensor& b);  // 1-D · 1-D -> 0-d
Tensor outer(const Tensor& a, const Tensor& b);  // (M) ⊗ (N) -> (M, N)
// x·Wᵀ + b with x (..., in), weight (out, in), bias (out) or undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// Einstein summation over one or two operands, e.g. "bhid,bhjd->bhij", "ij->ji", "ii->".
// Without "->" the output holds the letters that occur once, in alphabetical order (as in
// PyTorch). Lowered to diagonal / sum / permute / reshape / bmm, so it is differentiable.
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

}  // namespace ember
