// Launchers of cuda/damped_ema.cu: the EMA kernel's Vandermonde sums (Note [EMA Vandermonde] in
// ops/damped_ema.cpp) and their first-order backward. Raw pointers (Note [CUDA kernel boundary]
// in cuda/layout.h); driven by cuda/damped_ema.cpp.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// weight, decay: (D, N) contiguous -> out (D, L): out[d, j] = Σ_n weight[d, n] decay[d, n]^j.
void ema_vandermonde_forward(ScalarType type, int64_t D, int64_t N, int64_t L, const void* weight, const void* decay,
                             void* out, Stream stream);
// grad (D, L) contiguous -> grad_weight[d, n] = Σ_j grad[d, j] q^j,
//                           grad_decay[d, n]  = weight[d, n] Σ_j grad[d, j] j q^(j-1)   (q = decay[d, n]).
void ema_vandermonde_backward(ScalarType type, int64_t D, int64_t N, int64_t L, const void* weight, const void* decay,
                              const void* grad, void* grad_weight, void* grad_decay, Stream stream);

}  // namespace ember::cuda
