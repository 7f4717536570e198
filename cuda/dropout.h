// CUDA twin of ops/cpu/dropout.h (same name and signature; tensors on one CUDA device).
// ops/dropout.cpp picks it with EMBER_CUDA_KERNEL. Kernel: cuda/dropout.cu.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace ember::cuda {

void dropout_fwd(const Tensor& out, const Tensor& mask, const Tensor& x, double keep_prob, double scale,
                 uint64_t seed, uint64_t offset);

}  // namespace ember::cuda
