// Launchers of cuda/elementwise.cu (arithmetic: add, mul, div, pow, minimum, maximum, fmod,
// remainder, neg, pow by a scalar, lerp, addcmul, addcdiv), and the Operand every elementwise
// family (cuda/{elementwise,unary,activation,compare}_launch.h) passes: raw pointer + strides in the
// OUTPUT's shape (stride 0 on broadcast dims). Plain C++ for g++ and nvcc (Note [CUDA kernel
// boundary], cuda/layout.h). Tensor-level twin: cuda/elementwise.h; CPU twin: ops/cpu/elementwise.h.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// One operand of an elementwise kernel: `layout.sizes` is the output's shape for every operand.
struct Operand {
  void* data = nullptr;
  StridedLayout layout;
};

// The ops of cpu::add ... cpu::remainder that read two tensors; operands share `type`.
enum class BinaryKind : uint8_t { add, mul, div, pow, minimum, maximum, fmod, remainder };
// out = a <kind> b; `alpha` scales b for add (out = a + alpha * b) and is ignored otherwise.
void launch_binary(BinaryKind kind, ScalarType type, const Operand& out, const Operand& a, const Operand& b,
                   double alpha, Stream stream);

void launch_neg(ScalarType type, const Operand& out, const Operand& a, Stream stream);
void launch_pow_scalar(ScalarType type, const Operand& out, const Operand& base, double exponent, Stream stream);
void launch_lerp_scalar(ScalarType type, const Operand& out, const Operand& start, const Operand& end, double weight,
                        Stream stream);

enum class TernaryKind : uint8_t { lerp, addcmul, addcdiv };
// lerp: out = lerp(x, a, b) (b the weight); addcmul / addcdiv: out = x + value * a (* or /) b.
void launch_ternary(TernaryKind kind, ScalarType type, const Operand& out, const Operand& x, const Operand& a,
                    const Operand& b, double value, Stream stream);

}  // namespace ember::cuda
