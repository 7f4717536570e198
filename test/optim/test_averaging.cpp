// Weight averaging (optim/ema.h, optim/swa.h): ModelEMA's warm-up variants after three updates
// against numbers worked out by hand, the exact evaluation swap, BN buffers in full-state mode only,
// Switch EMA's switch points, SWA's running mean, update_bn against per-batch statistics computed
// directly, state_dict round trips mid-run, and bad input. Twin: test/optim/test_wrappers.cpp.
#include <catch2/catch.hpp>

#include <cmath>

#include "data/dataloader.h"
#include "helpers.h"
#include "models/nn/container.h"
#include "models/nn/norm.h"
#include "optim/ema.h"
#include "optim/swa.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {

// Two averaged parameters (w: f64, b: f32, so both kernels run) and optionally a BatchNorm1d(2)
// child (f32 weight/bias and buffers running_mean, running_var, num_batches_tracked).
struct Net : nn::Module {
  Tensor w, b;
  std::shared_ptr<nn::BatchNorm1d> bn;
  explicit Net(bool with_bn = false) : Module("Net") {
    w = register_parameter("w", from_vector(std::vector<double>{1.0, -2.0}, {2}));
    b = register_parameter("b", from_vector(std::vector<float>{0.5f}, {1}));
    if (with_bn) bn = register_module("bn", std::make_shared<nn::BatchNorm1d>(2));
  }
};

void set_values(Tensor t, const std::vector<double>& v) {
  NoGradGuard no_grad;
  t.copy_(from_vector(v, t.sizes()));
}

// The θ sequence of the hand-worked examples: θ0 = [1, −2] at construction, then [2, 0], [4, 2], [0, 4].
const std::vector<std::vector<double>> kThetas = {{2.0, 0.0}, {4.0, 2.0}, {0.0, 4.0}};

// EMA of w after each of the three updates.
std::vector<std::vector<double>> three_updates(optim::EmaOptions options) {
  Net net;
  optim::ModelEMA ema(net, options);
  std::vector<std::vector<double>> out;
  for (const auto& theta : kThetas) {
    set_values(net.w, theta);
    ema.update(net);
    out.push_back(values(ema.state_dict().at("ema.w")));
  }
  return out;
}

void check_three(const std::vector<std::vector<double>>& got, const std::vector<std::vector<double>>& expected) {
  REQUIRE(got.size() == expected.size());
  for (size_t t = 0; t < got.size(); ++t) {
    INFO("update " << t + 1);
    CHECK(all_close(got[t], expected[t], 1e-12, 1e-12));
  }
}

}  // namespace

