// nn::init: bounds and moments of large draws for every initialiser, fan computation, gains,
// determinism under a Generator, no autograd history. Twin: models/nn/init.cpp.
#include <cmath>

#include "helpers.h"
#include "models/nn/nn.h"

using namespace ember;
using namespace ember::test;

namespace {

struct Moments {
  double mean, std, min, max;
};

Moments moments(const Tensor& t) {
  auto v = values(t);
  double sum = 0.0, sq = 0.0, lo = v[0], hi = v[0];
  for (double x : v) {
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double mean = sum / static_cast<double>(v.size());
  for (double x : v) sq += (x - mean) * (x - mean);
  return {mean, std::sqrt(sq / static_cast<double>(v.size())), lo, hi};
}

double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); }
double Phi(double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); }

// A (256, 128, 3, 3) conv weight: fan_in 1152, fan_out 2304, 294,912 draws (mean's standard
// error ~ 0.002 std, so a 2% tolerance on the std is ~8 sigma).
Tensor conv_weight() { return empty({256, 128, 3, 3}); }

}  // namespace

TEST_CASE("fan_in_and_fan_out and calculate_gain", "[nn][init]") {
  REQUIRE(nn::init::fan_in_and_fan_out(empty({10, 20})) == std::pair<int64_t, int64_t>{20, 10});
  REQUIRE(nn::init::fan_in_and_fan_out(empty({16, 8, 3, 5})) == std::pair<int64_t, int64_t>{120, 240});
  REQUIRE(nn::init::fan_in_and_fan_out(empty({4, 6, 7})) == std::pair<int64_t, int64_t>{42, 28});
  REQUIRE_THROWS_OP(nn::init::fan_in_and_fan_out(empty({10})), "at least 2 dims, got float32[10]");
  REQUIRE(nn::init::calculate_gain("linear") == 1.0);
  REQUIRE(nn::init::calculate_gain("conv2d") == 1.0);
  REQUIRE(nn::init::calculate_gain("sigmoid") == 1.0);
  REQUIRE(nn::init::calculate_gain("tanh") == Approx(5.0 / 3.0));
  REQUIRE(nn::init::calculate_gain("relu") == Approx(std::sqrt(2.0)));
  REQUIRE(nn::init::calculate_gain("leaky_relu") == Approx(std::sqrt(2.0 / (1.0 + 1e-4))));
  REQUIRE(nn::init::calculate_gain("leaky_relu", std::sqrt(5.0)) == Approx(std::sqrt(1.0 / 3.0)));
  REQUIRE(nn::init::calculate_gain("selu") == 0.75);
  REQUIRE_THROWS_OP(nn::init::calculate_gain("swish"), "unknown nonlinearity 'swish'");
}

TEST_CASE("uniform_, normal_, constants", "[nn][init]") {
  Generator gen(1);
  Tensor t = conv_weight();
  nn::init::uniform_(t, -0.5, 1.5, gen);
  auto m = moments(t);
  REQUIRE(m.min >= -0.5);
  REQUIRE(m.max < 1.5);
  REQUIRE(m.mean == Approx(0.5).margin(0.01));
  REQUIRE(m.std == Approx(2.0 / std::sqrt(12.0)).epsilon(0.01));

  nn::init::normal_(t, 3.0, 0.25, gen);
  m = moments(t);
  REQUIRE(m.mean == Approx(3.0).margin(0.002));
  REQUIRE(m.std == Approx(0.25).epsilon(0.01));

  nn::init::constant_(t, 0.75);
  REQUIRE((moments(t).min == 0.75 && moments(t).max == 0.75));
  nn::init::zeros_(t);
  REQUIRE(moments(t).max == 0.0);
  nn::init::ones_(t);
  REQUIRE(moments(t).min == 1.0);
  REQUIRE_THROWS_OP(nn::init::normal_(empty({3}, DType::i64)), "init.normal_: tensor must be floating point");
  REQUIRE_THROWS_OP(nn::init::uniform_(t, 1.0, 0.0), "init.uniform_");
}

