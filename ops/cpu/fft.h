// CPU real FFTs through FFTW3: cached plans, aligned scratch buffers, and the row kernels behind
// rfft/irfft. ops/cpu/long_conv.cpp builds its fused convolution on the same plans.
// Twins: ops/fft.cpp (API, checks, backward), ops/fft.h.
//
// Note [FFTW plans]: FFTW's planner is not thread-safe, its executor is. A plan is made once per
// (size, precision) under one mutex and kept for the life of the process; any thread may then run
// it on its own arrays (fftw_execute_dft_r2c/_c2r with new arrays). Plans are made with
// FFTW_ESTIMATE, not FFTW_MEASURE: MEASURE times candidate algorithms and keeps the fastest, so
// the chosen algorithm (and the rounding of every result) could change from run to run with
// machine load; ESTIMATE picks by a fixed heuristic, so the same input gives the same bits on
// every run. Arrays passed to a plan must have the alignment of the planning arrays: every
// buffer here comes from fftw_malloc (FftBuffer), which gives FFTW's SIMD alignment.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace ember::cpu {

// The smallest n >= min_size whose prime factors are all 2, 3, 5 or 7 (FFTW's fast sizes).
int64_t fast_fft_size(int64_t min_size);

// An FFTW-aligned array of `count` T's (fftw_malloc/fftw_free), uninitialised.
template <class T>
class FftBuffer {
 public:
  explicit FftBuffer(int64_t count);
  ~FftBuffer();
  FftBuffer(const FftBuffer&) = delete;
  FftBuffer& operator=(const FftBuffer&) = delete;
  T* data() const { return data_; }

 private:
  T* data_;
};

// The forward (real -> complex) and inverse (complex -> real) transforms of one size n, both
// unnormalised. Complex arrays are interleaved (re, im) pairs, n/2 + 1 of them. get() returns a
// cached instance (Note [FFTW plans]); run it from any thread on FftBuffer arrays.
template <class T>
class RealFft {
 public:
  static const RealFft& get(int64_t n);
  int64_t size() const { return n_; }
  int64_t bins() const { return n_ / 2 + 1; }
  // real: n values (kept) -> spectrum: bins() complex values.
  void forward(T* real, T* spectrum) const;
  // spectrum: bins() complex values (overwritten: FFTW's c2r destroys its input) -> real: n values.
  void inverse(T* spectrum, T* real) const;

  explicit RealFft(int64_t n);  // use get(); public for the cache's make_unique

 private:
  int64_t n_;
  void* forward_plan_;
  void* inverse_plan_;
};

// x: (rows, length) -> X: (rows, n/2 + 1, 2); each row zero-padded or truncated to n.
template <class T>
void rfft_rows(const T* x, int64_t rows, int64_t length, int64_t n, T* spectrum);

// X: (rows, bins_in, 2) -> x: (rows, n), normalised by 1/n. Rows are truncated or zero-padded to
// n/2 + 1 bins; the imaginary parts of bin 0 and (even n) bin n/2 are ignored.
template <class T>
void irfft_rows(const T* spectrum, int64_t rows, int64_t bins_in, int64_t n, T* x);

}  // namespace ember::cpu