TEST_CASE("ema: three updates per warm-up variant, worked by hand", "[optim][ema]") {
  // e ← m_t·e + (1 − m_t)·θ, e0 = θ0 = [1, −2]; t = updates done before (0, 1, 2).
  SECTION("no warm-up, m = 0.5") {
    // e1 = .5·[1, −2] + .5·[2, 0] = [1.5, −1]; e2 = .5·e1 + .5·[4, 2] = [2.75, 0.5];
    // e3 = .5·e2 + .5·[0, 4] = [1.375, 2.25]
    check_three(three_updates({.momentum = 0.5}), {{1.5, -1.0}, {2.75, 0.5}, {1.375, 2.25}});
  }
  SECTION("constant warm-up, m = 0.5, r = 0.5, W = 2: m_t = r·m = 0.25 for t <= 2") {
    // e1 = .25·[1, −2] + .75·[2, 0] = [1.75, −0.5]; e2 = .25·e1 + .75·[4, 2] = [3.4375, 1.375];
    // e3 = .25·e2 + .75·[0, 4] = [0.859375, 3.34375]
    check_three(three_updates({.momentum = 0.5, .warmup = optim::EmaWarmup::constant, .warmup_iters = 2,
                               .warmup_ratio = 0.5}),
                {{1.75, -0.5}, {3.4375, 1.375}, {0.859375, 3.34375}});
  }
  SECTION("linear warm-up, m = 0.5, r = 0.5, W = 2: m_t = (1 − (1 − t/2)·0.5)·0.5 = 0.25, 0.375, 0.5") {
    // e1 = [1.75, −0.5]; e2 = .375·e1 + .625·[4, 2] = [0.65625 + 2.5, −0.1875 + 1.25] = [3.15625, 1.0625];
    // e3 = .5·e2 + .5·[0, 4] = [1.578125, 2.53125]
    check_three(three_updates({.momentum = 0.5, .warmup = optim::EmaWarmup::linear, .warmup_iters = 2,
                               .warmup_ratio = 0.5}),
                {{1.75, -0.5}, {3.15625, 1.0625}, {1.578125, 2.53125}});
  }
  SECTION("exp warm-up, m = 0.5, r = 0.5, W = 2: m_t = 0.5^(1 − t/2)·0.5 = 0.25, √2/4, 0.5") {
    // e1 = [1.75, −0.5]; with a = √2/4: e2 = a·e1 + (1 − a)·[4, 2] = [4 − 2.25a, 2 − 2.5a];
    // e3 = .5·e2 + .5·[0, 4] = [2 − 1.125a, 3 − 1.25a]
    const double a = std::sqrt(2.0) / 4.0;
    check_three(three_updates({.momentum = 0.5, .warmup = optim::EmaWarmup::exp, .warmup_iters = 2,
                               .warmup_ratio = 0.5}),
                {{1.75, -0.5}, {4.0 - 2.25 * a, 2.0 - 2.5 * a}, {2.0 - 1.125 * a, 3.0 - 1.25 * a}});
  }
  SECTION("num_updates warm-up, m = 0.99: m_t = min(m, (1 + t)/(10 + t)) = 1/10, 2/11, 1/4") {
    // e1 = .1·[1, −2] + .9·[2, 0] = [1.9, −0.2]; e2 = (2/11)·e1 + (9/11)·[4, 2] = [39.8/11, 17.6/11];
    // e3 = .25·e2 + .75·[0, 4] = [9.95/11, 3.4]
    check_three(three_updates({.momentum = 0.99, .warmup = optim::EmaWarmup::num_updates}),
                {{1.9, -0.2}, {39.8 / 11.0, 1.6}, {9.95 / 11.0, 3.4}});
  }
  SECTION("after the warm-up the momentum is m") {
    Net net;
    for (optim::EmaWarmup warmup : {optim::EmaWarmup::constant, optim::EmaWarmup::linear, optim::EmaWarmup::exp}) {
      optim::ModelEMA ema(net, {.momentum = 0.9, .warmup = warmup, .warmup_iters = 4, .warmup_ratio = 0.5});
      CHECK(ema.momentum_at(0) == Approx(0.45));
      // constant holds r·m through t = W (openmixup applies the warm-up while t <= W); the ramps reach m.
      CHECK(ema.momentum_at(4) == Approx(warmup == optim::EmaWarmup::constant ? 0.45 : 0.9));
      CHECK(ema.momentum_at(5) == 0.9);
    }
  }
}

TEST_CASE("ema: the f32 parameter follows the same rule", "[optim][ema]") {
  // b: θ0 = 0.5, then 1.5 each time, m = 0.5: e = 1.0, 1.25, 1.375 (exact in f32).
  Net net;
  optim::ModelEMA ema(net, {.momentum = 0.5});
  std::vector<double> got;
  for (int t = 0; t < 3; ++t) {
    set_values(net.b, {1.5});
    ema.update(net);
    got.push_back(ema.state_dict().at("ema.b").item<float>());
  }
  CHECK(got == std::vector<double>{1.0, 1.25, 1.375});
  CHECK(ema.num_updates() == 3);
}

