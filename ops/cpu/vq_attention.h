// CPU kernels for vq_attention (ops/vq_attention.h): the linear-time form with the aggregated
// codebook cache. Twins: ops/vq_attention.cpp (API, checks, backward node), docs/VQ.md
// (Note [VQ attention cache]). Kernels see contiguous (BH, L, features) arrays.
#pragma once
#include <cstdint>

namespace ember::cpu {

struct VQAttentionProblem {
  int64_t batch_heads = 0, heads = 1, L = 0, S = 0, d = 0, dv = 0;
  int64_t window = 0;  // W: near iff |i - j| < W (causal: 0 <= i - j < W)
  bool causal = true;
  bool shared_codebook = false;  // codebook (S, d) for every head, else (H, S, d)
  bool has_bias = false;         // bias (H, bias_size): causal W, non-causal 2W - 1
  double scale = 1.0;
  int64_t bias_size() const { return causal ? window : 2 * window - 1; }
};

// q: (BH, L, d), v: (BH, L, dv), indices: (BH, L) in [0, S) -> out: (BH, L, dv), lse: (BH, L)
// (the logsumexp of each query's scores, for the backward). bias may be null when !has_bias.
template <class T>
void vq_attention_fwd(const VQAttentionProblem& p, const T* q, const T* v, const int64_t* indices, const T* codebook,
                      const T* bias, T* out, T* lse);

// Gradients (each written in full): grad_q (BH, L, d), grad_k (BH, L, d) (near keys only, see
// ops/vq_attention.h), grad_v (BH, L, dv), grad_bias (BH, bias_size) per batch-head (the caller sums
// over the batch; null when !has_bias).
template <class T>
void vq_attention_bwd(const VQAttentionProblem& p, const T* q, const T* v, const int64_t* indices, const T* codebook,
                      const T* bias, const T* out, const T* grad_out, const T* lse, T* grad_q, T* grad_k, T* grad_v,
                      T* grad_bias);

}  // namespace ember::cpu
