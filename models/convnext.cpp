// ConvNeXt (official layout). See models/convnext.h; tests: test/models/.
#include "models/convnext.h"

#include <fmt/ranges.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "models/zoo.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace ember::models {

ConvNeXtBlock::ConvNeXtBlock(int64_t dim, double drop_path_rate, double layer_scale_init_value) : Module("Block") {
  dwconv = register_module(
      "dwconv", std::make_shared<nn::Conv2d>(dim, dim, 7, nn::Conv2dOptions{.padding = 3, .groups = dim}));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(Shape{dim}, 1e-6));
  pwconv1 = register_module("pwconv1", std::make_shared<nn::Linear>(dim, 4 * dim));
  pwconv2 = register_module("pwconv2", std::make_shared<nn::Linear>(4 * dim, dim));
  if (layer_scale_init_value > 0) gamma = register_parameter("gamma", full({dim}, layer_scale_init_value));
  drop_path = register_module("drop_path", std::make_shared<nn::DropPath>(drop_path_rate));
}

Tensor ConvNeXtBlock::forward(const Tensor& x) {
  // x: (N, C, H, W); the pointwise part runs channels-last (N, H, W, C), as the official code.
  Tensor out = (*dwconv)(x).permute({0, 2, 3, 1});
  out = (*pwconv2)(gelu((*pwconv1)((*norm)(out))));
  if (gamma.defined()) out = out * gamma;
  return x + (*drop_path)(out.permute({0, 3, 1, 2}));
}

ConvNeXt::ConvNeXt(const ConvNeXtConfig& cfg) : Module("ConvNeXt"), config(cfg) {
  EMBER_CHECK(!cfg.dims.empty() && cfg.dims.size() == cfg.depths.size(),
              "ConvNeXt: dims {} and depths {} must be non-empty and of equal length", cfg.dims, cfg.depths);
  EMBER_CHECK(cfg.stem_patch > 0 && cfg.num_classes > 0 && cfg.in_channels > 0,
              "ConvNeXt: stem_patch ({}), num_classes ({}) and in_channels ({}) must be positive", cfg.stem_patch,
              cfg.num_classes, cfg.in_channels);
  downsample_layers = register_module("downsample_layers", std::make_shared<nn::ModuleList>());
  downsample_layers->push_back(std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
      std::make_shared<nn::Conv2d>(cfg.in_channels, cfg.dims[0], cfg.stem_patch,
                                   nn::Conv2dOptions{.stride = cfg.stem_patch}),
      std::make_shared<nn::LayerNorm2d>(cfg.dims[0], 1e-6)}));
  for (size_t i = 1; i < cfg.dims.size(); ++i) {
    downsample_layers->push_back(std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
        std::make_shared<nn::LayerNorm2d>(cfg.dims[i - 1], 1e-6),
        std::make_shared<nn::Conv2d>(cfg.dims[i - 1], cfg.dims[i], 2, nn::Conv2dOptions{.stride = 2})}));
  }

  int64_t total_blocks = 0;
  for (int64_t depth : cfg.depths) total_blocks += depth;
  const std::vector<double> rates = drop_path_rates(total_blocks, cfg.drop_path_rate);
  stages = register_module("stages", std::make_shared<nn::ModuleList>());
  size_t block_index = 0;
  for (size_t i = 0; i < cfg.dims.size(); ++i) {
    auto stage = std::make_shared<nn::Sequential>();
    for (int64_t j = 0; j < cfg.depths[i]; ++j) {
      stage->push_back(std::make_shared<ConvNeXtBlock>(cfg.dims[i], rates[block_index++], cfg.layer_scale_init_value));
    }
    stages->push_back(stage);
  }
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(Shape{cfg.dims.back()}, 1e-6));
  if (cfg.drop_rate > 0) head_drop = register_module("head_drop", std::make_shared<nn::Dropout>(cfg.drop_rate));
  head = register_module("head", std::make_shared<nn::Linear>(cfg.dims.back(), cfg.num_classes));

  init_trunc_normal(*this, 0.02, /*convs=*/true);
  NoGradGuard no_grad;
  head->weight.mul_(cfg.head_init_scale);
  head->bias.mul_(cfg.head_init_scale);
}

Tensor ConvNeXt::forward_features(const Tensor& x) {
  // The stem's patch, then a 2x2 stride-2 conv per later stage.
  check_image_batch("ConvNeXt", x, config.stem_patch << (config.dims.size() - 1));
  Tensor out = x;  // (N, C, H, W)
  for (size_t i = 0; i < stages->size(); ++i) out = (*(*stages)[i])((*(*downsample_layers)[i])(out));
  return (*norm)(mean(out, {-2, -1}));  // global average pool, then LayerNorm: (N, C_last)
}

Tensor ConvNeXt::forward(const Tensor& x) {
  Tensor features = forward_features(x);
  if (head_drop) features = (*head_drop)(features);
  return (*head)(features);
}

namespace {
struct ConvNeXtSize {
  const char* name;
  std::vector<int64_t> depths, dims;
};
const std::vector<ConvNeXtSize>& convnext_sizes() {
  static const std::vector<ConvNeXtSize> sizes = {
      {"convnext_tiny", {3, 3, 9, 3}, {96, 192, 384, 768}},
      {"convnext_small", {3, 3, 27, 3}, {96, 192, 384, 768}},
      {"convnext_atto", {2, 2, 6, 2}, {40, 80, 160, 320}},
      {"convnext_femto", {2, 2, 6, 2}, {48, 96, 192, 384}},
  };
  return sizes;
}
}  // namespace

std::vector<std::string> convnext_variants() {
  std::vector<std::string> names;
  for (const ConvNeXtSize& size : convnext_sizes()) names.emplace_back(size.name);
  return names;
}

ConvNeXtConfig convnext_config(const std::string& variant) {
  for (const ConvNeXtSize& size : convnext_sizes()) {
    if (variant != size.name) continue;
    ConvNeXtConfig config;
    config.depths = size.depths;
    config.dims = size.dims;
    return config;
  }
  EMBER_FAIL("convnext_config: unknown variant \"{}\"; known: {}", variant, fmt::join(convnext_variants(), ", "));
}

}  // namespace ember::models
