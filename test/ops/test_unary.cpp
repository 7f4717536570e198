// Tests for ops/unary.h: forward values against closed forms (std:: math on the same inputs, or
// known constants), dtype rules, gradcheck/gradgradcheck on several layouts, bad input.
#include <functional>
#include <limits>
#include <numbers>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::rand64;
using ember::test::values;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Small float64 leaves in the layouts an elementwise op must handle: contiguous, transposed,
// sliced with a step, and expanded (stride 0). Values are drawn from [low, high].
TensorList layouts(uint64_t seed, double low, double high) {
  return {rand64({2, 3}, seed, low, high), rand64({3, 2}, seed + 1, low, high).t(),
          rand64({2, 6}, seed + 2, low, high).slice(1, 1, 6, 2), rand64({1, 3}, seed + 3, low, high).expand({2, 3})};
}

struct FloatUnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> reference;
  double low, high;  // a domain where the op is smooth
};

std::vector<FloatUnaryCase> float_cases() {
  return {
      {"exp", [](const Tensor& x) { return exp(x); }, [](double v) { return std::exp(v); }, -2, 2},
      {"expm1", [](const Tensor& x) { return expm1(x); }, [](double v) { return std::expm1(v); }, -2, 2},
      {"log", [](const Tensor& x) { return log(x); }, [](double v) { return std::log(v); }, 0.3, 3},
      {"log1p", [](const Tensor& x) { return log1p(x); }, [](double v) { return std::log1p(v); }, -0.5, 2},
      {"log2", [](const Tensor& x) { return log2(x); }, [](double v) { return std::log2(v); }, 0.3, 3},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double v) { return std::sqrt(v); }, 0.3, 3},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](double v) { return 1 / std::sqrt(v); }, 0.3, 3},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, [](double v) { return 1 / v; }, 0.5, 3},
      {"sin", [](const Tensor& x) { return sin(x); }, [](double v) { return std::sin(v); }, -3, 3},
      {"cos", [](const Tensor& x) { return cos(x); }, [](double v) { return std::cos(v); }, -3, 3},
      {"tan", [](const Tensor& x) { return tan(x); }, [](double v) { return std::tan(v); }, -1.2, 1.2},
      {"tanh", [](const Tensor& x) { return tanh(x); }, [](double v) { return std::tanh(v); }, -3, 3},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, [](double v) { return 1 / (1 + std::exp(-v)); }, -4, 4},
      {"erf", [](const Tensor& x) { return erf(x); }, [](double v) { return std::erf(v); }, -2, 2},
      {"square", [](const Tensor& x) { return square(x); }, [](double v) { return v * v; }, -2, 2},
      {"abs", [](const Tensor& x) { return abs(x); }, [](double v) { return std::fabs(v); }, -2, 2},
  };
}

}  // namespace

TEST_CASE("float unary ops match their closed forms in float64 and float32", "[ops][unary]") {
  for (const auto& c : float_cases()) {
    INFO(c.name);
    Generator gen(3);
    Tensor x = uniform(c.low, c.high, {5, 7}, gen, DType::f64);
    std::vector<double> expected;
    for (double v : values(x)) expected.push_back(c.reference(v));
    REQUIRE(all_close(c.op(x), expected, 1e-12, 1e-14));
    Tensor y = c.op(x.to(DType::f32));
    REQUIRE(y.dtype() == DType::f32);
    REQUIRE(all_close(y, expected, 1e-5, 1e-6));
    // A transposed, non-contiguous input gives the transposed result.
    REQUIRE(all_close(c.op(x.t()), values(c.op(x.t().contiguous())), 0, 0));
  }
}

TEST_CASE("float unary ops promote integers to float32", "[ops][unary]") {
  Tensor i = from_vector<int64_t>({1, 4});
  REQUIRE(sqrt(i).dtype() == DType::f32);
  REQUIRE(all_close(sqrt(i), {1, 2}));
  REQUIRE(all_close(log(i), {0, std::log(4.0)}));
  REQUIRE(all_close(reciprocal(i), {1, 0.25}));
  REQUIRE(all_close(sigmoid(from_vector<int32_t>({0})), {0.5}));
  REQUIRE(values(tanh(from_vector<uint8_t>({0}))) == std::vector<double>{0});
}

