// The smallest kernels of the CUDA backend (cuda/smoke_kernels.cu): they prove the nvcc build and
// let the runtime tests exercise launches, launch checks and allocator memory on a real device.
// In a build without CUDA they raise "built without CUDA" (runtime_nocuda.cpp).
#pragma once
#include <cstdint>

#include "cuda/runtime.h"

namespace ember::cuda {

// data[i] = value for i < n, queued on `stream`; threads_per_block is exposed so a test can ask
// for an impossible launch (> 1024) and see EMBER_CUDA_LAUNCH_CHECK report it.
void fill_f32_async(float* data, int64_t n, float value, Stream stream, int threads_per_block = 256);

}  // namespace ember::cuda
