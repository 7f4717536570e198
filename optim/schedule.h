// Learning-rate schedules, closed form: the lr at step t is a pure function of (group's base lr, t),
// so a resumed run only needs the step counter (state_dict is JSON). A step is whatever unit the
// caller counts: an iteration or an epoch (LRScheduler's `unit`).
//
// Kinds (torch.optim.lr_scheduler equivalents, checked against them in test/optim/test_schedule.cpp):
//   constant                         lr = base
//   step         (step_size, gamma)  lr = base·gamma^⌊t/step_size⌋                       StepLR
//   multistep    (milestones, gamma) lr = base·gamma^(number of milestones <= t)         MultiStepLR
//   exponential  (gamma)             lr = base·gamma^t                                   ExponentialLR
//   cosine       (total_steps, min_lr) lr = min + (base − min)(1 + cos(π·t/T))/2, t <= T  CosineAnnealingLR
//   polynomial   (total_steps, power, min_lr) lr = min + (base − min)(1 − t/T)^power     PolynomialLR
//   onecycle     (total_steps, pct_start, div_factor, final_div_factor, anneal, three_phase)
//                base is the peak lr; starts at base/div_factor, ends at that / final_div_factor  OneCycleLR
//                cycle_momentum: the group's beta1 (or momentum) goes max → base → max, as torch's
//                (off by default, unlike torch, so a plain SGD never gains momentum by surprise)
// Warm-up (linear or cosine, warmup_steps, warmup_start_factor) composes with any kind: for
// t < W the lr rises from start_factor·base to base; from W on the main schedule runs at t − W
// (torch's SequentialLR([LinearLR, main], milestones=[W])), so total_steps counts steps after warm-up.
// Past its end a schedule stays at its final value.
// Implementation: optim/schedule.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "optim/optimizer.h"

namespace ember::optim {

struct ScheduleOptions {
  std::string kind = "constant";  // constant | step | multistep | exponential | cosine | polynomial | onecycle
  int64_t total_steps = 0;        // cosine, polynomial, onecycle
  int64_t step_size = 1;          // step
  std::vector<int64_t> milestones;  // multistep, increasing
  double gamma = 0.1;             // step, multistep, exponential
  double min_lr = 0.0;            // cosine (eta_min), polynomial (end lr); absolute, shared by all groups
  double power = 1.0;             // polynomial
  double pct_start = 0.3;         // onecycle: fraction of the steps spent rising
  double div_factor = 25.0;       // onecycle: start lr = base / div_factor
  double final_div_factor = 1e4;  // onecycle: final lr = start lr / final_div_factor
  std::string anneal = "cos";     // onecycle: cos | linear
  bool three_phase = false;       // onecycle
  bool cycle_momentum = false;    // onecycle: also drive beta1 / momentum between these two
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  std::string warmup = "none";    // none | linear | cosine
  int64_t warmup_steps = 0;
  double warmup_start_factor = 0.0;  // warm-up starts at this fraction of the base lr
};
void to_json(nlohmann::json& j, const ScheduleOptions& o);
void from_json(const nlohmann::json& j, ScheduleOptions& o);  // missing keys keep their defaults

class Schedule {
 public:
  explicit Schedule(ScheduleOptions options);  // checks every field, errors name it
  double lr(double base_lr, int64_t t) const;  // t >= 0
  bool cycles_momentum() const { return options_.kind == "onecycle" && options_.cycle_momentum; }
  double momentum(int64_t t) const;            // onecycle with cycle_momentum (during warm-up: max_momentum)
  const ScheduleOptions& options() const { return options_; }
  std::string describe() const;  // "cosine(total_steps=90, min_lr=0) after linear warm-up (5 steps)"

 private:
  double main_lr(double base_lr, int64_t t) const;
  double onecycle_lr(double base_lr, int64_t t) const;
  // OneCycle's phases interpolate between (lr or momentum) values; `at(phase, which end)`.
  double onecycle_value(int64_t t, double start, double peak, double end) const;
  ScheduleOptions options_;
};

enum class ScheduleUnit { iteration, epoch };

// Drives an optimizer's group lrs (and beta1/momentum when the schedule cycles it) from a Schedule. Construction records each group's base lr as
// "initial_lr" (kept if already there, e.g. after Optimizer::load_state_dict) and sets lr(t = 0).
// The trainer calls iteration_done() after every optimizer step and epoch_done() after every
// epoch; only the one matching `unit` advances. step() advances unconditionally.
class LRScheduler {
 public:
  LRScheduler(Optimizer& optimizer, Schedule schedule, ScheduleUnit unit = ScheduleUnit::iteration);
  void step();
  void iteration_done() { if (unit_ == ScheduleUnit::iteration) step(); }
  void epoch_done() { if (unit_ == ScheduleUnit::epoch) step(); }
  int64_t last_step() const { return t_; }
  ScheduleUnit unit() const { return unit_; }
  const Schedule& schedule() const { return schedule_; }
  std::vector<double> lrs() const;  // every group's current lr

  // {"last_step", "unit", "schedule": options}; loading checks the schedule and unit match (a
  // resumed run with another schedule would silently change the lr) and re-applies the lrs.
  nlohmann::json state_dict() const;
  void load_state_dict(const nlohmann::json& state);

 private:
  void apply();
  Optimizer& optimizer_;
  Schedule schedule_;
  ScheduleUnit unit_;
  int64_t t_ = 0;
};

}  // namespace ember::optim