TEST_CASE("special values: log(0), sqrt(-1), sigmoid and tanh saturate", "[ops][unary]") {
  Tensor x = from_vector<double>({0, -1, kInf});
  REQUIRE(values(log(x))[0] == -kInf);
  REQUIRE(std::isnan(values(log(x))[1]));
  REQUIRE(std::isnan(values(sqrt(x))[1]));
  REQUIRE(values(rsqrt(x))[0] == kInf);
  Tensor big = from_vector<double>({-200, 200, kNaN}).to(DType::f32);
  REQUIRE(all_close(sigmoid(big), {0, 1, kNaN}, 0, 0));
  REQUIRE(all_close(tanh(big), {-1, 1, kNaN}, 0, 0));
  REQUIRE(all_close(expm1(from_vector<double>({1e-10})), {1e-10 + 5e-21}, 1e-12, 0));
  REQUIRE(all_close(log1p(from_vector<double>({1e-10})), {1e-10 - 5e-21}, 1e-12, 0));
}

TEST_CASE("erfinv against known values and as the inverse of erf", "[ops][unary]") {
  // erfinv(0.5), erfinv(0.9), erfinv(-0.999) from tables (Mathematica, 20 digits).
  Tensor y = from_vector<double>({0, 0.5, 0.9, -0.999, 1.5, kNaN});
  REQUIRE(all_close(erfinv(y), {0, 0.47693627620446987338, 1.1630871536766740867, -2.3267537655135246, kNaN, kNaN},
                    1e-13, 1e-15));
  REQUIRE(values(erfinv(from_vector<double>({1, -1}))) == std::vector<double>{kInf, -kInf});
  Generator gen(4);
  Tensor u = uniform(-0.9999, 0.9999, {200}, gen, DType::f64);
  REQUIRE(all_close(erf(erfinv(u)), values(u), 1e-12, 1e-14));
  REQUIRE(all_close(erf(erfinv(u.to(DType::f32))), values(u), 1e-5, 1e-6));
  // d erfinv(y) = sqrt(pi)/2 exp(erfinv(y)^2)
  Tensor v = rand64({5}, 9, -0.8, 0.8);
  REQUIRE(gradcheck([](const TensorList& in) -> TensorList { return {erfinv(in[0])}; }, {v}));
}

TEST_CASE("gradcheck and gradgradcheck of the smooth unary ops on every layout", "[ops][unary]") {
  for (const auto& c : float_cases()) {
    INFO(c.name);
    const bool kinked = std::string(c.name) == "abs";
    // abs: keep away from its kink at 0, where finite differences disagree.
    TensorList inputs = kinked ? layouts(20, 0.2, 2.0) : layouts(20, c.low, c.high);
    auto f = [&c](const TensorList& in) -> TensorList { return {c.op(in[0])}; };
    for (const Tensor& x : inputs) {
      REQUIRE(gradcheck(f, {x}));
      REQUIRE(gradgradcheck(f, {x}));
    }
    Tensor neg_side = rand64({4}, 21, -2.0, -0.2);
    if (kinked) REQUIRE(gradgradcheck(f, {neg_side}));
  }
}

TEST_CASE("abs, sign, square keep the dtype; abs'(0) = sign(0) = 0", "[ops][unary]") {
  Tensor i = from_vector<int64_t>({-3, 0, 5});
  REQUIRE(abs(i).dtype() == DType::i64);
  REQUIRE(values(abs(i)) == std::vector<double>{3, 0, 5});
  REQUIRE(values(sign(i)) == std::vector<double>{-1, 0, 1});
  REQUIRE(values(square(i)) == std::vector<double>{9, 0, 25});
  REQUIRE(values(abs(from_vector<uint8_t>({200}))) == std::vector<double>{200});
  REQUIRE(values(sign(from_vector<uint8_t>({0, 7}))) == std::vector<double>{0, 1});
  Tensor f = from_vector<double>({-2.5, -0.0, 0, 3, kNaN});
  REQUIRE(all_close(abs(f), {2.5, 0, 0, 3, kNaN}, 0, 0));
  REQUIRE(!std::signbit(values(abs(f))[1]));
  REQUIRE(all_close(sign(f), {-1, 0, 0, 1, 0}, 0, 0));  // torch.sign(nan) == 0
  Tensor x = ember::test::f64({-1.5, 0, 2}, {3});
  sum(abs(x)).backward();
  REQUIRE(values(x.grad()) == std::vector<double>{-1, 0, 1});
}

