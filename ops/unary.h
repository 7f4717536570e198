// Unary math: exp/log family, powers, trig, sigmoid/tanh, erf, rounding, abs/sign, clamp and
// floating-point classification.
// Twins: ops/cpu/unary.cpp (kernels), autograd/derivatives/elementwise.md (formulas).
// Integer inputs compute in float32 (as torch.exp(int_tensor) does), except abs/sign/square/
// clamp/rounding, which keep the dtype (rounding an integer is the identity). bool inputs are
// rejected by the dtype-keeping ops. Activations proper live in ops/activation.h.
#pragma once
#include "engine/tensor.h"

namespace ember {

// ---- float results (integers promote to float32) ----
Tensor exp(const Tensor& x);
Tensor expm1(const Tensor& x);       // exp(x) - 1, accurate near 0
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);       // log(1 + x), accurate near 0
Tensor log2(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);       // 1 / sqrt(x)
Tensor reciprocal(const Tensor& x);  // 1 / x
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tan(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor erfinv(const Tensor& x);      // inverse of erf on [-1, 1]; +-inf at +-1, NaN outside

// ---- same dtype as the input ----
Tensor abs(const Tensor& x);     // gradient sign(x) (0 at 0)
Tensor sign(const Tensor& x);    // -1, 0, +1 (NaN -> 0); gradient zero
Tensor square(const Tensor& x);  // x * x
Tensor floor(const Tensor& x);   // the four rounding ops have zero gradient
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);   // half to even, like torch.round
Tensor trunc(const Tensor& x);
Tensor clamp(const Tensor& x, double min_value, double max_value);
Tensor clamp_min(const Tensor& x, double min_value);
Tensor clamp_max(const Tensor& x, double max_value);

// ---- bool results (never differentiable) ----
Tensor isnan(const Tensor& x);
Tensor isinf(const Tensor& x);
Tensor isfinite(const Tensor& x);

}  // namespace ember
