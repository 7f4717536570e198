// VQDNA stages 2-3: a BERT-style encoder over frozen VQ codes (papers.md §4.1). Each position holds
// one code per quantizer level; its input vector is the average of the levels' frozen codebook
// embeddings (for HRQ that is exactly the tokenizer's Ẑ), projected to the model width, plus a
// learned absolute position embedding. Pre-norm transformer blocks (models/vit.h's ViTBlock), a final
// LayerNorm. Heads: masked code modeling (BERT's transform + one decoder per level), and a sequence
// classifier (mean pool + MLP for fine-tuning, or a single Linear on a frozen encoder for the linear
// probe). Masking follows BERT: a fraction of positions (25% in VQDNA) is selected; of those 80%
// become [MASK], 10% random codes, 10% stay.
// Twins: models/vqdna/tokenizer.h (stage 1), models/vqdna/vqdna.h (pipeline), docs/VQDNA.md.
// Tests: test/models/test_vqdna.cpp.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/random.h"
#include "models/nn/attention.h"
#include "models/nn/container.h"
#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/nn/norm.h"

namespace ember::models::vqdna {

struct BertConfig {
  int64_t code_dim = 384;                    // the tokenizer's code dimension
  std::vector<int64_t> codebook_sizes = {512};  // one per quantizer level: the MLM targets
  int64_t dim = 768;                         // BERT-base
  int64_t depth = 12;
  int64_t num_heads = 12;
  double mlp_ratio = 4.0;
  int64_t max_length = 512;                  // position embeddings
  double drop_rate = 0.1;                    // BERT's hidden dropout
  double attn_drop_rate = 0.1;
  double drop_path_rate = 0.0;
};

// tokens: codes (B, L, levels) int64 -> hidden states (B, L, dim).
class BertEncoder : public nn::Module {
 public:
  explicit BertEncoder(const BertConfig& config);
  Tensor forward(const Tensor& codes) override { return encode(codes, Tensor()); }
  // mask_positions: (B, L) bool (true: the input is the learned [MASK] vector), or undefined.
  Tensor encode(const Tensor& codes, const Tensor& mask_positions);
  // Copies each level's codebook (K_n, code_dim) into the frozen input tables (buffers).
  void set_codebooks(const std::vector<Tensor>& codebooks);
  int64_t levels() const { return static_cast<int64_t>(config.codebook_sizes.size()); }

  BertConfig config;
  std::vector<Tensor> code_embeddings;  // buffers "code_embeddings_<n>": (K_n, code_dim), not trained
  std::shared_ptr<nn::Linear> input_proj;
  Tensor mask_token;                    // (dim)
  Tensor pos_embed;                     // (1, max_length, dim)
  std::shared_ptr<nn::LayerNorm> embed_norm;
  std::shared_ptr<nn::Dropout> embed_drop;
  std::shared_ptr<nn::Sequential> blocks;
  std::shared_ptr<nn::LayerNorm> norm;
};

// BERT's MLM head: Linear + GELU + LayerNorm, then one decoder Linear per level.
// hidden (B, L, dim) -> logits (B, L, K_n) per level.
class MaskedCodeHead : public nn::Module {
 public:
  MaskedCodeHead(int64_t dim, const std::vector<int64_t>& codebook_sizes);
  std::vector<Tensor> logits(const Tensor& hidden);
  Tensor forward(const Tensor& hidden) override { return logits(hidden).front(); }
  std::shared_ptr<nn::Linear> dense;
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::ModuleList> decoders;
};

struct MaskedCodes {
  Tensor inputs;          // (B, L, levels): codes with the 10% random replacements applied
  Tensor mask_positions;  // (B, L) bool: the 80% shown as [MASK]
  Tensor targets;         // (B, L, levels): the original code where selected, -100 elsewhere
  Tensor selected;        // (B, L) bool: every selected position (MASK + random + kept)
};

// BERT's masking rule: each position is selected with probability `ratio`; a selected position is
// shown as [MASK] with probability mask_prob, as a random code (each level drawn uniformly from its
// codebook) with probability random_prob, else unchanged. codes: (B, L, levels) int64.
MaskedCodes mask_codes(const Tensor& codes, const std::vector<int64_t>& codebook_sizes, double ratio,
                       Generator& gen, double mask_prob = 0.8, double random_prob = 0.1);

// Encoder + MLM head: pretrain_loss() is the mean over levels of the cross-entropy at the selected positions.
class BertForMaskedModeling : public nn::Module {
 public:
  explicit BertForMaskedModeling(const BertConfig& config);
  Tensor pretrain_loss(const MaskedCodes& batch);
  Tensor forward(const Tensor& codes) override { return (*head)(encoder->forward(codes)); }
  std::shared_ptr<BertEncoder> encoder;
  std::shared_ptr<MaskedCodeHead> head;
};

// Sequence classification over an encoder: mean pool over positions, then an MLP head
// (Linear + GELU + Dropout + Linear) for fine-tuning, or one Linear (linear_probe) on a frozen
// encoder (its parameters stop requiring grad and it stays in eval mode).
// codes (B, L, levels) -> logits (B, num_classes).
class BertClassifier : public nn::Module {
 public:
  BertClassifier(std::shared_ptr<BertEncoder> encoder, int64_t num_classes, bool linear_probe,
                 int64_t hidden = -1, double drop = 0.1);
  Tensor forward(const Tensor& codes) override;
  void train(bool on = true) override;  // the probe keeps its encoder in eval mode
  std::shared_ptr<BertEncoder> encoder;
  nn::ModulePtr head;
  bool linear_probe;
};

}  // namespace ember::models::vqdna
