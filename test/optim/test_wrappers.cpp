// Optimizer wrappers (optim/lookahead.h, optim/sam.h, their base optim/wrapped.h): Lookahead over
// SGD for 2k steps and SAM / ASAM on a quadratic against numbers worked out by hand, state_dict
// round trips mid-run, options reaching the base optimizer, and bad input.
// Twin: test/optim/test_averaging.cpp.
#include <catch2/catch.hpp>

#include <cmath>

#include "helpers.h"
#include "optim/adamw.h"
#include "optim/lookahead.h"
#include "optim/sam.h"
#include "optim/sgd.h"
#include "optim_fixtures.h"

using namespace ember;
using ember::test::all_close;
using ember::test::f64;
using ember::test::one_group;
using ember::test::scalar_param;
using ember::test::values;

namespace {

std::unique_ptr<optim::Optimizer> sgd(const Tensor& w, std::map<std::string, double> options) {
  return std::make_unique<optim::SGD>(one_group(w), options);
}

// L = Σ wᵢ² (g = 2w) with the gradient set by hand; returns w after each step.
std::vector<std::vector<double>> steps_on_square(optim::Optimizer& opt, Tensor w, int steps) {
  std::vector<std::vector<double>> out;
  for (int t = 0; t < steps; ++t) {
    Tensor grad = w.detach().clone() * 2.0;
    w.set_grad(grad);
    opt.step();
    out.push_back(values(w));
  }
  return out;
}

}  // namespace

TEST_CASE("lookahead: 2k steps over SGD, worked by hand", "[optim][lookahead]") {
  // k = 2, α = 0.5, SGD lr 0.1 on L = w², w₀ = φ₀ = 1:
  //   t1: w = 1 − 0.2 = 0.8
  //   t2: w = 0.8 − 0.16 = 0.64;        sync φ = 1 + 0.5·(0.64 − 1) = 0.82,        w = 0.82
  //   t3: w = 0.82 − 0.164 = 0.656
  //   t4: w = 0.656 − 0.1312 = 0.5248;  sync φ = 0.82 + 0.5·(0.5248 − 0.82) = 0.6724, w = 0.6724
  for (DType dtype : {DType::f64, DType::f32}) {
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-6;
    Tensor w = scalar_param(1.0, dtype);
    optim::Lookahead opt(sgd(w, {{"lr", 0.1}}), 2, 0.5);
    const auto got = steps_on_square(opt, w, 4);
    std::vector<double> flat;
    for (const auto& v : got) flat.push_back(v[0]);
    CHECK(all_close(flat, {0.8, 0.82, 0.656, 0.6724}, tol, tol));
    CHECK(values(opt.slow_weights()[0])[0] == Approx(0.6724).epsilon(tol));
    CHECK(opt.fast_steps() == 0);
  }
}

