// The model zoo's front door: build any model by name, as the experiment binaries do.
// Each family lives in its own file (models/resnet.{h,cpp}, vgg, vit, convnext, mlp) with a typed
// constructor too; this registry maps names and a ModelConfig onto them. Implementation: models/zoo.cpp.
#pragma once
#include <string>
#include <vector>

#include "models/nn/module.h"

namespace ember::models {

struct ModelConfig {
  int64_t num_classes = 10;
  int64_t in_channels = 3;
  int64_t image_size = 32;
  // "cifar": 3x3 stride-1 stem, no max-pool (small images); "imagenet": the reference stem.
  std::string stem = "cifar";
  double drop_rate = 0.0;       // dropout before the head
  double drop_path_rate = 0.0;  // stochastic depth (ViT / ConvNeXt)
  int64_t patch_size = -1;      // ViT; -1 = the family default (16 imagenet, 4 cifar)
  std::string pooling = "";     // ViT: "cls" or "mean"; "" = the variant's default
  int64_t width = -1;           // resnet_small / mlp: base width; -1 = default
};

// Names: mlp, resnet18, resnet34, resnet50, vgg13_bn, vit_tiny, vit_small, deit_tiny, deit_small,
// convnext_tiny, and small variants for quick runs (see model_names()). Unknown names throw an
// ember::Error listing the known ones.
nn::ModulePtr create_model(const std::string& name, const ModelConfig& config = {});
std::vector<std::string> model_names();

}  // namespace ember::models
