// The BERT-style encoder over VQ codes, its heads and BERT's masking rule. See models/vqdna/bert.h.
#include "models/vqdna/bert.h"

#include <fmt/ranges.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "models/nn/activation.h"
#include "models/nn/init.h"
#include "models/vit.h"
#include "models/zoo.h"
#include "ops/compare.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/loss.h"
#include "ops/reduce.h"

namespace ember::models::vqdna {

namespace {
void check_codes(const char* who, const Tensor& codes, int64_t levels) {
  EMBER_CHECK(codes.defined() && codes.dim() == 3 && codes.size(2) == levels && codes.dtype() == DType::i64,
              "{}: expected codes (B, L, {}) int64, got {}", who, levels,
              codes.defined() ? codes.describe() : std::string("an undefined tensor"));
}
}  // namespace

// ---- encoder ----

BertEncoder::BertEncoder(const BertConfig& cfg) : Module("BertEncoder"), config(cfg) {
  EMBER_CHECK(!cfg.codebook_sizes.empty() && cfg.code_dim > 0 && cfg.dim > 0 && cfg.depth > 0 && cfg.max_length > 0,
              "BertEncoder: codebook_sizes ({}) must be non-empty and code_dim ({}), dim ({}), depth ({}), "
              "max_length ({}) positive",
              cfg.codebook_sizes, cfg.code_dim, cfg.dim, cfg.depth, cfg.max_length);
  for (size_t level = 0; level < cfg.codebook_sizes.size(); ++level) {
    EMBER_CHECK(cfg.codebook_sizes[level] > 0, "BertEncoder: codebook sizes must be positive, got {}",
                cfg.codebook_sizes);
    code_embeddings.push_back(register_buffer(fmt::format("code_embeddings_{}", level),
                                              zeros({cfg.codebook_sizes[level], cfg.code_dim})));
  }
  input_proj = register_module("input_proj", std::make_shared<nn::Linear>(cfg.code_dim, cfg.dim));
  mask_token = register_parameter("mask_token", zeros({cfg.dim}));
  pos_embed = register_parameter("pos_embed", zeros({1, cfg.max_length, cfg.dim}));
  embed_norm = register_module("embed_norm", std::make_shared<nn::LayerNorm>(Shape{cfg.dim}, 1e-12));
  embed_drop = register_module("embed_drop", std::make_shared<nn::Dropout>(cfg.drop_rate));
  blocks = register_module("blocks", std::make_shared<nn::Sequential>());
  for (double drop_path : drop_path_rates(cfg.depth, cfg.drop_path_rate)) {
    blocks->push_back(std::make_shared<ViTBlock>(cfg.dim, cfg.num_heads, cfg.mlp_ratio, /*qkv_bias=*/true,
                                                 cfg.drop_rate, cfg.attn_drop_rate, drop_path));
  }
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(Shape{cfg.dim}, 1e-12));
  // BERT's init: N(0, 0.02) (truncated, as timm) for Linear weights and embeddings, zero biases.
  init_trunc_normal(*this, 0.02);
  nn::init::trunc_normal_(pos_embed, 0.0, 0.02);
  nn::init::trunc_normal_(mask_token, 0.0, 0.02);
}

void BertEncoder::set_codebooks(const std::vector<Tensor>& codebooks) {
  EMBER_CHECK(codebooks.size() == code_embeddings.size(), "BertEncoder.set_codebooks: expected {} codebooks, got {}",
              code_embeddings.size(), codebooks.size());
  NoGradGuard no_grad;
  for (size_t level = 0; level < codebooks.size(); ++level) {
    EMBER_CHECK(codebooks[level].defined() && codebooks[level].sizes() == code_embeddings[level].sizes(),
                "BertEncoder.set_codebooks: level {} expects a codebook of shape {}, got {}", level,
                code_embeddings[level].sizes(),
                codebooks[level].defined() ? codebooks[level].describe() : std::string("an undefined tensor"));
    code_embeddings[level].copy_(codebooks[level].detach());
  }
}

