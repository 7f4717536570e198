// `bocb`: the backbone × optimizer grid of BOCB (papers.md §1). Every cell (backbone, optimizer,
// seed) is one training run through the shared Trainer with the tuned lr / wd of §1.5 mapped to our
// backbones (experiments/bocb_table.h); classic CNNs use the PyTorch recipe, ViT / ConvNeXt the
// DeiT / ConvNeXt one (warm-up, label smoothing 0.1, gradient clipping 5). The grid folder holds
//   config.json     the grid's settings
//   results.jsonl   one line per finished cell: a rerun of the same command skips those, and a
//                   cell killed mid-run continues from its last checkpoint (resume)
//   results.md      Table 1 for our grid: top-1 mean ± std per cell, failures ~x~ (median − γ rule),
//                   top-4 per backbone *x*, Mean and Std/Range without each backbone's worst, the
//                   paper's number beside ours where the paper has the column
//   layer_stats.csv per-layer L2 norm, weight-histogram entropy, ESD power-law α and top-4 PCA energy of every
//                   trained model; layer_{l2_norm,entropy,alpha,pca_energy_top4}.png box plots of them
//   cells/<backbone>_<optimizer>_s<seed>/   each cell's run folder (metrics, checkpoints)
// A NaN/inf loss marks its cell "diverged" and the grid goes on.
//
//   build/experiments/bocb --preset quick                 # ~28 CPU-minutes (~15 min on 2 cores), Fashion-MNIST
//   build/experiments/bocb --preset paper --data-dir DIR  # CIFAR-100, every optimizer, 200 epochs
//   build/experiments/bocb --backbones resnet8:width=8,mlp --optimizers sgd,adamw --seeds 2 --epochs 3
//
// A backbone is `name[:width=W][:depth=D][:patch=P]` (models/zoo.h names; depth = ViT blocks / MLP
// layers; patch = ViT patch / ConvNeXt stem patch).
// Twins: experiments/sema.cpp, experiments/bocb_table.{h,cpp}. Tests: test/trainer/test_bocb.cpp.
#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include "ember.h"
#include "experiments/bocb_table.h"
#include "experiments/trainer/cli.h"
#include "experiments/trainer/run_dir.h"
#include "experiments/trainer/trainer.h"
#include "models/zoo.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "optim/sophia.h"

using namespace ember;
namespace fs = std::filesystem;
namespace bocb = ember::experiments::bocb;

namespace {

struct Options {
  std::string preset = "quick";
  std::string backbones;
  std::string optimizers;
  int64_t seeds = 1;
  bocb::DataOptions data;
  int64_t epochs = 3;
  double lr_scale = 1.0;  // multiplies every tuned lr (e.g. for another batch size)
  double gamma = bocb::kPaperGamma;  // the failure rule's threshold (bocb_table.h: what reproduces Table 1)
  int top = 4;
  int64_t max_steps = 0;
  int64_t log_every = 50;
  std::string runs_dir = "runs";
  std::string name;
  bool overwrite = false;
  int threads = 0;
  int jobs = 0;        // cells at a time (0: one per thread of --threads / the engine's default)
  bool hp_search = false;
  int hp_points = 5;   // values of lr, then of wd, per search (§1.1 (B): 5)
  bool plot = true;
  std::string run_cell;  // worker mode (internal): "backbone,optimizer,seed,lr_step,wd_step"
};

struct Backbone {
  std::string label;  // as given: "resnet8:width=8"
  std::string model;
  int64_t width = -1, depth = -1, patch = -1;
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, separator))
    if (!item.empty()) out.push_back(item);
  return out;
}

