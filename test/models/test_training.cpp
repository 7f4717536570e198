// The zoo in training: a few SGD steps on a fixed batch lower the loss for every family; state_dict
// round trips through safetensors bytes into a fresh model reproduce its outputs exactly; eval mode
// is deterministic while dropout / drop path act in training; the init schemes draw the reference
// distributions; ViT attention equals a per-head composition of plain ops; a full ResNet-18 (CIFAR)
// forward + backward runs. Small widths and images keep the suite fast. Twins: models/*.cpp.
#include <cmath>
#include <functional>

#include "helpers.h"
#include "models/convnext.h"
#include "models/mlp.h"
#include "models/resnet.h"
#include "models/vgg.h"
#include "models/vit.h"
#include "models/zoo.h"

using namespace ember;
using namespace ember::models;
using ember::test::all_close;
using ember::test::values;

namespace {

// A tiny member of each family, with its input shape; built from the default generator.
struct Family {
  std::string name;
  std::function<nn::ModulePtr()> build;
  Shape input;
  double lr;
};

constexpr int64_t kClasses = 5;

std::vector<Family> families(double drop = 0.0) {
  std::vector<Family> list;
  list.push_back({"mlp", [=] { return make_mlp({.in_features = 48, .hidden = {32, 32}, .num_classes = kClasses,
                                                 .activation = "gelu", .dropout = drop}); },
                  {8, 3, 4, 4}, 0.5});
  list.push_back({"resnet8", [=] {
                    ResNetConfig config = resnet_config("resnet8", kClasses, "cifar", 4);
                    config.in_channels = 1;
                    config.drop_rate = drop;
                    return std::make_shared<ResNet>(config);
                  },
                  {8, 1, 12, 12}, 0.1});
  list.push_back({"resnet_bottleneck", [=] {
                    ResNetConfig config{.block = "bottleneck", .blocks = {1, 1}, .widths = {4, 8},
                                        .num_classes = kClasses, .stem = "imagenet", .drop_rate = drop};
                    return std::make_shared<ResNet>(config);
                  },
                  {8, 3, 16, 16}, 0.1});
  list.push_back({"vgg", [=] {
                    VGGConfig config{.layers = {8, 0, 16, 0}, .num_classes = kClasses, .head = "cifar",
                                     .dropout = drop};
                    return std::make_shared<VGG>(config);
                  },
                  {8, 3, 8, 8}, 0.5});
  for (const char* pooling : {"cls", "mean"}) {
    list.push_back({std::string("vit_") + pooling, [=] {
                      ViTConfig config{.image_size = 8, .patch_size = 2, .num_classes = kClasses, .embed_dim = 16,
                                       .depth = 2, .num_heads = 2, .class_token = std::string(pooling) == "cls",
                                       .pooling = pooling, .drop_rate = drop, .attn_drop_rate = drop,
                                       .drop_path_rate = drop};
                      return std::make_shared<VisionTransformer>(config);
                    },
                    {8, 3, 8, 8}, 0.1});
  }
  list.push_back({"convnext", [=] {
                    ConvNeXtConfig config{.num_classes = kClasses, .depths = {1, 1, 1, 1}, .dims = {8, 8, 16, 16},
                                          .stem_patch = 1, .drop_rate = drop, .drop_path_rate = drop};
                    return std::make_shared<ConvNeXt>(config);
                  },
                  {8, 3, 8, 8}, 0.1});
  return list;
}

Tensor batch(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen);
}

Tensor labels(int64_t n, uint64_t seed) {
  Generator gen(seed);
  return randint(0, kClasses, {n}, gen);
}

// Plain SGD, written here because the optimizer library is tested on its own.
void sgd_step(nn::Module& model, double lr) {
  NoGradGuard no_grad;
  for (Tensor& p : model.parameters()) {
    if (p.grad().defined()) p.sub_(p.grad(), lr);
  }
  model.zero_grad();
}

double train_step(nn::Module& model, const Tensor& x, const Tensor& y, double lr) {
  Tensor loss = cross_entropy(model(x), y);
  loss.backward();
  sgd_step(model, lr);
  return loss.item<double>();
}

Tensor eval_forward(nn::Module& model, const Tensor& x) {
  NoGradGuard no_grad;
  model.eval();
  Tensor out = model(x);
  model.train();
  return out;
}

}  // namespace

