// The gated-attention block of MEGA (Ma et al. 2023, facebookresearch/mega
// fairseq/modules/moving_average_gated_attention.py), written once as a skeleton with two
// replaceable parts, and MEGA itself (damped EMA + single-head softmax attention):
//
//   h0 = norm(x) (pre-norm), padded positions zeroed (Note [Padding mask])
//   v  = silu(W_v h0)                                    (B, L, H)
//   mx = mix(h0)                                         (B, L, D)  MEGA: silu(EMA); CHELA: short-long convs
//   u, zr, hx = split(W_mx mx, [D, z + H, D]);  u = sigmoid(u);  z, r = split(silu(zr), [z, H])
//   q = z * gamma0 + beta0,  k = z * gamma1 + beta1      (B, L, z)
//   a  = attend(q, k, v)                                 (B, L, H)  MEGA: softmax; CHELA: linear; LongVQ: VQ
//   y  = silu(hx + W_h (a * r));  out = x + u * (y - x)  (MEGA's addcmul(residual, u, h - residual))
//   then out + ffn(out) (FeedForward, SiLU)
//
// CHELA (models/seq/chela.h) and LongVQ (models/seq/longvq.h) override mix() / attend().
// Implementation: models/seq/mega.cpp; docs/CHELA.md explains the choices.
#pragma once
#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/seq/seq_block.h"

namespace ember::models::seq {

class GatedAttentionBlock : public SeqBlock {
 public:
  GatedAttentionBlock(const char* type_name, const SeqModelConfig& config);
  using SeqBlock::forward;
  Tensor forward(const Tensor& x, const Tensor& mask) override;
  std::string extra_repr() const override;

  // The token mixer that feeds the gates: h0 (B, L, D), padded positions already zero -> (B, L, D).
  virtual Tensor mix(const Tensor& h0) = 0;
  // q, k: (B, L, z), v: (B, L, H), mask (B, L) bool or undefined -> (B, L, H).
  virtual Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) = 0;

  int64_t dim, z_dim, hidden_dim;
  bool causal;
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::Linear> v_proj, mx_proj, h_proj;
  Tensor gamma, beta;  // (2, z): the per-dimension scale and offset of q (row 0) and k (row 1)
  std::shared_ptr<nn::Dropout> drop;
  std::shared_ptr<FeedForward> ffn;  // null when ffn_ratio == 0
};

// softmax(q kᵀ / sqrt(z)) v with one head: q, k (B, L, z), v (B, L, H) -> (B, L, H); padded keys
// dropped, causal: key s <= query t. MEGA's attention (and the Transformer's, per head).
Tensor single_head_softmax_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                     bool causal, double dropout_p);

// MEGA's multi-dimensional damped EMA as a module: x (B, L, D) -> silu(damped_ema(x)) (ops/damped_ema.h),
// bidirectional unless causal. MEGA's init: alpha, delta logits ~ N(0, 0.2); beta ~ N(0, 0.02) +
// (1, -1, 1, ...); gamma ~ N(0, 1/N) (MEGA's N(0, 1) times its sqrt(1/N) kernel scale); omega ~ N(0, 1).
// Shared by MEGA and LongVQ.
class DampedEma : public nn::Module {
 public:
  DampedEma(int64_t dim, int64_t n_dim, bool causal);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t dim, n_dim;
  bool causal;
  Tensor alpha_logit, delta_logit, beta, gamma;  // (D, N)
  Tensor omega;                                  // (D)
};

// MEGA: mix = DampedEma, attend = single-head softmax attention.
class MegaBlock : public GatedAttentionBlock {
 public:
  explicit MegaBlock(const SeqModelConfig& config);
  Tensor mix(const Tensor& h0) override { return (*ema)(h0); }
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) override;
  std::shared_ptr<DampedEma> ema;
  double attention_dropout;
};

}  // namespace ember::models::seq
