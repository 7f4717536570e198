// CPU kernels for long_conv: the fused FFT convolution (forward and backward) and the direct
// O(L·K) loops. Twins: ops/cpu/long_conv.h (the sums), ops/long_conv.cpp, ops/cpu/fft.h (plans).
//
// Note [Long conv by FFT]: with N >= L + K - 1 the circular convolution of the zero-padded rows
// equals the linear one, so per channel (F = FFT of size N, spectra multiplied bin by bin)
//   y[t]     = F⁻¹(X · Kf)[t + offset]                               (forward)
//   gx[u]    = F⁻¹(G · conj(Kf))[(u - offset) mod N]                 (correlation of g with k)
//   gk[s]    = F⁻¹(Σ_b G_b · conj(X_b))[(s - offset) mod N]           (correlation of g with x)
// (F⁻¹ normalised by 1/N). Negative indices wrap to [N - offset, N), which holds zeros of the
// linear result because N - offset >= L; the batch sum of gk happens in frequency space, one
// inverse per channel. The kernel spectra Kf are computed once per call, not once per row.
//
// Layout: x is (B, L, D), so a channel's row is strided by D. Channels are handled in blocks of
// one cache line of neighbours (16 floats, 8 doubles): gathering and scattering a block uses
// every byte of each line it touches.
#include "ops/cpu/long_conv.h"

#include <algorithm>
#include <vector>

#include "engine/parallel.h"
#include "ops/cpu/fft.h"

