// Activations as modules, and make_activation("gelu") for configurable blocks.
// Implementation: models/nn/activation.cpp.
#pragma once
#include <functional>

#include "models/nn/module.h"

namespace ember::nn {

// One class serves every parameter-free activation; type_name() is the PyTorch class name.
class Activation : public Module {
 public:
  Activation(std::string type_name, std::function<Tensor(const Tensor&)> fn, std::string repr = "");
  Tensor forward(const Tensor& x) override { return fn_(x); }
  std::string extra_repr() const override { return repr_; }

 private:
  std::function<Tensor(const Tensor&)> fn_;
  std::string repr_;
};

ModulePtr ReLU();
ModulePtr ReLU6();
ModulePtr GELU(const std::string& approximate = "none");
ModulePtr SiLU();
ModulePtr Mish();
ModulePtr Tanh();
ModulePtr Sigmoid();
ModulePtr LeakyReLU(double negative_slope = 0.01);
ModulePtr ELU(double alpha = 1.0);
ModulePtr Hardswish();
ModulePtr Softmax(int64_t dim);
// By lower-case name: relu, relu6, gelu, gelu_tanh, silu/swish, mish, tanh, sigmoid, leaky_relu,
// elu, hardswish, identity. Unknown names throw ember::Error listing the known ones.
ModulePtr make_activation(const std::string& name);

}  // namespace ember::nn