TEST_CASE("trunc_normal_ matches the truncated normal's bounds and moments", "[nn][init]") {
  Generator gen(2);
  Tensor t = conv_weight();
  // Standard normal on [-2, 2]: var = 1 - 2 a phi(a) / (2 Phi(a) - 1) with a = 2.
  nn::init::trunc_normal_(t, 0.0, 1.0, -2.0, 2.0, gen);
  auto m = moments(t);
  REQUIRE(m.min >= -2.0);
  REQUIRE(m.max <= 2.0);
  REQUIRE(m.min < -1.99);  // the tails reach the bounds
  REQUIRE(m.mean == Approx(0.0).margin(0.005));
  REQUIRE(m.std == Approx(std::sqrt(1.0 - 4.0 * phi(2.0) / (2.0 * Phi(2.0) - 1.0))).epsilon(0.01));

  // Asymmetric: N(1, 0.5^2) on [0, 1.5] (alpha = -2, beta = 1).
  nn::init::trunc_normal_(t, 1.0, 0.5, 0.0, 1.5, gen);
  m = moments(t);
  const double alpha = -2.0, beta = 1.0, z = Phi(beta) - Phi(alpha);
  const double mean = 1.0 + 0.5 * (phi(alpha) - phi(beta)) / z;
  const double var = 0.25 * (1.0 + (alpha * phi(alpha) - beta * phi(beta)) / z -
                             std::pow((phi(alpha) - phi(beta)) / z, 2));
  REQUIRE(m.min >= 0.0);
  REQUIRE(m.max <= 1.5);
  REQUIRE(m.mean == Approx(mean).margin(0.003));
  REQUIRE(m.std == Approx(std::sqrt(var)).epsilon(0.01));

  // timm's ViT call trunc_normal_(std=.02): bounds +-2 are 100 std away, so a plain normal.
  nn::init::trunc_normal_(t, 0.0, 0.02, -2.0, 2.0, gen);
  REQUIRE(moments(t).std == Approx(0.02).epsilon(0.01));
  REQUIRE_THROWS_OP(nn::init::trunc_normal_(t, 0.0, 1.0, 2.0, -2.0, gen), "init.trunc_normal_");
}

TEST_CASE("trunc_normal_: the inverse-CDF numbers, the tails, determinism per seed", "[nn][init]") {
  // The same Philox blocks through timm's formula, mean + std sqrt(2) erfinv(u), u uniform in
  // [2 Phi(a') - 1, 2 Phi(b') - 1]: the quantile function we use must give the same numbers.
  const double mean = 0.3, std = 1.7, a = -1.0, b = 2.5;
  Tensor t = empty({40, 50}, DType::f64);
  Generator gen(5);
  nn::init::trunc_normal_(t, mean, std, a, b, gen);
  REQUIRE(gen.state().offset == 2000);  // one block per element
  Generator replay(5);
  const double lo = Phi((a - mean) / std), hi = Phi((b - mean) / std);
  Tensor u = uniform(2.0 * lo - 1.0, 2.0 * hi - 1.0, {40, 50}, replay, DType::f64);
  const Tensor timm = clamp(erfinv(u) * (std * std::sqrt(2.0)) + mean, a, b);
  REQUIRE(all_close(t, timm, 1e-10, 1e-10));

  // Same seed, same numbers (whatever the dtype); another seed, other numbers.
  Tensor again = empty({40, 50}, DType::f32);
  Generator same(5), other(6);
  nn::init::trunc_normal_(again, mean, std, a, b, same);
  REQUIRE(all_close(again.to(DType::f64), t, 1e-6, 1e-6));
  nn::init::trunc_normal_(again, mean, std, a, b, other);
  REQUIRE(!all_close(again.to(DType::f64), t, 1e-3, 1e-3));

  // Far tails, where the quantile takes its log branches: N(0, 1) on [3, 4] and on [-8, -7.5].
  // Mean of a truncated standard normal: (phi(a) - phi(b)) / (Phi(b) - Phi(a)), with Phi from
  // erfc so that the far tail keeps its digits.
  const auto tail_mean = [](double lo_bound, double hi_bound) {
    const auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
    return (phi(lo_bound) - phi(hi_bound)) / (cdf(hi_bound) - cdf(lo_bound));
  };
  Tensor w = empty({100000}, DType::f64);
  for (const auto& [lo_bound, hi_bound] : {std::pair{3.0, 4.0}, std::pair{-8.0, -7.5}}) {
    INFO("bounds " << lo_bound << ", " << hi_bound);
    nn::init::trunc_normal_(w, 0.0, 1.0, lo_bound, hi_bound, gen);
    const auto m = moments(w);
    REQUIRE(m.min >= lo_bound);
    REQUIRE(m.max <= hi_bound);
    REQUIRE(m.mean == Approx(tail_mean(lo_bound, hi_bound)).margin(0.003));
  }
}