TEST_CASE("A few SGD steps on a fixed batch lower the loss for every family", "[models][training]") {
  for (const Family& family : families()) {
    INFO(family.name);
    manual_seed(1);
    nn::ModulePtr model = family.build();
    const Tensor x = batch(family.input, 2), y = labels(family.input[0], 3);
    std::vector<double> losses;
    for (int step = 0; step < 8; ++step) losses.push_back(train_step(*model, x, y, family.lr));
    INFO("first loss " << losses.front() << ", last " << losses.back());
    for (double loss : losses) REQUIRE(std::isfinite(loss));
    // Chance level is log(5) = 1.61; memorising 8 samples must make clear progress.
    REQUIRE(losses.back() < 0.8 * losses.front());
    // The model's own loss after the steps, measured afresh, agrees.
    const double after = cross_entropy(eval_forward(*model, x), y).item<double>();
    REQUIRE(after < losses.front());
  }
}

TEST_CASE("state_dict round trip through safetensors bytes gives identical outputs", "[models][serialize]") {
  for (const Family& family : families()) {
    INFO(family.name);
    manual_seed(1);
    nn::ModulePtr trained = family.build();
    const Tensor x = batch(family.input, 2), y = labels(family.input[0], 3);
    // Two steps move the weights and BatchNorm's running statistics away from their init.
    train_step(*trained, x, y, family.lr);
    train_step(*trained, x, y, family.lr);
    const std::vector<uint8_t> bytes = save_safetensors_to_bytes(trained->state_dict());

    manual_seed(7);
    nn::ModulePtr fresh = family.build();
    const Tensor expected = eval_forward(*trained, x);
    REQUIRE_FALSE(all_close(eval_forward(*fresh, x), expected, 0.0, 1e-6));  // a different model before loading
    fresh->load_state_dict(load_safetensors_from_bytes(std::span<const uint8_t>(bytes)));
    REQUIRE(values(eval_forward(*fresh, x)) == values(expected));  // bit for bit
    // Loading into another architecture names the mismatching keys.
    if (family.name == "mlp") {
      nn::ModulePtr other = families()[1].build();
      REQUIRE_THROWS_OP(other->load_state_dict(load_safetensors_from_bytes(std::span<const uint8_t>(bytes))),
                        "1.weight");
    }
  }
}

TEST_CASE("Eval mode is deterministic; dropout and drop path act only in training", "[models][modes]") {
  for (const Family& family : families(/*drop=*/0.3)) {
    INFO(family.name);
    manual_seed(1);
    nn::ModulePtr model = family.build();
    const Tensor x = batch(family.input, 2);
    REQUIRE(values(eval_forward(*model, x)) == values(eval_forward(*model, x)));
    NoGradGuard no_grad;
    model->train();
    // BatchNorm also differs between train and eval, so compare two training passes.
    REQUIRE_FALSE(values((*model)(x)) == values((*model)(x)));
  }
}

TEST_CASE("Init schemes follow the references", "[models][init]") {
  auto std_of = [](const Tensor& t) {
    double sum = 0, sum_sq = 0;
    for (double v : values(t)) sum += v, sum_sq += v * v;
    const double n = static_cast<double>(t.numel());
    return std::sqrt(sum_sq / n - (sum / n) * (sum / n));
  };
  manual_seed(3);
  SECTION("ResNet: kaiming_normal(fan_out, relu) convs, BN 1/0, zero-init residual gamma") {
    ResNetConfig config = resnet_config("resnet8", 10, "cifar", 16);
    config.zero_init_residual = true;
    ResNet model(config);
    // layer3.0.conv2: (64, 64, 3, 3), fan_out = 64 * 9; std = sqrt(2 / fan_out)
    REQUIRE(std_of(model.state_dict().at("layer3.0.conv2.weight")) == Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.05));
    REQUIRE(values(model.state_dict().at("bn1.weight")) == std::vector<double>(16, 1.0));
    REQUIRE(values(model.state_dict().at("layer2.0.bn2.weight")) == std::vector<double>(32, 0.0));
    REQUIRE(values(model.state_dict().at("layer2.0.bn1.weight")) == std::vector<double>(32, 1.0));
  }
  SECTION("VGG: Linear N(0, 0.01) with zero bias, conv bias zero") {
    VGG model(VGGConfig{.layers = {8, 0, 16, 0}, .num_classes = 300, .in_channels = 3, .head = "cifar"});
    const TensorMap state = model.state_dict();
    REQUIRE(std_of(state.at("classifier.weight")) == Approx(0.01).epsilon(0.05));
    REQUIRE(values(state.at("classifier.bias")) == std::vector<double>(300, 0.0));
    REQUIRE(values(state.at("features.0.bias")) == std::vector<double>(8, 0.0));
  }
  SECTION("ViT: trunc_normal(.02) Linear and pos_embed, cls_token ~ 1e-6") {
    VisionTransformer model(ViTConfig{.image_size = 32, .patch_size = 4, .embed_dim = 64, .depth = 1, .num_heads = 2});
    const TensorMap state = model.state_dict();
    REQUIRE(std_of(state.at("blocks.0.mlp.fc1.weight")) == Approx(0.02).epsilon(0.05));
    REQUIRE(std_of(state.at("pos_embed")) == Approx(0.02).epsilon(0.05));
    REQUIRE(std_of(state.at("cls_token")) < 1e-5);
    REQUIRE(values(state.at("blocks.0.attn.qkv.bias")) == std::vector<double>(192, 0.0));
  }
  SECTION("ConvNeXt: trunc_normal(.02) convs and Linear, layer scale 1e-6") {
    ConvNeXt model(ConvNeXtConfig{.depths = {1, 1, 1, 1}, .dims = {8, 16, 32, 64}});
    const TensorMap state = model.state_dict();
    REQUIRE(std_of(state.at("stages.3.0.pwconv1.weight")) == Approx(0.02).epsilon(0.05));  // (256, 64)
    REQUIRE(std_of(state.at("downsample_layers.3.1.weight")) == Approx(0.02).epsilon(0.05));  // (64, 32, 2, 2)
    REQUIRE(std_of(state.at("head.weight")) == Approx(0.02).epsilon(0.05));  // (1000, 64)
    REQUIRE(values(state.at("head.bias")) == std::vector<double>(1000, 0.0));
    REQUIRE(all_close(state.at("stages.3.0.gamma"), std::vector<double>(64, 1e-6), 1e-6, 0.0));
  }
}

