// LION, LAMB, LARS, Adan, AdaBelief, AdaBound, NovoGrad, AdamP, SGDP, AdaFactor, Sophia (optim/<name>.h): PyTorch has no twin, so each is checked
// against steps worked out by hand from its paper's update rule (float64 and float32), plus a
// state_dict round trip and the factory. Common case: w₀ = (1, −2) and gradients
// g1 = (4, 1), g2 = (2, −1), g3 = (−1, 0.5) (not depending on w).
#include <catch2/catch.hpp>

#include "helpers.h"
#include "optim/adabelief.h"
#include "optim/adafactor.h"
#include "optim/adabound.h"
#include "optim/adamp.h"
#include "optim/adan.h"
#include "optim/lamb.h"
#include "optim/lars.h"
#include "optim/lion.h"
#include "optim/novograd.h"
#include "optim/sgdp.h"
#include "optim/sophia.h"
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

TEST_CASE("adabound: three steps worked by hand, both bounds active", "[optim][adabound]") {
  // lr 0.1, β1 0.5, β2 0.75, ε 0, final_lr 0.1, γ 0.5, λ 0.5 decoupled (w = 0.95w first).
  // η = clamp(0.1·√(1 − 0.75ᵗ)/(1 − 0.5ᵗ)/√v, 0.1(1 − 1/(0.5t + 1)), 0.1(1 + 1/(0.5t))), w −= η·m
  // t1: m = (2, 0.5), v = (4, 0.25), raw η = (0.05, 0.2) in [0.0333, 0.3]:   w = (0.95 − 0.1, −1.9 − 0.1) = (0.85, −2)
  // t2: m = (2, −0.25), v = (4, 0.4375), raw η = (0.0440959, 0.1333333), bounds [0.05, 0.2]:
  //     η = (0.05 (lower bound), 0.1333333),  w = (0.8075 − 0.1, −1.9 − 0.0333333) = (0.7075, −1.866666667)
  // t3: m = (0.5, 0.125), v = (3.25, 0.390625), raw η = (0.0482016, 0.1390346), bounds [0.06, 0.1666667]:
  //     η = (0.06, 0.1390346),  w = (0.672125 − 0.03, −1.7733333 − 0.0173793) = (0.642125, −1.790712655)
  check_three_steps<optim::AdaBound>({{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"eps", 0.0}, {"final_lr", 0.1},
                                      {"gamma", 0.5}, {"weight_decay", 0.5}},
                                     {0.85, -2.0, 0.7075, -1.866666667, 0.642125, -1.790712655});
}

TEST_CASE("novograd: three steps worked by hand", "[optim][novograd]") {
  // lr 0.1, β1 0.5, β2 0.75, ε 0, λ 0.5: v₁ = ‖g₁‖², vₜ = 0.75v + 0.25‖g‖²; m = 0.5m + g/√v + 0.5w; w −= 0.1m
  // t1: ‖g‖² = 17, v = 17: m = (4/√17 + 0.5, 1/√17 − 1) = (1.4701425, −0.7574644), w = (0.85298575, −1.924253563)
  // t2: ‖g‖² = 5, v = 14: m = (0.7350713 + 0.5345225 + 0.4264929, −0.3787322 − 0.2672612 − 0.9621268)
  //     = (1.6960866, −1.6081202), w = (0.6833770891, −1.763441541)
  // t3: ‖g‖² = 1.25, v = 10.8125: m = (0.8480433 − 0.3041138 + 0.3416885, −0.8040601 + 0.1520569 − 0.8817208)
  //     = (0.8856175, −1.5337237), w = (0.594815341, −1.610069172)
  check_three_steps<optim::NovoGrad>({{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"eps", 0.0}, {"weight_decay", 0.5}},
                                     {0.85298575, -1.924253563, 0.6833770891, -1.763441541, 0.594815341, -1.610069172});
}

namespace {

// w = [[3, 1], [0, 2]] and g = [[1, −3], [1, 0]]: every row of g is orthogonal to w's (cos = 0).
std::pair<Tensor, Tensor> orthogonal_case() {
  Tensor w = from_vector(std::vector<double>{3.0, 1.0, 0.0, 2.0}, {2, 2}, TensorOptions(DType::f64).requires_grad(true));
  return {w, from_vector(std::vector<double>{1.0, -3.0, 1.0, 0.0}, {2, 2})};
}

}  // namespace

