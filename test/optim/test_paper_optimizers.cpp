// LION, LAMB, LARS, Adan, AdaBelief (optim/<name>.h): PyTorch has no twin, so each is checked
// against steps worked out by hand from its paper's update rule (float64 and float32), plus a
// state_dict round trip and the factory. Common case: w₀ = (1, −2) and gradients
// g1 = (4, 1), g2 = (2, −1), g3 = (−1, 0.5) (not depending on w).
#include <catch2/catch.hpp>

#include "helpers.h"
#include "optim/adabelief.h"
#include "optim/adan.h"
#include "optim/lamb.h"
#include "optim/lars.h"
#include "optim/lion.h"
#include "optim_fixtures.h"

using namespace ember;
using ember::test::all_close;
using ember::test::one_group;

namespace {

const std::vector<std::vector<double>> kGrads{{4.0, 1.0}, {2.0, -1.0}, {-1.0, 0.5}};

// w after each of the three steps, flattened: (w1, w2, w3).
template <class Opt>
void check_three_steps(const std::map<std::string, double>& options, const std::vector<double>& expected) {
  for (DType dtype : {DType::f64, DType::f32}) {
    INFO(dtype_name(dtype));
    const double tol = dtype == DType::f64 ? 1e-9 : 2e-6;
    Tensor w = from_vector(std::vector<double>{1.0, -2.0}, {2}, TensorOptions(dtype).requires_grad(true));
    Opt opt(one_group(w), options);
    std::vector<double> got;
    for (const auto& g : kGrads) {
      w.set_grad(from_vector(g, {2}, TensorOptions(dtype)));
      opt.step();
      const auto now = test::values(w);
      got.insert(got.end(), now.begin(), now.end());
    }
    CHECK(all_close(got, expected, tol, tol));
  }
}

}  // namespace

TEST_CASE("lion: three steps worked by hand", "[optim][lion]") {
  // lr 0.1, β1 0.5, β2 0.75, λ 0.5: c = 0.5m + 0.5g, w = 0.95w − 0.1·sign(c), m = 0.75m + 0.25g
  // t1: c = (2, 0.5),        w = (0.85, −2),         m = (1, 0.25)
  // t2: c = (1.5, −0.375),   w = (0.7075, −1.8),     m = (1.25, −0.0625)
  // t3: c = (0.125, 0.21875), w = (0.572125, −1.81),  m = (0.6875, 0.078125)
  check_three_steps<optim::Lion>({{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"weight_decay", 0.5}},
                                 {0.85, -2.0, 0.7075, -1.8, 0.572125, -1.81});
}

TEST_CASE("lamb: three steps worked by hand", "[optim][lamb]") {
  SECTION("weight decay 0.5: trust ratio ‖w‖/‖r‖") {
    // lr 0.1, β1 0.5, β2 0.75, ε 0; r = m̂/√v̂ + 0.5w (m̂, v̂ as Adam's), w −= 0.1·(‖w‖/‖r‖)·r
    // t1: m̂ = (4, 1), √v̂ = (4, 1): r = (1, 1) + (0.5, −1) = (1.5, 0); ‖w‖/‖r‖ = √5/1.5 = 1.4907120
    //     w = (1 − 0.2236068, −2) = (0.7763932023, −2)
    // t2: m̂/√v̂ = (0.8819171, −0.3333333) → r = (1.2701137, −1.3333333), ratio 1.1650610,
    //     w = (0.6284172113, −1.844658537)
    // t3: m̂/√v̂ = (0.2410078, 0.1737932) → r = (0.5552164, −0.7485361), ratio 2.0910095,
    //     w = (0.5123209265, −1.688138935)
    check_three_steps<optim::Lamb>({{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"eps", 0.0}, {"weight_decay", 0.5}},
                                   {0.7763932023, -2.0, 0.6284172113, -1.844658537, 0.5123209265, -1.688138935});
  }
  SECTION("no weight decay (a no-decay group): plain Adam steps, no trust ratio") {
    // r = m̂/√v̂ = (1, 1), (0.8819171, −0.3333333), (0.2410078, 0.1737932): w −= 0.1·r
    check_three_steps<optim::Lamb>({{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"eps", 0.0}, {"weight_decay", 0.0}},
                                   {0.9, -2.1, 0.8118082896, -2.066666667, 0.787707507, -2.084045988});
  }
}