TEST_CASE("ema: a tensor split over threads follows the formula element by element", "[optim][ema]") {
  // 100000 elements (several parallel chunks); e ← 0.75·e + 0.25·θ checked against a plain loop.
  struct Big : nn::Module {
    Tensor w;
    Big() : Module("Big") { w = register_parameter("w", zeros({100000}, DType::f32)); }
  } big;
  Generator gen(3);
  set_values(big.w, values(uniform(-1.0, 1.0, {100000}, gen, DType::f64)));
  std::vector<double> expected = values(big.w);
  optim::ModelEMA ema(big, {.momentum = 0.75});
  for (int t = 0; t < 2; ++t) {
    const std::vector<double> theta = values(uniform(-1.0, 1.0, {100000}, gen, DType::f32));
    set_values(big.w, theta);
    ema.update(big);
    for (size_t i = 0; i < expected.size(); ++i) expected[i] = 0.75 * expected[i] + 0.25 * theta[i];
  }
  CHECK(all_close(ema.state_dict().at("ema.w"), expected, 1e-6, 1e-6));
}

TEST_CASE("ema: momentum 1 keeps the first weights, momentum 0 follows the model", "[optim][ema]") {
  Net net;
  optim::ModelEMA frozen(net, {.momentum = 1.0});
  optim::ModelEMA follow(net, {.momentum = 0.0});
  set_values(net.w, {5.0, 7.0});
  frozen.update(net);
  follow.update(net);
  CHECK(values(frozen.state_dict().at("ema.w")) == std::vector<double>{1.0, -2.0});
  CHECK(values(follow.state_dict().at("ema.w")) == std::vector<double>{5.0, 7.0});
}

TEST_CASE("ema: evaluating with the EMA weights restores the training weights exactly", "[optim][ema]") {
  Net net(true);
  Generator gen(7);
  optim::ModelEMA ema(net, {.momentum = 0.9, .full_state = true});
  for (int t = 0; t < 4; ++t) {
    set_values(net.w, values(uniform(-1.0, 1.0, {2}, gen, DType::f64)));
    set_values(net.bn->running_mean, values(uniform(-1.0, 1.0, {2}, gen, DType::f64)));
    ema.update(net);
  }
  const TensorMap before = net.state_dict();
  std::map<std::string, std::vector<double>> before_values;
  for (const auto& [name, t] : before) before_values[name] = values(t.clone());
  const TensorMap averaged = ema.state_dict();
  {
    auto use_ema = ema.swapped_into(net);
    CHECK(values(net.w) == values(averaged.at("ema.w")));
    CHECK(values(net.bn->running_mean) == values(averaged.at("ema.bn.running_mean")));
  }
  for (const auto& [name, t] : net.state_dict()) {
    INFO(name);
    CHECK(values(t) == before_values.at(name));  // bit for bit
  }
  CHECK(values(ema.state_dict().at("ema.w")) == values(averaged.at("ema.w")));  // the shadow is back too
}

TEST_CASE("ema: BN buffers are averaged only in full-state mode", "[optim][ema]") {
  // running_mean starts at [0, 0] (a fresh BN), becomes [4, 6] before the update; m = 0.5.
  for (bool full : {false, true}) {
    Net net(true);
    optim::ModelEMA ema(net, {.momentum = 0.5, .full_state = full});
    set_values(net.bn->running_mean, {4.0, 6.0});
    {
      NoGradGuard no_grad;
      net.bn->num_batches_tracked.fill_(7);
    }
    ema.update(net);
    const TensorMap state = ema.state_dict();
    CHECK(state.count("ema.bn.weight") == 1);  // parameters always
    if (!full) {
      CHECK(state.count("ema.bn.running_mean") == 0);
      CHECK(state.count("ema.bn.num_batches_tracked") == 0);
      set_values(net.bn->running_mean, {9.0, 9.0});
      ema.copy_to(net);  // leaves the buffers alone
      CHECK(values(net.bn->running_mean) == std::vector<double>{9.0, 9.0});
    } else {
      CHECK(values(state.at("ema.bn.running_mean")) == std::vector<double>{2.0, 3.0});
      CHECK(values(state.at("ema.bn.running_var")) == std::vector<double>{1.0, 1.0});
      CHECK(state.at("ema.bn.num_batches_tracked").item<int64_t>() == 7);  // integers are copied
      ema.copy_to(net);
      CHECK(values(net.bn->running_mean) == std::vector<double>{2.0, 3.0});
    }
  }
}

