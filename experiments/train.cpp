// `train`: the general classifier-training binary. Model, dataset, optimizer and schedule are chosen
// by name (models/zoo.h, data/datasets.h, optim/optimizer.h, optim/schedule.h); the loop, run folder,
// metrics, checkpoints and resume are the shared trainer's (experiments/trainer/).
//
//   build/experiments/train --model resnet8 --dataset fashion_mnist --epochs 3
//   build/experiments/train --config my.toml          # any option as `key = value` (TOML or INI)
//   build/experiments/train --resume runs/train/NAME  # continue a killed run exactly
//   build/experiments/train --quick                   # a seconds-long smoke run (CI)
//
// On --resume the run's config.json supplies every setting not given on the command line, so the
// same command line is not needed twice. Errors (unknown names, bad values, an existing run folder,
// a checkpoint of another model) print one line starting with "error:" and exit non-zero (1, or
// CLI11's code for a command-line error).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <numeric>

#include "data/dataloader.h"
#include "data/datasets.h"
#include "data/transforms.h"
#include "ember.h"
#include "experiments/trainer/cli.h"
#include "experiments/trainer/checkpoint.h"
#include "experiments/trainer/run_dir.h"
#include "experiments/trainer/trainer.h"
#include "models/zoo.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

using namespace ember;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string model = "resnet8";
  int64_t width = -1;
  std::string dataset = data::kDefaultImageDataset;
  std::string data_dir;
  int64_t train_limit = 0;  // 0 = the whole split
  int64_t test_limit = 0;
  int64_t image_size = 0;  // 0 = the dataset's
  int64_t channels = 0;
  bool augment = true;
  int64_t crop_padding = 2;
  std::string optimizer = "sgd";
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;
  std::string schedule = "cosine";
  double warmup_epochs = 0.0;
  int64_t epochs = 3;
  int64_t batch_size = 128;
  uint64_t seed = 0;
  int workers = 1;
  double label_smoothing = 0.0;
  double clip_grad = 0.0;
  int64_t eval_every = 1;
  int64_t log_every = 50;
  int64_t checkpoint_every = 0;
  std::string experiment = "train";
  std::string name;
  std::string runs_dir = "runs";
  std::string resume;
  bool overwrite = false;
  int64_t max_steps = 0;
  bool quick = false;
  int threads = 0;
  bool plot = true;
};

// Options a resumed run never takes from the earlier run's config.json.
bool is_per_invocation(const std::string& key) {
  return key == "resume" || key == "overwrite" || key == "config" || key == "threads" || key == "name" ||
         key == "runs-dir" || key == "experiment" || key == "plot" || key == "help" || key == "max-steps";
}

// A number option's check: a one-line message that names the bad value ("--lr: 'abc' is not a
// number", "--epochs: must be >= 1, got 0"). CLI11's own checks print the double range in full.
CLI::Validator at_least(double minimum) {
  return CLI::Validator(
      [minimum](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end == nullptr || *end != '\0') return "'" + text + "' is not a number";
        if (!(value >= minimum)) return fmt::format("must be >= {:g}, got {}", minimum, text);
        return "";
      },
      fmt::format(">= {:g}", minimum));
}

// The flags' variables by option name, so config.json records their effective values (CLI11
// keeps no default for flags).
using FlagValues = std::map<std::string, const bool*>;

void add_flag(CLI::App& app, FlagValues& flags, const std::string& names, bool& variable, const std::string& help) {
  CLI::Option* option = app.add_flag(names, variable, help);
  flags[option->get_single_name()] = &variable;
}

