// LR schedules and the LRScheduler (optim/schedule.h) against torch.optim.lr_scheduler values
// (test/optim/fixtures/schedules.json from scripts/make_optim_fixtures.py) and hand-worked
// numbers; gradient clipping (optim/clip.h) against hand-worked numbers.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <numbers>

#include "helpers.h"
#include "optim/adagrad.h"
#include "optim/clip.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "optim_fixtures.h"

using namespace ember;
using ember::test::all_close;

namespace {

// An SGD with one scalar parameter per base lr (each in its own group).
struct Groups {
  std::vector<Tensor> params;
  std::unique_ptr<optim::SGD> opt;
  explicit Groups(const std::vector<double>& base_lrs) {
    std::vector<optim::ParamGroup> groups;
    for (double lr : base_lrs) {
      params.push_back(zeros({1}).requires_grad_(true));
      groups.push_back(optim::ParamGroup{{params.back()}, {{"lr", lr}}, ""});
    }
    opt = std::make_unique<optim::SGD>(groups);
  }
};

optim::ScheduleOptions options_from(const nlohmann::json& j) { return j.get<optim::ScheduleOptions>(); }

}  // namespace

TEST_CASE("schedule: every kind matches torch.optim.lr_scheduler for 20 steps, two groups", "[optim][schedule]") {
  const nlohmann::json fixture = test::load_optim_fixture("schedules.json");
  for (const auto& c : fixture["cases"]) {
    SECTION(c["name"].get<std::string>()) {
      Groups g(c["base_lrs"].get<std::vector<double>>());
      optim::LRScheduler scheduler(*g.opt, optim::Schedule(options_from(c["options"])));
      const auto& expected = c["lrs"];
      for (size_t t = 0; t < expected.size(); ++t) {
        INFO("step " << t);
        CHECK(all_close(scheduler.lrs(), expected[t].get<std::vector<double>>(), 1e-9, 1e-15));
        if (c.contains("momentums")) {  // OneCycle's cycle_momentum drives SGD's momentum
          std::vector<double> momentum;
          for (const auto& group : g.opt->param_groups()) momentum.push_back(group.get("momentum"));
          CHECK(all_close(momentum, c["momentums"][t].get<std::vector<double>>(), 1e-9, 1e-15));
        }
        scheduler.step();
      }
    }
  }
}

TEST_CASE("schedule: hand-worked values", "[optim][schedule]") {
  SECTION("constant") {
    const optim::Schedule s({});
    CHECK(s.lr(0.3, 0) == 0.3);
    CHECK(s.lr(0.3, 1000) == 0.3);
  }
  SECTION("cosine warm-up from 0 over 4 steps, then cosine to 0 over 4 steps") {
    optim::ScheduleOptions o;
    o.kind = "cosine", o.total_steps = 4, o.warmup = "cosine", o.warmup_steps = 4;
    const optim::Schedule s(o);
    // warm-up: base·(1 − cos(π·t/4))/2 = 0, 0.1464466, 0.5, 0.8535534 (× base 2)
    // then cosine at t − 4: base·(1 + cos(π·u/4))/2 = 1, 0.8535534, 0.5, 0.1464466, 0 (× 2); stays at 0
    const std::vector<double> expected{0.0, 0.2928932188, 1.0, 1.7071067812, 2.0,
                                       1.7071067812, 1.0, 0.2928932188, 0.0, 0.0};
    std::vector<double> got;
    for (int64_t t = 0; t < 10; ++t) got.push_back(s.lr(2.0, t));
    CHECK(all_close(got, expected, 1e-9, 1e-12));
  }
  SECTION("polynomial to a floor: min + (base − min)·(1 − t/T)^p") {
    optim::ScheduleOptions o;
    o.kind = "polynomial", o.total_steps = 4, o.power = 2.0, o.min_lr = 0.01;
    const optim::Schedule s(o);
    // (1 − t/4)² = 1, 0.5625, 0.25, 0.0625, 0 → 0.01 + 0.09·that
    CHECK(all_close({s.lr(0.1, 0), s.lr(0.1, 1), s.lr(0.1, 2), s.lr(0.1, 3), s.lr(0.1, 4), s.lr(0.1, 9)},
                    {0.1, 0.060625, 0.0325, 0.015625, 0.01, 0.01}, 1e-12, 1e-15));
  }
  SECTION("cosine stays at min_lr past total_steps; onecycle at its final lr") {
    optim::ScheduleOptions o;
    o.kind = "cosine", o.total_steps = 10, o.min_lr = 0.001;
    CHECK(optim::Schedule(o).lr(0.1, 25) == Approx(0.001));
    o.kind = "onecycle";  // final lr = 0.1 / 25 / 1e4
    CHECK(optim::Schedule(o).lr(0.1, 25) == Approx(0.1 / 25.0 / 1e4));
  }
}

