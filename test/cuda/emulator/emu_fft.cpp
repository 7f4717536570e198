// cuda/fft.cu in the host emulator (run.sh): the staging kernels around cuFFT's real transforms
// (the transforms are cuFFT calls, not emulated): rows truncated or zero-padded to n, and spectra
// truncated or padded to n/2 + 1 bins with the imaginary parts of bin 0 and (even n) bin n/2
// zeroed and a scale; odd and even n; exact.
#include "emu.h"
#include "fft_emu.inc"

using namespace ember::cuda;

template <class T> void run(int64_t rows, int64_t length, int64_t n, int64_t bins_in) {
  const ScalarType type = sizeof(T) == 4 ? ScalarType::f32 : ScalarType::f64;
  std::vector<T> x(rows * length), padded(rows * n, T(-9));
  for (size_t i = 0; i < x.size(); ++i) x[i] = T(i % 7) - T(3);
  pad_rows(x.data(), type, rows, length, n, padded.data(), Stream{});
  bool ok = true;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < n; ++t) ok = ok && padded[r * n + t] == (t < length ? x[r * length + t] : T(0));
  const int64_t bins = n / 2 + 1;
  std::vector<T> spectrum(rows * bins_in * 2), staged(rows * bins * 2, T(-9));
  for (size_t i = 0; i < spectrum.size(); ++i) spectrum[i] = T(i % 5) + T(1);
  stage_spectrum(spectrum.data(), type, rows, bins_in, n, 0.5, staged.data(), Stream{});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t f = 0; f < bins; ++f) {
      const T re = f < bins_in ? spectrum[2 * (r * bins_in + f)] : T(0);
      T im = f < bins_in ? spectrum[2 * (r * bins_in + f) + 1] : T(0);
      if (f == 0 || (n % 2 == 0 && f == n / 2)) im = T(0);
      ok = ok && staged[2 * (r * bins + f)] == T(0.5) * re && staged[2 * (r * bins + f) + 1] == T(0.5) * im;
    }
  char line[160];
  std::snprintf(line, sizeof line, "fft staging %s rows=%ld length=%ld n=%ld bins_in=%ld", emu::type_name<T>(), rows, length, n, bins_in);
  emu::check(ok, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (auto [rows, length, n, bins_in] : {std::tuple{3L, 100L, 128L, 65L}, {2L, 300L, 257L, 100L}, {5L, 9L, 8L, 7L}, {1L, 1L, 1L, 1L}}) {
    run<float>(rows, length, n, bins_in);
    run<double>(rows, length, n, bins_in);
  }
  return emu::finish("emu_fft");
}
