// ResNets as torchvision builds them (BasicBlock / Bottleneck v1.5, stride on the 3x3 conv), so
// state_dict keys match torchvision's key for key: conv1, bn1, layer1.0.conv1, layer1.0.downsample.0/1,
// fc. Two stems: "imagenet" (7x7 stride-2 conv + 3x3 max-pool) and "cifar" (3x3 stride-1 conv, no
// pool). The same class builds the narrow / short variants for quick runs (resnet8, resnet20,
// resnet_small) from the stage widths and block counts in ResNetConfig.
// Implementation: models/resnet.cpp; registry: models/zoo.cpp; tests: test/models/.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/nn/container.h"
#include "models/nn/conv.h"
#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/nn/norm.h"
#include "models/nn/pooling.h"

namespace ember::models {

struct ResNetConfig {
  std::string block = "basic";                       // "basic" (ResNet-18/34) or "bottleneck" (50+)
  std::vector<int64_t> blocks = {2, 2, 2, 2};        // residual blocks per stage (layer1, layer2, ...)
  std::vector<int64_t> widths = {64, 128, 256, 512};  // "planes" per stage; stage i > 0 starts at stride 2
  int64_t num_classes = 1000;
  int64_t in_channels = 3;
  std::string stem = "imagenet";  // or "cifar"
  // torchvision's zero_init_residual: the last BN of each block starts at gamma 0, so every block
  // starts as the identity.
  bool zero_init_residual = false;
  double drop_rate = 0.0;  // dropout before fc (not in torchvision; no module when 0)
};

// conv3x3 -> BN -> ReLU -> conv3x3 -> BN, plus the shortcut, then ReLU. x: (N, C_in, H, W).
class BasicBlock : public nn::Module {
 public:
  static constexpr int64_t expansion = 1;
  BasicBlock(int64_t in_planes, int64_t planes, int64_t stride);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::Sequential> downsample;  // conv1x1 + BN when the shape changes, else null
};

// conv1x1 -> BN -> ReLU -> conv3x3 (stride) -> BN -> ReLU -> conv1x1 (x4 channels) -> BN, + shortcut.
class Bottleneck : public nn::Module {
 public:
  static constexpr int64_t expansion = 4;
  Bottleneck(int64_t in_planes, int64_t planes, int64_t stride);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Conv2d> conv1, conv2, conv3;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2, bn3;
  std::shared_ptr<nn::Sequential> downsample;
};

// x: (N, in_channels, H, W) -> logits (N, num_classes).
class ResNet : public nn::Module {
 public:
  explicit ResNet(const ResNetConfig& config);
  Tensor forward(const Tensor& x) override;
  Tensor forward_features(const Tensor& x);  // pooled features (N, widths.back() * expansion)
  ResNetConfig config;
  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::BatchNorm2d> bn1;
  std::shared_ptr<nn::MaxPool2d> maxpool;            // null with the cifar stem
  std::vector<std::shared_ptr<nn::Sequential>> layers;  // registered as layer1, layer2, ...
  std::shared_ptr<nn::GlobalAvgPool> avgpool;
  std::shared_ptr<nn::Dropout> dropout;  // null when drop_rate == 0
  std::shared_ptr<nn::Linear> fc;
};

// Named variants: resnet18, resnet34, resnet50 (torchvision's depths, base width 64), and for quick
// runs resnet8 / resnet20 (He et al.'s CIFAR depths 6n+2: three stages of widths w, 2w, 4w, base 16)
// and resnet_small (four stages w, 2w, 4w, 8w of one block each, base 16). `width` (-1 = the
// variant's base) sets the first stage's width; the others scale with it.
std::vector<std::string> resnet_variants();
ResNetConfig resnet_config(const std::string& variant, int64_t num_classes = 1000,
                           const std::string& stem = "imagenet", int64_t width = -1);

}  // namespace ember::models
