// Tests for ops/activation.h: forward values against closed forms and hand-computed numbers,
// PyTorch's gradients at the kinks, the fused first-order backward against the create_graph
// composite, gradcheck/gradgradcheck on several layouts, and bad input.
#include <functional>
#include <limits>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::rand64;
using ember::test::values;

namespace {

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

double sigmoid_ref(double v) { return 1 / (1 + std::exp(-v)); }

struct ActivationCase {
  const char* name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> reference;
};

std::vector<ActivationCase> cases() {
  return {
      {"relu", [](const Tensor& x) { return relu(x); }, [](double v) { return v > 0 ? v : 0.0; }},
      {"relu6", [](const Tensor& x) { return relu6(x); }, [](double v) { return std::min(std::max(v, 0.0), 6.0); }},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }, [](double v) { return v > 0 ? v : 0.2 * v; }},
      {"elu", [](const Tensor& x) { return elu(x, 1.5); },
       [](double v) { return v > 0 ? v : 1.5 * (std::exp(v) - 1); }},
      {"selu", [](const Tensor& x) { return selu(x); },
       [](double v) { return kSeluScale * (v > 0 ? v : kSeluAlpha * (std::exp(v) - 1)); }},
      {"gelu", [](const Tensor& x) { return gelu(x); },
       [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); },
       [](double v) {
         return 0.5 * v * (1 + std::tanh(std::sqrt(2 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
       }},
      {"silu", [](const Tensor& x) { return silu(x); }, [](double v) { return v * sigmoid_ref(v); }},
      {"mish", [](const Tensor& x) { return mish(x); },
       [](double v) { return v * std::tanh(std::log(1 + std::exp(v))); }},
      {"softplus", [](const Tensor& x) { return softplus(x, 2.0, 6.0); },
       [](double v) { return 2 * v > 6 ? v : std::log(1 + std::exp(2 * v)) / 2; }},
      {"hardswish", [](const Tensor& x) { return hardswish(x); },
       [](double v) { return v * std::min(std::max(v + 3, 0.0), 6.0) / 6; }},
      {"hardsigmoid", [](const Tensor& x) { return hardsigmoid(x); },
       [](double v) { return std::min(std::max(v + 3, 0.0), 6.0) / 6; }},
      {"hardtanh", [](const Tensor& x) { return hardtanh(x, -0.5, 2.0); },
       [](double v) { return std::min(std::max(v, -0.5), 2.0); }},
      {"softsign", [](const Tensor& x) { return softsign(x); }, [](double v) { return v / (1 + std::fabs(v)); }},
      {"logsigmoid", [](const Tensor& x) { return logsigmoid(x); }, [](double v) { return std::log(sigmoid_ref(v)); }},
  };
}

// Inputs spread over every region of every activation (both sides of 0, +-3, 6 and the softplus
// threshold), avoiding the kinks themselves by a margin much larger than gradcheck's eps.
Tensor spread_input(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  Tensor x = uniform(-7.0, 8.0, shape, gen, DType::f64);
  std::vector<double> v = values(x);
  for (double& e : v) {
    for (double kink : {-3.0, -0.5, 0.0, 2.0, 3.0, 6.0}) {
      if (std::fabs(e - kink) < 0.05) e = kink + 0.1;
    }
  }
  return from_vector(v, shape, TensorOptions(DType::f64).requires_grad(true));
}

}  // namespace

TEST_CASE("activations match their closed forms in float64 and float32", "[ops][activation]") {
  Tensor x = spread_input({6, 9}, 1).detach();
  for (const auto& c : cases()) {
    INFO(c.name);
    std::vector<double> expected;
    for (double v : values(x)) expected.push_back(c.reference(v));
    REQUIRE(all_close(c.op(x), expected, 1e-12, 1e-14));
    Tensor y = c.op(x.to(DType::f32));
    REQUIRE(y.dtype() == DType::f32);
    REQUIRE(all_close(y, expected, 1e-5, 1e-6));
    REQUIRE(all_close(c.op(x.t()), values(c.op(x.t().contiguous())), 0, 0));
  }
}

