// Linear, Identity, Flatten. See models/nn/linear.h; tests: test/nn/test_layers.cpp.
#include "models/nn/linear.h"

#include <fmt/format.h>

#include "engine/error.h"
#include "engine/factories.h"
#include "models/nn/init.h"
#include "ops/matmul.h"

namespace ember::nn {

Linear::Linear(int64_t in_features_, int64_t out_features_, bool has_bias)
    : Module("Linear"), in_features(in_features_), out_features(out_features_) {
  EMBER_CHECK(in_features >= 0 && out_features >= 0, "Linear: features must be >= 0, got in={}, out={}",
              in_features, out_features);
  weight = register_parameter("weight", empty({out_features, in_features}));
  if (has_bias) bias = register_parameter("bias", empty({out_features}));
  reset_parameters();
}

void Linear::reset_parameters() { init::linear_default_(weight, bias); }

Tensor Linear::forward(const Tensor& x) {
  // x: (*, in_features) -> (*, out_features)
  EMBER_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == in_features,
              "Linear: expected input (*, {}) (in_features={}), got {}", in_features, in_features,
              x.defined() ? x.describe() : std::string("undefined"));
  return linear(x, weight, bias);
}

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features, out_features, repr_bool(bias.defined()));
}

Flatten::Flatten(int64_t start_dim_, int64_t end_dim_) : Module("Flatten"), start_dim(start_dim_), end_dim(end_dim_) {}

Tensor Flatten::forward(const Tensor& x) { return x.flatten(start_dim, end_dim); }

std::string Flatten::extra_repr() const { return fmt::format("start_dim={}, end_dim={}", start_dim, end_dim); }

}  // namespace ember::nn
