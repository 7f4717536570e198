// SGD, Adam and AdamW (optim/sgd.h, optim/adamw.h) and the Optimizer base (optim/optimizer.h):
// three steps against numbers worked out by hand from the update equations, 20-step trajectories
// against PyTorch 1.13 (test/optim/fixtures/{sgd,adam}.json from scripts/make_optim_fixtures.py,
// float64 and float32) with a state_dict round trip halfway, and the base's checks.
#include <catch2/catch.hpp>

#include "helpers.h"
#include "optim/adamw.h"
#include "optim/sgd.h"
#include "optim_fixtures.h"

using namespace ember;
using ember::test::all_close;
using ember::test::one_group;
using ember::test::scalar_param;
using ember::test::steps_with_grads;

namespace {

// Three steps on L = w² (g = 2w) from w = 1; returns w after each step.
std::vector<double> three_steps_on_square(optim::Optimizer& opt, Tensor& w) {
  std::vector<double> out;
  for (int t = 0; t < 3; ++t) {
    w.set_grad(from_vector(std::vector<double>{2.0 * w.item<double>()}, {1}, TensorOptions(w.dtype())));
    opt.step();
    out.push_back(w.item<double>());
  }
  return out;
}


}  // namespace

TEST_CASE("sgd: three steps worked by hand", "[optim][sgd]") {
  // L = w², g = 2w, w₀ = 1, lr = 0.1. d = g + wd·w; b₁ = d₁, bₜ = μ·bₜ₋₁ + (1 − τ)·dₜ;
  // w −= lr·(d + μ·b) with Nesterov, else lr·b.
  for (DType dtype : {DType::f64, DType::f32}) {
    const double tol = dtype == DType::f64 ? 1e-12 : 1e-6;
    SECTION("momentum 0.9") {
      // t1: d = 2,    b = 2,                    w = 1 − 0.2 = 0.8
      // t2: d = 1.6,  b = 0.9·2 + 1.6 = 3.4,     w = 0.8 − 0.34 = 0.46
      // t3: d = 0.92, b = 0.9·3.4 + 0.92 = 3.98, w = 0.46 − 0.398 = 0.062
      Tensor w = scalar_param(1.0, dtype);
      optim::SGD opt(one_group(w), {{"lr", 0.1}, {"momentum", 0.9}});
      CHECK(all_close(three_steps_on_square(opt, w), {0.8, 0.46, 0.062}, tol, tol));
    }
    SECTION("nesterov, weight decay 0.1") {
      // d = 2.1·w.
      // t1: d = 2.1,       b = 2.1,                            step = 2.1 + 0.9·2.1 = 3.99,
      //     w = 1 − 0.399 = 0.601
      // t2: d = 1.2621,    b = 0.9·2.1 + 1.2621 = 3.1521,        step = 1.2621 + 0.9·3.1521 = 4.09899,
      //     w = 0.601 − 0.409899 = 0.191101
      // t3: d = 0.4013121, b = 0.9·3.1521 + 0.4013121 = 3.2382021, step = 0.4013121 + 2.91438189 = 3.31569399,
      //     w = 0.191101 − 0.331569399 = −0.140468399
      Tensor w = scalar_param(1.0, dtype);
      optim::SGD opt(one_group(w), {{"lr", 0.1}, {"momentum", 0.9}, {"nesterov", 1}, {"weight_decay", 0.1}});
      CHECK(all_close(three_steps_on_square(opt, w), {0.601, 0.191101, -0.140468399}, tol, tol));
    }
    SECTION("dampening 0.5 (not applied on the first step)") {
      // t1: d = 2,    b = 2,                          w = 0.8
      // t2: d = 1.6,  b = 0.9·2 + 0.5·1.6 = 2.6,        w = 0.8 − 0.26 = 0.54
      // t3: d = 1.08, b = 0.9·2.6 + 0.5·1.08 = 2.88,     w = 0.54 − 0.288 = 0.252
      Tensor w = scalar_param(1.0, dtype);
      optim::SGD opt(one_group(w), {{"lr", 0.1}, {"momentum", 0.9}, {"dampening", 0.5}});
      CHECK(all_close(three_steps_on_square(opt, w), {0.8, 0.54, 0.252}, tol, tol));
    }
  }
}

