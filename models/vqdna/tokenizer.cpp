// The VQDNA tokenizer: ConvNeXt-1D encoder, VQ / HRQ quantizer, ConvNeXt-1D decoder.
// See models/vqdna/tokenizer.h; tests: test/models/test_vqdna.cpp.
#include "models/vqdna/tokenizer.h"

#include <algorithm>
#include <cctype>

#include <fmt/ranges.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "models/nn/init.h"
#include "models/zoo.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/compare.h"
#include "ops/index.h"
#include "ops/loss.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace ember::models::vqdna {

int64_t base_id(char letter) {
  switch (std::toupper(static_cast<unsigned char>(letter))) {
    case 'A': return 0;
    case 'C': return 1;
    case 'G': return 2;
    case 'T': return 3;
    default: return 4;
  }
}

char base_letter(int64_t id) {
  EMBER_CHECK(id >= 0 && id < kNumBases, "base_letter: id {} is not in [0, {})", id, kNumBases);
  return "ACGTN"[id];
}

// ---- ConvNeXt-1D block ----

ConvNeXtBlock1d::ConvNeXtBlock1d(int64_t dim, int64_t kernel_size, double mlp_ratio, double drop_path_rate,
                                 double layer_scale_init_value)
    : Module("ConvNeXtBlock1d") {
  EMBER_CHECK(dim > 0 && kernel_size > 0 && kernel_size % 2 == 1 && mlp_ratio > 0,
              "ConvNeXtBlock1d: dim ({}) and mlp_ratio ({}) must be positive and kernel_size ({}) odd", dim, mlp_ratio,
              kernel_size);
  dwconv = register_module("dwconv", std::make_shared<nn::Conv1d>(
                                         dim, dim, kernel_size,
                                         nn::Conv1dOptions{.padding = kernel_size / 2, .groups = dim}));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(Shape{dim}, 1e-6));
  const auto hidden = static_cast<int64_t>(static_cast<double>(dim) * mlp_ratio);
  mlp = register_module("mlp", std::make_shared<nn::Mlp>(dim, hidden, dim, "gelu"));
  if (layer_scale_init_value > 0)
    layer_scale = register_module("layer_scale", std::make_shared<nn::LayerScale>(dim, layer_scale_init_value));
  drop_path = register_module("drop_path", std::make_shared<nn::DropPath>(drop_path_rate));
}

Tensor ConvNeXtBlock1d::forward(const Tensor& x) {
  // x: (B, L, dim); the depthwise conv runs channels-first (B, dim, L).
  Tensor out = (*dwconv)(x.transpose(1, 2)).transpose(1, 2);
  out = (*mlp)((*norm)(out));
  if (layer_scale) out = (*layer_scale)(out);
  return x + (*drop_path)(out);
}

// ---- tokenizer ----

namespace {
std::shared_ptr<nn::ModuleList> make_blocks(const TokenizerConfig& cfg, int64_t depth) {
  auto blocks = std::make_shared<nn::ModuleList>();
  for (double rate : drop_path_rates(depth, cfg.drop_path_rate))
    blocks->push_back(std::make_shared<ConvNeXtBlock1d>(cfg.dim, cfg.kernel_size, cfg.mlp_ratio, rate,
                                                        cfg.layer_scale_init_value));
  return blocks;
}
}  // namespace

