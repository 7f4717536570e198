// rfft / irfft: argument checks, dispatch, and backward, side by side. Kernels: ops/cpu/fft.cpp
// (FFTW), cuda/fft.cpp (cuFFT). Formulas: autograd/derivatives/sequence.md.
//
// Note [Real FFT gradients]: with F = n/2 + 1 bins and θ = 2π k t / n,
//   rfft:  Re X_k = Σ_t x_t cos θ,  Im X_k = -Σ_t x_t sin θ
//          gx_t = Σ_k (gRe_k cos θ - gIm_k sin θ) = n · irfft(w ∘ G, n)_t,
//          w_k = 1 for the DC and (even n) Nyquist bins, 1/2 for the others
//          (irfft counts every other bin twice, for its conjugate twin, and ignores the imaginary
//          parts of DC and Nyquist, which is right: they multiply sin 0 = sin πt = 0).
//   irfft: y_t = (1/n) Σ_k c_k (Re X_k cos θ - Im X_k sin θ), c_k = 1 (DC, Nyquist) or 2
//          gX_k = (c_k / n) · rfft(g, n)_k, and 0 for the ignored imaginary parts.
// Padding/truncation to n is a copy whose adjoint is truncation/padding back. Both backwards
// are written with rfft/irfft, pad and mul, so every order of derivative works.
#include "ops/fft.h"

#include <cmath>

#include "autograd/function.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "cuda/fft.h"
#include "ops/cpu/fft.h"
#include "ops/elementwise.h"
#include "ops/flops.h"
#include "ops/shape.h"

namespace ember {

namespace {

// About 2.5 n log2 n real FLOPs per real transform of size n (half a complex one).
profiler::OpCost fft_cost(double rows, double n, double bytes) {
  return {rows * 2.5 * n * std::log2(std::max(n, 2.0)), bytes};
}

void check_fft_input(const char* op, const Tensor& t, const char* name) {
  check_defined(op, t, name);
  EMBER_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64, "{}: {} must be float32 or float64, got {}", op,
              name, t.describe());
}

// (F, 2) constant of `dtype`: bin k gets (weight(k), weight(k)), or 0 in the imaginary slot of the
// DC and Nyquist bins when zero_edge_imag.
Tensor bin_weights(int64_t bins, int64_t n, double edge, double middle, bool zero_edge_imag, DType dtype,
                   Device device) {
  std::vector<double> w(2 * bins);
  for (int64_t k = 0; k < bins; ++k) {
    const bool edge_bin = k == 0 || (n % 2 == 0 && k == n / 2);
    w[2 * k] = edge_bin ? edge : middle;
    w[2 * k + 1] = edge_bin && zero_edge_imag ? 0.0 : w[2 * k];
  }
  return from_vector(w, {bins, 2}).to(dtype).to(device);
}

TensorOptions options_of(const Tensor& t) { return TensorOptions(t.dtype()).device(t.device()); }

}  // namespace

Tensor rfft(const Tensor& x, int64_t n) {
  constexpr const char* kOp = "rfft";
  check_fft_input(kOp, x, "x");
  EMBER_CHECK(x.dim() >= 1, "{}: x must have at least 1 dim (..., L), got {}", kOp, x.describe());
  const int64_t length = x.size(-1);
  if (n == -1) n = length;
  EMBER_CHECK(n >= 1, "{}: the transform size n must be >= 1, got n = {} for x {}", kOp, n, x.describe());
  const int64_t bins = n / 2 + 1;
  Shape out_shape(x.sizes().begin(), x.sizes().end() - 1);
  const int64_t batch = numel_of(out_shape);
  out_shape.push_back(bins);
  out_shape.push_back(2);
  EMBER_PROFILE_OP(kOp, {x}, fft_cost(static_cast<double>(batch), static_cast<double>(n), flops::bytes_of(x) * 2));
  Tensor out = length == 0 ? zeros(out_shape, options_of(x)) : empty(out_shape, options_of(x));  // 0: n zeros
  if (length > 0 && batch > 0) {
    const Tensor xc = x.detach().contiguous();
    if (x.device().is_cuda()) {
      EMBER_CUDA_KERNEL(kOp, cuda::rfft_rows(xc, batch, length, n, out));
    } else {
      dispatch_floating(x.dtype(), kOp, [&]<class T>() {
        cpu::rfft_rows<T>(xc.data_ptr<T>(), batch, length, n, out.data_ptr<T>());
      });
    }
  }
  record_backward(kOp, {x}, {out}, {}, [n, length, bins](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    if (!g.defined()) return {Tensor()};
    const Tensor weights = bin_weights(bins, n, 1.0, 0.5, /*zero_edge_imag=*/false, g.dtype(), g.device());
    Tensor grad_padded = mul(irfft(mul(g, weights), n), static_cast<double>(n));  // (..., n)
    return {n == length ? grad_padded : pad(grad_padded, {0, length - n})};
  });
  return out;
}

Tensor irfft(const Tensor& X, int64_t n) {
  constexpr const char* kOp = "irfft";
  check_fft_input(kOp, X, "X");
  EMBER_CHECK(X.dim() >= 2 && X.size(-1) == 2,
              "{}: X must be a complex tensor as real pairs (..., F, 2), got {}", kOp, X.describe());
  const int64_t bins_in = X.size(-2);
  if (n == -1) n = 2 * (bins_in - 1);
  EMBER_CHECK(n >= 1, "{}: the output size n must be >= 1, got n = {} for X {}", kOp, n, X.describe());
  const int64_t bins = n / 2 + 1;
  Shape out_shape(X.sizes().begin(), X.sizes().end() - 2);
  const int64_t batch = numel_of(out_shape);
  out_shape.push_back(n);
  EMBER_PROFILE_OP(kOp, {X}, fft_cost(static_cast<double>(batch), static_cast<double>(n), flops::bytes_of(X) * 2));
  Tensor out = bins_in == 0 ? zeros(out_shape, options_of(X)) : empty(out_shape, options_of(X));
  if (batch > 0 && bins_in > 0) {
    const Tensor Xc = X.detach().contiguous();
    if (X.device().is_cuda()) {
      EMBER_CUDA_KERNEL(kOp, cuda::irfft_rows(Xc, batch, bins_in, n, out));
    } else {
      dispatch_floating(X.dtype(), kOp, [&]<class T>() {
        cpu::irfft_rows<T>(Xc.data_ptr<T>(), batch, bins_in, n, out.data_ptr<T>());
      });
    }
  }
  record_backward(kOp, {X}, {out}, {}, [n, bins, bins_in](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    if (!g.defined()) return {Tensor()};
    const double scale = 1.0 / static_cast<double>(n);
    const Tensor weights = bin_weights(bins, n, scale, 2.0 * scale, /*zero_edge_imag=*/true, g.dtype(), g.device());
    Tensor grad = mul(rfft(g, n), weights);  // (..., bins, 2)
    return {bins == bins_in ? grad : pad(grad, {0, 0, 0, bins_in - bins})};
  });
  return out;
}

}  // namespace ember