FlagValues add_options(CLI::App& app, Options& o) {
  FlagValues flags;
  app.set_config("--config", "", "read options from a TOML or INI file (key = value, keys as the long options)");
  app.option_defaults()->always_capture_default();
  app.add_option("--model", o.model, "model name (" + fmt::format("{}", fmt::join(models::model_names(), ", ")) + ")");
  app.add_option("--width", o.width, "first-stage width of ResNets / hidden width of MLPs (-1: the model's default)");
  app.add_option("--dataset", o.dataset, "dataset name (" + fmt::format("{}", fmt::join(data::image_dataset_names(), ", ")) + ")");
  app.add_option("--data-dir", o.data_dir, "folder holding the dataset's files (default: $EMBER_DATA_DIR, else the dataset's standard place)");
  app.add_option("--train-limit", o.train_limit, "use only the first N training examples (0: all)")->check(at_least(0));
  app.add_option("--test-limit", o.test_limit, "use only the first N test examples (0: all)")->check(at_least(0));
  app.add_option("--image-size", o.image_size, "resize images to this height = width (0: the dataset's)")->check(at_least(0));
  app.add_option("--channels", o.channels, "model input channels; 3 repeats a grey dataset's channel (0: the dataset's)")->check(at_least(0));
  add_flag(app, flags, "--augment,!--no-augment", o.augment, "random crop + horizontal flip (not for mnist) on training batches");
  app.add_option("--crop-padding", o.crop_padding, "padding of the random crop, pixels")->check(at_least(0));
  app.add_option("--optimizer", o.optimizer, "optimizer (" + fmt::format("{}", fmt::join(optim::optimizer_names(), ", ")) + ")");
  app.add_option("--lr", o.lr, "peak learning rate")->check(at_least(0));
  app.add_option("--momentum", o.momentum, "SGD momentum")->check(CLI::Range(0.0, 1.0));
  add_flag(app, flags, "--nesterov,!--no-nesterov", o.nesterov, "Nesterov momentum (SGD)");
  app.add_option("--weight-decay", o.weight_decay, "weight decay (not applied to norms and biases)")->check(at_least(0));
  app.add_option("--schedule", o.schedule, "LR schedule per iteration: constant, cosine, step, multistep, exponential, polynomial, onecycle");
  app.add_option("--warmup-epochs", o.warmup_epochs, "linear LR warm-up, in epochs (fractions allowed)")->check(at_least(0));
  app.add_option("--epochs", o.epochs, "number of epochs")->check(at_least(1));
  app.add_option("--batch-size", o.batch_size, "batch size")->check(at_least(1));
  app.add_option("--seed", o.seed, "seed of weights, shuffling and augmentation");
  app.add_option("--workers", o.workers, "data-loader worker threads (0: load on the training thread)")->check(CLI::Range(0, 64));
  app.add_option("--label-smoothing", o.label_smoothing, "label smoothing of the cross-entropy")->check(CLI::Range(0.0, 0.999));
  app.add_option("--clip-grad", o.clip_grad, "clip the gradients' global L2 norm to this (0: off)")->check(at_least(0));
  app.add_option("--eval-every", o.eval_every, "evaluate on the test split every N epochs (and after the last)")->check(at_least(0));
  app.add_option("--log-every", o.log_every, "a metrics record / log line every N steps")->check(at_least(1));
  app.add_option("--checkpoint-every", o.checkpoint_every, "also save checkpoint/last every N steps (0: at epoch ends)")->check(at_least(0));
  app.add_option("--experiment", o.experiment, "experiment name: the run folder is RUNS_DIR/EXPERIMENT/NAME");
  app.add_option("--name", o.name, "run name (default: a timestamp)");
  app.add_option("--runs-dir", o.runs_dir, "where run folders go");
  app.add_option("--resume", o.resume, "continue the run in this folder from its last checkpoint");
  add_flag(app, flags, "--overwrite", o.overwrite, "replace an existing run folder of the same name");
  app.add_option("--max-steps", o.max_steps, "stop after N optimizer steps in total (0: no limit)")->check(at_least(0));
  add_flag(app, flags, "--quick", o.quick, "tiny preset for smoke tests: resnet8 width 8, 1024 training / 512 test examples, 1 epoch");
  app.add_option("--threads", o.threads, "CPU threads (0: the engine's default)")->check(at_least(0));
  add_flag(app, flags, "--plot,!--no-plot", o.plot, "make loss.png / accuracy.png with scripts/plot.py at the end");
  return flags;
}

