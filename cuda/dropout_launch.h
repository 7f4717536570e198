// Launcher of cuda/dropout.cu (raw pointers: Note [CUDA kernel boundary] in cuda/layout.h).
// Tensor side: cuda/dropout.cpp.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// mask[i] = (u_i < keep_prob) ? scale : 0, out[i] = x[i] * mask[i], with u_i the uniform of
// Philox block (seed, offset + i) drawn exactly as engine/random.cpp does (same seed, same mask
// as the CPU). x, out, mask: n contiguous elements of `type`.
void dropout_forward(void* out, void* mask, const void* x, ScalarType type, int64_t n, double keep_prob, double scale,
                     uint64_t seed, uint64_t offset, Stream stream);

}  // namespace ember::cuda
