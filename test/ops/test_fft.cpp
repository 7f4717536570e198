// rfft / irfft: against a naive DFT on awkward sizes (f32 and f64), round trips, numpy's
// padding/truncation semantics, gradcheck and gradgradcheck, bad input.
// Twins: ops/fft.{h,cpp}, ops/cpu/fft.cpp.
#include <cmath>
#include <numbers>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::f64) {
  Generator gen(seed);
  return uniform(-1.0, 1.0, shape, gen, dtype);
}

// The angle 2π k t / n with k t reduced mod n first, so large products keep their accuracy.
double angle(int64_t k, int64_t t, int64_t n) { return 2.0 * std::numbers::pi * static_cast<double>((k * t) % n) / n; }

// rows (R, L) -> (R, n/2 + 1, 2) by the definition X_k = Σ_t x_t e^{-2πi kt/n}, x padded/truncated to n.
std::vector<double> naive_rfft(const std::vector<double>& x, int64_t rows, int64_t length, int64_t n) {
  const int64_t bins = n / 2 + 1;
  std::vector<double> out(rows * bins * 2, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < bins; ++k)
      for (int64_t t = 0; t < std::min(length, n); ++t) {
        out[(r * bins + k) * 2] += x[r * length + t] * std::cos(angle(k, t, n));
        out[(r * bins + k) * 2 + 1] -= x[r * length + t] * std::sin(angle(k, t, n));
      }
  return out;
}

// (R, F, 2) -> (R, n): y_t = (1/n) Σ_{k<n} Z_k e^{2πi kt/n}, Z the Hermitian extension of the
// first n/2 + 1 bins (zero-padded), imaginary parts of DC and Nyquist dropped.
std::vector<double> naive_irfft(const std::vector<double>& X, int64_t rows, int64_t bins_in, int64_t n) {
  std::vector<double> out(rows * n, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < n; ++t) {
      double acc = 0;
      for (int64_t k = 0; k < n; ++k) {
        const int64_t source = k <= n / 2 ? k : n - k;  // Z_k = conj(Z_{n-k})
        if (source >= bins_in) continue;
        const double re = X[(r * bins_in + source) * 2];
        double im = X[(r * bins_in + source) * 2 + 1];
        if (source == 0 || 2 * source == n) im = 0.0;
        if (k != source) im = -im;
        acc += re * std::cos(angle(k, t, n)) - im * std::sin(angle(k, t, n));
      }
      out[r * n + t] = acc / n;
    }
  return out;
}

}  // namespace

TEST_CASE("rfft matches a naive DFT on awkward sizes", "[ops][fft]") {
  for (int64_t n : {1, 2, 3, 5, 7, 8, 63, 100, 500, 1000}) {
    for (DType dtype : {DType::f64, DType::f32}) {
      INFO("n = " << n << ", " << dtype_name(dtype));
      Tensor x = random_tensor({2, 3, n}, 10 + n, dtype);
      Tensor X = rfft(x);
      REQUIRE(X.sizes() == Shape{2, 3, n / 2 + 1, 2});
      REQUIRE(X.dtype() == dtype);
      const std::vector<double> expected = naive_rfft(values(x), 6, n, n);
      const double tol = dtype == DType::f64 ? 1e-10 : 2e-4;
      REQUIRE(all_close(values(X), expected, tol, tol));
      // and back: irfft(rfft(x), n) == x
      REQUIRE(all_close(irfft(X, n), x, tol, tol));
    }
  }
}

TEST_CASE("irfft matches a naive inverse DFT, ignoring the DC and Nyquist imaginary parts", "[ops][fft]") {
  for (int64_t n : {1, 2, 3, 5, 8, 63, 100}) {
    for (int64_t bins_in : {n / 2 + 1, n / 2 + 3, std::max<int64_t>(1, n / 2 - 1)}) {
      INFO("n = " << n << ", bins " << bins_in);
      Tensor X = random_tensor({3, bins_in, 2}, 7 * n + bins_in);
      Tensor y = irfft(X, n);
      REQUIRE(y.sizes() == Shape{3, n});
      REQUIRE(all_close(values(y), naive_irfft(values(X), 3, bins_in, n), 1e-10, 1e-12));
    }
  }
}

