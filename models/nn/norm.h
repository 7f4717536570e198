// Normalisation layers over ops/norm.h. Implementation: models/nn/norm.cpp.
// Buffers follow PyTorch's names (running_mean, running_var, num_batches_tracked) so state_dicts
// match torchvision/timm keys.
#pragma once
#include <optional>

#include "models/nn/module.h"

namespace ember::nn {

// BatchNorm over (N, C) / (N, C, L) (1d) or (N, C, H, W) (2d). momentum as PyTorch (new-stat weight);
// std::nullopt (PyTorch's momentum=None) keeps a cumulative average: factor 1 / num_batches_tracked.
// eval mode uses the running statistics. track_running_stats=false always uses batch statistics.
class BatchNorm : public Module {
 public:
  BatchNorm(const char* type_name, int64_t expected_dim_min, int64_t expected_dim_max, int64_t num_features,
            double eps, std::optional<double> momentum, bool affine, bool track_running_stats);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  void reset_parameters();
  void reset_running_stats();
  int64_t num_features;
  double eps;
  std::optional<double> momentum;
  bool affine, track_running_stats;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;  // num_batches_tracked: int64 0-d

 private:
  int64_t dim_min_, dim_max_;
};

class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, std::optional<double> momentum = 0.1,
                       bool affine = true,
                       bool track_running_stats = true)
      : BatchNorm("BatchNorm1d", 2, 3, num_features, eps, momentum, affine, track_running_stats) {}
};

class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, std::optional<double> momentum = 0.1,
                       bool affine = true,
                       bool track_running_stats = true)
      : BatchNorm("BatchNorm2d", 4, 4, num_features, eps, momentum, affine, track_running_stats) {}
};

// Over the trailing dims (channels-last): x (*, normalized_shape).
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Shape normalized_shape;
  double eps;
  Tensor weight, bias;
};

// Channels-first LayerNorm for ConvNeXt-style nets: x (N, C, H, W) normalised over C at each pixel
// (ConvNeXt's LayerNorm(data_format="channels_first")). Same parameter names as LayerNorm.
class LayerNorm2d : public Module {
 public:
  explicit LayerNorm2d(int64_t num_channels, double eps = 1e-6);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t num_channels;
  double eps;
  Tensor weight, bias;
};

// The function LayerNorm2d applies (Note [Channels-first layer norm] in norm.cpp): x (N, C, H, W)
// normalised over C at each pixel, then * weight[c] + bias[c]. Fused on the CPU for f32 / f64.
Tensor layer_norm_channels_first(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);

class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t num_groups, num_channels;
  double eps;
  Tensor weight, bias;
};

class RMSNorm : public Module {
 public:
  explicit RMSNorm(Shape normalized_shape, double eps = 1e-6, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Shape normalized_shape;
  double eps;
  Tensor weight;
};

}  // namespace ember::nn