namespace ember::cpu {

namespace {

template <class T>
constexpr int64_t kBlock = 64 / sizeof(T);

bool worth_threads(const LongConvProblem& p) { return p.batch * p.channels * p.fft_size >= 4 * kParallelGrain; }

// out[i] = a[i] · b[i] (conj_b: · conj(b[i])) over `bins` interleaved complex values.
template <class T>
inline void complex_multiply(const T* a, const T* b, bool conj_b, int64_t bins, T* out) {
  const T sign = conj_b ? T(-1) : T(1);
  for (int64_t i = 0; i < bins; ++i) {
    const T ar = a[2 * i], ai = a[2 * i + 1], br = b[2 * i], bi = sign * b[2 * i + 1];
    out[2 * i] = ar * br - ai * bi;
    out[2 * i + 1] = ar * bi + ai * br;
  }
}

// acc[i] += a[i] · conj(b[i]).
template <class T>
inline void complex_multiply_conj_add(const T* a, const T* b, int64_t bins, T* acc) {
  for (int64_t i = 0; i < bins; ++i) {
    const T ar = a[2 * i], ai = a[2 * i + 1], br = b[2 * i], bi = b[2 * i + 1];
    acc[2 * i] += ar * br + ai * bi;
    acc[2 * i + 1] += ai * br - ar * bi;
  }
}

// The spectra of every kernel row, zero-padded to N: (D, bins, 2).
template <class T>
std::vector<T> kernel_spectra(const LongConvProblem& p, const RealFft<T>& fft, const T* k) {
  const int64_t bins = fft.bins(), N = p.fft_size;
  std::vector<T> spectra(static_cast<size_t>(p.channels * 2 * bins));
#pragma omp parallel if (worth_threads(p))
  {
    FftBuffer<T> real(N), spectrum(2 * bins);
#pragma omp for schedule(static)
    for (int64_t d = 0; d < p.channels; ++d) {
      std::copy(k + d * p.kernel_size, k + (d + 1) * p.kernel_size, real.data());
      std::fill(real.data() + p.kernel_size, real.data() + N, T(0));
      fft.forward(real.data(), spectrum.data());
      std::copy(spectrum.data(), spectrum.data() + 2 * bins, spectra.data() + d * 2 * bins);
    }
  }
  return spectra;
}

// Gathers and scatters transpose a (time × channel block) tile at a time: kTimeTile lines of the
// (B, L, D) array stay in L1 while each row of the block is read or written contiguously
// (one element per row per step would scatter across kBlock rows N·sizeof(T) apart).
constexpr int64_t kTimeTile = 8;

// rows[j][t] = src[(b, t, d0 + j)] for t < L, zero up to N; j < width.
template <class T>
void gather_block(const LongConvProblem& p, SeqView<T> src, int64_t b, int64_t d0, int64_t width, T* rows) {
  const int64_t N = p.fft_size;
  const T* base = src.data + b * src.batch_stride + d0 * src.channel_stride;
  for (int64_t t0 = 0; t0 < p.length; t0 += kTimeTile) {
    const int64_t t1 = std::min(p.length, t0 + kTimeTile);
    for (int64_t j = 0; j < width; ++j) {
      const T* column = base + j * src.channel_stride;
      T* row = rows + j * N;
      for (int64_t t = t0; t < t1; ++t) row[t] = column[t * src.time_stride];
    }
  }
  for (int64_t j = 0; j < width; ++j) std::fill(rows + j * N + p.length, rows + (j + 1) * N, T(0));
}

// dst[(b, t, d0 + j)] = scale · rows[j][(t + shift) mod N] for t < L; j < width.
template <class T>
void scatter_block(const LongConvProblem& p, const T* rows, int64_t shift, T scale, int64_t b, int64_t d0,
                   int64_t width, T* dst) {
  const int64_t N = p.fft_size, D = p.channels;
  T* base = dst + b * p.length * D + d0;
  for (int64_t t0 = 0; t0 < p.length; t0 += kTimeTile) {
    const int64_t t1 = std::min(p.length, t0 + kTimeTile);
    for (int64_t j = 0; j < width; ++j) {
      const T* row = rows + j * N;
      for (int64_t t = t0; t < t1; ++t) {
        int64_t index = t + shift;
        index = index < 0 ? index + N : index;
        base[t * D + j] = scale * row[index];
      }
    }
  }
}

}  // namespace

template <class T>
void long_conv_fft_fwd(const LongConvProblem& p, SeqView<T> x, const T* k, T* y) {
  if (p.batch == 0 || p.channels == 0) return;
  const RealFft<T>& fft = RealFft<T>::get(p.fft_size);
  const int64_t N = p.fft_size, bins = fft.bins();
  const std::vector<T> kf = kernel_spectra(p, fft, k);
  const int64_t blocks = (p.channels + kBlock<T> - 1) / kBlock<T>;
  const T scale = T(1) / static_cast<T>(N);
#pragma omp parallel if (worth_threads(p))
  {
    FftBuffer<T> rows(kBlock<T> * N), spectrum(2 * bins);
#pragma omp for schedule(dynamic, 1) collapse(2)
    for (int64_t b = 0; b < p.batch; ++b)
      for (int64_t block = 0; block < blocks; ++block) {
        const int64_t d0 = block * kBlock<T>, width = std::min(kBlock<T>, p.channels - d0);
        gather_block(p, x, b, d0, width, rows.data());
        for (int64_t j = 0; j < width; ++j) {
          T* row = rows.data() + j * N;
          fft.forward(row, spectrum.data());
          complex_multiply(spectrum.data(), kf.data() + (d0 + j) * 2 * bins, false, bins, spectrum.data());
          fft.inverse(spectrum.data(), row);
        }
        scatter_block(p, rows.data(), p.offset, scale, b, d0, width, y);
      }
  }
}

template <class T>
void long_conv_fft_bwd(const LongConvProblem& p, SeqView<T> x, const T* k, SeqView<T> grad_y, T* grad_x,
                       T* grad_k) {
  if (grad_k != nullptr) std::fill(grad_k, grad_k + p.channels * p.kernel_size, T(0));
  if (p.batch == 0 || p.channels == 0) return;
  const RealFft<T>& fft = RealFft<T>::get(p.fft_size);
  const int64_t N = p.fft_size, bins = fft.bins();
  const std::vector<T> kf = grad_x != nullptr ? kernel_spectra(p, fft, k) : std::vector<T>();
  const int64_t blocks = (p.channels + kBlock<T> - 1) / kBlock<T>;
  const T scale = T(1) / static_cast<T>(N);
#pragma omp parallel if (worth_threads(p))
  {
    FftBuffer<T> g_rows(kBlock<T> * N), x_rows(grad_k != nullptr ? kBlock<T> * N : 1), g_spectrum(2 * bins),
        product(2 * bins), x_spectrum(2 * bins), accumulated(grad_k != nullptr ? kBlock<T> * 2 * bins : 1), real(N);
#pragma omp for schedule(dynamic, 1)
    for (int64_t block = 0; block < blocks; ++block) {
      const int64_t d0 = block * kBlock<T>, width = std::min(kBlock<T>, p.channels - d0);
      if (grad_k != nullptr) std::fill(accumulated.data(), accumulated.data() + width * 2 * bins, T(0));
      for (int64_t b = 0; b < p.batch; ++b) {
        gather_block(p, grad_y, b, d0, width, g_rows.data());
        if (grad_k != nullptr) gather_block(p, x, b, d0, width, x_rows.data());
        for (int64_t j = 0; j < width; ++j) {
          T* g_row = g_rows.data() + j * N;
          fft.forward(g_row, g_spectrum.data());
          if (grad_x != nullptr) {
            complex_multiply(g_spectrum.data(), kf.data() + (d0 + j) * 2 * bins, true, bins, product.data());
            fft.inverse(product.data(), g_row);  // the row is not needed any more: reuse it
          }
          if (grad_k != nullptr) {
            fft.forward(x_rows.data() + j * N, x_spectrum.data());
            complex_multiply_conj_add(g_spectrum.data(), x_spectrum.data(), bins, accumulated.data() + j * 2 * bins);
          }
        }
        if (grad_x != nullptr) scatter_block(p, g_rows.data(), -p.offset, scale, b, d0, width, grad_x);
      }
      if (grad_k == nullptr) continue;
      for (int64_t j = 0; j < width; ++j) {
        fft.inverse(accumulated.data() + j * 2 * bins, real.data());
        T* out = grad_k + (d0 + j) * p.kernel_size;
        for (int64_t s = 0; s < p.kernel_size; ++s) {
          const int64_t index = s - p.offset;
          out[s] = scale * real.data()[index < 0 ? index + N : index];
        }
      }
    }
  }
}

// ---- direct loops: the reference ----

template <class T>
void long_conv_direct_fwd(const LongConvProblem& p, const T* x, const T* k, T* y) {
  const int64_t L = p.length, D = p.channels, K = p.kernel_size;
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t t = 0; t < L; ++t)
      for (int64_t d = 0; d < D; ++d) {
        T acc = 0;
        for (int64_t s = 0; s < K; ++s) {
          const int64_t source = t + p.offset - s;
          if (source >= 0 && source < L) acc += k[d * K + s] * x[(b * L + source) * D + d];
        }
        y[(b * L + t) * D + d] = acc;
      }
}