TEST_CASE("switch ema: switches at the right epochs and iterations only", "[optim][sema]") {
  Net net;
  SECTION("epoch mode: start 1, interval 2, end 6 -> epochs 3 and 5") {
    optim::SwitchEMA sema(net, {.momentum = 0.5}, {.interval = 2, .start = 1, .end = 6});
    std::vector<int64_t> switched;
    for (int64_t epoch = 0; epoch < 9; ++epoch) {
      if (sema.should_switch(epoch, 1000)) switched.push_back(epoch);
    }
    CHECK(switched == std::vector<int64_t>{3, 5});
    // The hooks: iterations never switch in epoch mode; epoch 3 copies the EMA into the model.
    set_values(net.w, {3.0, 0.0});
    CHECK_FALSE(sema.after_train_iter(net, 3));  // EMA = .5·[1, −2] + .5·[3, 0] = [2, −1]
    CHECK(values(net.w) == std::vector<double>{3.0, 0.0});
    CHECK_FALSE(sema.before_train_epoch(net, 2));
    CHECK(values(net.w) == std::vector<double>{3.0, 0.0});
    CHECK(sema.before_train_epoch(net, 3));
    CHECK(values(net.w) == std::vector<double>{2.0, -1.0});
    CHECK(sema.num_switches() == 1);
  }
  SECTION("iteration mode: start 0, interval 3 -> iterations 3, 6, 9") {
    optim::SwitchEMA sema(net, {.momentum = 0.5}, {.by_iter = true, .interval = 3});
    std::vector<int64_t> switched;
    for (int64_t it = 0; it <= 10; ++it) {
      if (sema.should_switch(it, it)) switched.push_back(it);
    }
    CHECK(switched == std::vector<int64_t>{3, 6, 9});
    // Run 4 iterations with θ = 2·w each time (the "optimizer"); the model equals the EMA right
    // after iteration 3 only.
    for (int64_t it = 1; it <= 4; ++it) {
      set_values(net.w, {2.0 * values(net.w)[0], 2.0 * values(net.w)[1]});
      const bool did = sema.after_train_iter(net, it);
      CHECK(did == (it == 3));
      const bool equal = values(net.w) == values(sema.ema().state_dict().at("ema.w"));
      CHECK(equal == (it == 3));
      CHECK_FALSE(sema.before_train_epoch(net, it));  // epochs never switch in iteration mode
    }
    // Hand check: w: 2, 4, 8 -> EMA 1.5, 2.75, 5.375 (first component), switched at 3; then w = 10.75,
    // EMA = 8.0625.
    CHECK(values(sema.ema().state_dict().at("ema.w"))[0] == 8.0625);
  }
}

TEST_CASE("swa: the running mean of the snapshots", "[optim][swa]") {
  // Snapshots [2, 0], [4, 2], [0, 4] (the construction weights do not count): mean [2, 2].
  Net net;
  optim::SWA swa(net, {.start_epoch = 2});
  CHECK_FALSE(swa.should_update(1));
  CHECK(swa.should_update(2));
  std::vector<std::vector<double>> means;
  for (const auto& theta : kThetas) {
    set_values(net.w, theta);
    swa.update(net);
    means.push_back(values(swa.state_dict().at("swa.w")));
  }
  check_three(means, {{2.0, 0.0}, {3.0, 1.0}, {2.0, 2.0}});
  CHECK(swa.n_averaged() == 3);
  {
    auto use_swa = swa.swapped_into(net);
    CHECK(values(net.w) == std::vector<double>{2.0, 2.0});
  }
  CHECK(values(net.w) == std::vector<double>{0.0, 4.0});  // the last snapshot is back
  swa.copy_to(net);
  CHECK(values(net.w) == std::vector<double>{2.0, 2.0});
}

