// CPU kernels for ops/compare.cpp.
#pragma once
#include "engine/tensor.h"

namespace ember::cpu {

enum class CompareOp { eq, ne, lt, le, gt, ge, logical_and, logical_or, logical_xor };
// out (bool) = a <op> b; a and b share one dtype and broadcast to out.
void compare(const Tensor& out, const Tensor& a, const Tensor& b, CompareOp op);
void logical_not(const Tensor& out, const Tensor& a);
// out = condition ? a : b (a, b and out share one dtype; condition is bool).
void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b);

}  // namespace ember::cpu
