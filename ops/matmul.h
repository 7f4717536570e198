// Matrix products: matmul (PyTorch broadcasting), bmm, linear, outer, einsum (two operands).
// Twin: ops/cpu/matmul.cpp (kernels), autograd/DERIVATIVES.md (formulas).
#pragma once
#include "engine/tensor.h"

namespace ember {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
// x·Wᵀ + b with x (..., in), weight (out, in), bias (out) or undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace ember
