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
//   build/experiments/bocb --preset quick                 # ~20 min on 2 cores, real Fashion-MNIST
//   build/experiments/bocb --preset paper --data-dir DIR  # CIFAR-100, every optimizer, 200 epochs
//   build/experiments/bocb --backbones resnet8:width=8,mlp --optimizers sgd,adamw --seeds 2 --epochs 3
//
// A backbone is `name[:width=W][:depth=D]` (models/zoo.h names; depth = ViT blocks / MLP layers).
// Twins: experiments/sema.cpp, experiments/bocb_table.{h,cpp}. Tests: test/trainer/test_bocb.cpp.
#include <CLI/CLI.hpp>
#include <algorithm>
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
  double gamma = 3.0;     // the failure rule's threshold (§1.1: 3 on CIFAR-100)
  int top = 4;
  int64_t max_steps = 0;
  int64_t log_every = 50;
  std::string runs_dir = "runs";
  std::string name;
  bool overwrite = false;
  int threads = 0;
  bool plot = true;
};

struct Backbone {
  std::string label;  // as given: "resnet8:width=8"
  std::string model;
  int64_t width = -1, depth = -1;
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
    EMBER_CHECK(eq != std::string::npos && (key == "width" || key == "depth"),
                "bocb: backbone '{}': '{}' is not width=N or depth=N", spec, parts[i]);
    const int64_t value = std::stoll(parts[i].substr(eq + 1));
    (key == "width" ? b.width : b.depth) = value;
  }
  return b;
}

