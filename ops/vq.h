// Vector quantization ops: nearest-codeword search fused with the distance computation (no N×K
// buffer beyond a tile), the straight-through quantize, and the codebook statistics the VQ
// modules (models/nn/vq.h) build on.
// Twins: ops/vq.cpp (checks, dispatch, backward), ops/cpu/vq.cpp (kernels), docs/VQ.md.
#pragma once
#include "engine/tensor.h"

namespace ember {

struct NearestCodes {
  Tensor indices;    // (N) int64: argmin_k ||z_n - c_k||² (ties: the lowest k)
  Tensor distances;  // (N) the minimal squared distance, z's dtype
};
// z: (N, D), codebook: (K, D). Not differentiable (indices); use vq_quantize for gradients.
NearestCodes vq_nearest(const Tensor& z, const Tensor& codebook);

// The straight-through quantize: z (..., D) (the (N, D) of vq_nearest or any batch shape), indices
// z's shape without D; forward returns codebook[indices] in z's shape; backward passes the
// output gradient to z unchanged (the straight-through estimator), and gives the codebook no
// gradient (the codebook is learned by the codebook loss or by EMA updates).
Tensor vq_quantize_st(const Tensor& z, const Tensor& codebook, const Tensor& indices);

// Counts of each code among indices: (K) int64.
Tensor vq_code_counts(const Tensor& indices, int64_t K);
// exp(entropy) of the code distribution in counts (K): K when every code is used equally.
double vq_perplexity(const Tensor& counts);

}  // namespace ember
