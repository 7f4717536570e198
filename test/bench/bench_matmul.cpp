// Microbenchmarks for ops/matmul.h (Google Benchmark). Yardstick: PyTorch 1.13 CPU, same threads.
#include <benchmark/benchmark.h>

#include "ember.h"

namespace {

// 1024×1024 · 1024×1024 in float32: one sgemm, 2.1 GFLOP.
void gemm_f32_1024(benchmark::State& state) {
  ember::Generator gen(1);
  ember::Tensor a = ember::randn({1024, 1024}, gen);
  ember::Tensor b = ember::randn({1024, 1024}, gen);
  for (auto _ : state) {
    ember::Tensor c = ember::matmul(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * 1024 * 1024 * 1024, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}
BENCHMARK(gemm_f32_1024)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
