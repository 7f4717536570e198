// Activation modules and make_activation(name). See models/nn/activation.h;
// tests: test/nn/test_layers.cpp.
#include "models/nn/activation.h"

#include <map>

#include <fmt/format.h>

#include "engine/error.h"
#include "models/nn/linear.h"
#include "ops/ops.h"

namespace ember::nn {

Activation::Activation(std::string type_name, std::function<Tensor(const Tensor&)> fn, std::string repr)
    : Module(std::move(type_name)), fn_(std::move(fn)), repr_(std::move(repr)) {}

namespace {
ModulePtr make(const char* type, Tensor (*fn)(const Tensor&)) { return std::make_shared<Activation>(type, fn); }
}  // namespace

ModulePtr ReLU() { return make("ReLU", relu); }
ModulePtr ReLU6() { return make("ReLU6", relu6); }
ModulePtr SiLU() { return make("SiLU", silu); }
ModulePtr Mish() { return make("Mish", mish); }
ModulePtr Tanh() { return make("Tanh", ember::tanh); }
ModulePtr Sigmoid() { return make("Sigmoid", ember::sigmoid); }
ModulePtr Hardswish() { return make("Hardswish", hardswish); }

ModulePtr GELU(const std::string& approximate) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh", "GELU: approximate must be 'none' or 'tanh', got '{}'",
              approximate);
  return std::make_shared<Activation>(
      "GELU", [approximate](const Tensor& x) { return gelu(x, approximate); },
      fmt::format("approximate='{}'", approximate));
}

ModulePtr LeakyReLU(double negative_slope) {
  return std::make_shared<Activation>(
      "LeakyReLU", [negative_slope](const Tensor& x) { return leaky_relu(x, negative_slope); },
      fmt::format("negative_slope={}", negative_slope));
}

ModulePtr ELU(double alpha) {
  return std::make_shared<Activation>(
      "ELU", [alpha](const Tensor& x) { return elu(x, alpha); }, fmt::format("alpha={}", alpha));
}

ModulePtr Softmax(int64_t dim) {
  return std::make_shared<Activation>(
      "Softmax", [dim](const Tensor& x) { return softmax(x, dim); }, fmt::format("dim={}", dim));
}

ModulePtr make_activation(const std::string& name) {
  static const std::map<std::string, std::function<ModulePtr()>> factories = {
      {"relu", [] { return ReLU(); }},
      {"relu6", [] { return ReLU6(); }},
      {"gelu", [] { return GELU(); }},
      {"gelu_tanh", [] { return GELU("tanh"); }},
      {"silu", [] { return SiLU(); }},
      {"swish", [] { return SiLU(); }},
      {"mish", [] { return Mish(); }},
      {"tanh", [] { return Tanh(); }},
      {"sigmoid", [] { return Sigmoid(); }},
      {"leaky_relu", [] { return LeakyReLU(); }},
      {"elu", [] { return ELU(); }},
      {"hardswish", [] { return Hardswish(); }},
      {"identity", [] { return std::make_shared<Identity>(); }},
  };
  auto it = factories.find(name);
  if (it == factories.end()) {
    std::string known;
    for (auto& [key, factory] : factories) known += (known.empty() ? "" : ", ") + key;
    EMBER_FAIL("make_activation: unknown activation '{}' (known: {})", name, known);
  }
  return it->second();
}

}  // namespace ember::nn
