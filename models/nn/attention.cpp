// MultiheadAttention (torch.nn.MultiheadAttention, batch_first), timm's Mlp and PatchEmbed.
// See models/nn/attention.h; tests: test/nn/test_attention.cpp.
#include "models/nn/attention.h"

#include <fmt/format.h>

#include "engine/error.h"
#include "engine/factories.h"
#include "engine/shape.h"
#include "models/nn/activation.h"
#include "models/nn/conv.h"
#include "models/nn/dropout.h"
#include "models/nn/init.h"
#include "models/nn/linear.h"
#include "ops/ops.h"

namespace ember::nn {

namespace {
std::string describe(const Tensor& x) { return x.defined() ? x.describe() : std::string("undefined"); }
}  // namespace

// ---- MultiheadAttention ----

MultiheadAttention::MultiheadAttention(int64_t embed_dim_, int64_t num_heads_, double dropout_, bool bias)
    : Module("MultiheadAttention"), embed_dim(embed_dim_), num_heads(num_heads_), head_dim(0), dropout(dropout_) {
  EMBER_CHECK(embed_dim > 0 && num_heads > 0, "MultiheadAttention: embed_dim ({}) and num_heads ({}) must be positive",
              embed_dim, num_heads);
  EMBER_CHECK(embed_dim % num_heads == 0, "MultiheadAttention: embed_dim ({}) must be divisible by num_heads ({})",
              embed_dim, num_heads);
  EMBER_CHECK(dropout >= 0.0 && dropout < 1.0, "MultiheadAttention: dropout must be in [0, 1), got {}", dropout);
  head_dim = embed_dim / num_heads;
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * embed_dim, embed_dim}));
  init::xavier_uniform_(in_proj_weight);
  if (bias) in_proj_bias = register_parameter("in_proj_bias", zeros({3 * embed_dim}));
  // PyTorch: out_proj keeps Linear's weight init, its bias is zeroed.
  out_proj = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim, bias));
  if (bias) init::zeros_(out_proj->bias);
}

Tensor MultiheadAttention::forward(const Tensor& x) { return forward(x, x, x); }

namespace {

// Turns nn.MultiheadAttention's masks into one mask for scaled_dot_product_attention (B, H|1, L, S):
// bool masks say true = masked out here but true = take part there; float masks are added. Returns
// undefined when there is no mask.
Tensor combine_masks(const Tensor& attn_mask, const Tensor& key_padding_mask, bool is_causal, int64_t B, int64_t H,
                     int64_t L, int64_t S, DType dtype) {
  std::vector<Tensor> masks;  // each broadcastable to (B, H, L, S)
  if (attn_mask.defined()) {
    const bool ok_dtype = attn_mask.dtype() == DType::bool_ || attn_mask.is_floating_point();
    EMBER_CHECK(ok_dtype, "MultiheadAttention: attn_mask must be bool or floating, got {}", attn_mask.describe());
    if (attn_mask.dim() == 2) {
      EMBER_CHECK(attn_mask.sizes() == Shape({L, S}), "MultiheadAttention: 2-D attn_mask must be (L, S) = ({}, {}), "
                  "got {}", L, S, attn_mask.describe());
      masks.push_back(attn_mask);
    } else if (attn_mask.dim() == 3) {
      EMBER_CHECK(attn_mask.sizes() == Shape({B * H, L, S}), "MultiheadAttention: 3-D attn_mask must be "
                  "(batch * num_heads, L, S) = ({}, {}, {}), got {}", B * H, L, S, attn_mask.describe());
      masks.push_back(attn_mask.reshape({B, H, L, S}));
    } else {
      const bool ok = attn_mask.dim() == 4 && (attn_mask.size(0) == B || attn_mask.size(0) == 1) &&
                      (attn_mask.size(1) == H || attn_mask.size(1) == 1) && attn_mask.size(2) == L &&
                      attn_mask.size(3) == S;
      EMBER_CHECK(ok, "MultiheadAttention: attn_mask must be (L, S), (batch * num_heads, L, S) or (batch, num_heads, "
                  "L, S) with L={}, S={}, batch={}, num_heads={}; got {}", L, S, B, H, attn_mask.describe());
      masks.push_back(attn_mask);
    }
  }
  if (key_padding_mask.defined()) {
    EMBER_CHECK(key_padding_mask.sizes() == Shape({B, S}) &&
                    (key_padding_mask.dtype() == DType::bool_ || key_padding_mask.is_floating_point()),
                "MultiheadAttention: key_padding_mask must be bool or floating (batch, S) = ({}, {}), got {}", B, S,
                key_padding_mask.describe());
    masks.push_back(key_padding_mask.view({B, 1, 1, S}));
  }
  if (is_causal) masks.push_back(triu(ones({L, S}, DType::bool_), 1));  // true above the diagonal = masked
  if (masks.empty()) return {};

  bool all_bool = true;
  for (auto& m : masks) all_bool = all_bool && m.dtype() == DType::bool_;
  if (all_bool) {
    Tensor masked = masks[0];
    for (size_t i = 1; i < masks.size(); ++i) masked = logical_or(masked, masks[i]);
    return logical_not(masked);  // sdpa: true = take part
  }
  // Mixed or float: sum additive masks, a bool one contributing -inf where it masks.
  Tensor sum;
  for (auto& m : masks) {
    Tensor additive =
        m.dtype() == DType::bool_ ? masked_fill(zeros(m.sizes(), dtype), m, -INFINITY) : m.to(dtype);
    sum = sum.defined() ? sum + additive : additive;
  }
  return sum;
}

}  // namespace

