// Launchers of cuda/linear_attention.cu (the chunked linear-attention core): raw pointers and POD
// arguments (Note [CUDA kernel boundary] in cuda/layout.h). Tensor-level twins:
// cuda/linear_attention.h. CPU twin: ops/cpu/linear_attention.h (same core, same log gates).
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

struct LinearAttentionArgs {
  int64_t batch_heads = 0, L = 0, dk = 0, dv = 0;
  int64_t chunk = 64;  // requested chunk; the kernels use at most 64 (and less if shared memory is short)
  bool causal = true;
};

// q, k: (BH, L, dk), v: (BH, L, dv), log_gates: (BH, L) or null, contiguous -> out (BH, L, dv).
// type: float32 or float64.
void linear_attention_forward(const LinearAttentionArgs& a, ScalarType type, const void* q, const void* k,
                              const void* v, const void* log_gates, void* out, Stream stream);

// grad_q, grad_k, grad_v written; grad_log_gates (BH, L) when non-null.
void linear_attention_backward(const LinearAttentionArgs& a, ScalarType type, const void* q, const void* k,
                               const void* v, const void* log_gates, const void* grad_out, void* grad_q, void* grad_k,
                               void* grad_v, void* grad_log_gates, Stream stream);

}  // namespace ember::cuda
