// Activations: relu family, elu/selu, gelu (erf or tanh), silu, mish, softplus, hard variants,
// softsign, logsigmoid, glu. sigmoid and tanh are in ops/unary.h.
// Twins: ops/cpu/activation.cpp (kernels), autograd/derivatives/elementwise.md (formulas).
// Inputs must be floating point. Gradients at kinks follow PyTorch (relu'(0) = 0, ...).
#pragma once
#include <string>

#include "engine/tensor.h"

namespace ember {

Tensor relu(const Tensor& x);
Tensor relu6(const Tensor& x);  // hardtanh(x, 0, 6)
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor selu(const Tensor& x);
// approximate: "none" (x * Phi(x), with erf) or "tanh".
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
Tensor silu(const Tensor& x);  // x * sigmoid(x)
Tensor mish(const Tensor& x);  // x * tanh(softplus(x))
// log(1 + exp(beta x)) / beta, and x itself where beta x > threshold.
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor hardswish(const Tensor& x);
Tensor hardsigmoid(const Tensor& x);
Tensor hardtanh(const Tensor& x, double min_val = -1.0, double max_val = 1.0);
Tensor softsign(const Tensor& x);    // x / (1 + |x|)
Tensor logsigmoid(const Tensor& x);  // log(sigmoid(x)), stable for large |x|
// Gated linear unit: splits x in halves a, b along `dim` and returns a * sigmoid(b).
Tensor glu(const Tensor& x, int64_t dim = -1);

}  // namespace ember
