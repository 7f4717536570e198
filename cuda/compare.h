// CUDA twins of ops/cpu/compare.h (same names and signatures, namespace ember::cuda; the op enum
// is the CPU's). Kernels: cuda/compare.cu via cuda/compare_launch.h. Plain C++; CUDA builds only.
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/compare.h"

namespace ember::cuda {

using cpu::CompareOp;

// out (bool) = a <op> b; a and b share one dtype and broadcast to out.
void compare(const Tensor& out, const Tensor& a, const Tensor& b, CompareOp op);
void logical_not(const Tensor& out, const Tensor& a);
// out = condition ? a : b (a, b and out share one dtype; condition is bool).
void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b);

}  // namespace ember::cuda