TEST_CASE("activation values at hand-computed points", "[ops][activation]") {
  Tensor x = from_vector<double>({-1, 0, 1});
  REQUIRE(all_close(gelu(x), {-0.15865525393145707, 0, 0.8413447460685429}, 1e-14, 1e-15));
  REQUIRE(all_close(silu(x), {-0.2689414213699951, 0, 0.7310585786300049}, 1e-14, 1e-15));
  REQUIRE(all_close(mish(x), {-0.30340146137410895, 0, 0.8650983882673103}, 1e-14, 1e-15));
  REQUIRE(all_close(selu(x), {-1.1113307378125628, 0, 1.0507009873554805}, 1e-14, 1e-15));
  REQUIRE(all_close(softplus(x), {0.31326168751822286, 0.6931471805599453, 1.3132616875182228}, 1e-14, 1e-15));
  REQUIRE(all_close(logsigmoid(x), {-1.3132616875182228, -0.6931471805599453, -0.31326168751822286}, 1e-14, 1e-15));
  REQUIRE(all_close(hardswish(x), {-1.0 / 3, 0, 2.0 / 3}, 1e-15, 0));
  REQUIRE(values(relu6(from_vector<double>({-1, 3, 7}))) == std::vector<double>{0, 3, 6});
  // Saturation: no overflow for large |x|; softplus is linear above the threshold.
  Tensor big = from_vector<double>({-1000, 1000});
  REQUIRE(all_close(logsigmoid(big), {-1000, 0}, 1e-15, 0));
  REQUIRE(all_close(softplus(big), {0, 1000}, 1e-15, 0));
  REQUIRE(all_close(mish(big), {0, 1000}, 1e-15, 0));
  REQUIRE(all_close(silu(big), {0, 1000}, 1e-15, 0));
  // NaN propagates through the relu family as in PyTorch.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  REQUIRE(std::isnan(values(relu(from_vector<double>({nan})))[0]));
  REQUIRE(std::isnan(values(relu6(from_vector<double>({nan})))[0]));
}

TEST_CASE("gradients at the kinks follow PyTorch's conventions", "[ops][activation]") {
  // Both backward paths: the fused kernel and the create_graph composite.
  for (bool create_graph : {false, true}) {
    INFO("create_graph " << create_graph);
    auto grad_at = [create_graph](const std::function<Tensor(const Tensor&)>& op, std::vector<double> points) {
      Tensor x = ember::test::f64(points, {static_cast<int64_t>(points.size())});
      return values(autograd::grad({sum(op(x))}, {x}, {}, false, create_graph)[0]);
    };
    REQUIRE(grad_at([](const Tensor& x) { return relu(x); }, {0, 1, -1}) == std::vector<double>{0, 1, 0});
    REQUIRE(grad_at([](const Tensor& x) { return relu6(x); }, {0, 6, 3}) == std::vector<double>{0, 0, 1});
    REQUIRE(grad_at([](const Tensor& x) { return hardtanh(x); }, {-1, 1, 0}) == std::vector<double>{0, 0, 1});
    REQUIRE(all_close(grad_at([](const Tensor& x) { return leaky_relu(x, 0.1); }, {0, 2}), {0.1, 1}, 1e-15, 0));
    REQUIRE(all_close(grad_at([](const Tensor& x) { return elu(x, 2.0); }, {0}), {2}, 1e-15, 0));
    REQUIRE(all_close(grad_at([](const Tensor& x) { return hardswish(x); }, {-3, 3, -4, 4}), {-0.5, 1.5, 0, 1},
                      1e-15, 0));
    REQUIRE(all_close(grad_at([](const Tensor& x) { return hardsigmoid(x); }, {-3, 3, 0}), {0, 0, 1.0 / 6}, 1e-15,
                      0));
    REQUIRE(all_close(grad_at([](const Tensor& x) { return softsign(x); }, {0}), {1}, 1e-15, 0));
  }
}

TEST_CASE("fused first-order backward equals the create_graph composite", "[ops][activation]") {
  Tensor x = spread_input({5, 8}, 2);
  Tensor g = rand64({5, 8}, 3).detach();
  for (const auto& c : cases()) {
    INFO(c.name);
    Tensor fused = autograd::grad({c.op(x)}, {x}, {g})[0];
    Tensor composite = autograd::grad({c.op(x)}, {x}, {g}, false, /*create_graph=*/true)[0];
    // Piecewise-linear activations have a derivative that is constant in x: nothing to record.
    const std::string name = c.name;
    const bool piecewise_linear = name == "relu" || name == "relu6" || name == "leaky_relu" || name == "hardtanh" ||
                                  name == "hardsigmoid";
    REQUIRE(composite.requires_grad() == !piecewise_linear);
    REQUIRE(all_close(fused, composite, 1e-12, 1e-14));
    // float32 runs the same kernels.
    Tensor x32 = x.detach().to(DType::f32).requires_grad_(true);
    Tensor fused32 = autograd::grad({c.op(x32)}, {x32}, {g.to(DType::f32)})[0];
    REQUIRE(all_close(fused32, values(fused), 1e-4, 1e-5));
  }
}

