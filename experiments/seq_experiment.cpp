// The method-vs-baselines comparison shared by the chela and longvq binaries. See
// experiments/seq_experiment.h.
#include "experiments/seq_experiment.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "data/dataloader.h"
#include "data/sequence_datasets.h"
#include "ember.h"
#include "experiments/trainer/cli.h"
#include "experiments/trainer/progress.h"
#include "experiments/trainer/run_dir.h"
#include "experiments/trainer/seq_metrics.h"
#include "experiments/trainer/trainer.h"
#include "models/seq/seq_zoo.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace ember::experiments {

namespace fs = std::filesystem;
using models::seq::SeqModelConfig;

namespace {

struct Options {
  std::string preset = "quick";
  std::string tasks = "listops,seq_fmnist";
  std::string models;  // default: the method and the baselines
  int64_t max_length = 0;     // variable-length tasks (listops, text): L; 0 = the task's default
  int64_t train_limit = 0;    // examples per split (0: the task's default)
  int64_t test_limit = 0;
  std::string text_file;      // text_lm: the corpus instead of dict-gcide
  SeqModelConfig model;       // widths of the method; the baselines get d_model for the same budget
  int64_t budget = 0;         // parameter budget (0: the method's count at --d-model)
  double lr = 1e-3;
  double weight_decay = 0.01;
  double warmup_epochs = 0.1;
  double clip_grad = 1.0;
  int64_t epochs = 2;
  int64_t batch_size = 32;
  uint64_t seed = 0;
  int workers = 1;
  int64_t max_steps = 0;
  int64_t log_every = 20;
  std::string runs_dir = "runs";
  std::string name;
  bool overwrite = false;
  int threads = 0;
  bool plot = true;
};

void apply_preset(const CLI::App& app, Options& o, const std::string& binary) {
  const auto set = [&app](const std::string& option, auto& field, auto value) {
    if (app.count(option) == 0) field = value;
  };
  if (o.preset == "quick") {
    // ≤ 30 minutes on 2 cores for three models on both tasks: short ListOps (L 128), 784-pixel
    // sequential Fashion-MNIST, 2 blocks of width 32, 1000 training / 500 test examples, 2 epochs.
    set("--tasks", o.tasks, std::string("listops,seq_fmnist"));
    set("--max-length", o.max_length, int64_t{128});
    set("--train-limit", o.train_limit, int64_t{1000});
    set("--test-limit", o.test_limit, int64_t{500});
    set("--d-model", o.model.d_model, int64_t{32});
    set("--depth", o.model.depth, int64_t{2});
    set("--epochs", o.epochs, int64_t{2});
    set("--lr", o.lr, 3e-3);
  } else if (o.preset == "quick_lm") {
    // A few minutes on 2 cores for three models: byte-level LM on dict-gcide, windows of 256 bytes,
    // 1024 training windows (256 KiB spread over the training 90 %) and 128 held-out test windows,
    // 2 blocks of width 32, 1 epoch (32 steps of 32 windows).
    set("--tasks", o.tasks, std::string("text_lm"));
    set("--max-length", o.max_length, int64_t{256});
    set("--train-limit", o.train_limit, int64_t{1024});
    set("--test-limit", o.test_limit, int64_t{128});
    set("--d-model", o.model.d_model, int64_t{32});
    set("--depth", o.model.depth, int64_t{2});
    set("--epochs", o.epochs, int64_t{1});
    set("--lr", o.lr, 3e-3);
    set("--log-every", o.log_every, int64_t{4});  // 32 steps: enough points for the loss curves
  } else {
    EMBER_CHECK(o.preset == "none", "{}: unknown --preset '{}' (quick, quick_lm, none)", binary, o.preset);
  }
}

std::vector<std::string> split_list(const std::string& list, const std::vector<std::string>& known,
                                    const std::string& what, const std::string& binary) {
  std::vector<std::string> out;
  std::stringstream stream(list);
  std::string item;
  while (std::getline(stream, item, ','))
    if (!item.empty()) {
      EMBER_CHECK(std::find(known.begin(), known.end(), item) != known.end(), "{}: unknown {} '{}' (known: {})",
                  binary, what, item, fmt::join(known, ", "));
      out.push_back(item);
    }
  EMBER_CHECK(!out.empty(), "{}: no {} given (known: {})", binary, what, fmt::join(known, ", "));
  return out;
}

// Image-like tasks have a fixed length; --max-length applies to the others.
bool has_fixed_length(const std::string& task) {
  return task == "seq_fmnist" || task.rfind("pathfinder", 0) == 0 || task.rfind("pathx", 0) == 0;
}

data::SequenceTaskOptions task_options(const std::string& task, const Options& o, bool train) {
  data::SequenceTaskOptions options;
  if (!has_fixed_length(task)) options.max_length = o.max_length;
  options.num_examples = train ? o.train_limit : o.test_limit;
  options.text_file = o.text_file;
  return options;
}

struct ModelResult {
  std::string task, model;
  bool language_model = false;  // byte LM: top-1 is next-byte accuracy, the loss is nats per byte
  int64_t d_model = 0, parameters = 0, steps = 0;
  double final_top1 = 0.0, best_top1 = 0.0, seconds = 0.0;
  double final_loss = 0.0;      // mean test cross-entropy per row (Note [Rows] in trainer.h)
  int64_t best_epoch = 0;
  double reparameterized_top1 = -1.0;  // CHELA: test top-1 with the merged kernels
  double reparameterized_loss = -1.0;
};

ModelResult train_model(const std::string& task, const std::string& model_name, const SeqModelConfig& config,
                        const Options& o, const fs::path& run_path, const data::DatasetPtr& train_set,
                        const data::DatasetPtr& test_set) {
  ModelResult result{task, model_name, config.task == "lm", config.d_model};
  manual_seed(o.seed);
  auto model = models::seq::create_seq_model(model_name, config);
  result.parameters = model->num_parameters();
  auto optimizer = optim::make_optimizer("adamw", optim::weight_decay_groups(model->named_parameters(), o.weight_decay),
                                         {{"lr", o.lr}, {"beta2", 0.98}});
  data::DataLoader train(train_set, {.batch_size = o.batch_size, .shuffle = true, .seed = o.seed, .drop_last = true,
                                     .num_workers = o.workers});
  data::DataLoader test(test_set, {.batch_size = o.batch_size, .num_workers = o.workers});
  const int64_t steps_per_epoch = train.num_batches();
  EMBER_CHECK(steps_per_epoch > 0, "{}: {} has fewer training examples ({}) than one batch ({})", model_name, task,
              train_set->size(), o.batch_size);
  optim::ScheduleOptions schedule;
  schedule.kind = "cosine";
  schedule.warmup_steps = static_cast<int64_t>(o.warmup_epochs * static_cast<double>(steps_per_epoch));
  schedule.warmup = schedule.warmup_steps > 0 ? "linear" : "none";
  int64_t total = o.epochs * steps_per_epoch;
  if (o.max_steps > 0) total = std::min(total, o.max_steps);
  schedule.total_steps = std::max<int64_t>(1, total - schedule.warmup_steps);
  optim::LRScheduler scheduler(*optimizer, optim::Schedule(schedule));

  TrainerConfig trainer_config;
  trainer_config.model_description = fmt::format("{}(d_model={}, depth={}, {} parameters)", model_name,
                                                 config.d_model, config.depth, result.parameters);
  trainer_config.epochs = o.epochs;
  trainer_config.max_steps = o.max_steps;
  trainer_config.clip_grad_norm = o.clip_grad;
  trainer_config.log_every = o.log_every;
  trainer_config.tty = false;
  Trainer trainer(trainer_config, model, *optimizer, train, &test);
  trainer.set_scheduler(&scheduler);
  const RunDir run = RunDir::create({run_path.string(), task, model_name, true});
  trainer.attach_run(run);
  const FitResult fit = trainer.fit();
  result.steps = fit.steps;
  result.seconds = fit.train_seconds;
  result.final_top1 = fit.last_eval ? fit.last_eval->top1 : 0.0;
  result.final_loss = fit.last_eval ? fit.last_eval->loss : 0.0;
  result.best_top1 = std::max(fit.best_top1, result.final_top1);
  result.best_epoch = fit.best_epoch;
  if (model_name == "chela") {
    model->reparameterize();  // Note [Structural re-parameterization]: the same predictions, one kernel
    const EvalResult merged = trainer.evaluate(test);
    result.reparameterized_top1 = merged.top1;
    result.reparameterized_loss = merged.loss;
  }
  return result;
}

std::string percent(double value) { return value < 0.0 ? "—" : fmt::format("{:.2f}", 100.0 * value); }
std::string bits(double nats) { return nats < 0.0 ? "—" : fmt::format("{:.3f}", bits_per_byte(nats)); }

std::string paper_value(const SeqExperimentSpec& spec, const ModelResult& r) {
  for (const PaperNumber& number : spec.paper)
    if (number.task == r.task && number.model == r.model) return number.value;
  return "—";
}

// The classification rows (test accuracy) or the byte-LM rows (bits per byte on the held-out test
// split, per-byte perplexity and next-byte accuracy); empty when there are none of that kind.
std::string results_table(const std::vector<ModelResult>& all, const SeqExperimentSpec& spec, bool language_model) {
  std::vector<ModelResult> results;
  for (const ModelResult& r : all)
    if (r.language_model == language_model) results.push_back(r);
  if (results.empty()) return "";
  std::ostringstream md;
  const bool reparameterized = std::any_of(results.begin(), results.end(),
                                           [](const ModelResult& r) { return r.reparameterized_top1 >= 0.0; });
  const std::string merged_column = reparameterized ? (language_model ? "re-param. bits/byte | " : "re-param. acc % | ") : "";
  if (language_model)
    md << "| task | model | d_model | parameters | test bits/byte | test perplexity | next-byte acc % | " << merged_column
       << "steps | train time | paper |\n|---|---|---|---|---|---|---|" << (reparameterized ? "---|" : "") << "---|---|---|\n";
  else
    md << "| task | model | d_model | parameters | final test acc % | best test acc % | " << merged_column
       << "steps | train time | paper % |\n|---|---|---|---|---|---|" << (reparameterized ? "---|" : "") << "---|---|---|\n";
  for (const ModelResult& r : results) {
    md << fmt::format("| {} | {} | {} | {} | ", r.task, r.model, r.d_model, r.parameters);
    if (language_model)
      md << fmt::format("{} | {:.2f} | {} | ", bits(r.final_loss), perplexity(r.final_loss), percent(r.final_top1));
    else
      md << fmt::format("{} | {} | ", percent(r.final_top1), percent(r.best_top1));
    if (reparameterized)
      md << (language_model ? bits(r.reparameterized_loss) : percent(r.reparameterized_top1)) << " | ";
    md << fmt::format("{} | {} | {} |\n", r.steps, format_duration(r.seconds), paper_value(spec, r));
  }
  return md.str();
}

std::string results_tables(const std::vector<ModelResult>& results, const SeqExperimentSpec& spec) {
  const std::string classification = results_table(results, spec, false), lm = results_table(results, spec, true);
  return classification + (!classification.empty() && !lm.empty() ? "\n" : "") + lm;
}

std::string paper_table(const SeqExperimentSpec& spec) {
  std::ostringstream md;
  md << "| task | model | paper % | source |\n|---|---|---|---|\n";
  for (const PaperNumber& number : spec.paper)
    md << fmt::format("| {} | {} | {} | {} |\n", number.task, number.model, number.value, number.source);
  return md.str();
}

}  // namespace

