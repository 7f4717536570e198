// A torchinfo-style summary: runs one forward pass (eval mode, no grad) on zeros of `input_shape`
// and prints one row per module: dotted name, type, output shape, parameters (own), and totals.
// Implementation: models/nn/summary.cpp.
#pragma once
#include <string>

#include "models/nn/module.h"

namespace ember::nn {

// max_depth: deepest module level shown (1 = direct children); totals always cover everything.
std::string summary(Module& model, const Shape& input_shape, int max_depth = 3, DType dtype = DType::f32);

}  // namespace ember::nn
