// Linear, Identity, Flatten. Implementation: models/nn/linear.cpp.
#pragma once
#include "models/nn/module.h"

namespace ember::nn {

// y = x W^T + b. x: (*, in_features) -> (*, out_features). weight: (out, in). PyTorch's init.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  void reset_parameters();
  int64_t in_features, out_features;
  Tensor weight, bias;  // bias undefined when bias = false
};

class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

// Flattens dims [start_dim, end_dim] (defaults as nn.Flatten: 1..-1).
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t start_dim, end_dim;
};

}  // namespace ember::nn
