// Launchers of cuda/activation.cu: forward and fused first-order backward of every activation
// (and of sigmoid/tanh for ops/unary.cpp). Plain C++ for g++ and nvcc (Note [CUDA kernel
// boundary], cuda/layout.h). Tensor-level twin: cuda/activation.h; CPU twin: ops/cpu/activation.h
// (ActivationKind numbers the kinds like cpu::Activation: static_assert in cuda/activation.cpp).
#pragma once
#include <cstdint>

#include "cuda/elementwise_launch.h"

namespace ember::cuda {

enum class ActivationKind : uint8_t {
  relu, relu6, leaky_relu, elu, selu, gelu, gelu_tanh, silu, mish, softplus,
  hardswish, hardsigmoid, hardtanh, softsign, logsigmoid, sigmoid, tanh,
};

// cpu::ActivationParams, field for field.
struct ActivationScalars {
  double alpha = 0.0;       // leaky_relu negative slope, elu alpha
  double beta = 1.0;        // softplus beta
  double threshold = 20.0;  // softplus linear threshold (on beta * x)
  double min_value = -1.0;  // hardtanh bounds
  double max_value = 1.0;
};

// out = f(x), one floating `type`.
void launch_activation_forward(ActivationKind kind, ScalarType type, const Operand& out, const Operand& x,
                               const ActivationScalars& scalars, Stream stream);
// grad_input = grad_output * f'(saved) (saved = the input, or the output for sigmoid and tanh).
void launch_activation_backward(ActivationKind kind, ScalarType type, const Operand& grad_input,
                                const Operand& grad_output, const Operand& saved, const ActivationScalars& scalars,
                                Stream stream);

}  // namespace ember::cuda