TEST_CASE("adam/adamw: three steps worked by hand", "[optim][adam]") {
  // Gradients 4, 2, −1 from w₀ = 1; lr 0.1, β1 0.5, β2 0.75, ε 0 (so the numbers stay short).
  // m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g², m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ), w −= lr·m̂/√v̂.
  const std::map<std::string, double> base{{"lr", 0.1}, {"beta1", 0.5}, {"beta2", 0.75}, {"eps", 0.0}};
  const std::vector<double> grads{4.0, 2.0, -1.0};
  auto with = [&](std::map<std::string, double> extra) {
    extra.insert(base.begin(), base.end());
    return extra;
  };
  for (DType dtype : {DType::f64, DType::f32}) {
    const double tol = dtype == DType::f64 ? 1e-10 : 1e-6;
    SECTION("adam") {
      // t1: m = 2, v = 4;        m̂ = 4,         v̂ = 16,        update 0.1·4/4 = 0.1,          w = 0.9
      // t2: m = 1 + 1 = 2, v = 3 + 1 = 4; m̂ = 2/0.75 = 2.6666667, v̂ = 4/0.4375 = 9.1428571,
      //     update 0.1·2.6666667/3.0237158 = 0.0881917104,                                  w = 0.8118082896
      // t3: m = 1 − 0.5 = 0.5, v = 3 + 0.25 = 3.25; m̂ = 0.5/0.875 = 0.5714286,
      //     v̂ = 3.25/0.578125 = 5.6216216, update 0.1·0.5714286/2.3709960 = 0.0241007826,   w = 0.7877075070
      Tensor w = scalar_param(1.0, dtype);
      optim::Adam opt(one_group(w), base);
      CHECK(all_close(steps_with_grads(opt, w, grads), {0.9, 0.8118082896, 0.7877075070}, tol, tol));
    }
    SECTION("adam, coupled weight decay 0.5 (g += 0.5·w)") {
      // t1: g = 4.5, m = 2.25, v = 5.0625; m̂ = 4.5, v̂ = 20.25, update 0.1,               w = 0.9
      // t2: g = 2 + 0.45 = 2.45, m = 1.125 + 1.225 = 2.35, v = 3.796875 + 1.500625 = 5.2975;
      //     m̂ = 3.1333333, v̂ = 12.1085714, update 0.1·3.1333333/3.4797372 = 0.0900451125, w = 0.8099548875
      // t3: g = −1 + 0.40497744 = −0.5950225562, m = 1.175 − 0.2975113 = 0.8774887219,
      //     v = 3.973125 + 0.0885130 = 4.0616380; m̂ = 1.0028443, v̂ = 7.0255359,
      //     update 0.1·1.0028443/2.6505727 = 0.0378350020,                                 w = 0.7721198856
      Tensor w = scalar_param(1.0, dtype);
      optim::Adam opt(one_group(w), with({{"weight_decay", 0.5}}));
      CHECK(all_close(steps_with_grads(opt, w, grads), {0.9, 0.8099548875, 0.7721198856}, tol, tol));
    }
    SECTION("adamw, decoupled weight decay 0.5 (w *= 1 − 0.1·0.5 before the Adam update)") {
      // The moments are those of plain Adam (updates 0.1, 0.0881917104, 0.0241007826):
      // t1: w = 0.95 − 0.1 = 0.85; t2: w = 0.8075 − 0.0881917104 = 0.7193082896;
      // t3: w = 0.6833428751 − 0.0241007826 = 0.6592420925
      Tensor w = scalar_param(1.0, dtype);
      optim::AdamW opt(one_group(w), with({{"weight_decay", 0.5}}));
      CHECK(all_close(steps_with_grads(opt, w, grads), {0.85, 0.7193082896, 0.6592420925}, tol, tol));
    }
    SECTION("adam, amsgrad (v drops from 4 to 3.25 at t3; the denominator keeps vmax = 4)") {
      // t1, t2 as plain Adam (vmax = v = 4). t3: v̂ = 4/0.578125 = 6.9189189,
      //     update 0.1·0.5714286/2.6303838 = 0.0217241519,                                  w = 0.7900841377
      Tensor w = scalar_param(1.0, dtype);
      optim::Adam opt(one_group(w), with({{"amsgrad", 1}}));
      CHECK(all_close(steps_with_grads(opt, w, grads), {0.9, 0.8118082896, 0.7900841377}, tol, tol));
    }
  }
}

TEST_CASE("sgd: 20 steps match PyTorch, state_dict round trip halfway", "[optim][sgd][fixtures]") {
  test::check_fixture_file("sgd.json");
}

TEST_CASE("adam/adamw: 20 steps match PyTorch, state_dict round trip halfway", "[optim][adam][fixtures]") {
  test::check_fixture_file("adam.json");
}

TEST_CASE("optimizer: parameters without a gradient are skipped; zero_grad", "[optim]") {
  Tensor a = scalar_param(1.0), b = scalar_param(2.0);
  optim::SGD opt({optim::ParamGroup{{a, b}, {}, ""}}, {{"lr", 0.5}, {"momentum", 0.9}});
  a.set_grad(from_vector(std::vector<double>{1.0}, {1}));
  opt.step();
  CHECK(a.item<double>() == 0.5);
  CHECK(b.item<double>() == 2.0);
  CHECK(opt.step_count(0) == 1);
  CHECK(opt.step_count(1) == 0);
  CHECK(opt.state_dict().tensors.count("state.1.momentum_buffer") == 0);
  opt.zero_grad(false);
  CHECK(a.grad().defined());
  CHECK(a.grad().item<double>() == 0.0);
  opt.zero_grad();
  CHECK_FALSE(a.grad().defined());
}

