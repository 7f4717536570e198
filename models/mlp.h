// A multi-layer perceptron on flattened inputs: Flatten -> [Linear -> activation -> Dropout?] x n ->
// Linear. Built as an nn::Sequential so its keys (1.weight, 3.weight, ...) equal those of the same
// torch.nn.Sequential(nn.Flatten(), nn.Linear(...), nn.ReLU(), ...), with PyTorch's default init.
// Implementation: models/mlp.cpp; registry: models/zoo.cpp; tests: test/models/.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/nn/container.h"

namespace ember::models {

struct MLPConfig {
  int64_t in_features = 784;             // the product of the non-batch input dims
  std::vector<int64_t> hidden = {512, 512};
  int64_t num_classes = 10;
  std::string activation = "relu";       // any name nn::make_activation knows
  double dropout = 0.0;                  // after each hidden activation; no Dropout module when 0
};

// x: (N, ...) with in_features elements per sample -> (N, num_classes).
std::shared_ptr<nn::Sequential> make_mlp(const MLPConfig& config);

}  // namespace ember::models
