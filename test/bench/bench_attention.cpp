// Microbenchmarks for ops/attention.h (Google Benchmark). Twin of the PyTorch side in
// scripts/compare_torch.py (naive causal softmax attention, as PyTorch 1.13 has no fused SDPA).
#include <benchmark/benchmark.h>

#include "ember.h"

namespace {

using namespace ember;

// q, k, v: (4, 4, 4096, 64) float32, causal; forward + backward of sum(out).
void softmax_attn_b4h4_L4096_d64_fwdbwd(benchmark::State& state) {
  Generator gen(0);
  const Shape shape = {4, 4, 4096, 64};
  Tensor q = randn(shape, gen).requires_grad_(true);
  Tensor k = randn(shape, gen).requires_grad_(true);
  Tensor v = randn(shape, gen).requires_grad_(true);
  for (auto _ : state) {
    Tensor out = scaled_dot_product_attention(q, k, v, Tensor(), 0.0, /*is_causal=*/true);
    TensorList grads = autograd::grad({sum(out)}, {q, k, v});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  // Causal: half of 2 (forward: QKᵀ, PV) + 5 (backward: QKᵀ, PᵀdO, dO Vᵀ, dS K, dSᵀQ) products
  // of 2·L·L·d FLOPs each.
  const double flops_per_iteration = 4.0 * 4.0 * 7.0 * 2.0 * 4096.0 * 4096.0 * 64.0 / 2.0;
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(softmax_attn_b4h4_L4096_d64_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

// Forward only, not causal: the kernel at full tiles, quick enough for a first look.
void softmax_attn_b4h4_L1024_d64_fwd(benchmark::State& state) {
  Generator gen(0);
  const Shape shape = {4, 4, 1024, 64};
  Tensor q = randn(shape, gen), k = randn(shape, gen), v = randn(shape, gen);
  for (auto _ : state) {
    Tensor out = scaled_dot_product_attention(q, k, v);
    benchmark::DoNotOptimize(out.raw_data());
  }
  const double flops_per_iteration = 4.0 * 4.0 * 2.0 * 2.0 * 1024.0 * 1024.0 * 64.0;
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(softmax_attn_b4h4_L1024_d64_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same with attention dropout p = 0.1 (training mode), forward + backward: the Philox mask is
// drawn inside the fused kernel, tile by tile, in both passes.
void softmax_attn_dropout_b4h4_L1024_d64_fwdbwd(benchmark::State& state) {
  Generator gen(0);
  const Shape shape = {4, 4, 1024, 64};
  Tensor q = randn(shape, gen).requires_grad_(true);
  Tensor k = randn(shape, gen).requires_grad_(true);
  Tensor v = randn(shape, gen).requires_grad_(true);
  for (auto _ : state) {
    Tensor out = scaled_dot_product_attention(q, k, v, Tensor(), 0.1, /*is_causal=*/false, std::nullopt, &gen);
    TensorList grads = autograd::grad({sum(out)}, {q, k, v});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  // 2 (forward) + 5 (backward) products of 2·L·L·d FLOPs each.
  const double flops_per_iteration = 4.0 * 4.0 * 7.0 * 2.0 * 1024.0 * 1024.0 * 64.0;
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(softmax_attn_dropout_b4h4_L1024_d64_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
