// Tests for ops/softmax.h: closed-form values, stability, row vs strided paths, gradcheck and
// gradgradcheck, fused vs composed backward, bad input.
#include "helpers.h"
#include "ops/cpu/math.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {
// Closed-form softmax of a short vector, for expected values.
std::vector<double> softmax_of(const std::vector<double>& v) {
  double total = 0;
  for (double x : v) total += std::exp(x);
  std::vector<double> out;
  for (double x : v) out.push_back(std::exp(x) / total);
  return out;
}
}  // namespace

TEST_CASE("softmax / log_softmax forward values", "[ops][nn][softmax]") {
  Tensor x = from_vector<double>({1, 2, 3, -1, 0, 4}, {2, 3});
  const auto r0 = softmax_of({1, 2, 3}), r1 = softmax_of({-1, 0, 4});
  REQUIRE(all_close(softmax(x, 1), {r0[0], r0[1], r0[2], r1[0], r1[1], r1[2]}, 1e-12, 1e-14));
  REQUIRE(all_close(softmax(x, -1), {r0[0], r0[1], r0[2], r1[0], r1[1], r1[2]}, 1e-12, 1e-14));
  REQUIRE(all_close(log_softmax(x, 1), {std::log(r0[0]), std::log(r0[1]), std::log(r0[2]), std::log(r1[0]),
                                        std::log(r1[1]), std::log(r1[2])}, 1e-12, 1e-14));
  // dim 0: columns (1,-1), (2,0), (3,4) — the strided path.
  const auto c0 = softmax_of({1, -1}), c1 = softmax_of({2, 0}), c2 = softmax_of({3, 4});
  REQUIRE(all_close(softmax(x, 0), {c0[0], c1[0], c2[0], c0[1], c1[1], c2[1]}, 1e-12, 1e-14));
  REQUIRE(all_close(log_softmax(x, 0), {std::log(c0[0]), std::log(c1[0]), std::log(c2[0]), std::log(c0[1]),
                                        std::log(c1[1]), std::log(c2[1])}, 1e-12, 1e-14));
  // float32 keeps its dtype.
  Tensor xf = from_vector<float>({0, 0});
  REQUIRE(softmax(xf, 0).dtype() == DType::f32);
  REQUIRE(all_close(softmax(xf, 0), {0.5, 0.5}));
  // A 0-d input is a one-element row.
  REQUIRE(softmax(scalar_tensor(3.0, DType::f64), 0).item<double>() == 1.0);
  REQUIRE(log_softmax(scalar_tensor(3.0, DType::f64), -1).item<double>() == 0.0);
  REQUIRE(softmax(zeros({0, 3}), 1).sizes() == Shape{0, 3});
}

TEST_CASE("softmax is stable for large inputs and -inf entries", "[ops][nn][softmax]") {
  const auto r = softmax_of({0, 1, 2});
  Tensor big = from_vector<float>({1000, 1001, 1002});
  REQUIRE(all_close(softmax(big, 0), r, 1e-5, 1e-7));
  REQUIRE(all_close(log_softmax(big, 0), {std::log(r[0]), std::log(r[1]), std::log(r[2])}, 1e-5, 1e-6));
  Tensor with_inf = from_vector<double>({-INFINITY, 0, 0});
  REQUIRE(values(softmax(with_inf, 0)) == std::vector<double>{0, 0.5, 0.5});
  REQUIRE(values(log_softmax(with_inf, 0))[0] == -INFINITY);
  // A column of -1e4 through the strided path does not underflow to 0/0.
  Tensor col = from_vector<double>({-1e4, -1e4 + 1}, {2, 1});
  const auto c = softmax_of({0, 1});
  REQUIRE(all_close(softmax(col, 0), {c[0], c[1]}, 1e-12));
}

