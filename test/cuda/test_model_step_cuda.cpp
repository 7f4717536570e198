// A whole training step of every model in the zoos on CUDA against the same step on the CPU
// (issue 5: "a whole training step of each model in the zoo on CUDA vs CPU"): the same weights
// (built on the CPU from one seed, then moved with Module::to), the same batch, forward in train
// mode (dropout off so both sides compute the same function), cross-entropy, backward, and then
// the loss, the logits and every parameter's gradient compared; then one fused SGD step and the
// updated weights compared. float64 so the comparison is tight and a wrong kernel cannot hide in
// float32 rounding. Image models: models/zoo.h; sequence models: models/seq/seq_zoo.h.
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "ember.h"
#include "helpers.h"
#include "models/seq/seq_zoo.h"
#include "models/zoo.h"
#include "optim/sgd.h"
#include "test/cuda/device_test.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {

// Gradients and updates of models with a few million float64 parameters agree to ~1e-9 relative.
constexpr double kRtol = 1e-7, kAtol = 1e-9;

void compare_step(const std::string& name, nn::Module& host, nn::Module& device,
                  const std::function<Tensor(nn::Module&, Device)>& forward_loss) {
  INFO("model " << name);
  device.to(Device::cuda());
  host.train();
  device.train();
  const Tensor host_loss = forward_loss(host, Device::cpu());
  const Tensor device_loss = forward_loss(device, Device::cuda());
  REQUIRE(device_loss.device().is_cuda());
  CHECK(device_loss.item<double>() == Approx(host_loss.item<double>()).epsilon(kRtol));
  host_loss.backward();
  device_loss.backward();
  const auto host_params = host.named_parameters(), device_params = device.named_parameters();
  REQUIRE(host_params.size() == device_params.size());
  for (size_t i = 0; i < host_params.size(); ++i) {
    INFO("gradient of " << host_params[i].first);
    const Tensor& hg = host_params[i].second.grad();
    const Tensor& dg = device_params[i].second.grad();
    REQUIRE(hg.defined() == dg.defined());
    if (hg.defined()) CHECK(all_close(values(dg.cpu()), values(hg), kRtol, kAtol));
  }
  optim::SGD host_sgd({{host.parameters(), {}, ""}}, {{"lr", 0.1}, {"momentum", 0.9}, {"weight_decay", 1e-4}});
  optim::SGD device_sgd({{device.parameters(), {}, ""}}, {{"lr", 0.1}, {"momentum", 0.9}, {"weight_decay", 1e-4}});
  host_sgd.step();
  device_sgd.step();
  for (size_t i = 0; i < host_params.size(); ++i) {
    INFO("updated " << host_params[i].first);
    CHECK(all_close(values(device_params[i].second.detach().cpu()), values(host_params[i].second.detach()), kRtol,
                    kAtol));
  }
  const auto host_buffers = host.named_buffers(), device_buffers = device.named_buffers();
  for (size_t i = 0; i < host_buffers.size(); ++i) {  // BatchNorm running statistics
    INFO("buffer " << host_buffers[i].first);
    CHECK(all_close(values(device_buffers[i].second.cpu()), values(host_buffers[i].second), kRtol, kAtol));
  }
}

}  // namespace

DEVICE_TEST_CASE("cuda model step: every image model of the zoo, CUDA vs CPU (float64)") {
  Generator gen(21);
  const Tensor images = randn({2, 3, 32, 32}, gen, DType::f64);
  const Tensor labels = from_vector<int64_t>({3, 7}, {2});
  for (const std::string& name : models::model_names()) {
    models::ModelConfig config;
    config.num_classes = 10;
    config.image_size = 32;
    manual_seed(5);
    nn::ModulePtr host = models::create_model(name, config);
    host->to(DType::f64);
    manual_seed(5);
    nn::ModulePtr device = models::create_model(name, config);
    device->to(DType::f64);
    compare_step(name, *host, *device, [&](nn::Module& m, Device d) {
      return cross_entropy(m.forward(images.to(d)), labels.to(d));
    });
  }
}

DEVICE_TEST_CASE("cuda model step: every sequence model (classification and LM heads), CUDA vs CPU (float64)") {
  Generator gen(22);
  const Tensor tokens = randint(1, 11, {2, 37}, gen);
  for (const std::string& task : {"classify", "lm"}) {
    for (const std::string& name : models::seq::seq_model_names()) {
      models::seq::SeqModelConfig config;
      config.vocab_size = 11;
      config.pad_id = task == "classify" ? 0 : -1;
      config.task = task;
      config.num_classes = 3;
      config.d_model = 16;
      config.depth = 2;
      config.num_heads = 2;
      config.max_len = 64;
      config.chunk_size = 8;
      config.codebook_size = 8;
      manual_seed(6);
      auto host = models::seq::create_seq_model(name, config);
      host->to(DType::f64);
      manual_seed(6);
      auto device = models::seq::create_seq_model(name, config);
      device->to(DType::f64);
      const Tensor targets = task == "lm" ? tokens : from_vector<int64_t>({1, 2}, {2});
      compare_step(name + " " + task, *host, *device, [&](nn::Module& m, Device d) {
        const Tensor logits = m.forward(tokens.to(d));
        return task == "lm" ? cross_entropy(logits.reshape({-1, 11}), targets.to(d).reshape({-1}))
                            : cross_entropy(logits, targets.to(d));
      });
    }
  }
}
