// Microbenchmarks for ops/norm.h (Google Benchmark): forward + backward of sum(norm(x)), the
// workload of a transformer block's LayerNorm and a ResNet stage's BatchNorm.
// Yardstick: PyTorch 1.13 CPU, same machine and threads, layer_norm 4096x768 fwd+bwd: 3.2 ms.
// The backward is the functional autograd::grad: it returns the gradients without accumulating
// them into .grad, whose first write the engine currently makes by cloning the gradient
// (autograd/node.cpp); PyTorch steals the buffer instead, so this is the like-for-like workload.
#include <benchmark/benchmark.h>

#include "ember.h"

namespace {
using namespace ember;

void layer_norm_f32_4096x768_fwdbwd(benchmark::State& state) {
  Generator gen(1);
  Tensor x = randn({4096, 768}, gen).requires_grad_(true);
  Tensor w = ones({768}).requires_grad_(true);
  Tensor b = zeros({768}).requires_grad_(true);
  for (auto _ : state) {
    Tensor loss = sum(layer_norm(x, {768}, w, b));
    TensorList grads = autograd::grad({loss}, {x, w, b});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * 4 * 4);  // x, y read/write; x, dx
}
BENCHMARK(layer_norm_f32_4096x768_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime();

void batch_norm_f32_b32_c64_hw32_fwdbwd(benchmark::State& state) {
  Generator gen(2);
  Tensor x = randn({32, 64, 32, 32}, gen).requires_grad_(true);
  Tensor w = ones({64}).requires_grad_(true);
  Tensor b = zeros({64}).requires_grad_(true);
  Tensor running_mean = zeros({64});
  Tensor running_var = ones({64});
  for (auto _ : state) {
    Tensor loss = sum(batch_norm(x, running_mean, running_var, w, b, /*training=*/true));
    TensorList grads = autograd::grad({loss}, {x, w, b});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * 4 * 4);
}
BENCHMARK(batch_norm_f32_b32_c64_hw32_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
