// CUDA kernels of the vector-quantization ops (ops/vq.h): the twins of cpu::vq_nearest and
// cpu::vq_code_counts (ops/cpu/vq.h) with Tensors in place of raw pointers, and the
// straight-through gather (on the CPU an index_select). Plain C++ (Note [CUDA kernel boundary]
// in cuda/layout.h). Implementation: cuda/vq.cpp, cuda/vq.cu (Note [CUDA nearest search]).
#pragma once
#include "engine/tensor.h"

namespace ember::cuda {

// z: (N, D), codebook: (K, D), contiguous -> indices (N) int64, distances (N) (written).
void vq_nearest(const Tensor& z, const Tensor& codebook, const Tensor& indices, const Tensor& distances);

// out (N, D) contiguous = codebook[indices] for indices (N) int64 contiguous; an index outside
// [0, K) raises ember::Error naming `op`, the index and its position (one 8-byte read-back).
void vq_gather_codes(const char* op, const Tensor& codebook, const Tensor& indices, const Tensor& out);

// counts (K) int64 = the histogram of indices (any shape, contiguous); out-of-range indices raise
// as above.
void vq_code_counts(const char* op, const Tensor& indices, int64_t K, const Tensor& counts);

}  // namespace ember::cuda