TEST_CASE("LRScheduler: units, initial_lr, state_dict round trip", "[optim][schedule]") {
  optim::ScheduleOptions o;
  o.kind = "step", o.step_size = 2, o.gamma = 0.5;
  SECTION("per epoch: iteration_done does nothing, epoch_done steps") {
    Groups g({0.8});
    optim::LRScheduler s(*g.opt, optim::Schedule(o), optim::ScheduleUnit::epoch);
    CHECK(g.opt->param_groups()[0].get("initial_lr") == 0.8);
    for (int i = 0; i < 5; ++i) s.iteration_done();
    CHECK(s.last_step() == 0);
    s.epoch_done();
    s.epoch_done();
    CHECK(s.last_step() == 2);
    CHECK(g.opt->lr() == 0.4);
  }
  SECTION("per iteration, resumed from state_dict (optimizer state carries initial_lr)") {
    Groups g({0.8, 0.2});
    optim::LRScheduler s(*g.opt, optim::Schedule(o));
    for (int i = 0; i < 5; ++i) s.iteration_done();
    s.epoch_done();
    CHECK(s.last_step() == 5);
    CHECK(all_close(s.lrs(), {0.2, 0.05}, 1e-15, 0));
    const nlohmann::json saved = nlohmann::json::parse(s.state_dict().dump());
    const optim::OptimizerState opt_state = test::through_checkpoint(g.opt->state_dict());

    Groups resumed({0.8, 0.2});
    resumed.opt->load_state_dict(opt_state);
    optim::LRScheduler r(*resumed.opt, optim::Schedule(o));
    r.load_state_dict(saved);
    CHECK(r.last_step() == 5);
    for (int i = 0; i < 3; ++i) {
      s.step();
      r.step();
      CHECK(r.lrs() == s.lrs());
    }
    CHECK(all_close(r.lrs(), {0.05, 0.0125}, 1e-15, 0));  // t = 8: 0.5⁴
  }
  SECTION("loading another schedule's or unit's state is an error") {
    Groups g({0.8});
    optim::LRScheduler s(*g.opt, optim::Schedule(o));
    optim::ScheduleOptions cosine;
    cosine.kind = "cosine", cosine.total_steps = 10;
    Groups h({0.8});
    optim::LRScheduler other(*h.opt, optim::Schedule(cosine));
    REQUIRE_THROWS_OP(other.load_state_dict(s.state_dict()), "the state was saved with schedule");
    Groups k({0.8});
    optim::LRScheduler per_epoch(*k.opt, optim::Schedule(o), optim::ScheduleUnit::epoch);
    REQUIRE_THROWS_OP(per_epoch.load_state_dict(s.state_dict()), "steps per iteration, this scheduler per epoch");
    REQUIRE_THROWS_OP(per_epoch.load_state_dict(nlohmann::json::object()), "not a scheduler state");
    // cycle_momentum needs a beta1 or momentum option to drive
    optim::ScheduleOptions cycle;
    cycle.kind = "onecycle", cycle.total_steps = 10, cycle.cycle_momentum = true;
    Tensor p = zeros({1}).requires_grad_(true);
    optim::AdaGrad adagrad({optim::ParamGroup{{p}, {}, ""}});
    REQUIRE_THROWS_OP(optim::LRScheduler(adagrad, optim::Schedule(cycle)), "cycle_momentum needs an optimizer with beta1");
  }
}

TEST_CASE("schedule: bad options name the field", "[optim][schedule][errors]") {
  auto make = [](auto edit) {
    optim::ScheduleOptions o;
    edit(o);
    return optim::Schedule(o);
  };
  REQUIRE_THROWS_OP(make([](auto& o) { o.kind = "cosin"; }), "unknown kind 'cosin' (known: constant");
  REQUIRE_THROWS_OP(make([](auto& o) { o.kind = "cosine"; }), "cosine needs total_steps > 0");
  REQUIRE_THROWS_OP(make([](auto& o) { o.kind = "step", o.step_size = 0; }), "step_size");
  REQUIRE_THROWS_OP(make([](auto& o) { o.milestones = {5, 3}; }), "milestones must be strictly increasing");
  REQUIRE_THROWS_OP(make([](auto& o) { o.warmup = "linear"; }), "needs warmup_steps > 0");
  REQUIRE_THROWS_OP(make([](auto& o) { o.warmup = "exp"; }), "unknown warmup 'exp'");
  REQUIRE_THROWS_OP(make([](auto& o) { o.gamma = -1; }), "gamma must be > 0");
  REQUIRE_THROWS_OP(make([](auto& o) { o.kind = "onecycle", o.total_steps = 3; }), "leaves a phase without steps");
  REQUIRE_THROWS_OP(make([](auto& o) { o.kind = "onecycle", o.total_steps = 10, o.anneal = "exp"; }),
                    "anneal must be cos or linear");
  REQUIRE_THROWS_OP(make([](auto& o) {
                      o.kind = "onecycle", o.total_steps = 10, o.cycle_momentum = true, o.max_momentum = 1.2;
                    }),
                    "cycle_momentum needs 0 <= base_momentum <= max_momentum < 1");
}

