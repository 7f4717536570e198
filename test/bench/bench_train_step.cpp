// Whole training steps (Google Benchmark): zero_grad, forward, cross-entropy, backward and an SGD
// momentum step (optim::SGD, lr 0.01, momentum 0.9) of issue 3's "Speed" workloads, on the zoo's
// models as users build them (models::create_model):
//   resnet18_cifar_b32_train_step  ResNet-18, CIFAR stem (3x3 s1 conv, no max-pool), 10 classes, 32x3x32x32
//   vit_tiny_p4_b32_train_step     ViT-tiny (dim 192, depth 6, heads 3, MLP 4x), patch 4, mean pooling, 32x3x32x32
//   mlp_fmnist_b128_train_step     MLP 784-512-512-10, ReLU, batch 128
// Twin: scripts/compare_torch.py builds the same networks from torch.nn modules; docs/PERF.md
// records both sides.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <string>

#include "ember.h"
#include "models/zoo.h"
#include "optim/sgd.h"

namespace {
using namespace ember;

int64_t minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// One benchmark iteration = zero_grad, forward, cross-entropy, backward, SGD momentum step.
// Counter page_faults: minor faults per step after a warm-up step (fresh pages the kernel had to
// zero; near 0 when the allocator reuses its blocks). The CPU column is the whole process's CPU
// time (all threads): on a busy machine, CPU time well below 2x real time means descheduling.
void train_step(benchmark::State& state, const std::string& model_name, const models::ModelConfig& config,
                const Shape& input_shape) {
  manual_seed(1);
  nn::ModulePtr model = models::create_model(model_name, config);
  model->train();
  optim::SGD sgd({optim::ParamGroup{model->parameters(), {}, ""}}, {{"lr", 0.01}, {"momentum", 0.9}});
  Generator gen(2);
  const Tensor x = randn(input_shape, gen);
  const Tensor target = randint(0, config.num_classes, {input_shape[0]}, gen);
  auto step = [&] {
    sgd.zero_grad();
    const Tensor loss = cross_entropy((*model)(x), target);
    loss.backward();
    sgd.step();
    benchmark::DoNotOptimize(loss.raw_data());
  };
  step();  // warm-up: first touch of every buffer, momentum buffers created
  const int64_t faults_before = minor_page_faults();
  for (auto _ : state) step();
  state.counters["page_faults"] = benchmark::Counter(static_cast<double>(minor_page_faults() - faults_before),
                                                     benchmark::Counter::kAvgIterations);
}

void resnet18_cifar_b32_train_step(benchmark::State& state) {
  models::ModelConfig config;  // 10 classes, 3 channels, 32x32, CIFAR stem
  train_step(state, "resnet18", config, {32, 3, 32, 32});
}

void vit_tiny_p4_b32_train_step(benchmark::State& state) {
  models::ModelConfig config;
  config.patch_size = 4;
  config.pooling = "mean";
  config.depth = 6;  // the workload's depth (vit_tiny's default is 12)
  train_step(state, "vit_tiny", config, {32, 3, 32, 32});
}

void mlp_fmnist_b128_train_step(benchmark::State& state) {
  models::ModelConfig config;  // 784-512-512-10
  config.in_channels = 1;
  config.image_size = 28;
  train_step(state, "mlp", config, {128, 1, 28, 28});
}

BENCHMARK(resnet18_cifar_b32_train_step)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(vit_tiny_p4_b32_train_step)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(mlp_fmnist_b128_train_step)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

}  // namespace