TEST_CASE("adamp: the radial part of the update is removed on scale-invariant weights", "[optim][adamp]") {
  // lr 0.1, β1 0.5, β2 0.75, ε 1e-8, λ 0.5, δ 0.1, wd_ratio 0.1. Rows orthogonal (cos 0 < δ/√2) →
  // channel projection. d = m/(√v/√0.25 + ε) = 0.5·sign(g) = [[0.5, −0.5], [0.5, 0]].
  // Row 0: w·d = 1, scale = 1/‖w‖² = 0.1, d − 0.1w = [0.2, −0.6] (now ⟂ w). Row 1: w·d = 0, unchanged.
  // w = 0.995w − 0.2·d (decay 1 − 0.1·0.5·0.1; step lr/(1 − β1) = 0.2): [[2.945, 1.115], [−0.1, 1.99]]
  auto [w, g] = orthogonal_case();
  optim::AdamP opt(one_group(w), {{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"weight_decay", 0.5}});
  w.set_grad(g);
  opt.step();
  CHECK(all_close(w, {2.945, 1.115, -0.1, 1.99}, 1e-7, 1e-7));
  // A 1-D parameter is never projected: plain AdamW-style step, w = 0.95·2 − 0.2·0.5 = 1.8.
  Tensor b = test::scalar_param(2.0);
  optim::AdamP bias_opt(one_group(b), {{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"weight_decay", 0.5}});
  CHECK(all_close(test::steps_with_grads(bias_opt, b, {1.0}), {1.8}, 1e-7, 1e-7));
}

TEST_CASE("sgdp: decay ratio while projected, plain momentum SGD once the gradient has a radial part", "[optim][sgdp]") {
  // lr 0.1, μ 0.5, λ 0.5, δ 0.1, wd_ratio 0.1; the same g twice.
  // t1: b = g (from zero), d = g ⟂ w per row → projected (nothing to remove), decay 1 − 0.1·0.5·0.1/0.5 = 0.99:
  //     w = 0.99w − 0.1g = [[2.87, 1.29], [−0.1, 1.98]]
  // t2: b = 0.5g + g = 1.5g. Row 0: g·w = −1, cos = 1/(√10·√9.901) = 0.1005 > δ/√2; whole tensor:
  //     g·w = −1.1, cos = 1.1/(√11·√13.8314) = 0.0892 > δ/√4 = 0.05 → no projection, decay 1 − 0.1·0.5/0.5 = 0.9:
  //     w = 0.9w − 0.15g = [[2.433, 1.611], [−0.24, 1.782]]
  auto [w, g] = orthogonal_case();
  optim::SGDP opt(one_group(w), {{"lr", 0.1}, {"momentum", 0.5}, {"weight_decay", 0.5}});
  w.set_grad(g);
  opt.step();
  CHECK(all_close(w, {2.87, 1.29, -0.1, 1.98}, 1e-12, 1e-12));
  opt.step();
  CHECK(all_close(w, {2.433, 1.611, -0.24, 1.782}, 1e-12, 1e-12));
}

