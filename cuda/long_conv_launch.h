// Launchers of cuda/long_conv.cu: the data movement and spectrum products around cuFFT for the
// FFT long convolution (Note [Long conv by FFT] in ops/cpu/long_conv.cpp). Raw pointers (Note
// [CUDA kernel boundary] in cuda/layout.h); driven by cuda/long_conv.cpp.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// A (B, L, D) array by element strides (0 on broadcast dims).
struct SeqStrides {
  int64_t batch = 0, time = 0, channel = 0;
};

// rows[(b·D + d)·N + t] = src[b, t, d] for t < L, 0 for L <= t < N. (B·D, N) contiguous.
void gather_channel_rows(const void* src, SeqStrides strides, ScalarType type, int64_t B, int64_t L, int64_t D,
                         int64_t N, void* rows, Stream stream);
// dst[b, t, d] = scale · rows[(b·D + d)·N + ((t + shift) mod N)] for t < L; dst (B, L, D) contiguous.
void scatter_channel_rows(const void* rows, ScalarType type, int64_t B, int64_t L, int64_t D, int64_t N,
                          int64_t shift, double scale, void* dst, Stream stream);
// out[r, f] = a[r, f] · b[r mod b_rows, f] (conj_b: · conj(b[...])) over (rows, bins) interleaved
// complex values; out may be a.
void complex_multiply_rows(const void* a, const void* b, ScalarType type, int64_t rows, int64_t b_rows, int64_t bins,
                           bool conj_b, void* out, Stream stream);
// out[d, f] = Σ_b a[b·D + d, f] · conj(c[b·D + d, f]) (complex, (D, bins)): the batch sum of the
// kernel gradient, in batch order (deterministic).
void batch_sum_conj_products(const void* a, const void* c, ScalarType type, int64_t B, int64_t D, int64_t bins,
                             void* out, Stream stream);
// grad_k[d, s] = scale · rows[d·N + ((s - offset) mod N)] for s < K; grad_k (D, K) contiguous.
void extract_kernel_taps(const void* rows, ScalarType type, int64_t D, int64_t N, int64_t K, int64_t offset,
                         double scale, void* grad_k, Stream stream);

}  // namespace ember::cuda
