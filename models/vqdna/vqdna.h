// VQDNA's three-stage pipeline (papers.md §4.1) as experiments/vqdna.cpp and the tests drive it:
//   1. train the tokenizer (VQ-VAE or HRQ) to reconstruct bases; evaluate reconstruction accuracy,
//      codebook usage and perplexity;
//   2. freeze it, turn every sequence into codes once, and pre-train a BERT-style encoder by masked
//      code modeling (25% masking, BERT's 80/10/10);
//   3. fine-tune (encoder + MLP head) or linear-probe (frozen encoder + Linear) a classifier.
// Every stage trains with AdamW, linear warm-up then cosine decay, and gradient clipping, on random
// mini-batches drawn from in-memory tensors (sequences are short and fixed-length).
// Named sizes: "paper" (D 384, 6 + 6 blocks, K 512, BERT-base) and scaled-down ones for CPU runs.
// Twins: models/vqdna/tokenizer.h, models/vqdna/bert.h, models/vqdna/synthetic_genome.h,
// experiments/vqdna.cpp, docs/VQDNA.md. Tests: test/models/test_vqdna.cpp.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/vqdna/bert.h"
#include "models/vqdna/tokenizer.h"

namespace ember::models::vqdna {

struct VQDNAConfig {
  TokenizerConfig tokenizer;
  BertConfig bert;  // code_dim and codebook_sizes are taken from the tokenizer
};
// "paper": papers.md §4.1 sizes; "small": D 128, 4 + 2 blocks, K 256, BERT 256 x 4;
// "tiny": D 64, 2 + 1 blocks, K 64, BERT 64 x 2 (tests, smoke runs).
// quantizer: "vq" or "hrq" (HRQ taps at the middle and the last encoder block).
std::vector<std::string> vqdna_size_names();
VQDNAConfig vqdna_config(const std::string& size, const std::string& quantizer);

struct StageOptions {
  int64_t steps = 100;
  int64_t batch_size = 32;
  double lr = 1e-4;
  double weight_decay = 0.05;  // not on norms, biases, position embeddings or the mask token
  double warmup_fraction = 0.05;
  double clip_grad = 1.0;      // global L2 norm; 0 = off
  uint64_t seed = 0;           // mini-batch order (and masking in stage 2)
};

// What a stage reports after each step (for progress lines and metrics files).
struct StepReport {
  int64_t step = 0;  // 1-based
  double lr = 0.0;
  double loss = 0.0;
  std::vector<std::pair<std::string, double>> extra;  // stage-specific: reconstruction accuracy, usage, ...
};
using StepCallback = std::function<void(const StepReport&)>;

struct TokenizerEval {
  double reconstruction_accuracy = 0.0;  // in [0, 1]
  std::vector<double> usage;             // per level: fraction of the K_n codes used over the whole set
  std::vector<double> perplexity;        // per level: exp(entropy) of the code distribution over the set
};

class VQDNA {
 public:
  explicit VQDNA(const VQDNAConfig& config);
  // The one-hot baseline (HyenaDNA's tokenization in the paper's Table 1): no tokenizer; each base is
  // its own token (codebook size 5, the one-hot vectors as the frozen input table), the same BERT.
  static VQDNA one_hot_baseline(const BertConfig& bert);
  bool is_one_hot() const { return tokenizer == nullptr; }

  // Stage 1 (not for the one-hot baseline). bases: (N, L) int64 ids of A C G T N.
  void train_tokenizer(const Tensor& bases, const StageOptions& options, const StepCallback& on_step = {});
  TokenizerEval evaluate_tokenizer(const Tensor& bases, int64_t batch_size = 64);
  // The frozen tokenizer's codes (N, L, levels), computed in eval mode without gradients (the
  // one-hot baseline: the bases themselves, (N, L, 1)).
  Tensor tokenize(const Tensor& bases, int64_t batch_size = 64);
  // Ends stage 1: freezes the tokenizer and builds the BERT model with the codebooks as its
  // frozen input tables. Called by pretrain() and classifier() when needed.
  void freeze_tokenizer();

  // Stage 2: masked code modeling on codes (N, L, levels).
  void pretrain(const Tensor& codes, double mask_ratio, const StageOptions& options, const StepCallback& on_step = {});
  // The masked-modeling loss and accuracy (on the selected positions) over codes, with a fixed
  // masking seed, in eval mode.
  std::pair<double, double> evaluate_pretraining(const Tensor& codes, double mask_ratio, int64_t batch_size = 64,
                                                 uint64_t seed = 1234);

  // Stage 3: a classifier over a copy of the current (pre-trained) encoder, so the linear probe and
  // fine-tuning both start from the same weights.
  std::shared_ptr<BertClassifier> classifier(int64_t num_classes, bool linear_probe);

  VQDNAConfig config;
  std::shared_ptr<DnaTokenizer> tokenizer;
  std::shared_ptr<BertForMaskedModeling> bert;  // null until freeze_tokenizer()

 private:
  VQDNA(VQDNAConfig config, std::shared_ptr<DnaTokenizer> tokenizer);
};

// Trains a classifier on codes (N, L, levels) and labels (N).
void train_classifier(BertClassifier& classifier, const Tensor& codes, const Tensor& labels,
                      const StageOptions& options, const StepCallback& on_step = {});
// Predicted classes (N) int64, in eval mode without gradients.
Tensor predict(BertClassifier& classifier, const Tensor& codes, int64_t batch_size = 64);

// The loop every stage shares: AdamW over `model`'s trainable parameters, warm-up + cosine, clipping;
// step_loss(indices) returns the loss of the mini-batch `indices` (batch_size) int64 of [0, N),
// and may add extra report values.
void run_stage(nn::Module& model, int64_t num_examples, const StageOptions& options,
               const std::function<Tensor(const Tensor& indices, StepReport& report)>& step_loss,
               const StepCallback& on_step);

}  // namespace ember::models::vqdna
