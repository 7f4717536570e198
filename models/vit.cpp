// Vision Transformer (timm layout). See models/vit.h; tests: test/models/.
#include "models/vit.h"

#include <fmt/ranges.h>

#include "engine/error.h"
#include "engine/factories.h"
#include "models/nn/init.h"
#include "models/zoo.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace ember::models {

Attention::Attention(int64_t dim, int64_t heads, bool qkv_bias, double attn_drop_p, double proj_drop_p)
    : Module("Attention"), num_heads(heads), head_dim(heads > 0 ? dim / heads : 0), attn_drop(attn_drop_p) {
  EMBER_CHECK(heads > 0 && dim % heads == 0, "Attention: dim {} must be a positive multiple of num_heads {}", dim,
              heads);
  qkv = register_module("qkv", std::make_shared<nn::Linear>(dim, dim * 3, qkv_bias));
  proj = register_module("proj", std::make_shared<nn::Linear>(dim, dim));
  proj_drop = register_module("proj_drop", std::make_shared<nn::Dropout>(proj_drop_p));
}

std::string Attention::extra_repr() const {
  return fmt::format("num_heads={}, head_dim={}, attn_drop={}", num_heads, head_dim, attn_drop);
}

Tensor Attention::forward(const Tensor& x) {
  const int64_t dim = num_heads * head_dim;
  EMBER_CHECK(x.dim() == 3 && x.size(2) == dim, "Attention: expected x of shape (B, N, {}), got {}", dim,
              x.describe());
  const int64_t B = x.size(0), N = x.size(1);
  // (B, N, 3 dim) -> (3, B, heads, N, head_dim): q, k, v per head without copying.
  Tensor qkv_heads = (*qkv)(x).reshape({B, N, 3, num_heads, head_dim}).permute({2, 0, 3, 1, 4});
  TensorList q_k_v = unbind(qkv_heads, 0);
  Tensor out = scaled_dot_product_attention(q_k_v[0], q_k_v[1], q_k_v[2], Tensor(), training_ ? attn_drop : 0.0);
  out = out.transpose(1, 2).reshape({B, N, dim});  // (B, heads, N, hd) -> (B, N, dim)
  return (*proj_drop)((*proj)(out));
}

ViTBlock::ViTBlock(int64_t dim, int64_t num_heads, double mlp_ratio, bool qkv_bias, double drop, double attn_drop,
                   double drop_path)
    : Module("Block") {
  norm1 = register_module("norm1", std::make_shared<nn::LayerNorm>(Shape{dim}, 1e-6));
  attn = register_module("attn", std::make_shared<Attention>(dim, num_heads, qkv_bias, attn_drop, drop));
  drop_path1 = register_module("drop_path1", std::make_shared<nn::DropPath>(drop_path));
  norm2 = register_module("norm2", std::make_shared<nn::LayerNorm>(Shape{dim}, 1e-6));
  const auto hidden = static_cast<int64_t>(static_cast<double>(dim) * mlp_ratio);
  mlp = register_module("mlp", std::make_shared<nn::Mlp>(dim, hidden, dim, "gelu", drop));
  drop_path2 = register_module("drop_path2", std::make_shared<nn::DropPath>(drop_path));
}

Tensor ViTBlock::forward(const Tensor& x) {
  // x: (B, N, dim)
  Tensor out = x + (*drop_path1)((*attn)((*norm1)(x)));
  return out + (*drop_path2)((*mlp)((*norm2)(out)));
}

