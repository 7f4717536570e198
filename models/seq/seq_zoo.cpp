// The sequence model (embedding, blocks, heads) and the registry. See models/seq/seq_zoo.h.
#include "models/seq/seq_zoo.h"

#include <cstdlib>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/error.h"
#include "models/nn/embedding.h"
#include "models/seq/chela.h"
#include "models/seq/longvq.h"
#include "models/seq/mega.h"
#include "models/seq/transformer.h"
#include "ops/ops.h"

namespace ember::models::seq {

namespace {

SeqModelConfig checked(const std::string& name, SeqModelConfig config) {
  EMBER_CHECK(config.task == "classify" || config.task == "lm",
              "create_seq_model({}): task must be \"classify\" or \"lm\", got \"{}\"", name, config.task);
  if (config.task == "lm") {
    EMBER_CHECK(config.vocab_size > 0, "create_seq_model({}): task \"lm\" needs token inputs (vocab_size > 0)", name);
    config.causal = true;  // next-token prediction must not see the future
  } else {
    EMBER_CHECK(config.num_classes > 0, "create_seq_model({}): num_classes must be positive, got {}", name,
                config.num_classes);
  }
  EMBER_CHECK(config.d_model > 0 && config.depth > 0 && config.dropout >= 0.0 && config.dropout < 1.0,
              "create_seq_model({}): d_model ({}) and depth ({}) must be positive, dropout ({}) in [0, 1)", name,
              config.d_model, config.depth, config.dropout);
  EMBER_CHECK(config.vocab_size > 0 || config.in_features > 0,
              "create_seq_model({}): give vocab_size (token inputs) or in_features (float inputs)", name);
  EMBER_CHECK(config.pad_id < config.vocab_size, "create_seq_model({}): pad_id {} is not a token (vocab_size {})",
              name, config.pad_id, config.vocab_size);
  return config;
}

}  // namespace

std::vector<std::string> seq_model_names() { return {"transformer", "mega", "chela", "longvq"}; }

std::shared_ptr<SeqBlock> create_seq_block(const std::string& name, const SeqModelConfig& config) {
  if (name == "transformer") {
    const auto ffn_hidden = static_cast<int64_t>(config.ffn_ratio * static_cast<double>(config.d_model));
    return std::make_shared<TransformerBlock>(config.d_model, config.num_heads, ffn_hidden, config.dropout,
                                              config.causal);
  }
  if (name == "mega") return std::make_shared<MegaBlock>(config);
  if (name == "chela") return std::make_shared<ChelaBlock>(config);
  if (name == "longvq") return std::make_shared<LongVQBlock>(config);
  EMBER_FAIL("create_seq_model: unknown model \"{}\"; known: {}", name, fmt::join(seq_model_names(), ", "));
}

SeqModel::SeqModel(const std::string& block_name_, const SeqModelConfig& config_)
    : nn::Module("SeqModel"), block_name(block_name_), config(checked(block_name_, config_)) {
  const int64_t D = config.d_model;
  if (config.vocab_size > 0)
    embed = register_module("embed", std::make_shared<nn::Embedding>(config.vocab_size, D, config.pad_id));
  else
    embed = register_module("embed", std::make_shared<nn::Linear>(config.in_features, D));
  embed_drop = register_module("embed_drop", std::make_shared<nn::Dropout>(config.dropout));
  blocks = register_module("blocks", std::make_shared<nn::ModuleList>());
  for (int64_t i = 0; i < config.depth; ++i) blocks->push_back(create_seq_block(block_name, config));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(Shape{D}));
  const int64_t outputs = config.task == "lm" ? config.vocab_size : config.num_classes;
  head = register_module("head", std::make_shared<nn::Linear>(D, outputs));
}

Tensor SeqModel::padding_mask(const Tensor& x) const {
  if (config.pad_id < 0 || config.vocab_size == 0 || x.is_floating_point()) return Tensor();
  return ne(x, static_cast<double>(config.pad_id));
}

std::pair<Tensor, Tensor> SeqModel::forward_features(const Tensor& x) {
  Tensor h;
  if (config.vocab_size > 0) {
    EMBER_CHECK(x.dim() == 2 && !x.is_floating_point(), "SeqModel({}): expected int64 tokens (B, L), got {}",
                block_name, x.describe());
    h = (*embed)(x);  // (B, L, D)
  } else {
    EMBER_CHECK(x.is_floating_point() && (x.dim() == 2 || (x.dim() == 3 && x.size(2) == config.in_features)) &&
                    (x.dim() == 3 || config.in_features == 1),
                "SeqModel({}): expected float inputs (B, L) or (B, L, {}), got {}", block_name, config.in_features,
                x.describe());
    h = (*embed)(x.dim() == 2 ? x.unsqueeze(-1) : x);
  }
  if (block_name == "transformer") h = h + sinusoidal_positions(h.size(1), h.size(2), h.dtype());
  h = (*embed_drop)(h);
  const Tensor mask = padding_mask(x);
  for (size_t i = 0; i < blocks->size(); ++i) h = blocks->at<SeqBlock>(i)->forward(h, mask);
  return {(*norm)(h), mask};
}

Tensor SeqModel::forward(const Tensor& x) {
  auto [h, mask] = forward_features(x);  // (B, L, D)
  if (config.task == "lm") return (*head)(h);  // (B, L, vocab)
  Tensor pooled;
  if (mask.defined()) {
    const Tensor weights = mask.to(h.dtype()).unsqueeze(-1);  // (B, L, 1)
    pooled = sum(h * weights, {1}) / clamp_min(sum(weights, {1}), 1.0);
  } else {
    pooled = mean(h, {1});
  }
  return (*head)(pooled);  // (B, num_classes)
}

void SeqModel::reparameterize() {
  for (size_t i = 0; i < blocks->size(); ++i)
    if (auto chela = blocks->at<ChelaBlock>(i)) chela->conv->reparameterize();
}

Tensor SeqModel::auxiliary_loss() const {
  Tensor total;
  for (size_t i = 0; i < blocks->size(); ++i) {
    const Tensor loss = blocks->at<SeqBlock>(i)->auxiliary_loss();
    if (loss.defined()) total = total.defined() ? total + loss : loss;
  }
  return total;
}

std::shared_ptr<SeqModel> create_seq_model(const std::string& name, const SeqModelConfig& config) {
  return std::make_shared<SeqModel>(name, config);
}

int64_t count_seq_parameters(const std::string& name, const SeqModelConfig& config) {
  return create_seq_model(name, config)->num_parameters();
}

SeqModelConfig match_parameter_budget(const std::string& name, SeqModelConfig config, int64_t target,
                                      int64_t multiple) {
  EMBER_CHECK(target > 0 && multiple > 0, "match_parameter_budget({}): target ({}) and multiple ({}) must be positive",
              name, target, multiple);
  int64_t step = multiple;
  if (name == "transformer") step = std::lcm(multiple, config.num_heads);
  if (name == "chela") step = std::lcm(multiple, config.attn_heads);
  // Parameter counts grow with d_model: walk up until the count passes the target, keep the closer.
  int64_t best_d = step, best_gap = -1;
  for (int64_t d = step; d <= 16384; d += step) {
    config.d_model = d;
    const int64_t gap = count_seq_parameters(name, config) - target;
    if (best_gap < 0 || std::llabs(gap) < best_gap) {
      best_gap = std::llabs(gap);
      best_d = d;
    }
    if (gap >= 0) break;
  }
  config.d_model = best_d;
  return config;
}

}  // namespace ember::models::seq
