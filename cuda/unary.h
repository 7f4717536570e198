// CUDA twins of ops/cpu/unary.h (same names and signatures, namespace ember::cuda; the op enums
// are the CPU's). Kernels: cuda/unary.cu via cuda/unary_launch.h. Plain C++; CUDA builds only.
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/unary.h"

namespace ember::cuda {

using cpu::FloatClass;
using cpu::UnaryOp;

// out = op(x); x has out's dtype and broadcasts to out's shape.
void unary(const Tensor& out, const Tensor& x, UnaryOp op);
// out (bool) = isnan / isinf / isfinite(x), for any dtype.
void classify(const Tensor& out, const Tensor& x, FloatClass which);

void exp(const Tensor& out, const Tensor& x);
void sqrt(const Tensor& out, const Tensor& x);
void clamp(const Tensor& out, const Tensor& x, double min_value, double max_value);

}  // namespace ember::cuda
