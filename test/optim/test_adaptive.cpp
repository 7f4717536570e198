// Adamax, NAdam, RAdam, AdaGrad, AdaDelta, RMSProp (optim/<name>.h): three steps against numbers
// worked out by hand from each update rule, and 20-step trajectories against PyTorch 1.13
// (test/optim/fixtures/adaptive.json from scripts/make_optim_fixtures.py; NAdam with the paper's
// μ product, see optim/nadam.h), float64 and float32, with a state_dict round trip halfway.
#include <catch2/catch.hpp>

#include "helpers.h"
#include "optim/adadelta.h"
#include "optim/adagrad.h"
#include "optim/adamax.h"
#include "optim/nadam.h"
#include "optim/radam.h"
#include "optim/rmsprop.h"
#include "optim_fixtures.h"

using namespace ember;
using ember::test::all_close;
using ember::test::one_group;
using ember::test::scalar_param;
using ember::test::steps_with_grads;

namespace {

// Every hand-worked case: gradients 4, 2, −1 from w₀ = 1, in float64 and float32.
template <class Opt>
void check_three_steps(const std::map<std::string, double>& options, const std::vector<double>& expected) {
  for (DType dtype : {DType::f64, DType::f32}) {
    INFO(dtype_name(dtype));
    const double tol = dtype == DType::f64 ? 1e-9 : 2e-6;
    Tensor w = scalar_param(1.0, dtype);
    Opt opt(one_group(w), options);
    CHECK(all_close(steps_with_grads(opt, w, {4.0, 2.0, -1.0}), expected, tol, tol));
  }
}

}  // namespace

TEST_CASE("adamax: three steps worked by hand", "[optim][adamax]") {
  // lr 0.1, β1 0.5, β2 0.75, ε 0: m = 0.5·m + 0.5·g, u = max(0.75·u, |g|), w −= lr/(1 − 0.5ᵗ)·m/u
  // t1: m = 2,   u = 4,                  w = 1 − 0.2·2/4 = 0.9
  // t2: m = 2,   u = max(3, 2) = 3,      w = 0.9 − 0.1333333·2/3 = 0.8111111111
  // t3: m = 0.5, u = max(2.25, 1) = 2.25, w = 0.8111111 − 0.1142857·0.5/2.25 = 0.7857142857
  check_three_steps<optim::Adamax>({{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"eps", 0.0}},
                                   {0.9, 0.8111111111, 0.7857142857});
}

TEST_CASE("nadam: three steps worked by hand", "[optim][nadam]") {
  // lr 0.1, β1 0.5, β2 0.75, ε 0, ψ 0.5: μₜ = 0.5·(1 − 0.5·0.96^(t/2)), Πₜ = μ1⋯μₜ,
  // d = √(v/(1 − 0.75ᵗ)), w −= 0.1(1 − μₜ)/(1 − Πₜ)·g/d + 0.1·μₜ₊₁/(1 − Πₜμₜ₊₁)·m/d
  // t1: μ1 = 0.2550510257, μ2 = 0.26, Π1 = μ1; m = 2, v = 4, d = 4;
  //     c1 = 0.1·0.7449490/0.7449490 = 0.1, c2 = 0.026/(1 − 0.0663133) = 0.0278465989
  //     w = 1 − 0.1·4/4 − 0.0278466·2/4 = 0.8860767005
  // t2: μ3 = 0.2648489847, Π2 = 0.0663132667; m = 2, v = 4, d = √(4/0.4375) = 3.0237157840;
  //     c1 = 0.1·0.74/0.9336867 = 0.0792557047, c2 = 0.02648490/(1 − 0.0175630) = 0.0269583683
  //     w = 0.8860767 − 0.0792557·2/3.0237158 − 0.0269584·2/3.0237158 = 0.8158226948
  // t3: μ4 = 0.2696, Π3 = 0.0175630014; m = 0.5, v = 3.25, d = √(3.25/0.578125) = 2.3709959134;
  //     c1 = 0.1·0.7351510/0.9824370 = 0.0748293291, c2 = 0.02696/(1 − 0.0047350) = 0.0270882625
  //     w = 0.8158227 + 0.0748293/2.3709959 − 0.0270883·0.5/2.3709959 = 0.8416705664
  check_three_steps<optim::NAdam>({{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"eps", 0.0}, {"momentum_decay", 0.5}},
                                  {0.8860767005, 0.8158226948, 0.8416705664});
}

TEST_CASE("radam: momentum phase worked by hand, then the first rectified step", "[optim][radam]") {
  SECTION("ρₜ <= 5 for the first steps: w −= lr·m̂ (lr 0.1, β1 0.5)") {
    // m̂ = 4, 2.6666667, 0.5714286 (as Adam's) → w = 0.6, 0.3333333333, 0.2761904762
    check_three_steps<optim::RAdam>({{"lr", 0.1}, {"beta1", 0.5}}, {0.6, 0.3333333333, 0.2761904762});
  }
  SECTION("decoupled weight decay 0.5: w·(1 − 0.05) first") {
    // w = 0.95 − 0.4 = 0.55; 0.5225 − 0.2666667 = 0.2558333333; 0.2430417 − 0.0571429 = 0.1858988095
    check_three_steps<optim::RAdam>({{"lr", 0.1}, {"beta1", 0.5}, {"weight_decay", 0.5},
                                     {"decoupled_weight_decay", 1}},
                                    {0.55, 0.2558333333, 0.1858988095});
  }
  SECTION("constant gradient 2, β2 0.9: ρ∞ = 19, rectified from t = 6") {
    // ρₜ = 19 − 2t·0.9ᵗ/(1 − 0.9ᵗ) = 1, 1.947, 2.860, 3.737, 4.581, then ρ6 = 5.3895646 > 5.
    // t1..5: m̂ = 2, w −= 0.2 → 1.8, ..., 1.0.  t6: √(1 − β2ᵗ)/√v = 1/|g| = 0.5 (v = g²(1 − β2ᵗ)),
    // r = √((ρ6 − 4)(ρ6 − 2)·19 / (15·17·ρ6)) = 0.2551768065, w = 1 − 0.1·2·0.5·r = 0.9744823193
    Tensor w = scalar_param(2.0);
    optim::RAdam opt(one_group(w), {{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.9}, {"eps", 0.0}});
    CHECK(all_close(steps_with_grads(opt, w, std::vector<double>(6, 2.0)), {1.8, 1.6, 1.4, 1.2, 1.0, 0.9744823193},
                    1e-9, 1e-12));
  }
}