TEST_CASE("optimizer: per-group options override the defaults; set_lr", "[optim]") {
  Tensor a = scalar_param(1.0), b = scalar_param(1.0);
  optim::AdamW opt({optim::ParamGroup{{a}, {{"weight_decay", 0.0}}, "no_decay"}, optim::ParamGroup{{b}, {}, "decay"}},
                   {{"lr", 0.01}});
  CHECK(opt.param_groups()[0].get("weight_decay") == 0.0);
  CHECK(opt.param_groups()[1].get("weight_decay") == 0.01);  // AdamW's default
  CHECK(opt.param_groups()[1].get("beta2") == 0.999);
  opt.set_lr(0.5);
  CHECK(opt.param_groups()[0].get("lr") == 0.5);
  CHECK(opt.param_groups()[1].get("lr") == 0.5);
  CHECK(opt.lr() == 0.5);
}

TEST_CASE("weight_decay_groups: no decay on biases, norms (dim <= 1) and skipped names", "[optim]") {
  auto param = [](Shape shape) { return zeros(shape).requires_grad_(true); };
  const Tensor w = param({4, 3}), bias = param({4}), norm = param({3}), pos = param({1, 5, 3}), conv = param({2, 3, 3, 3});
  const Tensor frozen = zeros({4, 3});
  const auto groups = optim::weight_decay_groups({{"fc.weight", w},
                                                  {"fc.bias", bias},
                                                  {"norm.weight", norm},
                                                  {"encoder.pos_embed", pos},
                                                  {"conv.weight", conv},
                                                  {"frozen.weight", frozen}},
                                                 0.05, {"pos_embed"});
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].name == "no_decay");
  CHECK(groups[0].get("weight_decay") == 0.0);
  REQUIRE(groups[0].params.size() == 3);
  CHECK(groups[0].params[0].is_same(bias));
  CHECK(groups[0].params[1].is_same(norm));
  CHECK(groups[0].params[2].is_same(pos));
  CHECK(groups[1].name == "decay");
  CHECK(groups[1].get("weight_decay") == 0.05);
  REQUIRE(groups[1].params.size() == 2);
  CHECK(groups[1].params[0].is_same(w));
  CHECK(groups[1].params[1].is_same(conv));
  // The groups feed an optimizer directly; its defaults fill the other options.
  optim::AdamW opt(groups);
  CHECK(opt.param_groups()[1].get("weight_decay") == 0.05);
}

TEST_CASE("optimizer: bad construction gives clear errors", "[optim][errors]") {
  const Tensor w = scalar_param(1.0);
  REQUIRE_THROWS_OP(optim::SGD({}, {{"lr", 0.1}}), "sgd: empty parameter list");
  REQUIRE_THROWS_OP(optim::SGD({optim::ParamGroup{}}, {{"lr", 0.1}}), "sgd: empty parameter list");
  REQUIRE_THROWS_OP(optim::SGD({optim::ParamGroup{{w * 2.0}, {}, ""}}, {{"lr", 0.1}}), "not a leaf");
  REQUIRE_THROWS_OP(optim::SGD({optim::ParamGroup{{zeros({2}, DType::i64)}, {}, ""}}, {{"lr", 0.1}}),
                    "float32 or float64");
  REQUIRE_THROWS_OP(optim::SGD({optim::ParamGroup{{w, w}, {}, ""}}, {{"lr", 0.1}}), "more than once");
  REQUIRE_THROWS_OP(optim::SGD(one_group(w)), "sgd: option 'lr' is required");
  REQUIRE_THROWS_OP(optim::SGD(one_group(w), {{"lr", 0.1}, {"betas", 0.9}}), "sgd: unknown option 'betas'");
  REQUIRE_THROWS_OP(optim::SGD({optim::ParamGroup{{w}, {{"momentun", 0.9}}, "g"}}, {{"lr", 0.1}}),
                    "unknown option 'momentun' in group 0 ('g')");
  REQUIRE_THROWS_OP(optim::SGD(one_group(w), {{"lr", -0.1}}), "sgd: invalid lr = -0.1");
  REQUIRE_THROWS_OP(optim::SGD(one_group(w), {{"lr", 0.1}, {"nesterov", 1}}), "nesterov momentum requires");
  REQUIRE_THROWS_OP(optim::AdamW(one_group(w), {{"beta1", 1.0}}), "adamw: invalid beta1 = 1");
  REQUIRE_THROWS_OP(optim::Adam(one_group(w), {{"eps", -1.0}}), "adam: invalid eps");
  REQUIRE_THROWS_OP(optim::make_optimizer("adamx", one_group(w)), "unknown optimizer 'adamx' (known: ");
  REQUIRE_THROWS_OP(optim::make_optimizer("adamx", one_group(w)), " adamw, ");
  CHECK(optim::make_optimizer("AdamW", one_group(w))->name() == "adamw");
}