TEST_CASE("rounding: floor, ceil, trunc and round half to even; zero gradients", "[ops][unary]") {
  Tensor x = from_vector<double>({-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.7, -2.7});
  REQUIRE(values(round(x)) == std::vector<double>{-2, -2, -0, 0, 2, 2, 3, -3});
  REQUIRE(values(floor(x)) == std::vector<double>{-3, -2, -1, 0, 1, 2, 2, -3});
  REQUIRE(values(ceil(x)) == std::vector<double>{-2, -1, -0, 1, 2, 3, 3, -2});
  REQUIRE(values(trunc(x)) == std::vector<double>{-2, -1, -0, 0, 1, 2, 2, -2});
  REQUIRE(values(round(x.to(DType::f32))) == values(round(x)));
  Tensor i = from_vector<int32_t>({-7, 8});
  REQUIRE(floor(i).dtype() == DType::i32);
  REQUIRE(values(round(i)) == std::vector<double>{-7, 8});
  Tensor leaf = ember::test::f64({0.3, 1.7}, {2});
  Tensor total = sum(floor(leaf) + ceil(leaf) + round(leaf) + trunc(leaf) + sign(leaf) + leaf);
  total.backward();
  REQUIRE(values(leaf.grad()) == std::vector<double>{1, 1});  // only the identity term counts
}

TEST_CASE("isnan, isinf, isfinite give bool tensors", "[ops][unary]") {
  Tensor x = from_vector<double>({1, kNaN, kInf, -kInf, 0}).to(DType::f32);
  REQUIRE(isnan(x).dtype() == DType::bool_);
  REQUIRE(values(isnan(x)) == std::vector<double>{0, 1, 0, 0, 0});
  REQUIRE(values(isinf(x)) == std::vector<double>{0, 0, 1, 1, 0});
  REQUIRE(values(isfinite(x)) == std::vector<double>{1, 0, 0, 0, 1});
  Tensor i = from_vector<int64_t>({1, 2});
  REQUIRE(values(isfinite(i)) == std::vector<double>{1, 1});
  REQUIRE(values(isnan(i)) == std::vector<double>{0, 0});
  REQUIRE(values(isinf(from_vector<bool>({true}))) == std::vector<double>{0});
}

TEST_CASE("sigmoid and tanh: fused first-order backward equals the create_graph composite", "[ops][unary]") {
  Tensor x = rand64({3, 4}, 30, -3, 3);
  Tensor g = rand64({3, 4}, 31).detach();
  for (auto op : {+[](const Tensor& t) { return sigmoid(t); }, +[](const Tensor& t) { return tanh(t); }}) {
    Tensor fused = autograd::grad({op(x)}, {x}, {g})[0];
    Tensor composite = autograd::grad({op(x)}, {x}, {g}, false, /*create_graph=*/true)[0];
    REQUIRE(composite.requires_grad());
    REQUIRE(all_close(fused, composite, 1e-14, 1e-15));
  }
}

TEST_CASE("large float32 unary work (parallel, vectorised path) matches a scalar loop", "[ops][unary]") {
  Generator gen(6);
  Tensor x = uniform(-3.0, 3.0, {300, 257}, gen);
  Tensor y = sigmoid(x);
  Tensor z = exp(x.t());
  std::vector<double> vx = values(x), vy = values(y), vz = values(z);
  for (size_t k = 0; k < vx.size(); k += 97) {
    REQUIRE(vy[k] == Approx(1 / (1 + std::exp(-vx[k]))).epsilon(1e-6));
  }
  for (int64_t c = 0; c < 257; c += 13)
    for (int64_t r = 0; r < 300; r += 17) REQUIRE(vz[c * 300 + r] == Approx(std::exp(vx[r * 257 + c])).epsilon(1e-6));
}

