// What every sequence model of models/seq/ shares: the configuration (SeqModelConfig), the block
// interface (SeqBlock: (B, L, D) tokens plus a padding mask), the pre-norm feed-forward sub-layer
// every block ends with, and the padding-mask helpers.
// Twins: models/seq/transformer.h (softmax baseline), mega.h (MEGA and the gated-attention skeleton
// CHELA and LongVQ reuse), chela.h, longvq.h, seq_zoo.h (embedding, heads, the registry);
// docs/CHELA.md and docs/LONGVQ.md explain every choice.
//
// Note [Padding mask]: a classification batch pads short sequences with pad_id. The mask is
// (B, L) bool, true = a real token (undefined = no padding). Every block keeps real tokens'
// outputs independent of what padded positions hold: token mixers (EMA, convolutions) see padded
// positions zeroed, attention drops padded keys, and the classifier's mean pool averages real
// tokens only. Padded positions' own outputs are meaningless and never read.
#pragma once
#include <memory>
#include <string>

#include "models/nn/attention.h"
#include "models/nn/module.h"
#include "models/nn/norm.h"
#include "ops/elementwise.h"

namespace ember::models::seq {

struct SeqModelConfig {
  // ---- input ----
  int64_t vocab_size = 0;   // > 0: int64 token ids (B, L) -> Embedding; 0: float inputs
  int64_t in_features = 1;  // float inputs (B, L) (in_features 1) or (B, L, in_features) -> Linear
  int64_t pad_id = -1;      // token id of padding (Note [Padding mask]); -1: no padding
  // ---- task ----
  std::string task = "classify";  // "classify": masked mean pool -> num_classes; "lm": next-token logits
  int64_t num_classes = 10;
  bool causal = false;            // causal token mixing (forced on by task "lm")
  // ---- widths (all models) ----
  int64_t d_model = 64;     // residual stream width D
  int64_t depth = 2;        // number of blocks
  double ffn_ratio = 2.0;   // feed-forward hidden width = ffn_ratio * D (0: no feed-forward sub-layer)
  double dropout = 0.0;
  // ---- Transformer ----
  int64_t num_heads = 4;
  // ---- the gated-attention family (MEGA, CHELA, LongVQ) ----
  double hidden_ratio = 2.0;  // value / reset-gate width H = hidden_ratio * D (MEGA's hdim)
  int64_t z_dim = 32;         // shared query/key width (MEGA's zdim)
  int64_t n_dim = 16;         // EMA dimension per channel (MEGA, LongVQ; even when bidirectional)
  // ---- CHELA ----
  int64_t short_kernel = 3;       // taps of the short causal convolution
  int64_t long_base = 16;         // taps per level of the hierarchical long kernel
  int64_t long_levels = 0;        // levels (each twice as coarse); 0: enough to cover max_len
  double long_decay = 0.5;        // level j is scaled by long_decay^j
  int64_t attn_heads = 1;         // heads of CHELA's linear attention (z_dim and H divide by it)
  int64_t chunk_size = 64;        // tile length of the chunked linear attention
  // ---- LongVQ ----
  int64_t codebook_size = 64;     // codewords S of the quantized keys
  int64_t window = 64;            // local window (block length) of the exact attention
  double commitment = 0.25;       // weight of the commitment loss (LongVQ's auxiliary loss)
  // ---- lengths ----
  int64_t max_len = 4096;         // longest sequence CHELA's hierarchical kernel must cover
};

// A block: x (B, L, D) and a padding mask (B, L) bool (true = real token, or undefined) ->
// (B, L, D). forward(x) is forward(x, no mask). Blocks take the mask as a second argument, as
// nn::MultiheadAttention takes its masks (Note [Module calls]: the model calls them directly).
class SeqBlock : public nn::Module {
 public:
  using nn::Module::Module;
  Tensor forward(const Tensor& x) override { return forward(x, Tensor()); }
  virtual Tensor forward(const Tensor& x, const Tensor& mask) = 0;
  // A loss term the last forward produced besides the output (LongVQ's commitment loss), 0-d;
  // undefined for blocks without one.
  virtual Tensor auxiliary_loss() const { return Tensor(); }
};

// x (B, L, D) with padded positions set to 0 (mask (B, L) bool; undefined: x itself).
inline Tensor zero_padding(const Tensor& x, const Tensor& mask) {
  if (!mask.defined()) return x;
  return x * mask.unsqueeze(-1).to(x.dtype());
}

// The pre-norm feed-forward sub-layer that ends every block: x + mlp(norm(x)), mlp = timm's Mlp.
class FeedForward : public nn::Module {
 public:
  FeedForward(int64_t dim, int64_t hidden, const std::string& activation, double dropout)
      : nn::Module("FeedForward") {
    norm = register_module("norm", std::make_shared<nn::LayerNorm>(Shape{dim}));
    mlp = register_module("mlp", std::make_shared<nn::Mlp>(dim, hidden, dim, activation, dropout));
  }
  Tensor forward(const Tensor& x) override { return x + (*mlp)((*norm)(x)); }
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::Mlp> mlp;
};

}  // namespace ember::models::seq