TEST_CASE("optimizer: load_state_dict rejects another optimizer or another layout", "[optim][errors]") {
  Tensor a = scalar_param(1.0), b = zeros({2, 3}, DType::f64).requires_grad_(true);
  optim::SGD sgd({optim::ParamGroup{{a, b}, {}, ""}}, {{"lr", 0.1}, {"momentum", 0.9}});
  a.set_grad(ones({1}, DType::f64));
  b.set_grad(ones({2, 3}, DType::f64));
  sgd.step();
  const optim::OptimizerState state = sgd.state_dict();
  CHECK(state.tensors.count("state.1.momentum_buffer") == 1);
  CHECK(state.scalars["steps"] == nlohmann::json({1, 1}));

  optim::AdamW adamw({optim::ParamGroup{{a, b}, {}, ""}});
  REQUIRE_THROWS_OP(adamw.load_state_dict(state), "saved by optimizer 'sgd', this is 'adamw'");

  Tensor c = zeros({3, 2}, DType::f64).requires_grad_(true);
  optim::SGD other_shape({optim::ParamGroup{{a, c}, {}, ""}}, {{"lr", 0.1}});
  REQUIRE_THROWS_OP(other_shape.load_state_dict(state), "parameter 1 of group 0 has shape [2, 3] in the state, [3, 2]");
  optim::SGD two_groups({optim::ParamGroup{{a}, {}, ""}, optim::ParamGroup{{b}, {}, ""}}, {{"lr", 0.1}});
  REQUIRE_THROWS_OP(two_groups.load_state_dict(state), "the state has 1 parameter group(s), this optimizer has 2");
  optim::SGD fewer({optim::ParamGroup{{a}, {}, ""}}, {{"lr", 0.1}});
  REQUIRE_THROWS_OP(fewer.load_state_dict(state), "has 2 parameter(s) in the state, 1 here");

  optim::OptimizerState bad = state;
  bad.tensors["state.7.momentum_buffer"] = zeros({1}, DType::f64);
  REQUIRE_THROWS_OP(other_shape.load_state_dict(bad), "load_state_dict");
  optim::SGD same({optim::ParamGroup{{a, b}, {}, ""}}, {{"lr", 0.5}});
  REQUIRE_THROWS_OP(same.load_state_dict(bad), "names parameter 7 but there are 2");
  optim::OptimizerState misshapen = state;
  misshapen.tensors["state.1.momentum_buffer"] = zeros({3, 2}, DType::f64);
  REQUIRE_THROWS_OP(same.load_state_dict(misshapen), "needs shape [2, 3]");
  CHECK(same.lr() == 0.5);  // a failed load changes nothing
  same.load_state_dict(state);
  CHECK(same.lr() == 0.1);
  CHECK(same.step_count(1) == 1);
}

TEST_CASE("adamw: the threaded fused loop equals a naive per-element loop on a large parameter", "[optim][adam]") {
  // 100003 elements (> 2 · kParallelGrain, odd): the parallel path, with a ragged last chunk.
  const int64_t n = 100003;
  std::vector<double> w0(n), g(n);
  for (int64_t i = 0; i < n; ++i) {
    w0[i] = std::sin(0.001 * static_cast<double>(i));
    g[i] = std::cos(0.0007 * static_cast<double>(i)) - 0.3;
  }
  Tensor w = from_vector(w0, {n}, TensorOptions(DType::f64).requires_grad(true));
  optim::AdamW opt(one_group(w), {{"lr", 0.01}, {"weight_decay", 0.1}, {"amsgrad", 1}});
  std::vector<double> ref = w0, m(n, 0.0), v(n, 0.0), vmax(n, 0.0);
  for (int t = 1; t <= 2; ++t) {
    w.set_grad(from_vector(g, {n}));
    opt.step();
    for (int64_t i = 0; i < n; ++i) {
      ref[i] *= 1.0 - 0.01 * 0.1;
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      vmax[i] = std::max(vmax[i], v[i]);
      ref[i] -= 0.01 / (1.0 - std::pow(0.9, t)) * m[i] / (std::sqrt(vmax[i]) / std::sqrt(1.0 - std::pow(0.999, t)) + 1e-8);
    }
  }
  CHECK(all_close(w, ref, 1e-12, 1e-14));
}
