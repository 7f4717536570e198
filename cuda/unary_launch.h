// Launchers of cuda/unary.cu: the unary math ops, isnan/isinf/isfinite and clamp. Plain C++ for
// g++ and nvcc (Note [CUDA kernel boundary], cuda/layout.h). Tensor-level twin: cuda/unary.h;
// CPU twin: ops/cpu/unary.h (UnaryKind numbers the ops like cpu::UnaryOp: static_assert in
// cuda/unary.cpp).
#pragma once
#include <cstdint>

#include "cuda/elementwise_launch.h"

namespace ember::cuda {

enum class UnaryKind : uint8_t {
  // floating in, floating out
  exp, expm1, log, log1p, log2, sqrt, rsqrt, sin, cos, tan, erf, erfinv, reciprocal,
  // keep the dtype: any numeric dtype except bool
  abs, sign, square, floor, ceil, round, trunc,
};
// out = kind(x); out and x share `type`.
void launch_unary(UnaryKind kind, ScalarType type, const Operand& out, const Operand& x, Stream stream);

enum class FloatClassKind : uint8_t { nan, inf, finite };
// out (bool) = isnan / isinf / isfinite(x), x of any dtype `x_type`.
void launch_classify(FloatClassKind which, ScalarType x_type, const Operand& out, const Operand& x, Stream stream);

// out = min(max(x, min_value), max_value); a NaN bound means "no bound", NaN inputs propagate.
void launch_clamp(ScalarType type, const Operand& out, const Operand& x, double min_value, double max_value,
                  Stream stream);

}  // namespace ember::cuda
