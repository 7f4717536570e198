// CPU kernels for ops/unary.cpp: out is already allocated in the result dtype and the input
// converted to it (float ops get float inputs). Scalar helpers: ops/cpu/math.h.
#pragma once
#include "engine/tensor.h"

namespace ember::cpu {

enum class UnaryOp {
  // float in, float out (integer inputs are converted to float32 by the API)
  exp, expm1, log, log1p, log2, sqrt, rsqrt, sin, cos, tan, erf, erfinv, reciprocal,
  // keep the dtype: any numeric dtype except bool (rounding is the identity on integers)
  abs, sign, square, floor, ceil, round, trunc,
};
const char* unary_op_name(UnaryOp op);
// out = op(x); x has out's dtype and broadcasts to out's shape.
void unary(const Tensor& out, const Tensor& x, UnaryOp op);

enum class FloatClass { nan, inf, finite };
// out (bool) = isnan / isinf / isfinite(x), for any dtype.
void classify(const Tensor& out, const Tensor& x, FloatClass which);

void exp(const Tensor& out, const Tensor& x);
void sqrt(const Tensor& out, const Tensor& x);
void clamp(const Tensor& out, const Tensor& x, double min_value, double max_value);

}  // namespace ember::cpu
