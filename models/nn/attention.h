// MultiheadAttention (torch.nn.MultiheadAttention semantics, batch_first), Mlp (timm's transformer
// MLP block) and PatchEmbed (ViT). Implementation: models/nn/attention.cpp.
#pragma once
#include "models/nn/module.h"

namespace ember::nn {

// q: (B, L, E), k/v: (B, S, E) -> (B, L, E). Parameters as PyTorch: in_proj_weight (3E, E),
// in_proj_bias (3E), out_proj.weight/bias — so state_dicts line up; xavier_uniform in_proj, zero biases.
// attn_mask: bool (L, S) / (B*heads or B, heads, L, S) where true = masked out, or float added to the
// scores; key_padding_mask: bool (B, S), true = ignore that key. Uses scaled_dot_product_attention.
class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, double dropout = 0.0, bool bias = true);
  Tensor forward(const Tensor& x) override;  // self-attention, no mask
  Tensor forward(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& attn_mask = {},
                 const Tensor& key_padding_mask = {}, bool is_causal = false);
  std::string extra_repr() const override;
  int64_t embed_dim, num_heads, head_dim;
  double dropout;
  Tensor in_proj_weight, in_proj_bias;
  std::shared_ptr<class Linear> out_proj;
};

// timm's Mlp: fc1 -> act -> drop -> fc2 -> drop. x: (*, in) -> (*, out).
class Mlp : public Module {
 public:
  Mlp(int64_t in_features, int64_t hidden_features, int64_t out_features = -1, const std::string& act = "gelu",
      double drop = 0.0);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<class Linear> fc1, fc2;
  ModulePtr act;
  std::shared_ptr<class Dropout> drop;
};

// Image (N, C, H, W) -> tokens (N, (H/p)*(W/p), embed_dim) via a p×p stride-p conv named "proj".
class PatchEmbed : public Module {
 public:
  PatchEmbed(int64_t image_size, int64_t patch_size, int64_t in_channels, int64_t embed_dim);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t image_size, patch_size, num_patches;
  std::shared_ptr<class Conv2d> proj;
};

}  // namespace ember::nn