// --quick: settings for whatever the command line and --config leave unset.
const std::vector<std::string> kQuickPreset = {"--model=resnet8", "--width=8", "--train-limit=1024",
                                               "--test-limit=512", "--epochs=1", "--log-every=2",
                                               "--experiment=quick"};

// The settings of the run being resumed, as command-line arguments placed before the user's, so
// that anything given explicitly wins (CLI11 keeps the last value of an option).
std::vector<std::string> resumed_arguments(const std::string& resume_path) {
  const experiments::RunDir run = experiments::RunDir::open_existing(resume_path);
  const auto config = run.read_config();
  EMBER_CHECK(config.contains("options"), "--resume {}: its config.json has no \"options\" (not written by train)",
              resume_path);
  std::vector<std::string> args;
  for (const auto& [key, value] : config["options"].items()) {
    // An empty string is the option's default (and "--key=" would take the next argument).
    if (is_per_invocation(key) || (value.is_string() && value.get<std::string>().empty())) continue;
    args.push_back("--" + key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
  }
  return args;
}

nlohmann::ordered_json options_json(const CLI::App& app, const FlagValues& flags) {
  nlohmann::ordered_json out;
  for (const CLI::Option* option : app.get_options()) {
    const std::string key = option->get_single_name();
    if (key == "help" || key == "config") continue;
    if (auto flag = flags.find(key); flag != flags.end()) {
      out[key] = *flag->second;
      continue;
    }
    const std::string value = option->as<std::string>();
    {
      auto number = nlohmann::ordered_json::parse(value, nullptr, false);
      out[key] = !number.is_discarded() && number.is_number() ? number : nlohmann::ordered_json(value);
    }
  }
  return out;
}

data::DatasetPtr first_examples(const data::DatasetPtr& dataset, int64_t count) {
  std::vector<int64_t> indices(static_cast<size_t>(std::min(count, dataset->size())));
  std::iota(indices.begin(), indices.end(), 0);
  return std::make_shared<data::Subset>(dataset, std::move(indices));
}

int run(int argc, char** argv) {
  CLI::App app{"Train an image classifier (Ember). Every run writes RUNS_DIR/EXPERIMENT/NAME/ with config.json, "
               "metrics.jsonl/.csv, results.md, plots and checkpoint/."};
  Options o;
  const FlagValues flags = add_options(app, o);
  experiments::use_experiment_cli_conventions(app);  // one-line errors; a repeated option's last value wins

  // Precedence: the command line, then (on --resume) the run's own config.json, then --config's
  // file, then --quick's preset, then the defaults. The resumed settings go before the user's
  // arguments (CLI11 keeps an option's last value, and command-line values beat the file's); the
  // preset fills what is still unset after a first parse, which sees the file too.
  std::vector<std::string> args;
  const std::vector<std::string> user_args(argv + 1, argv + argc);
  for (size_t i = 0; i < user_args.size(); ++i) {
    std::string resume;
    if (user_args[i].rfind("--resume=", 0) == 0) resume = user_args[i].substr(9);
    else if (user_args[i] == "--resume" && i + 1 < user_args.size()) resume = user_args[i + 1];
    if (!resume.empty()) args = resumed_arguments(resume);
  }
  args.insert(args.end(), user_args.begin(), user_args.end());
  const auto parse = [&app](std::vector<std::string> arguments) {
    std::reverse(arguments.begin(), arguments.end());  // CLI11's parse(vector) takes the last first
    app.parse(arguments);
  };
  try {
    parse(args);
    if (o.quick) {
      std::vector<std::string> preset;
      for (const std::string& setting : kQuickPreset)
        if (app.count(setting.substr(0, setting.find('='))) == 0) preset.push_back(setting);
      args.insert(args.begin(), preset.begin(), preset.end());
      parse(args);
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (o.threads > 0) set_num_threads(o.threads);
  manual_seed(o.seed);

  // ---- model and optimizer first: a bad name fails before any data is read ----
  const data::ImageDatasetInfo info = data::image_dataset_info(o.dataset);
  // The model sees what the transforms make: resized to --image-size, grey repeated to --channels.
  const int64_t image_size = o.image_size > 0 ? o.image_size : info.height;
  const int64_t channels = o.channels > 0 ? o.channels : info.channels;
  EMBER_CHECK(channels == info.channels || info.channels == 1,
              "train: --channels {} does not fit {} ({} channels): a dataset's channels can only be repeated from 1; "
              "drop --channels", channels, info.name, info.channels);
  models::ModelConfig model_config;
  model_config.num_classes = info.num_classes;
  model_config.in_channels = channels;
  model_config.image_size = image_size;
  model_config.width = o.width;
  nn::ModulePtr model = models::create_model(o.model, model_config);
  const std::string model_description =
      fmt::format("{}(width={}, in_channels={}, image_size={}, classes={}, {} parameters)", o.model, o.width,
                  channels, image_size, info.num_classes, model->num_parameters());
  // --momentum / --nesterov are SGD's; the Adam family has betas instead (their defaults here).
  std::map<std::string, double> optimizer_options = {{"lr", o.lr}};
  if (CLI::detail::to_lower(o.optimizer) == "sgd") {
    optimizer_options["momentum"] = o.momentum;
    optimizer_options["nesterov"] = o.nesterov ? 1.0 : 0.0;
  }
  std::unique_ptr<optim::Optimizer> optimizer = optim::make_optimizer(
      o.optimizer, optim::weight_decay_groups(model->named_parameters(), o.weight_decay), optimizer_options);
  // ---- data ----
  const data::ImageDatasetSplit train_split = data::make_image_dataset(o.dataset, o.data_dir, /*train=*/true);
  const data::ImageDatasetSplit test_split = data::make_image_dataset(o.dataset, o.data_dir, /*train=*/false);
  data::DatasetPtr train_set = train_split.dataset, test_set = test_split.dataset;
  if (o.train_limit > 0) train_set = first_examples(train_set, o.train_limit);
  if (o.test_limit > 0) test_set = first_examples(test_set, o.test_limit);
  data::ImageTransformOptions transform_options;
  transform_options.augment = o.augment;
  transform_options.crop_padding = o.crop_padding;
  transform_options.size = image_size;
  transform_options.channels = channels;
  const data::TransformPtr train_transform = data::image_transforms(info, transform_options);
  transform_options.train = false;
  const data::TransformPtr test_transform = data::image_transforms(info, transform_options);
  data::DataLoader train_loader(train_set, {.batch_size = o.batch_size, .shuffle = true, .seed = o.seed, .drop_last = true,
                                            .num_workers = o.workers},
                                train_transform);
  data::DataLoader test_loader(test_set, {.batch_size = 256, .shuffle = false, .num_workers = o.workers}, test_transform);

  // ---- schedule ----
  const int64_t steps_per_epoch = train_loader.num_batches();
  EMBER_CHECK(steps_per_epoch > 0, "train: {} training examples make no batch of {}: lower --batch-size",
              train_loader.num_samples(), o.batch_size);
  optim::ScheduleOptions schedule;
  schedule.kind = o.schedule;
  schedule.warmup_steps = static_cast<int64_t>(o.warmup_epochs * static_cast<double>(steps_per_epoch));
  schedule.warmup = schedule.warmup_steps > 0 ? "linear" : "none";
  schedule.total_steps = std::max<int64_t>(1, o.epochs * steps_per_epoch - schedule.warmup_steps);
  optim::LRScheduler scheduler(*optimizer, optim::Schedule(schedule));

  // ---- run folder ----
  const bool resuming = !o.resume.empty();
  const experiments::RunDir run_dir =
      resuming ? experiments::RunDir::open_existing(o.resume)
               : experiments::RunDir::create({o.runs_dir, o.experiment, o.name, o.overwrite});
  if (!resuming) {
    nlohmann::ordered_json config;
    config["experiment"] = o.experiment;
    config["options"] = options_json(app, flags);
    config["model"] = {{"description", model_description}, {"parameters", model->num_parameters()}};
    config["dataset"] = {{"name", info.name}, {"train_examples", train_set->size()}, {"test_examples", test_set->size()},
                         {"channels", info.channels}, {"height", info.height}, {"width", info.width},
                         {"classes", info.num_classes}, {"mean", info.mean}, {"std", info.std},
                         {"train_transform", train_transform->describe()}, {"test_transform", test_transform->describe()}};
    config["optimizer"] = {{"name", optimizer->name()}, {"groups", optimizer->state_dict().scalars}};
    config["schedule"] = {{"options", nlohmann::json(schedule)}, {"steps_per_epoch", steps_per_epoch}, {"unit", "iteration"}};
    config["threads"] = num_threads();
    run_dir.write_config(config);
  }
  std::cout << "run folder: " << run_dir.path().string() << "\n"
            << "model: " << model_description << "\ndata: " << info.name << ", " << train_set->size()
            << " training / " << test_set->size() << " test examples; " << steps_per_epoch << " steps per epoch\n"
            << std::flush;

  // ---- train ----
  experiments::TrainerConfig trainer_config;
  trainer_config.model_description = model_description;
  trainer_config.epochs = o.epochs;
  trainer_config.max_steps = o.max_steps;
  trainer_config.label_smoothing = o.label_smoothing;
  trainer_config.clip_grad_norm = o.clip_grad;
  trainer_config.eval_every = o.eval_every;
  trainer_config.log_every = o.log_every;
  trainer_config.checkpoint_every = o.checkpoint_every;
  experiments::Trainer trainer(trainer_config, model, *optimizer, train_loader, &test_loader);
  trainer.set_scheduler(&scheduler);
  trainer.attach_run(run_dir);
  if (resuming) {
    const fs::path checkpoint = experiments::resolve_checkpoint_dir(o.resume);
    trainer.resume(checkpoint);
    std::cout << "resumed from " << checkpoint.string() << " at step " << trainer.step() << "\n";
  }
  const experiments::FitResult result = trainer.fit();

  // ---- report ----
  std::vector<std::pair<std::string, std::string>> rows = {
      {"model", model_description}, {"dataset", fmt::format("{} ({} train / {} test)", info.name, train_set->size(), test_set->size())},
      {"optimizer", fmt::format("{} lr {:g}, weight decay {:g}", optimizer->name(), o.lr, o.weight_decay)},
      {"schedule", fmt::format("{} over {} steps after {} warm-up steps ({} steps per epoch)", schedule.kind,
                               schedule.total_steps, schedule.warmup_steps, steps_per_epoch)},
      {"epochs completed", std::to_string(result.epochs_completed)}, {"steps", std::to_string(result.steps)}};
  if (result.last_eval) {
    rows.push_back({"test top-1", fmt::format("{:.2f}%", 100.0 * result.last_eval->top1)});
    rows.push_back({"test top-5", fmt::format("{:.2f}%", 100.0 * result.last_eval->top5)});
    rows.push_back({"test loss", fmt::format("{:.4f}", result.last_eval->loss)});
  }
  if (result.best_epoch > 0)
    rows.push_back({"best test top-1", fmt::format("{:.2f}% (epoch {})", 100.0 * result.best_top1, result.best_epoch)});
  rows.push_back({"training time (steps, all resumes)", experiments::format_duration(result.train_seconds)});
  rows.push_back({"wall time (this invocation)", experiments::format_duration(result.wall_seconds)});
  rows.push_back({"threads", std::to_string(num_threads())});
  run_dir.write_results(fmt::format("{}: {} on {}", o.experiment, o.model, info.name), rows);
  if (o.plot)  // EMBER_SOURCE_ROOT (from meson): the source tree this binary was built from
    experiments::run_plot_script(fs::path(EMBER_SOURCE_ROOT) / "scripts" / "plot.py", {run_dir.path().string()});
  std::cout << "results: " << run_dir.file("results.md").string() << "\nrun folder: " << run_dir.path().string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ember::experiments::run_main(argc, argv, run); }
