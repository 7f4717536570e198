// GPU microbenchmarks (Google Benchmark): Ember's library-backed GEMM against a raw cuBLAS call
// on the same buffers (TFLOP/s), device copies (cudaMemcpy against our copy kernel, GB/s), and
// memory-bound ops (add, layer_norm, softmax; GB/s of compulsory traffic). Every benchmark is
// timed with CUDA events around the queued work after a warm-up (manual time), and skips with
// "no CUDA device" where there is none (and in a build without CUDA).
// Yardsticks: H200 ~4.8 TB/s HBM3e, ~990 TFLOP/s dense bf16, ~67 TFLOP/s fp32 (non-tensor-core).
// Twins: test/bench/bench_matmul.cpp (CPU GEMM), cuda/matmul.cpp, cuda/copy.cu.
#include <benchmark/benchmark.h>

#include <functional>

#include "ember.h"
#include "ember_config.h"
#if EMBER_WITH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda/copy.h"
#include "cuda/math_mode.h"
#endif

namespace {

using namespace ember;

#if EMBER_WITH_CUDA

constexpr int64_t kGemmSize = 4096;
constexpr int64_t kStreamElements = int64_t{1} << 26;  // 64 Mi elements: 256 MiB of float32
constexpr int64_t kRowLength = 4096;                    // layer_norm / softmax rows

void set_rate(benchmark::State& state, const char* name, double per_iteration) {
  state.counters[name] = benchmark::Counter(per_iteration, benchmark::Counter::kIsIterationInvariantRate,
                                            benchmark::Counter::kIs1000);
}

cudaStream_t current_raw_stream() { return static_cast<cudaStream_t>(cuda::current_stream(0).handle); }

// Runs `body` (which queues work on device 0's current stream) twice to warm up (allocator
// caches, library handles, cuDNN/cuBLAS heuristics), then times each iteration with events.
void time_on_device(benchmark::State& state, const std::function<void()>& body) {
  if (cuda::device_count() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const cudaStream_t stream = current_raw_stream();
  body();
  body();
  cudaEvent_t start = nullptr, stop = nullptr;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  for (auto _ : state) {
    cudaEventRecord(start, stream);
    body();
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

bool has_device(benchmark::State& state) {
  if (cuda::device_count() > 0) return true;
  state.SkipWithError("no CUDA device");
  return false;
}

Tensor device_randn(const Shape& shape, DType dtype) {
  Generator gen(7);
  return randn(shape, gen, DType::f32).to(dtype).cuda();
}

// ---------------------------------------------------------------- GEMM 4096³
void ember_gemm(benchmark::State& state, DType dtype, bool tf32) {
  if (!has_device(state)) return;
  const Tensor a = device_randn({kGemmSize, kGemmSize}, dtype), b = device_randn({kGemmSize, kGemmSize}, dtype);
  cuda::set_allow_tf32(tf32);
  time_on_device(state, [&] { benchmark::DoNotOptimize(matmul(a, b).raw_data()); });
  cuda::set_allow_tf32(false);
  set_rate(state, "TFLOP/s", 2.0 * kGemmSize * kGemmSize * kGemmSize / 1e12);
}

// The same product as one cublasGemmEx on the same buffers, with the compute type Ember uses
// (row-major c = a·b is column-major cᵀ = bᵀ·aᵀ: Note [Row-major GEMM on column-major BLAS]).
void raw_cublas_gemm(benchmark::State& state, DType dtype, bool tf32) {
  if (!has_device(state)) return;
  const Tensor a = device_randn({kGemmSize, kGemmSize}, dtype), b = device_randn({kGemmSize, kGemmSize}, dtype);
  const Tensor c = zeros({kGemmSize, kGemmSize}, TensorOptions(dtype).device(Device::cuda()));
  const cudaDataType_t type = dtype == DType::bf16 ? CUDA_R_16BF : CUDA_R_32F;
  const cublasComputeType_t compute = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  cublasHandle_t handle = nullptr;
  cublasCreate(&handle);
  cublasSetStream(handle, current_raw_stream());
  const float alpha = 1.0f, beta = 0.0f;
  const int n = static_cast<int>(kGemmSize);
  cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
  time_on_device(state, [&] {
    status = cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, b.raw_data(), type, n, a.raw_data(),
                          type, n, &beta, c.raw_data(), type, n, compute, CUBLAS_GEMM_DEFAULT);
  });
  cublasDestroy(handle);
  if (status != CUBLAS_STATUS_SUCCESS) state.SkipWithError(cublasGetStatusString(status));
  set_rate(state, "TFLOP/s", 2.0 * kGemmSize * kGemmSize * kGemmSize / 1e12);
}

// ---------------------------------------------------------------- device copies
void copy_memcpy(benchmark::State& state) {
  if (!has_device(state)) return;
  const Tensor src = device_randn({kStreamElements}, DType::f32), dst = empty_like(src);
  const size_t bytes = static_cast<size_t>(kStreamElements) * sizeof(float);
  time_on_device(state, [&] {
    cudaMemcpyAsync(dst.raw_data(), src.raw_data(), bytes, cudaMemcpyDeviceToDevice, current_raw_stream());
  });
  set_rate(state, "GB/s", 2.0 * static_cast<double>(bytes) / 1e9);  // read + write
}

// cuda/copy.cu's strided kernel on a dense layout marked non-contiguous, so the kernel (not
// cudaMemcpyAsync) runs: the cost of the grid-stride loop and offset arithmetic.
void copy_kernel(benchmark::State& state) {
  if (!has_device(state)) return;
  const Tensor src = device_randn({kStreamElements}, DType::f32), dst = empty_like(src);
  cuda::StridedLayout layout;
  layout.ndim = 1;
  layout.numel = kStreamElements;
  layout.sizes[0] = kStreamElements;
  layout.strides[0] = 1;
  layout.contiguous = false;
  time_on_device(state, [&] {
    cuda::copy_strided(dst.raw_data(), cuda::ScalarType::f32, layout, src.raw_data(), cuda::ScalarType::f32, layout,
                       cuda::current_stream(0));
  });
  set_rate(state, "GB/s", 2.0 * static_cast<double>(kStreamElements) * sizeof(float) / 1e9);
}

// A transposed (non-contiguous) source made dense: the strided kernel on a real permutation.
void copy_transpose(benchmark::State& state) {
  if (!has_device(state)) return;
  const Tensor src = device_randn({8192, 8192}, DType::f32);
  time_on_device(state, [&] { benchmark::DoNotOptimize(src.t().contiguous().raw_data()); });
  set_rate(state, "GB/s", 2.0 * 8192.0 * 8192.0 * sizeof(float) / 1e9);
}

// ---------------------------------------------------------------- memory-bound ops
void add_f32(benchmark::State& state) {
  if (!has_device(state)) return;
  const Tensor a = device_randn({kStreamElements}, DType::f32), b = device_randn({kStreamElements}, DType::f32);
  time_on_device(state, [&] { benchmark::DoNotOptimize(add(a, b).raw_data()); });
  set_rate(state, "GB/s", 3.0 * static_cast<double>(kStreamElements) * sizeof(float) / 1e9);
}

void layer_norm_f32(benchmark::State& state) {
  if (!has_device(state)) return;
  const Tensor x = device_randn({kStreamElements / kRowLength, kRowLength}, DType::f32);
  const Tensor weight = device_randn({kRowLength}, DType::f32), bias = device_randn({kRowLength}, DType::f32);
  time_on_device(state, [&] { benchmark::DoNotOptimize(layer_norm(x, {kRowLength}, weight, bias).raw_data()); });
  set_rate(state, "GB/s", 2.0 * static_cast<double>(kStreamElements) * sizeof(float) / 1e9);
}

void softmax_f32(benchmark::State& state) {
  if (!has_device(state)) return;
  const Tensor x = device_randn({kStreamElements / kRowLength, kRowLength}, DType::f32);
  time_on_device(state, [&] { benchmark::DoNotOptimize(softmax(x, -1).raw_data()); });
  set_rate(state, "GB/s", 2.0 * static_cast<double>(kStreamElements) * sizeof(float) / 1e9);
}

#else  // built without CUDA: every benchmark skips

void skip(benchmark::State& state) { state.SkipWithError("no CUDA device"); }
void ember_gemm(benchmark::State& state, DType, bool) { skip(state); }
void raw_cublas_gemm(benchmark::State& state, DType, bool) { skip(state); }
void copy_memcpy(benchmark::State& state) { skip(state); }
void copy_kernel(benchmark::State& state) { skip(state); }
void copy_transpose(benchmark::State& state) { skip(state); }
void add_f32(benchmark::State& state) { skip(state); }
void layer_norm_f32(benchmark::State& state) { skip(state); }
void softmax_f32(benchmark::State& state) { skip(state); }

#endif

void cuda_gemm_4096_f32(benchmark::State& state) { ember_gemm(state, DType::f32, false); }
void cuda_gemm_4096_tf32(benchmark::State& state) { ember_gemm(state, DType::f32, true); }
void cuda_gemm_4096_bf16(benchmark::State& state) { ember_gemm(state, DType::bf16, false); }
void cublas_gemm_4096_f32(benchmark::State& state) { raw_cublas_gemm(state, DType::f32, false); }
void cublas_gemm_4096_tf32(benchmark::State& state) { raw_cublas_gemm(state, DType::f32, true); }
void cublas_gemm_4096_bf16(benchmark::State& state) { raw_cublas_gemm(state, DType::bf16, false); }
void cuda_copy_memcpy_256mib(benchmark::State& state) { copy_memcpy(state); }
void cuda_copy_kernel_256mib(benchmark::State& state) { copy_kernel(state); }
void cuda_copy_transpose_8192(benchmark::State& state) { copy_transpose(state); }
void cuda_add_f32_64mi(benchmark::State& state) { add_f32(state); }
void cuda_layer_norm_f32_16384x4096(benchmark::State& state) { layer_norm_f32(state); }
void cuda_softmax_f32_16384x4096(benchmark::State& state) { softmax_f32(state); }

#define EMBER_CUDA_BENCHMARK(fn) BENCHMARK(fn)->UseManualTime()->Unit(benchmark::kMillisecond)
EMBER_CUDA_BENCHMARK(cuda_gemm_4096_f32);
EMBER_CUDA_BENCHMARK(cublas_gemm_4096_f32);
EMBER_CUDA_BENCHMARK(cuda_gemm_4096_tf32);
EMBER_CUDA_BENCHMARK(cublas_gemm_4096_tf32);
EMBER_CUDA_BENCHMARK(cuda_gemm_4096_bf16);
EMBER_CUDA_BENCHMARK(cublas_gemm_4096_bf16);
EMBER_CUDA_BENCHMARK(cuda_copy_memcpy_256mib);
EMBER_CUDA_BENCHMARK(cuda_copy_kernel_256mib);
EMBER_CUDA_BENCHMARK(cuda_copy_transpose_8192);
EMBER_CUDA_BENCHMARK(cuda_add_f32_64mi);
EMBER_CUDA_BENCHMARK(cuda_layer_norm_f32_16384x4096);
EMBER_CUDA_BENCHMARK(cuda_softmax_f32_16384x4096);
#undef EMBER_CUDA_BENCHMARK

}  // namespace
