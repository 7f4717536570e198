// Launchers of cuda/fft.cu: the staging kernels around cuFFT's real transforms (raw pointers,
// Note [CUDA kernel boundary] in cuda/layout.h). Called by cuda/fft.cpp and cuda/long_conv.cpp.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// x: (rows, length) contiguous -> out: (rows, n), each row truncated or zero-padded to n.
void pad_rows(const void* x, ScalarType type, int64_t rows, int64_t length, int64_t n, void* out, Stream stream);

// spectrum: (rows, bins_in, 2) contiguous -> out: (rows, bins, 2) ready for a size-n C2R
// (bins = n/2 + 1): rows truncated or zero-padded to bins, the imaginary parts of bin 0 and
// (even n) bin n/2 zeroed (numpy/PyTorch ignore them), every value times `scale`.
void stage_spectrum(const void* spectrum, ScalarType type, int64_t rows, int64_t bins_in, int64_t n, double scale,
                    void* out, Stream stream);

}  // namespace ember::cuda
