// Embedding. See models/nn/embedding.h; tests: test/nn/test_layers.cpp.
#include "models/nn/embedding.h"

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "models/nn/init.h"
#include "ops/embedding.h"

namespace ember::nn {

Embedding::Embedding(int64_t num_embeddings_, int64_t embedding_dim_, int64_t padding_idx_)
    : Module("Embedding"), num_embeddings(num_embeddings_), embedding_dim(embedding_dim_), padding_idx(padding_idx_) {
  EMBER_CHECK(num_embeddings > 0 && embedding_dim > 0,
              "Embedding: num_embeddings and embedding_dim must be positive, got {} and {}", num_embeddings,
              embedding_dim);
  EMBER_CHECK(padding_idx >= -1 && padding_idx < num_embeddings,
              "Embedding: padding_idx must be -1 (none) or in [0, {}), got {}", num_embeddings, padding_idx);
  weight = register_parameter("weight", empty({num_embeddings, embedding_dim}));
  init::normal_(weight);
  if (padding_idx >= 0) {
    NoGradGuard no_grad;
    weight.detach().select(0, padding_idx).zero_();
  }
}

Tensor Embedding::forward(const Tensor& indices) {
  // indices: (*) integers -> (*, embedding_dim)
  EMBER_CHECK(indices.defined() && !indices.is_floating_point() && indices.dtype() != DType::bool_,
              "Embedding: expected integer indices, got {}",
              indices.defined() ? indices.describe() : std::string("undefined"));
  return embedding(indices, weight, padding_idx);
}

std::string Embedding::extra_repr() const {
  std::string s = fmt::format("{}, {}", num_embeddings, embedding_dim);
  if (padding_idx >= 0) s += fmt::format(", padding_idx={}", padding_idx);
  return s;
}

}  // namespace ember::nn
