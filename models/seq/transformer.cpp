// The Transformer baseline block and the sinusoidal positions. See models/seq/transformer.h.
#include "models/seq/transformer.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "engine/error.h"
#include "engine/factories.h"
#include "ops/compare.h"

namespace ember::models::seq {

TransformerBlock::TransformerBlock(int64_t dim, int64_t num_heads, int64_t ffn_hidden, double dropout, bool causal_)
    : SeqBlock("TransformerBlock"), causal(causal_) {
  EMBER_CHECK(dim > 0 && num_heads > 0 && dim % num_heads == 0 && ffn_hidden >= 0,
              "TransformerBlock: dim {} must be a positive multiple of num_heads {} (ffn_hidden {} >= 0)", dim,
              num_heads, ffn_hidden);
  norm1 = register_module("norm1", std::make_shared<nn::LayerNorm>(Shape{dim}));
  attn = register_module("attn", std::make_shared<nn::MultiheadAttention>(dim, num_heads, dropout));
  drop = register_module("drop", std::make_shared<nn::Dropout>(dropout));
  if (ffn_hidden > 0) ffn = register_module("ffn", std::make_shared<FeedForward>(dim, ffn_hidden, "gelu", dropout));
}

std::string TransformerBlock::extra_repr() const { return fmt::format("causal={}", nn::repr_bool(causal)); }

Tensor TransformerBlock::forward(const Tensor& x, const Tensor& mask) {
  // x: (B, L, D); mask: (B, L) bool, true = real token
  EMBER_CHECK(x.dim() == 3 && x.size(2) == attn->embed_dim, "TransformerBlock: expected x (B, L, {}), got {}",
              attn->embed_dim, x.describe());
  const Tensor h = (*norm1)(x);
  const Tensor key_padding = mask.defined() ? logical_not(mask) : Tensor();  // MHA: true = ignore
  Tensor out = x + (*drop)(attn->forward(h, h, h, Tensor(), key_padding, causal));
  return ffn ? (*ffn)(out) : out;
}

Tensor sinusoidal_positions(int64_t L, int64_t D, DType dtype) {
  EMBER_CHECK(L >= 0 && D > 0, "sinusoidal_positions: L ({}) must be >= 0 and D ({}) > 0", L, D);
  std::vector<double> table(static_cast<size_t>(L * D));
  for (int64_t t = 0; t < L; ++t)
    for (int64_t i = 0; i < D; ++i) {
      const double angle = static_cast<double>(t) / std::pow(10000.0, static_cast<double>(i - i % 2) / D);
      table[static_cast<size_t>(t * D + i)] = i % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  return from_vector(table, {L, D}).to(dtype);
}

}  // namespace ember::models::seq
