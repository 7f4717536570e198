// Dropout, DropPath, LayerScale. See models/nn/dropout.h; tests: test/nn/test_layers.cpp.
#include "models/nn/dropout.h"

#include <fmt/format.h>

#include "engine/error.h"
#include "engine/factories.h"
#include "ops/ops.h"

namespace ember::nn {

Dropout::Dropout(double p_) : Module("Dropout"), p(p_) {
  EMBER_CHECK(p >= 0.0 && p <= 1.0, "Dropout: probability must be in [0, 1], got {}", p);
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training()); }

std::string Dropout::extra_repr() const { return fmt::format("p={}", p); }

DropPath::DropPath(double drop_prob_, bool scale_by_keep_)
    : Module("DropPath"), drop_prob(drop_prob_), scale_by_keep(scale_by_keep_) {
  EMBER_CHECK(drop_prob >= 0.0 && drop_prob <= 1.0, "DropPath: drop_prob must be in [0, 1], got {}", drop_prob);
}

Tensor DropPath::forward(const Tensor& x) { return drop_path(x, drop_prob, is_training(), scale_by_keep); }

std::string DropPath::extra_repr() const { return fmt::format("drop_prob={:.3f}", drop_prob); }

LayerScale::LayerScale(int64_t dim_, double init_value, bool channels_first_)
    : Module("LayerScale"), dim(dim_), channels_first(channels_first_) {
  EMBER_CHECK(dim > 0, "LayerScale: dim must be positive, got {}", dim);
  gamma = register_parameter("gamma", full({dim}, init_value));
}

Tensor LayerScale::forward(const Tensor& x) {
  if (channels_first) {
    // x: (N, dim, H, W)
    EMBER_CHECK(x.defined() && x.dim() == 4 && x.size(1) == dim, "LayerScale: expected input (N, {}, H, W), got {}",
                dim, x.defined() ? x.describe() : std::string("undefined"));
    return x * gamma.view({1, dim, 1, 1});
  }
  // x: (*, dim)
  EMBER_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == dim, "LayerScale: expected input (*, {}), got {}", dim,
              x.defined() ? x.describe() : std::string("undefined"));
  return x * gamma;
}

std::string LayerScale::extra_repr() const {
  return fmt::format("dim={}, channels_first={}", dim, repr_bool(channels_first));
}

}  // namespace ember::nn
