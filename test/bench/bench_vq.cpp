// Microbenchmarks for ops/vq.h and ops/vq_attention.h (Google Benchmark). PyTorch twins:
// scripts/torch_workloads/vq.py (same names). Figures: docs/VQ.md.
#include <benchmark/benchmark.h>

#include "ember.h"

namespace {

using namespace ember;

// VQDNA's tokenizer sizes (papers.md §4.1: K = 512 codes of D = 384) on 65536 tokens (a batch of
// 128 sequences of 512 bases): nearest-codeword search + straight-through quantize, forward and
// the backward of sum(quantized), float32.
void vq_nearest_n65536_k512_d384(benchmark::State& state) {
  Generator gen(0);
  Tensor z = randn({65536, 384}, gen).requires_grad_(true);
  const Tensor codebook = randn({512, 384}, gen);
  for (auto _ : state) {
    const NearestCodes nearest = vq_nearest(z.detach(), codebook);
    const Tensor quantized = vq_quantize_st(z, codebook, nearest.indices);
    TensorList grads = autograd::grad({sum(quantized)}, {z});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  const double flops_per_iteration = 2.0 * 65536.0 * 512.0 * 384.0;  // the z·cᵀ products
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(vq_nearest_n65536_k512_d384)->Unit(benchmark::kMillisecond)->UseRealTime();

// LongVQ's attention: B1, H4, L4096, d = dv = 64, S = 256 codes per head, causal window 64 with
// bias; forward + backward of sum(out). Linear in L (docs/VQ.md, Note [VQ attention cache]).
void vq_attention_causal_b1h4_L4096_s256_d64_fwdbwd(benchmark::State& state) {
  Generator gen(0);
  const Shape shape = {1, 4, 4096, 64};
  Tensor q = randn(shape, gen).requires_grad_(true);
  Tensor k = randn(shape, gen).requires_grad_(true);
  Tensor v = randn(shape, gen).requires_grad_(true);
  Tensor bias = mul(randn({4, 64}, gen), 0.1).requires_grad_(true);
  const Tensor codebook = randn({4, 256, 64}, gen);
  const Tensor indices = randint(0, 256, {1, 4, 4096}, gen);
  VQAttentionOptions options;
  options.window = 64;
  for (auto _ : state) {
    Tensor out = vq_attention(q, k, v, indices, codebook, options, bias);
    TensorList grads = autograd::grad({sum(out)}, {q, k, v, bias});
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
}
BENCHMARK(vq_attention_causal_b1h4_L4096_s256_d64_fwdbwd)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
