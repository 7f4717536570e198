// Shared by the trainer suite (test/trainer/): a scratch folder that cleans up after itself, a
// tiny model built with nothing but nn::Module, and "one line, mentions X" error checks.
#pragma once
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "ember.h"
#include "models/nn/module.h"

namespace ember::test {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() / ("ember-" + tag + "-" + std::to_string(getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// y = x.flatten(1) W^T + b: enough to exercise state_dicts and checkpoints.
class TinyNet : public nn::Module {
 public:
  TinyNet(int64_t in_features, int64_t out_features, uint64_t seed = 1) : Module("TinyNet") {
    Generator gen(seed);
    weight = register_parameter("weight", randn({out_features, in_features}, gen) * 0.1);
    bias = register_parameter("bias", zeros({out_features}));
    steps = register_buffer("steps", zeros({1}));
  }
  Tensor forward(const Tensor& x) override { return linear(x.flatten(1), weight, bias); }
  Tensor weight, bias, steps;
};

// The call throws an ember::Error whose message is one line containing every fragment.
template <class F>
void require_one_line_error(F&& call, std::initializer_list<std::string> fragments) {
  try {
    call();
  } catch (const Error& e) {
    const std::string message = e.what();
    INFO("message: " << message);
    CHECK(message.find('\n') == std::string::npos);
    for (const std::string& fragment : fragments) CHECK(message.find(fragment) != std::string::npos);
    return;
  }
  FAIL("no ember::Error was thrown");
}

}  // namespace ember::test
