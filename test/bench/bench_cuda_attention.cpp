// GPU benchmarks for the attention kernels (cuda/attention.cu, cuda/linear_attention.cu), timed
// with CUDA events (cuda_timing.h); skipped without a device. FLOP counters use the standard
// forward count 4·B·H·L²·d (QKᵀ and PV), halved when causal, and 3.5x that for forward +
// backward (the backward's 5 products; our backward recomputes the scores twice, Note [CUDA
// attention tiles], so its real work is higher than the counter credits).
#include <benchmark/benchmark.h>

#include <string>

#include "cuda_timing.h"
#include "ember.h"

namespace {

using namespace ember;

struct SdpaWorkload {
  int64_t B, H, L, d;
  bool causal, backward;
  DType dtype;
};

void run_sdpa(benchmark::State& state, SdpaWorkload w) {
  if (!bench::require_cuda_device(state)) return;
  Generator gen(0);
  const Shape shape = {w.B, w.H, w.L, w.d};
  // Drawn in float32 (the 16-bit dtypes have no random fill), rounded on the GPU.
  auto input = [&] { return randn(shape, gen, TensorOptions(DType::f32).device(Device::cuda())).to(w.dtype); };
  Tensor q = input().requires_grad_(w.backward);
  Tensor k = input().requires_grad_(w.backward);
  Tensor v = input().requires_grad_(w.backward);
  const Tensor grad_out = input();
  bench::time_on_cuda(state, [&] {
    Tensor out = scaled_dot_product_attention(q, k, v, Tensor(), 0.0, w.causal);
    if (w.backward) {
      TensorList grads = autograd::grad({out}, {q, k, v}, {grad_out});
      benchmark::DoNotOptimize(grads[0].raw_data());
    }
  });
  const double forward = 4.0 * static_cast<double>(w.B * w.H) * static_cast<double>(w.L) * static_cast<double>(w.L) *
                         static_cast<double>(w.d) * (w.causal ? 0.5 : 1.0);
  const double flops = forward * (w.backward ? 3.5 : 1.0);
  state.counters["TFLOP/s"] = benchmark::Counter(flops * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
}

// cuda_sdpa_b4h16_L4096_d{64,128}[_causal]_{fwd,fwdbwd}, bfloat16.
[[maybe_unused]] const bool sdpa_registered = [] {
  for (int64_t d : {64, 128}) {
    for (bool causal : {false, true}) {
      for (bool backward : {false, true}) {
        const std::string name = "cuda_sdpa_b4h16_L4096_d" + std::to_string(d) + (causal ? "_causal" : "") +
                                 (backward ? "_fwdbwd" : "_fwd");
        benchmark::RegisterBenchmark(name.c_str(), run_sdpa, SdpaWorkload{4, 16, 4096, d, causal, backward, DType::bf16})
            ->Unit(benchmark::kMillisecond)
            ->UseManualTime();
      }
    }
  }
  return true;
}();

// Causal linear attention, (4, 4, 4096, 64) float32, chunk 64: forward + backward.
void cuda_linear_attn_causal_b4h4_L4096_d64_fwdbwd(benchmark::State& state) {
  if (!bench::require_cuda_device(state)) return;
  Generator gen(0);
  const Shape shape = {4, 4, 4096, 64};
  const TensorOptions on_gpu = TensorOptions(DType::f32).device(Device::cuda());
  Tensor q = randn(shape, gen, on_gpu).requires_grad_(true);
  Tensor k = randn(shape, gen, on_gpu).requires_grad_(true);
  Tensor v = randn(shape, gen, on_gpu).requires_grad_(true);
  const Tensor grad_out = randn(shape, gen, on_gpu);
  LinearAttentionOptions options;
  options.chunk_size = 64;
  bench::time_on_cuda(state, [&] {
    Tensor out = linear_attention(q, k, v, options);
    TensorList grads = autograd::grad({out}, {q, k, v}, {grad_out});
    benchmark::DoNotOptimize(grads[0].raw_data());
  });
  // The chunked form's cost (ops/linear_attention.cpp core_cost) x 3.5 for forward + backward.
  const double L = 4096, C = 64, d = 64;
  const double flops = 16.0 * (2 * L * C * (d + d) + 4 * L * d * d) * 3.5;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(cuda_linear_attn_causal_b4h4_L4096_d64_fwdbwd)->Unit(benchmark::kMillisecond)->UseManualTime();

}  // namespace