DnaTokenizer::DnaTokenizer(const TokenizerConfig& cfg) : Module("DnaTokenizer"), config(cfg) {
  EMBER_CHECK(cfg.quantizer == "vq" || cfg.quantizer == "hrq", "DnaTokenizer: quantizer must be \"vq\" or \"hrq\", got \"{}\"",
              cfg.quantizer);
  EMBER_CHECK(cfg.dim > 0 && cfg.encoder_depth > 0 && cfg.decoder_depth >= 0 && cfg.codebook_size > 1 &&
                  cfg.stem_kernel > 0 && cfg.stem_kernel % 2 == 1,
              "DnaTokenizer: dim ({}), encoder_depth ({}) and codebook_size-1 ({}) must be positive, decoder_depth ({}) "
              ">= 0 and stem_kernel ({}) odd",
              cfg.dim, cfg.encoder_depth, cfg.codebook_size - 1, cfg.decoder_depth, cfg.stem_kernel);
  if (cfg.quantizer == "hrq") {
    EMBER_CHECK(!cfg.hrq_taps.empty(), "DnaTokenizer: hrq needs at least one tap");
    for (size_t i = 0; i < cfg.hrq_taps.size(); ++i)
      EMBER_CHECK(cfg.hrq_taps[i] >= 1 && cfg.hrq_taps[i] <= cfg.encoder_depth &&
                      (i == 0 || cfg.hrq_taps[i] > cfg.hrq_taps[i - 1]) && cfg.hrq_taps.back() == cfg.encoder_depth,
                  "DnaTokenizer: hrq_taps must rise within [1, encoder_depth {}] and end at the last block, got {}",
                  cfg.encoder_depth, cfg.hrq_taps);
  }
  stem = register_module("stem", std::make_shared<nn::Conv1d>(kNumBases, cfg.dim, cfg.stem_kernel,
                                                              nn::Conv1dOptions{.padding = cfg.stem_kernel / 2}));
  stem_norm = register_module("stem_norm", std::make_shared<nn::LayerNorm>(Shape{cfg.dim}, 1e-6));
  encoder = register_module("encoder", make_blocks(cfg, cfg.encoder_depth));
  nn::VectorQuantizerOptions vq_options;  // the codebook learns by EMA, as VQDNA's (papers.md §4.1)
  vq_options.num_codes = cfg.codebook_size;
  vq_options.dim = cfg.dim;
  vq_options.commitment = cfg.commitment_beta;
  vq_options.ema = true;
  vq_options.decay = cfg.ema_decay;
  vq_options.dead_code_steps = cfg.dead_code_steps;
  vq_options.seed = cfg.seed;
  if (cfg.quantizer == "vq") {
    vq = register_module("vq", std::make_shared<nn::VectorQuantizer>(vq_options));
  } else {
    nn::HierarchicalResidualQuantizerOptions hrq_options;
    hrq_options.dim = cfg.dim;
    hrq_options.level = vq_options;
    hrq_options.num_codes.clear();
    for (size_t level = 0; level < cfg.hrq_taps.size(); ++level)  // K · 2ⁿ (papers.md §4.1)
      hrq_options.num_codes.push_back(cfg.codebook_size << level);
    hrq = register_module("hrq", std::make_shared<nn::HierarchicalResidualQuantizer>(hrq_options));
  }
  decoder = register_module("decoder", make_blocks(cfg, cfg.decoder_depth));
  head_norm = register_module("head_norm", std::make_shared<nn::LayerNorm>(Shape{cfg.dim}, 1e-6));
  head = register_module("head", std::make_shared<nn::Linear>(cfg.dim, kNumBases));

  // ConvNeXt's init: trunc_normal(.02) weights, zero biases, for the Linear layers and the convs.
  init_trunc_normal(*this, 0.02);
  apply([](nn::Module& module) {
    if (auto* conv = dynamic_cast<nn::Conv1d*>(&module)) {
      nn::init::trunc_normal_(conv->weight, 0.0, 0.02);
      if (conv->bias.defined()) nn::init::zeros_(conv->bias);
    }
  });
}

