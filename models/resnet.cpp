// ResNet (torchvision layout). See models/resnet.h; tests: test/models/.
#include "models/resnet.h"

#include <fmt/ranges.h>

#include "engine/error.h"
#include "models/nn/init.h"
#include "models/zoo.h"
#include "ops/activation.h"
#include "ops/elementwise.h"

namespace ember::models {

namespace {

std::shared_ptr<nn::Conv2d> conv3x3(int64_t in, int64_t out, int64_t stride) {
  return std::make_shared<nn::Conv2d>(in, out, 3, nn::Conv2dOptions{.stride = stride, .padding = 1, .bias = false});
}

std::shared_ptr<nn::Conv2d> conv1x1(int64_t in, int64_t out, int64_t stride) {
  return std::make_shared<nn::Conv2d>(in, out, 1, nn::Conv2dOptions{.stride = stride, .bias = false});
}

// The projection shortcut (torchvision's "option B"): only where the block changes the shape.
std::shared_ptr<nn::Sequential> make_downsample(int64_t in_planes, int64_t out_planes, int64_t stride) {
  if (stride == 1 && in_planes == out_planes) return nullptr;
  return std::make_shared<nn::Sequential>(
      std::initializer_list<nn::ModulePtr>{conv1x1(in_planes, out_planes, stride),
                                           std::make_shared<nn::BatchNorm2d>(out_planes)});
}

template <class Block>
std::shared_ptr<nn::Sequential> make_stage(int64_t& in_planes, int64_t planes, int64_t blocks, int64_t stride) {
  auto stage = std::make_shared<nn::Sequential>();
  for (int64_t i = 0; i < blocks; ++i) {
    stage->push_back(std::make_shared<Block>(in_planes, planes, i == 0 ? stride : 1));
    in_planes = planes * Block::expansion;
  }
  return stage;
}

}  // namespace

BasicBlock::BasicBlock(int64_t in_planes, int64_t planes, int64_t stride) : Module("BasicBlock") {
  conv1 = register_module("conv1", conv3x3(in_planes, planes, stride));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, 1));
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(planes));
  downsample = make_downsample(in_planes, planes * expansion, stride);
  if (downsample) register_module("downsample", downsample);
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = relu((*bn1)((*conv1)(x)));
  out = (*bn2)((*conv2)(out));
  return relu(out + (downsample ? (*downsample)(x) : x));
}

Bottleneck::Bottleneck(int64_t in_planes, int64_t planes, int64_t stride) : Module("Bottleneck") {
  conv1 = register_module("conv1", conv1x1(in_planes, planes, 1));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, stride));
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(planes));
  conv3 = register_module("conv3", conv1x1(planes, planes * expansion, 1));
  bn3 = register_module("bn3", std::make_shared<nn::BatchNorm2d>(planes * expansion));
  downsample = make_downsample(in_planes, planes * expansion, stride);
  if (downsample) register_module("downsample", downsample);
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = relu((*bn1)((*conv1)(x)));
  out = relu((*bn2)((*conv2)(out)));
  out = (*bn3)((*conv3)(out));
  return relu(out + (downsample ? (*downsample)(x) : x));
}

