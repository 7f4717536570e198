// The training loop every classifier experiment shares: per step, the LR schedule, forward,
// cross-entropy (optional label smoothing), a NaN/inf check, backward, gradient clipping, the
// optimizer step and the after-step hooks (the EMA hook point); per epoch, evaluation (loss, top-1,
// top-5) every `eval_every` epochs, metrics records, and last/best checkpoints. With a run folder
// attached it writes metrics.jsonl/.csv and checkpoint/{last,best}/; resume() restores everything
// an exact continuation needs (Note [Exact resume]). Twins: checkpoint.h, metrics.h, progress.h,
// run_dir.h; experiments/train.cpp is the command-line front end. Tests: test/trainer/.
//
// Note [Exact resume]: a resumed run must see the same numbers as an uninterrupted one, bit for
// bit on the CPU. The checkpoint therefore carries the weights and buffers, the optimizer's tensors
// and scalars, the global step (schedules are functions of it), the loader's position and its
// generator, the default generator (dropout, drop-path), and the epoch's running sums. Nothing
// else may carry state across steps: a hook that keeps state (EMA) must save it too.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "experiments/trainer/metrics.h"
#include "experiments/trainer/progress.h"
#include "experiments/trainer/run_dir.h"
#include "models/nn/module.h"
#include "optim/optimizer.h"

namespace ember::experiments {

// What the trainer needs from a source of batches: epochs of batches and a position that can be
// saved and restored (data::DataLoader provides it through loader_source() in train_data.h).
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t batches_per_epoch() const = 0;
  virtual int64_t batch_size() const = 0;
  // Begins epoch `epoch` (0-based): the order of its batches is a function of the seed, the epoch
  // and the saved state, never of how many times the source was used before.
  virtual void start_epoch(int64_t epoch) = 0;
  // The next batch of the current epoch, or nullopt when the epoch is over.
  virtual std::optional<data::Batch> next() = 0;
  // The position (epoch, batches already handed out, generator): restoring it and calling next()
  // continues the epoch exactly where it was saved.
  virtual nlohmann::json state() const = 0;
  virtual void load_state(const nlohmann::json& state) = 0;
};

struct TrainerConfig {
  std::string model_description;  // e.g. "resnet_small(width=16, in_channels=1)": checked on resume
  int64_t epochs = 1;
  int64_t max_steps = 0;          // > 0: stop after this many optimizer steps in total (tests, smoke runs)
  double label_smoothing = 0.0;
  double clip_grad_norm = 0.0;    // > 0: clip the global L2 norm of the gradients to this
  int64_t eval_every = 1;         // evaluate every N epochs (and always after the last one); 0 = at the end
  int64_t log_every = 50;         // a metrics record (and, off a terminal, a log line) every N steps
  int64_t checkpoint_every = 0;   // > 0: also save checkpoint/last every N steps (epoch ends always save)
  bool progress = true;           // progress bar / log lines on `out`
  std::optional<bool> tty;        // default: whether stdout is a terminal
  std::ostream* out = &std::cout;
};

// Handed to the after-step hooks once the optimizer has stepped.
struct StepInfo {
  int64_t step = 0;           // optimizer steps taken so far (1 after the first)
  int64_t epoch = 0;          // 0-based
  int64_t step_in_epoch = 0;  // 1-based within the epoch
  double loss = 0.0;          // this batch's training loss
  double lr = 0.0;            // the first group's lr used for this step
  int64_t batch_size = 0;
};

struct EvalResult {
  double loss = 0.0;
  double top1 = 0.0, top5 = 0.0;  // in [0, 1]
  int64_t samples = 0;
};

struct FitResult {
  int64_t steps = 0;
  int64_t epochs_completed = 0;
  std::optional<EvalResult> last_eval;
  double best_top1 = -1.0;
  int64_t best_epoch = -1;  // 1-based epoch of best_top1
  double train_seconds = 0.0;
};

class Trainer {
 public:
  Trainer(TrainerConfig config, nn::ModulePtr model, optim::Optimizer& optimizer, BatchSource& train_data,
          BatchSource* eval_data = nullptr);

  // Called before every step with the 0-based index of the step about to run; it sets the
  // optimizer's learning rates (a schedule is a function of the step: see Note [Exact resume]).
  void set_schedule(std::function<void(int64_t step)> schedule) { schedule_ = std::move(schedule); }
  // The EMA hook point: called after every optimizer step, in the order added.
  void add_after_step_hook(std::function<void(const StepInfo&)> hook) { after_step_.push_back(std::move(hook)); }
  // Metrics files and checkpoints go there; without a run folder nothing is written.
  void attach_run(const RunDir& run);

  // Restores the state a checkpoint folder holds (resolve_checkpoint_dir() turns --resume into one).
  void resume(const std::filesystem::path& checkpoint_dir);
  FitResult fit();
  EvalResult evaluate(BatchSource& data);

  int64_t step() const { return step_; }
  nn::Module& model() { return *model_; }

 private:
  struct EpochSums {  // running sums over the current epoch's training batches
    double loss = 0.0;
    int64_t correct = 0, samples = 0, steps = 0;
  };

  void train_step(const data::Batch& batch, int64_t epoch, int64_t step_in_epoch);
  void end_epoch(int64_t epoch, FitResult& result);
  void save(const std::string& which);  // "last" or "best"
  nlohmann::json state_json() const;
  void log_step(int64_t epoch);

  TrainerConfig config_;
  nn::ModulePtr model_;
  optim::Optimizer& optimizer_;
  BatchSource& train_data_;
  BatchSource* eval_data_;
  std::function<void(int64_t)> schedule_;
  std::vector<std::function<void(const StepInfo&)>> after_step_;
  std::optional<RunDir> run_;
  std::unique_ptr<MetricsLog> metrics_;
  Progress progress_;

  int64_t step_ = 0;           // optimizer steps taken
  int64_t epoch_ = 0;          // the epoch being run (0-based)
  int64_t step_in_epoch_ = 0;  // batches of epoch_ already trained
  EpochSums sums_;
  double best_top1_ = -1.0;
  int64_t best_epoch_ = -1;
  double last_lr_ = 0.0;
  double seconds_per_step_ = 0.0;  // smoothed, for the ETA
  double samples_per_second_ = 0.0;
};

// Number of rows whose target is among the k largest logits. logits: (N, C); target: (N) int64.
int64_t count_topk_correct(const Tensor& logits, const Tensor& target, int64_t k);

}  // namespace ember::experiments