TEST_CASE("kaiming and xavier: bounds and std from the fans", "[nn][init]") {
  Generator gen(3);
  Tensor t = conv_weight();
  const double fan_in = 1152, fan_out = 2304;

  nn::init::kaiming_uniform_(t, 0.0, "fan_in", "relu", gen);
  auto m = moments(t);
  const double relu_std = std::sqrt(2.0) / std::sqrt(fan_in);
  REQUIRE(m.max <= std::sqrt(3.0) * relu_std);
  REQUIRE(m.min >= -std::sqrt(3.0) * relu_std);
  REQUIRE(m.std == Approx(relu_std).epsilon(0.01));

  // PyTorch's Linear/Conv default: a = sqrt(5) gives U(+-1/sqrt(fan_in)).
  nn::init::kaiming_uniform_(t, std::sqrt(5.0), "fan_in", "leaky_relu", gen);
  m = moments(t);
  REQUIRE(m.max <= 1.0 / std::sqrt(fan_in));
  REQUIRE(m.max > 0.99 / std::sqrt(fan_in));
  REQUIRE(m.std == Approx(1.0 / std::sqrt(3.0 * fan_in)).epsilon(0.01));

  nn::init::kaiming_normal_(t, 0.0, "fan_out", "relu", gen);  // torchvision's ResNet conv init
  m = moments(t);
  REQUIRE(m.mean == Approx(0.0).margin(1e-4));
  REQUIRE(m.std == Approx(std::sqrt(2.0 / fan_out)).epsilon(0.01));

  nn::init::xavier_uniform_(t, 1.0, gen);
  m = moments(t);
  const double xavier_std = std::sqrt(2.0 / (fan_in + fan_out));
  REQUIRE(m.max <= std::sqrt(3.0) * xavier_std);
  REQUIRE(m.std == Approx(xavier_std).epsilon(0.01));

  nn::init::xavier_normal_(t, 2.0, gen);
  REQUIRE(moments(t).std == Approx(2.0 * xavier_std).epsilon(0.01));

  REQUIRE_THROWS_OP(nn::init::kaiming_uniform_(t, 0.0, "fan_avg"), "mode must be 'fan_in' or 'fan_out'");
  REQUIRE_THROWS_OP(nn::init::xavier_uniform_(empty({5})), "at least 2 dims");
}

TEST_CASE("init draws are deterministic, dtype-independent and leave no history", "[nn][init]") {
  Tensor a = empty({64, 32}), b = empty({64, 32}, DType::f64);
  Generator g1(9), g2(9);
  nn::init::kaiming_uniform_(a, std::sqrt(5.0), "fan_in", "leaky_relu", g1);
  nn::init::kaiming_uniform_(b, std::sqrt(5.0), "fan_in", "leaky_relu", g2);
  REQUIRE(all_close(a, values(b), 1e-6, 1e-7));  // the f32 draw is the rounded f64 draw
  REQUIRE(g1.state().offset == g2.state().offset);

  nn::Linear fc(8, 4);
  const uint32_t version = fc.weight.version();
  nn::init::normal_(fc.weight, 0.0, 1.0);
  REQUIRE(fc.weight.is_leaf());
  REQUIRE(fc.weight.requires_grad());
  REQUIRE(fc.weight.version() > version);  // in place: anything holding the tensor sees it

  // Layer defaults (PyTorch): BatchNorm/LayerNorm weight 1 bias 0, Embedding N(0, 1).
  nn::BatchNorm2d bn(5);
  REQUIRE(values(bn.weight) == std::vector<double>(5, 1.0));
  REQUIRE(values(bn.bias) == std::vector<double>(5, 0.0));
  REQUIRE(values(bn.running_var) == std::vector<double>(5, 1.0));
  nn::LayerNorm ln({6});
  REQUIRE(values(ln.weight) == std::vector<double>(6, 1.0));
  REQUIRE(values(ln.bias) == std::vector<double>(6, 0.0));
  manual_seed(10);
  nn::Embedding emb(1000, 64);
  auto m = moments(emb.weight);
  REQUIRE(m.mean == Approx(0.0).margin(0.01));
  REQUIRE(m.std == Approx(1.0).epsilon(0.01));
}
