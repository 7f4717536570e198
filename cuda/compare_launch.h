// Launchers of cuda/compare.cu: comparisons and logical ops (bool out), logical_not, where.
// Plain C++ for g++ and nvcc (Note [CUDA kernel boundary], cuda/layout.h). Tensor-level twin:
// cuda/compare.h; CPU twin: ops/cpu/compare.h (CompareKind numbers the ops like cpu::CompareOp:
// static_assert in cuda/compare.cpp).
#pragma once
#include <cstdint>

#include "cuda/elementwise_launch.h"

namespace ember::cuda {

enum class CompareKind : uint8_t { eq, ne, lt, le, gt, ge, logical_and, logical_or, logical_xor };
// out (bool) = a <kind> b; a and b share `type`.
void launch_compare(CompareKind kind, ScalarType type, const Operand& out, const Operand& a, const Operand& b,
                    Stream stream);
// out (bool) = (a == 0).
void launch_logical_not(ScalarType type, const Operand& out, const Operand& a, Stream stream);
// out = condition ? a : b; condition bool, out/a/b share `type`.
void launch_where(ScalarType type, const Operand& out, const Operand& condition, const Operand& a, const Operand& b,
                  Stream stream);

}  // namespace ember::cuda