VisionTransformer::VisionTransformer(const ViTConfig& cfg) : Module("VisionTransformer"), config(cfg) {
  EMBER_CHECK(cfg.pooling == "cls" || cfg.pooling == "mean",
              "VisionTransformer: pooling must be \"cls\" or \"mean\", got \"{}\"", cfg.pooling);
  EMBER_CHECK(cfg.pooling != "cls" || cfg.class_token, "VisionTransformer: cls pooling needs class_token = true");
  EMBER_CHECK(cfg.patch_size > 0 && cfg.image_size > 0 && cfg.image_size % cfg.patch_size == 0,
              "VisionTransformer: image_size {} must be a positive multiple of patch_size {}", cfg.image_size,
              cfg.patch_size);
  EMBER_CHECK(cfg.depth > 0 && cfg.num_classes > 0 && cfg.in_channels > 0,
              "VisionTransformer: depth ({}), num_classes ({}) and in_channels ({}) must be positive", cfg.depth,
              cfg.num_classes, cfg.in_channels);
  const int64_t D = cfg.embed_dim;
  patch_embed = register_module("patch_embed",
                                std::make_shared<nn::PatchEmbed>(cfg.image_size, cfg.patch_size, cfg.in_channels, D));
  const int64_t prefix_tokens = cfg.class_token ? 1 : 0;
  if (cfg.class_token) cls_token = register_parameter("cls_token", zeros({1, 1, D}));
  pos_embed = register_parameter("pos_embed", zeros({1, patch_embed->num_patches + prefix_tokens, D}));
  pos_drop = register_module("pos_drop", std::make_shared<nn::Dropout>(cfg.drop_rate));

  blocks = register_module("blocks", std::make_shared<nn::Sequential>());
  for (double drop_path : drop_path_rates(cfg.depth, cfg.drop_path_rate)) {
    blocks->push_back(std::make_shared<ViTBlock>(D, cfg.num_heads, cfg.mlp_ratio, cfg.qkv_bias, cfg.drop_rate,
                                                 cfg.attn_drop_rate, drop_path));
  }
  const bool mean_pool = cfg.pooling == "mean";
  auto layer_norm = [&]() -> nn::ModulePtr { return std::make_shared<nn::LayerNorm>(Shape{D}, 1e-6); };
  auto identity = []() -> nn::ModulePtr { return std::make_shared<nn::Identity>(); };
  norm = register_module("norm", mean_pool ? identity() : layer_norm());
  fc_norm = register_module("fc_norm", mean_pool ? layer_norm() : identity());
  head_drop = register_module("head_drop", std::make_shared<nn::Dropout>(cfg.drop_rate));
  head = register_module("head", std::make_shared<nn::Linear>(D, cfg.num_classes));

  // timm's init_weights (mode ""): patch_embed keeps the conv default.
  nn::init::trunc_normal_(pos_embed, 0.0, 0.02);
  if (cls_token.defined()) nn::init::normal_(cls_token, 0.0, 1e-6);
  init_trunc_normal(*this, 0.02);
}

Tensor VisionTransformer::forward_features(const Tensor& x) {
  Tensor tokens = (*patch_embed)(x);  // (B, num_patches, D)
  const int64_t B = tokens.size(0);
  if (cls_token.defined()) tokens = cat({cls_token.expand({B, -1, -1}), tokens}, 1);  // (B, 1 + patches, D)
  tokens = (*pos_drop)(tokens + pos_embed);
  tokens = (*norm)((*blocks)(tokens));
  Tensor pooled = config.pooling == "cls" ? tokens.select(1, 0)
                                          : mean(tokens.slice(1, cls_token.defined() ? 1 : 0, tokens.size(1)), {1});
  return (*fc_norm)(pooled);  // (B, D)
}

Tensor VisionTransformer::forward(const Tensor& x) { return (*head)((*head_drop)(forward_features(x))); }

namespace {
struct ViTSize {
  const char* name;
  int64_t embed_dim, num_heads;
};
const std::vector<ViTSize>& vit_sizes() {
  static const std::vector<ViTSize> sizes = {{"vit_tiny", 192, 3},  {"deit_tiny", 192, 3},  {"vit_small", 384, 6},
                                             {"deit_small", 384, 6}, {"vit_base", 768, 12}, {"deit_base", 768, 12}};
  return sizes;
}
}  // namespace

std::vector<std::string> vit_variants() {
  std::vector<std::string> names;
  for (const ViTSize& size : vit_sizes()) names.emplace_back(size.name);
  return names;
}

ViTConfig vit_config(const std::string& variant) {
  for (const ViTSize& size : vit_sizes()) {
    if (variant != size.name) continue;
    ViTConfig config;
    config.embed_dim = size.embed_dim;
    config.num_heads = size.num_heads;
    return config;
  }
  EMBER_FAIL("vit_config: unknown variant \"{}\"; known: {}", variant, fmt::join(vit_variants(), ", "));
}

}  // namespace ember::models
