// GPU benchmarks for the sequence kernels (cuda/long_conv.cpp over cuFFT, cuda/vq.cu): the CUDA
// twins of long_conv_fft_b4_c256_L16384_fwdbwd (bench_seq_conv.cpp) and
// vq_nearest_n65536_k512_d384 (bench_vq.cpp). Timed with CUDA events around each step on the
// current stream (state.SetIterationTime, UseManualTime), after one warm-up step that makes the
// cuFFT plans and fills the caching allocator. Without a device: SkipWithError("no CUDA device").
// Counters: long conv: GB/s over the minimal traffic (x, k, y, the gradients, read/written once);
// vq: TFLOP/s over the 2·N·K·D multiply-adds of the distances.
#include <benchmark/benchmark.h>

#include "cuda/runtime.h"
#include "ember.h"
#include "ember_config.h"

#if EMBER_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace {

using namespace ember;

#if EMBER_WITH_CUDA
// Seconds taken on the device's current stream by step().
template <class F>
double device_seconds(F&& step) {
  cudaStream_t stream = static_cast<cudaStream_t>(cuda::current_stream(0).handle);
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  cudaEventRecord(start, stream);
  step();
  cudaEventRecord(stop, stream);
  cudaEventSynchronize(stop);
  float ms = 0.0f;
  cudaEventElapsedTime(&ms, start, stop);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return static_cast<double>(ms) * 1e-3;
}
#endif

bool skip_without_device(benchmark::State& state) {
  if (cuda::device_count() > 0) return false;
  state.SkipWithError("no CUDA device");
  return true;
}

// x: (4, 16384, 256) float32 on cuda:0, k: (256, 16384); forward + backward of sum(y).
void cuda_long_conv_fft_b4_c256_L16384_fwdbwd(benchmark::State& state) {
  if (skip_without_device(state)) return;
#if EMBER_WITH_CUDA
  Generator gen(0);
  Tensor x = randn({4, 16384, 256}, gen).cuda().requires_grad_(true);
  Tensor k = mul(randn({256, 16384}, gen), 0.01).cuda().detach().requires_grad_(true);
  auto step = [&] {
    TensorList grads = autograd::grad({sum(long_conv(x, k, /*causal=*/true))}, {x, k});
    benchmark::DoNotOptimize(grads[0].raw_data());
  };
  step();  // plans, allocator
  cuda::synchronize_device(0);
  for (auto _ : state) state.SetIterationTime(device_seconds(step));
  // x, y, grad_y, grad_x (B·L·D each) and k, grad_k (D·K each), 4 bytes.
  const double bytes = 4.0 * (4.0 * 4 * 16384 * 256 + 2.0 * 256 * 16384);
  state.counters["GB/s"] = benchmark::Counter(bytes * static_cast<double>(state.iterations()) * 1e-9,
                                              benchmark::Counter::kIsRate);
#endif
}
BENCHMARK(cuda_long_conv_fft_b4_c256_L16384_fwdbwd)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(20);

// z: (65536, 384) float32, codebook (512, 384) on cuda:0; indices + distances.
void cuda_vq_nearest_n65536_k512_d384(benchmark::State& state) {
  if (skip_without_device(state)) return;
#if EMBER_WITH_CUDA
  Generator gen(0);
  Tensor z = randn({65536, 384}, gen).cuda();
  Tensor codebook = randn({512, 384}, gen).cuda();
  auto step = [&] {
    NearestCodes codes = vq_nearest(z, codebook);
    benchmark::DoNotOptimize(codes.indices.raw_data());
  };
  step();
  cuda::synchronize_device(0);
  for (auto _ : state) state.SetIterationTime(device_seconds(step));
  const double flops = 2.0 * 65536 * 512 * 384;
  state.counters["TFLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()) * 1e-12,
                                                 benchmark::Counter::kIsRate);
#endif
}
BENCHMARK(cuda_vq_nearest_n65536_k512_d384)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(50);

}  // namespace