Tensor MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                   const Tensor& attn_mask, const Tensor& key_padding_mask, bool is_causal) {
  // query: (B, L, E), key / value: (B, S, E); unbatched (L, E) / (S, E) also accepted.
  EMBER_CHECK(query.defined() && key.defined() && value.defined(),
              "MultiheadAttention: query, key and value must be defined");
  const bool unbatched = query.dim() == 2;
  EMBER_CHECK((query.dim() == 3 || unbatched) && key.dim() == query.dim() && value.dim() == query.dim(),
              "MultiheadAttention: expected query (B, L, {0}), key and value (B, S, {0}) (or all unbatched), got "
              "query {1}, key {2}, value {3}", embed_dim, query.describe(), key.describe(), value.describe());
  const Tensor q_in = unbatched ? query.unsqueeze(0) : query;
  const Tensor k_in = unbatched ? key.unsqueeze(0) : key;
  const Tensor v_in = unbatched ? value.unsqueeze(0) : value;
  const int64_t B = q_in.size(0), L = q_in.size(1), S = k_in.size(1), E = embed_dim, H = num_heads;
  EMBER_CHECK(q_in.size(2) == E && k_in.size(2) == E && v_in.size(2) == E,
              "MultiheadAttention: embed_dim is {}, got query {}, key {}, value {}", E, query.describe(),
              key.describe(), value.describe());
  EMBER_CHECK(k_in.size(0) == B && v_in.size(0) == B && v_in.size(1) == S,
              "MultiheadAttention: batch and source lengths must agree: query {}, key {}, value {}", query.describe(),
              key.describe(), value.describe());
  const Tensor pad_mask = unbatched && key_padding_mask.defined() ? key_padding_mask.unsqueeze(0) : key_padding_mask;

  // Projections: one matmul for self-attention, else the three row blocks of in_proj_weight.
  auto block = [&](const Tensor& t, int64_t i) { return t.defined() ? t.narrow(0, i * E, E) : Tensor(); };
  Tensor q, k, v;
  if (query.is_same(key) && key.is_same(value)) {
    Tensor qkv = linear(q_in, in_proj_weight, in_proj_bias);  // (B, L, 3E)
    q = qkv.narrow(2, 0, E);
    k = qkv.narrow(2, E, E);
    v = qkv.narrow(2, 2 * E, E);
  } else {
    q = linear(q_in, block(in_proj_weight, 0), block(in_proj_bias, 0));
    k = linear(k_in, block(in_proj_weight, 1), block(in_proj_bias, 1));
    v = linear(v_in, block(in_proj_weight, 2), block(in_proj_bias, 2));
  }
  // (B, T, E) -> (B, H, T, head_dim)
  auto heads = [&](const Tensor& t, int64_t T) { return t.reshape({B, T, H, head_dim}).transpose(1, 2); };
  q = heads(q, L);
  k = heads(k, S);
  v = heads(v, S);

  const double p = is_training() ? dropout : 0.0;
  Tensor out;
  if (is_causal && !attn_mask.defined() && !pad_mask.defined()) {
    out = scaled_dot_product_attention(q, k, v, Tensor(), p, true);
  } else {
    Tensor mask = combine_masks(attn_mask, pad_mask, is_causal, B, H, L, S, q.dtype());
    out = scaled_dot_product_attention(q, k, v, mask, p, false);
  }
  out = (*out_proj)(out.transpose(1, 2).reshape({B, L, E}));  // (B, L, E)
  return unbatched ? out.squeeze(0) : out;
}

std::string MultiheadAttention::extra_repr() const {
  return fmt::format("embed_dim={}, num_heads={}, dropout={}", embed_dim, num_heads, dropout);
}

// ---- Mlp ----

Mlp::Mlp(int64_t in_features, int64_t hidden_features, int64_t out_features, const std::string& act_name, double drop_p)
    : Module("Mlp") {
  if (out_features < 0) out_features = in_features;
  fc1 = register_module("fc1", std::make_shared<Linear>(in_features, hidden_features));
  act = register_module("act", make_activation(act_name));
  drop = register_module("drop", std::make_shared<Dropout>(drop_p));
  fc2 = register_module("fc2", std::make_shared<Linear>(hidden_features, out_features));
}

Tensor Mlp::forward(const Tensor& x) {
  // x: (*, in) -> (*, hidden) -> (*, out)
  Tensor h = (*drop)((*act)((*fc1)(x)));
  return (*drop)((*fc2)(h));
}

// ---- PatchEmbed ----

PatchEmbed::PatchEmbed(int64_t image_size_, int64_t patch_size_, int64_t in_channels, int64_t embed_dim)
    : Module("PatchEmbed"), image_size(image_size_), patch_size(patch_size_), num_patches(0) {
  EMBER_CHECK(patch_size > 0 && image_size > 0 && image_size % patch_size == 0,
              "PatchEmbed: image_size ({}) must be a positive multiple of patch_size ({})", image_size, patch_size);
  num_patches = (image_size / patch_size) * (image_size / patch_size);
  proj = register_module("proj", std::make_shared<Conv2d>(in_channels, embed_dim, patch_size,
                                                          Conv2dOptions{.stride = patch_size}));
}

Tensor PatchEmbed::forward(const Tensor& x) {
  // x: (N, C, H, W) with H = W = image_size -> (N, num_patches, embed_dim)
  EMBER_CHECK(x.defined() && x.dim() == 4 && x.size(1) == proj->in_channels && x.size(2) == image_size &&
                  x.size(3) == image_size,
              "PatchEmbed: expected input (N, {}, {}, {}), got {}", proj->in_channels, image_size, image_size,
              describe(x));
  return (*proj)(x).flatten(2).transpose(1, 2);
}

std::string PatchEmbed::extra_repr() const {
  return fmt::format("image_size={}, patch_size={}, num_patches={}", image_size, patch_size, num_patches);
}

}  // namespace ember::nn
