// CPU real FFTs through FFTW3 (fftwf_* for float32, fftw_* for float64): plan cache, aligned
// buffers, and the rfft/irfft row kernels. Twins: ops/cpu/fft.h (Note [FFTW plans]), ops/fft.cpp.
#include "ops/cpu/fft.h"

#include <fftw3.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <new>

#include "engine/error.h"
#include "engine/parallel.h"

namespace ember::cpu {

namespace {

// The one C API per precision, behind one name.
template <class T> struct Fftw;
template <> struct Fftw<float> {
  using Plan = fftwf_plan;
  static void* alloc(size_t bytes) { return fftwf_malloc(bytes); }
  static void release(void* p) { fftwf_free(p); }
  static Plan forward(int n, float* real, float* spectrum) {
    return fftwf_plan_dft_r2c_1d(n, real, reinterpret_cast<fftwf_complex*>(spectrum), FFTW_ESTIMATE);
  }
  static Plan inverse(int n, float* spectrum, float* real) {
    return fftwf_plan_dft_c2r_1d(n, reinterpret_cast<fftwf_complex*>(spectrum), real, FFTW_ESTIMATE);
  }
  static void run_forward(void* plan, float* real, float* spectrum) {
    fftwf_execute_dft_r2c(static_cast<Plan>(plan), real, reinterpret_cast<fftwf_complex*>(spectrum));
  }
  static void run_inverse(void* plan, float* spectrum, float* real) {
    fftwf_execute_dft_c2r(static_cast<Plan>(plan), reinterpret_cast<fftwf_complex*>(spectrum), real);
  }
};
template <> struct Fftw<double> {
  using Plan = fftw_plan;
  static void* alloc(size_t bytes) { return fftw_malloc(bytes); }
  static void release(void* p) { fftw_free(p); }
  static Plan forward(int n, double* real, double* spectrum) {
    return fftw_plan_dft_r2c_1d(n, real, reinterpret_cast<fftw_complex*>(spectrum), FFTW_ESTIMATE);
  }
  static Plan inverse(int n, double* spectrum, double* real) {
    return fftw_plan_dft_c2r_1d(n, reinterpret_cast<fftw_complex*>(spectrum), real, FFTW_ESTIMATE);
  }
  static void run_forward(void* plan, double* real, double* spectrum) {
    fftw_execute_dft_r2c(static_cast<Plan>(plan), real, reinterpret_cast<fftw_complex*>(spectrum));
  }
  static void run_inverse(void* plan, double* spectrum, double* real) {
    fftw_execute_dft_c2r(static_cast<Plan>(plan), reinterpret_cast<fftw_complex*>(spectrum), real);
  }
};

// Every call into FFTW's planner (both precisions) holds this lock (Note [FFTW plans]).
std::mutex& planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Rows are independent; parallel once there is enough work to pay for the threads.
bool worth_threads(int64_t rows, int64_t n) { return rows > 1 && rows * n >= 4 * kParallelGrain; }

}  // namespace

int64_t fast_fft_size(int64_t min_size) {
  for (int64_t n = std::max<int64_t>(min_size, 1);; ++n) {
    int64_t rest = n;
    for (int64_t p : {2, 3, 5, 7})
      while (rest % p == 0) rest /= p;
    if (rest == 1) return n;
  }
}

template <class T>
FftBuffer<T>::FftBuffer(int64_t count)
    : data_(static_cast<T*>(Fftw<T>::alloc(static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(T)))) {
  if (data_ == nullptr) throw std::bad_alloc();
}

template <class T>
FftBuffer<T>::~FftBuffer() {
  Fftw<T>::release(data_);
}

template <class T>
RealFft<T>::RealFft(int64_t n) : n_(n) {
  EMBER_CHECK(n >= 1 && n <= int64_t{1} << 30, "fft: transform size {} is out of range [1, 2^30]", n);
  // FFTW_ESTIMATE does not touch the arrays; they only fix the alignment the plans assume.
  FftBuffer<T> real(n), spectrum(2 * bins());
  std::lock_guard<std::mutex> lock(planner_mutex());
  forward_plan_ = Fftw<T>::forward(static_cast<int>(n), real.data(), spectrum.data());
  inverse_plan_ = Fftw<T>::inverse(static_cast<int>(n), spectrum.data(), real.data());
  EMBER_CHECK(forward_plan_ != nullptr && inverse_plan_ != nullptr, "fft: FFTW could not plan a size-{} transform", n);
}

template <class T>
const RealFft<T>& RealFft<T>::get(int64_t n) {
  // Plans live until exit (like FFTW's wisdom): a model touches a handful of sizes.
  static std::mutex cache_mutex;
  static std::map<int64_t, std::unique_ptr<RealFft<T>>> cache;
  std::lock_guard<std::mutex> lock(cache_mutex);
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, std::make_unique<RealFft<T>>(n)).first;
  return *it->second;
}

template <class T>
void RealFft<T>::forward(T* real, T* spectrum) const {
  Fftw<T>::run_forward(forward_plan_, real, spectrum);
}

template <class T>
void RealFft<T>::inverse(T* spectrum, T* real) const {
  Fftw<T>::run_inverse(inverse_plan_, spectrum, real);
}

template <class T>
void rfft_rows(const T* x, int64_t rows, int64_t length, int64_t n, T* spectrum) {
  const RealFft<T>& fft = RealFft<T>::get(n);
  const int64_t bins = fft.bins(), kept = std::min(length, n);
#pragma omp parallel if (worth_threads(rows, n))
  {
    FftBuffer<T> real(n), out(2 * bins);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      std::copy(x + r * length, x + r * length + kept, real.data());
      std::fill(real.data() + kept, real.data() + n, T(0));
      fft.forward(real.data(), out.data());
      std::copy(out.data(), out.data() + 2 * bins, spectrum + r * 2 * bins);
    }
  }
}

template <class T>
void irfft_rows(const T* spectrum, int64_t rows, int64_t bins_in, int64_t n, T* x) {
  const RealFft<T>& fft = RealFft<T>::get(n);
  const int64_t bins = fft.bins(), kept = std::min(bins_in, bins);
  const T scale = T(1) / static_cast<T>(n);
#pragma omp parallel if (worth_threads(rows, n))
  {
    FftBuffer<T> in(2 * bins), real(n);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = spectrum + r * 2 * bins_in;
      std::copy(row, row + 2 * kept, in.data());
      std::fill(in.data() + 2 * kept, in.data() + 2 * bins, T(0));
      in.data()[1] = T(0);                           // Im of the DC bin
      if (n % 2 == 0) in.data()[2 * bins - 1] = T(0);  // Im of the Nyquist bin
      fft.inverse(in.data(), real.data());
      for (int64_t t = 0; t < n; ++t) x[r * n + t] = real.data()[t] * scale;
    }
  }
}

#define EMBER_INSTANTIATE_FFT(T)                                                  \
  template class FftBuffer<T>;                                                    \
  template class RealFft<T>;                                                      \
  template void rfft_rows<T>(const T*, int64_t, int64_t, int64_t, T*);            \
  template void irfft_rows<T>(const T*, int64_t, int64_t, int64_t, T*);
EMBER_INSTANTIATE_FFT(float)
EMBER_INSTANTIATE_FFT(double)
#undef EMBER_INSTANTIATE_FFT

}  // namespace ember::cpu
