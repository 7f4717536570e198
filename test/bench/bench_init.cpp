// Microbenchmarks for the parameter initialisers of models/nn/init.h (Google Benchmark): the
// truncated normal timm's ViT and ConvNeXt use for every weight.
#include <benchmark/benchmark.h>

#include "ember.h"
#include "models/nn/init.h"

namespace {

using namespace ember;

// trunc_normal_(std 0.02, [-2, 2]) into a (1024, 1024) float32 weight: 1 Mi elements, so
// milliseconds per iteration read as nanoseconds per element.
void trunc_normal_init_1024x1024(benchmark::State& state) {
  Generator gen(0);
  Tensor weight = empty({1024, 1024}, DType::f32);
  for (auto _ : state) {
    nn::init::trunc_normal_(weight, 0.0, 0.02, -2.0, 2.0, gen);
    benchmark::DoNotOptimize(weight.raw_data());
  }
}
BENCHMARK(trunc_normal_init_1024x1024)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
