// Conv1d, Conv2d, ConvTranspose2d over ops/conv.h, with PyTorch's default init
// (kaiming_uniform(a=sqrt(5)) weight, U(±1/sqrt(fan_in)) bias). Implementation: models/nn/conv.cpp.
#pragma once
#include "models/nn/module.h"
#include "ops/conv.h"

namespace ember::nn {

struct Conv2dOptions {
  Size2 stride = 1;
  ConvPadding padding = 0;
  Size2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

// x: (N, C_in, H, W) -> (N, C_out, H', W'). weight: (C_out, C_in / groups, kH, kW).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Conv2dOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  void reset_parameters();
  int64_t in_channels, out_channels;
  Size2 kernel_size;
  Conv2dOptions options;
  Tensor weight, bias;
};

struct Conv1dOptions {
  int64_t stride = 1;
  ConvPadding padding = 0;  // ints or "same"/"valid"
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

// x: (N, C_in, L) -> (N, C_out, L'). weight: (C_out, C_in / groups, k).
class Conv1d : public Module {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Conv1dOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  void reset_parameters();
  int64_t in_channels, out_channels, kernel_size;
  Conv1dOptions options;
  Tensor weight, bias;
};

struct ConvTranspose2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;
  Size2 output_padding = 0;
  int64_t groups = 1;
  Size2 dilation = 1;
  bool bias = true;
};

// weight: (C_in, C_out / groups, kH, kW), as PyTorch.
class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, ConvTranspose2dOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  void reset_parameters();
  int64_t in_channels, out_channels;
  Size2 kernel_size;
  ConvTranspose2dOptions options;
  Tensor weight, bias;
};

}  // namespace ember::nn
