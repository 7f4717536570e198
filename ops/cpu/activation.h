// CPU kernels for ops/activation.cpp (and sigmoid/tanh of ops/unary.cpp): one forward and one
// fused first-order backward per activation, both plain elementwise loops over unary_kernel /
// binary_kernel (ops/cpu/loops.h), whose unit-stride rows vectorise.
#pragma once
#include "engine/tensor.h"

namespace ember::cpu {

enum class Activation {
  relu, relu6, leaky_relu, elu, selu, gelu, gelu_tanh, silu, mish, softplus,
  hardswish, hardsigmoid, hardtanh, softsign, logsigmoid, sigmoid, tanh,
};

// The scalar parameters an activation uses; the rest are ignored.
struct ActivationParams {
  double alpha = 0.0;      // leaky_relu negative slope, elu alpha
  double beta = 1.0;       // softplus beta
  double threshold = 20.0; // softplus linear threshold (on beta * x)
  double min_value = -1.0; // hardtanh bounds
  double max_value = 1.0;
};

// Whether the backward of `kind` reads the forward output (sigmoid, tanh) rather than the input.
bool backward_uses_output(Activation kind);

// out = f(x); out and x share a floating dtype. `op` names the op in dtype errors.
void activation_forward(const char* op, const Tensor& out, const Tensor& x, Activation kind,
                        const ActivationParams& params);
// grad_input = grad_output * f'(x)  (f' written from the output for sigmoid and tanh: `saved` is
// then the forward output). All three share one floating dtype; grad_output and saved broadcast.
void activation_backward(const char* op, const Tensor& grad_input, const Tensor& grad_output, const Tensor& saved,
                         Activation kind, const ActivationParams& params);

}  // namespace ember::cpu