TEST_CASE("swa: update_bn recomputes the BN statistics as the mean of per-batch statistics", "[optim][swa]") {
  // 3 batches of 4 samples, 2 features. With momentum None the running mean is the mean over batches
  // of each batch's mean, the running variance the mean of each batch's unbiased variance.
  Generator gen(11);
  const Tensor data = uniform(-2.0, 3.0, {12, 2}, gen, DType::f32);
  const std::vector<double> x = values(data);
  std::vector<double> mean(2, 0.0), var(2, 0.0);
  for (int b = 0; b < 3; ++b) {
    for (int c = 0; c < 2; ++c) {
      double m = 0.0, v = 0.0;
      for (int i = 0; i < 4; ++i) m += x[(b * 4 + i) * 2 + c] / 4.0;
      for (int i = 0; i < 4; ++i) v += std::pow(x[(b * 4 + i) * 2 + c] - m, 2) / 3.0;
      mean[c] += m / 3.0;
      var[c] += v / 3.0;
    }
  }
  auto bn = std::make_shared<nn::BatchNorm1d>(2);
  nn::Sequential model({bn});
  set_values(bn->running_mean, {5.0, 5.0});  // stale statistics, to be replaced
  model.eval();

  SECTION("from a callback") {
    int64_t next = 0;
    optim::update_bn(model, [&]() -> std::optional<Tensor> {
      if (next == 3) return std::nullopt;
      return data.narrow(0, 4 * next++, 4).contiguous();
    });
  }
  SECTION("from a DataLoader") {
    data::DataLoader loader(std::make_shared<data::TensorDataset>(data, zeros({12}, DType::i64)),
                            {.batch_size = 4});
    optim::update_bn(model, loader);
  }
  CHECK(all_close(bn->running_mean, mean, 1e-5, 1e-6));
  CHECK(all_close(bn->running_var, var, 1e-5, 1e-6));
  CHECK(bn->num_batches_tracked.item<int64_t>() == 3);
  CHECK(bn->momentum == std::optional<double>(0.1));  // restored
  CHECK_FALSE(model.is_training());                     // restored
}

TEST_CASE("swa: update_bn equals torch.optim.swa_utils.update_bn with a short last batch", "[optim][swa]") {
  // Batches of 4, 4, 4 and 2 rows: each batch counts once (not by its size). Reference printed by
  // Debian's PyTorch 1.13: update_bn(DataLoader(x, batch_size=4), Sequential(BatchNorm1d(2).double()))
  // with x the 14 × 2 float64 tensor below, then bn.running_mean / running_var / num_batches_tracked.
  const Tensor x = from_vector(std::vector<double>{0.5, -1.0, 1.5, 2.0, -0.25, 0.75, 2.0, -2.5, 3.0, 1.0, -1.0, 0.5,
                                                   0.0, 0.25, 1.25, -0.5, 2.5, 3.5, -2.0, 1.5, 0.75, -1.25, 1.0, 0.0,
                                                   4.0, -3.0, -0.5, 2.25},
                               {14, 2});
  auto bn = std::make_shared<nn::BatchNorm1d>(2);
  nn::Sequential model({bn});
  model.to(DType::f64);
  data::DataLoader loader(std::make_shared<data::TensorDataset>(x, zeros({14}, DType::i64)), {.batch_size = 4});
  optim::update_bn(model, loader);
  CHECK(all_close(bn->running_mean, {1.01562500000000000, 0.17187500000000000}, 1e-12, 1e-12));
  CHECK(all_close(bn->running_var, {4.40755208333333393, 5.56119791666666696}, 1e-12, 1e-12));
  CHECK(bn->num_batches_tracked.item<int64_t>() == 4);
}