Backbone parse_backbone(const std::string& spec) {
  const std::vector<std::string> parts = split(spec, ':');
  EMBER_CHECK(!parts.empty(), "bocb: empty backbone in --backbones");
  Backbone b{spec, parts[0]};
  const std::vector<std::string> names = models::model_names();
  EMBER_CHECK(std::find(names.begin(), names.end(), b.model) != names.end(), "bocb: unknown backbone '{}' (valid: {})",
              b.model, fmt::join(names, ", "));
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    const std::string key = parts[i].substr(0, eq);
    EMBER_CHECK(eq != std::string::npos && (key == "width" || key == "depth" || key == "patch"),
                "bocb: backbone '{}': '{}' is not width=N, depth=N or patch=N", spec, parts[i]);
    const int64_t value = std::stoll(parts[i].substr(eq + 1));
    (key == "width" ? b.width : key == "depth" ? b.depth : b.patch) = value;
  }
  return b;
}

void apply_preset(const CLI::App& app, Options& o) {
  const auto set = [&app](const std::string& option, auto& field, auto value) {
    if (app.count(option) == 0) field = value;
  };
  if (o.preset == "quick") {
    // A classic CNN, a small ViT and an MLP × two optimizers of each category (§1.2) on 15k
    // Fashion-MNIST images for 5 epochs (~585 steps a cell). Sized from measured CPU time, one
    // thread, per training image and epoch (eval and start-up included): ResNet-8 w8 0.85 ms, ViT
    // (2 blocks, patch 7: 16 tokens) 1.8 ms, MLP 0.17 ms: 8 × 75k × 2.8 ms ≈ 28 CPU-minutes, i.e.
    // ~15 minutes on 2 idle cores with --jobs 2 (the default there).
    set("--backbones", o.backbones, std::string("resnet8:width=8,vit_tiny:depth=2:patch=7,mlp"));
    set("--optimizers", o.optimizers, std::string("sgd,lion,adamw,lamb,lars,adabelief,adagrad,rmsprop"));
    set("--dataset", o.data.dataset, std::string("fashion_mnist"));
    set("--train-limit", o.data.train_limit, int64_t{15000});
    set("--test-limit", o.data.test_limit, int64_t{2000});
    set("--epochs", o.epochs, int64_t{5});
  } else if (o.preset == "paper") {
    // §1.3: CIFAR-100, 200 epochs, batch 100, 3 trials, all twenty optimizers.
    set("--backbones", o.backbones, std::string("vgg13_bn,resnet50,deit_small,convnext_tiny,mlp"));
    set("--optimizers", o.optimizers, fmt::format("{}", fmt::join(bocb::study_optimizers(), ",")));
    set("--dataset", o.data.dataset, std::string("cifar100"));
    set("--epochs", o.epochs, int64_t{200});
    set("--batch-size", o.data.batch_size, int64_t{100});
    set("--seeds", o.seeds, int64_t{3});
    set("--crop-padding", o.data.crop_padding, int64_t{4});
  } else {
    EMBER_CHECK(o.preset == "none", "bocb: unknown --preset '{}' (quick, paper, none)", o.preset);
  }
}

std::string cell_folder(const bocb::Trial& t) {
  std::string label = t.backbone;
  std::replace_if(label.begin(), label.end(), [](char c) { return c == ':' || c == '=' || c == '/'; }, '-');
  std::string folder = fmt::format("{}_{}_s{}", label, t.optimizer, t.seed);
  if (t.lr_step != 0 || t.wd_step != 0) folder += fmt::format("_lr{}_wd{}", t.lr_step, t.wd_step);
  return folder;
}

