// Batched real FFTs on the GPU through cuFFT: the plan cache and EMBER_CUFFT_CHECK. Used by the
// g++ side of the FFT families (cuda/fft.cpp, cuda/long_conv.cpp); built only with CUDA.
// CPU twin: ops/cpu/fft.h (FFTW's RealFft and its plan cache, Note [FFTW plans]).
//
// Note [cuFFT plans]: a plan is made once per (n, batch, dtype, direction, device) with
// cufftPlanMany (basic layout: rows of n reals / n/2 + 1 interleaved complex values, back to
// back) and kept; each run sets the caller's stream on it (cufftSetStream) and queues the
// transform there, under the cache's mutex (a cuFFT plan is not safe to share between threads
// that set different streams). Row counts above what one plan may address (int sizes) are run as
// several batches. The cache holds at most kMaxPlans plans: when full, the devices are
// synchronized (no queued transform may still use a plan) and every plan is destroyed, so a
// model that cycles through a handful of shapes never re-plans and one that sweeps shapes stays
// bounded. cuFFT results do not depend on timing: a plan always runs the same kernels.
#pragma once
#include <cufft.h>

#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

namespace detail {
[[noreturn]] void throw_cufft_error(cufftResult result, const char* call, const char* file, int line);
}  // namespace detail

// Throws ember::Error naming the call, cuFFT's error name and file:line.
#define EMBER_CUFFT_CHECK(call)                                                             \
  do {                                                                                      \
    const cufftResult ember_cufft_result_ = (call);                                         \
    if (ember_cufft_result_ != CUFFT_SUCCESS) [[unlikely]] {                                \
      ::ember::cuda::detail::throw_cufft_error(ember_cufft_result_, #call, __FILE__, __LINE__); \
    }                                                                                       \
  } while (0)

enum class FftDirection { forward, inverse };

// The unnormalised real transforms of size n over `rows` rows, on `stream` of its device:
//   forward: in (rows, n) reals -> out (rows, n/2 + 1, 2);  in is kept.
//   inverse: in (rows, n/2 + 1, 2) -> out (rows, n) reals;  in is overwritten (cuFFT's C2R).
// type: f32 (R2C / C2R) or f64 (D2Z / Z2D). Pointers: device memory aligned to the complex type.
// n = 1 is two strided copies (no plan).
void run_real_fft(FftDirection direction, ScalarType type, int64_t n, int64_t rows, void* in, void* out, Stream stream);

// Plans held by the cache (for tests and the docs' claims).
int64_t cached_fft_plan_count();

}  // namespace ember::cuda