TEST_CASE("averaging: state_dict round trip mid-run gives the identical trajectory", "[optim][ema][swa][sema]") {
  // θ_t = [sin t, cos t]; 6 updates, the state saved after 3 and loaded into fresh objects.
  auto theta = [](int t) { return std::vector<double>{std::sin(t), std::cos(t)}; };
  const optim::EmaOptions ema_options{.momentum = 0.8, .warmup = optim::EmaWarmup::linear, .warmup_iters = 4};
  const optim::SwitchOptions switch_options{.by_iter = true, .interval = 2};

  Net net;
  optim::SwitchEMA sema(net, ema_options, switch_options);
  optim::SWA swa(net);
  TensorMap sema_mid, swa_mid;
  std::vector<double> w_mid;
  for (int t = 1; t <= 6; ++t) {
    set_values(net.w, theta(t));
    sema.after_train_iter(net, t);
    swa.update(net);
    if (t == 3) {
      sema_mid = sema.state_dict();
      swa_mid = swa.state_dict();
      w_mid = values(net.w);
    }
  }

  Net fresh;
  set_values(fresh.w, {42.0, -42.0});
  optim::SwitchEMA sema2(fresh, ema_options, switch_options);
  optim::SWA swa2(fresh);
  sema2.load_state_dict(sema_mid);
  swa2.load_state_dict(swa_mid);
  set_values(fresh.w, w_mid);
  CHECK(sema2.ema().num_updates() == 3);
  CHECK(sema2.num_switches() == 1);
  CHECK(swa2.n_averaged() == 3);
  for (int t = 4; t <= 6; ++t) {
    set_values(fresh.w, theta(t));
    sema2.after_train_iter(fresh, t);
    swa2.update(fresh);
  }
  CHECK(values(sema2.state_dict().at("ema.w")) == values(sema.state_dict().at("ema.w")));
  CHECK(sema2.num_switches() == sema.num_switches());
  CHECK(values(swa2.state_dict().at("swa.w")) == values(swa.state_dict().at("swa.w")));
  CHECK(values(fresh.w) == values(net.w));
}

TEST_CASE("averaging: bad input", "[optim][ema][swa][sema][errors]") {
  Net net;
  REQUIRE_THROWS_OP(optim::ModelEMA(net, {.momentum = -0.1}), "ema: momentum must be in [0, 1]");
  REQUIRE_THROWS_OP(optim::ModelEMA(net, {.momentum = 1.5}), "ema: momentum must be in [0, 1]");
  REQUIRE_THROWS_OP(optim::ModelEMA(net, {.warmup = optim::EmaWarmup::linear}), "warmup_iters");
  REQUIRE_THROWS_OP(optim::ModelEMA(net, {.warmup = optim::EmaWarmup::exp, .warmup_iters = 5, .warmup_ratio = 0.0}),
                    "warmup_ratio");
  REQUIRE_THROWS_OP(optim::ema_warmup_from_name("cosine"), "known: none, constant, linear, exp, num_updates");
  CHECK(optim::ema_warmup_from_name("linear") == optim::EmaWarmup::linear);

  // Models with a different parameter layout.
  optim::ModelEMA ema(net);
  Net with_bn(true);
  REQUIRE_THROWS_OP(ema.update(with_bn), "different parameter layout");
  struct Other : nn::Module {
    Other() : Module("Other") {
      register_parameter("w", zeros({3}, DType::f64));
      register_parameter("b", zeros({1}, DType::f32));
    }
  } other;
  REQUIRE_THROWS_OP(ema.update(other), "'w'");
  optim::SWA swa(net);
  REQUIRE_THROWS_OP(swa.update(other), "different parameter layout");
  REQUIRE_THROWS_OP(swa.copy_to(net), "swa: copy_to before any update");
  REQUIRE_THROWS_OP(optim::SWA(net, {.start_epoch = -1}), "start_epoch");

  // A state from another layout or without the counter changes nothing.
  optim::ModelEMA big(with_bn);
  REQUIRE_THROWS_OP(big.load_state_dict(ema.state_dict()), "ema.bn");
  TensorMap no_counter = ema.state_dict();
  no_counter.erase("ema_num_updates");
  REQUIRE_THROWS_OP(ema.load_state_dict(no_counter), "ema_num_updates");

  REQUIRE_THROWS_OP(optim::SwitchEMA(net, {}, {.interval = 0}), "switch ema: interval");
  REQUIRE_THROWS_OP(optim::SwitchEMA(net, {}, {.start = 5, .end = 3}), "switch ema: end");
}