// User + system CPU time of this process (all its threads): what sizes the presets on a shared machine.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// One cell: a full training run. Divergence (the trainer's NaN/inf check) and any other error are
// caught and recorded, so the grid continues.
// Its layer statistics go to the cell folder's layer_stats.csv (the grid's file is rebuilt from the
// selected cells' ones).
bocb::CellResult run_cell(const bocb::Trial& trial, const Options& o, const fs::path& grid_dir) {
  const Backbone b = parse_backbone(trial.backbone);
  const std::string& optimizer = trial.optimizer;
  const uint64_t seed = trial.seed;
  bocb::CellResult cell;
  cell.backbone = b.label;
  cell.optimizer = optimizer;
  cell.seed = seed;
  cell.lr_step = trial.lr_step;
  cell.wd_step = trial.wd_step;
  std::string source;
  bocb::HyperParams hp = bocb::cell_hyperparams(optimizer, b.model, &source);
  hp.lr *= bocb::hp_factor(trial.lr_step);
  hp.weight_decay *= bocb::hp_factor(trial.wd_step);
  if (trial.lr_step != 0 || trial.wd_step != 0)
    source += fmt::format(", search lr×{:g} wd×{:g}", bocb::hp_factor(trial.lr_step), bocb::hp_factor(trial.wd_step));
  cell.lr = hp.lr * o.lr_scale;
  cell.weight_decay = hp.weight_decay;
  const bool modern = bocb::uses_modern_recipe(b.model);
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = process_cpu_seconds();
  try {
    manual_seed(seed);
    bocb::DataOptions data_options = o.data;
    data_options.seed = seed;
    bocb::ImageData data = bocb::make_image_data(data_options);
    models::ModelConfig config;
    config.num_classes = data.info.num_classes;
    config.in_channels = data.channels;
    config.image_size = data.info.height;
    config.width = b.width;
    config.depth = b.depth;
    config.patch_size = b.patch;
    if (modern) config.drop_path_rate = 0.1;
    nn::ModulePtr model = models::create_model(b.model, config);
    std::map<std::string, double> options = {{"lr", cell.lr}};
    if (optimizer == "sgd") options["momentum"] = 0.9;
    std::unique_ptr<optim::Optimizer> opt =
        optim::make_optimizer(optimizer, optim::weight_decay_groups(model->named_parameters(), hp.weight_decay), options);
    const int64_t steps_per_epoch = data.train->num_batches();
    optim::ScheduleOptions schedule;
    schedule.kind = "cosine";
    // DeiT warms up 20 of 200 epochs, ConvNeXt 5 (§1.3); the PyTorch recipe not at all.
    const double warmup_fraction = !modern ? 0.0 : (bocb::table_column(b.model) == "DeiT-S" ? 0.1 : 0.025);
    schedule.warmup_steps = static_cast<int64_t>(warmup_fraction * static_cast<double>(o.epochs * steps_per_epoch));
    schedule.warmup = schedule.warmup_steps > 0 ? "linear" : "none";
    schedule.total_steps = std::max<int64_t>(1, o.epochs * steps_per_epoch - schedule.warmup_steps);
    optim::LRScheduler scheduler(*opt, optim::Schedule(schedule));

    experiments::TrainerConfig trainer_config;
    trainer_config.model_description = b.label;
    trainer_config.epochs = o.epochs;
    trainer_config.max_steps = o.max_steps;
    trainer_config.label_smoothing = modern ? 0.1 : 0.0;
    trainer_config.clip_grad_norm = modern ? 5.0 : 0.0;
    trainer_config.log_every = o.log_every;
    trainer_config.eval_every = o.epochs;  // the table needs the final top-1 only
    trainer_config.tty = false;
    experiments::Trainer trainer(trainer_config, model, *opt, *data.train, data.test.get());
    trainer.set_scheduler(&scheduler);
    // A cell killed mid-run left checkpoint/last in its folder: it continues from there (exactly,
    // as the trainer's resume; Sophia's Hessian batches restart). Otherwise a fresh folder.
    const fs::path cell_dir = grid_dir / "cells" / cell_folder(trial);
    const fs::path last_checkpoint = cell_dir / "checkpoint" / "last";
    const bool resume_cell = fs::exists(last_checkpoint / "state.json");
    const experiments::RunDir run =
        resume_cell ? experiments::RunDir::open_existing(cell_dir)
                    : experiments::RunDir::create({(grid_dir / "cells").string(), ".", cell_folder(trial), true});
    if (!resume_cell) run.write_config({{"backbone", b.label}, {"optimizer", optimizer}, {"seed", seed}, {"lr", cell.lr},
                      {"weight_decay", hp.weight_decay}, {"hyperparameters_from", source},
                      {"recipe", modern ? "modern (warm-up, label smoothing 0.1, clip 5, drop path 0.1)" : "pytorch"},
                      {"schedule", nlohmann::json(schedule)}, {"data", data.description}});
    trainer.attach_run(run);
    // Sophia's Hessian-diagonal estimate (Gauss-Newton-Bartlett), refreshed when due: before the
    // first step, then after every step that precedes a due one, on its own training batches.
    std::unique_ptr<data::DataLoader> hessian_batches;
    if (auto* sophia = dynamic_cast<optim::Sophia*>(opt.get())) {
      hessian_batches = std::make_unique<data::DataLoader>(
          data.train_set, data::DataLoaderOptions{.batch_size = o.data.batch_size, .shuffle = true, .seed = seed + 1,
                                                  .drop_last = true},
          data.train_transform);
      auto generator = std::make_shared<Generator>(seed + 2);
      auto estimate = [sophia, model, loader = hessian_batches.get(), generator, epoch = int64_t{0}]() mutable {
        std::optional<data::Batch> batch = loader->next();
        if (!batch) {
          loader->start_epoch(++epoch);
          batch = loader->next();
        }
        sophia->zero_grad();
        // logits: (B, C); labels sampled from the model's own softmax by the Gumbel-max trick.
        const Tensor logits = (*model)(batch->input);
        Tensor sampled;
        {
          NoGradGuard no_grad;
          const Tensor u = clamp(rand(logits.sizes(), *generator, TensorOptions(logits.dtype())), 1e-12, 1.0 - 1e-7);
          sampled = argmax(logits.detach() - log(-log(u)), 1);
        }
        cross_entropy(logits, sampled).backward();
        sophia->update_hessian_from_grads(static_cast<double>(batch->size()));
        sophia->zero_grad();
      };
      hessian_batches->start_epoch(0);
      estimate();
      trainer.add_after_step_hook([sophia, estimate](const experiments::StepInfo&) mutable {
        if (sophia->hessian_due()) estimate();
      });
    }
    std::cout << fmt::format("== {} / {} / seed {}: lr {:g}, wd {:g} ({}) ==\n", b.label, optimizer, seed, cell.lr,
                             hp.weight_decay, source) << std::flush;
    if (resume_cell) {
      trainer.resume(last_checkpoint);
      std::cout << "resumed the cell from " << last_checkpoint.string() << " at step " << trainer.step() << "\n";
    }
    const experiments::FitResult fit = trainer.fit();
    // (A cell whose training had finished before the kill trains no further: evaluate it here.)
    cell.top1 = fit.last_eval ? fit.last_eval->top1 : trainer.evaluate(*data.test).top1;
    cell.best_top1 = std::max(fit.best_top1, cell.top1);
    cell.steps = fit.steps;
    experiments::write_file_atomically(cell_dir / "layer_stats.csv",
                                       bocb::layer_stats_csv(bocb::model_layer_stats(*model), b.label, optimizer, seed, true));
  } catch (const std::exception& e) {
    const std::string message = e.what();
    cell.status = message.find("diverged") != std::string::npos ? "diverged" : "error";
    cell.top1 = cell.best_top1 = std::numeric_limits<double>::quiet_NaN();
    cell.message = message;
    std::cout << fmt::format("cell {} / {} / seed {}: {}: {}\n", b.label, optimizer, seed, cell.status, message);
  }
  cell.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  cell.cpu_seconds = process_cpu_seconds() - cpu_start;
  return cell;
}

