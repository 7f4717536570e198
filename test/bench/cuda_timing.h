// GPU benchmark timing (Google Benchmark): CUDA events around each iteration on the device's
// current stream, reported with state.SetIterationTime (register the benchmark with
// ->UseManualTime()), after one untimed warm-up call. Without a device (or without CUDA) the
// benchmark is skipped with SkipWithError, never timed. Used by bench_cuda_attention.cpp; any
// GPU benchmark file may include it.
#pragma once
#include <benchmark/benchmark.h>

#include <utility>

#include "cuda/runtime.h"
#include "ember_config.h"

#if EMBER_WITH_CUDA
#include "cuda/check.h"
#endif

namespace ember::bench {

// True when cuda:0 exists; otherwise marks the benchmark skipped and returns false.
inline bool require_cuda_device(benchmark::State& state) {
  if (cuda::device_count() > 0) return true;
  state.SkipWithError(EMBER_WITH_CUDA ? "no CUDA device" : "built without CUDA");
  return false;
}

// Times body() per iteration with CUDA events on cuda:0's current stream. The elapsed time is
// the stream's, so host work that keeps the GPU waiting (graph building, allocation) is counted
// as it would be in a training step.
template <class F> void time_on_cuda(benchmark::State& state, F&& body) {
#if EMBER_WITH_CUDA
  const cudaStream_t stream = static_cast<cudaStream_t>(cuda::current_stream(0).handle);
  body();  // warm-up: module loading, the caching allocator's first blocks
  cuda::synchronize_device(0);
  cudaEvent_t start = nullptr, stop = nullptr;
  EMBER_CUDA_CHECK(cudaEventCreate(&start));
  EMBER_CUDA_CHECK(cudaEventCreate(&stop));
  for (auto _ : state) {
    EMBER_CUDA_CHECK(cudaEventRecord(start, stream));
    body();
    EMBER_CUDA_CHECK(cudaEventRecord(stop, stream));
    EMBER_CUDA_CHECK(cudaEventSynchronize(stop));
    float milliseconds = 0;
    EMBER_CUDA_CHECK(cudaEventElapsedTime(&milliseconds, start, stop));
    state.SetIterationTime(static_cast<double>(milliseconds) * 1e-3);
  }
  EMBER_CUDA_CHECK(cudaEventDestroy(start));
  EMBER_CUDA_CHECK(cudaEventDestroy(stop));
#else
  (void)body;
  state.SkipWithError("built without CUDA");
#endif
}

}  // namespace ember::bench