SeqExperimentSpec paper_experiment_spec(const std::string& method, const std::string& description,
                                        const std::string& method_paper) {
  SeqExperimentSpec spec;
  spec.binary = method;
  spec.method = method;
  spec.description = description;
  // Our ListOps is shorter and our image task is Fashion-MNIST, not LRA's grey CIFAR-10: the rows
  // are for orientation, not for equality.
  const std::string not_readable = method_paper + ": table not readable";
  spec.paper = {
      {"listops", "transformer", "36.37", "LRA (Tay et al. 2021), ListOps L ≤ 2k [M]"},
      {"listops", "mega", "63.14", "MEGA (Ma et al. 2023), ListOps L ≤ 2k [M]"},
      {"listops", method, "[NF]", not_readable},
      {"lra_image", "transformer", "42.44", "LRA Image = sequential grey CIFAR-10, L 1024 [M]"},
      {"lra_image", "mega", "90.44", "MEGA, LRA Image [M]"},
      {"lra_image", method, "[NF]", not_readable},
      // Neither paper's language-modelling numbers could be read (CHELA: WikiText-103 perplexity;
      // LongVQ: autoregressive LM), and none is on dict-gcide bytes: no row to compare with.
      {"text_lm", method, "[NF]", method_paper + ": language-modelling table not readable; not on dict-gcide"},
  };
  spec.paper_note =
      "Paper numbers: [M] = quoted from memory in papers.md, [NF] = not found. Our quick presets train tiny models "
      "for minutes (short ListOps and sequential Fashion-MNIST; byte LM on 256 KiB of dict-gcide), so compare the "
      "ranking, not the values.";
  return spec;
}