void plot_layer_stats(const fs::path& grid_dir) {
  if (!fs::exists(grid_dir / "layer_stats.csv")) return;
  experiments::run_plot_script(fs::path(EMBER_SOURCE_ROOT) / "scripts" / "plot.py", {"--layer-stats", grid_dir.string()});
}

bocb::Trial parse_trial(const std::string& spec) {
  const std::vector<std::string> parts = split(spec, ',');
  EMBER_CHECK(parts.size() == 5, "bocb: --run-cell expects backbone,optimizer,seed,lr_step,wd_step, got '{}'", spec);
  return {parts[0], parts[1], std::stoull(parts[2]), std::stoi(parts[3]), std::stoi(parts[4])};
}

// Worker mode (--run-cell, started by a parallel grid): trains one cell and writes its result to
// the cell folder's result.json for the parent to record. Dies with its parent.
int run_worker(const Options& o, const fs::path& grid_dir) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  const bocb::Trial trial = parse_trial(o.run_cell);
  const bocb::CellResult cell = run_cell(trial, o, grid_dir);
  const fs::path folder = grid_dir / "cells" / cell_folder(trial);
  fs::create_directories(folder);
  experiments::write_file_atomically(folder / "result.json", bocb::to_json(cell).dump() + "\n");
  return 0;
}

