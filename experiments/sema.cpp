// `sema`: what Switch EMA (papers.md §6) buys over EMA and plain training. The same backbone,
// optimizer, data and seed train once per variant:
//   plain      the optimizer alone
//   ema        + an EMA of the weights (evaluated with the EMA weights)
//   sema       + Switch EMA: the EMA weights are copied into the model at switch points (every
//              --switch-interval epochs, or iterations with --switch-by-iter)
//   swa        + SWA: the equal-weight mean of the weights at the end of each epoch from
//              --swa-start-epoch (default: 75% of the epochs), evaluated with BN statistics
//              recomputed over the training set
//   lookahead  the optimizer wrapped in Lookahead (k 5, α 0.5)
// and the run folder gets results.md (final and best test top-1 per variant, epochs to reach the
// plain run's best), compare_loss.png / compare_accuracy.png (every variant on one plot, made by
// scripts/plot_compare.py), each variant's metrics in <variant>/metrics.jsonl, and, with
// --flatness-points > 0, the loss along a random filter-normalised direction around each variant's
// final (evaluated) weights in flatness.csv / flatness.png.
//
//   build/experiments/sema --preset quick        # Fashion-MNIST, ResNet-8 (width 8), ~10 min on 2 cores
//   build/experiments/sema --preset paper --data-dir DIR   # CIFAR-100, ResNet-18, 200 epochs (§6)
//
// Twins: experiments/bocb.cpp (the optimizer grid), experiments/bocb_table.{h,cpp} (the data/model
// set-up both use), optim/ema.h (ModelEMA, SwitchEMA). A run is not resumable: each variant is
// trained from scratch. Tests: test/trainer/test_bocb.cpp (a smoke run on synthetic data).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

#include "ember.h"
#include "experiments/bocb_table.h"
#include "experiments/trainer/cli.h"
#include "experiments/trainer/metrics.h"
#include "experiments/trainer/run_dir.h"
#include "experiments/trainer/trainer.h"
#include "optim/ema.h"
#include "optim/lookahead.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "optim/swa.h"

using namespace ember;
namespace fs = std::filesystem;
namespace bocb = ember::experiments::bocb;

