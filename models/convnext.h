// ConvNeXt as the official implementation (facebookresearch/ConvNeXt) builds it, so state_dict keys
// match its checkpoints: downsample_layers.0 (stem: conv 4x4 stride 4 + channels-first LayerNorm),
// downsample_layers.1-3 (LayerNorm + conv 2x2 stride 2), stages.i.j.{dwconv, norm, pwconv1, pwconv2,
// gamma}, norm, head. Init: trunc_normal(.02) conv and Linear weights, zero biases, layer scale 1e-6.
// The stem patch is configurable: 4 for 224 images, 2 (the "cifar" stem) for 32x32 or 28x28 inputs.
// Implementation: models/convnext.cpp; registry: models/zoo.cpp; tests: test/models/.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/nn/container.h"
#include "models/nn/conv.h"
#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/nn/norm.h"

namespace ember::models {

struct ConvNeXtConfig {
  int64_t in_channels = 3;
  int64_t num_classes = 1000;
  std::vector<int64_t> depths = {3, 3, 9, 3};      // blocks per stage (ConvNeXt-T)
  std::vector<int64_t> dims = {96, 192, 384, 768};  // channels per stage
  int64_t stem_patch = 4;                           // stem conv kernel = stride
  double drop_rate = 0.0;                           // dropout before the head (not in the official code)
  double drop_path_rate = 0.0;                      // rising linearly over all blocks
  double layer_scale_init_value = 1e-6;             // <= 0: no layer scale (no gamma)
  double head_init_scale = 1.0;
};

// dwconv 7x7 -> LayerNorm (channels-last) -> pwconv1 (dim -> 4 dim) -> GELU -> pwconv2 -> gamma ->
// drop path, plus the input. x: (N, dim, H, W) -> same.
class ConvNeXtBlock : public nn::Module {
 public:
  ConvNeXtBlock(int64_t dim, double drop_path, double layer_scale_init_value);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Conv2d> dwconv;
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::Linear> pwconv1, pwconv2;
  Tensor gamma;  // (dim); undefined without layer scale
  std::shared_ptr<nn::DropPath> drop_path;
};

// x: (N, in_channels, H, W) -> (N, num_classes); H, W must survive stem_patch * 8 of downsampling.
class ConvNeXt : public nn::Module {
 public:
  explicit ConvNeXt(const ConvNeXtConfig& config);
  Tensor forward(const Tensor& x) override;
  Tensor forward_features(const Tensor& x);  // normalised pooled features (N, dims.back())
  ConvNeXtConfig config;
  std::shared_ptr<nn::ModuleList> downsample_layers, stages;
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::Dropout> head_drop;  // null when drop_rate == 0
  std::shared_ptr<nn::Linear> head;
};

// Named sizes (official / timm depths and widths): convnext_tiny [3,3,9,3] x [96..768],
// convnext_small [3,3,27,3] x [96..768], and for quick runs convnext_atto [2,2,6,2] x [40..320]
// and convnext_femto [2,2,6,2] x [48..384].
std::vector<std::string> convnext_variants();
ConvNeXtConfig convnext_config(const std::string& variant);

}  // namespace ember::models