TEST_CASE("adagrad: three steps worked by hand", "[optim][adagrad]") {
  // lr 0.1, lr_decay 0.5, initial accumulator 1, ε 0: s += g², w −= 0.1/(1 + 0.5(t − 1))·g/√s
  // t1: s = 17, w = 1 − 0.1·4/√17 = 0.9029857500
  // t2: s = 21, w = 0.90298575 − 0.0666667·2/√21 = 0.8738900313
  // t3: s = 22, w = 0.87389003 + 0.05/√22 = 0.8845500671
  check_three_steps<optim::AdaGrad>({{"lr", 0.1}, {"lr_decay", 0.5}, {"initial_accumulator_value", 1.0}, {"eps", 0.0}},
                                    {0.90298575, 0.8738900313, 0.8845500671});
}

TEST_CASE("adadelta: three steps worked by hand", "[optim][adadelta]") {
  // lr 1, ρ 0.5, ε 0.01: s = 0.5s + 0.5g², Δ = √(a + ε)/√(s + ε)·g, a = 0.5a + 0.5Δ², w −= Δ
  // t1: s = 8,   Δ = 0.1/√8.01·4 = 0.1413330507,  a = 0.0099875156, w = 0.8586669493
  // t2: s = 6,   Δ = √0.0199875/√6.01·2 = 0.1153379339, a = 0.0116451773, w = 0.7433290154
  // t3: s = 3.5, Δ = −√0.0216452/√3.51 = −0.0785284482, a = 0.0089059472, w = 0.8218574636
  check_three_steps<optim::AdaDelta>({{"lr", 1.0}, {"rho", 0.5}, {"eps", 0.01}},
                                     {0.8586669493, 0.7433290154, 0.8218574636});
}

TEST_CASE("rmsprop: three steps worked by hand", "[optim][rmsprop]") {
  SECTION("plain: lr 0.1, α 0.5, ε 0; s = 0.5s + 0.5g², w −= 0.1·g/√s") {
    // s = 8, 6, 3.5: w = 1 − 0.4/√8 = 0.8585786438, − 0.2/√6 → 0.7769289857, + 0.1/√3.5 → 0.8303812341
    check_three_steps<optim::RMSProp>({{"lr", 0.1}, {"alpha", 0.5}, {"eps", 0.0}},
                                      {0.8585786438, 0.7769289857, 0.8303812341});
  }
  SECTION("centered, momentum 0.5: ḡ = 0.5ḡ + 0.5g, d = √(s − ḡ²), b = 0.5b + g/d, w −= 0.1·b") {
    // t1: s = 8,   ḡ = 2,   d = 2,           b = 2,                    w = 0.8
    // t2: s = 6,   ḡ = 2,   d = √2,          b = 1 + 2/√2 = 2.4142136,  w = 0.5585786438
    // t3: s = 3.5, ḡ = 0.5, d = √3.25 = 1.8027756, b = 1.2071068 − 0.5547002 = 0.6524066, w = 0.4933379853
    check_three_steps<optim::RMSProp>({{"lr", 0.1}, {"alpha", 0.5}, {"eps", 0.0}, {"momentum", 0.5}, {"centered", 1}},
                                      {0.8, 0.5585786438, 0.4933379853});
  }
}

TEST_CASE("adaptive optimizers: 20 steps match PyTorch, state_dict round trip halfway", "[optim][fixtures]") {
  test::check_fixture_file("adaptive.json");
}

TEST_CASE("adaptive optimizers: out-of-range hyperparameters are rejected by name", "[optim][errors]") {
  const Tensor w = scalar_param(1.0);
  REQUIRE_THROWS_OP(optim::Adamax(one_group(w), {{"beta2", 1.5}}), "adamax: invalid beta2 = 1.5");
  REQUIRE_THROWS_OP(optim::NAdam(one_group(w), {{"momentum_decay", -1}}), "nadam: invalid momentum_decay");
  REQUIRE_THROWS_OP(optim::RAdam(one_group(w), {{"lr", -1}}), "radam: invalid lr");
  REQUIRE_THROWS_OP(optim::AdaGrad(one_group(w), {{"lr_decay", -1}}), "adagrad: invalid lr_decay");
  REQUIRE_THROWS_OP(optim::AdaDelta(one_group(w), {{"rho", 2}}), "adadelta: invalid rho = 2");
  REQUIRE_THROWS_OP(optim::RMSProp(one_group(w), {{"alpha", -0.1}}), "rmsprop: invalid alpha");
  for (const char* name : {"adamax", "nadam", "radam", "adagrad", "adadelta", "rmsprop"}) {
    CHECK(optim::make_optimizer(name, one_group(w))->name() == name);
  }
}