TEST_CASE("unary ops reject bad input", "[ops][unary][errors]") {
  Tensor b = from_vector<bool>({true});
  REQUIRE_THROWS_OP(abs(b), "abs");
  REQUIRE_THROWS_OP(sign(b), "sign");
  REQUIRE_THROWS_OP(square(b), "square");
  REQUIRE_THROWS_OP(floor(b), "floor");
  REQUIRE_THROWS_OP(round(b), "round");
  REQUIRE_THROWS_OP(log(Tensor()), "log");
  REQUIRE_THROWS_OP(erfinv(Tensor()), "erfinv");
  REQUIRE_THROWS_OP(isnan(Tensor()), "isnan");
  REQUIRE_THROWS_OP(exp(zeros({2}, DType::bf16)), "exp");
  REQUIRE_THROWS_OP(sigmoid(zeros({2}, DType::f16)), "sigmoid");
  REQUIRE_THROWS_OP(clamp(zeros({2}), 2.0, 1.0), "clamp");
}

TEST_CASE("float32 exp, sigmoid and tanh stay within a few ulp over their whole range", "[ops][unary]") {
  // The float32 kernels use branch-free polynomial versions (ops/cpu/math.h) so they vectorise;
  // compare against float64 <cmath> on the same float32 inputs.
  Tensor x = linspace(-103.0, 88.7, 40001);
  std::vector<double> vx = values(x), ve = values(exp(x)), vs = values(sigmoid(x)), vt = values(tanh(x));
  for (size_t k = 0; k < vx.size(); ++k) {
    const double v = vx[k];
    const double e = std::exp(v);
    if (e > 1.2e-38) {  // normal float results: relative error of about one ulp
      REQUIRE(std::fabs(ve[k] - e) <= 2.5e-7 * e);
    } else {  // denormal results: within a denormal step or two
      REQUIRE(std::fabs(ve[k] - e) <= 3e-45);
    }
    // Below -88.7 exp(-x) overflows float32 and sigmoid gives 0 instead of a denormal.
    REQUIRE(std::fabs(vs[k] - 1 / (1 + std::exp(-v))) <= 3e-7 / (1 + std::exp(-v)) + 1.2e-38);
    REQUIRE(std::fabs(vt[k] - std::tanh(v)) <= 3e-7 * std::fabs(std::tanh(v)));
  }
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> special = values(exp(from_vector<double>({89, inf, -105, -inf, kNaN}).to(DType::f32)));
  REQUIRE(special[0] == inf);
  REQUIRE(special[1] == inf);
  REQUIRE(special[2] == 0);
  REQUIRE(special[3] == 0);
  REQUIRE(std::isnan(special[4]));
  REQUIRE(values(tanh(from_vector<double>({1e-3, -1e-6}).to(DType::f32)))[1] == Approx(-1e-6).epsilon(1e-6));
}

TEST_CASE("float32 log is within one ulp from denormals to the largest float", "[ops][unary]") {
  // Inputs spread over every binade: 2^k * m for k in [-149, 127].
  std::vector<double> inputs;
  for (int k = -149; k <= 127; ++k)
    for (double m : {1.0, 1.1, 1.37, 1.4142, 1.5, 1.75, 1.999}) inputs.push_back(std::ldexp(m, k));
  Tensor x = from_vector(inputs).to(DType::f32);
  std::vector<double> vx = values(x), vy = values(log(x));
  for (size_t k = 0; k < vx.size(); ++k) {
    if (vx[k] == 0 || std::isinf(vx[k])) continue;  // 2^-149 * 1.1 rounds to the smallest denormal etc.
    const double expected = std::log(vx[k]);
    REQUIRE(std::fabs(vy[k] - expected) <= 1.2e-7 * std::fabs(expected));
  }
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> special = values(log(from_vector<double>({0, -1, inf, kNaN, 1}).to(DType::f32)));
  REQUIRE(special[0] == -inf);
  REQUIRE(std::isnan(special[1]));
  REQUIRE(special[2] == inf);
  REQUIRE(std::isnan(special[3]));
  REQUIRE(special[4] == 0);
}