void apply_preset(const CLI::App& app, Options& o) {
  const auto set = [&app](const std::string& option, auto& field, auto value) {
    if (app.count(option) == 0) field = value;
  };
  if (o.preset == "quick") {
    // A classic CNN, a small ViT and an MLP × two optimizers of each category (§1.2), 4k
    // Fashion-MNIST images for 3 epochs. Measured rates on a busy 2-core machine (nice 19): ResNet-8
    // w8 ~330 images/s, ViT-tiny with 2 blocks ~100/s, the MLP far faster: about 20 minutes.
    set("--backbones", o.backbones, std::string("resnet8:width=8,vit_tiny:depth=2,mlp"));
    set("--optimizers", o.optimizers, std::string("sgd,lion,adamw,lamb,adabelief,lars,adagrad,rmsprop"));
    set("--dataset", o.data.dataset, std::string("fashion_mnist"));
    set("--train-limit", o.data.train_limit, int64_t{4000});
    set("--test-limit", o.data.test_limit, int64_t{1000});
    set("--epochs", o.epochs, int64_t{3});
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

std::string cell_folder(const Backbone& b, const std::string& optimizer, uint64_t seed) {
  std::string label = b.label;
  std::replace_if(label.begin(), label.end(), [](char c) { return c == ':' || c == '=' || c == '/'; }, '-');
  return fmt::format("{}_{}_s{}", label, optimizer, seed);
}

// One cell: a full training run. Divergence (the trainer's NaN/inf check) and any other error are
// caught and recorded, so the grid continues.
bocb::CellResult run_cell(const Backbone& b, const std::string& optimizer, uint64_t seed, const Options& o,
                          const fs::path& grid_dir) {
  bocb::CellResult cell;
  cell.backbone = b.label;
  cell.optimizer = optimizer;
  cell.seed = seed;
  std::string source;
  const bocb::HyperParams hp = bocb::cell_hyperparams(optimizer, b.model, &source);
  cell.lr = hp.lr * o.lr_scale;
  cell.weight_decay = hp.weight_decay;
  const bool modern = bocb::uses_modern_recipe(b.model);
  const auto start = std::chrono::steady_clock::now();
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
    const fs::path cell_dir = grid_dir / "cells" / cell_folder(b, optimizer, seed);
    const fs::path last_checkpoint = cell_dir / "checkpoint" / "last";
    const bool resume_cell = fs::exists(last_checkpoint / "state.json");
    const experiments::RunDir run =
        resume_cell ? experiments::RunDir::open_existing(cell_dir)
                    : experiments::RunDir::create({(grid_dir / "cells").string(), ".", cell_folder(b, optimizer, seed), true});
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
    const std::vector<bocb::LayerStats> stats = bocb::model_layer_stats(*model);
    const fs::path csv = grid_dir / "layer_stats.csv";
    const bool header = !fs::exists(csv);
    std::ofstream(csv, std::ios::app) << bocb::layer_stats_csv(stats, b.label, optimizer, seed, header);
  } catch (const std::exception& e) {
    const std::string message = e.what();
    cell.status = message.find("diverged") != std::string::npos ? "diverged" : "error";
    cell.top1 = cell.best_top1 = std::numeric_limits<double>::quiet_NaN();
    cell.message = message;
    std::cout << fmt::format("cell {} / {} / seed {}: {}: {}\n", b.label, optimizer, seed, cell.status, message);
  }
  cell.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return cell;
}

void plot_layer_stats(const fs::path& grid_dir) {
  if (!fs::exists(grid_dir / "layer_stats.csv")) return;
  experiments::run_plot_script(fs::path(EMBER_SOURCE_ROOT) / "scripts" / "plot_compare.py",
                               {"--layer-stats", grid_dir.string()});
}

int run(int argc, char** argv) {
  CLI::App app{"The BOCB grid (papers.md §1): backbones × optimizers × seeds, each cell a training run with the "
               "tuned lr/wd of §1.5. Writes RUNS_DIR/bocb/NAME/; rerunning the same command resumes a killed grid."};
  Options o;
  app.option_defaults()->always_capture_default();
  app.add_option("--preset", o.preset, "quick (3 backbones × 8 optimizers on 4k Fashion-MNIST images, ~20 min), paper (CIFAR-100, all 20, 200 epochs, 3 seeds), none");
  app.add_option("--backbones", o.backbones, "comma-separated name[:width=W][:depth=D] (models/zoo.h names)");
  app.add_option("--optimizers", o.optimizers, "comma-separated (" + fmt::format("{}", fmt::join(bocb::study_optimizers(), ", ")) + ")");
  app.add_option("--seeds", o.seeds, "seeds per cell (0 .. N-1)")->check(CLI::PositiveNumber);
  bocb::add_data_options(app, o.data);
  app.add_option("--epochs", o.epochs, "epochs per cell")->check(CLI::PositiveNumber);
  app.add_option("--lr-scale", o.lr_scale, "multiply every tuned lr by this")->check(CLI::PositiveNumber);
  app.add_option("--gamma", o.gamma, "failure threshold γ: a result below median − γ (percentage points) fails")->check(CLI::NonNegativeNumber);
  app.add_option("--top", o.top, "mark the top-N results per backbone")->check(CLI::NonNegativeNumber);
  app.add_option("--max-steps", o.max_steps, "stop every cell after N steps (smoke runs)")->check(CLI::NonNegativeNumber);
  app.add_option("--log-every", o.log_every, "a metrics record every N steps")->check(CLI::PositiveNumber);
  app.add_option("--runs-dir", o.runs_dir, "where grid folders go");
  app.add_option("--name", o.name, "grid name (default: the preset); an existing grid of this name is resumed");
  app.add_flag("--overwrite", o.overwrite, "start the grid of this name afresh");
  app.add_option("--threads", o.threads, "CPU threads (0: the engine's default)")->check(CLI::NonNegativeNumber);
  app.add_flag("--plot,!--no-plot", o.plot, "box plots of the layer statistics (scripts/plot_compare.py --layer-stats)");
  experiments::use_experiment_cli_conventions(app);  // one-line errors; a repeated option's last value wins
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  apply_preset(app, o);
  if (o.threads > 0) set_num_threads(o.threads);
  std::vector<Backbone> backbones;
  for (const std::string& spec : split(o.backbones, ',')) backbones.push_back(parse_backbone(spec));
  const std::vector<std::string> optimizers = split(o.optimizers, ',');
  EMBER_CHECK(!backbones.empty() && !optimizers.empty(), "bocb: --backbones and --optimizers must name at least one each");
  for (const std::string& name : optimizers) bocb::optimizer_category(name);  // unknown names fail here, listing the valid ones
  data::image_dataset_info(o.data.dataset);

  // The grid folder: resumed when it exists (same name), unless --overwrite.
  const fs::path grid_dir = fs::path(o.runs_dir) / "bocb" / (o.name.empty() ? o.preset : o.name);
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
                                   {"gamma", o.gamma}, {"max_steps", o.max_steps}, {"threads", num_threads()}};
  if (resuming && fs::exists(grid_dir / "config.json")) {
    // Resuming a grid with other settings would mix two experiments in one table. --max-steps and
    // --threads may change (a smoke-test limit and a speed setting).
    auto earlier = nlohmann::ordered_json::parse(experiments::read_file(grid_dir / "config.json"), nullptr, false);
    auto now = config;
    for (const char* key : {"threads", "max_steps"}) {
      if (earlier.is_object()) earlier.erase(key);
      now.erase(key);
    }
    EMBER_CHECK(earlier == now,
                "bocb: {} holds a grid with other settings ({} there, {} now): pass --overwrite to start afresh or "
                "another --name", grid_dir.string(), earlier.dump(), now.dump());
  }
  experiments::write_file_atomically(grid_dir / "config.json", config.dump(2) + "\n");

  std::vector<bocb::CellResult> cells = bocb::read_results(jsonl);
  std::set<std::string> done;
  for (const bocb::CellResult& c : cells) done.insert(bocb::cell_key(c.backbone, c.optimizer, c.seed));
  const int64_t total = static_cast<int64_t>(backbones.size() * optimizers.size()) * o.seeds;
  std::cout << "grid folder: " << grid_dir.string() << " (" << total << " cells"
            << (resuming ? fmt::format(", {} already done: resuming", done.size()) : std::string()) << ")\n" << std::flush;
  const auto write_table = [&] {
    std::ostringstream md;
    md << fmt::format("# BOCB grid: {} backbones × {} optimizers × {} seeds on {}\n\n", backbones.size(),
                      optimizers.size(), o.seeds, o.data.dataset)
       << fmt::format("Test top-1 (%) after {} epochs, mean ± std over seeds. ~x~: failure (below the backbone's median − {:g}); "
                      "*x*: top-{} of the backbone; (paper x): Table 1 of the paper (CIFAR-100, 200 epochs) for the "
                      "backbone whose tuned lr/wd we borrow. Mean and Std/Range leave out each backbone's worst.\n\n",
                      o.epochs, o.gamma, o.top)
       << bocb::table_markdown(cells, labels, optimizers, o.gamma, o.top);
    std::vector<std::string> failed;
    for (const bocb::CellResult& c : cells)
      if (c.status != "ok") failed.push_back(fmt::format("- {} / {} / seed {}: {}: {}", c.backbone, c.optimizer, c.seed, c.status, c.message));
    if (!failed.empty()) md << "\nCells that did not finish:\n" << fmt::format("{}", fmt::join(failed, "\n")) << "\n";
    experiments::write_file_atomically(grid_dir / "results.md", md.str());
  };
  int64_t index = 0;
  for (const Backbone& b : backbones)
    for (const std::string& optimizer : optimizers)
      for (int64_t s = 0; s < o.seeds; ++s) {
        ++index;
        const auto seed = static_cast<uint64_t>(s);
        if (done.count(bocb::cell_key(b.label, optimizer, seed))) continue;
        std::cout << fmt::format("[cell {}/{}] ", index, total);
        const bocb::CellResult cell = run_cell(b, optimizer, seed, o, grid_dir);
        bocb::append_result(jsonl, cell);
        cells.push_back(cell);
        write_table();  // a partial table after every cell
      }
  write_table();
  if (o.plot) plot_layer_stats(grid_dir);
  std::cout << "results: " << (grid_dir / "results.md").string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ember::experiments::run_main(argc, argv, run); }