ResNet::ResNet(const ResNetConfig& cfg) : Module("ResNet"), config(cfg) {
  EMBER_CHECK(cfg.block == "basic" || cfg.block == "bottleneck",
              "ResNet: block must be \"basic\" or \"bottleneck\", got \"{}\"", cfg.block);
  EMBER_CHECK(cfg.stem == "imagenet" || cfg.stem == "cifar",
              "ResNet: stem must be \"imagenet\" or \"cifar\", got \"{}\"", cfg.stem);
  EMBER_CHECK(!cfg.widths.empty() && cfg.widths.size() == cfg.blocks.size(),
              "ResNet: widths {} and blocks {} must be non-empty and of equal length", cfg.widths, cfg.blocks);
  EMBER_CHECK(cfg.num_classes > 0 && cfg.in_channels > 0,
              "ResNet: num_classes ({}) and in_channels ({}) must be positive", cfg.num_classes, cfg.in_channels);
  int64_t in_planes = cfg.widths[0];
  if (cfg.stem == "imagenet") {
    conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(
                                         cfg.in_channels, in_planes, 7,
                                         nn::Conv2dOptions{.stride = 2, .padding = 3, .bias = false}));
  } else {
    conv1 = register_module("conv1", conv3x3(cfg.in_channels, in_planes, 1));
  }
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(in_planes));
  if (cfg.stem == "imagenet") maxpool = register_module("maxpool", std::make_shared<nn::MaxPool2d>(3, 2, 1));

  const bool bottleneck = cfg.block == "bottleneck";
  for (size_t i = 0; i < cfg.widths.size(); ++i) {
    const int64_t stride = i == 0 ? 1 : 2;
    auto stage = bottleneck ? make_stage<Bottleneck>(in_planes, cfg.widths[i], cfg.blocks[i], stride)
                            : make_stage<BasicBlock>(in_planes, cfg.widths[i], cfg.blocks[i], stride);
    layers.push_back(register_module(fmt::format("layer{}", i + 1), stage));
  }
  avgpool = register_module("avgpool", std::make_shared<nn::GlobalAvgPool>());
  if (cfg.drop_rate > 0) dropout = register_module("dropout", std::make_shared<nn::Dropout>(cfg.drop_rate));
  fc = register_module("fc", std::make_shared<nn::Linear>(in_planes, cfg.num_classes));

  init_torchvision_convnet(*this);
  if (cfg.zero_init_residual) {
    for (auto& [name, module] : named_modules()) {
      if (auto* block = dynamic_cast<Bottleneck*>(module)) nn::init::zeros_(block->bn3->weight);
      if (auto* block = dynamic_cast<BasicBlock*>(module)) nn::init::zeros_(block->bn2->weight);
    }
  }
}

Tensor ResNet::forward_features(const Tensor& x) {
  check_image_batch("ResNet", x);  // x: (N, C, H, W)
  Tensor out = relu((*bn1)((*conv1)(x)));
  if (maxpool) out = (*maxpool)(out);
  for (auto& stage : layers) out = (*stage)(out);
  return (*avgpool)(out);  // (N, C_last)
}

Tensor ResNet::forward(const Tensor& x) {
  Tensor features = forward_features(x);
  if (dropout) features = (*dropout)(features);
  return (*fc)(features);
}

std::vector<std::string> resnet_variants() {
  return {"resnet18", "resnet34", "resnet50", "resnet8", "resnet20", "resnet_small"};
}

ResNetConfig resnet_config(const std::string& variant, int64_t num_classes, const std::string& stem, int64_t width) {
  struct Variant {
    const char* name;
    const char* block;
    std::vector<int64_t> blocks;
    int64_t base_width;
  };
  static const std::vector<Variant> variants = {
      {"resnet18", "basic", {2, 2, 2, 2}, 64},   {"resnet34", "basic", {3, 4, 6, 3}, 64},
      {"resnet50", "bottleneck", {3, 4, 6, 3}, 64}, {"resnet8", "basic", {1, 1, 1}, 16},
      {"resnet20", "basic", {3, 3, 3}, 16},      {"resnet_small", "basic", {1, 1, 1, 1}, 16},
  };
  for (const Variant& v : variants) {
    if (variant != v.name) continue;
    EMBER_CHECK(width == -1 || width > 0, "{}: width must be positive (or -1 for the default {}), got {}", variant,
                v.base_width, width);
    const int64_t base = width == -1 ? v.base_width : width;
    ResNetConfig config;
    config.block = v.block;
    config.blocks = v.blocks;
    config.widths.clear();
    for (size_t i = 0; i < v.blocks.size(); ++i) config.widths.push_back(base << i);
    config.num_classes = num_classes;
    config.stem = stem;
    return config;
  }
  EMBER_FAIL("resnet_config: unknown variant \"{}\"; known: {}", variant, fmt::join(resnet_variants(), ", "));
}

}  // namespace ember::models