TEST_CASE("softmax strided path matches the row path on awkward sizes", "[ops][nn][softmax]") {
  Generator gen(3);
  // inner = 70 spans one full column block of 64 and a remainder of 6.
  Tensor x = randn({3, 5, 70}, gen, DType::f64);
  for (bool log : {false, true}) {
    auto f = [log](const Tensor& t, int64_t d) { return log ? log_softmax(t, d) : softmax(t, d); };
    Tensor strided = f(x, 1);
    Tensor rows = f(x.transpose(1, 2).contiguous(), 2).transpose(1, 2);
    REQUIRE(all_close(strided, rows, 1e-12, 1e-14));
    // Non-contiguous input gives the same result as its contiguous copy.
    REQUIRE(all_close(f(x.transpose(0, 2), 0), f(x.transpose(0, 2).contiguous(), 0), 1e-12, 1e-14));
    // Rows sum to one.
    Tensor s = sum(log ? exp(strided) : strided, {1});
    for (double v : values(s)) REQUIRE(v == Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("softmax / log_softmax gradcheck and gradgradcheck", "[ops][nn][softmax]") {
  Tensor x = ember::test::rand64({2, 3, 4}, 21, -2, 2);
  auto f = [](const TensorList& in) -> TensorList {
    return {softmax(in[0], 2), softmax(in[0], 1), log_softmax(in[0], 0), log_softmax(in[0], -1)};
  };
  REQUIRE(gradcheck(f, {x}));
  REQUIRE(gradcheck(f, {x.transpose(0, 2)}));                    // non-contiguous
  REQUIRE(gradcheck(f, {x.slice(2, 0, 4, 2)}));                  // sliced
  Tensor row = ember::test::rand64({1, 3, 1}, 22);
  REQUIRE(gradcheck(f, {row.expand({2, 3, 4})}));                // expanded
  REQUIRE(gradgradcheck(f, {x}));
  REQUIRE(gradgradcheck(f, {x.transpose(1, 2)}));
}

TEST_CASE("softmax fused backward agrees with the composed (create_graph) backward", "[ops][nn][softmax]") {
  Tensor x = ember::test::rand64({4, 6, 5}, 23, -3, 3);
  Tensor g = ember::test::rand64({4, 6, 5}, 24).detach();
  for (int64_t dim : {0, 1, 2}) {
    for (bool log : {false, true}) {
      Tensor y = log ? log_softmax(x, dim) : softmax(x, dim);
      Tensor fused = autograd::grad({y}, {x}, {g}, /*retain_graph=*/true, /*create_graph=*/false)[0];
      Tensor composed = autograd::grad({y}, {x}, {g}, /*retain_graph=*/false, /*create_graph=*/true)[0];
      REQUIRE(composed.requires_grad());
      REQUIRE(all_close(fused, composed.detach(), 1e-12, 1e-14));
    }
  }
  // Closed form at one point: d softmax(x)_0 / dx = y0 * (e_0 - y).
  Tensor v = from_vector<double>({0.5, -1, 2}, {3}, TensorOptions(DType::f64).requires_grad(true));
  softmax(v, 0).select(0, 0).backward();
  const auto y = softmax_of({0.5, -1, 2});
  REQUIRE(all_close(v.grad(), {y[0] * (1 - y[0]), -y[0] * y[1], -y[0] * y[2]}, 1e-12, 1e-14));
}

TEST_CASE("softmax bad input", "[ops][nn][softmax][errors]") {
  REQUIRE_THROWS_OP(softmax(from_vector<int64_t>({1, 2}), 0), "softmax");
  REQUIRE_THROWS_OP(log_softmax(from_vector<int32_t>({1, 2}), 0), "log_softmax");
  REQUIRE_THROWS_OP(softmax(zeros({2, 3}), 2), "softmax");
  REQUIRE_THROWS_OP(log_softmax(zeros({2, 3}), -3), "log_softmax");
  REQUIRE_THROWS_OP(softmax(scalar_tensor(1.0), 1), "softmax");
  REQUIRE_THROWS_OP(softmax(Tensor(), 0), "softmax");
}

TEST_CASE("the shared vectorised exp (softmax, losses, attention) is within a few ulp of std::exp", "[ops][nn][softmax]") {
  auto check = [](auto zero) {
    using T = decltype(zero);
    const T eps = std::numeric_limits<T>::epsilon();
    T worst = 0;
    for (int i = -20400; i <= 20600; ++i) {
      const T x = static_cast<T>(i) * static_cast<T>(0.0043);  // [-87.7, 88.6], off-grid values
      const T expected = std::exp(x);
      worst = std::max(worst, std::abs(cpu::math::fast_exp(x) - expected) / expected);
    }
    REQUIRE(worst <= 4 * eps);
    REQUIRE(cpu::math::fast_exp(-std::numeric_limits<T>::infinity()) == T(0));
    REQUIRE(cpu::math::fast_exp(T(0)) == T(1));
    REQUIRE(cpu::math::fast_exp(T(1000)) == std::numeric_limits<T>::infinity());
    REQUIRE(std::isnan(cpu::math::fast_exp(std::numeric_limits<T>::quiet_NaN())));
  };
  check(0.0f);
  check(0.0);
  REQUIRE(cpu::math::fast_exp(-700.0) == Approx(std::exp(-700.0)).epsilon(1e-14));
  REQUIRE(cpu::math::fast_exp(709.5) == Approx(std::exp(709.5)).epsilon(1e-14));
  REQUIRE(cpu::math::fast_exp(-740.0) == Approx(std::exp(-740.0)).epsilon(1e-3));  // subnormal
  REQUIRE(cpu::math::fast_exp(-88.0f) == Approx(std::exp(-88.0f)).epsilon(1e-3));   // subnormal
  REQUIRE(cpu::math::fast_exp(88.7f) == Approx(std::exp(88.7f)).epsilon(1e-6));
}