TEST_CASE("lars: three steps worked by hand", "[optim][lars]") {
  // lr 1, momentum 0.5, λ 0.1, η 0.01, ε 0: φ = 0.01‖w‖/(‖g‖ + 0.1‖w‖), d = φ(g + 0.1w),
  // b = d then 0.5b + d, w −= b
  // t1: ‖w‖ = √5, ‖g‖ = √17: φ = 0.0223607/(4.1231056 + 0.2236068) = 0.0051442740,
  //     d = φ·(4.1, 0.8) = (0.0210915235, 0.0041154192) = b,  w = (0.9789084765, −2.004115419)
  // t2: ‖w‖ = 2.2304122, ‖g‖ = √5: φ = 0.0090700022, d = φ·(2.0978908, −1.2004115) = (0.0190278745, −0.0108877353),
  //     b = (0.0295736363, −0.0088300257),  w = (0.9493348403, −1.995285394)
  // t3: ‖w‖ = 2.2096207, ‖g‖ = √1.25: φ = 0.0165020375, d = φ·(−0.9050665, 0.3004715) = (−0.0149354416, 0.0049583913),
  //     b = (−0.0001486235, 0.0005433785),  w = (0.9494834637, −1.995828772)
  check_three_steps<optim::Lars>({{"lr", 1.0}, {"momentum", 0.5}, {"weight_decay", 0.1}, {"trust_coeff", 0.01},
                                  {"eps", 0.0}},
                                 {0.9789084765, -2.004115419, 0.9493348403, -1.995285394, 0.9494834637, -1.995828772});
}

TEST_CASE("adan: three steps worked by hand", "[optim][adan]") {
  // lr 0.1, β1 0.5, β2 0.5, β3 0.75, ε 0, λ 0.5 (proximal: w /= 1.05). Δ = g − g_prev (0 at t1),
  // m = 0.5m + 0.5g, d = 0.5d + 0.5Δ, n = 0.75n + 0.25(g + 0.5Δ)², q = √(n/(1 − 0.75ᵗ)),
  // w = (w − 0.1/(1 − 0.5ᵗ)·m/q − 0.05/(1 − 0.5ᵗ)·d/q)/1.05
  // t1: m = (2, 0.5), d = 0, n = (4, 0.25), q = (4, 1):  w = (1 − 0.1, −2 − 0.1)/1.05 = (0.8571428571, −2)
  // t2: Δ = (−2, −2), m = (2, −0.25), d = (−1, −1), n = (3.25, 1.1875), q = (2.7255406, 1.6475089):
  //     w = (0.7464408748, −1.846954573)
  // t3: Δ = (−3, 1.5), m = (0.5, 0.125), d = (−2, 0.25), n = (4, 1.28125), q = (2.6303838, 1.4886961):
  //     w = (0.7315857397, −1.777282689)
  check_three_steps<optim::Adan>({{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.5}, {"beta3", 0.75}, {"eps", 0.0},
                                  {"weight_decay", 0.5}},
                                 {0.8571428571, -2.0, 0.7464408748, -1.846954573, 0.7315857397, -1.777282689});
}

