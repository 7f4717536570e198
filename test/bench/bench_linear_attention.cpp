// Microbenchmarks for ops/linear_attention.h (Google Benchmark). Twins of the PyTorch chunked
// composite in scripts/torch_workloads/linear_attention.py (same names). Figures:
// docs/LINEAR_ATTENTION.md.
#include <benchmark/benchmark.h>

#include "ember.h"

namespace {

using namespace ember;

// q, k, v: (4, 4, 4096, 64) float32; forward + backward of sum(out) with `options`.
void run_fwdbwd(benchmark::State& state, const LinearAttentionOptions& options, double flops_per_iteration) {
  Generator gen(0);
  const Shape shape = {4, 4, 4096, 64};
  Tensor q = randn(shape, gen).requires_grad_(true);
  Tensor k = randn(shape, gen).requires_grad_(true);
  Tensor v = randn(shape, gen).requires_grad_(true);
  for (auto _ : state) {
    Tensor out = linear_attention(q, k, v, options);
    TensorList grads = autograd::grad({sum(out)}, {q, k, v});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The chunked algorithm's products with C = d = 64, each 2·64³ FLOPs per chunk: 4 in the forward
// (Q Kᵀ, (·)V, Q S, Kᵀ V) and 8 in a backward that recomputes nothing (dO Vᵀ, three for dQ/dK/dV
// inside the chunk, three for their inter-chunk parts, one for dS), over 16 heads × 64 chunks.
constexpr double kCausalFlops = 12.0 * 2.0 * 64.0 * 64.0 * 64.0 * 16.0 * 64.0;
// Non-causal: Kᵀ V and Q S forward, dS, dQ, dK, dV backward (recomputing S: one more), 2·L·d² each.
constexpr double kFullFlops = 7.0 * 2.0 * 4096.0 * 64.0 * 64.0 * 16.0;

// The workload: causal, identity feature map, no normalizer.
void linear_attn_causal_b4h4_L4096_d64_fwdbwd(benchmark::State& state) {
  run_fwdbwd(state, LinearAttentionOptions{}, kCausalFlops);
}
BENCHMARK(linear_attn_causal_b4h4_L4096_d64_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime();

void linear_attn_noncausal_b4h4_L4096_d64_fwdbwd(benchmark::State& state) {
  LinearAttentionOptions options;
  options.causal = false;
  run_fwdbwd(state, options, kFullFlops);
}
BENCHMARK(linear_attn_noncausal_b4h4_L4096_d64_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime();

// elu(x) + 1 feature map and the normalizer (dv grows to 65 with the ones column).
void linear_attn_causal_elu1_normalized_b4h4_L4096_d64_fwdbwd(benchmark::State& state) {
  LinearAttentionOptions options;
  options.feature_map = "elu1";
  options.normalize = true;
  run_fwdbwd(state, options, kCausalFlops * 65.0 / 64.0);
}
BENCHMARK(linear_attn_causal_elu1_normalized_b4h4_L4096_d64_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
