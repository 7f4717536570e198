// Parameter initialisers (torch.nn.init). Each fills a tensor in place under NoGradGuard: the draw is
// made in float64 on the CPU from `gen` and copied in (copy_ converts dtype and device), so the
// stream is the same whatever the parameter's dtype. See models/nn/init.h; tests: test/nn/test_init.cpp.
#include "models/nn/init.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "engine/parallel.h"
#include "engine/random.h"
#include "ops/ops.h"

namespace ember::nn::init {

namespace {

// Writes `values` (any dtype/device) into t's storage without recording history.
void fill_from(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  Tensor target = t.detach();
  target.copy_(values);
}

void check_floating(const Tensor& t, const char* op) {
  EMBER_CHECK(t.defined(), "init.{}: tensor is undefined", op);
  EMBER_CHECK(t.is_floating_point(), "init.{}: tensor must be floating point, got {}", op, t.describe());
}

int64_t pick_fan(const Tensor& t, const std::string& mode, const char* op) {
  EMBER_CHECK(mode == "fan_in" || mode == "fan_out", "init.{}: mode must be 'fan_in' or 'fan_out', got '{}'", op,
              mode);
  auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  return mode == "fan_in" ? fan_in : fan_out;
}

// Phi(x), the standard normal CDF.
double norm_cdf(double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); }

// Phi^-1(u), the standard normal quantile, for u in [0, 1] (+-inf at the ends): Wichura's AS241
// (PPND16, Applied Statistics 37, 1988; the algorithm of R's qnorm), relative error about 1e-16.
// Rational functions of degree 7; only the tails (|u - 0.5| > 0.425, 15 % of draws) take a log and
// a square root, so it costs a few ns where erfinv's Newton polish (erf and exp twice) costs ~100.
double normal_quantile(double u) {
  const double q = u - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q *
           (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r + 6.7265770927008700853e+4) * r +
                4.5921953931549871457e+4) * r + 1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r +
             1.3314166789178437745e+2) * r + 3.3871328727963666080e+0) /
           (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r + 3.9307895800092710610e+4) * r +
                2.1213794301586595867e+4) * r + 5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r +
             4.2313330701600911252e+1) * r + 1.0);
  }
  double r = q < 0.0 ? u : 1.0 - u;  // the tail's probability
  if (r <= 0.0) return q < 0.0 ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  r = std::sqrt(-std::log(r));
  double x;
  if (r <= 5.0) {
    r -= 1.6;
    x = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r + 2.41780725177450611770e-1) * r +
             1.27045825245236838258e+0) * r + 3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r +
          4.63033784615654529590e+0) * r + 1.42343711074968357734e+0) /
        (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r + 1.51986665636164571966e-2) * r +
             1.48103976427480074590e-1) * r + 6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r +
          2.05319162663775882187e+0) * r + 1.0);
  } else {
    r -= 5.0;
    x = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 1.24266094738807843860e-3) * r +
             2.65321895265761230930e-2) * r + 2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r +
          5.46378491116411436990e+0) * r + 6.65790464350110377720e+0) /
        (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r + 1.84631831751005468180e-5) * r +
             7.86869131145613259100e-4) * r + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r +
          5.99832206555887937690e-1) * r + 1.0);
  }
  return q < 0.0 ? -x : x;
}

}  // namespace

std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& t) {
  EMBER_CHECK(t.defined() && t.dim() >= 2,
              "init.fan_in_and_fan_out: fans need a tensor of at least 2 dims, got {}",
              t.defined() ? t.describe() : std::string("undefined"));
  int64_t receptive_field = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive_field *= t.size(d);
  return {t.size(1) * receptive_field, t.size(0) * receptive_field};
}

double calculate_gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "sigmoid" || nonlinearity.starts_with("conv")) return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1.0 + param * param));
  if (nonlinearity == "selu") return 3.0 / 4.0;
  EMBER_FAIL("init.calculate_gain: unknown nonlinearity '{}' (known: linear, conv1d, conv2d, conv3d, "
             "conv_transpose1d, conv_transpose2d, sigmoid, tanh, relu, leaky_relu, selu)",
             nonlinearity);
}

void uniform_(const Tensor& t, double low, double high, Generator& gen) {
  check_floating(t, "uniform_");
  EMBER_CHECK(low <= high, "init.uniform_: low {} must not exceed high {}", low, high);
  fill_from(t, uniform(low, high, t.sizes(), gen, DType::f64));
}

