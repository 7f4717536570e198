// MEGA's multi-dimensional damped EMA (Ma et al. 2023), the SSM baseline CHELA replaces.
// Its kernel is materialized for the sequence length and applied with long_conv (FFT).
// Twins: ops/damped_ema.cpp.
#pragma once
#include "engine/tensor.h"

namespace ember {

// Per channel d and EMA dimension n (all parameters (D, N), unconstrained; the op applies
// alpha = sigmoid(alpha_logit), delta = sigmoid(delta_logit) as MEGA does):
//   k[d, t] = sum_n gamma[d, n] * alpha[d, n] * beta[d, n] * (1 - alpha[d, n] * delta[d, n])^t
// for t = 0..L-1 -> k: (D, L). Differentiable in all four parameters.
Tensor damped_ema_kernel(const Tensor& alpha_logit, const Tensor& delta_logit, const Tensor& beta,
                         const Tensor& gamma, int64_t L);

// The EMA output: x: (B, L, D) -> long_conv(x, kernel, causal) + omega * x, omega: (D).
// bidirectional: a second kernel (from the second half of N) runs over the reversed sequence,
// as in MEGA's bidirectional encoder; then N must be even.
Tensor damped_ema(const Tensor& x, const Tensor& alpha_logit, const Tensor& delta_logit, const Tensor& beta,
                  const Tensor& gamma, const Tensor& omega, bool bidirectional = false);

}  // namespace ember
