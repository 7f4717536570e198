// The sequence models around the blocks, and the registry the experiments build them from:
//   tokens (B, L) int64 -> Embedding, or floats (B, L[, F]) -> Linear   (+ sinusoidal positions
//   for the Transformer) -> dropout -> blocks -> LayerNorm -> head:
//     task "classify": mean over real tokens (Note [Padding mask]) -> Linear -> (B, num_classes)
//     task "lm":       Linear per position -> next-token logits (B, L, vocab_size), causal blocks
// Names: transformer, mega, chela, longvq (models/seq/{transformer,mega,chela,longvq}.h).
// Implementation: models/seq/seq_zoo.cpp; tests: test/models/test_seq_models.cpp.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/nn/container.h"
#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/seq/seq_block.h"

namespace ember::models::seq {

class SeqModel : public nn::Module {
 public:
  SeqModel(const std::string& block_name, const SeqModelConfig& config);
  // x: (B, L) int64 tokens or (B, L[, F]) floats -> (B, num_classes) or (B, L, vocab_size).
  Tensor forward(const Tensor& x) override;
  // The normalized token features (B, L, D) and the padding mask (B, L) bool (undefined: none).
  std::pair<Tensor, Tensor> forward_features(const Tensor& x);
  // (B, L) bool, true = real token; undefined when the config has no pad_id or x is not tokens.
  Tensor padding_mask(const Tensor& x) const;
  // CHELA: merge every block's short-long kernels (Note [Structural re-parameterization]).
  void reparameterize();
  // The sum of the blocks' auxiliary losses from the last forward (LongVQ's commitment loss; 0-d),
  // undefined when no block has one. Training adds it to the task loss.
  Tensor auxiliary_loss() const;

  std::string block_name;
  SeqModelConfig config;
  nn::ModulePtr embed;  // nn::Embedding or nn::Linear
  std::shared_ptr<nn::Dropout> embed_drop;
  std::shared_ptr<nn::ModuleList> blocks;
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::Linear> head;
};

// One block of the named family (the unit the scaling benchmark times).
std::shared_ptr<SeqBlock> create_seq_block(const std::string& name, const SeqModelConfig& config);
// The whole model; unknown names and inconsistent configs throw an ember::Error.
std::shared_ptr<SeqModel> create_seq_model(const std::string& name, const SeqModelConfig& config);
std::vector<std::string> seq_model_names();

// The config whose d_model (a multiple of `multiple`, and of num_heads for the Transformer) gives
// the named model the parameter count closest to `target`; every other field as in `config`.
// The experiments compare models at equal budget with it.
SeqModelConfig match_parameter_budget(const std::string& name, SeqModelConfig config, int64_t target,
                                      int64_t multiple = 4);
int64_t count_seq_parameters(const std::string& name, const SeqModelConfig& config);

}  // namespace ember::models::seq
