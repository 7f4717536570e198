// CUDA kernels of rfft / irfft (ops/fft.h) through cuFFT: the twins of cpu::rfft_rows and
// cpu::irfft_rows (ops/cpu/fft.h) with Tensors in place of raw pointers (Note [CUDA kernel
// boundary] in cuda/layout.h). Plain C++: ops/fft.cpp includes it in every build and calls it
// only inside EMBER_CUDA_KERNEL. Implementation: cuda/fft.cpp, cuda/fft.cu, cuda/cufft_plan.cpp.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace ember::cuda {

// x: (rows, length) contiguous CUDA tensor -> spectrum: (rows, n/2 + 1, 2) (written); each row
// zero-padded or truncated to n.
void rfft_rows(const Tensor& x, int64_t rows, int64_t length, int64_t n, const Tensor& spectrum);

// spectrum: (rows, bins_in, 2) contiguous -> x: (rows, n), normalised by 1/n; bins beyond
// n/2 + 1 dropped, missing ones zero; the imaginary parts of DC and (even n) Nyquist ignored.
void irfft_rows(const Tensor& spectrum, int64_t rows, int64_t bins_in, int64_t n, const Tensor& x);

}  // namespace ember::cuda
