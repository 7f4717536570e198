// The MLP. See models/mlp.h; tests: test/models/.
#include "models/mlp.h"

#include <fmt/ranges.h>

#include "engine/error.h"
#include "models/nn/activation.h"
#include "models/nn/dropout.h"
#include "models/nn/linear.h"

namespace ember::models {

std::shared_ptr<nn::Sequential> make_mlp(const MLPConfig& config) {
  EMBER_CHECK(config.in_features > 0 && config.num_classes > 0,
              "MLP: in_features ({}) and num_classes ({}) must be positive", config.in_features, config.num_classes);
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::Flatten>());
  int64_t features = config.in_features;
  for (int64_t width : config.hidden) {
    EMBER_CHECK(width > 0, "MLP: hidden sizes must be positive, got {}", config.hidden);
    model->push_back(std::make_shared<nn::Linear>(features, width));
    model->push_back(nn::make_activation(config.activation));
    if (config.dropout > 0) model->push_back(std::make_shared<nn::Dropout>(config.dropout));
    features = width;
  }
  model->push_back(std::make_shared<nn::Linear>(features, config.num_classes));
  return model;
}

}  // namespace ember::models
