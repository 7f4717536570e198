// Smoke kernels (see smoke_kernels.h). Kept thin: nvcc is slow, so everything else of the CUDA
// backend that needs no device code lives in .cpp files.
#include "cuda/check.h"
#include "cuda/smoke_kernels.h"

namespace ember::cuda {

namespace {
__global__ void fill_f32_kernel(float* data, int64_t n, float value) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) data[i] = value;
}
}  // namespace

void fill_f32_async(float* data, int64_t n, float value, Stream stream, int threads_per_block) {
  if (n <= 0) return;
  const int64_t per_block = threads_per_block > 0 ? threads_per_block : 1;  // 0 still reaches the launch check
  const int64_t wanted = (n + per_block - 1) / per_block;
  const unsigned blocks = static_cast<unsigned>(wanted < 65535 ? wanted : 65535);  // grid-stride loop covers the rest
  fill_f32_kernel<<<blocks, threads_per_block, 0, static_cast<cudaStream_t>(stream.handle)>>>(data, n, value);
  EMBER_CUDA_LAUNCH_CHECK("fill_f32");
}

}  // namespace ember::cuda
