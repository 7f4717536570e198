// The shared training loop (see trainer.h, Note [Exact resume]).
#include "experiments/trainer/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/random.h"
#include "experiments/trainer/checkpoint.h"
#include "ops/ops.h"
#include "optim/clip.h"

namespace ember::experiments {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

std::pair<Tensor, Tensor> prediction_rows(const Tensor& logits, const Tensor& target) {
  if (logits.dim() == 3 && target.dim() == 2 && logits.size(0) == target.size(0) && logits.size(1) == target.size(1))
    return {logits.reshape({-1, logits.size(2)}), target.reshape({-1})};
  EMBER_CHECK(logits.dim() == 2 && target.dim() == 1 && logits.size(0) == target.size(0),
              "Trainer: the model's logits must be (B, C) with targets (B), or (B, L, C) with targets (B, L); got "
              "logits {} and targets {}", logits.describe(), target.describe());
  return {logits, target};
}

int64_t count_topk_correct(const Tensor& logits, const Tensor& target, int64_t k) {
  EMBER_CHECK(logits.dim() == 2 && target.dim() == 1 && target.size(0) == logits.size(0),
              "count_topk_correct: logits must be (N, C) and target (N), got {} and {}", logits.describe(),
              target.describe());
  const Tensor scores = logits.detach().to(DType::f64).contiguous();
  const Tensor labels = target.to(DType::i64).contiguous();
  const double* s = scores.data_ptr<double>();
  const int64_t* y = labels.data_ptr<int64_t>();
  const int64_t rows = logits.size(0), classes = logits.size(1);
  int64_t correct = 0;
  for (int64_t i = 0; i < rows; ++i) {
    EMBER_CHECK(y[i] >= 0 && y[i] < classes, "count_topk_correct: target {} of row {} is not a class in [0, {})",
                y[i], i, classes);
    // The target is in the top k when fewer than k classes score strictly higher.
    const double own = s[i * classes + y[i]];
    int64_t higher = 0;
    for (int64_t c = 0; c < classes; ++c) higher += s[i * classes + c] > own;
    correct += higher < k;
  }
  return correct;
}

Trainer::Trainer(TrainerConfig config, nn::ModulePtr model, optim::Optimizer& optimizer, data::DataLoader& train_data,
                 data::DataLoader* eval_data)
    : config_(std::move(config)),
      model_(std::move(model)),
      optimizer_(optimizer),
      train_data_(train_data),
      eval_data_(eval_data),
      progress_(*config_.out, config_.tty.value_or(stdout_is_terminal()), config_.log_every) {
  EMBER_CHECK(model_ != nullptr, "Trainer: no model");
  EMBER_CHECK(config_.epochs >= 1, "Trainer: epochs must be >= 1, got {}", config_.epochs);
  EMBER_CHECK(train_data_.num_batches() > 0, "Trainer: the training data has no batches (dataset smaller "
              "than one batch with drop_last?)");
  EMBER_CHECK(config_.label_smoothing >= 0.0 && config_.label_smoothing < 1.0,
              "Trainer: label smoothing must be in [0, 1), got {}", config_.label_smoothing);
}

void Trainer::add_checkpoint_state(const std::string& name, std::function<TensorMap()> save,
                                   std::function<void(const TensorMap&)> load) {
  EMBER_CHECK(extra_state_.count(name) == 0, "Trainer: checkpoint state '{}' added twice", name);
  extra_state_[name] = {std::move(save), std::move(load)};
}

void Trainer::attach_run(const RunDir& run) {
  run_ = run;
  metrics_ = std::make_unique<MetricsLog>(run.path(), step_ > 0 ? step_ : -1);
}

nlohmann::json Trainer::state_json() const {
  return {
      {"model", config_.model_description},
      {"step", step_},
      {"epoch", epoch_},
      {"step_in_epoch", step_in_epoch_},
      {"epoch_sums", {{"loss", sums_.loss}, {"correct", sums_.correct}, {"samples", sums_.samples},
                      {"steps", sums_.steps}}},
      {"best", {{"top1", best_top1_}, {"epoch", best_epoch_}}},
      {"last_lr", last_lr_},
      {"train_seconds", train_seconds_},
      {"schedule", scheduler_ ? scheduler_->state_dict() : nlohmann::json()},
      {"data_loader", train_data_.position()},
      {"rng", {{"default_generator", generator_state_to_json(default_generator().state())}}},
  };
}

void Trainer::save(const std::string& which) {
  if (!run_) return;
  const bool last = which == "last";
  ExtraTensors extra;
  if (last)
    for (const auto& [name, state] : extra_state_) extra[name] = state.save();
  save_checkpoint(run_->checkpoint_dir() / which, *model_, last ? &optimizer_ : nullptr, state_json(), extra);
}

void Trainer::resume(const fs::path& checkpoint_dir) {
  const Checkpoint checkpoint = read_checkpoint(checkpoint_dir);
  load_model_weights(*model_, checkpoint, config_.model_description, checkpoint_dir);
  const nlohmann::json& state = checkpoint.state;
  EMBER_CHECK(state.contains("optimizer"), "checkpoint {} holds weights only (a best/ checkpoint?): resume from "
              "checkpoint/last", checkpoint_dir.string());
  const std::string saved_optimizer = state["optimizer"].value("name", std::string("?"));
  EMBER_CHECK(saved_optimizer == optimizer_.name(), "checkpoint {} was written with optimizer {} but this run uses "
              "{}: resume with --optimizer {} or start a fresh run", checkpoint_dir.string(), saved_optimizer,
              optimizer_.name(), saved_optimizer);
  try {
    optimizer_.load_state_dict(checkpoint.optimizer);
    step_ = state.at("step").get<int64_t>();
    epoch_ = state.at("epoch").get<int64_t>();
    step_in_epoch_ = state.at("step_in_epoch").get<int64_t>();
    const auto& sums = state.at("epoch_sums");
    sums_ = {sums.at("loss").get<double>(), sums.at("correct").get<int64_t>(), sums.at("samples").get<int64_t>(),
             sums.at("steps").get<int64_t>()};
    best_top1_ = state.at("best").at("top1").get<double>();
    best_epoch_ = state.at("best").at("epoch").get<int64_t>();
    last_lr_ = state.at("last_lr").get<double>();
    train_seconds_ = state.at("train_seconds").get<double>();
    if (scheduler_) scheduler_->load_state_dict(state.at("schedule"));
    // The loader continues from the saved position (an epoch's order and augmentation draws are
    // functions of the seed, the epoch and the batch index: data/dataloader.h).
    train_data_.start(state.at("data_loader").get<data::LoaderPosition>());
    default_generator().set_state(generator_state_from_json(state.at("rng").at("default_generator")));
  } catch (const nlohmann::json::exception& e) {
    EMBER_FAIL("checkpoint {}: state.json lacks a field ({}); it was not written by this trainer: start a fresh run",
               checkpoint_dir.string(), e.what());
  }
  for (const auto& [name, extra] : extra_state_) {
    const auto found = checkpoint.extra.find(name);
    EMBER_CHECK(found != checkpoint.extra.end(), "checkpoint {} has no '{}' state ({}.safetensors) but this run keeps "
                "one: resume with the settings of the run that wrote it or start a fresh run",
                checkpoint_dir.string(), name, name);
    extra.load(found->second);
  }
  // Records after the checkpoint's step belong to the part of the run that is trained again.
  if (run_) metrics_ = std::make_unique<MetricsLog>(run_->path(), step_);
}

void Trainer::train_step(const data::Batch& batch, int64_t epoch, int64_t step_in_epoch) {
  last_lr_ = optimizer_.lr();
  model_->train();
  // logits: (rows, num_classes); target: (rows) int64 (Note [Rows])
  const auto [logits, target] = prediction_rows((*model_)(batch.input), batch.target);
  const Tensor loss = cross_entropy(logits, target, Tensor(), -100, "mean", config_.label_smoothing);
  const double loss_value = loss.item<double>();
  EMBER_CHECK(std::isfinite(loss_value),
              "train: the loss is {} at step {} (epoch {}, lr {:g}): training diverged; lower --lr, set --clip-grad, "
              "or add warmup (--warmup-epochs)", loss_value, step_ + 1, epoch + 1, last_lr_);
  optimizer_.zero_grad();
  loss.backward();
  if (config_.clip_grad_norm > 0.0) optim::clip_grad_norm_(model_->parameters(), config_.clip_grad_norm);
  optimizer_.step();
  if (scheduler_) scheduler_->iteration_done();
  ++step_;

  const int64_t batch_size = batch.size(), rows = target.size(0);
  sums_.loss += loss_value * static_cast<double>(rows);
  sums_.correct += count_topk_correct(logits, target, 1);
  sums_.samples += rows;
  sums_.steps += 1;
  const StepInfo info{step_, epoch, step_in_epoch, loss_value, last_lr_, batch_size};
  for (const auto& hook : after_step_) hook(info);
}

void Trainer::record_step_time(double seconds, int64_t batch_size) {
  // Smoothed: steady numbers for the ETA without hiding a slowdown for long.
  train_seconds_ += seconds;
  seconds_per_step_ = seconds_per_step_ == 0.0 ? seconds : 0.9 * seconds_per_step_ + 0.1 * seconds;
  samples_per_second_ = seconds_per_step_ > 0.0 ? static_cast<double>(batch_size) / seconds_per_step_ : 0.0;
}

void Trainer::log_step(int64_t epoch) {
  const int64_t steps_in_epoch = train_data_.num_batches();
  const double loss = sums_.samples ? sums_.loss / static_cast<double>(sums_.samples) : 0.0;
  const double accuracy = sums_.samples ? static_cast<double>(sums_.correct) / static_cast<double>(sums_.samples) : 0.0;
  if (config_.progress) {
    int64_t total_steps = config_.epochs * steps_in_epoch;
    if (config_.max_steps > 0) total_steps = std::min(total_steps, config_.max_steps);
    progress_.update({epoch + 1, config_.epochs, step_in_epoch_, steps_in_epoch, step_, total_steps, loss, accuracy,
                      samples_per_second_},
                     seconds_per_step_);
  }
  if (metrics_ && (step_in_epoch_ % std::max<int64_t>(1, config_.log_every) == 0))
    metrics_->write({{"kind", "train"}, {"epoch", epoch + 1}, {"step", step_}, {"lr", last_lr_}, {"loss", loss},
                     {"acc", accuracy}, {"samples_per_s", samples_per_second_}, {"time_s", train_seconds_}});
}

EvalResult Trainer::evaluate(data::DataLoader& data) {
  NoGradGuard no_grad;
  model_->eval();
  EvalResult result;
  double loss_sum = 0.0;
  int64_t top1 = 0, top5 = 0;
  data.start_epoch(0);
  while (auto batch = data.next()) {
    // logits: (rows, num_classes) (Note [Rows])
    const auto [logits, target] = prediction_rows((*model_)(batch->input), batch->target);
    loss_sum += cross_entropy(logits, target, Tensor(), -100, "sum").item<double>();
    top1 += count_topk_correct(logits, target, 1);
    top5 += count_topk_correct(logits, target, std::min<int64_t>(5, logits.size(1)));
    result.samples += target.size(0);
  }
  model_->train();
  EMBER_CHECK(result.samples > 0, "evaluate: the evaluation data is empty");
  const auto n = static_cast<double>(result.samples);
  result.loss = loss_sum / n;
  result.top1 = static_cast<double>(top1) / n;
  result.top5 = static_cast<double>(top5) / n;
  return result;
}

void Trainer::end_epoch(int64_t epoch, FitResult& result) {
  const double loss = sums_.samples ? sums_.loss / static_cast<double>(sums_.samples) : 0.0;
  const double accuracy = sums_.samples ? static_cast<double>(sums_.correct) / static_cast<double>(sums_.samples) : 0.0;
  if (metrics_)
    metrics_->write({{"kind", "epoch"}, {"epoch", epoch + 1}, {"step", step_}, {"lr", last_lr_}, {"loss", loss},
                     {"acc", accuracy}, {"time_s", train_seconds_}});
  std::string line = fmt::format("epoch {}/{}: train loss {:.4f} acc {:.2f}%", epoch + 1, config_.epochs, loss,
                                 100.0 * accuracy);
  const bool last_epoch = epoch + 1 == config_.epochs;
  const bool eval_now = eval_data_ != nullptr && (last_epoch || (config_.eval_every > 0 && (epoch + 1) % config_.eval_every == 0));
  if (eval_now) {
    const EvalResult eval = evaluate(*eval_data_);
    result.last_eval = eval;
    line += fmt::format(" | test loss {:.4f} top-1 {:.2f}% top-5 {:.2f}%", eval.loss, 100.0 * eval.top1, 100.0 * eval.top5);
    if (metrics_)
      metrics_->write({{"kind", "eval"}, {"epoch", epoch + 1}, {"step", step_}, {"loss", eval.loss},
                       {"acc", eval.top1}, {"top5", eval.top5}});
    if (eval.top1 > best_top1_) {
      best_top1_ = eval.top1;
      best_epoch_ = epoch + 1;
      save("best");
    }
  }
  if (config_.progress) progress_.message(line);
}

FitResult Trainer::fit() {
  FitResult result;
  const auto start = Clock::now();
  const int64_t steps_in_epoch = train_data_.num_batches();
  const auto reached_max_steps = [&] { return config_.max_steps > 0 && step_ >= config_.max_steps; };
  bool stopped_mid_epoch = false;
  while (epoch_ < config_.epochs && !reached_max_steps()) {
    // A resumed run continues a partly trained epoch from the loader's restored position.
    if (step_in_epoch_ == 0) {
      train_data_.start_epoch(epoch_);
      sums_ = {};
    }
    while (step_in_epoch_ < steps_in_epoch && !reached_max_steps()) {
      // The step's time includes waiting for the batch: a slow loader shows in samples/s.
      const auto step_start = Clock::now();
      std::optional<data::Batch> batch = train_data_.next();
      EMBER_CHECK(batch.has_value(), "Trainer: the data ran out after {} of {} batches in epoch {}", step_in_epoch_,
                  steps_in_epoch, epoch_ + 1);
      train_step(*batch, epoch_, step_in_epoch_ + 1);
      record_step_time(seconds_since(step_start), batch->size());
      ++step_in_epoch_;
      log_step(epoch_);
      if (config_.checkpoint_every > 0 && step_ % config_.checkpoint_every == 0 && step_in_epoch_ < steps_in_epoch)
        save("last");
    }
    if (step_in_epoch_ < steps_in_epoch) {
      stopped_mid_epoch = true;
      break;
    }
    const int64_t finished = epoch_;
    // The state saved from here on is "at the start of the next epoch".
    ++epoch_;
    step_in_epoch_ = 0;
    if (scheduler_) scheduler_->epoch_done();
    end_epoch(finished, result);
    save("last");
    sums_ = {};
    result.epochs_completed = epoch_;
  }
  if (stopped_mid_epoch) {
    save("last");
    if (eval_data_ != nullptr) {
      result.last_eval = evaluate(*eval_data_);
      const EvalResult& eval = *result.last_eval;
      if (config_.progress)
        progress_.message(fmt::format("stopped after {} steps (--max-steps) | test loss {:.4f} top-1 {:.2f}% top-5 {:.2f}%",
                                      step_, eval.loss, 100.0 * eval.top1, 100.0 * eval.top5));
      if (metrics_)
        metrics_->write({{"kind", "eval"}, {"epoch", epoch_ + 1}, {"step", step_}, {"loss", eval.loss},
                         {"acc", eval.top1}, {"top5", eval.top5}});
    }
  }
  result.steps = step_;
  result.best_top1 = best_top1_;
  result.best_epoch = best_epoch_;
  result.wall_seconds = seconds_since(start);
  result.train_seconds = train_seconds_;
  return result;
}

}  // namespace ember::experiments
