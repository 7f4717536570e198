// LongVQ (Liu et al., IJCAI'24): MEGA's gated block (models/seq/mega.h) keeping MEGA's damped EMA
// as the token mixer, with softmax attention over vector-quantized keys (ops/vq_attention.h):
// the keys are quantized to a codebook of S codewords (nn::VectorQuantizer, EMA k-means, straight-
// through), far keys reach a query through the aggregated per-code cache (linear time), and a local
// window of W keys gets a learned positional bias. No public code exists; docs/LONGVQ.md lists
// every choice made here, among them:
//  - the VQ attention is causal even in bidirectional (classification) models: the codebook cache is
//    a causal running memory (Transformer-VQ), and it keeps padded keys out of real tokens' outputs
//    (Note [Padding mask]); bidirectional context comes from the bidirectional EMA before it.
//  - the commitment loss is attached to the block's output (attach_auxiliary_loss) so any training
//    loop that back-propagates the task loss also trains the keys toward their codes.
// Implementation: models/seq/longvq.cpp.
#pragma once
#include "models/nn/vq.h"
#include "models/seq/mega.h"

namespace ember::models::seq {

class LongVQBlock : public GatedAttentionBlock {
 public:
  explicit LongVQBlock(const SeqModelConfig& config);
  Tensor mix(const Tensor& h0) override { return (*ema)(h0); }
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) override;
  Tensor auxiliary_loss() const override { return last_loss_; }
  std::shared_ptr<DampedEma> ema;
  std::shared_ptr<nn::VectorQuantizer> quantizer;  // codebook (S, z) as its "embedding" buffer
  Tensor position_bias;                            // (1, W): bias[i - j] for the W nearest keys
  int64_t window;
  double last_perplexity = 0.0;                    // code perplexity of the last training batch

 private:
  Tensor last_loss_;
};

// Returns x unchanged; back-propagating through the result also back-propagates `loss` (0-d) with
// gradient 1, as if it had been added to the final loss (DeepSeek-MoE's AddAuxiliaryLoss).
Tensor attach_auxiliary_loss(const Tensor& x, const Tensor& loss);

}  // namespace ember::models::seq