Tensor BertEncoder::encode(const Tensor& codes, const Tensor& mask_positions) {
  check_codes("BertEncoder", codes, levels());
  const int64_t B = codes.size(0), L = codes.size(1);
  EMBER_CHECK(L <= config.max_length, "BertEncoder: sequence of {} tokens is longer than max_length {}", L,
              config.max_length);
  // The frozen code vectors, averaged over levels (HRQ's Ẑ = mean of the levels' quantized vectors).
  Tensor code_vectors;  // (B, L, code_dim)
  for (int64_t level = 0; level < levels(); ++level) {
    Tensor level_codes = codes.select(2, level);
    EMBER_CHECK(min(level_codes).item<int64_t>() >= 0 &&
                    max(level_codes).item<int64_t>() < config.codebook_sizes[static_cast<size_t>(level)],
                "BertEncoder: level {} codes must lie in [0, {})", level, config.codebook_sizes[static_cast<size_t>(level)]);
    Tensor vectors = embedding(level_codes, code_embeddings[static_cast<size_t>(level)]);
    code_vectors = code_vectors.defined() ? code_vectors + vectors : vectors;
  }
  if (levels() > 1) code_vectors = code_vectors / static_cast<double>(levels());
  Tensor x = (*input_proj)(code_vectors);  // (B, L, dim)
  if (mask_positions.defined()) {
    EMBER_CHECK(mask_positions.dtype() == DType::bool_ && mask_positions.sizes() == Shape({B, L}),
                "BertEncoder: mask_positions must be bool ({}, {}), got {}", B, L, mask_positions.describe());
    x = where(mask_positions.unsqueeze(-1), mask_token.view({1, 1, config.dim}), x);
  }
  x = (*embed_drop)((*embed_norm)(x + pos_embed.slice(1, 0, L)));
  return (*norm)((*blocks)(x));
}

// ---- masked code modeling ----

MaskedCodeHead::MaskedCodeHead(int64_t dim, const std::vector<int64_t>& codebook_sizes) : Module("MaskedCodeHead") {
  dense = register_module("dense", std::make_shared<nn::Linear>(dim, dim));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(Shape{dim}, 1e-12));
  decoders = register_module("decoders", std::make_shared<nn::ModuleList>());
  for (int64_t size : codebook_sizes) decoders->push_back(std::make_shared<nn::Linear>(dim, size));
  init_trunc_normal(*this, 0.02);
}

std::vector<Tensor> MaskedCodeHead::logits(const Tensor& hidden) {
  Tensor transformed = (*norm)(gelu((*dense)(hidden)));  // (B, L, dim)
  std::vector<Tensor> out;
  for (size_t level = 0; level < decoders->size(); ++level) out.push_back((*(*decoders)[level])(transformed));
  return out;
}

