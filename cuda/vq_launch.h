// Launchers of cuda/vq.cu: the fused nearest-codeword search, the straight-through gather and the
// code histogram (raw pointers, Note [CUDA kernel boundary] in cuda/layout.h). Driven by
// cuda/vq.cpp. CPU twin: ops/cpu/vq.cpp.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// z (N, D), codebook (K, D) contiguous -> indices (N) int64, distances (N); code_norms: (K)
// scratch of z's type. Ties go to the lowest index (Note [Fused nearest search] in ops/cpu/vq.cpp).
void vq_nearest_search(ScalarType type, int64_t N, int64_t K, int64_t D, const void* z, const void* codebook,
                       void* code_norms, int64_t* indices, void* distances, Stream stream);

// out (N, D) = codebook[indices[n]] (contiguous). An index outside [0, K) writes zeros and
// records its position: *first_bad = the smallest such n (left alone when all are valid; the
// caller sets it to UINT64_MAX first).
void vq_gather_codes(ScalarType type, int64_t N, int64_t K, int64_t D, const void* codebook, const int64_t* indices,
                     void* out, unsigned long long* first_bad, Stream stream);

// counts (K) int64 (zeroed here) += 1 per index; out-of-range indices are skipped and recorded in
// *first_bad as above. Integer atomics: the counts do not depend on the order.
void vq_count_codes(int64_t N, int64_t K, const int64_t* indices, int64_t* counts, unsigned long long* first_bad,
                    Stream stream);

}  // namespace ember::cuda
