// VGG (torchvision layout). See models/vgg.h; tests: test/models/.
#include "models/vgg.h"

#include "engine/error.h"
#include "models/nn/activation.h"
#include "models/nn/conv.h"
#include "models/nn/dropout.h"
#include "models/nn/norm.h"
#include "models/zoo.h"

namespace ember::models {

VGG::VGG(const VGGConfig& cfg) : Module("VGG"), config(cfg) {
  EMBER_CHECK(cfg.head == "imagenet" || cfg.head == "cifar", "VGG: head must be \"imagenet\" or \"cifar\", got \"{}\"",
              cfg.head);
  EMBER_CHECK(cfg.num_classes > 0 && cfg.in_channels > 0, "VGG: num_classes ({}) and in_channels ({}) must be positive",
              cfg.num_classes, cfg.in_channels);
  // The cifar head drops the final max-pool: global pooling takes its place, and 28x28 inputs
  // would otherwise shrink to nothing (28 -> 14 -> 7 -> 3 -> 1 -> 0).
  std::vector<int64_t> layers = cfg.layers;
  if (cfg.head == "cifar" && !layers.empty() && layers.back() == 0) layers.pop_back();

  features = register_module("features", std::make_shared<nn::Sequential>());
  int64_t channels = cfg.in_channels;
  for (int64_t width : layers) {
    if (width == 0) {
      features->push_back(std::make_shared<nn::MaxPool2d>(2, 2));
      ++pools_;
      continue;
    }
    features->push_back(std::make_shared<nn::Conv2d>(channels, width, 3, nn::Conv2dOptions{.padding = 1}));
    if (cfg.batch_norm) features->push_back(std::make_shared<nn::BatchNorm2d>(width));
    features->push_back(nn::ReLU());
    channels = width;
  }

  if (cfg.head == "imagenet") {
    avgpool = register_module("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(7));
    classifier = register_module("classifier", std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
                                                   std::make_shared<nn::Linear>(channels * 7 * 7, 4096), nn::ReLU(),
                                                   std::make_shared<nn::Dropout>(cfg.dropout),
                                                   std::make_shared<nn::Linear>(4096, 4096), nn::ReLU(),
                                                   std::make_shared<nn::Dropout>(cfg.dropout),
                                                   std::make_shared<nn::Linear>(4096, cfg.num_classes)}));
  } else {
    avgpool = register_module("avgpool", std::make_shared<nn::GlobalAvgPool>());
    if (cfg.dropout > 0) dropout = register_module("dropout", std::make_shared<nn::Dropout>(cfg.dropout));
    classifier = register_module("classifier", std::make_shared<nn::Linear>(channels, cfg.num_classes));
  }
  init_torchvision_convnet(*this, /*linear_std=*/0.01);
}

Tensor VGG::forward(const Tensor& x) {
  check_image_batch("VGG", x, int64_t{1} << pools_);
  // x: (N, C, H, W) -> features (N, 512, h, w) -> pooled
  Tensor out = (*avgpool)((*features)(x));
  out = out.flatten(1);  // (N, 512 * 7 * 7) or (N, 512)
  if (dropout) out = (*dropout)(out);
  return (*classifier)(out);
}

VGGConfig vgg13_bn_config(int64_t num_classes, const std::string& head) {
  VGGConfig config;
  config.num_classes = num_classes;
  config.head = head;
  return config;
}

}  // namespace ember::models
