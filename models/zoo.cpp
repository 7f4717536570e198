// The model registry: names + ModelConfig -> the family constructors, and the shared init schemes.
// See models/zoo.h; tests: test/models/.
#include "models/zoo.h"

#include <fmt/ranges.h>

#include <functional>

#include "engine/error.h"
#include "models/convnext.h"
#include "models/mlp.h"
#include "models/nn/init.h"
#include "models/resnet.h"
#include "models/vgg.h"
#include "models/vit.h"

namespace ember::models {

namespace {

using Builder = std::function<nn::ModulePtr(const std::string& name, const ModelConfig&)>;

nn::ModulePtr build_mlp(const std::string&, const ModelConfig& c) {
  MLPConfig config;
  config.in_features = c.in_channels * c.image_size * c.image_size;
  const int64_t width = c.width == -1 ? 512 : c.width;
  config.hidden.assign(static_cast<size_t>(c.depth == -1 ? 2 : c.depth), width);
  config.num_classes = c.num_classes;
  config.dropout = c.drop_rate;
  return make_mlp(config);
}

nn::ModulePtr build_resnet(const std::string& name, const ModelConfig& c) {
  ResNetConfig config = resnet_config(name, c.num_classes, c.stem, c.width);
  config.in_channels = c.in_channels;
  config.drop_rate = c.drop_rate;
  return std::make_shared<ResNet>(config);
}

nn::ModulePtr build_vgg(const std::string& name, const ModelConfig& c) {
  EMBER_CHECK(c.stem == "cifar" || c.image_size >= 32,
              "create_model(\"{}\"): the imagenet head needs image_size >= 32 (five 2x2 pools), got {}; use stem "
              "\"cifar\" for smaller images",
              name, c.image_size);
  VGGConfig config = vgg13_bn_config(c.num_classes, c.stem);
  config.in_channels = c.in_channels;
  // The reference classifier's dropout is 0.5; drop_rate overrides it when set.
  config.dropout = c.drop_rate > 0 ? c.drop_rate : (c.stem == "imagenet" ? 0.5 : 0.0);
  return std::make_shared<VGG>(config);
}

nn::ModulePtr build_vit(const std::string& name, const ModelConfig& c) {
  ViTConfig config = vit_config(name);
  config.image_size = c.image_size;
  config.patch_size = c.patch_size != -1 ? c.patch_size : (c.stem == "imagenet" ? 16 : 4);
  config.in_channels = c.in_channels;
  config.num_classes = c.num_classes;
  if (c.depth != -1) config.depth = c.depth;
  config.pooling = c.pooling.empty() ? "cls" : c.pooling;
  config.class_token = config.pooling == "cls";
  config.drop_rate = c.drop_rate;
  config.drop_path_rate = c.drop_path_rate;
  return std::make_shared<VisionTransformer>(config);
}

nn::ModulePtr build_convnext(const std::string& name, const ModelConfig& c) {
  ConvNeXtConfig config = convnext_config(name);
  config.in_channels = c.in_channels;
  config.num_classes = c.num_classes;
  config.stem_patch = c.patch_size != -1 ? c.patch_size : (c.stem == "imagenet" ? 4 : 2);
  // The stem and three 2x2 stride-2 downsamplings must leave at least one pixel.
  EMBER_CHECK(c.image_size >= config.stem_patch * 8,
              "create_model(\"{}\"): image_size {} is too small for stem patch {} (needs >= {})", name, c.image_size,
              config.stem_patch, config.stem_patch * 8);
  config.drop_rate = c.drop_rate;
  config.drop_path_rate = c.drop_path_rate;
  return std::make_shared<ConvNeXt>(config);
}

const std::vector<std::pair<std::string, Builder>>& registry() {
  static const std::vector<std::pair<std::string, Builder>> entries = [] {
    std::vector<std::pair<std::string, Builder>> list = {{"mlp", build_mlp}, {"vgg13_bn", build_vgg}};
    for (const std::string& name : resnet_variants()) list.emplace_back(name, build_resnet);
    for (const std::string& name : vit_variants()) list.emplace_back(name, build_vit);
    for (const std::string& name : convnext_variants()) list.emplace_back(name, build_convnext);
    return list;
  }();
  return entries;
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& [name, builder] : registry()) names.push_back(name);
  return names;
}

nn::ModulePtr create_model(const std::string& name, const ModelConfig& config) {
  EMBER_CHECK(config.stem == "cifar" || config.stem == "imagenet",
              "create_model(\"{}\"): stem must be \"cifar\" or \"imagenet\", got \"{}\"", name, config.stem);
  EMBER_CHECK(config.pooling.empty() || config.pooling == "cls" || config.pooling == "mean",
              "create_model(\"{}\"): pooling must be \"cls\", \"mean\" or empty, got \"{}\"", name, config.pooling);
  EMBER_CHECK(config.num_classes > 0 && config.in_channels > 0 && config.image_size > 0,
              "create_model(\"{}\"): num_classes ({}), in_channels ({}) and image_size ({}) must be positive", name,
              config.num_classes, config.in_channels, config.image_size);
  for (const auto& [known, builder] : registry()) {
    if (known == name) return builder(name, config);
  }
  EMBER_FAIL("create_model: unknown model \"{}\"; known models: {}", name, fmt::join(model_names(), ", "));
}

void init_torchvision_convnet(nn::Module& model, double linear_std) {
  model.apply([linear_std](nn::Module& module) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(&module)) {
      nn::init::kaiming_normal_(conv->weight, 0.0, "fan_out", "relu");
      if (conv->bias.defined()) nn::init::zeros_(conv->bias);
    } else if (auto* bn = dynamic_cast<nn::BatchNorm*>(&module); bn && bn->affine) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    } else if (auto* linear = dynamic_cast<nn::Linear*>(&module); linear && linear_std > 0) {
      nn::init::normal_(linear->weight, 0.0, linear_std);
      if (linear->bias.defined()) nn::init::zeros_(linear->bias);
    }
  });
}

void init_trunc_normal(nn::Module& model, double std, bool convs) {
  auto init = [std](const Tensor& weight, const Tensor& bias) {
    nn::init::trunc_normal_(weight, 0.0, std);
    if (bias.defined()) nn::init::zeros_(bias);
  };
  model.apply([&](nn::Module& module) {
    if (auto* linear = dynamic_cast<nn::Linear*>(&module)) init(linear->weight, linear->bias);
    if (auto* conv = dynamic_cast<nn::Conv2d*>(&module); conv && convs) init(conv->weight, conv->bias);
  });
}

void check_image_batch(const char* model, const Tensor& x, int64_t min_size) {
  EMBER_CHECK(x.defined() && x.dim() == 4, "{}: expected an image batch (N, C, H, W), got {}", model,
              x.defined() ? x.describe() : std::string("an undefined tensor"));
  EMBER_CHECK(x.size(2) >= min_size && x.size(3) >= min_size,
              "{}: input {}x{} is smaller than the {}x{} its downsampling needs (input {})", model, x.size(2),
              x.size(3), min_size, min_size, x.describe());
}

std::vector<double> drop_path_rates(int64_t blocks, double rate) {
  std::vector<double> rates;
  for (int64_t i = 0; i < blocks; ++i) {
    rates.push_back(blocks > 1 ? rate * static_cast<double>(i) / static_cast<double>(blocks - 1) : 0.0);
  }
  return rates;
}

}  // namespace ember::models
