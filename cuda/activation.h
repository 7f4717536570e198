// CUDA twins of ops/cpu/activation.h (same names and signatures, namespace ember::cuda; the
// Activation enum and ActivationParams are the CPU's). Kernels: cuda/activation.cu via
// cuda/activation_launch.h. Plain C++; CUDA builds only. Unlike the CPU, bf16 and f16 run too.
#pragma once
#include "engine/tensor.h"
#include "ops/cpu/activation.h"

namespace ember::cuda {

using cpu::Activation;
using cpu::ActivationParams;

// out = f(x); out and x share a floating dtype. `op` names the op in errors.
void activation_forward(const char* op, const Tensor& out, const Tensor& x, Activation kind,
                        const ActivationParams& params);
// grad_input = grad_output * f'(saved) (saved = the forward output for sigmoid and tanh, else the
// input). All three share one floating dtype; grad_output and saved broadcast.
void activation_backward(const char* op, const Tensor& grad_input, const Tensor& grad_output, const Tensor& saved,
                         Activation kind, const ActivationParams& params);

}  // namespace ember::cuda
