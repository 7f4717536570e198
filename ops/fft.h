// Real FFT along the last dim (any length), on the CPU through FFTW3 (Debian's libfftw3-dev).
// Ember has no complex dtype: a complex tensor is a real tensor with a trailing dim of 2
// (real, imaginary), like torch.view_as_real. Both functions are differentiable.
// Twins: ops/fft.cpp (checks, dispatch, backward), ops/cpu/fft.cpp (FFTW plans and kernels).
#pragma once
#include "engine/tensor.h"

namespace ember {

// x: (..., L) float32/float64 -> (..., n/2 + 1, 2). n defaults to L; x is zero-padded or
// truncated to n first (numpy/PyTorch semantics). Unnormalized forward transform.
Tensor rfft(const Tensor& x, int64_t n = -1);
// X: (..., F, 2) -> (..., n) real, normalized by 1/n (so irfft(rfft(x, n), n) == x).
// n defaults to 2 (F - 1). The imaginary parts of the DC and (even n) Nyquist bins are ignored,
// as in numpy/PyTorch.
Tensor irfft(const Tensor& X, int64_t n = -1);

}  // namespace ember
