// cuda/long_conv.h: the FFT long convolution on the GPU (Note [Long conv by FFT] in
// ops/cpu/long_conv.cpp), as the CPU runs it but over all B·D channel rows at once:
//   forward:  Kf = R2C(pad(k)) once per call; X = R2C(gather(x)); X *= Kf (per row d);
//             rows = C2R(X); y = scatter(rows, shift offset, 1/N)
//   backward: G = R2C(gather(g));
//             grad_x: C2R(G · conj(Kf)) scattered with shift -offset;
//             grad_k: X = R2C(gather(x)); A[d] = Σ_b G[b, d] conj(X[b, d]) (in batch order);
//                     C2R(A) read at (s - offset) mod N.
// Scratch rows are (B·D, N) tensors from the device's caching allocator (stream-ordered).
#include "cuda/long_conv.h"

#include "cuda/cufft_plan.h"
#include "cuda/fft_launch.h"
#include "cuda/long_conv_launch.h"
#include "cuda/tensor_args.h"
#include "cuda/tensor_copy.h"

namespace ember::cuda {

namespace {

SeqStrides strides_of(const Tensor& t) { return {t.stride(0), t.stride(1), t.stride(2)}; }

struct Context {
  const cpu::LongConvProblem& p;
  ScalarType type;
  Stream stream;
  Tensor like;  // dtype and device of the scratch tensors
  int64_t bins() const { return p.fft_size / 2 + 1; }
  Tensor scratch(const Shape& sizes) const { return make_tensor(sizes, like.dtype(), like.device()); }
};

// The spectra of the kernel rows zero-padded to N: (D, bins, 2).
Tensor kernel_spectra(const Context& c, const Tensor& k) {
  const cpu::LongConvProblem& p = c.p;
  Tensor rows = c.scratch({p.channels, p.fft_size});
  pad_rows(k.raw_data(), c.type, p.channels, p.kernel_size, p.fft_size, rows.raw_data(), c.stream);
  Tensor spectra = c.scratch({p.channels, c.bins(), 2});
  run_real_fft(FftDirection::forward, c.type, p.fft_size, p.channels, rows.raw_data(), spectra.raw_data(), c.stream);
  return spectra;
}

// The spectra of the channel rows of a (B, L, D) tensor zero-padded to N: (B·D, bins, 2). `rows`
// receives the padded rows ((B·D, N), reusable by the caller afterwards).
Tensor sequence_spectra(const Context& c, const Tensor& t, const Tensor& rows) {
  const cpu::LongConvProblem& p = c.p;
  gather_channel_rows(t.raw_data(), strides_of(t), c.type, p.batch, p.length, p.channels, p.fft_size, rows.raw_data(),
                      c.stream);
  Tensor spectra = c.scratch({p.batch * p.channels, c.bins(), 2});
  run_real_fft(FftDirection::forward, c.type, p.fft_size, p.batch * p.channels, rows.raw_data(), spectra.raw_data(),
               c.stream);
  return spectra;
}

}  // namespace

void long_conv_fft_fwd(const cpu::LongConvProblem& p, const Tensor& x, const Tensor& k, const Tensor& y) {
  const int device = common_cuda_device("long_conv", {&x, &k, &y});
  DeviceGuard guard(device);
  if (p.batch * p.channels * p.length == 0) return;
  const Context c{p, scalar_type(x.dtype()), stream_of(x), x};
  const int64_t rows = p.batch * p.channels;
  const Tensor kf = kernel_spectra(c, k);
  Tensor real = c.scratch({rows, p.fft_size});
  Tensor spectra = sequence_spectra(c, x, real);
  complex_multiply_rows(spectra.raw_data(), kf.raw_data(), c.type, rows, p.channels, c.bins(), false,
                        spectra.raw_data(), c.stream);
  run_real_fft(FftDirection::inverse, c.type, p.fft_size, rows, spectra.raw_data(), real.raw_data(), c.stream);
  scatter_channel_rows(real.raw_data(), c.type, p.batch, p.length, p.channels, p.fft_size, p.offset,
                       1.0 / static_cast<double>(p.fft_size), y.raw_data(), c.stream);
}

void long_conv_fft_bwd(const cpu::LongConvProblem& p, const Tensor& x, const Tensor& k, const Tensor& grad_y,
                       const Tensor& grad_x, const Tensor& grad_k) {
  const int device = common_cuda_device("long_conv backward", {&x, &k, &grad_y, &grad_x, &grad_k});
  DeviceGuard guard(device);
  const Context c{p, scalar_type(grad_y.dtype()), stream_of(grad_y), grad_y};
  const double scale = 1.0 / static_cast<double>(p.fft_size);
  if (p.batch * p.channels == 0 || p.length == 0) {
    if (grad_k.defined()) fill_tensor(grad_k, 0.0);
    return;
  }
  const int64_t rows = p.batch * p.channels;
  Tensor real = c.scratch({rows, p.fft_size});
  const Tensor g_spectra = sequence_spectra(c, grad_y, real);
  if (grad_x.defined()) {
    const Tensor kf = kernel_spectra(c, k);
    Tensor product = c.scratch({rows, c.bins(), 2});
    complex_multiply_rows(g_spectra.raw_data(), kf.raw_data(), c.type, rows, p.channels, c.bins(), true,
                          product.raw_data(), c.stream);
    run_real_fft(FftDirection::inverse, c.type, p.fft_size, rows, product.raw_data(), real.raw_data(), c.stream);
    scatter_channel_rows(real.raw_data(), c.type, p.batch, p.length, p.channels, p.fft_size, -p.offset, scale,
                         grad_x.raw_data(), c.stream);
  }
  if (grad_k.defined()) {
    const Tensor x_spectra = sequence_spectra(c, x, real);
    Tensor summed = c.scratch({p.channels, c.bins(), 2});
    batch_sum_conj_products(g_spectra.raw_data(), x_spectra.raw_data(), c.type, p.batch, p.channels, c.bins(),
                            summed.raw_data(), c.stream);
    Tensor kernel_rows = c.scratch({p.channels, p.fft_size});
    run_real_fft(FftDirection::inverse, c.type, p.fft_size, p.channels, summed.raw_data(), kernel_rows.raw_data(),
                 c.stream);
    extract_kernel_taps(kernel_rows.raw_data(), c.type, p.channels, p.fft_size, p.kernel_size, p.offset, scale,
                        grad_k.raw_data(), c.stream);
  }
}

}  // namespace ember::cuda
