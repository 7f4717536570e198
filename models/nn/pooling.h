// Pooling modules over ops/pool.h. Implementation: models/nn/pooling.cpp.
#pragma once
#include "models/nn/module.h"
#include "ops/pool.h"

namespace ember::nn {

class MaxPool2d : public Module {
 public:
  MaxPool2d(Pool2dArg kernel_size, Pool2dArg stride = {}, Pool2dArg padding = 0);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Pool2dArg kernel_size, stride, padding;
};

class AvgPool2d : public Module {
 public:
  AvgPool2d(Pool2dArg kernel_size, Pool2dArg stride = {}, Pool2dArg padding = 0);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Pool2dArg kernel_size, stride, padding;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Pool2dArg output_size);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Pool2dArg output_size;
};

// Mean over all positions of (N, C, ...) -> (N, C) (timm's global pool + flatten).
class GlobalAvgPool : public Module {
 public:
  GlobalAvgPool() : Module("GlobalAvgPool") {}
  Tensor forward(const Tensor& x) override;
};

}  // namespace ember::nn