DnaTokenizer::Encoded DnaTokenizer::encode_and_quantize(const Tensor& bases) {
  EMBER_CHECK(bases.defined() && bases.dim() == 2 && bases.dtype() == DType::i64,
              "DnaTokenizer: expected bases (B, L) int64, got {}",
              bases.defined() ? bases.describe() : std::string("an undefined tensor"));
  EMBER_CHECK(bases.numel() > 0 && min(bases).item<int64_t>() >= 0 && max(bases).item<int64_t>() < kNumBases,
              "DnaTokenizer: base ids must lie in [0, {}) (A C G T N), got {}", kNumBases, bases.describe());
  // bases (B, L) -> one-hot (B, 5, L) -> stem (B, D, L) -> tokens (B, L, D)
  Tensor one_hot_bases = one_hot(bases, kNumBases).to(DType::f32).transpose(1, 2);
  Tensor x = gelu((*stem_norm)((*stem)(one_hot_bases).transpose(1, 2)));
  std::vector<Tensor> taps;  // the encoder outputs the quantizer reads
  for (size_t i = 0; i < encoder->size(); ++i) {
    x = (*(*encoder)[i])(x);
    const auto block = static_cast<int64_t>(i) + 1;
    const bool tapped = config.quantizer == "hrq"
                            ? std::find(config.hrq_taps.begin(), config.hrq_taps.end(), block) != config.hrq_taps.end()
                            : block == config.encoder_depth;
    if (tapped) taps.push_back(x);
  }
  Encoded out;
  if (vq) {
    nn::VQResult result = vq->quantize(taps.front());
    out.quantized = result.quantized;
    out.codes = result.indices.unsqueeze(-1);
    out.commitment_loss = result.loss;
    out.usage = {result.usage};
    out.perplexity = {result.perplexity};
  } else {
    nn::HRQResult result = hrq->quantize(taps);
    out.quantized = result.quantized;
    out.codes = stack(result.indices, -1);
    out.commitment_loss = result.loss;
    out.usage = result.usage;
    out.perplexity = result.perplexity;
  }
  return out;
}

std::vector<Tensor> DnaTokenizer::codebooks() const {
  if (vq) return {vq->embedding};
  std::vector<Tensor> out;
  for (const auto& level : hrq->levels) out.push_back(level->embedding);
  return out;
}

std::vector<int64_t> DnaTokenizer::codebook_sizes() const {
  std::vector<int64_t> sizes;
  for (const Tensor& codebook : codebooks()) sizes.push_back(codebook.size(0));
  return sizes;
}

TokenizerOutput DnaTokenizer::run(const Tensor& bases) {
  Encoded encoded = encode_and_quantize(bases);
  Tensor x = encoded.quantized;  // (B, L, D)
  for (size_t i = 0; i < decoder->size(); ++i) x = (*(*decoder)[i])(x);
  TokenizerOutput out;
  out.logits = (*head)((*head_norm)(x));  // (B, L, 5)
  out.codes = encoded.codes;
  out.quantized = encoded.quantized;
  out.commitment_loss = encoded.commitment_loss;
  out.usage = encoded.usage;
  out.perplexity = encoded.perplexity;
  out.reconstruction_loss = cross_entropy(out.logits.reshape({-1, kNumBases}), bases.reshape({-1}));
  out.loss = out.reconstruction_loss + out.commitment_loss;  // β is inside the quantizer's loss
  return out;
}

Tensor DnaTokenizer::encode(const Tensor& bases) {
  NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  Tensor codes = encode_and_quantize(bases).codes;
  train(was_training);
  return codes;
}

double reconstruction_accuracy(const Tensor& logits, const Tensor& bases) {
  EMBER_CHECK(logits.dim() == 3 && logits.size(2) == kNumBases && bases.sizes() == Shape({logits.size(0), logits.size(1)}),
              "reconstruction_accuracy: expected logits (B, L, {}) and bases (B, L), got {} and {}", kNumBases,
              logits.describe(), bases.describe());
  NoGradGuard no_grad;
  const Tensor hits = eq(argmax(logits, -1), bases);
  return static_cast<double>(count_nonzero(hits).item<int64_t>()) / static_cast<double>(bases.numel());
}

}  // namespace ember::models::vqdna