TEST_CASE("adafactor: factored second moment, update clipping, first moment; relative step", "[optim][adafactor]") {
  // w = [[1, −2], [0.5, 1]], g1 = [[4, 1], [2, −1]], g2 = [[−1, 0.5], [1, 2]]; lr 0.1, ε 0, clip 1,
  // decay −0.8 (β2ₜ = 1 − t^−0.8: 0 then 0.4256508), λ 0.5 (w·(1 − 0.05)).
  // t1: row means of g² R = (8.5, 2.5), col means C = (10, 1), mean(R) = 5.5;
  //     u = g/√(R/5.5 · C) = [[4/√15.4545, 1/√1.5455], [2/√4.5455, −1/√0.4545]] = [[1.0175, 0.8044], [0.9381, −1.4832]],
  //     RMS(u) = 1.0911408 > 1 → u/1.0911408; w = 0.95w − 0.1u = [0.8567495192, −1.973720978, 0.3890273046, 1.085934767]
  // t2: R = 0.4256508·(8.5, 2.5) + 0.5743492·(0.625, 2.5) = (3.9770002, 2.5), C = (4.8308574, 1.6461428),
  //     mean(R) = 3.2385001, RMS(u) = 0.9628222 (no clipping): w = [0.8549685543, −1.910201531, 0.3177926249, 0.8542198187]
  // With β1 = 0.5 the step is m = 0.5m + 0.5·(0.1u):
  //     t1 w = [0.9033747596, −1.936860489, 0.4320136523, 1.017967383], t2 w = [0.855421657, −1.87603101, 0.3630281386, 0.9123436011]
  const std::vector<std::vector<double>> grads{{4.0, 1.0, 2.0, -1.0}, {-1.0, 0.5, 1.0, 2.0}};
  const std::map<std::string, std::vector<double>> expected{
      {"0", {0.8567495192, -1.973720978, 0.3890273046, 1.085934767, 0.8549685543, -1.910201531, 0.3177926249, 0.8542198187}},
      {"0.5", {0.9033747596, -1.936860489, 0.4320136523, 1.017967383, 0.855421657, -1.87603101, 0.3630281386, 0.9123436011}}};
  for (const auto& [beta1, want] : expected) {
    for (DType dtype : {DType::f64, DType::f32}) {
      INFO("beta1 " << beta1 << ", " << dtype_name(dtype));
      Tensor w = from_vector(std::vector<double>{1.0, -2.0, 0.5, 1.0}, {2, 2}, TensorOptions(dtype).requires_grad(true));
      optim::AdaFactor opt(one_group(w), {{"lr", 0.1}, {"eps", 0.0}, {"weight_decay", 0.5}, {"beta1", std::stod(beta1)}});
      std::vector<double> got;
      for (const auto& g : grads) {
        w.set_grad(from_vector(g, {2, 2}, TensorOptions(dtype)));
        opt.step();
        const auto now = test::values(w);
        got.insert(got.end(), now.begin(), now.end());
      }
      const double tol = dtype == DType::f64 ? 1e-9 : 2e-6;
      CHECK(all_close(got, want, tol, tol));
    }
  }
  SECTION("1-D (unfactored), relative step with parameter scale") {
    // lr_t = min(1e-2, 1/√t)·max(1e-3, RMS(w)): RMS(w₀) = √2.5 → 0.0158113883; v = g² at t1, u = (1, 1),
    // w = (0.9841886117, −2.015811388). t2: RMS(w) = 1.5862098 → lr 0.0158620976, v = 0.4256508·(16, 1) +
    // 0.5743492·(4, 1) = (9.1078099, 1), u = (0.6627092, −1), RMS 0.848 (no clip): w = (0.9736766533, −1.999949291)
    Tensor w = from_vector(std::vector<double>{1.0, -2.0}, {2}, TensorOptions(DType::f64).requires_grad(true));
    optim::AdaFactor opt(one_group(w), {{"relative_step", 1}, {"eps", 0.0}});
    w.set_grad(from_vector(std::vector<double>{4.0, 1.0}));
    opt.step();
    CHECK(all_close(w, {0.9841886117, -2.015811388}, 1e-9, 1e-12));
    w.set_grad(from_vector(std::vector<double>{2.0, -1.0}));
    opt.step();
    CHECK(all_close(w, {0.9736766533, -1.999949291}, 1e-9, 1e-12));
  }
}

TEST_CASE("sophia: three steps worked by hand with supplied Hessian estimates", "[optim][sophia]") {
  // lr 0.1, β1 0.5, β2 0.5, ρ 4, λ 0.5 (w·0.95 first); ratio = min(|m|/(ρh), 1), w −= 0.1·sign(m)·ratio.
  // ĥ = (2, 0.5) before t1 → h = (1, 0.25), ρh = (4, 1).
  // t1: m = (2, 0.5), ratio (0.5, 0.5): w = (0.95 − 0.05, −1.9 − 0.05) = (0.9, −1.95)
  // t2: m = (2, −0.25), ratio (0.5, 0.25): w = (0.855 − 0.05, −1.8525 + 0.025) = (0.805, −1.8275)
  // ĥ = (0, 1) before t3 → h = (0.5, 0.625), ρh = (2, 2.5).
  // t3: m = (0.5, 0.125), ratio (0.25, 0.05): w = (0.76475 − 0.025, −1.736125 − 0.005) = (0.73975, −1.741125)
  Tensor w = from_vector(std::vector<double>{1.0, -2.0}, {2}, TensorOptions(DType::f64).requires_grad(true));
  optim::Sophia opt(one_group(w), {{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.5}, {"rho", 4.0}, {"weight_decay", 0.5},
                                   {"update_interval", 2}});
  std::vector<double> got;
  for (size_t t = 0; t < kGrads.size(); ++t) {
    CHECK(opt.hessian_due() == (t % 2 == 0));
    if (t == 0) opt.update_hessian({from_vector(std::vector<double>{2.0, 0.5})});
    if (t == 2) opt.update_hessian({from_vector(std::vector<double>{0.0, 1.0})});
    w.set_grad(from_vector(kGrads[t]));
    opt.step();
    const auto now = test::values(w);
    got.insert(got.end(), now.begin(), now.end());
  }
  CHECK(all_close(got, {0.9, -1.95, 0.805, -1.8275, 0.73975, -1.741125}, 1e-12, 1e-12));
  // Gauss-Newton-Bartlett: ĥ = scale·g⊙g from the current gradients: h = 0.5·(0.5, 0.625) + 0.5·2·(1, 0.25)
  opt.update_hessian_from_grads(2.0);
  CHECK(all_close(opt.state_dict().tensors.at("state.0.hessian"), {1.25, 0.5625}, 1e-12, 0));
}

