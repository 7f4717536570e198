// CHELA's short-long convolution and block. See models/seq/chela.h and docs/CHELA.md.
#include "models/seq/chela.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "models/nn/init.h"
#include "ops/ops.h"

namespace ember::models::seq {

int64_t hierarchy_levels(int64_t long_base, int64_t max_len) {
  EMBER_CHECK(long_base > 0 && max_len > 0, "hierarchy_levels: long_base ({}) and max_len ({}) must be positive",
              long_base, max_len);
  int64_t levels = 1;
  while (long_base * ((int64_t{1} << levels) - 1) < max_len) ++levels;
  return levels;
}

ShortLongConv::ShortLongConv(int64_t dim_, const SeqModelConfig& config)
    : nn::Module("ShortLongConv"),
      dim(dim_),
      short_kernel(config.short_kernel),
      long_base(config.long_base),
      levels(config.long_levels > 0 ? config.long_levels : hierarchy_levels(config.long_base, config.max_len)),
      decay(config.long_decay),
      causal(config.causal) {
  EMBER_CHECK(dim > 0 && short_kernel > 0 && long_base > 0 && levels > 0 && levels <= 30 && decay > 0.0,
              "ShortLongConv: dim ({}), short_kernel ({}), long_base ({}), levels ({}, at most 30) and decay ({}) "
              "must be positive", dim, short_kernel, long_base, levels, decay);
  const int64_t directions = causal ? 1 : 2;
  short_weight = register_parameter("short_weight", empty({dim, short_kernel}));
  short_bias = register_parameter("short_bias", zeros({dim}));
  omega = register_parameter("omega", empty({dim}));
  long_weight = register_parameter("long_weight", empty({directions, levels, dim, long_base}));
  // Each of the three branches starts with about unit gain on unit-variance inputs: the short taps as
  // a conv's default (U(±1/sqrt(Ks))), omega ~ N(0, 1) as MEGA's, and the long kernel's squared sum
  // over all levels, sum_j K0 2^j sigma² decay^2j, is about 1 (decay 0.5: 2 K0 sigma² per direction).
  const double bound = 1.0 / std::sqrt(static_cast<double>(short_kernel));
  nn::init::uniform_(short_weight, -bound, bound);
  nn::init::normal_(omega, 0.0, 1.0);
  double gain = 0.0;
  for (int64_t j = 0; j < levels; ++j) gain += static_cast<double>(long_base << j) * std::pow(decay, 2.0 * j);
  nn::init::normal_(long_weight, 0.0, 1.0 / std::sqrt(gain * directions));
}

std::string ShortLongConv::extra_repr() const {
  return fmt::format("dim={}, short_kernel={}, long_base={}, levels={}, coverage={}, decay={}, causal={}{}", dim,
                     short_kernel, long_base, levels, coverage(), decay, nn::repr_bool(causal),
                     reparameterized() ? ", reparameterized" : "");
}

Tensor ShortLongConv::causal_long_kernel(int64_t direction) const {
  // Level j: (D, K0) stretched 2^j times -> (D, K0 2^j), scaled by decay^j; levels end to end.
  TensorList pieces;
  const Tensor weights = long_weight.select(0, direction);  // (J, D, K0)
  for (int64_t j = 0; j < levels; ++j) {
    const int64_t stretch = int64_t{1} << j;
    const Tensor level = weights.select(0, j) * std::pow(decay, static_cast<double>(j));
    pieces.push_back(level.unsqueeze(-1).expand({dim, long_base, stretch}).reshape({dim, long_base * stretch}));
  }
  return cat(pieces, 1);  // (D, Kc)
}

Tensor ShortLongConv::long_kernel(int64_t L) const {
  EMBER_CHECK(L > 0, "ShortLongConv: the sequence length must be positive, got {}", L);
  const int64_t taps = std::min(coverage(), L);
  const Tensor forward_kernel = causal_long_kernel(0).narrow(1, 0, taps);  // offsets 0..taps-1 into the past
  if (causal) return forward_kernel;
  // Offsets 1..taps-1 into the future, mirrored in front: long_conv's centred layout (D, 2 taps - 1).
  const Tensor backward_kernel = causal_long_kernel(1).narrow(1, 1, taps - 1);
  return cat({flip(backward_kernel, {1}), forward_kernel}, 1);
}

Tensor ShortLongConv::merged_kernel(int64_t L) const {
  const Tensor kernel = long_kernel(L);                  // (D, K)
  const int64_t K = kernel.size(1);
  const int64_t centre = causal ? 0 : (K - 1) / 2;       // offset 0
  const int64_t local_taps = std::min(short_kernel, K - centre);
  // The identity and short branches as taps at offsets 0..Ks-1 (omega at offset 0).
  Tensor local = short_weight.narrow(1, 0, local_taps) + pad(omega.unsqueeze(1), {0, local_taps - 1});
  return kernel + pad(local, {centre, K - centre - local_taps});
}

void ShortLongConv::reparameterize() {
  NoGradGuard no_grad;
  merged_ = merged_kernel(coverage()).contiguous();
}

Tensor ShortLongConv::forward(const Tensor& x) {
  EMBER_CHECK(x.dim() == 3 && x.size(2) == dim, "ShortLongConv: expected x (B, L, {}), got {}", dim, x.describe());
  const int64_t L = x.size(1);
  if (reparameterized()) {
    // merged_ holds full coverage; cut the centre (or the first taps) for this L.
    const int64_t taps = std::min(coverage(), L);
    const Tensor kernel = causal ? merged_.narrow(1, 0, taps) : merged_.narrow(1, coverage() - taps, 2 * taps - 1);
    return silu(long_conv(x, kernel.to(x.dtype()).contiguous(), causal) + short_bias);
  }
  const Tensor local = short_conv(x, short_weight, short_bias, "none") + x * omega;
  return silu(local + long_conv(x, long_kernel(L), causal));
}

ChelaBlock::ChelaBlock(const SeqModelConfig& config)
    : GatedAttentionBlock("ChelaBlock", config), attn_heads(config.attn_heads), chunk_size(config.chunk_size) {
  EMBER_CHECK(attn_heads > 0 && z_dim % attn_heads == 0 && hidden_dim % attn_heads == 0 && chunk_size > 0,
              "ChelaBlock: attn_heads ({}) must divide z_dim ({}) and the hidden width ({}); chunk_size {} > 0",
              attn_heads, z_dim, hidden_dim, chunk_size);
  conv = register_module("conv", std::make_shared<ShortLongConv>(dim, config));
}

Tensor ChelaBlock::attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  // (B, L, width) -> (B, heads, L, width / heads)
  const int64_t B = q.size(0), L = q.size(1);
  auto heads = [&](const Tensor& t) {
    return t.reshape({B, L, attn_heads, t.size(2) / attn_heads}).transpose(1, 2).contiguous();
  };
  LinearAttentionOptions options;
  options.causal = causal;
  options.feature_map = "identity";
  options.normalize = false;
  options.chunk_size = chunk_size;
  // Padded keys contribute nothing: k = 0 there (identity feature map, no normalizer).
  Tensor out = linear_attention(heads(q), heads(zero_padding(k, mask)), heads(v), options);  // (B, h, L, dv)
  out = rms_norm(out, {out.size(3)}, Tensor(), 1e-5);
  return out.transpose(1, 2).reshape({B, L, hidden_dim});
}

}  // namespace ember::models::seq
