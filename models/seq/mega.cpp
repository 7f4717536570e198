// The gated-attention skeleton, MEGA's damped EMA module and the MEGA block. See models/seq/mega.h.
#include "models/seq/mega.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "models/nn/init.h"
#include "ops/ops.h"

namespace ember::models::seq {

GatedAttentionBlock::GatedAttentionBlock(const char* type_name, const SeqModelConfig& config)
    : SeqBlock(type_name),
      dim(config.d_model),
      z_dim(config.z_dim),
      hidden_dim(static_cast<int64_t>(config.hidden_ratio * static_cast<double>(config.d_model))),
      causal(config.causal) {
  EMBER_CHECK(dim > 0 && z_dim > 0 && hidden_dim > 0 && config.ffn_ratio >= 0.0,
              "{}: d_model ({}), z_dim ({}) and hidden_ratio * d_model ({}) must be positive, ffn_ratio ({}) >= 0",
              type_name, dim, z_dim, hidden_dim, config.ffn_ratio);
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(Shape{dim}));
  v_proj = register_module("v_proj", std::make_shared<nn::Linear>(dim, hidden_dim));
  mx_proj = register_module("mx_proj", std::make_shared<nn::Linear>(dim, 2 * dim + z_dim + hidden_dim));
  h_proj = register_module("h_proj", std::make_shared<nn::Linear>(hidden_dim, dim));
  gamma = register_parameter("gamma", empty({2, z_dim}));
  beta = register_parameter("beta", zeros({2, z_dim}));
  drop = register_module("drop", std::make_shared<nn::Dropout>(config.dropout));
  const auto ffn_hidden = static_cast<int64_t>(config.ffn_ratio * static_cast<double>(dim));
  if (ffn_hidden > 0) ffn = register_module("ffn", std::make_shared<FeedForward>(dim, ffn_hidden, "silu", config.dropout));
  // MEGA's reset_parameters: projections N(0, 0.02) with zero bias, gamma N(0, 0.02), beta 0.
  for (const auto& projection : {v_proj, mx_proj, h_proj}) {
    nn::init::normal_(projection->weight, 0.0, 0.02);
    nn::init::zeros_(projection->bias);
  }
  nn::init::normal_(gamma, 0.0, 0.02);
}

std::string GatedAttentionBlock::extra_repr() const {
  return fmt::format("dim={}, z_dim={}, hidden_dim={}, causal={}", dim, z_dim, hidden_dim, nn::repr_bool(causal));
}

Tensor GatedAttentionBlock::forward(const Tensor& x, const Tensor& mask) {
  EMBER_CHECK(x.dim() == 3 && x.size(2) == dim, "{}: expected x (B, L, {}), got {}", type_name(), dim,
              x.describe());
  EMBER_CHECK(!mask.defined() || (mask.dtype() == DType::bool_ && mask.dim() == 2 && mask.size(0) == x.size(0) &&
                                  mask.size(1) == x.size(1)),
              "{}: the padding mask must be bool (B, L) = ({}, {}), got {}", type_name(), x.size(0), x.size(1),
              mask.defined() ? mask.describe() : std::string("undefined"));
  const Tensor h0 = zero_padding((*norm)(x), mask);                          // (B, L, D)
  const Tensor v = silu((*v_proj)(h0));                                      // (B, L, H)
  const Tensor mx = (*drop)(mix(h0));                                        // (B, L, D)
  const TensorList parts = split((*mx_proj)(mx), {dim, z_dim + hidden_dim, dim}, -1);
  const Tensor u = sigmoid(parts[0]);                                        // update gate (B, L, D)
  const TensorList z_r = split(silu(parts[1]), {z_dim, hidden_dim}, -1);
  const Tensor& z = z_r[0];                                                  // (B, L, z)
  const Tensor& r = z_r[1];                                                  // reset gate (B, L, H)
  const Tensor q = z * gamma.select(0, 0) + beta.select(0, 0);
  const Tensor k = z * gamma.select(0, 1) + beta.select(0, 1);
  const Tensor a = attend(q, k, v, mask);                                    // (B, L, H)
  const Tensor y = (*drop)(silu(parts[2] + (*h_proj)(a * r)));               // (B, L, D)
  const Tensor out = addcmul(x, u, y - x);                                   // x + u * (y - x)
  return ffn ? (*ffn)(out) : out;
}

Tensor single_head_softmax_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                     bool causal, double dropout_p) {
  // (B, L, z) -> (B, 1, L, z): one head for scaled_dot_product_attention
  const Tensor q4 = q.unsqueeze(1), k4 = k.unsqueeze(1), v4 = v.unsqueeze(1);
  const int64_t B = q.size(0), L = q.size(1);
  Tensor out;
  if (!mask.defined()) {
    out = scaled_dot_product_attention(q4, k4, v4, Tensor(), dropout_p, causal);
  } else {
    Tensor keep = mask.view({B, 1, 1, L});  // sdpa: true = take part
    if (causal) keep = logical_and(keep, tril(ones({L, L}, DType::bool_)));
    out = scaled_dot_product_attention(q4, k4, v4, keep, dropout_p, false);
  }
  return out.squeeze(1);  // (B, L, H)
}

// ---- MEGA's damped EMA ----

DampedEma::DampedEma(int64_t dim_, int64_t n_dim_, bool causal_)
    : nn::Module("DampedEma"), dim(dim_), n_dim(n_dim_), causal(causal_) {
  EMBER_CHECK(dim > 0 && n_dim > 0 && (causal || n_dim % 2 == 0),
              "DampedEma: dim ({}) and n_dim ({}) must be positive, n_dim even when bidirectional", dim, n_dim);
  alpha_logit = register_parameter("alpha_logit", empty({dim, n_dim}));
  delta_logit = register_parameter("delta_logit", empty({dim, n_dim}));
  beta = register_parameter("beta", empty({dim, n_dim}));
  gamma = register_parameter("gamma", empty({dim, n_dim}));
  omega = register_parameter("omega", empty({dim}));
  nn::init::normal_(alpha_logit, 0.0, 0.2);
  nn::init::normal_(delta_logit, 0.0, 0.2);
  std::vector<double> signs(static_cast<size_t>(dim * n_dim));
  for (size_t i = 0; i < signs.size(); ++i) signs[i] = (i % static_cast<size_t>(n_dim)) % 2 == 0 ? 1.0 : -1.0;
  {
    NoGradGuard no_grad;
    nn::init::normal_(beta, 0.0, 0.02);
    beta.add_(from_vector(signs, {dim, n_dim}));
  }
  nn::init::normal_(gamma, 0.0, 1.0 / std::sqrt(static_cast<double>(n_dim)));
  nn::init::normal_(omega, 0.0, 1.0);
}

std::string DampedEma::extra_repr() const {
  return fmt::format("dim={}, n_dim={}, causal={}", dim, n_dim, nn::repr_bool(causal));
}

Tensor DampedEma::forward(const Tensor& x) {
  // x: (B, L, D) -> (B, L, D)
  return silu(damped_ema(x, alpha_logit, delta_logit, beta, gamma, omega, !causal));
}

MegaBlock::MegaBlock(const SeqModelConfig& config)
    : GatedAttentionBlock("MegaBlock", config), attention_dropout(config.dropout) {
  ema = register_module("ema", std::make_shared<DampedEma>(dim, config.n_dim, causal));
}

Tensor MegaBlock::attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  return single_head_softmax_attention(q, k, v, mask, causal, is_training() ? attention_dropout : 0.0);
}

}  // namespace ember::models::seq
