// The softmax-attention baseline: a pre-norm Transformer encoder block (causal for language
// modeling), built from nn::MultiheadAttention and nn::Mlp, and the sinusoidal position encoding
// the Transformer model adds to its token embeddings (the other models get order from their
// convolutions / EMA). Implementation: models/seq/transformer.cpp; the model around the blocks:
// models/seq/seq_zoo.h; tests: test/models/test_seq_models.cpp.
#pragma once
#include "models/nn/dropout.h"
#include "models/seq/seq_block.h"

namespace ember::models::seq {

// x + dropout(attn(norm1(x))), then x + ffn(x) (FeedForward, GELU). Padded keys are dropped
// (Note [Padding mask]); causal: query t sees keys <= t.
class TransformerBlock : public SeqBlock {
 public:
  TransformerBlock(int64_t dim, int64_t num_heads, int64_t ffn_hidden, double dropout, bool causal);
  using SeqBlock::forward;
  Tensor forward(const Tensor& x, const Tensor& mask) override;
  std::string extra_repr() const override;
  bool causal;
  std::shared_ptr<nn::LayerNorm> norm1;
  std::shared_ptr<nn::MultiheadAttention> attn;
  std::shared_ptr<nn::Dropout> drop;
  std::shared_ptr<FeedForward> ffn;  // null when ffn_hidden == 0
};

// Vaswani et al.'s sinusoidal table: pe[t, 2i] = sin(t / 10000^(2i/D)), pe[t, 2i+1] = cos(...).
// (L, D) of `dtype`, no parameters.
Tensor sinusoidal_positions(int64_t L, int64_t D, DType dtype = DType::f32);

}  // namespace ember::models::seq
