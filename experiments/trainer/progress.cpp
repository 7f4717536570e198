// Progress bar / plain log lines (see progress.h).
#include "experiments/trainer/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ember::experiments {

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) != 0; }

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string format_progress(const ProgressStats& stats, double seconds_per_step) {
  const double eta = seconds_per_step * static_cast<double>(std::max<int64_t>(0, stats.total_steps - stats.global_step));
  return fmt::format("epoch {}/{}  {:>{}}/{}  loss {:.4f}  acc {:.2f}%  {:.0f} samples/s  ETA {}", stats.epoch,
                     stats.epochs, stats.step_in_epoch, std::to_string(stats.steps_in_epoch).size(),
                     stats.steps_in_epoch, stats.loss, 100.0 * stats.accuracy, stats.samples_per_second,
                     format_duration(eta));
}

Progress::Progress(std::ostream& out, bool tty, int64_t log_every)
    : out_(out), tty_(tty), log_every_(std::max<int64_t>(1, log_every)) {}

void Progress::update(const ProgressStats& stats, double seconds_per_step) {
  const bool epoch_done = stats.step_in_epoch == stats.steps_in_epoch;
  if (!tty_) {
    if (stats.step_in_epoch % log_every_ == 0 || epoch_done) out_ << format_progress(stats, seconds_per_step) << "\n" << std::flush;
    return;
  }
  // Redrawing at most ~10 times a second keeps a fast loop from spending its time on the terminal.
  const auto now = std::chrono::steady_clock::now();
  if (!epoch_done && bar_shown_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 20;
  const double fraction = stats.steps_in_epoch > 0 ? static_cast<double>(stats.step_in_epoch) / stats.steps_in_epoch : 0.0;
  const int filled = std::clamp(static_cast<int>(fraction * kWidth), 0, kWidth);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  // \r + erase-line: the bar replaces itself; a summary printed later starts on a clean line.
  out_ << "\r\033[2K[" << bar << "] " << format_progress(stats, seconds_per_step) << std::flush;
  bar_shown_ = true;
}

void Progress::message(const std::string& line) {
  if (tty_ && bar_shown_) out_ << "\r\033[2K";
  bar_shown_ = false;
  out_ << line << "\n" << std::flush;
}

}  // namespace ember::experiments
