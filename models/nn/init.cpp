// Parameter initialisers (torch.nn.init). Each fills a tensor in place under NoGradGuard: the draw is
// made in float64 on the CPU from `gen` and copied in (copy_ converts dtype and device), so the
// stream is the same whatever the parameter's dtype. See models/nn/init.h; tests: test/nn/test_init.cpp.
#include "models/nn/init.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
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

// timm's trunc_normal_: uniform in [2 Phi(a') - 1, 2 Phi(b') - 1], then erfinv maps it back to a
// normal truncated to [a, b] (a', b' standardised); the clamp guards the ends against rounding.
void trunc_normal_(const Tensor& t, double mean, double std, double a, double b, Generator& gen) {
  check_floating(t, "trunc_normal_");
  EMBER_CHECK(std > 0.0 && a < b, "init.trunc_normal_: need std > 0 and a < b, got std={}, a={}, b={}", std, a,
              b);
  const double lo = norm_cdf((a - mean) / std), hi = norm_cdf((b - mean) / std);
  Tensor u = uniform(2.0 * lo - 1.0, 2.0 * hi - 1.0, t.sizes(), gen, DType::f64);
  Tensor z = erfinv(u);
  z.mul_(std * std::sqrt(2.0)).add_(mean).clamp_(a, b);
  fill_from(t, z);
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
