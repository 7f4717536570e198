// damped_ema_kernel / damped_ema (MEGA's EMA): the kernel against a hand-written recurrence, the
// layer against the EMA run step by step (causal and bidirectional), gradcheck, bad input.
// Twins: ops/damped_ema.{h,cpp}.
#include <cmath>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0) {
  Generator gen(seed);
  return uniform(low, high, shape, gen, DType::f64).requires_grad_(true);
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

struct Parameters {
  Tensor alpha_logit, delta_logit, beta, gamma, omega;
  explicit Parameters(int64_t D, int64_t N, uint64_t seed)
      : alpha_logit(random_tensor({D, N}, seed, -2.0, 2.0)),
        delta_logit(random_tensor({D, N}, seed + 1, -2.0, 2.0)),
        beta(random_tensor({D, N}, seed + 2)),
        gamma(random_tensor({D, N}, seed + 3)),
        omega(random_tensor({D}, seed + 4)) {}
};

// MEGA's EMA as a recurrence over time, per channel d and EMA dim n in [n0, n1):
//   h_t = α β x_t + (1 - α δ) h_{t-1},  y_t = Σ_n γ h_t   (x read in the order `order` gives)
std::vector<double> ema_by_recurrence(const std::vector<double>& x, int64_t B, int64_t L, int64_t D,
                                      const Parameters& p, int64_t n0, int64_t n1, bool reversed) {
  const std::vector<double> a = values(p.alpha_logit), dl = values(p.delta_logit), be = values(p.beta),
                            ga = values(p.gamma);
  const int64_t N = p.alpha_logit.size(1);
  std::vector<double> y(B * L * D, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t n = n0; n < n1; ++n) {
        const double alpha = sigmoid(a[d * N + n]), delta = sigmoid(dl[d * N + n]);
        double h = 0.0;
        for (int64_t step = 0; step < L; ++step) {
          const int64_t t = reversed ? L - 1 - step : step;
          h = alpha * be[d * N + n] * x[(b * L + t) * D + d] + (1.0 - alpha * delta) * h;
          y[(b * L + t) * D + d] += ga[d * N + n] * h;
        }
      }
  return y;
}

}  // namespace

TEST_CASE("damped_ema_kernel matches the hand-written formula", "[ops][damped_ema]") {
  Parameters p(3, 4, 10);
  const int64_t L = 9;
  Tensor k = damped_ema_kernel(p.alpha_logit, p.delta_logit, p.beta, p.gamma, L);
  REQUIRE(k.sizes() == Shape{3, L});
  const std::vector<double> a = values(p.alpha_logit), dl = values(p.delta_logit), be = values(p.beta),
                            ga = values(p.gamma);
  std::vector<double> expected(3 * L, 0.0);
  for (int64_t d = 0; d < 3; ++d)
    for (int64_t n = 0; n < 4; ++n) {
      const double alpha = sigmoid(a[d * 4 + n]), q = 1.0 - alpha * sigmoid(dl[d * 4 + n]);
      double power = 1.0;  // q^t, by repeated multiplication
      for (int64_t t = 0; t < L; ++t, power *= q) expected[d * L + t] += ga[d * 4 + n] * alpha * be[d * 4 + n] * power;
    }
  REQUIRE(all_close(values(k), expected, 1e-12, 1e-14));
  // float32: the powers are accumulated in double, so a long kernel does not drift.
  const int64_t long_L = 20000;
  Tensor k_long = damped_ema_kernel(p.alpha_logit.detach().to(DType::f32), p.delta_logit.detach().to(DType::f32),
                                    p.beta.detach().to(DType::f32), p.gamma.detach().to(DType::f32), long_L);
  Tensor k_long64 = damped_ema_kernel(p.alpha_logit, p.delta_logit, p.beta, p.gamma, long_L);
  REQUIRE(all_close(k_long, k_long64, 1e-5, 1e-7));
  // Saturated logits in float32 (q rounds to 0) stay finite: q^0 = 1.
  Tensor big = full({1, 1}, 30.0, DType::f32);
  Tensor k32 = damped_ema_kernel(big, big, ones({1, 1}, DType::f32), ones({1, 1}, DType::f32), 4);
  REQUIRE(all_close(k32, {1, 0, 0, 0}, 1e-6, 1e-6));
}