TEST_CASE("Stochastic depth rises linearly over the blocks", "[models][vit][convnext]") {
  VisionTransformer vit(ViTConfig{.image_size = 8, .patch_size = 4, .embed_dim = 8, .depth = 5, .num_heads = 2,
                                  .drop_path_rate = 0.2});
  for (int i = 0; i < 5; ++i) {
    auto block = std::dynamic_pointer_cast<ViTBlock>((*vit.blocks)[static_cast<size_t>(i)]);
    REQUIRE(block->drop_path1->drop_prob == Approx(0.05 * i));
  }
  ConvNeXt convnext(ConvNeXtConfig{.depths = {1, 2}, .dims = {4, 8}, .drop_path_rate = 0.4});
  // Three blocks over two stages: 0, 0.2, 0.4.
  auto stage = std::dynamic_pointer_cast<nn::Sequential>((*convnext.stages)[1]);
  REQUIRE(std::dynamic_pointer_cast<ConvNeXtBlock>((*stage)[0])->drop_path->drop_prob == Approx(0.2));
  REQUIRE(std::dynamic_pointer_cast<ConvNeXtBlock>((*stage)[1])->drop_path->drop_prob == Approx(0.4));
}

TEST_CASE("ViT attention equals softmax(q k^T / sqrt(d)) v per head, composed of plain ops", "[models][vit]") {
  manual_seed(5);
  Attention attention(8, 2);
  attention.to(DType::f64);
  const Tensor x = ember::test::rand64({2, 5, 8}, 11);
  // Reference: one head at a time, with the qkv weight split into its q, k, v rows.
  const Tensor qkv = linear(x, attention.qkv->weight, attention.qkv->bias);  // (2, 5, 24)
  std::vector<Tensor> heads;
  for (int64_t h = 0; h < 2; ++h) {
    const Tensor q = qkv.narrow(2, 0 + 4 * h, 4), k = qkv.narrow(2, 8 + 4 * h, 4), v = qkv.narrow(2, 16 + 4 * h, 4);
    heads.push_back(matmul(softmax(matmul(q, k.transpose(1, 2)) / 2.0, -1), v));  // sqrt(4) = 2
  }
  const Tensor expected = linear(cat(heads, 2), attention.proj->weight, attention.proj->bias);
  Tensor out = attention(x);
  REQUIRE(all_close(out, expected, 1e-12, 1e-12));
  // And the gradient reaches every parameter.
  sum(out * out).backward();
  for (const auto& [name, p] : attention.named_parameters()) {
    INFO(name);
    REQUIRE(p.grad().defined());
  }
}

TEST_CASE("Full-size ResNet-18 (CIFAR stem) forward and backward on a batch of 2", "[models][resnet][slow]") {
  manual_seed(1);
  auto model = create_model("resnet18");
  const Tensor x = batch({2, 3, 32, 32}, 2), y = labels(2, 3);
  Tensor logits = (*model)(x);
  REQUIRE(logits.sizes() == Shape{2, 10});
  cross_entropy(logits, y).backward();
  for (const auto& [name, p] : model->named_parameters()) {
    INFO(name);
    REQUIRE(p.grad().defined());
    REQUIRE(p.grad().sizes() == p.sizes());
  }
  const std::vector<double> g = values(model->named_parameters().front().second.grad());  // conv1.weight
  double norm = 0;
  for (double v : g) norm += v * v;
  REQUIRE(std::isfinite(norm));
  REQUIRE(norm > 0);
}
