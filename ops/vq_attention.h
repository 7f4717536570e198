// VQ-keyed attention (LongVQ, papers.md §5.2): softmax attention whose keys are quantized to a
// codebook, so that the keys far from a query can be summarised per code (the aggregated codebook
// cache: for each code, the count of the keys mapped to it and the sum of their values) and each
// query attends to S codes instead of L keys; a local window of exact keys carries a learned
// positional bias so near and far tokens stay distinguishable.
// Twins: ops/vq_attention.cpp (checks, dispatch, backward), ops/cpu/vq_attention.cpp (the
// linear-time kernels), test/ops/test_vq_attention.cpp, docs/VQ.md (the math and every choice).
#pragma once
#include <optional>

#include "engine/tensor.h"

namespace ember {

struct VQAttentionOptions {
  bool causal = true;
  // The local window W: key j is "near" query i when |i - j| < W (causal: 0 <= i - j < W) and gets
  // the positional bias; every other allowed key is "far" and reaches the query only through its
  // code. W = 0: no window (every key through the codebook cache; bias must be undefined).
  int64_t window = 64;
  std::optional<double> scale;  // defaults to 1/sqrt(d)
};

// q: (B, H, L, d), k: (B, H, L, d), v: (B, H, L, dv), indices: (B, H, L) int64 (the code of each
// key), codebook: (H, S, d) one codebook per head, or (S, d) shared by the heads -> (B, H, L, dv).
// bias (optional, needs window > 0): causal (H, W), bias[h][i - j]; non-causal (H, 2W - 1),
// bias[h][i - j + W - 1].
//
// Forward: the keys are k̂_j = codebook[h][indices_j] (k's values are not read), and
//   s_ij = scale · q_i · k̂_j + (j near i ? bias[h][i - j] : 0),  allowed j: j <= i when causal,
//   out_i = Σ_j softmax_j(s_ij) v_j
// i.e. exact softmax attention over the quantized keys. Computed in O(L·(S·(d + dv) + W·(d + dv)))
// time and O(S·dv) extra memory per head (see docs/VQ.md, Note [VQ attention cache]).
//
// Backward: q, v and bias get exact gradients. k gets the straight-through gradient of k̂ from the
// near keys only (as Transformer-VQ: a far key enters a query only through its code, treated as a
// constant, since exact far-key gradients cost O(S·d·dv) per query); pass the raw keys or the
// straight-through output of the quantizer as k: the gradient is the same. The codebook and the
// indices get no gradient (the codebook is learned by the quantizer's EMA / codebook loss).
Tensor vq_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& indices,
                    const Tensor& codebook, const VQAttentionOptions& options = {},
                    const Tensor& bias = Tensor());

namespace detail {
// The same function composed of differentiable ops over the dense (B, H, L, L) scores (far keys
// as detached codebook rows): the O(L²) reference the linear-time kernel is checked against,
// forward and backward.
Tensor vq_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& indices,
                              const Tensor& codebook, const VQAttentionOptions& options = {},
                              const Tensor& bias = Tensor());
}  // namespace detail

}  // namespace ember
