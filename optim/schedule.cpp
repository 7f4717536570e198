// Learning-rate schedules (optim/schedule.h): closed forms of torch.optim.lr_scheduler's schedules
// plus warm-up, and the LRScheduler that writes them into an optimizer's groups.
#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/error.h"

namespace ember::optim {

void to_json(nlohmann::json& j, const ScheduleOptions& o) {
  j = {{"kind", o.kind},
       {"total_steps", o.total_steps},
       {"step_size", o.step_size},
       {"milestones", o.milestones},
       {"gamma", o.gamma},
       {"min_lr", o.min_lr},
       {"power", o.power},
       {"pct_start", o.pct_start},
       {"div_factor", o.div_factor},
       {"final_div_factor", o.final_div_factor},
       {"anneal", o.anneal},
       {"three_phase", o.three_phase},
       {"cycle_momentum", o.cycle_momentum},
       {"base_momentum", o.base_momentum},
       {"max_momentum", o.max_momentum},
       {"warmup", o.warmup},
       {"warmup_steps", o.warmup_steps},
       {"warmup_start_factor", o.warmup_start_factor}};
}

void from_json(const nlohmann::json& j, ScheduleOptions& o) {
  const ScheduleOptions d;
  o.kind = j.value("kind", d.kind);
  o.total_steps = j.value("total_steps", d.total_steps);
  o.step_size = j.value("step_size", d.step_size);
  o.milestones = j.value("milestones", d.milestones);
  o.gamma = j.value("gamma", d.gamma);
  o.min_lr = j.value("min_lr", d.min_lr);
  o.power = j.value("power", d.power);
  o.pct_start = j.value("pct_start", d.pct_start);
  o.div_factor = j.value("div_factor", d.div_factor);
  o.final_div_factor = j.value("final_div_factor", d.final_div_factor);
  o.anneal = j.value("anneal", d.anneal);
  o.three_phase = j.value("three_phase", d.three_phase);
  o.cycle_momentum = j.value("cycle_momentum", d.cycle_momentum);
  o.base_momentum = j.value("base_momentum", d.base_momentum);
  o.max_momentum = j.value("max_momentum", d.max_momentum);
  o.warmup = j.value("warmup", d.warmup);
  o.warmup_steps = j.value("warmup_steps", d.warmup_steps);
  o.warmup_start_factor = j.value("warmup_start_factor", d.warmup_start_factor);
}

Schedule::Schedule(ScheduleOptions options) : options_(std::move(options)) {
  const ScheduleOptions& o = options_;
  static const std::vector<std::string> kinds = {"constant", "step", "multistep", "exponential",
                                                 "cosine", "polynomial", "onecycle"};
  EMBER_CHECK(std::find(kinds.begin(), kinds.end(), o.kind) != kinds.end(),
              "schedule: unknown kind '{}' (known: constant, step, multistep, exponential, cosine, polynomial, "
              "onecycle)", o.kind);
  EMBER_CHECK(o.warmup == "none" || o.warmup == "linear" || o.warmup == "cosine",
              "schedule: unknown warmup '{}' (known: none, linear, cosine)", o.warmup);
  EMBER_CHECK(o.warmup_steps >= 0, "schedule: warmup_steps must be >= 0, got {}", o.warmup_steps);
  EMBER_CHECK(o.warmup == "none" || o.warmup_steps > 0, "schedule: warmup '{}' needs warmup_steps > 0", o.warmup);
  EMBER_CHECK(o.warmup_start_factor >= 0.0 && o.warmup_start_factor <= 1.0,
              "schedule: warmup_start_factor must be in [0, 1], got {}", o.warmup_start_factor);
  const bool needs_total = o.kind == "cosine" || o.kind == "polynomial" || o.kind == "onecycle";
  EMBER_CHECK(!needs_total || o.total_steps > 0, "schedule: {} needs total_steps > 0, got {}", o.kind, o.total_steps);
  EMBER_CHECK(o.kind != "step" || o.step_size > 0, "schedule: step needs step_size > 0, got {}", o.step_size);
  EMBER_CHECK(std::is_sorted(o.milestones.begin(), o.milestones.end()) &&
                  std::adjacent_find(o.milestones.begin(), o.milestones.end()) == o.milestones.end(),
              "schedule: milestones must be strictly increasing");
  EMBER_CHECK(o.gamma > 0.0 && std::isfinite(o.gamma), "schedule: gamma must be > 0, got {}", o.gamma);
  EMBER_CHECK(o.min_lr >= 0.0 && std::isfinite(o.min_lr), "schedule: min_lr must be >= 0, got {}", o.min_lr);
  EMBER_CHECK(o.power > 0.0, "schedule: power must be > 0, got {}", o.power);
  if (o.kind == "onecycle") {
    EMBER_CHECK(o.pct_start > 0.0 && o.pct_start < 1.0, "schedule: pct_start must be in (0, 1), got {}", o.pct_start);
    EMBER_CHECK(o.div_factor > 0.0 && o.final_div_factor > 0.0,
                "schedule: div_factor and final_div_factor must be > 0, got {} and {}", o.div_factor,
                o.final_div_factor);
    EMBER_CHECK(o.anneal == "cos" || o.anneal == "linear", "schedule: anneal must be cos or linear, got '{}'",
                o.anneal);
    // torch: each phase must span at least one step (the phase ends are pct·T − 1, 2·pct·T − 2, T − 1).
    const double rise_end = o.pct_start * static_cast<double>(o.total_steps) - 1.0;
    EMBER_CHECK(rise_end > 0.0 && (!o.three_phase || 2.0 * rise_end < static_cast<double>(o.total_steps) - 1.0),
                "schedule: onecycle with total_steps {} and pct_start {} leaves a phase without steps",
                o.total_steps, o.pct_start);
    EMBER_CHECK(!o.cycle_momentum || (o.base_momentum >= 0.0 && o.base_momentum <= o.max_momentum && o.max_momentum < 1.0),
                "schedule: cycle_momentum needs 0 <= base_momentum <= max_momentum < 1, got {} and {}",
                o.base_momentum, o.max_momentum);
  }
}

std::string Schedule::describe() const {
  std::string out = nlohmann::json(options_).dump();
  return out;
}

double Schedule::lr(double base_lr, int64_t t) const {
  EMBER_CHECK(t >= 0, "schedule: step {} is negative", t);
  const ScheduleOptions& o = options_;
  if (o.warmup != "none" && t < o.warmup_steps) {
    const double progress = static_cast<double>(t) / static_cast<double>(o.warmup_steps);
    const double shape = o.warmup == "linear" ? progress : (1.0 - std::cos(std::numbers::pi * progress)) / 2.0;
    return base_lr * (o.warmup_start_factor + (1.0 - o.warmup_start_factor) * shape);
  }
  return main_lr(base_lr, o.warmup == "none" ? t : t - o.warmup_steps);
}

double Schedule::main_lr(double base_lr, int64_t t) const {
  const ScheduleOptions& o = options_;
  const double total = static_cast<double>(o.total_steps);
  if (o.kind == "step") return base_lr * std::pow(o.gamma, static_cast<double>(t / o.step_size));
  if (o.kind == "multistep") {
    const auto passed = std::upper_bound(o.milestones.begin(), o.milestones.end(), t) - o.milestones.begin();
    return base_lr * std::pow(o.gamma, static_cast<double>(passed));
  }
  if (o.kind == "exponential") return base_lr * std::pow(o.gamma, static_cast<double>(t));
  if (o.kind == "cosine") {
    const double progress = std::min(static_cast<double>(t), total) / total;
    return o.min_lr + (base_lr - o.min_lr) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
  }
  if (o.kind == "polynomial") {
    const double progress = std::min(static_cast<double>(t), total) / total;
    return o.min_lr + (base_lr - o.min_lr) * std::pow(1.0 - progress, o.power);
  }
  if (o.kind == "onecycle") return onecycle_lr(base_lr, t);
  return base_lr;  // constant
}

double Schedule::onecycle_lr(double base_lr, int64_t t) const {
  const double start_lr = base_lr / options_.div_factor;
  return onecycle_value(t, start_lr, base_lr, start_lr / options_.final_div_factor);
}

double Schedule::momentum(int64_t t) const {
  EMBER_CHECK(cycles_momentum(), "schedule: momentum() asked of a schedule that does not cycle momentum");
  const ScheduleOptions& o = options_;
  if (o.warmup != "none" && t < o.warmup_steps) return o.max_momentum;
  const int64_t u = o.warmup == "none" ? t : t - o.warmup_steps;
  // Momentum moves opposite to the lr: max → base while the lr rises, back to max as it falls.
  return onecycle_value(u, o.max_momentum, o.base_momentum, o.max_momentum);
}

// torch.optim.lr_scheduler.OneCycleLR.get_lr: start → peak over the first phase, then peak → end
// (three_phase: peak → start, then start → end).
double Schedule::onecycle_value(int64_t t, double start, double peak, double end) const {
  const ScheduleOptions& o = options_;
  const double total = static_cast<double>(o.total_steps);
  struct Phase { double end_step, from, to; };
  std::vector<Phase> phases;
  const double rise_end = o.pct_start * total - 1.0;
  if (o.three_phase) {
    phases = {{rise_end, start, peak}, {2.0 * o.pct_start * total - 2.0, peak, start}, {total - 1.0, start, end}};
  } else {
    phases = {{rise_end, start, peak}, {total - 1.0, peak, end}};
  }
  const double step = std::min(static_cast<double>(t), total - 1.0);
  double start_step = 0.0;
  for (size_t i = 0; i < phases.size(); ++i) {
    const Phase& phase = phases[i];
    if (step <= phase.end_step || i + 1 == phases.size()) {
      const double pct = (step - start_step) / (phase.end_step - start_step);
      if (o.anneal == "linear") return (phase.to - phase.from) * pct + phase.from;
      return phase.to + (phase.from - phase.to) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
    }
    start_step = phase.end_step;
  }
  return end;  // not reached
}

LRScheduler::LRScheduler(Optimizer& optimizer, Schedule schedule, ScheduleUnit unit)
    : optimizer_(optimizer), schedule_(std::move(schedule)), unit_(unit) {
  for (ParamGroup& group : optimizer_.param_groups()) {
    group.options.emplace("initial_lr", group.get("lr"));
    EMBER_CHECK(!schedule_.cycles_momentum() || group.options.count("beta1") || group.options.count("momentum"),
                "LRScheduler: cycle_momentum needs an optimizer with beta1 or momentum; {} has neither",
                optimizer_.name());
  }
  apply();
}

void LRScheduler::step() {
  ++t_;
  apply();
}

void LRScheduler::apply() {
  for (ParamGroup& group : optimizer_.param_groups()) {
    group.options["lr"] = schedule_.lr(group.get("initial_lr"), t_);
    if (schedule_.cycles_momentum()) group.options[group.options.count("beta1") ? "beta1" : "momentum"] = schedule_.momentum(t_);
  }
}

std::vector<double> LRScheduler::lrs() const {
  std::vector<double> out;
  for (const ParamGroup& group : optimizer_.param_groups()) out.push_back(group.get("lr"));
  return out;
}

nlohmann::json LRScheduler::state_dict() const {
  return {{"last_step", t_}, {"unit", unit_ == ScheduleUnit::iteration ? "iteration" : "epoch"},
          {"schedule", schedule_.options()}};
}

void LRScheduler::load_state_dict(const nlohmann::json& state) {
  EMBER_CHECK(state.is_object() && state.contains("last_step") && state.contains("unit") && state.contains("schedule"),
              "LRScheduler::load_state_dict: not a scheduler state (expected keys last_step, unit, schedule)");
  const nlohmann::json mine = schedule_.options();
  EMBER_CHECK(state.at("schedule") == mine,
              "LRScheduler::load_state_dict: the state was saved with schedule {}, this scheduler has {}",
              state.at("schedule").dump(), mine.dump());
  const std::string unit = unit_ == ScheduleUnit::iteration ? "iteration" : "epoch";
  EMBER_CHECK(state.at("unit") == unit, "LRScheduler::load_state_dict: the state steps per {}, this scheduler per {}",
              state.at("unit").get<std::string>(), unit);
  const int64_t t = state.at("last_step").get<int64_t>();
  EMBER_CHECK(t >= 0, "LRScheduler::load_state_dict: last_step {} is negative", t);
  t_ = t;
  apply();
}

}  // namespace ember::optim