TEST_CASE("gradcheck and gradgradcheck of every activation on every layout", "[ops][activation]") {
  const TensorList inputs = {spread_input({2, 3}, 10), spread_input({3, 2}, 11).t(),
                             spread_input({2, 6}, 12).slice(1, 1, 6, 2), spread_input({1, 3}, 13).expand({2, 3})};
  for (const auto& c : cases()) {
    INFO(c.name);
    auto f = [&c](const TensorList& in) -> TensorList { return {c.op(in[0])}; };
    for (const Tensor& x : inputs) {
      REQUIRE(gradcheck(f, {x}));
      REQUIRE(gradgradcheck(f, {x}));
    }
  }
}

TEST_CASE("glu halves along dim and gates with sigmoid", "[ops][activation]") {
  Tensor x = from_vector<double>({1, 2, 0, -1, 3, 4, 1, 2}, {2, 4});
  std::vector<double> expected{1 * sigmoid_ref(0), 2 * sigmoid_ref(-1), 3 * sigmoid_ref(1), 4 * sigmoid_ref(2)};
  REQUIRE(glu(x).sizes() == Shape{2, 2});
  REQUIRE(all_close(glu(x), expected, 1e-15, 0));
  REQUIRE(all_close(glu(x.t(), 0), values(glu(x).t()), 1e-15, 0));
  Tensor y = rand64({2, 4, 3}, 20, -2, 2);
  auto f = [](const TensorList& in) -> TensorList { return {glu(in[0], 1), glu(in[0].transpose(0, 2), -1)}; };
  REQUIRE(gradcheck(f, {y}));
  REQUIRE(gradgradcheck(f, {y}));
}

TEST_CASE("large float32 activations (parallel, vectorised path) match a scalar loop", "[ops][activation]") {
  Generator gen(7);
  Tensor x = uniform(-6.0, 6.0, {300, 257}, gen).requires_grad_(true);
  Tensor y = gelu(x);
  Tensor r = relu(x);
  Tensor g = autograd::grad({sum(silu(x))}, {x})[0];
  std::vector<double> vx = values(x), vy = values(y), vr = values(r), vg = values(g);
  for (size_t k = 0; k < vx.size(); k += 101) {
    const double v = vx[k];
    REQUIRE(vy[k] == Approx(0.5 * v * (1 + std::erf(v / std::sqrt(2.0)))).epsilon(1e-5).margin(1e-6));
    REQUIRE(vr[k] == (v > 0 ? v : 0.0));
    const double s = sigmoid_ref(v);
    REQUIRE(vg[k] == Approx(s * (1 + v * (1 - s))).epsilon(1e-5).margin(1e-6));
  }
}

TEST_CASE("activations reject bad input", "[ops][activation][errors]") {
  Tensor i = from_vector<int64_t>({1, 2});
  REQUIRE_THROWS_OP(relu(i), "relu");
  REQUIRE_THROWS_OP(gelu(zeros({2}, DType::bf16)), "gelu");
  REQUIRE_THROWS_OP(silu(Tensor()), "silu");
  REQUIRE_THROWS_OP(gelu(zeros({2}), "fast"), "gelu");
  REQUIRE_THROWS_OP(hardtanh(zeros({2}), 1.0, -1.0), "hardtanh");
  REQUIRE_THROWS_OP(softplus(zeros({2}), 0.0), "softplus");
  REQUIRE_THROWS_OP(glu(zeros({2, 3})), "glu");
  REQUIRE_THROWS_OP(glu(zeros({2, 4}), 2), "glu");
  REQUIRE_THROWS_OP(glu(zeros({})), "glu");
  REQUIRE_THROWS_OP(glu(i), "glu");
}

TEST_CASE("float32 activations built on the polynomial exp/erf/tanh stay accurate", "[ops][activation]") {
  Tensor x = linspace(-12.0, 12.0, 24001);
  std::vector<double> vx = values(x);
  for (const auto& c : cases()) {
    INFO(c.name);
    std::vector<double> vy = values(c.op(x));
    for (size_t k = 0; k < vx.size(); ++k) {
      const double expected = c.reference(vx[k]);
      REQUIRE(std::fabs(vy[k] - expected) <= 1e-6 * std::fabs(expected) + 1e-7 * std::max(1.0, std::fabs(vx[k])));
    }
  }
}
