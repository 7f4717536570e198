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
  // "cifar": small-image stems (ResNet 3x3 stride-1 conv, no max-pool; VGG global-pool head with one
  // Linear; ViT patch 4; ConvNeXt 2x2 patches) that also serve 28x28; "imagenet": the reference ones.
  std::string stem = "cifar";
  double drop_rate = 0.0;       // dropout before the head (VGG imagenet: the classifier's, default 0.5)
  double drop_path_rate = 0.0;  // stochastic depth (ViT / ConvNeXt)
  // ViT patch / ConvNeXt stem patch; -1 = the family default (ViT 16 imagenet, 4 cifar; ConvNeXt 4, 2)
  int64_t patch_size = -1;
  std::string pooling = "";     // ViT: "cls" or "mean"; "" = the variant's default
  int64_t width = -1;           // resnets: first-stage width; mlp: hidden width; -1 = default
  int64_t depth = -1;           // ViT: number of blocks; mlp: number of hidden layers; -1 = default
};

// Names: mlp, resnet18, resnet34, resnet50, vgg13_bn, vit_tiny, vit_small, vit_base, deit_tiny,
// deit_small, deit_base, convnext_tiny, convnext_small, and for quick runs resnet8, resnet20,
// resnet_small (width = first-stage width, default 16), convnext_atto, convnext_femto (see
// model_names()). Unknown names throw an ember::Error listing the known ones.
// The typed constructors (ResNetConfig, VGGConfig, ViTConfig, ConvNeXtConfig, MLPConfig) expose
// every field; this config covers what the experiment binaries choose.
nn::ModulePtr create_model(const std::string& name, const ModelConfig& config = {});
std::vector<std::string> model_names();

// ---- init schemes the reference implementations share (applied by the family constructors) ----
// torchvision's conv nets: conv weights kaiming_normal(fan_out, relu) and zero biases, BatchNorm
// weight 1 / bias 0. linear_std > 0 also sets Linear weights to N(0, linear_std) with zero bias
// (VGG's 0.01); otherwise Linear layers keep PyTorch's default (ResNet's fc).
void init_torchvision_convnet(nn::Module& model, double linear_std = 0.0);
// timm / ConvNeXt: Linear (and, with convs, Conv2d) weights trunc_normal(0, std, [-2, 2]), zero biases.
void init_trunc_normal(nn::Module& model, double std = 0.02, bool convs = false);
// Stochastic-depth rates rising linearly from 0 at the first block to `rate` at the last
// (torch.linspace(0, rate, blocks)), as timm and ConvNeXt assign them.
std::vector<double> drop_path_rates(int64_t blocks, double rate);
// The conv nets' input check: a batch (N, C, H, W) with H, W >= min_size (what their downsampling
// needs). Channel counts are left to the stem conv, whose error names both.
void check_image_batch(const char* model, const Tensor& x, int64_t min_size = 1);

}  // namespace ember::models