int run_seq_experiment(int argc, char** argv, const SeqExperimentSpec& spec) {
  CLI::App app{spec.description + " Writes RUNS_DIR/" + spec.binary + "/NAME/ with results.md, config.json and, per "
               "task and model, metrics and checkpoints."};
  Options o;
  SeqModelConfig& m = o.model;
  m.dropout = 0.0;  // short runs do not overfit (and attention dropout draws its mask in both passes)
  app.option_defaults()->always_capture_default();
  app.add_option("--preset", o.preset, "quick (ListOps L 128 + sequential Fashion-MNIST, width 32, 1000 examples, "
                 "2 epochs), quick_lm (byte LM on dict-gcide, L 256, width 32, 1024 windows, 1 epoch), none");
  app.add_option("--tasks", o.tasks, "comma-separated tasks; text_lm is byte-level language modelling (" +
                                         fmt::format("{}", fmt::join(data::sequence_task_names(), ", ")) + ")");
  app.add_option("--models", o.models, "comma-separated models (default: " + spec.method + "," +
                                           fmt::format("{}", fmt::join(spec.baselines, ",")) + ")");
  app.add_option("--max-length", o.max_length, "sequence length of variable-length tasks (0: the task's default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--train-limit", o.train_limit, "training examples (0: the task's default)")->check(CLI::NonNegativeNumber);
  app.add_option("--test-limit", o.test_limit, "test examples (0: the task's default)")->check(CLI::NonNegativeNumber);
  app.add_option("--text-file", o.text_file, "text_lm: train on this file's bytes (plain or gzip; split 90/5/5 % "
                 "train/val/test) instead of dict-gcide")->check(CLI::ExistingFile);
  app.add_option("--d-model", m.d_model, "width of " + spec.method + " (the baselines are matched to its parameter count)")
      ->check(CLI::PositiveNumber);
  app.add_option("--budget", o.budget, "parameter budget every model is matched to (0: " + spec.method + "'s count)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--depth", m.depth, "blocks")->check(CLI::PositiveNumber);
  app.add_option("--ffn-ratio", m.ffn_ratio, "feed-forward hidden width / d_model (0: none)")->check(CLI::NonNegativeNumber);
  app.add_option("--hidden-ratio", m.hidden_ratio, "MEGA-family value width / d_model")->check(CLI::PositiveNumber);
  app.add_option("--z-dim", m.z_dim, "MEGA-family query/key width")->check(CLI::PositiveNumber);
  app.add_option("--n-dim", m.n_dim, "EMA dimension (MEGA, LongVQ; even)")->check(CLI::PositiveNumber);
  app.add_option("--heads", m.num_heads, "Transformer heads")->check(CLI::PositiveNumber);
  app.add_option("--dropout", m.dropout, "dropout")->check(CLI::Range(0.0, 0.99));
  app.add_option("--short-kernel", m.short_kernel, "CHELA: short convolution taps")->check(CLI::PositiveNumber);
  app.add_option("--long-base", m.long_base, "CHELA: taps per level of the long kernel")->check(CLI::PositiveNumber);
  app.add_option("--chunk-size", m.chunk_size, "CHELA: linear attention tile")->check(CLI::PositiveNumber);
  app.add_option("--attn-heads", m.attn_heads, "CHELA: linear attention heads")->check(CLI::PositiveNumber);
  app.add_option("--codebook-size", m.codebook_size, "LongVQ: codewords")->check(CLI::PositiveNumber);
  app.add_option("--window", m.window, "LongVQ: local window")->check(CLI::NonNegativeNumber);
  app.add_option("--lr", o.lr, "peak AdamW learning rate (cosine schedule)")->check(CLI::NonNegativeNumber);
  app.add_option("--weight-decay", o.weight_decay, "AdamW weight decay (not on norms and biases)")->check(CLI::NonNegativeNumber);
  app.add_option("--warmup-epochs", o.warmup_epochs, "linear LR warm-up in epochs")->check(CLI::NonNegativeNumber);
  app.add_option("--clip-grad", o.clip_grad, "clip the gradients' global L2 norm (0: off)")->check(CLI::NonNegativeNumber);
  app.add_option("--epochs", o.epochs, "epochs")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", o.batch_size, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--seed", o.seed, "seed of weights and shuffling (shared by every model)");
  app.add_option("--workers", o.workers, "data-loader worker threads")->check(CLI::Range(0, 64));
  app.add_option("--max-steps", o.max_steps, "stop every model after N steps (smoke runs)")->check(CLI::NonNegativeNumber);
  app.add_option("--log-every", o.log_every, "a metrics record every N steps")->check(CLI::PositiveNumber);
  app.add_option("--runs-dir", o.runs_dir, "where run folders go");
  app.add_option("--name", o.name, "run name (default: a timestamp)");
  app.add_flag("--overwrite", o.overwrite, "replace an existing run folder of the same name");
  app.add_option("--threads", o.threads, "CPU threads (0: the engine's default)")->check(CLI::NonNegativeNumber);
  app.add_flag("--plot,!--no-plot", o.plot, "make per-task comparison plots with scripts/plot_compare.py");
  use_experiment_cli_conventions(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  apply_preset(app, o, spec.binary);
  if (o.threads > 0) set_num_threads(o.threads);
  std::vector<std::string> model_names = {spec.method};
  model_names.insert(model_names.end(), spec.baselines.begin(), spec.baselines.end());
  if (!o.models.empty()) model_names = split_list(o.models, models::seq::seq_model_names(), "model", spec.binary);
  const std::vector<std::string> tasks = split_list(o.tasks, data::sequence_task_names(), "task", spec.binary);

  // Every task's metadata first: a bad task or model fails before anything trains.
  std::vector<std::pair<std::string, SeqModelConfig>> task_configs;
  for (const std::string& task : tasks) {
    const data::SequenceTaskInfo info = data::sequence_task_info(task, task_options(task, o, true));
    SeqModelConfig config = o.model;
    config.vocab_size = info.vocab_size;
    config.num_classes = info.num_classes;
    if (info.kind == data::SequenceTaskKind::language_model) {
      // Next-byte logits at every position from causal blocks (create_seq_model forces causal);
      // LM windows are never padded, so no padding mask.
      config.task = "lm";
      config.pad_id = -1;
    } else {
      config.pad_id = info.pad_id;
    }
    config.max_len = info.max_length;
    task_configs.emplace_back(task, config);
  }
  const RunDir run = RunDir::create({o.runs_dir, spec.binary, o.name, o.overwrite});
  nlohmann::ordered_json config_json;
  config_json["experiment"] = spec.binary;
  config_json["preset"] = o.preset;
  config_json["tasks"] = tasks;
  config_json["models"] = model_names;
  config_json["widths"] = {{"d_model", m.d_model}, {"depth", m.depth}, {"ffn_ratio", m.ffn_ratio},
                           {"hidden_ratio", m.hidden_ratio}, {"z_dim", m.z_dim}, {"n_dim", m.n_dim},
                           {"heads", m.num_heads}, {"short_kernel", m.short_kernel}, {"long_base", m.long_base},
                           {"chunk_size", m.chunk_size}, {"attn_heads", m.attn_heads},
                           {"codebook_size", m.codebook_size}, {"window", m.window}, {"dropout", m.dropout}};
  config_json["data"] = {{"max_length", o.max_length}, {"train_limit", o.train_limit}, {"test_limit", o.test_limit},
                         {"text_file", o.text_file}};
  config_json["optimizer"] = {{"name", "adamw"}, {"lr", o.lr}, {"betas", {0.9, 0.98}}, {"weight_decay", o.weight_decay},
                              {"schedule", "cosine"}, {"warmup_epochs", o.warmup_epochs}, {"clip_grad", o.clip_grad}};
  config_json["epochs"] = o.epochs;
  config_json["batch_size"] = o.batch_size;
  config_json["seed"] = o.seed;
  config_json["max_steps"] = o.max_steps;
  config_json["threads"] = num_threads();
  run.write_config(config_json);
  std::cout << "run folder: " << run.path().string() << "\n" << std::flush;

  std::vector<ModelResult> results;
  const auto write_results = [&] {
    std::ostringstream md;
    md << "# " << spec.binary << ": " << spec.description << "\n\n"
       << fmt::format("preset {}; AdamW lr {:g} (betas 0.9, 0.98), weight decay {:g}, cosine, {} epochs, batch {}, "
                      "clip {:g}, dropout {:g}; every model matched to the same parameter budget.\n\n",
                      o.preset, o.lr, o.weight_decay, o.epochs, o.batch_size, o.clip_grad, m.dropout)
       << "## Ours\n\n" << results_tables(results, spec) << "\n## The papers\n\n" << paper_table(spec) << "\n"
       << spec.paper_note << "\n";
    write_file_atomically(run.file("results.md"), md.str());
  };
  for (const auto& [task, base] : task_configs) {
    const auto train_split = data::make_sequence_dataset(task, data::Split::train, task_options(task, o, true));
    const auto test_split = data::make_sequence_dataset(task, data::Split::test, task_options(task, o, false));
    const int64_t budget =
        o.budget > 0 ? o.budget : models::seq::count_seq_parameters(spec.method, base);
    const std::string kind = base.task == "lm" ? "byte LM (causal models, bits per byte on the test split)"
                                               : fmt::format("{} classes", train_split.info.num_classes);
    std::cout << fmt::format("== {}: L {}, {}, {} train / {} test examples; budget {} parameters ==\n", task,
                             train_split.info.max_length, kind, train_split.dataset->size(), test_split.dataset->size(),
                             budget) << std::flush;
    for (const std::string& model_name : model_names) {
      const SeqModelConfig config = model_name == spec.method && o.budget == 0
                                        ? base
                                        : models::seq::match_parameter_budget(model_name, base, budget);
      std::cout << fmt::format("-- {} (d_model {}) --\n", model_name, config.d_model) << std::flush;
      results.push_back(train_model(task, model_name, config, o, run.path(), train_split.dataset, test_split.dataset));
      write_results();  // a partial table after every model
    }
    if (o.plot) run_plot_script(fs::path(EMBER_SOURCE_ROOT) / "scripts" / "plot_compare.py", {(run.path() / task).string()});
  }
  std::cout << "\n" << results_tables(results, spec) << "\nThe papers:\n" << paper_table(spec) << spec.paper_note
            << "\n\nresults: " << run.file("results.md").string() << "\n";
  return 0;
}

}  // namespace ember::experiments
