// The VQDNA tokenizer: ConvNeXt-1D encoder, VQ / HRQ quantizer, ConvNeXt-1D decoder.
// See models/vqdna/tokenizer.h; tests: test/models/test_vqdna.cpp.
#include "models/vqdna/tokenizer.h"

#include <cctype>

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

double reconstruction_accuracy(const Tensor& logits, const Tensor& bases) {
  EMBER_CHECK(logits.dim() == 3 && logits.size(2) == kNumBases && bases.sizes() == Shape({logits.size(0), logits.size(1)}),
              "reconstruction_accuracy: expected logits (B, L, {}) and bases (B, L), got {} and {}", kNumBases,
              logits.describe(), bases.describe());
  NoGradGuard no_grad;
  const Tensor hits = eq(argmax(logits, -1), bases);
  return static_cast<double>(count_nonzero(hits).item<int64_t>()) / static_cast<double>(bases.numel());
}

}  // namespace ember::models::vqdna
