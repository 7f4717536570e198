// cuda/fft.h: rfft/irfft rows on the GPU. rfft: cuFFT R2C/D2Z straight from x when its rows
// already have n values, else from a zero-padded/truncated copy; irfft: a staged copy of the
// spectrum (cuFFT's C2R overwrites its input; the copy also applies the truncation/padding, the
// DC/Nyquist rule and the 1/n scale), then C2R/Z2D. Twin: ops/cpu/fft.cpp.
#include "cuda/fft.h"

#include "cuda/cufft_plan.h"
#include "cuda/fft_launch.h"
#include "cuda/tensor_args.h"

namespace ember::cuda {

void rfft_rows(const Tensor& x, int64_t rows, int64_t length, int64_t n, const Tensor& spectrum) {
  const int device = common_cuda_device("rfft", {&x, &spectrum});
  DeviceGuard guard(device);
  const Stream stream = stream_of(x);
  const ScalarType type = scalar_type(x.dtype());
  if (rows == 0) return;
  Tensor staged = x;
  if (length != n) {
    staged = make_tensor({rows, n}, x.dtype(), x.device());
    pad_rows(x.raw_data(), type, rows, length, n, staged.raw_data(), stream);
  }
  run_real_fft(FftDirection::forward, type, n, rows, staged.raw_data(), spectrum.raw_data(), stream);
}

void irfft_rows(const Tensor& spectrum, int64_t rows, int64_t bins_in, int64_t n, const Tensor& x) {
  const int device = common_cuda_device("irfft", {&spectrum, &x});
  DeviceGuard guard(device);
  const Stream stream = stream_of(x);
  const ScalarType type = scalar_type(x.dtype());
  if (rows == 0) return;
  Tensor staged = make_tensor({rows, n / 2 + 1, 2}, x.dtype(), x.device());
  stage_spectrum(spectrum.raw_data(), type, rows, bins_in, n, 1.0 / static_cast<double>(n), staged.raw_data(), stream);
  run_real_fft(FftDirection::inverse, type, n, rows, staged.raw_data(), x.raw_data(), stream);
}

}  // namespace ember::cuda
