// Parameter initialisers (torch.nn.init), in place, without recording autograd history.
// Each layer's reset_parameters() follows PyTorch's default for that layer, so the same architecture
// starts from the same distribution (e.g. Linear/Conv: kaiming_uniform(a=sqrt(5)) weights and
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias). All draws come from `gen` (default: the global generator).
// Implementation: models/nn/init.cpp; tests: test/nn/test_init.cpp (moments of large draws).
#pragma once
#include <string>
#include <utility>

#include "engine/random.h"
#include "engine/tensor.h"

namespace ember::nn::init {

// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (tensors of dim >= 2).
std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& t);
// nonlinearity: "linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu" (uses param), "selu".
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

void uniform_(const Tensor& t, double low = 0.0, double high = 1.0, Generator& gen = default_generator());
void normal_(const Tensor& t, double mean = 0.0, double std = 1.0, Generator& gen = default_generator());
// Normal(mean, std) truncated to [a, b] by inverse-CDF sampling (timm's trunc_normal_).
void trunc_normal_(const Tensor& t, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0,
                   Generator& gen = default_generator());
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);
// mode: "fan_in" or "fan_out".
void kaiming_uniform_(const Tensor& t, double a = 0.0, const std::string& mode = "fan_in",
                      const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
void kaiming_normal_(const Tensor& t, double a = 0.0, const std::string& mode = "fan_in",
                     const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
void xavier_normal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());

// PyTorch's reset_parameters() for Linear and Conv*: weight kaiming_uniform(a=sqrt(5)) (that is,
// U(±1/sqrt(fan_in))) and bias (when defined) U(±1/sqrt(fan_in)), fan_in taken from the weight.
void linear_default_(const Tensor& weight, const Tensor& bias, Generator& gen = default_generator());

}  // namespace ember::nn::init