TEST_CASE("sophia: Hutchinson's estimate has the Hessian diagonal as its expectation", "[optim][sophia]") {
  // loss = ½·wᵀAw, Hessian A. E[u⊙Au] = diag(A) for Rademacher u (E[uᵢuⱼ] = δᵢⱼ); each sample's error is
  // Σⱼ≠ᵢ Aᵢⱼuᵢuⱼ, std <= √(1 + 0.25) here, so the mean of 2000 samples is within 0.15 (> 5σ).
  const Tensor A = from_vector(std::vector<double>{2.0, 1.0, 0.5, 1.0, 3.0, -1.0, 0.5, -1.0, 1.0}, {3, 3});
  Tensor w = from_vector(std::vector<double>{0.3, -0.7, 1.1}, {3}, TensorOptions(DType::f64).requires_grad(true));
  const Tensor loss = 0.5 * sum(w * matmul(A, w.unsqueeze(1)).squeeze(1));
  Generator gen(7);
  std::vector<double> mean(3, 0.0);
  const int samples = 2000;
  for (int s = 0; s < samples; ++s) {
    const auto estimate = test::values(optim::hutchinson_hessian_diagonal(loss, {w}, gen)[0]);
    for (size_t i = 0; i < 3; ++i) mean[i] += estimate[i] / samples;
  }
  CHECK(all_close(mean, {2.0, 3.0, 1.0}, 0, 0.15));
  // With a diagonal Hessian every single estimate is exact (uᵢ² = 1).
  const Tensor D = from_vector(std::vector<double>{2.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 1.0}, {3, 3});
  const Tensor diagonal_loss = 0.5 * sum(w * matmul(D, w.unsqueeze(1)).squeeze(1));
  CHECK(all_close(optim::hutchinson_hessian_diagonal(diagonal_loss, {w}, gen)[0], {2.0, 3.0, 1.0}, 1e-12, 1e-12));
}

TEST_CASE("paper optimizers: state_dict round trip mid-run gives the same trajectory", "[optim]") {
  const nlohmann::json problem = test::load_optim_fixture("sgd.json")["problem"];
  const std::map<std::string, std::map<std::string, double>> cases = {
      {"lion", {{"lr", 0.01}, {"weight_decay", 0.1}}},
      {"lamb", {{"lr", 0.05}}},
      {"lars", {{"lr", 1.0}, {"momentum", 0.9}, {"weight_decay", 1e-3}, {"trust_coeff", 0.02}}},
      {"adan", {{"lr", 0.05}, {"weight_decay", 0.02}}},
      {"adabelief", {{"lr", 0.05}, {"amsgrad", 1}, {"weight_decay", 0.1}}},
      {"adabound", {{"lr", 0.05}, {"gamma", 0.1}, {"weight_decay", 0.1}}},
      {"novograd", {{"lr", 0.05}, {"weight_decay", 0.1}}},  // v is scalar state: carried in the JSON
      {"adamp", {{"lr", 0.05}, {"weight_decay", 0.1}, {"nesterov", 1}}},
      {"sgdp", {{"lr", 0.05}, {"momentum", 0.9}, {"weight_decay", 0.1}}},
      {"adafactor", {{"lr", 0.05}, {"beta1", 0.9}, {"weight_decay", 0.1}}},
      {"sophia", {{"lr", 0.05}, {"weight_decay", 0.1}}},  // h stays 0: sign-momentum steps
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