TEST_CASE("rfft and irfft pad and truncate as numpy does", "[ops][fft]") {
  // np.fft.rfft([1, 2, -1, 0.5, 3], n=8) and n=3, as (re, im) pairs (numpy 1.24).
  Tensor x = from_vector<double>({1, 2, -1, 0.5, 3}, {5});
  REQUIRE(all_close(rfft(x, 8), {5.5, 0.0, -0.9393398282201786, -0.7677669529663689, 5.0, -1.5, -3.0606601717798214,
                                 -2.767766952966369, 0.5, 0.0},
                    1e-12, 1e-12));
  REQUIRE(all_close(rfft(x, 3), {2.0, 0.0, 0.5, -2.598076211353316}, 1e-12, 1e-12));
  // np.fft.irfft([1, 2-1j, -0.5+0.25j, 3+2j], n) for n = 7, 3, 4 (truncation; Nyquist imaginary
  // part ignored) and 10 (zero-padded bins); default n = 2 (F - 1) = 6.
  Tensor X = from_vector<double>({1, 0, 2, -1, -0.5, 0.25, 3, 2}, {4, 2});
  REQUIRE(all_close(irfft(X, 7), {1.4285714285714284, -0.3355241448069073, 1.4351353667177296, -1.02907418663778,
                                  -0.2744946354211618, -0.0774713829378547, -0.14714244548545466},
                    1e-12, 1e-12));
  REQUIRE(all_close(irfft(X, 3), {1.6666666666666665, 0.2440169358562924, -0.910683602522959}, 1e-12, 1e-12));
  REQUIRE(all_close(irfft(X, 4), {1.125, 0.875, -0.875, -0.125}, 1e-12, 1e-12));
  REQUIRE(all_close(irfft(X, 10), {1.0, -0.10312348018680871, 0.21503444212390158, 0.9974197651031278,
                                   -0.2844110308073144, -0.9999999999999999, 0.14621442968230386, 0.08799043152184059,
                                   -0.5768378409988911, 0.5177132835618403},
                    1e-12, 1e-12));
  REQUIRE(irfft(X).sizes() == Shape{6});
  REQUIRE(all_close(irfft(rfft(x, 8), 8), {1, 2, -1, 0.5, 3, 0, 0, 0}, 1e-12, 1e-12));
  // Non-contiguous input: a transposed view.
  Tensor xt = random_tensor({6, 4}, 3).transpose(0, 1);
  REQUIRE(all_close(rfft(xt), rfft(xt.contiguous()), 0, 0));
}

TEST_CASE("rfft and irfft are deterministic", "[ops][fft]") {
  Tensor x = random_tensor({4, 1000}, 5, DType::f32);
  REQUIRE(all_close(rfft(x), rfft(x), 0, 0));
}

TEST_CASE("rfft and irfft gradcheck", "[ops][fft]") {
  for (int64_t length : {1, 4, 5, 8}) {
    for (int64_t n : {length, length + 3, std::max<int64_t>(1, length - 2), 2 * length}) {
      INFO("L = " << length << ", n = " << n);
      Tensor x = random_tensor({2, length}, 30 + length + n).requires_grad_(true);
      auto forward = [n](const TensorList& in) -> TensorList { return {rfft(in[0], n)}; };
      REQUIRE(gradcheck(forward, {x}));
      Tensor X = random_tensor({2, length, 2}, 40 + length + n).requires_grad_(true);
      auto inverse = [n](const TensorList& in) -> TensorList { return {irfft(in[0], n)}; };
      REQUIRE(gradcheck(inverse, {X}));
    }
  }
  // Second derivatives (the backwards are themselves rfft/irfft), and a non-contiguous input.
  Tensor x = random_tensor({3, 7}, 50).requires_grad_(true);
  auto round_trip = [](const TensorList& in) -> TensorList { return {square(irfft(rfft(in[0], 9), 9))}; };
  REQUIRE(gradcheck(round_trip, {x}));
  REQUIRE(gradgradcheck(round_trip, {x}));
  Tensor xt = random_tensor({6, 3}, 51).requires_grad_(true);
  auto transposed = [](const TensorList& in) -> TensorList { return {rfft(in[0].transpose(0, 1), 5)}; };
  REQUIRE(gradcheck(transposed, {xt}));
}

TEST_CASE("rfft and irfft reject bad input", "[ops][fft]") {
  REQUIRE_THROWS_OP(rfft(arange(4.0, TensorOptions(DType::i64))), "rfft");
  REQUIRE_THROWS_OP(rfft(scalar_tensor(1.0, TensorOptions(DType::f64))), "rfft");
  REQUIRE_THROWS_OP(rfft(zeros({3}, DType::f64), 0), "rfft");
  REQUIRE_THROWS_OP(rfft(zeros({0}, DType::f64)), "rfft");
  REQUIRE_THROWS_OP(irfft(zeros({3, 3}, DType::f64)), "irfft");  // last dim is not (re, im)
  REQUIRE_THROWS_OP(irfft(zeros({2}, DType::f64)), "irfft");
  REQUIRE_THROWS_OP(irfft(zeros({1, 2}, DType::f64)), "irfft");   // default n = 0
  REQUIRE_THROWS_OP(irfft(zeros({3, 2}, DType::i32)), "irfft");
  REQUIRE_THROWS_OP(irfft(zeros({3, 2}, DType::f64), -5), "irfft");
}