TEST_CASE("adabelief: three steps worked by hand, and the rectified phase", "[optim][adabelief]") {
  SECTION("not rectified, decoupled weight decay 0.5") {
    // lr 0.1, β1 0.5, β2 0.75, ε 0: w = 0.95w; m = 0.5m + 0.5g; s = 0.75s + 0.25(g − m)²;
    // w −= 0.1/(1 − 0.5ᵗ)·m/√(s/(1 − 0.75ᵗ))
    // t1: m = (2, 0.5), g − m = (2, 0.5), s = (1, 0.0625): w = (0.95 − 0.2·2/2, −1.9 − 0.2·0.5/0.5) = (0.75, −2.1)
    // t2: m = (2, −0.25), g − m = (0, −0.75), s = (0.75, 0.1875): w = (0.5088299691, −1.944082492)
    // t3: m = (0.5, 0.125), g − m = (−1.5, 0.375), s = (1.125, 0.17578125): w = (0.442425017, −1.872785931)
    check_three_steps<optim::AdaBelief>({{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"eps", 0.0},
                                         {"weight_decay", 0.5}, {"rectify", 0}},
                                        {0.75, -2.1, 0.5088299691, -1.944082492, 0.442425017, -1.872785931});
  }
  SECTION("rectified: momentum SGD while ρₜ < 5, then the RAdam factor (constant gradient 2, β2 0.9)") {
    // t1..5: w −= 0.1·m/(1 − 0.5ᵗ) = 0.2 each: 2 → 1.8 → ... → 1.0. ρ6 = 5.3895646 (as RAdam's),
    // m6 = 1.96875, s6 = 0.0817225938 (s = 0.9s + 0.1(2 − m)²), k = √(0.468559·1.3895646/15·3.3895646/5.3895646
    // ·19/17)/(1 − 0.5⁶) = 0.1774445907, w = 1 − 0.1·k·1.96875/√0.0817226 = 0.8777968883
    Tensor w = test::scalar_param(2.0);
    optim::AdaBelief opt(one_group(w), {{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.9}, {"eps", 0.0}});
    CHECK(all_close(test::steps_with_grads(opt, w, std::vector<double>(6, 2.0)), {1.8, 1.6, 1.4, 1.2, 1.0, 0.8777968883},
                    1e-9, 1e-12));
  }
}

TEST_CASE("paper optimizers: state_dict round trip mid-run gives the same trajectory", "[optim]") {
  const nlohmann::json problem = test::load_optim_fixture("sgd.json")["problem"];
  const std::map<std::string, std::map<std::string, double>> cases = {
      {"lion", {{"lr", 0.01}, {"weight_decay", 0.1}}},
      {"lamb", {{"lr", 0.05}}},
      {"lars", {{"lr", 1.0}, {"momentum", 0.9}, {"weight_decay", 1e-3}, {"trust_coeff", 0.02}}},
      {"adan", {{"lr", 0.05}, {"weight_decay", 0.02}}},
      {"adabelief", {{"lr", 0.05}, {"amsgrad", 1}, {"weight_decay", 0.1}}},
  };
  for (const auto& [name, options] : cases) {
    INFO(name);
    auto params = test::problem_params(problem, DType::f64);
    auto opt = optim::make_optimizer(name, {optim::ParamGroup{params, {}, ""}}, options);
    for (int i = 0; i < 10; ++i) {
      opt->zero_grad();
      test::problem_backward(params, problem);
      opt->step();
    }
    std::vector<Tensor> copies;
    for (const Tensor& p : params) copies.push_back(p.detach().clone().requires_grad_(true));
    auto resumed = optim::make_optimizer(name, {optim::ParamGroup{copies, {}, ""}}, options);
    resumed->load_state_dict(test::through_checkpoint(opt->state_dict()));
    for (int i = 0; i < 10; ++i) {
      opt->zero_grad();
      resumed->zero_grad();
      test::problem_backward(params, problem);
      test::problem_backward(copies, problem);
      opt->step();
      resumed->step();
    }
    CHECK(test::flat_values(copies) == test::flat_values(params));
    // and it did optimize: every run leaves the starting point
    CHECK(test::flat_values(params) != test::flat_values(test::problem_params(problem, DType::f64)));
  }
}