MaskedCodes mask_codes(const Tensor& codes, const std::vector<int64_t>& codebook_sizes, double ratio, Generator& gen,
                       double mask_prob, double random_prob) {
  check_codes("mask_codes", codes, static_cast<int64_t>(codebook_sizes.size()));
  EMBER_CHECK(ratio >= 0.0 && ratio <= 1.0 && mask_prob >= 0.0 && random_prob >= 0.0 && mask_prob + random_prob <= 1.0,
              "mask_codes: need ratio in [0, 1] and mask_prob ({}) + random_prob ({}) <= 1, got ratio {}", mask_prob,
              random_prob, ratio);
  const int64_t B = codes.size(0), L = codes.size(1), levels = codes.size(2), positions = B * L;
  Tensor source = codes.contiguous();
  MaskedCodes out;
  out.inputs = source.clone();
  out.targets = full({B, L, levels}, -100.0, TensorOptions(DType::i64));
  out.mask_positions = zeros({B, L}, TensorOptions(DType::bool_));
  out.selected = zeros({B, L}, TensorOptions(DType::bool_));
  // Two uniforms per position (selection, then the 80/10/10 choice) and one per level for the
  // random code, drawn up front so the result depends only on the generator's state.
  const Tensor draws = rand({positions, 2 + levels}, gen, TensorOptions(DType::f64)).contiguous();
  const double* u = draws.data_ptr<double>();
  const int64_t* in = source.data_ptr<int64_t>();
  int64_t* inputs = out.inputs.data_ptr<int64_t>();
  int64_t* targets = out.targets.data_ptr<int64_t>();
  bool* masked = out.mask_positions.data_ptr<bool>();
  bool* selected = out.selected.data_ptr<bool>();
  for (int64_t p = 0; p < positions; ++p) {
    const double* draw = u + p * (2 + levels);
    if (draw[0] >= ratio) continue;
    selected[p] = true;
    for (int64_t level = 0; level < levels; ++level) targets[p * levels + level] = in[p * levels + level];
    if (draw[1] < mask_prob) {
      masked[p] = true;
    } else if (draw[1] < mask_prob + random_prob) {
      for (int64_t level = 0; level < levels; ++level) {
        const auto size = codebook_sizes[static_cast<size_t>(level)];
        inputs[p * levels + level] = std::min<int64_t>(size - 1, static_cast<int64_t>(draw[2 + level] * static_cast<double>(size)));
      }
    }
  }
  return out;
}

BertForMaskedModeling::BertForMaskedModeling(const BertConfig& config) : Module("BertForMaskedModeling") {
  encoder = register_module("encoder", std::make_shared<BertEncoder>(config));
  head = register_module("head", std::make_shared<MaskedCodeHead>(config.dim, config.codebook_sizes));
}

Tensor BertForMaskedModeling::pretrain_loss(const MaskedCodes& batch) {
  const std::vector<Tensor> logits = head->logits(encoder->encode(batch.inputs, batch.mask_positions));
  Tensor loss;
  for (size_t level = 0; level < logits.size(); ++level) {
    const int64_t K = logits[level].size(-1);
    // Unselected positions have target -100 (ignored).
    Tensor level_loss = cross_entropy(logits[level].reshape({-1, K}),
                                      batch.targets.select(2, static_cast<int64_t>(level)).reshape({-1}));
    loss = loss.defined() ? loss + level_loss : level_loss;
  }
  return loss / static_cast<double>(logits.size());
}

// ---- classification ----

BertClassifier::BertClassifier(std::shared_ptr<BertEncoder> encoder_, int64_t num_classes, bool linear_probe_,
                               int64_t hidden, double drop)
    : Module("BertClassifier"), linear_probe(linear_probe_) {
  EMBER_CHECK(encoder_ != nullptr && num_classes > 1, "BertClassifier: needs an encoder and num_classes > 1, got {}",
              num_classes);
  encoder = register_module("encoder", std::move(encoder_));
  const int64_t dim = encoder->config.dim;
  if (linear_probe) {
    encoder->requires_grad_(false);
    head = register_module("head", std::make_shared<nn::Linear>(dim, num_classes));
  } else {
    head = register_module("head", std::make_shared<nn::Mlp>(dim, hidden > 0 ? hidden : dim, num_classes, "gelu", drop));
  }
  init_trunc_normal(*head, 0.02);
  train(is_training());
}

void BertClassifier::train(bool on) {
  Module::train(on);
  if (linear_probe) encoder->eval();
}

Tensor BertClassifier::forward(const Tensor& codes) {
  Tensor pooled;  // (B, dim)
  if (linear_probe) {
    NoGradGuard no_grad;  // the frozen encoder records no graph
    pooled = mean((*encoder)(codes), {1});
  } else {
    pooled = mean((*encoder)(codes), {1});
  }
  return (*head)(pooled);
}

}  // namespace ember::models::vqdna
