// Microbenchmarks for ops/conv.h (Google Benchmark). Yardstick: PyTorch 1.13 CPU, same threads.
#include <benchmark/benchmark.h>

#include "ember.h"

namespace {

// ResNet-style 3x3 layer: input 32x64x32x32, weight 64x64x3x3, padding 1, no bias; forward plus
// backward of sum (input and weight gradients), 7.2 GFLOP.
void conv2d_f32_b32_c64_hw32_k3_fwdbwd(benchmark::State& state) {
  ember::Generator gen(1);
  ember::Tensor x = ember::randn({32, 64, 32, 32}, gen).requires_grad_(true);
  ember::Tensor w = (ember::randn({64, 64, 3, 3}, gen) * 0.05).detach().requires_grad_(true);
  for (auto _ : state) {
    x.zero_grad();
    w.zero_grad();
    ember::sum(ember::conv2d(x, w, ember::Tensor(), 1, 1)).backward();
    benchmark::DoNotOptimize(x.grad().raw_data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(3.0 * 2 * 32 * 64 * 1024 * 576.0,
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}
BENCHMARK(conv2d_f32_b32_c64_hw32_k3_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime();

// Depthwise 7x7 (ConvNeXt-style) forward + backward: input 16x128x32x32.
void conv2d_f32_depthwise_k7_fwdbwd(benchmark::State& state) {
  ember::Generator gen(2);
  ember::Tensor x = ember::randn({16, 128, 32, 32}, gen).requires_grad_(true);
  ember::Tensor w = ember::randn({128, 1, 7, 7}, gen).requires_grad_(true);
  for (auto _ : state) {
    x.zero_grad();
    w.zero_grad();
    ember::sum(ember::conv2d(x, w, ember::Tensor(), 1, 3, 1, 128)).backward();
    benchmark::DoNotOptimize(x.grad().raw_data());
  }
}
BENCHMARK(conv2d_f32_depthwise_k7_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime();

// The stride-1 3x3 layers of ResNet-18 (CIFAR stem, batch 32): channels C -> C at side x side,
// forward and backward (input and weight gradients), the Winograd path (ops/cpu/winograd.cpp).
// Args: channels, side. CPU column = the whole process's CPU time (compare at OMP_NUM_THREADS=1).
void conv2d_f32_resnet18_3x3_fwdbwd(benchmark::State& state) {
  const int64_t channels = state.range(0), side = state.range(1);
  ember::Generator gen(3);
  ember::Tensor x = ember::randn({32, channels, side, side}, gen).requires_grad_(true);
  ember::Tensor w = (ember::randn({channels, channels, 3, 3}, gen) * 0.05).detach().requires_grad_(true);
  for (auto _ : state) {
    x.zero_grad();
    w.zero_grad();
    ember::sum(ember::conv2d(x, w, ember::Tensor(), 1, 1)).backward();
    benchmark::DoNotOptimize(x.grad().raw_data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(3.0 * 2 * 32 * channels * side * side * channels * 9.0,
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}
BENCHMARK(conv2d_f32_resnet18_3x3_fwdbwd)
    ->Args({64, 32})
    ->Args({128, 16})
    ->Args({256, 8})
    ->Args({512, 4})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

}  // namespace
