// Dropout, DropPath (stochastic depth), LayerScale. Implementation: models/nn/dropout.cpp.
#pragma once
#include "models/nn/module.h"

namespace ember::nn {

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;  // identity in eval mode or when p == 0
  std::string extra_repr() const override;
  double p;
};

// Drops whole samples of a residual branch (timm's DropPath): x (N, ...) scaled by 1/(1-p).
class DropPath : public Module {
 public:
  explicit DropPath(double drop_prob = 0.0, bool scale_by_keep = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double drop_prob;
  bool scale_by_keep;
};

// Per-channel learnable scale (CaiT / ConvNeXt): channels-last x (*, dim) * gamma, or channels-first
// x (N, dim, H, W) when channels_first. Parameter name "gamma" (timm's LayerScale).
class LayerScale : public Module {
 public:
  LayerScale(int64_t dim, double init_value = 1e-5, bool channels_first = false);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t dim;
  bool channels_first;
  Tensor gamma;
};

}  // namespace ember::nn
