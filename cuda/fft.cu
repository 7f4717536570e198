// Staging kernels for the real FFTs (launchers in cuda/fft_launch.h); the transforms themselves
// are cuFFT's (cuda/cufft_plan.cpp). CPU twin: ops/cpu/fft.cpp (rfft_rows / irfft_rows).
#include "cuda/fft_launch.h"
#include "cuda/kernel_util.cuh"

namespace ember::cuda {

namespace {

template <class T>
__global__ void pad_rows_kernel(const T* x, int64_t rows, int64_t length, int64_t n, T* out) {
  const int64_t total = rows * n;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t r = i / n, t = i % n;
    out[i] = t < length ? x[r * length + t] : T(0);
  }
}

template <class T>
__global__ void stage_spectrum_kernel(const T* spectrum, int64_t rows, int64_t bins_in, int64_t n, T scale, T* out) {
  const int64_t bins = n / 2 + 1, total = rows * bins;
  for (int64_t i = global_thread_index(); i < total; i += global_thread_count()) {
    const int64_t r = i / bins, f = i % bins;
    T re = T(0), im = T(0);
    if (f < bins_in) {
      re = spectrum[2 * (r * bins_in + f)];
      im = spectrum[2 * (r * bins_in + f) + 1];
    }
    if (f == 0 || (n % 2 == 0 && f == n / 2)) im = T(0);
    out[2 * i] = scale * re;
    out[2 * i + 1] = scale * im;
  }
}

// float and double only: cuFFT's real transforms.
template <class F> void dispatch_fft_type(ScalarType type, const char* op, F&& f) {
  if (type == ScalarType::f32) return f.template operator()<float>();
  if (type == ScalarType::f64) return f.template operator()<double>();
  detail::kernel_error(op, "expected float32 or float64");
}

}  // namespace

void pad_rows(const void* x, ScalarType type, int64_t rows, int64_t length, int64_t n, void* out, Stream stream) {
  if (rows * n == 0) return;
  dispatch_fft_type(type, "fft pad", [&]<class T>() {
    pad_rows_kernel<T><<<grid_for(rows * n), 256, 0, raw_stream(stream)>>>(static_cast<const T*>(x), rows, length, n,
                                                                          static_cast<T*>(out));
  });
  EMBER_CUDA_LAUNCH_CHECK("fft pad");
}

void stage_spectrum(const void* spectrum, ScalarType type, int64_t rows, int64_t bins_in, int64_t n, double scale,
                    void* out, Stream stream) {
  const int64_t total = rows * (n / 2 + 1);
  if (total == 0) return;
  dispatch_fft_type(type, "irfft stage", [&]<class T>() {
    stage_spectrum_kernel<T><<<grid_for(total), 256, 0, raw_stream(stream)>>>(
        static_cast<const T*>(spectrum), rows, bins_in, n, static_cast<T>(scale), static_cast<T*>(out));
  });
  EMBER_CUDA_LAUNCH_CHECK("irfft stage");
}

}  // namespace ember::cuda
