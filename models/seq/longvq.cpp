// The LongVQ block. See models/seq/longvq.h and docs/LONGVQ.md.
#include "models/seq/longvq.h"

#include <fmt/format.h>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "ops/ops.h"
#include "ops/vq_attention.h"

namespace ember::models::seq {

Tensor attach_auxiliary_loss(const Tensor& x, const Tensor& loss) {
  if (!loss.defined() || !any_requires_grad({x, loss})) return x;
  EMBER_CHECK(loss.dim() == 0, "attach_auxiliary_loss: the loss must be 0-d, got {}", loss.describe());
  Tensor out = x.detach();
  record_backward("attach_auxiliary_loss", {x, loss}, {out}, {}, [](BackwardContext& ctx) -> TensorList {
    return {ctx.grad(0), ctx.needs_grad(1) ? ones({}, ctx.input_dtype(1)) : Tensor()};
  });
  return out;
}

namespace {
nn::VectorQuantizerOptions quantizer_options(const SeqModelConfig& config) {
  nn::VectorQuantizerOptions options;
  options.num_codes = config.codebook_size;
  options.dim = config.z_dim;
  options.commitment = config.commitment;
  options.ema = true;  // k-means codebook (Transformer-VQ): no codebook gradient needed
  return options;
}
}  // namespace

LongVQBlock::LongVQBlock(const SeqModelConfig& config)
    : GatedAttentionBlock("LongVQBlock", config), window(config.window) {
  EMBER_CHECK(config.codebook_size > 0 && config.window >= 0,
              "LongVQBlock: codebook_size ({}) must be positive and window ({}) >= 0", config.codebook_size,
              config.window);
  ema = register_module("ema", std::make_shared<DampedEma>(dim, config.n_dim, causal));
  quantizer = register_module("quantizer", std::make_shared<nn::VectorQuantizer>(quantizer_options(config)));
  if (window > 0) position_bias = register_parameter("position_bias", zeros({1, window}));
}

Tensor LongVQBlock::attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  (void)mask;  // the causal VQ attention never reaches padded keys (they follow the real tokens)
  // k: (B, L, z) -> codes (B, L); training also moves the EMA codebook toward these keys.
  const nn::VQResult codes = quantizer->quantize(k);
  VQAttentionOptions options;
  options.causal = true;
  options.window = window;
  // One head: (B, L, width) -> (B, 1, L, width)
  const Tensor out = vq_attention(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1), codes.indices.unsqueeze(1),
                                  quantizer->embedding, options, position_bias);
  last_loss_ = is_training() ? codes.loss : Tensor();
  if (is_training()) last_perplexity = codes.perplexity;
  return attach_auxiliary_loss(out.squeeze(1), last_loss_);  // (B, L, H)
}

}  // namespace ember::models::seq
