// CHELA (Liu et al., ICML'24): MEGA's gated-attention block (models/seq/mega.h) with the EMA/SSM
// replaced by short-long convolutions in a multi-level hierarchy, and softmax attention replaced by
// tiled (chunked) linear attention. No public code exists; docs/CHELA.md lists every choice made here.
//
// Note [Short-long convolution]: the token mixer is three parallel linear branches on h0 (B, L, D),
// summed and passed through SiLU:
//   identity  omega[d] * x[t, d]
//   short     b[d] + sum_{s < Ks} w[d, s] x[t - s, d]                 (ops/short_conv.h, causal)
//   long      sum_s k[d, s] x[t - s, d]  (+ the mirrored half over x[t + s] when bidirectional)
// The long kernel is a hierarchy of J levels of K0 taps each: level j is stretched 2^j times
// (nearest upsampling) and scaled by decay^j, and the levels are laid end to end, so the kernel
// covers K0 (2^J - 1) positions with J·K0 parameters, fine near the present and coarse far away
// (SGConv's multi-scale kernel; the "hierarchy" of the abstract). Its value at offset s does not
// depend on the sequence length (it is cut to L), which keeps padding harmless (Note [Padding mask]).
//
// Note [Structural re-parameterization]: the three branches are linear in x and share the output
// nonlinearity, so at inference they merge into ONE long kernel (omega added at offset 0, the short
// taps at offsets 0..Ks-1) plus the short bias, applied by one FFT convolution: reparameterize().
// The outputs equal the three-branch form's up to rounding (test [seq_models] "re-parameterization").
// Implementation: models/seq/chela.cpp.
#pragma once
#include "models/seq/mega.h"

namespace ember::models::seq {

class ShortLongConv : public nn::Module {
 public:
  ShortLongConv(int64_t dim, const SeqModelConfig& config);
  Tensor forward(const Tensor& x) override;  // x (B, L, D) -> silu(identity + short + long) (B, L, D)
  std::string extra_repr() const override;

  // The long kernel for length L in long_conv's layout: causal (D, min(Kc, L)); bidirectional
  // (D, 2 min(Kc, L) - 1), centred. Differentiable in the level weights.
  Tensor long_kernel(int64_t L) const;
  // The merged single kernel (Note [Structural re-parameterization]), in long_kernel's layout.
  Tensor merged_kernel(int64_t L) const;
  // Switches forward to the merged kernel (computed once at full coverage, no autograd history).
  // The parameters stay, so the state_dict is unchanged; train() does not switch back.
  void reparameterize();
  bool reparameterized() const { return merged_.defined(); }
  int64_t coverage() const { return long_base * ((int64_t{1} << levels) - 1); }  // Kc

  int64_t dim, short_kernel, long_base, levels;
  double decay;
  bool causal;
  Tensor short_weight;  // (D, Ks)
  Tensor short_bias;    // (D)
  Tensor omega;         // (D)
  Tensor long_weight;   // (directions, J, D, K0): directions 1 (causal) or 2 (forward, backward)

 private:
  Tensor causal_long_kernel(int64_t direction) const;  // (D, Kc) for one direction
  Tensor merged_;       // full-coverage merged kernel once reparameterize() ran
};

// CHELA: mix = ShortLongConv, attend = multi-head chunked linear attention (identity feature map
// on MEGA's offset-scaled q, k; no normalizer; an RMS normalization of each head's output instead).
class ChelaBlock : public GatedAttentionBlock {
 public:
  explicit ChelaBlock(const SeqModelConfig& config);
  Tensor mix(const Tensor& h0) override { return (*conv)(h0); }
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) override;
  std::shared_ptr<ShortLongConv> conv;
  int64_t attn_heads, chunk_size;
};

// The number of levels whose coverage K0 (2^J - 1) reaches max_len.
int64_t hierarchy_levels(int64_t long_base, int64_t max_len);

}  // namespace ember::models::seq
