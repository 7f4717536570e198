// Linear attention, causal and non-causal, with feature maps, optional normalizer and decay:
// the naive O(L²) masked reference, the recurrent form, and the chunked (tiled) form that the
// fused CPU kernel implements (intra-chunk masked products + an inter-chunk state carried between
// chunks; the backward recomputes the states). CHELA's attention stream.
// Twins: ops/linear_attention.cpp (checks, dispatch, backward), ops/cpu/linear_attention.cpp
// (kernels), docs/LINEAR_ATTENTION.md (the math and the choices).
#pragma once
#include <string>

#include "engine/tensor.h"

namespace ember {

struct LinearAttentionOptions {
  bool causal = true;
  // phi applied to q and k: "identity", "elu1" (elu(x) + 1), "relu".
  std::string feature_map = "identity";
  // Divide each output row by phi(q_t) · sum_{s (<= t)} phi(k_s) (+ eps), as in Katharopoulos et al.
  bool normalize = false;
  double eps = 1e-6;
  int64_t chunk_size = 16;  // the tile length of the chunked form (docs/LINEAR_ATTENTION.md: why 16)
};

// q, k: (B, H, L, dk), v: (B, H, L, dv) -> (B, H, L, dv).
//   causal: o_t = sum_{s <= t} (phi(q_t) · phi(k_s)) * g(t, s) * v_s
//   non-causal: the same sum over all s (decay must be undefined).
// decay (optional, causal only): (H) a constant per-head decay gamma in (0, 1] (RetNet-style,
// g(t, s) = gamma^(t - s)), or (B, H, L) per-step gates in (0, 1] (g(t, s) = prod_{s < r <= t} a_r).
// Differentiable in q, k, v (and decay).
Tensor linear_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                        const LinearAttentionOptions& options = {}, const Tensor& decay = Tensor());

namespace detail {
// The O(L²) masked reference built from differentiable ops (gradcheck and double backward).
Tensor linear_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const LinearAttentionOptions& options = {}, const Tensor& decay = Tensor());
// The recurrent form: a (dk, dv) state updated once per step (O(L·dk·dv), no parallelism in L).
Tensor linear_attention_recurrent(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const LinearAttentionOptions& options = {}, const Tensor& decay = Tensor());
}  // namespace detail

}  // namespace ember
