// VGG with batch norm as torchvision builds it (features.N / classifier.N keys match torchvision's
// vgg13_bn). Two heads: "imagenet" (adaptive avg-pool to 7x7, 4096-4096 classifier with dropout,
// 133,053,736 parameters for VGG-13-BN) and "cifar" (the last max-pool dropped, global average pool,
// one Linear 512 -> num_classes), which also serves 28x28 inputs.
// Implementation: models/vgg.cpp; registry: models/zoo.cpp; tests: test/models/.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/nn/container.h"
#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/nn/pooling.h"

namespace ember::models {

struct VGGConfig {
  // Conv widths in order; 0 marks a 2x2 max-pool ('M' in torchvision's cfgs). Default: VGG-13 ("B").
  std::vector<int64_t> layers = {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
  bool batch_norm = true;
  int64_t num_classes = 1000;
  int64_t in_channels = 3;
  std::string head = "imagenet";  // or "cifar"
  double dropout = 0.5;           // in the imagenet classifier; before the Linear of the cifar head
};

// x: (N, in_channels, H, W) -> (N, num_classes). The imagenet head needs H, W >= 32 (five pools).
class VGG : public nn::Module {
 public:
  explicit VGG(const VGGConfig& config);
  Tensor forward(const Tensor& x) override;
  VGGConfig config;
  std::shared_ptr<nn::Sequential> features;
  nn::ModulePtr avgpool;     // AdaptiveAvgPool2d(7) (imagenet) or GlobalAvgPool (cifar)
  nn::ModulePtr classifier;  // Sequential (imagenet) or Linear (cifar)
  std::shared_ptr<nn::Dropout> dropout;  // cifar head only, when dropout > 0

 private:
  int64_t pools_ = 0;  // 2x2 max-pools in features: inputs need at least 2^pools_ pixels
};

// VGG-13 (configuration "B") with batch norm, as torchvision.vgg13_bn.
VGGConfig vgg13_bn_config(int64_t num_classes = 1000, const std::string& head = "imagenet");

}  // namespace ember::models