// Runs trials in child processes of this binary (`--run-cell`), at most `jobs` at a time, each with
// `threads` threads and its output in logs/<cell>.log; `on_finished` gets each result as it comes.
class CellPool {
 public:
  CellPool(std::vector<std::string> arguments, int jobs, int threads, fs::path grid_dir)
      : arguments_(std::move(arguments)), jobs_(jobs), threads_(threads), grid_dir_(std::move(grid_dir)) {}
  bool has_room() const { return static_cast<int>(running_.size()) < jobs_; }
  bool idle() const { return running_.empty(); }
  bool running(const bocb::Trial& t) const {
    for (const auto& [pid, trial] : running_)
      if (bocb::cell_key(trial) == bocb::cell_key(t)) return true;
    return false;
  }
  void start(const bocb::Trial& t) {
    fs::create_directories(grid_dir_ / "logs");
    const fs::path log = grid_dir_ / "logs" / (cell_folder(t) + ".log");
    std::vector<std::string> args = arguments_;
    for (const std::string& extra :
         {std::string("--run-cell"), fmt::format("{},{},{},{},{}", t.backbone, t.optimizer, t.seed, t.lr_step, t.wd_step),
          std::string("--threads"), std::to_string(threads_), std::string("--jobs"), std::string("1"), std::string("--no-plot")})
      args.push_back(extra);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    const int error = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EMBER_CHECK(error == 0, "bocb: cannot start a worker for cell {}: {}", bocb::cell_key(t), std::strerror(error));
    running_.emplace(pid, t);
  }
  // Waits for one worker to end and returns its result (an "error" cell when it left none).
  bocb::CellResult wait_one() {
    int status = 0;
    pid_t pid = -1;
    do pid = waitpid(-1, &status, 0);
    while (pid < 0 && errno == EINTR);
    EMBER_CHECK(pid > 0 && running_.count(pid), "bocb: waiting for the cell workers failed");
    const bocb::Trial t = running_.at(pid);
    running_.erase(pid);
    const fs::path result = grid_dir_ / "cells" / cell_folder(t) / "result.json";
    const fs::path log = grid_dir_ / "logs" / (cell_folder(t) + ".log");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && fs::exists(result)) {
      bocb::CellResult cell = bocb::cell_from_json(nlohmann::json::parse(experiments::read_file(result)));
      fs::remove(result);  // recorded in results.jsonl from here on
      return cell;
    }
    bocb::CellResult cell;
    cell.backbone = t.backbone;
    cell.optimizer = t.optimizer;
    cell.seed = t.seed;
    cell.lr_step = t.lr_step;
    cell.wd_step = t.wd_step;
    cell.status = "error";
    cell.top1 = cell.best_top1 = std::numeric_limits<double>::quiet_NaN();
    cell.message = fmt::format("the worker {} (log: {})",
                               WIFSIGNALED(status) ? fmt::format("was killed by signal {}", WTERMSIG(status))
                                                   : fmt::format("exited with status {}", WEXITSTATUS(status)),
                               log.string());
    return cell;
  }

 private:
  std::vector<std::string> arguments_;
  int jobs_, threads_;
  fs::path grid_dir_;
  std::map<pid_t, bocb::Trial> running_;
};