namespace {

struct Options {
  std::string preset = "quick";
  std::string model = "resnet8";
  int64_t width = 8;
  bocb::DataOptions data;
  std::string optimizer = "sgd";
  double lr = 0.1;
  double weight_decay = 5e-4;
  int64_t epochs = 6;
  double warmup_epochs = 0.0;
  double ema_momentum = 0.99;       // openmixup convention: ema = m·ema + (1 − m)·θ
  double ema_warmup_epochs = 1.0;   // linear momentum warm-up (papers.md §6: 5 epochs at 200)
  double ema_warmup_ratio = 0.9;
  bool ema_full_state = false;      // openmixup's full_params_ema: also average the BN statistics
  // SEMA's switch points (optim::SwitchOptions): every `switch_interval` epochs (iterations with
  // switch_by_iter) after `switch_start`, up to `switch_end` (-1: the end); never after the last
  // epoch or step, since nothing trains after it.
  int64_t switch_interval = 1;
  bool switch_by_iter = false;
  int64_t switch_start = 0;
  int64_t switch_end = -1;
  std::string variants = "plain,ema,sema";
  int64_t swa_start_epoch = -1;     // -1: 75% of the epochs
  int64_t flatness_points = 11;     // α in [−1, 1]; 0: no probe
  int64_t max_steps = 0;
  int64_t log_every = 20;
  std::string runs_dir = "runs";
  std::string name;
  bool overwrite = false;
  int threads = 0;
  bool plot = true;
};

const std::vector<std::string> kVariants = {"plain", "ema", "sema", "swa", "lookahead"};

// Preset values for every option the command line leaves unset.
void apply_preset(const CLI::App& app, Options& o) {
  const auto set = [&app](const std::string& option, auto& field, auto value) {
    if (app.count(option) == 0) field = value;
  };
  if (o.preset == "quick") {
    // A small-scale copy of §6's CIFAR recipe that keeps its RATIOS (there: 200 epochs x 500 steps =
    // 100,000 steps; EMA horizon 1/(1 − 0.999) = 1,000 steps = 1% of the schedule; a switch every
    // epoch = 0.5%; momentum warm-up 5 epochs = 2.5%). Here: all of Fashion-MNIST (60k / 10k) for 8
    // epochs at batch 128 = 3,744 steps, so
    //   momentum 0.973: horizon 1/(1 − m) ≈ 37 steps ≈ 1% of the schedule;
    //   a switch every 19 iterations ≈ 0.5%, half the horizon as in §6 (every epoch would be 12.5%:
    //     the interval-to-horizon ratio sets how much the switches slow training, README);
    //   warm-up 0.2 epochs ≈ 94 steps ≈ 2.5%;
    //   full-state EMA (openmixup's full_params_ema: the BN statistics are averaged with the
    //     weights; parameters-only EMA evaluated with the model's own statistics is erratic, README).
    // The same steps as the measured 8-epoch preset before it (experiments/README.md): ~9 minutes
    // wall, ~17 CPU-minutes on 2 idle cores; a switch is one copy of the small model.
    set("--dataset", o.data.dataset, std::string("fashion_mnist"));
    set("--epochs", o.epochs, int64_t{8});
    set("--ema-momentum", o.ema_momentum, 0.973);
    set("--ema-warmup-epochs", o.ema_warmup_epochs, 0.2);
    set("--ema-full-state", o.ema_full_state, true);
    set("--switch-by-iter", o.switch_by_iter, true);
    // The interval is in the preset's unit: `--switch-by-epoch` alone means every epoch, not every 19.
    if (app.count("--switch-by-iter") == 0) set("--switch-interval", o.switch_interval, int64_t{19});
  } else if (o.preset == "paper") {
    // papers.md §6: CIFAR-100, R-18, 200 epochs, batch 100, SGD 0.1 / 1e-4 cosine (the PyTorch recipe
    // of §1.3); EMA momentum 0.999 with a linear warm-up over 5 epochs, ratio 0.9.
    set("--dataset", o.data.dataset, std::string("cifar100"));
    set("--model", o.model, std::string("resnet18"));
    set("--width", o.width, int64_t{-1});
    set("--epochs", o.epochs, int64_t{200});
    set("--batch-size", o.data.batch_size, int64_t{100});
    set("--weight-decay", o.weight_decay, 1e-4);
    set("--ema-momentum", o.ema_momentum, 0.999);
    set("--ema-warmup-epochs", o.ema_warmup_epochs, 5.0);
    set("--ema-full-state", o.ema_full_state, true);  // openmixup's SwitchEMAHook with full_params_ema
    set("--variants", o.variants, std::string("plain,ema,sema,swa,lookahead"));
    set("--crop-padding", o.data.crop_padding, int64_t{4});
  } else {
    EMBER_CHECK(o.preset == "none", "sema: unknown --preset '{}' (quick, paper, none)", o.preset);
  }
}

std::vector<std::string> parse_variants(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream stream(list);
  std::string item;
  while (std::getline(stream, item, ','))
    if (!item.empty()) {
      EMBER_CHECK(std::find(kVariants.begin(), kVariants.end(), item) != kVariants.end(),
                  "sema: unknown variant '{}' in --variants (valid: {})", item, fmt::join(kVariants, ", "));
      out.push_back(item);
    }
  EMBER_CHECK(!out.empty(), "sema: --variants is empty (valid: {})", fmt::join(kVariants, ", "));
  return out;
}

struct VariantResult {
  std::string name;
  std::vector<double> top1_per_epoch;  // in [0, 1], one per evaluation
  double final_top1 = 0.0, best_top1 = 0.0, final_loss = 0.0;
  int64_t best_epoch = 0, steps = 0, switches = 0;
  double seconds = 0.0;
  std::vector<std::pair<double, double>> flatness;  // (α, test loss)
};

// Loss on `data` at θ + α·d for α in [−1, 1], d a Gaussian direction (fixed by `seed`, so the same
// for every variant) scaled per weight tensor to that tensor's norm (Li et al.'s filter
// normalisation, per tensor); 1-D tensors (norms, biases) stay put. The weights are restored after.
std::vector<std::pair<double, double>> flatness_probe(experiments::Trainer& trainer, data::DataLoader& data,
                                                      int64_t points, uint64_t seed) {
  nn::Module& model = trainer.model();
  Generator gen(seed);
  std::vector<Tensor> params, originals, directions;
  {
    NoGradGuard no_grad;
    for (const auto& [name, p] : model.named_parameters()) {
      Tensor d = randn(p.sizes(), gen).to(p.dtype());
      if (p.dim() <= 1) d = zeros_like(p);
      else d = d * (norm(p).item<double>() / std::max(1e-12, norm(d).item<double>()));
      params.push_back(p);
      originals.push_back(p.detach().clone());
      directions.push_back(d);
    }
  }
  std::vector<std::pair<double, double>> curve;
  for (int64_t i = 0; i < points; ++i) {
    const double alpha = points == 1 ? 0.0 : -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(points - 1);
    {
      NoGradGuard no_grad;
      for (size_t k = 0; k < params.size(); ++k) params[k].copy_(originals[k] + directions[k] * alpha);
    }
    curve.emplace_back(alpha, trainer.evaluate(data).loss);
  }
  NoGradGuard no_grad;
  for (size_t k = 0; k < params.size(); ++k) params[k].copy_(originals[k]);
  return curve;
}

VariantResult train_variant(const std::string& variant, const Options& o, const experiments::RunDir& run) {
  VariantResult result;
  result.name = variant;
  manual_seed(o.data.seed);  // the same initial weights for every variant
  bocb::ImageData data = bocb::make_image_data(o.data);
  nn::ModulePtr model = bocb::make_model(o.model, data, o.width, nullptr);
  std::map<std::string, double> optimizer_options = {{"lr", o.lr}};
  if (o.optimizer == "sgd") optimizer_options.insert({{"momentum", 0.9}, {"nesterov", 1.0}});
  std::unique_ptr<optim::Optimizer> optimizer = optim::make_optimizer(
      o.optimizer, optim::weight_decay_groups(model->named_parameters(), o.weight_decay), optimizer_options);
  if (variant == "lookahead") optimizer = std::make_unique<optim::Lookahead>(std::move(optimizer), 5, 0.5);

  const int64_t steps_per_epoch = data.train->num_batches();
  optim::ScheduleOptions schedule;
  schedule.kind = "cosine";
  schedule.warmup_steps = static_cast<int64_t>(o.warmup_epochs * static_cast<double>(steps_per_epoch));
  schedule.warmup = schedule.warmup_steps > 0 ? "linear" : "none";
  schedule.total_steps = std::max<int64_t>(1, o.epochs * steps_per_epoch - schedule.warmup_steps);
  optim::LRScheduler scheduler(*optimizer, optim::Schedule(schedule));

  optim::EmaOptions ema_options;
  ema_options.momentum = o.ema_momentum;
  ema_options.warmup_iters = static_cast<int64_t>(o.ema_warmup_epochs * static_cast<double>(steps_per_epoch));
  ema_options.warmup = ema_options.warmup_iters > 0 ? optim::EmaWarmup::linear : optim::EmaWarmup::none;
  ema_options.warmup_ratio = o.ema_warmup_ratio;
  ema_options.full_state = o.ema_full_state;
  // "ema" uses the EMA of a SwitchEMA and never switches (its hooks below are asked only for "sema").
  const optim::SwitchOptions switch_options{
      .by_iter = o.switch_by_iter, .interval = o.switch_interval, .start = o.switch_start, .end = o.switch_end};
  std::unique_ptr<optim::SwitchEMA> sema;
  if (variant == "ema" || variant == "sema") sema = std::make_unique<optim::SwitchEMA>(*model, ema_options, switch_options);
  const bool switching = variant == "sema";
  const int64_t total_steps = o.max_steps > 0 ? std::min(o.max_steps, o.epochs * steps_per_epoch) : o.epochs * steps_per_epoch;
  std::unique_ptr<optim::SWA> swa;
  std::unique_ptr<data::DataLoader> bn_batches;  // SWA's BN recomputation: the training set, in order
  if (variant == "swa") {
    const int64_t start = o.swa_start_epoch >= 0 ? o.swa_start_epoch : (3 * o.epochs) / 4;
    swa = std::make_unique<optim::SWA>(*model, optim::SwaOptions{.start_epoch = start});
    bn_batches = std::make_unique<data::DataLoader>(
        data.train_set, data::DataLoaderOptions{.batch_size = o.data.batch_size, .num_workers = o.data.workers},
        data.train_transform);
  }
  // Runs `fn` with the weights the variant is judged by swapped in: the EMA's, the SWA mean's (with
  // BN statistics recomputed for it; the training ones are put back after), or the model's own.
  const auto with_evaluated_weights = [&](const std::function<void()>& fn) {
    if (sema) {
      auto scope = sema->ema().swapped_into(*model);
      fn();
    } else if (swa && swa->n_averaged() > 0) {
      std::vector<Tensor> buffers, saved;
      {
        NoGradGuard no_grad;
        for (const auto& [name, buffer] : model->named_buffers()) {
          buffers.push_back(buffer);
          saved.push_back(buffer.clone());
        }
      }
      {
        auto scope = swa->swapped_into(*model);
        optim::update_bn(*model, *bn_batches);
        fn();
      }
      NoGradGuard no_grad;
      for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
    } else {
      fn();
    }
  };

  experiments::TrainerConfig config;
  config.epochs = o.epochs;
  config.max_steps = o.max_steps;
  config.log_every = o.log_every;
  config.progress = true;
  config.tty = false;
  // No eval loader: the hook below evaluates, with the EMA weights swapped in where there are some.
  experiments::Trainer trainer(config, model, *optimizer, *data.train, nullptr);
  trainer.set_scheduler(&scheduler);
  const fs::path dir = run.path() / variant;
  fs::create_directories(dir);
  experiments::MetricsLog metrics(dir);

  double loss_sum = 0.0;
  int64_t loss_count = 0;
  const auto evaluate = [&](int64_t epoch, int64_t step) {
    experiments::EvalResult eval;
    with_evaluated_weights([&] { eval = trainer.evaluate(*data.test); });
    metrics.write({{"kind", "eval"}, {"epoch", epoch}, {"step", step}, {"loss", eval.loss}, {"acc", eval.top1}, {"top5", eval.top5}});
    result.top1_per_epoch.push_back(eval.top1);
    result.final_top1 = eval.top1;
    result.final_loss = eval.loss;
    if (eval.top1 > result.best_top1) {
      result.best_top1 = eval.top1;
      result.best_epoch = epoch;
    }
    std::cout << fmt::format("[{}] epoch {} step {}: test loss {:.4f} top-1 {:.2f}%\n", variant, epoch, step, eval.loss,
                             100.0 * eval.top1) << std::flush;
  };
  bool evaluated_last = false;
  trainer.add_after_step_hook([&](const experiments::StepInfo& info) {
    if (sema) sema->ema().update(*model);
    // Iteration mode: the switch follows the EMA update (openmixup's after_train_iter); not after the last step.
    if (switching && o.switch_by_iter && info.step < total_steps && sema->should_switch(0, info.step)) {
      sema->switch_(*model);
      ++result.switches;
    }
    loss_sum += info.loss;
    ++loss_count;
    evaluated_last = false;
    if (info.step % o.log_every == 0) {
      metrics.write({{"kind", "train"}, {"epoch", info.epoch + 1}, {"step", info.step}, {"lr", info.lr},
                     {"loss", loss_sum / static_cast<double>(loss_count)}});
      loss_sum = 0.0;
      loss_count = 0;
    }
    if (info.step_in_epoch == steps_per_epoch) {  // the epoch's last step: evaluate, then the switch
      if (swa && swa->should_update(info.epoch)) swa->update(*model);
      evaluate(info.epoch + 1, info.step);
      evaluated_last = true;
      // Epoch mode: SEMA switches "after each epoch", at the start of the next one (before_train_epoch),
      // after the evaluation; not after the last epoch.
      if (switching && info.epoch + 1 < o.epochs && info.step < total_steps &&
          sema->before_train_epoch(*model, info.epoch + 1))
        ++result.switches;
    }
  });
  const experiments::FitResult fit = trainer.fit();
  if (!evaluated_last) evaluate(fit.epochs_completed + 1, fit.steps);  // --max-steps stopped mid-epoch
  result.steps = fit.steps;
  result.seconds = fit.wall_seconds;
  if (o.flatness_points > 0)
    with_evaluated_weights(
        [&] { result.flatness = flatness_probe(trainer, *data.test, o.flatness_points, o.data.seed + 7919); });
  return result;
}

// "every epoch start", "every 20 iterations", "every 2 epochs after epoch 1 up to epoch 6".
std::string switch_description(const Options& o) {
  const std::string unit = o.switch_by_iter ? "iteration" : "epoch";
  std::string out = o.switch_interval == 1 ? (o.switch_by_iter ? "after every iteration" : "at every epoch start")
                                           : fmt::format("every {} {}s", o.switch_interval, unit);
  if (o.switch_start > 0) out += fmt::format(" after {} {}", unit, o.switch_start);
  if (o.switch_end >= 0) out += fmt::format(" up to {} {}", unit, o.switch_end);
  return out;
}

std::string epochs_to_reach(const VariantResult& v, double target) {
  for (size_t e = 0; e < v.top1_per_epoch.size(); ++e)
    if (v.top1_per_epoch[e] >= target) return std::to_string(e + 1);
  return "—";
}

void write_results(const experiments::RunDir& run, const Options& o, const std::string& data_description,
                   const std::string& model_description, const std::vector<VariantResult>& results) {
  std::ostringstream md;
  md << "# sema: " << o.model << " on " << data_description << "\n\n"
     << fmt::format("model: {}  \noptimizer: {} lr {:g}, weight decay {:g}, cosine over {} epochs  \n", model_description,
                    o.optimizer, o.lr, o.weight_decay, o.epochs)
     << fmt::format("EMA: momentum {:g} (horizon {:.0f} steps), {}, linear warm-up over {:g} epochs (ratio {:g}); "
                    "SEMA switches {}; EMA/SEMA evaluated with the EMA weights\n\n", o.ema_momentum,
                    1.0 / std::max(1e-12, 1.0 - o.ema_momentum), o.ema_full_state ? "full state (BN statistics too)" : "parameters only",
                    o.ema_warmup_epochs, o.ema_warmup_ratio, switch_description(o));
  const auto plain = std::find_if(results.begin(), results.end(), [](const VariantResult& v) { return v.name == "plain"; });
  md << "| variant | final top-1 | best top-1 (epoch) | final test loss | epochs to reach plain's best | switches | steps | time |\n"
     << "|---|---|---|---|---|---|---|---|\n";
  for (const VariantResult& v : results)
    md << fmt::format("| {} | {:.2f}% | {:.2f}% ({}) | {:.4f} | {} | {} | {} | {} |\n", v.name, 100.0 * v.final_top1,
                      100.0 * v.best_top1, v.best_epoch, v.final_loss,
                      plain == results.end() ? "—" : epochs_to_reach(v, plain->best_top1), v.switches, v.steps,
                      experiments::format_duration(v.seconds));
  if (!results.empty() && !results.front().flatness.empty()) {
    md << "\nFlatness: test loss along one random filter-normalised direction, θ + α·d (flatness.csv, flatness.png).\n\n"
       << "| variant | loss at α = 0 | mean loss at α = ±1 | mean loss over α minus loss at 0 |\n|---|---|---|---|\n";
    std::ostringstream csv;
    csv << "variant,alpha,loss\n";
    for (const VariantResult& v : results) {
      double centre = 0.0, edge = 0.0, rise = 0.0;
      for (const auto& [alpha, loss] : v.flatness) {
        csv << fmt::format("{},{:.6g},{:.9g}\n", v.name, alpha, loss);
        if (std::abs(alpha) < 1e-12) centre = loss;
        if (std::abs(std::abs(alpha) - 1.0) < 1e-12) edge += loss / 2.0;
      }
      for (const auto& point : v.flatness) rise += point.second / static_cast<double>(v.flatness.size());
      md << fmt::format("| {} | {:.4f} | {:.4f} | {:.4f} |\n", v.name, centre, edge, rise - centre);
    }
    experiments::write_file_atomically(run.file("flatness.csv"), csv.str());
  }
  experiments::write_file_atomically(run.file("results.md"), md.str());
}

int run(int argc, char** argv) {
  CLI::App app{"Switch EMA vs EMA vs plain training (papers.md §6): one backbone, optimizer, data and seed per variant. "
               "Writes RUNS_DIR/sema/NAME/ with results.md, per-variant metrics and comparison plots."};
  Options o;
  app.option_defaults()->always_capture_default();
  app.add_option("--preset", o.preset, "quick (Fashion-MNIST 60k/10k, ResNet-8 w8, 8 epochs, full-state EMA 0.973, a switch every 19 iterations), paper (CIFAR-100, ResNet-18, 200 epochs), none");
  app.add_option("--model", o.model, "backbone (models/zoo.h names)");
  app.add_option("--width", o.width, "first-stage width of ResNets / hidden width of MLPs (-1: the model's default)");
  bocb::add_data_options(app, o.data);
  app.add_option("--seed", o.data.seed, "seed of weights, shuffling and augmentation (shared by every variant)");
  app.add_option("--optimizer", o.optimizer, "optimizer (" + fmt::format("{}", fmt::join(optim::optimizer_names(), ", ")) + ")");
  app.add_option("--lr", o.lr, "peak learning rate (cosine schedule)")->check(CLI::NonNegativeNumber);
  app.add_option("--weight-decay", o.weight_decay, "weight decay (not on norms and biases)")->check(CLI::NonNegativeNumber);
  app.add_option("--epochs", o.epochs, "epochs")->check(CLI::PositiveNumber);
  app.add_option("--warmup-epochs", o.warmup_epochs, "linear LR warm-up in epochs")->check(CLI::NonNegativeNumber);
  app.add_option("--ema-momentum", o.ema_momentum, "EMA momentum m: ema = m·ema + (1 − m)·θ")->check(CLI::Range(0.0, 1.0));
  app.add_option("--ema-warmup-epochs", o.ema_warmup_epochs, "linear EMA-momentum warm-up in epochs (0: none)")->check(CLI::NonNegativeNumber);
  app.add_option("--ema-warmup-ratio", o.ema_warmup_ratio, "EMA warm-up ratio r in (0, 1]")->check(CLI::Range(0.0, 1.0));
  app.add_flag("--ema-full-state,!--ema-params-only", o.ema_full_state,
               "average the BatchNorm statistics too (openmixup's full_params_ema; the quick preset's default), or the parameters only");
  app.add_option("--switch-interval", o.switch_interval, "SEMA switches every N epochs (iterations with --switch-by-iter)")->check(CLI::PositiveNumber);
  app.add_flag("--switch-by-iter,!--switch-by-epoch", o.switch_by_iter,
               "count --switch-interval/--switch-start/--switch-end in iterations (openmixup's switch_by_iter; the quick preset's default) or epochs");
  app.add_option("--switch-start", o.switch_start, "SEMA switches only after this many epochs (iterations)")->check(CLI::NonNegativeNumber);
  app.add_option("--switch-end", o.switch_end, "SEMA switches only up to this epoch (iteration); -1: to the end")->check(CLI::Range(int64_t{-1}, std::numeric_limits<int64_t>::max()));
  app.add_option("--variants", o.variants, "comma-separated: plain, ema, sema, swa, lookahead");
  app.add_option("--swa-start-epoch", o.swa_start_epoch, "SWA averages the epochs from this one (0-based; -1: 75% of the epochs)");
  app.add_option("--flatness-points", o.flatness_points, "points of the 1-D loss probe along a random direction (0: none)")->check(CLI::NonNegativeNumber);
  app.add_option("--max-steps", o.max_steps, "stop every variant after N steps (smoke runs)")->check(CLI::NonNegativeNumber);
  app.add_option("--log-every", o.log_every, "a training-loss record every N steps")->check(CLI::PositiveNumber);
  app.add_option("--runs-dir", o.runs_dir, "where run folders go");
  app.add_option("--name", o.name, "run name (default: the preset and a timestamp)");
  app.add_flag("--overwrite", o.overwrite, "replace an existing run folder of the same name");
  app.add_option("--threads", o.threads, "CPU threads (0: the engine's default)")->check(CLI::NonNegativeNumber);
  app.add_flag("--plot,!--no-plot", o.plot, "make the comparison plots with scripts/plot_compare.py");
  experiments::use_experiment_cli_conventions(app);  // one-line errors; a repeated option's last value wins
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  apply_preset(app, o);
  const std::vector<std::string> variants = parse_variants(o.variants);
  if (o.threads > 0) set_num_threads(o.threads);

  // Names are checked before anything is trained: a bad one fails at once.
  std::string model_description;
  bocb::ImageData probe = bocb::make_image_data(o.data);
  bocb::make_model(o.model, probe, o.width, &model_description);
  {
    nn::ModulePtr check = bocb::make_model(o.model, probe, o.width, nullptr);
    optim::make_optimizer(o.optimizer, optim::weight_decay_groups(check->named_parameters(), o.weight_decay), {{"lr", o.lr}});
    optim::SwitchEMA(*check, {.momentum = o.ema_momentum, .warmup_ratio = o.ema_warmup_ratio},
                     {.by_iter = o.switch_by_iter, .interval = o.switch_interval, .start = o.switch_start, .end = o.switch_end});
  }
  const experiments::RunDir run = experiments::RunDir::create({o.runs_dir, "sema", o.name, o.overwrite});
  nlohmann::ordered_json config;
  config["experiment"] = "sema";
  config["preset"] = o.preset;
  config["model"] = model_description;
  config["data"] = probe.description;
  config["optimizer"] = {{"name", o.optimizer}, {"lr", o.lr}, {"weight_decay", o.weight_decay}, {"schedule", "cosine"},
                         {"warmup_epochs", o.warmup_epochs}};
  config["epochs"] = o.epochs;
  config["batch_size"] = o.data.batch_size;
  config["seed"] = o.data.seed;
  config["ema"] = {{"momentum", o.ema_momentum}, {"warmup", "linear"}, {"warmup_epochs", o.ema_warmup_epochs},
                   {"warmup_ratio", o.ema_warmup_ratio}, {"full_state", o.ema_full_state},
                   {"switch", {{"by_iter", o.switch_by_iter}, {"interval", o.switch_interval}, {"start", o.switch_start},
                               {"end", o.switch_end}, {"description", switch_description(o)}}}};
  config["variants"] = variants;
  config["max_steps"] = o.max_steps;
  config["threads"] = num_threads();
  run.write_config(config);
  std::cout << "run folder: " << run.path().string() << "\nmodel: " << model_description << "\ndata: " << probe.description
            << "\n" << std::flush;

  std::vector<VariantResult> results;
  for (const std::string& variant : variants) {
    std::cout << "== " << variant << " ==\n" << std::flush;
    results.push_back(train_variant(variant, o, run));
    write_results(run, o, probe.description, model_description, results);  // a partial table after every variant
  }
  if (o.plot)
    experiments::run_plot_script(fs::path(EMBER_SOURCE_ROOT) / "scripts" / "plot_compare.py", {run.path().string()});
  std::cout << "results: " << run.file("results.md").string() << "\nrun folder: " << run.path().string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ember::experiments::run_main(argc, argv, run); }
