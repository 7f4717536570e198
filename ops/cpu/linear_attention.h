// CPU kernels for linear_attention: the chunked (tiled) forward and backward, and the recurrent
// form. Twins: ops/linear_attention.cpp (API, checks, feature maps, normalizer, backward node),
// docs/LINEAR_ATTENTION.md (the math). Kernels see contiguous (BH, L, features) arrays: the
// batch and head dims are flattened into BH; feature maps and the normalizer are applied by the
// front end, so a kernel computes only the core o_t = Σ_s (q_t · k_s) g(t, s) v_s.
#pragma once
#include <cstdint>

namespace ember::cpu {

struct LinearAttentionProblem {
  int64_t batch_heads = 0, L = 0, dk = 0, dv = 0;
  int64_t chunk = 64;   // tile length of the chunked form (ignored by the non-causal and recurrent ones)
  bool causal = true;   // false: every query sees every key (no decay then)
};

// Decay enters every kernel as per-step log gates, log_gates: (BH, L), log a_t <= 0, or null for
// none; g(t, s) = exp(Σ_{s < r <= t} log a_r). A constant per-head gamma is the case a_t = gamma.

// q, k: (BH, L, dk), v: (BH, L, dv) -> out: (BH, L, dv), by chunks of p.chunk steps.
template <class T>
void linear_attention_chunked_fwd(const LinearAttentionProblem& p, const T* q, const T* k, const T* v,
                                  const T* log_gates, T* out);

// Gradients of the chunked form by recomputation (Note [Linear attention backward]). grad_q, grad_k,
// grad_v are written (not accumulated); grad_log_gates (BH, L), when non-null, receives the
// gradient of the log gates.
template <class T>
void linear_attention_chunked_bwd(const LinearAttentionProblem& p, const T* q, const T* k, const T* v,
                                  const T* log_gates, const T* grad_out, T* grad_q, T* grad_k, T* grad_v,
                                  T* grad_log_gates);

// The recurrent form: a (dk, dv) state per bh, S_t = a_t S_{t-1} + k_t v_tᵀ, o_t = S_tᵀ q_t
// (non-causal: every o_t reads the final state). Forward only.
template <class T>
void linear_attention_recurrent_fwd(const LinearAttentionProblem& p, const T* q, const T* k, const T* v,
                                    const T* log_gates, T* out);

}  // namespace ember::cpu
