// The zoo against the reference implementations: parameter counts, state_dict keys and shapes
// (torchvision / timm / official ConvNeXt), outputs on small inputs with deterministic weights equal
// to PyTorch's (test/models/reference_outputs.py prints them), and registry errors.
// Reference figures come from PyTorch 1.13 + torchvision (Debian), e.g.
//   m = torchvision.models.resnet18(); sd = m.state_dict()
//   len(sd), sum(v.numel() for v in sd.values()), sum(p.numel() for p in m.parameters())
// and for ViT / ConvNeXt (timm is not installed) from the counts the issue quotes (timm's figures)
// plus key lists written out from timm's / the official source. Twins: models/*.cpp.
#include <algorithm>
#include <cmath>
#include <set>

#include "helpers.h"
#include "models/convnext.h"
#include "models/nn/summary.h"
#include "models/resnet.h"
#include "models/vgg.h"
#include "models/vit.h"
#include "models/zoo.h"

using namespace ember;
using namespace ember::models;

namespace {

ModelConfig imagenet(int64_t num_classes = 1000) {
  ModelConfig config;
  config.num_classes = num_classes;
  config.stem = "imagenet";
  config.image_size = 224;
  return config;
}

int64_t state_numel(const TensorMap& state) {
  int64_t total = 0;
  for (const auto& [name, tensor] : state) total += tensor.numel();
  return total;
}

void require_shape(const TensorMap& state, const std::string& key, const Shape& shape) {
  INFO("key " << key);
  auto it = state.find(key);
  REQUIRE(it != state.end());
  REQUIRE(it->second.sizes() == shape);
}

std::set<std::string> keys_of(const TensorMap& state) {
  std::set<std::string> keys;
  for (const auto& [name, tensor] : state) keys.insert(name);
  return keys;
}

// The deterministic weights of test/models/reference_outputs.py: parameter k (sorted by name) gets
// sin(0.7 j + 1.3 k) at flat index j, scaled by sqrt(3 / fan_in) for dim >= 2; 1-d weights and
// gammas are 1 + 0.1 sin(...), other 1-d tensors 0.1 sin(...). Filled in chunks (VGG's first
// Linear has 102M elements) from float64.
void fill_deterministic(nn::Module& model) {
  nn::NamedTensors params = model.named_parameters();
  std::sort(params.begin(), params.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  NoGradGuard no_grad;
  for (size_t k = 0; k < params.size(); ++k) {
    const auto& [name, p] = params[k];
    const int64_t n = p.numel();
    double scale = 0.1, shift = 0.0;
    if (p.dim() >= 2) {
      scale = std::sqrt(3.0 / static_cast<double>(n / p.size(0)));
    } else if (name.ends_with("weight") || name.ends_with("gamma")) {
      shift = 1.0;
    }
    Tensor flat = p.view({n});
    constexpr int64_t chunk = int64_t{1} << 20;
    for (int64_t start = 0; start < n; start += chunk) {
      const int64_t len = std::min(chunk, n - start);
      std::vector<double> v(static_cast<size_t>(len));
      for (int64_t j = 0; j < len; ++j) {
        const double angle = 0.7 * static_cast<double>(start + j) + 1.3 * static_cast<double>(k);
        v[static_cast<size_t>(j)] = shift + scale * std::sin(angle);
      }
      flat.narrow(0, start, len).copy_(from_vector(v, {len}));
    }
  }
}

// x[i] = sin(0.37 i), as the script's inputs().
Tensor reference_input(const Shape& shape) {
  std::vector<float> v(static_cast<size_t>(numel_of(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
  return from_vector(v, shape);
}

// Eval-mode logits (first 10) of `model` with the deterministic weights against PyTorch's (float64).
void require_reference_logits(nn::Module& model, const Shape& input, const std::vector<double>& expected) {
  fill_deterministic(model);
  NoGradGuard no_grad;
  model.eval();
  const Tensor logits = model(reference_input(input)).flatten();
  // float32 against float64: relative error of a few ulps per layer.
  REQUIRE(ember::test::all_close(logits.narrow(0, 0, 10), expected, 2e-4, 1e-4));
}

// Output shape of a no-grad eval forward on a small batch of zeros.
Shape output_shape(nn::Module& model, const Shape& input) {
  NoGradGuard no_grad;
  model.eval();
  return model(zeros(input)).sizes();
}

}  // namespace

TEST_CASE("ResNets match torchvision's parameter counts and state_dict keys", "[models][resnet]") {
  struct Expected {
    const char* name;
    int64_t params, keys, state_elements;
    std::vector<std::pair<std::string, Shape>> shapes;
    std::vector<double> logits = {};  // reference_outputs.py, 1x3x64x64 input
  };
  // torchvision: parameters, len(state_dict), elements in state_dict (incl. BN buffers), some shapes.
  const std::vector<Expected> expected = {
      {"resnet18", 11689512, 122, 11699132,
       {{"layer2.0.downsample.0.weight", {128, 64, 1, 1}},
        {"layer4.1.bn2.running_var", {512}},
        {"fc.weight", {1000, 512}}}},
      {"resnet34", 21797672, 218, 21814732, {{"layer3.5.conv2.weight", {256, 256, 3, 3}}}},
      {"resnet50", 25557032, 320, 25610205,
       {{"layer4.2.conv3.weight", {2048, 512, 1, 1}},
        {"layer3.0.downsample.0.weight", {1024, 512, 1, 1}},
        {"layer3.0.downsample.1.running_var", {1024}},
        {"layer1.0.downsample.0.weight", {256, 64, 1, 1}},  // the bottleneck widens even at stride 1
        {"fc.weight", {1000, 2048}}},
       // reference_outputs.py: resnet50 imagenet
       {-64.17695238, -122.0681542, -60.77360786, 59.8423979, 121.9902445, 64.99862122, -55.43808609, -121.6737912,
        -69.02900763, 51.03944999}},
  };
  for (const Expected& e : expected) {
    INFO(e.name);
    auto model = create_model(e.name, imagenet());
    REQUIRE(model->num_parameters() == e.params);
    const TensorMap state = model->state_dict();
    REQUIRE(static_cast<int64_t>(state.size()) == e.keys);
    REQUIRE(state_numel(state) == e.state_elements);
    require_shape(state, "conv1.weight", {64, 3, 7, 7});
    require_shape(state, "bn1.num_batches_tracked", {});
    for (const auto& [key, shape] : e.shapes) require_shape(state, key, shape);
    // Same shape in and out: an identity shortcut, no downsample keys.
    if (e.name != std::string("resnet50")) REQUIRE(state.count("layer1.0.downsample.0.weight") == 0);
    if (!e.logits.empty()) require_reference_logits(*model, {1, 3, 64, 64}, e.logits);
  }
}

TEST_CASE("ResNet-18 with the CIFAR stem: 3x3 conv, no max-pool, 11,173,962 parameters", "[models][resnet]") {
  ModelConfig config;  // cifar stem, 10 classes
  auto model = create_model("resnet18", config);
  REQUIRE(model->num_parameters() == 11173962);
  const TensorMap state = model->state_dict();
  REQUIRE(state.size() == 122);
  REQUIRE(state_numel(state) == 11183582);
  require_shape(state, "conv1.weight", {64, 3, 3, 3});
  REQUIRE(model->child("maxpool") == nullptr);
  REQUIRE(output_shape(*model, {2, 3, 32, 32}) == Shape{2, 10});
  // reference_outputs.py: resnet18 cifar stem (torchvision's resnet18 with conv1 3x3 and maxpool Identity)
  require_reference_logits(*model, {1, 3, 32, 32},
                           {-2206639.062, -1761512.474, -1199387.91, -557601.1408, 121220.9622, 791991.6712,
                            1410159.032, 1934664.969, 2330672.328, 2571878.713});
}

TEST_CASE("ResNet small variants: widths follow config.width, outputs on 28x28 single-channel input",
          "[models][resnet]") {
  ModelConfig config;
  config.in_channels = 1;
  config.image_size = 28;
  config.width = 8;
  auto small = create_model("resnet_small", config);
  const TensorMap state = small->state_dict();
  require_shape(state, "conv1.weight", {8, 1, 3, 3});
  require_shape(state, "layer4.0.conv2.weight", {64, 64, 3, 3});
  require_shape(state, "fc.weight", {10, 64});
  REQUIRE(state.count("layer5.0.conv1.weight") == 0);
  REQUIRE(output_shape(*small, {3, 1, 28, 28}) == Shape{3, 10});
  REQUIRE_THAT(nn::summary(*small, {1, 1, 28, 28}), Catch::Matchers::Contains("BasicBlock"));

  config.width = -1;  // resnet20: three stages 16/32/64 of three blocks (He et al.'s CIFAR ResNet)
  auto resnet20 = create_model("resnet20", config);
  const TensorMap state20 = resnet20->state_dict();
  require_shape(state20, "layer3.2.conv2.weight", {64, 64, 3, 3});
  REQUIRE(state20.count("layer4.0.conv1.weight") == 0);
  // 19 convs + fc: conv1 1*16*9, stage1 6*16*16*9, stage2 32*16*9 + 5*32*32*9 + 32*16 (shortcut),
  // stage3 64*32*9 + 5*64*64*9 + 64*32, BN 2 per channel of every BN, fc 64*10 + 10.
  const int64_t convs = 16 * 9 + 6 * 16 * 16 * 9 + 32 * 16 * 9 + 5 * 32 * 32 * 9 + 32 * 16 + 64 * 32 * 9 +
                        5 * 64 * 64 * 9 + 64 * 32;
  const int64_t bns = 2 * (16 + 6 * 16 + 7 * 32 + 7 * 64);
  REQUIRE(resnet20->num_parameters() == convs + bns + 64 * 10 + 10);
  REQUIRE(output_shape(*resnet20, {2, 1, 28, 28}) == Shape{2, 10});
}

TEST_CASE("VGG-13-BN matches torchvision (133,053,736 parameters) and has a small-image head", "[models][vgg]") {
  auto model = create_model("vgg13_bn", imagenet());
  REQUIRE(model->num_parameters() == 133053736);
  const TensorMap state = model->state_dict();
  REQUIRE(state.size() == 76);
  REQUIRE(state_numel(state) == 133059634);
  require_shape(state, "features.0.weight", {64, 3, 3, 3});
  require_shape(state, "features.1.running_mean", {64});
  require_shape(state, "features.7.weight", {128, 64, 3, 3});
  require_shape(state, "features.31.weight", {512, 512, 3, 3});
  require_shape(state, "classifier.0.weight", {4096, 25088});
  require_shape(state, "classifier.6.weight", {1000, 4096});
  // The imagenet head pools any input of at least 32 pixels to 7x7.
  REQUIRE(output_shape(*model, {1, 3, 32, 32}) == Shape{1, 1000});
  require_reference_logits(*model, {1, 3, 32, 32},  // reference_outputs.py: vgg13_bn imagenet
                           {-1.959645995, 2.55863657, -0.5717125842, -1.936412327, 2.628371695, -0.322951619,
                            -2.155981054, 2.383882352, -0.2711912929, -2.368962143});

  ModelConfig cifar;
  cifar.in_channels = 1;
  cifar.image_size = 28;
  auto small = create_model("vgg13_bn", cifar);
  require_shape(small->state_dict(), "classifier.weight", {10, 512});
  REQUIRE(small->num_parameters() == 133053736 - (25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000) +
                                         512 * 10 + 10 - 2 * 64 * 9);  // 1 input channel instead of 3
  REQUIRE(output_shape(*small, {2, 1, 28, 28}) == Shape{2, 10});
}

namespace {
// timm's VisionTransformer state_dict keys (class token, "token" pooling), from its source.
std::set<std::string> timm_vit_keys(int depth) {
  std::set<std::string> keys = {"cls_token",   "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
                                "norm.weight", "norm.bias", "head.weight",             "head.bias"};
  for (int i = 0; i < depth; ++i) {
    for (const char* leaf : {"norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2"}) {
      keys.insert(fmt::format("blocks.{}.{}.weight", i, leaf));
      keys.insert(fmt::format("blocks.{}.{}.bias", i, leaf));
    }
  }
  return keys;
}
}  // namespace

TEST_CASE("ViT / DeiT tiny and small match timm's counts and keys", "[models][vit]") {
  for (const auto& [name, params, dim] :
       {std::tuple{"deit_tiny", 5717416, 192}, std::tuple{"vit_small", 22050664, 384}}) {
    INFO(name);
    auto model = create_model(name, imagenet());
    REQUIRE(model->num_parameters() == params);
    const TensorMap state = model->state_dict();
    REQUIRE(keys_of(state) == timm_vit_keys(12));
    require_shape(state, "pos_embed", {1, 197, dim});
    require_shape(state, "cls_token", {1, 1, dim});
    require_shape(state, "patch_embed.proj.weight", {dim, 3, 16, 16});
    require_shape(state, "blocks.11.attn.qkv.weight", {3 * dim, dim});
    require_shape(state, "blocks.0.mlp.fc1.weight", {4 * dim, dim});
  }
  // DeiT and ViT name the same architectures.
  for (const auto& [vit, deit] : {std::pair{"vit_tiny", "deit_tiny"}, std::pair{"vit_small", "deit_small"}}) {
    REQUIRE(vit_config(vit).embed_dim == vit_config(deit).embed_dim);
    REQUIRE(vit_config(vit).num_heads == vit_config(deit).num_heads);
    REQUIRE(vit_config(vit).depth == vit_config(deit).depth);
  }
  // A small input with the 16-patch stem: a 32x32 image is 4 tokens (+ the class token).
  ModelConfig config = imagenet();
  config.image_size = 32;
  config.depth = 2;
  auto small = create_model("deit_tiny", config);
  require_shape(small->state_dict(), "pos_embed", {1, 5, 192});
  REQUIRE(output_shape(*small, {2, 3, 32, 32}) == Shape{2, 1000});
  require_reference_logits(*small, {2, 3, 32, 32},  // reference_outputs.py: deit_tiny patch 16, 32x32, depth 2
                           {0.1655096981, 0.6260897081, -0.8320099311, 0.8467586343, -0.4887962452, -0.2996975727,
                            0.6467720202, -0.9577194909, 0.7417640873, -0.06791318276});
}

TEST_CASE("ViT with mean pooling: no class token, fc_norm after the pooling (timm global_pool='avg')",
          "[models][vit]") {
  ModelConfig config;  // cifar: patch 4 on 32x32 -> 64 tokens
  config.pooling = "mean";
  config.depth = 6;
  auto model = create_model("vit_tiny", config);
  const TensorMap state = model->state_dict();
  REQUIRE(state.count("cls_token") == 0);
  REQUIRE(state.count("norm.weight") == 0);
  require_shape(state, "fc_norm.weight", {192});
  require_shape(state, "pos_embed", {1, 64, 192});
  require_shape(state, "patch_embed.proj.weight", {192, 3, 4, 4});
  REQUIRE(state.count("blocks.5.attn.qkv.weight") == 1);
  REQUIRE(state.count("blocks.6.attn.qkv.weight") == 0);
  REQUIRE(output_shape(*model, {2, 3, 32, 32}) == Shape{2, 10});
  require_reference_logits(*model, {2, 3, 32, 32},  // reference_outputs.py: vit_tiny patch 4, depth 6, mean pooling
                           {-0.6836995505, 1.209175089, -1.039269747, 0.3316225307, 0.2842851566, -1.077844863,
                            1.153312226, -0.7434987203, 0.1606008689, 0.7889834704});
}

namespace {
// The official ConvNeXt's state_dict keys (facebookresearch/ConvNeXt models/convnext.py).
std::set<std::string> convnext_keys(const std::vector<int>& depths) {
  std::set<std::string> keys = {"norm.weight", "norm.bias", "head.weight", "head.bias"};
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 2; ++j) {
      keys.insert(fmt::format("downsample_layers.{}.{}.weight", i, j));
      keys.insert(fmt::format("downsample_layers.{}.{}.bias", i, j));
    }
    for (int b = 0; b < depths[static_cast<size_t>(i)]; ++b) {
      keys.insert(fmt::format("stages.{}.{}.gamma", i, b));
      for (const char* leaf : {"dwconv", "norm", "pwconv1", "pwconv2"}) {
        keys.insert(fmt::format("stages.{}.{}.{}.weight", i, b, leaf));
        keys.insert(fmt::format("stages.{}.{}.{}.bias", i, b, leaf));
      }
    }
  }
  return keys;
}
}  // namespace

TEST_CASE("ConvNeXt-T matches the official count (28,589,128) and keys", "[models][convnext]") {
  auto model = create_model("convnext_tiny", imagenet());
  REQUIRE(model->num_parameters() == 28589128);
  const TensorMap state = model->state_dict();
  REQUIRE(keys_of(state) == convnext_keys({3, 3, 9, 3}));
  require_shape(state, "downsample_layers.0.0.weight", {96, 3, 4, 4});
  require_shape(state, "downsample_layers.3.1.weight", {768, 384, 2, 2});
  require_shape(state, "stages.2.8.dwconv.weight", {384, 1, 7, 7});
  require_shape(state, "stages.2.8.gamma", {384});
  REQUIRE(read_element(state.at("stages.0.0.gamma"), 0) == Approx(1e-6));
  require_shape(state, "head.weight", {1000, 768});
  // Nothing ties ConvNeXt to 224: 32 / 4 / 2 / 2 / 2 = 1 pixel at the last stage.
  REQUIRE(output_shape(*model, {1, 3, 32, 32}) == Shape{1, 1000});
  require_reference_logits(*model, {1, 3, 32, 32},  // reference_outputs.py: convnext_tiny imagenet
                           {1.056683817, -1.573184507, 2.015691367, -2.229166154, 1.84510719, -1.525108576,
                            0.7286366798, 0.1312165847, -0.7899130251, 1.654053034});
}

TEST_CASE("ConvNeXt CIFAR stem: 2x2 stride-2 patches, works on 28x28 single-channel input", "[models][convnext]") {
  ModelConfig config;
  config.in_channels = 1;
  config.image_size = 28;
  auto model = create_model("convnext_atto", config);
  const TensorMap state = model->state_dict();
  REQUIRE(keys_of(state) == convnext_keys({2, 2, 6, 2}));
  require_shape(state, "downsample_layers.0.0.weight", {40, 1, 2, 2});
  REQUIRE(output_shape(*model, {2, 1, 28, 28}) == Shape{2, 10});
}

TEST_CASE("MLP: PyTorch Sequential keys and Linear shapes", "[models][mlp]") {
  ModelConfig config;
  config.in_channels = 1;
  config.image_size = 28;
  auto model = create_model("mlp", config);  // 784-512-512-10
  REQUIRE(model->num_parameters() == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);
  const TensorMap state = model->state_dict();
  REQUIRE(keys_of(state) == std::set<std::string>{"1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"});
  REQUIRE(output_shape(*model, {4, 1, 28, 28}) == Shape{4, 10});
  require_reference_logits(*model, {2, 1, 28, 28},  // reference_outputs.py: mlp 784-512-512-10
                           {-0.7827460149, -0.5354330618, -0.2374564169, 0.06370880105, 0.3262936965, 0.5272466403,
                            0.6664032758, 0.7602973865, 0.8289396796, 0.882144291});
}

TEST_CASE("create_model: every listed name builds; unknown names and bad configs are errors", "[models][errors]") {
  ModelConfig tiny;  // every family on 32x32 with its cifar stem
  tiny.width = 4;
  tiny.depth = 1;
  for (const std::string& name : model_names()) {
    INFO(name);
    const bool big = name == "vgg13_bn" || name == "resnet50" || name.starts_with("convnext") ||
                     name.find("base") != std::string::npos;
    if (big) continue;  // built above, or too big to build for nothing
    auto model = create_model(name, tiny);
    REQUIRE(model->num_parameters() > 0);
  }
  REQUIRE_THROWS_WITH(create_model("resnet19"), Catch::Matchers::Contains("unknown model \"resnet19\"") &&
                                                    Catch::Matchers::Contains("resnet18") &&
                                                    Catch::Matchers::Contains("vit_tiny") &&
                                                    Catch::Matchers::Contains("convnext_tiny"));
  ModelConfig bad_stem;
  bad_stem.stem = "tiny";
  REQUIRE_THROWS_OP(create_model("resnet18", bad_stem), "stem");
  ModelConfig bad_patch;
  bad_patch.patch_size = 5;  // 32 is not a multiple of 5
  REQUIRE_THROWS_OP(create_model("vit_tiny", bad_patch), "patch_size 5");
  ModelConfig small_image = imagenet();
  small_image.image_size = 28;  // five pools of 28 leave nothing
  REQUIRE_THROWS_OP(create_model("vgg13_bn", small_image), "image_size >= 32");
  ModelConfig bad_pool;
  bad_pool.pooling = "max";
  REQUIRE_THROWS_OP(create_model("vit_tiny", bad_pool), "pooling");
}

TEST_CASE("A model built for one input channel rejects three: the stem conv's error", "[models][errors]") {
  ModelConfig config;
  config.in_channels = 1;
  config.width = 4;
  auto model = create_model("resnet8", config);
  REQUIRE_THROWS_OP((*model)(zeros({1, 3, 32, 32})), "Conv2d: expected input with 1 channels, got 3");
  // Unbatched images and images too small for the downsampling are named up front.
  REQUIRE_THROWS_OP((*model)(zeros({1, 32, 32})), "ResNet: expected an image batch (N, C, H, W)");
  ConvNeXt convnext(ConvNeXtConfig{.depths = {1, 1}, .dims = {4, 8}, .stem_patch = 2});
  REQUIRE_THROWS_OP(convnext(zeros({1, 3, 3, 3})), "ConvNeXt: input 3x3 is smaller than the 4x4");
  VGG vgg(VGGConfig{.layers = {4, 0, 4, 0, 4, 0}, .head = "cifar"});  // the cifar head drops the last pool
  REQUIRE_THROWS_OP(vgg(zeros({1, 3, 3, 3})), "VGG: input 3x3 is smaller than the 4x4");
  REQUIRE(output_shape(vgg, {1, 3, 4, 4}) == Shape{1, 1000});
}