int run(int argc, char** argv) {
  CLI::App app{"The BOCB grid (papers.md §1): backbones × optimizers × seeds, each cell a training run with the "
               "tuned lr/wd of §1.5. Writes RUNS_DIR/bocb/NAME/; rerunning the same command resumes a killed grid."};
  Options o;
  app.option_defaults()->always_capture_default();
  app.add_option("--preset", o.preset, "quick (Fashion-MNIST 15k images, 5 epochs, ResNet-8 / ViT / MLP × 8 optimizers of the four categories, ~28 CPU-minutes), paper (CIFAR-100, all 20, 200 epochs, 3 seeds), none");
  app.add_option("--backbones", o.backbones, "comma-separated name[:width=W][:depth=D][:patch=P] (models/zoo.h names)");
  app.add_option("--optimizers", o.optimizers, "comma-separated (" + fmt::format("{}", fmt::join(bocb::study_optimizers(), ", ")) + ")");
  app.add_option("--seeds", o.seeds, "seeds per cell (0 .. N-1)")->check(CLI::PositiveNumber);
  bocb::add_data_options(app, o.data);
  app.add_option("--epochs", o.epochs, "epochs per cell")->check(CLI::PositiveNumber);
  app.add_option("--lr-scale", o.lr_scale, "multiply every tuned lr by this")->check(CLI::PositiveNumber);
  app.add_option("--gamma", o.gamma, "failure threshold γ: a result below the backbone's median − γ (percentage points) fails; 2 reproduces the paper's Table 1 best")->check(CLI::NonNegativeNumber);
  app.add_option("--top", o.top, "mark the top-N results per backbone")->check(CLI::NonNegativeNumber);
  app.add_flag("--hp-search", o.hp_search, "search lr, then wd, around the tuned values (seed 0; §1.1 (B)) and report the hyperparameter robustness");
  app.add_option("--hp-points", o.hp_points, "values per search: lr (or wd) × 2^k, k = −N/2 .. N/2 (odd)")->check(CLI::Range(3, 9));
  app.add_option("--jobs", o.jobs, "cells trained at a time in worker processes, the threads split between them (0: one per thread)")->check(CLI::NonNegativeNumber);
  app.add_option("--max-steps", o.max_steps, "stop every cell after N steps (smoke runs)")->check(CLI::NonNegativeNumber);
  app.add_option("--log-every", o.log_every, "a metrics record every N steps")->check(CLI::PositiveNumber);
  app.add_option("--runs-dir", o.runs_dir, "where grid folders go");
  app.add_option("--name", o.name, "grid name (default: the preset); an existing grid of this name is resumed");
  app.add_flag("--overwrite", o.overwrite, "start the grid of this name afresh");
  app.add_option("--threads", o.threads, "CPU threads in all (0: the engine's default)")->check(CLI::NonNegativeNumber);
  app.add_flag("--plot,!--no-plot", o.plot, "ridge and box plots of the layer statistics (scripts/plot.py --layer-stats)");
  app.add_option("--run-cell", o.run_cell, "(internal) train one cell as a worker of a parallel grid")->group("");
  experiments::use_experiment_cli_conventions(app);  // one-line errors; a repeated option's last value wins
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  apply_preset(app, o);
  EMBER_CHECK(o.hp_points % 2 == 1, "bocb: --hp-points must be odd (values centred on the tuned one), got {}", o.hp_points);
  const int hp_points = o.hp_search ? o.hp_points : 0;
  if (o.threads > 0) set_num_threads(o.threads);
  const fs::path grid_dir = fs::path(o.runs_dir) / "bocb" / (o.name.empty() ? o.preset : o.name);
  if (!o.run_cell.empty()) return run_worker(o, grid_dir);
  std::vector<Backbone> backbones;
  for (const std::string& spec : split(o.backbones, ',')) backbones.push_back(parse_backbone(spec));
  const std::vector<std::string> optimizers = split(o.optimizers, ',');
  EMBER_CHECK(!backbones.empty() && !optimizers.empty(), "bocb: --backbones and --optimizers must name at least one each");
  for (const std::string& name : optimizers) bocb::optimizer_category(name);  // unknown names fail here, listing the valid ones
  data::image_dataset_info(o.data.dataset);

  // The grid folder: resumed when it exists (same name), unless --overwrite.
  const fs::path jsonl = grid_dir / "results.jsonl";
  if (o.overwrite) fs::remove_all(grid_dir);
  const bool resuming = fs::exists(jsonl);
  fs::create_directories(grid_dir);
  std::vector<std::string> labels;
  for (const Backbone& b : backbones) labels.push_back(b.label);
  nlohmann::ordered_json config = {{"experiment", "bocb"}, {"preset", o.preset}, {"backbones", labels},
                                   {"optimizers", optimizers}, {"seeds", o.seeds}, {"dataset", o.data.dataset},
                                   {"train_limit", o.data.train_limit}, {"test_limit", o.data.test_limit},
                                   {"batch_size", o.data.batch_size}, {"epochs", o.epochs}, {"lr_scale", o.lr_scale},
                                   {"gamma", o.gamma}, {"hp_points", hp_points}, {"max_steps", o.max_steps},
                                   {"threads", num_threads()}, {"jobs", o.jobs}};
  if (resuming && fs::exists(grid_dir / "config.json")) {
    // Resuming a grid with other settings would mix two experiments in one table. --max-steps,
    // --threads, --jobs and --gamma may change (a smoke-test limit, speed settings, the table's rule).
    auto earlier = nlohmann::ordered_json::parse(experiments::read_file(grid_dir / "config.json"), nullptr, false);
    auto now = config;
    for (const char* key : {"threads", "max_steps", "jobs", "gamma"}) {
      if (earlier.is_object()) earlier.erase(key);
      now.erase(key);
    }
    if (earlier.is_object() && !earlier.contains("hp_points")) earlier["hp_points"] = 0;  // grids from before --hp-search
    if (earlier.is_object()) {  // compare as sets of keys: the order may differ between versions
      auto a = nlohmann::json(earlier), b = nlohmann::json(now);
      EMBER_CHECK(a == b,
                  "bocb: {} holds a grid with other settings ({} there, {} now): pass --overwrite to start afresh or "
                  "another --name", grid_dir.string(), earlier.dump(), now.dump());
    }
  }
  experiments::write_file_atomically(grid_dir / "config.json", config.dump(2) + "\n");

  std::vector<bocb::CellResult> cells = bocb::read_results(jsonl);
  const int64_t grid_cells = static_cast<int64_t>(backbones.size() * optimizers.size()) * o.seeds;
  std::cout << "grid folder: " << grid_dir.string() << " (" << grid_cells << " cells"
            << (hp_points > 1 ? fmt::format(", each searching {} lr and up to {} wd values on seed 0", hp_points, hp_points) : "")
            << (resuming ? fmt::format(", {} trials already done: resuming", cells.size()) : std::string()) << ")\n"
            << std::flush;
  const auto write_table = [&] {
    std::ostringstream md;
    md << fmt::format("# BOCB grid: {} backbones × {} optimizers × {} seeds on {}\n\n", backbones.size(),
                      optimizers.size(), o.seeds, o.data.dataset)
       << fmt::format("Test top-1 (%) after {} epochs, mean ± std over seeds. ~x~: failure (below the backbone's median − {:g}); "
                      "*x*: top-{} of the backbone; (paper x): Table 1 of the paper (CIFAR-100, 200 epochs) for the "
                      "backbone whose tuned lr/wd we borrow. Mean and Std/Range leave out each backbone's worst.{}\n\n",
                      o.epochs, o.gamma, o.top,
                      hp_points > 1 ? " Each cell: the best trial of the lr/wd search (seed 0; on the test set), "
                                      "the other seeds at its lr/wd." : "")
       << bocb::table_markdown(cells, labels, optimizers, o.gamma, o.top);
    if (hp_points > 1)
      md << fmt::format("\n## Hyperparameter robustness (§1.1 (B))\n\nOptimal lr and wd of each cell's search "
                        "(×2^k of the tuned values, k = −{0} .. {0}), one-hot encoded; M_lr, M_wd: their mode over the "
                        "optimizers of the backbone; (v): the variation |lr − M_lr|₁ + |wd − M_wd|₁ (0, 2 or 4; lower is "
                        "more robust).\n\n", hp_points / 2)
         << bocb::robustness_markdown(cells, labels, optimizers, hp_points);
    std::vector<std::string> failed;
    for (const bocb::CellResult& c : cells)
      if (c.status != "ok") failed.push_back(fmt::format("- {}: {}: {}", bocb::cell_key(c), c.status, c.message));
    if (!failed.empty()) md << "\nTrials that did not finish:\n" << fmt::format("{}", fmt::join(failed, "\n")) << "\n";
    experiments::write_file_atomically(grid_dir / "results.md", md.str());
    // layer_stats.csv: the selected trial of every (backbone, optimizer, seed), in grid order.
    std::string csv;
    for (const std::string& b : labels)
      for (const std::string& opt : optimizers)
        for (int64_t s = 0; s < o.seeds; ++s) {
          const bocb::CellResult* c = bocb::selected_trial(cells, b, opt, static_cast<uint64_t>(s));
          const fs::path file =
              c ? grid_dir / "cells" / cell_folder({b, opt, c->seed, c->lr_step, c->wd_step}) / "layer_stats.csv" : fs::path();
          if (!c || c->status != "ok" || !fs::exists(file)) continue;
          const std::string text = experiments::read_file(file);
          csv += csv.empty() ? text : text.substr(text.find('\n') + 1);  // one header
        }
    if (!csv.empty()) experiments::write_file_atomically(grid_dir / "layer_stats.csv", csv);
  };
  const auto record = [&](const bocb::CellResult& cell) {
    bocb::append_result(jsonl, cell);
    cells.push_back(cell);
    std::cout << fmt::format("done {}: {} top-1 {:.2f}% ({:.0f} s, {:.0f} CPU-s)\n", bocb::cell_key(cell), cell.status,
                             100.0 * cell.top1, cell.seconds, cell.cpu_seconds) << std::flush;
    write_table();  // a partial table after every trial
  };

  // Threads: --threads (or the engine's default) in all, split between the jobs.
  const int total_threads = o.threads > 0 ? o.threads : num_threads();
  const int jobs = std::max(1, o.jobs > 0 ? o.jobs : total_threads);
  int64_t started = 0;
  if (jobs == 1) {
    // One cell at a time, in this process.
    for (std::vector<bocb::Trial> ready; !(ready = bocb::ready_trials(labels, optimizers, o.seeds, hp_points, cells)).empty();) {
      std::cout << fmt::format("[trial {}] ", ++started);
      record(run_cell(ready.front(), o, grid_dir));
    }
  } else {
    std::vector<std::string> arguments(argv, argv + argc);
    CellPool pool(arguments, jobs, std::max(1, total_threads / jobs), grid_dir);
    std::cout << fmt::format("{} cells at a time, {} threads each (worker logs in {})\n", jobs,
                             std::max(1, total_threads / jobs), (grid_dir / "logs").string()) << std::flush;
    while (true) {
      for (const bocb::Trial& t : bocb::ready_trials(labels, optimizers, o.seeds, hp_points, cells)) {
        if (!pool.has_room()) break;
        if (pool.running(t)) continue;
        std::cout << fmt::format("[trial {}] started {}\n", ++started, bocb::cell_key(t)) << std::flush;
        pool.start(t);
      }
      if (pool.idle()) break;
      record(pool.wait_one());
    }
  }
  write_table();
  if (o.plot) plot_layer_stats(grid_dir);
  std::cout << "results: " << (grid_dir / "results.md").string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ember::experiments::run_main(argc, argv, run); }
