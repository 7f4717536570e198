// Training progress for people: on a terminal, one bar line redrawn in place
//   epoch 2/4 [########............]  180/469  loss 0.4123  acc 85.31%  2310 samples/s  ETA 3m12s
// and when output is not a terminal (CI logs, `| tee`), a plain line every `log_every` steps and at
// the end of each epoch. Used by trainer.cpp; the numbers it shows are the trainer's running means.
#pragma once
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace ember::experiments {

struct ProgressStats {
  int64_t epoch = 0, epochs = 0;            // 1-based epoch being run, of `epochs`
  int64_t step_in_epoch = 0, steps_in_epoch = 0;
  int64_t global_step = 0, total_steps = 0;  // for the ETA over the whole run
  double loss = 0.0;                          // running mean over the epoch so far
  double accuracy = 0.0;                      // in [0, 1]
  double samples_per_second = 0.0;
};

class Progress {
 public:
  // tty: redraw one line (pass stdout_is_terminal()); otherwise log every `log_every` steps.
  Progress(std::ostream& out, bool tty, int64_t log_every);
  // Called after every step; cheap when nothing is printed. `seconds_per_step` feeds the ETA.
  void update(const ProgressStats& stats, double seconds_per_step);
  // A line that must not be overwritten by the bar (epoch summaries, evaluation, warnings).
  void message(const std::string& line);

 private:
  std::ostream& out_;
  bool tty_;
  int64_t log_every_;
  bool bar_shown_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

bool stdout_is_terminal();
// "3m12s", "1h02m", "45s".
std::string format_duration(double seconds);
// The status text without the bar: "epoch 2/4  180/469  loss 0.4123  acc 85.31%  ...".
std::string format_progress(const ProgressStats& stats, double seconds_per_step);

}  // namespace ember::experiments