TEST_CASE("damped_ema matches the EMA recurrence", "[ops][damped_ema]") {
  const int64_t B = 2, L = 37, D = 3, N = 4;
  Parameters p(D, N, 20);
  Tensor x = random_tensor({B, L, D}, 30);
  const std::vector<double> xv = values(x), omega = values(p.omega);
  auto with_skip = [&](std::vector<double> y) {
    for (int64_t i = 0; i < B * L * D; ++i) y[i] += omega[i % D] * xv[i];
    return y;
  };
  Tensor causal = damped_ema(x, p.alpha_logit, p.delta_logit, p.beta, p.gamma, p.omega);
  REQUIRE(all_close(values(causal), with_skip(ema_by_recurrence(xv, B, L, D, p, 0, N, false)), 1e-10, 1e-12));
  // Bidirectional: EMA dims [0, N/2) run forward in time, [N/2, N) backward; the outputs add.
  Tensor both = damped_ema(x, p.alpha_logit, p.delta_logit, p.beta, p.gamma, p.omega, true);
  std::vector<double> forward = ema_by_recurrence(xv, B, L, D, p, 0, N / 2, false);
  const std::vector<double> backward = ema_by_recurrence(xv, B, L, D, p, N / 2, N, true);
  for (size_t i = 0; i < forward.size(); ++i) forward[i] += backward[i];
  REQUIRE(all_close(values(both), with_skip(forward), 1e-10, 1e-12));
}

TEST_CASE("damped_ema gradcheck", "[ops][damped_ema]") {
  Parameters p(2, 4, 40);
  Tensor x = random_tensor({2, 6, 2}, 50);
  auto kernel = [](const TensorList& in) -> TensorList { return {damped_ema_kernel(in[0], in[1], in[2], in[3], 7)}; };
  REQUIRE(gradcheck(kernel, {p.alpha_logit, p.delta_logit, p.beta, p.gamma}));
  // Second derivatives through the create_graph path of the fused kernel node.
  REQUIRE(gradgradcheck(kernel, {p.alpha_logit, p.delta_logit, p.beta, p.gamma}));
  for (bool bidirectional : {false, true}) {
    auto layer = [bidirectional](const TensorList& in) -> TensorList {
      return {damped_ema(in[0], in[1], in[2], in[3], in[4], in[5], bidirectional)};
    };
    REQUIRE(gradcheck(layer, {x, p.alpha_logit, p.delta_logit, p.beta, p.gamma, p.omega}));
  }
}

TEST_CASE("damped_ema rejects bad input", "[ops][damped_ema]") {
  Parameters p(3, 3, 60);
  Tensor x = zeros({2, 5, 3}, DType::f64);
  REQUIRE_THROWS_OP(damped_ema_kernel(p.alpha_logit, p.delta_logit, p.beta, p.gamma, 0), "damped_ema_kernel");
  REQUIRE_THROWS_OP(damped_ema_kernel(p.alpha_logit, p.delta_logit.narrow(1, 0, 2), p.beta, p.gamma, 4),
                    "damped_ema_kernel");
  REQUIRE_THROWS_OP(damped_ema_kernel(p.alpha_logit.reshape({9}), p.delta_logit, p.beta, p.gamma, 4),
                    "damped_ema_kernel");
  REQUIRE_THROWS_OP(damped_ema(zeros({5, 3}, DType::f64), p.alpha_logit, p.delta_logit, p.beta, p.gamma, p.omega),
                    "damped_ema");
  REQUIRE_THROWS_OP(damped_ema(zeros({2, 5, 4}, DType::f64), p.alpha_logit, p.delta_logit, p.beta, p.gamma, p.omega),
                    "damped_ema");
  REQUIRE_THROWS_OP(damped_ema(x.to(DType::f32), p.alpha_logit, p.delta_logit, p.beta, p.gamma, p.omega),
                    "damped_ema");
  REQUIRE_THROWS_OP(damped_ema(x, p.alpha_logit, p.delta_logit, p.beta, p.gamma, zeros({4}, DType::f64)),
                    "damped_ema");
  // bidirectional with odd N
  REQUIRE_THROWS_OP(damped_ema(x, p.alpha_logit, p.delta_logit, p.beta, p.gamma, p.omega, true), "damped_ema");
  Tensor ints = zeros({3, 3}, DType::i64);
  REQUIRE_THROWS_OP(damped_ema_kernel(ints, ints, ints, ints, 4), "damped_ema_kernel");
}
