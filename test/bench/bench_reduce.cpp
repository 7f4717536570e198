// Microbenchmarks for ops/reduce.h and ops/sort.h (Google Benchmark). Reductions are
// memory-bound: the "bytes_per_second" counter is the input read rate, to compare against the
// machine's memory bandwidth. Each layout of Note [Reduction layout] has a case.
#include <benchmark/benchmark.h>

#include "ember.h"

using namespace ember;

namespace {

Tensor input(const Shape& shape) {
  Generator gen(1);
  return randn(shape, gen, DType::f32);
}

void report_bytes(benchmark::State& state, const Tensor& x) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * x.numel() * static_cast<int64_t>(x.element_size()));
}

// Rows layout: reduce the contiguous last dim of (B, C).
void BM_sum_last_dim(benchmark::State& state) {
  Tensor x = input({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(sum(x, {1}));
  report_bytes(state, x);
}
// Columns layout: sum over dim 0 of (B, C), the bias-gradient case.
void BM_sum_first_dim(benchmark::State& state) {
  Tensor x = input({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(sum(x, {0}));
  report_bytes(state, x);
}
// The layout the columns walk replaces: transpose-copy to (C, B), then reduce rows.
void BM_sum_first_dim_via_transpose_copy(benchmark::State& state) {
  Tensor x = input({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(sum(x.t().contiguous(), {1}));
  report_bytes(state, x);
}
// Rows with a strided outer reduced dim: sum over (N, H, W) of (N, C, H, W) (batch-norm statistics).
void BM_sum_batchnorm_dims(benchmark::State& state) {
  Tensor x = input({32, 64, 32, 32});
  for (auto _ : state) benchmark::DoNotOptimize(sum(x, {0, 2, 3}));
  report_bytes(state, x);
}
void BM_sum_all(benchmark::State& state) {
  Tensor x = input({state.range(0)});
  for (auto _ : state) benchmark::DoNotOptimize(sum(x));
  report_bytes(state, x);
}
void BM_var_first_dim(benchmark::State& state) {
  Tensor x = input({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(var(x, {0}));
  report_bytes(state, x);
}
void BM_amax_last_dim(benchmark::State& state) {
  Tensor x = input({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(amax(x, {1}));
  report_bytes(state, x);
}
void BM_logsumexp_last_dim(benchmark::State& state) {
  Tensor x = input({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(logsumexp(x, {1}));
  report_bytes(state, x);
}
void BM_cumsum_last_dim(benchmark::State& state) {
  Tensor x = input({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(cumsum(x, 1));
  report_bytes(state, x);
}
void BM_sort_last_dim(benchmark::State& state) {
  Tensor x = input({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(sort(x, 1));
  report_bytes(state, x);
}
void BM_topk_last_dim(benchmark::State& state) {
  Tensor x = input({state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(topk(x, 5, 1));
  report_bytes(state, x);
}

}  // namespace

BENCHMARK(BM_sum_last_dim)->Args({4096, 1024});
BENCHMARK(BM_sum_first_dim)->Args({4096, 1024})->Args({65536, 16});
BENCHMARK(BM_sum_first_dim_via_transpose_copy)->Args({4096, 1024})->Args({65536, 16});
BENCHMARK(BM_sum_batchnorm_dims);
BENCHMARK(BM_sum_all)->Arg(1 << 22);
BENCHMARK(BM_var_first_dim)->Args({4096, 1024});
BENCHMARK(BM_amax_last_dim)->Args({4096, 1024});
BENCHMARK(BM_logsumexp_last_dim)->Args({4096, 1024});
BENCHMARK(BM_cumsum_last_dim)->Args({4096, 1024});
BENCHMARK(BM_sort_last_dim)->Args({4096, 1024});
BENCHMARK(BM_topk_last_dim)->Args({4096, 1024});