namespace {

std::vector<Tensor> params_with_grads(const std::vector<std::vector<double>>& grads) {
  std::vector<Tensor> params;
  for (const auto& g : grads) {
    params.push_back(zeros({static_cast<int64_t>(g.size())}, DType::f64).requires_grad_(true));
    params.back().set_grad(from_vector(g));
  }
  return params;
}

}  // namespace

TEST_CASE("clip_grad_norm_: global norm over all gradients, hand-worked", "[optim][clip]") {
  // Gradients (3, 4) and (12): L2 norm √(9 + 16 + 144) = 13, L1 19, L∞ 12.
  SECTION("scaled by max_norm / (13 + 1e-6)") {
    auto params = params_with_grads({{3.0, 4.0}, {12.0}});
    params.push_back(zeros({2}, DType::f64).requires_grad_(true));  // no gradient: skipped
    CHECK(optim::clip_grad_norm_(params, 6.5) == Approx(13.0).epsilon(1e-15));
    const double coef = 6.5 / (13.0 + 1e-6);
    CHECK(all_close(params[0].grad(), {3.0 * coef, 4.0 * coef}, 1e-15, 0));
    CHECK(all_close(params[1].grad(), {12.0 * coef}, 1e-15, 0));
    CHECK_FALSE(params[2].grad().defined());
  }
  SECTION("under max_norm: unchanged") {
    auto params = params_with_grads({{3.0, 4.0}, {12.0}});
    CHECK(optim::clip_grad_norm_(params, 20.0) == Approx(13.0));
    CHECK(all_close(params[0].grad(), {3.0, 4.0}, 0, 0));
  }
  SECTION("other orders") {
    auto params = params_with_grads({{3.0, -4.0}, {-12.0}});
    CHECK(optim::clip_grad_norm_(params, 100.0, 1.0) == Approx(19.0));
    CHECK(optim::clip_grad_norm_(params, 100.0, std::numeric_limits<double>::infinity()) == 12.0);
    CHECK(optim::clip_grad_norm_(params, 6.0, std::numeric_limits<double>::infinity()) == 12.0);
    CHECK(all_close(params[1].grad(), {-6.0}, 1e-6, 0));
  }
  SECTION("float32 gradients over the parallel grain") {
    Tensor p = zeros({100000}).requires_grad_(true);
    p.set_grad(full({100000}, 0.5f));
    // √(100000·0.25) = 158.11388...
    CHECK(optim::clip_grad_norm_({p}, 1.0) == Approx(std::sqrt(25000.0)).epsilon(1e-12));
    CHECK(p.grad()[99999].item<float>() == Approx(0.5 / std::sqrt(25000.0)).epsilon(1e-6));
  }
  SECTION("non-finite norm") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto params = params_with_grads({{3.0, nan}});
    REQUIRE_THROWS_OP(optim::clip_grad_norm_(params, 1.0, 2.0, true), "clip_grad_norm_: the total norm of order 2");
    CHECK(std::isnan(optim::clip_grad_norm_(params, 1.0)));
    CHECK(std::isnan(params[0].grad()[0].item<double>()));  // scaled anyway, as torch
  }
  SECTION("bad arguments") {
    auto params = params_with_grads({{1.0}});
    REQUIRE_THROWS_OP(optim::clip_grad_norm_(params, -1.0), "max_norm must be >= 0");
    REQUIRE_THROWS_OP(optim::clip_grad_norm_(params, 1.0, 0.0), "norm_type must be > 0");
  }
}

TEST_CASE("clip_grad_value_: clamps into [-c, c]", "[optim][clip]") {
  auto params = params_with_grads({{3.0, -4.0, 0.5}, {-1.0}});
  optim::clip_grad_value_(params, 2.5);
  CHECK(all_close(params[0].grad(), {2.5, -2.5, 0.5}, 0, 0));
  CHECK(all_close(params[1].grad(), {-1.0}, 0, 0));
  REQUIRE_THROWS_OP(optim::clip_grad_value_(params, -1.0), "clip_value must be >= 0");
}
