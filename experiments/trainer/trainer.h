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
//
// Note [Rows]: a model gives one prediction per example, logits (B, C) against targets (B), or one
// per position, logits (B, L, C) against targets (B, L) (a causal language model: next-token
// logits). Losses, accuracies and EvalResult::samples count rows: examples in the first case,
// positions (B·L) in the second, so an LM's loss is the mean NLL per token (nats per byte for a
// byte LM) and top-1 its next-token accuracy.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataloader.h"
#include "experiments/trainer/metrics.h"
#include "experiments/trainer/progress.h"
#include "experiments/trainer/run_dir.h"
#include "models/nn/module.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace ember::experiments {

struct TrainerConfig {
  std::string model_description = "";  // e.g. "resnet_small(width=16, in_channels=1)": checked on resume
  int64_t epochs = 1;
  int64_t max_steps = 0;          // > 0: stop after this many optimizer steps in total (tests, smoke runs)
  double label_smoothing = 0.0;
  double clip_grad_norm = 0.0;    // > 0: clip the global L2 norm of the gradients to this
  int64_t eval_every = 1;         // evaluate every N epochs (and always after the last one); 0 = at the end
  int64_t log_every = 50;         // a metrics record (and, off a terminal, a log line) every N steps
  int64_t checkpoint_every = 0;   // > 0: also save checkpoint/last every N steps (epoch ends always save)
  bool progress = true;           // progress bar / log lines on `out`
  std::optional<bool> tty = std::nullopt;  // default: whether stdout is a terminal
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
  double loss = 0.0;              // mean cross-entropy per row (Note [Rows])
  double top1 = 0.0, top5 = 0.0;  // in [0, 1]
  int64_t samples = 0;            // rows: examples, or positions for per-position logits
};

struct FitResult {
  int64_t steps = 0;
  int64_t epochs_completed = 0;
  std::optional<EvalResult> last_eval;
  double best_top1 = -1.0;
  int64_t best_epoch = -1;  // 1-based epoch of best_top1
  double wall_seconds = 0.0;         // this call of fit(), evaluation included
  double train_seconds = 0.0;        // in training steps, summed over every resume of the run
};

class Trainer {
 public:
  // train_data should shuffle with drop_last; its position is part of the checkpoint.
  Trainer(TrainerConfig config, nn::ModulePtr model, optim::Optimizer& optimizer, data::DataLoader& train_data,
          data::DataLoader* eval_data = nullptr);

  // Stepped after every optimizer step (iteration_done) and every epoch (epoch_done); its state
  // goes into the checkpoint. Optional: without one the optimizer's lr stays as it is.
  void set_scheduler(optim::LRScheduler* scheduler) { scheduler_ = scheduler; }
  // The EMA hook point: called after every optimizer step, in the order added.
  void add_after_step_hook(std::function<void(const StepInfo&)> hook) { after_step_.push_back(std::move(hook)); }
  // State a hook keeps across steps (EMA weights): save() is called for every checkpoint and its
  // tensors go to checkpoint/last/<name>.safetensors; resume() hands them back to load().
  void add_checkpoint_state(const std::string& name, std::function<TensorMap()> save,
                            std::function<void(const TensorMap&)> load);
  // Metrics files and checkpoints go there; without a run folder nothing is written.
  void attach_run(const RunDir& run);

  // Restores the state a checkpoint folder holds (resolve_checkpoint_dir() turns --resume into one).
  void resume(const std::filesystem::path& checkpoint_dir);
  FitResult fit();
  EvalResult evaluate(data::DataLoader& data);

  int64_t step() const { return step_; }
  nn::Module& model() { return *model_; }

 private:
  struct EpochSums {  // running sums over the current epoch's training batches
    double loss = 0.0;
    int64_t correct = 0, samples = 0, steps = 0;
  };

  void train_step(const data::Batch& batch, int64_t epoch, int64_t step_in_epoch);
  void record_step_time(double seconds, int64_t batch_size);
  void end_epoch(int64_t epoch, FitResult& result);
  void save(const std::string& which);  // "last" or "best"
  nlohmann::json state_json() const;
  void log_step(int64_t epoch);

  TrainerConfig config_;
  nn::ModulePtr model_;
  optim::Optimizer& optimizer_;
  data::DataLoader& train_data_;
  data::DataLoader* eval_data_;
  optim::LRScheduler* scheduler_ = nullptr;
  std::vector<std::function<void(const StepInfo&)>> after_step_;
  struct ExtraState {
    std::function<TensorMap()> save;
    std::function<void(const TensorMap&)> load;
  };
  std::map<std::string, ExtraState> extra_state_;
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
  double train_seconds_ = 0.0;     // time in train steps (loading included), over every resume of the run
  double seconds_per_step_ = 0.0;  // smoothed, for the ETA
  double samples_per_second_ = 0.0;
};

// (logits, target) as rows (Note [Rows]): (B, C) and (B) unchanged, (B, L, C) and (B, L) flattened
// to (B·L, C) and (B·L); any other pairing is an ember::Error naming both shapes.
std::pair<Tensor, Tensor> prediction_rows(const Tensor& logits, const Tensor& target);

// Number of rows whose target is among the k largest logits. logits: (N, C); target: (N) int64.
int64_t count_topk_correct(const Tensor& logits, const Tensor& target, int64_t k);

}  // namespace ember::experiments
