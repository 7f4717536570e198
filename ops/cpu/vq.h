// CPU kernels for the vector-quantization ops: the tiled nearest-codeword search.
// Twins: ops/vq.cpp (API, checks, backward), ops/vq.h, docs/VQ.md (Note [Fused nearest search]).
#pragma once
#include <cstdint>

namespace ember::cpu {

// z: (N, D), codebook: (K, D), both contiguous -> indices (N), distances (N).
// indices[n] = argmin_k ||z_n - c_k||² computed as ||c_k||² - 2 z_n·c_k (ties: the lowest k);
// distances[n] = Σ_d (z_nd - c_{indices[n], d})², recomputed exactly for the chosen code.
template <class T>
void vq_nearest(int64_t N, int64_t K, int64_t D, const T* z, const T* codebook, int64_t* indices, T* distances);

// counts[k] = #{n : indices[n] == k}; indices must already be in [0, K).
void vq_code_counts(int64_t N, int64_t K, const int64_t* indices, int64_t* counts);

}  // namespace ember::cpu
