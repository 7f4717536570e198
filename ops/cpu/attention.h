// CPU kernels for scaled_dot_product_attention (FlashAttention-style, key-tiled, O(L·d) memory).
// Twins: ops/attention.cpp (API, checks, backward node), autograd/derivatives/attention.md.
// Kernels see contiguous (BH, rows, features) arrays: the batch dims are flattened into BH.
#pragma once
#include <cstdint>
#include <vector>

namespace ember::cpu {

// The attention mask as the kernel reads it: element (bh, i, j) lives at
// data[batch_offsets[bh] + i * stride_l + j * stride_s] (broadcast dims have stride 0, so a
// (L, S) mask shared by every head is never copied). Bool masks keep `true`; float masks add.
struct AttentionMask {
  const void* data = nullptr;  // null: no mask; else const bool* or const T* (T = the kernel's)
  bool is_bool = false;
  std::vector<int64_t> batch_offsets;  // one per bh
  int64_t stride_l = 0, stride_s = 0;
};

// Note [Attention dropout stream]: the keep decision for score element (bh, i, j) uses Philox
// block `offset + (bh * L + i) * S + j` of `seed` (engine/random.h philox4x32, lanes 0-1 as a
// uniform u; keep iff u >= p), so forward, backward and attention_dropout_factors regenerate
// the same mask without storing it. A call reserves BH·L·S blocks of its generator.
struct AttentionDropout {
  double p = 0.0;  // 0: no dropout
  uint64_t seed = 0;
  uint64_t offset = 0;
};

struct AttentionProblem {
  int64_t batch_heads = 0, L = 0, S = 0, d = 0, dv = 0;
  bool causal = false;  // keep j <= i (top-left aligned tril(L, S), as PyTorch)
  double scale = 1.0;
  AttentionMask mask;
  AttentionDropout dropout;
};

// q: (BH, L, d), k: (BH, S, d), v: (BH, S, dv) -> out: (BH, L, dv), lse: (BH, L).
// lse is the row's logsumexp of the (scaled, masked) scores; +inf marks a fully masked row
// (its output is 0), so that exp(score - lse) is 0 there in the backward.
template <class T>
void attention_fwd(const AttentionProblem& p, const T* q, const T* k, const T* v, T* out, T* lse);

// Gradients by recomputation tile by tile (FlashAttention-2). grad_q/grad_k/grad_v are written
// (not accumulated); grad_scores, when non-null, receives dL/dscores as (BH, L, S) — the
// gradient of an additive mask before it is summed to the mask's shape.
template <class T>
void attention_bwd(const AttentionProblem& p, const T* q, const T* k, const T* v, const T* out, const T* grad_out,
                   const T* lse, T* grad_q, T* grad_k, T* grad_v, T* grad_scores);

// The dropout multipliers (0 or 1/(1-p)) of Note [Attention dropout stream], as (BH, L, S).
template <class T>
void attention_dropout_factors(const AttentionProblem& p, T* factors);

}  // namespace ember::cpu