void normal_(const Tensor& t, double mean, double std, Generator& gen) {
  check_floating(t, "normal_");
  EMBER_CHECK(std >= 0.0, "init.normal_: std must be >= 0, got {}", std);
  fill_from(t, normal(mean, std, t.sizes(), gen, DType::f64));
}

// timm's trunc_normal_ by inverse CDF: u uniform in [Phi(a'), Phi(b')] (a', b' standardised), then
// mean + std Phi^-1(u) lies in [a, b] (timm writes Phi^-1 through erfinv; the same numbers up to
// rounding). Element i uses Philox block offset + i of `gen` (lanes 0-1, as uniform()), drawn by
// the vectorised philox4x32_blocks on every thread; the clamp guards the ends against rounding.
void trunc_normal_(const Tensor& t, double mean, double std, double a, double b, Generator& gen) {
  check_floating(t, "trunc_normal_");
  EMBER_CHECK(std > 0.0 && a < b, "init.trunc_normal_: need std > 0 and a < b, got std={}, a={}, b={}", std, a,
              b);
  const double lo = norm_cdf((a - mean) / std), hi = norm_cdf((b - mean) / std);
  Tensor values = empty(t.sizes(), DType::f64);
  const int64_t n = values.numel();
  const uint64_t start = gen.advance(static_cast<uint64_t>(n)), seed = gen.seed();
  double* out = values.data_ptr<double>();
  parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
    constexpr int64_t kChunk = 256;
    uint32_t lane0[kChunk], lane1[kChunk];
    for (int64_t chunk = begin; chunk < end; chunk += kChunk) {
      const int64_t count = std::min(kChunk, end - chunk);
      philox4x32_blocks(start + static_cast<uint64_t>(chunk), seed, count, lane0, lane1);
      for (int64_t j = 0; j < count; ++j) {
        const double u = lo + (hi - lo) * uniform_from_bits(lane0[j], lane1[j]);
        out[chunk + j] = std::clamp(mean + std * normal_quantile(u), a, b);
      }
    }
  });
  fill_from(t, values);
}

void constant_(const Tensor& t, double value) {
  check_floating(t, "constant_");
  NoGradGuard no_grad;
  Tensor target = t.detach();
  target.fill_(value);
}

void zeros_(const Tensor& t) { constant_(t, 0.0); }
void ones_(const Tensor& t) { constant_(t, 1.0); }

void kaiming_uniform_(const Tensor& t, double a, const std::string& mode, const std::string& nonlinearity,
                      Generator& gen) {
  check_floating(t, "kaiming_uniform_");
  const int64_t fan = pick_fan(t, mode, "kaiming_uniform_");
  EMBER_CHECK(fan > 0, "init.kaiming_uniform_: zero {} for {}", mode, t.describe());
  const double bound = std::sqrt(3.0) * calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
  uniform_(t, -bound, bound, gen);
}

void kaiming_normal_(const Tensor& t, double a, const std::string& mode, const std::string& nonlinearity,
                     Generator& gen) {
  check_floating(t, "kaiming_normal_");
  const int64_t fan = pick_fan(t, mode, "kaiming_normal_");
  EMBER_CHECK(fan > 0, "init.kaiming_normal_: zero {} for {}", mode, t.describe());
  normal_(t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan)), gen);
}

namespace {
double xavier_std(const Tensor& t, double gain) {
  auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  return gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
}
}  // namespace

void xavier_uniform_(const Tensor& t, double gain, Generator& gen) {
  check_floating(t, "xavier_uniform_");
  const double bound = std::sqrt(3.0) * xavier_std(t, gain);
  uniform_(t, -bound, bound, gen);
}

void xavier_normal_(const Tensor& t, double gain, Generator& gen) {
  check_floating(t, "xavier_normal_");
  normal_(t, 0.0, xavier_std(t, gain), gen);
}

}  // namespace ember::nn::init

namespace ember::nn::init {

void linear_default_(const Tensor& weight, const Tensor& bias, Generator& gen) {
  kaiming_uniform_(weight, std::sqrt(5.0), "fan_in", "leaky_relu", gen);
  if (!bias.defined()) return;
  const int64_t fan_in = fan_in_and_fan_out(weight).first;
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
  uniform_(bias, -bound, bound, gen);
}

}  // namespace ember::nn::init
