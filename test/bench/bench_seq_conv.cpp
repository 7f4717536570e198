// Microbenchmarks for the sequence convolutions: ops/long_conv.h (FFT) and ops/short_conv.h.
// PyTorch twins (same names): scripts/torch_workloads/seq_conv.py.
#include <benchmark/benchmark.h>

#include "ember.h"

namespace {

using namespace ember;

// x: (4, 16384, 256) float32, a causal kernel as long as the sequence, k: (256, 16384);
// forward + backward of sum(y). One FFT size N = 32768 per channel row.
void long_conv_fft_b4_c256_L16384_fwdbwd(benchmark::State& state) {
  Generator gen(0);
  Tensor x = randn({4, 16384, 256}, gen).requires_grad_(true);
  Tensor k = mul(randn({256, 16384}, gen), 0.01).detach().requires_grad_(true);
  for (auto _ : state) {
    TensorList grads = autograd::grad({sum(long_conv(x, k, /*causal=*/true))}, {x, k});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
}
BENCHMARK(long_conv_fft_b4_c256_L16384_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

// x: (8, 4096, 512) float32, w: (512, 4), bias, silu; forward + backward of sum(y).
void short_conv_b8_L4096_d512_k4_fwdbwd(benchmark::State& state) {
  Generator gen(0);
  Tensor x = randn({8, 4096, 512}, gen).requires_grad_(true);
  Tensor w = randn({512, 4}, gen).requires_grad_(true);
  Tensor bias = randn({512}, gen).requires_grad_(true);
  for (auto _ : state) {
    TensorList grads = autograd::grad({sum(short_conv(x, w, bias, "silu"))}, {x, w, bias});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
}
BENCHMARK(short_conv_b8_L4096_d512_k4_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