TEST_CASE("lookahead: the wrapper's group options reach the base optimizer", "[optim][lookahead]") {
  // A schedule writes the wrapper's lr; the base steps with it: w = 1 − 0.05·2 = 0.9.
  Tensor w = scalar_param(1.0);
  optim::Lookahead opt(sgd(w, {{"lr", 0.1}}), 5, 0.5);
  opt.set_lr(0.05);
  steps_on_square(opt, w, 1);
  CHECK(w.item<double>() == Approx(0.9));
  CHECK(opt.base().lr() == 0.05);
  opt.zero_grad();
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("sam: perturbation and the gradient at the perturbed point on a quadratic", "[optim][sam]") {
  // L = ½ Σ aᵢwᵢ², a = [1, 2], w = [3, 4]: g = a⊙w = [3, 8]; ρ = 0.5, SGD lr 0.1.
  const Tensor a = f64({1.0, 2.0}, {2}, false);
  SECTION("SAM: e = ρ·g/‖g‖ = 0.5·[3, 8]/√73") {
    const double n = std::sqrt(73.0);
    const std::vector<double> perturbed{3.0 + 1.5 / n, 4.0 + 4.0 / n};
    const std::vector<double> g_perturbed{3.0 + 1.5 / n, 8.0 + 8.0 / n};  // a⊙(w + e)
    const std::vector<double> after{3.0 - 0.1 * g_perturbed[0], 4.0 - 0.1 * g_perturbed[1]};

    Tensor w = f64({3.0, 4.0}, {2});
    auto loss = [&] { return sum(a * w * w) * 0.5; };
    optim::SAM opt(sgd(w, {{"lr", 0.1}}), 0.5);
    loss().backward();
    opt.first_step();
    CHECK(all_close(w, perturbed, 1e-12, 1e-12));
    CHECK_FALSE(w.grad().defined());  // zeroed for the second pass
    CHECK(opt.perturbed());
    loss().backward();
    CHECK(all_close(w.grad(), g_perturbed, 1e-12, 1e-12));
    opt.second_step();
    CHECK(all_close(w, after, 1e-12, 1e-12));

    // The same through step(closure), which returns the loss at the perturbed point.
    Tensor w2 = f64({3.0, 4.0}, {2});
    auto loss2 = [&] { return sum(a * w2 * w2) * 0.5; };
    optim::SAM opt2(sgd(w2, {{"lr", 0.1}}), 0.5);
    loss2().backward();
    const Tensor l = opt2.step([&] {
      Tensor value = loss2();
      value.backward();
      return value;
    });
    CHECK(l.item<double>() == Approx(0.5 * (perturbed[0] * perturbed[0] + 2.0 * perturbed[1] * perturbed[1])));
    CHECK(values(w2) == values(w));
  }
  SECTION("ASAM: e = ρ·w²⊙g/‖|w|⊙g‖ = 0.5·[27, 128]/√1105") {
    const double n = std::sqrt(1105.0);  // |w|⊙g = [9, 32], 81 + 1024 = 1105
    const std::vector<double> perturbed{3.0 + 13.5 / n, 4.0 + 64.0 / n};
    const std::vector<double> after{3.0 - 0.1 * (3.0 + 13.5 / n), 4.0 - 0.1 * (8.0 + 128.0 / n)};
    Tensor w = f64({3.0, 4.0}, {2});
    auto loss = [&] { return sum(a * w * w) * 0.5; };
    optim::SAM opt(sgd(w, {{"lr", 0.1}}), 0.5, true);
    loss().backward();
    opt.first_step();
    CHECK(all_close(w, perturbed, 1e-12, 1e-12));
    loss().backward();
    opt.second_step();
    CHECK(all_close(w, after, 1e-12, 1e-12));
  }
  SECTION("rho = 0 is the base optimizer") {
    Tensor w = f64({3.0, 4.0}, {2});
    optim::SAM opt(sgd(w, {{"lr", 0.1}}), 0.0);
    sum(a * w * w).backward();  // g = 2a⊙w = [6, 16]
    opt.step([&] {
      Tensor value = sum(a * w * w);
      value.backward();
      return value;
    });
    CHECK(all_close(w, {3.0 - 0.6, 4.0 - 1.6}, 1e-12, 1e-12));
  }
}

TEST_CASE("wrappers: state_dict round trip mid-run gives the identical trajectory", "[optim][lookahead][sam]") {
  SECTION("lookahead over AdamW, saved mid-cycle") {
    auto make = [](const Tensor& w) {
      return optim::Lookahead(std::make_unique<optim::AdamW>(one_group(w), std::map<std::string, double>{
                                                                              {"lr", 0.1}, {"weight_decay", 0.01}}),
                              3, 0.6);
    };
    Tensor w = f64({1.0, -0.5}, {2});
    optim::Lookahead opt = make(w);
    steps_on_square(opt, w, 4);  // one sync done, one fast step into the next cycle
    const optim::OptimizerState mid = opt.state_dict();
    const std::vector<double> w_mid = values(w);
    const auto tail = steps_on_square(opt, w, 5);

    Tensor w2 = f64(w_mid, {2});
    optim::Lookahead opt2 = make(w2);
    opt2.load_state_dict(mid);
    CHECK(opt2.fast_steps() == 1);
    CHECK(steps_on_square(opt2, w2, 5) == tail);  // exact
  }
  SECTION("sam over SGD with momentum") {
    const Tensor a = f64({1.0, 2.0}, {2}, false);
    auto run = [&](optim::SAM& opt, const Tensor& w, int steps) {
      std::vector<std::vector<double>> out;
      for (int t = 0; t < steps; ++t) {
        sum(a * w * w).backward();
        opt.step([&] {
          Tensor value = sum(a * w * w);
          value.backward();
          return value;
        });
        opt.zero_grad();
        out.push_back(values(w));
      }
      return out;
    };
    Tensor w = f64({3.0, 4.0}, {2});
    optim::SAM opt(sgd(w, {{"lr", 0.05}, {"momentum", 0.9}}), 0.2, true);
    run(opt, w, 2);
    const optim::OptimizerState mid = opt.state_dict();
    const std::vector<double> w_mid = values(w);
    const auto tail = run(opt, w, 3);

    Tensor w2 = f64(w_mid, {2});
    optim::SAM opt2(sgd(w2, {{"lr", 0.05}, {"momentum", 0.9}}), 0.2, true);
    opt2.load_state_dict(mid);
    CHECK(run(opt2, w2, 3) == tail);
  }
}

TEST_CASE("wrappers: bad input", "[optim][lookahead][sam][errors]") {
  Tensor w = scalar_param(1.0);
  REQUIRE_THROWS_OP(optim::Lookahead(sgd(w, {{"lr", 0.1}}), 0, 0.5), "lookahead: k must be >= 1");
  REQUIRE_THROWS_OP(optim::Lookahead(sgd(w, {{"lr", 0.1}}), -3, 0.5), "lookahead: k must be >= 1");
  REQUIRE_THROWS_OP(optim::Lookahead(sgd(w, {{"lr", 0.1}}), 5, 1.5), "lookahead: alpha");
  REQUIRE_THROWS_OP(optim::Lookahead(nullptr, 5, 0.5), "base optimizer is null");
  REQUIRE_THROWS_OP(optim::SAM(sgd(w, {{"lr", 0.1}}), -0.1), "sam: rho must be >= 0");

  optim::SAM sam(sgd(w, {{"lr", 0.1}}), 0.05);
  REQUIRE_THROWS_OP(sam.step(), "step(closure)");
  REQUIRE_THROWS_OP(sam.second_step(), "second_step called without first_step");
  w.set_grad(f64({1.0}, {1}, false));
  sam.first_step(false);
  REQUIRE_THROWS_OP(sam.first_step(), "first_step called twice");
  REQUIRE_THROWS_OP(sam.state_dict(), "between first_step and second_step");
  sam.second_step();

  // A Lookahead state does not load into SAM, nor into a Lookahead with another k; nothing changes.
  Tensor w2 = scalar_param(1.0);
  optim::Lookahead look(sgd(w2, {{"lr", 0.1}}), 3, 0.5);
  REQUIRE_THROWS_OP(sam.load_state_dict(look.state_dict()), "saved by optimizer 'lookahead'");
  optim::Lookahead look4(sgd(w2, {{"lr", 0.1}}), 4, 0.5);
  REQUIRE_THROWS_OP(look4.load_state_dict(look.state_dict()), "k = 3");
}
