// CPU kernels for long_conv: the fused FFT convolution over (B, L, D) and the direct O(L·K)
// loops it is tested against. Twins: ops/long_conv.cpp (API, checks, backward), ops/long_conv.h.
//
// Both compute, per channel d, y[b, t, d] = Σ_s k[d, s] · x[b, t + offset - s, d] for t in [0, L)
// (x = 0 outside [0, L)); offset 0 is the causal convolution, (K - 1) / 2 the centred one.
// Outputs are contiguous: y, grad_x (B, L, D), grad_k (D, K); so are k and the direct loops'
// inputs. The FFT kernels read x and grad_y through strides (SeqView): a transposed x or the
// expanded gradient of sum(y) needs no copy.
#pragma once
#include <cstdint>

namespace ember::cpu {

struct LongConvProblem {
  int64_t batch = 0, length = 0, channels = 0, kernel_size = 0;
  int64_t offset = 0;    // 0 (causal) or (K - 1) / 2 (centred)
  int64_t fft_size = 0;  // >= L + K - 1 (no wrap-around); the FFT kernels only
};

// A (B, L, D) array read by strides (in elements; 0 on broadcast dims).
template <class T>
struct SeqView {
  const T* data = nullptr;
  int64_t batch_stride = 0, time_stride = 0, channel_stride = 0;
};

template <class T>
void long_conv_fft_fwd(const LongConvProblem& p, SeqView<T> x, const T* k, T* y);
// grad_x and/or grad_k (null: not wanted), written, not accumulated. x is read only for grad_k,
// k only for grad_x.
template <class T>
void long_conv_fft_bwd(const LongConvProblem& p, SeqView<T> x, const T* k, SeqView<T> grad_y, T* grad_x, T* grad_k);

template <class T>
void long_conv_direct_fwd(const LongConvProblem& p, const T* x, const T* k, T* y);
template <class T>
void long_conv_direct_bwd(const LongConvProblem& p, const T* x, const T* k, const T* grad_y, T* grad_x, T* grad_k);

}  // namespace ember::cpu
