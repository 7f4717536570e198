// VQDNA stage 1: the VQ tokenizer of DNA (papers.md §4.1). Bases (A, C, G, T, N as ids 0..4) ->
// one-hot -> stem Conv1d (k 5) + LayerNorm + GELU -> ConvNeXt-1D encoder blocks -> quantizer ->
// ConvNeXt-1D decoder blocks -> LayerNorm + Linear -> logits over the five bases, trained with
// cross-entropy reconstruction + β · commitment. No downsampling: one token per base.
// Quantizer: "vq" (one EMA codebook after the last encoder block, a VQ-VAE) or "hrq" (Hierarchical
// Residual Quantization: one codebook per tap, H⁽ⁿ⁾ = 2·Z⁽ⁿ⁾ − e(M⁽ⁿ⁻¹⁾), levels averaged), both
// from models/nn/vq.h. The residual stream is channels-last (B, L, D), the models' sequence layout;
// the block goes channels-first only for its depthwise conv.
// Twins: models/convnext.h (the 2-D block), models/vqdna/bert.h (stage 2), models/vqdna/vqdna.h
// (the pipeline), docs/VQDNA.md (sizes and open choices). Tests: test/models/test_vqdna.cpp.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/nn/attention.h"
#include "models/nn/container.h"
#include "models/nn/conv.h"
#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/nn/norm.h"
#include "models/nn/vq.h"

namespace ember::models::vqdna {

// Base ids: A 0, C 1, G 2, T 3, N (any other letter) 4.
inline constexpr int64_t kNumBases = 5;
int64_t base_id(char letter);        // case-insensitive; anything but ACGT is N
char base_letter(int64_t id);        // "ACGTN"[id]

struct TokenizerConfig {
  int64_t dim = 384;             // width of every block and the code dimension (paper: D 384)
  int64_t encoder_depth = 6;     // ConvNeXt-1D blocks before the (last) quantizer (paper: 6)
  int64_t decoder_depth = 6;     // the decoder mirrors the encoder
  int64_t kernel_size = 7;       // depthwise conv (paper: 7)
  int64_t stem_kernel = 5;       // stem conv (paper: 5)
  double mlp_ratio = 4.0;        // pointwise MLP expansion (paper: 4)
  double layer_scale_init_value = 1e-6;  // <= 0: no layer scale
  double drop_path_rate = 0.0;
  std::string quantizer = "vq";  // "vq" (VQ-VAE) or "hrq"
  int64_t codebook_size = 512;   // K; HRQ level n (0-based) has K · 2ⁿ codes
  std::vector<int64_t> hrq_taps = {3, 6};  // HRQ: encoder blocks (1-based) whose outputs are quantized
  double commitment_beta = 0.5;  // paper: β 0.5
  double ema_decay = 0.99;       // codebook EMA (not given by the paper)
  int64_t dead_code_steps = 0;   // > 0: restart a code unused for this many steps (not in the paper)
  uint64_t seed = 0;             // the restart draws
};

// ConvNeXt-1D block on channels-last tokens: x + drop_path(gamma · Mlp(LN(dwconv(x)))).
// x: (B, L, dim) -> same. The 1-D twin of models/convnext.h's ConvNeXtBlock.
class ConvNeXtBlock1d : public nn::Module {
 public:
  ConvNeXtBlock1d(int64_t dim, int64_t kernel_size, double mlp_ratio, double drop_path, double layer_scale_init_value);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Conv1d> dwconv;
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::Mlp> mlp;
  std::shared_ptr<nn::LayerScale> layer_scale;  // null without layer scale
  std::shared_ptr<nn::DropPath> drop_path;
};

struct TokenizerOutput {
  Tensor logits;                 // (B, L, kNumBases)
  Tensor codes;                  // (B, L, levels) int64: the code of each level (levels = 1 for VQ)
  Tensor quantized;              // (B, L, D): what the decoder reads (the levels' average for HRQ)
  Tensor reconstruction_loss;    // 0-d: cross-entropy of logits vs bases
  Tensor commitment_loss;        // 0-d: β · Σ_levels mean ||H - sg(e(M))||² (the quantizers' loss)
  Tensor loss;                   // reconstruction + commitment
  std::vector<double> usage;       // per level: fraction of codes used in this batch
  std::vector<double> perplexity;  // per level: exp(entropy) of this batch's codes
};

class DnaTokenizer : public nn::Module {
 public:
  explicit DnaTokenizer(const TokenizerConfig& config);
  // bases: (B, L) int64 in [0, kNumBases). Training mode also updates the codebooks (EMA).
  TokenizerOutput run(const Tensor& bases);
  Tensor forward(const Tensor& bases) override { return run(bases).logits; }
  // The codes alone (no decoder), in eval mode and without gradients: (B, L, levels) int64.
  Tensor encode(const Tensor& bases);
  // Each level's codebook (K_n, D), as BERT's frozen input embeddings read them.
  std::vector<Tensor> codebooks() const;
  std::vector<int64_t> codebook_sizes() const;
  int64_t levels() const { return static_cast<int64_t>(config.quantizer == "hrq" ? config.hrq_taps.size() : 1); }

  TokenizerConfig config;
  std::shared_ptr<nn::Conv1d> stem;
  std::shared_ptr<nn::LayerNorm> stem_norm;
  std::shared_ptr<nn::ModuleList> encoder, decoder;
  std::shared_ptr<nn::VectorQuantizer> vq;                    // "vq"
  std::shared_ptr<nn::HierarchicalResidualQuantizer> hrq;     // "hrq"
  std::shared_ptr<nn::LayerNorm> head_norm;
  std::shared_ptr<nn::Linear> head;

 private:
  struct Encoded {
    Tensor quantized, codes, commitment_loss;
    std::vector<double> usage, perplexity;
  };
  Encoded encode_and_quantize(const Tensor& bases);
};

// Reconstruction accuracy (fraction of bases whose argmax logit is the base): logits (B, L, 5), bases (B, L).
double reconstruction_accuracy(const Tensor& logits, const Tensor& bases);

}  // namespace ember::models::vqdna