template <class T>
void long_conv_direct_bwd(const LongConvProblem& p, const T* x, const T* k, const T* grad_y, T* grad_x, T* grad_k) {
  const int64_t L = p.length, D = p.channels, K = p.kernel_size;
  if (grad_x != nullptr) std::fill(grad_x, grad_x + p.batch * L * D, T(0));
  if (grad_k != nullptr) std::fill(grad_k, grad_k + D * K, T(0));
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t t = 0; t < L; ++t)
      for (int64_t d = 0; d < D; ++d) {
        const T g = grad_y[(b * L + t) * D + d];
        for (int64_t s = 0; s < K; ++s) {
          const int64_t source = t + p.offset - s;
          if (source < 0 || source >= L) continue;
          if (grad_x != nullptr) grad_x[(b * L + source) * D + d] += k[d * K + s] * g;
          if (grad_k != nullptr) grad_k[d * K + s] += x[(b * L + source) * D + d] * g;
        }
      }
}

#define EMBER_INSTANTIATE_LONG_CONV(T)                                                                         \
  template void long_conv_fft_fwd<T>(const LongConvProblem&, SeqView<T>, const T*, T*);                       \
  template void long_conv_fft_bwd<T>(const LongConvProblem&, SeqView<T>, const T*, SeqView<T>, T*, T*);       \
  template void long_conv_direct_fwd<T>(const LongConvProblem&, const T*, const T*, T*);                      \
  template void long_conv_direct_bwd<T>(const LongConvProblem&, const T*, const T*, const T*, T*, T*);
EMBER_INSTANTIATE_LONG_CONV(float)
EMBER_INSTANTIATE_LONG_CONV(double)
#undef EMBER_INSTANTIATE_LONG_CONV

}  // namespace ember::cpu
