// Vision Transformer as timm's VisionTransformer builds it, so state_dict keys match timm's
// (patch_embed.proj, cls_token, pos_embed, blocks.N.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1,
// mlp.fc2}, norm / fc_norm, head) and the init is timm's (trunc_normal(.02) Linear weights and
// pos_embed, cls_token N(0, 1e-6)). DeiT-tiny/small are the same architectures as ViT-Ti/S.
// Class-token or mean pooling; with mean pooling the final LayerNorm moves after the pooling and is
// called fc_norm, as in timm (global_pool="avg").
// Implementation: models/vit.cpp; registry: models/zoo.cpp; tests: test/models/.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/nn/attention.h"
#include "models/nn/container.h"
#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/nn/norm.h"

namespace ember::models {

struct ViTConfig {
  int64_t image_size = 224;
  int64_t patch_size = 16;
  int64_t in_channels = 3;
  int64_t num_classes = 1000;
  int64_t embed_dim = 768;
  int64_t depth = 12;
  int64_t num_heads = 12;
  double mlp_ratio = 4.0;
  bool qkv_bias = true;
  bool class_token = true;
  std::string pooling = "cls";  // "cls" (needs class_token) or "mean" (over the patch tokens)
  double drop_rate = 0.0;       // after the position embedding, after attention / MLP, before the head
  double attn_drop_rate = 0.0;  // on the attention weights
  double drop_path_rate = 0.0;  // stochastic depth, rising linearly from 0 at block 0 to this at the last
};

// timm's Attention: one qkv Linear (dim -> 3 dim), softmax attention per head, proj Linear.
// x: (B, N, dim) -> (B, N, dim).
class Attention : public nn::Module {
 public:
  Attention(int64_t dim, int64_t num_heads, bool qkv_bias = true, double attn_drop = 0.0, double proj_drop = 0.0);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t num_heads, head_dim;
  double attn_drop;
  std::shared_ptr<nn::Linear> qkv, proj;
  std::shared_ptr<nn::Dropout> proj_drop;
};

// Pre-norm transformer block: x + drop_path(attn(norm1(x))), then x + drop_path(mlp(norm2(x))).
class ViTBlock : public nn::Module {
 public:
  ViTBlock(int64_t dim, int64_t num_heads, double mlp_ratio, bool qkv_bias, double drop, double attn_drop,
           double drop_path);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::LayerNorm> norm1, norm2;
  std::shared_ptr<Attention> attn;
  std::shared_ptr<nn::Mlp> mlp;
  std::shared_ptr<nn::DropPath> drop_path1, drop_path2;
};

// x: (N, in_channels, image_size, image_size) -> (N, num_classes).
class VisionTransformer : public nn::Module {
 public:
  explicit VisionTransformer(const ViTConfig& config);
  Tensor forward(const Tensor& x) override;
  Tensor forward_features(const Tensor& x);  // pooled, normalised features (N, embed_dim)
  ViTConfig config;
  std::shared_ptr<nn::PatchEmbed> patch_embed;
  Tensor cls_token;  // (1, 1, D); undefined without a class token
  Tensor pos_embed;  // (1, num_patches + prefix tokens, D)
  std::shared_ptr<nn::Dropout> pos_drop, head_drop;
  std::shared_ptr<nn::Sequential> blocks;
  nn::ModulePtr norm;     // LayerNorm before pooling (cls pooling) or Identity
  nn::ModulePtr fc_norm;  // LayerNorm after pooling (mean pooling) or Identity
  std::shared_ptr<nn::Linear> head;
};

// Named sizes: vit_tiny / deit_tiny (D 192, 3 heads), vit_small / deit_small (D 384, 6 heads),
// vit_base / deit_base (D 768, 12 heads); depth 12; the other fields keep ViTConfig's defaults.
std::vector<std::string> vit_variants();
ViTConfig vit_config(const std::string& variant);

}  // namespace ember::models
