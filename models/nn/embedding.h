// Embedding lookup table. Implementation: models/nn/embedding.cpp.
#pragma once
#include "models/nn/module.h"

namespace ember::nn {

// indices (*) int64 -> (*, embedding_dim). weight ~ N(0, 1) as PyTorch; padding_idx row zeroed and
// receives no gradient.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, int64_t padding_idx = -1);
  Tensor forward(const Tensor& indices) override;
  std::string extra_repr() const override;
  int64_t num_embeddings, embedding_dim, padding_idx;
  Tensor weight;
};

}  // namespace ember::nn
