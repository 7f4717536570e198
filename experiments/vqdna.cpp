// `vqdna`: VQDNA's three stages (papers.md §4) on a genome classification task, for each
// tokenization in --variants:
//   onehot  every base its own token (HyenaDNA's one-hot row of the paper's Table 1)
//   vq      the ConvNeXt-1D VQ-VAE tokenizer (one EMA codebook of K codes)
//   hrq     the HRQ tokenizer (codebooks of K and 2K codes after the middle and the last encoder block)
// Stage 1 trains the tokenizer to reconstruct the bases (reconstruction accuracy, codebook usage and
// perplexity on the test split); stage 2 freezes it and pre-trains a BERT-style encoder by masked
// code modeling (25% masking, BERT's 80/10/10); stage 3 trains a linear probe (frozen encoder) and
// fine-tunes (encoder + MLP head), each from the pre-trained encoder, and reports accuracy, MCC and
// macro F1 on the test split. The run folder gets config.json, metrics.jsonl/.csv (every stage's
// training curve, tagged by variant and stage), results.md (our table, then the paper's Tables 1,
// 7 and 9 beside it) and a results table on stdout.
//
//   build/experiments/vqdna --preset quick                 # < 30 min on 2 cores
//   build/experiments/vqdna --preset quick --task genome_promoter   # real data (scripts/fetch-data.sh)
//   build/experiments/vqdna --preset paper --task genome_species    # the paper's sizes (GPU-scale)
//
// --task synthetic (the default when the genome data has not been fetched) uses
// models/vqdna/synthetic_genome.h: class-specific Markov chains with planted motifs, no download.
// Twins: models/vqdna/ (the models and stage loops), data/sequence_datasets.h (genome_* tasks),
// experiments/trainer/seq_metrics.h (MCC, F1), docs/VQDNA.md (choices and results).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <sstream>

#include "data/sequence_datasets.h"
#include "ember.h"
#include "experiments/trainer/cli.h"
#include "experiments/trainer/metrics.h"
#include "experiments/trainer/progress.h"
#include "experiments/trainer/run_dir.h"
#include "experiments/trainer/seq_metrics.h"
#include "models/vqdna/synthetic_genome.h"
#include "models/vqdna/vqdna.h"

using namespace ember;
using namespace ember::models::vqdna;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string preset = "quick";
  std::string task = "auto";  // auto: genome_promoter when fetched, else synthetic
  std::string data_dir;
  int64_t length = 128;
  int64_t train_limit = 2048;
  int64_t test_limit = 512;
  std::string size = "tiny";
  std::string variants = "onehot,vq,hrq";
  int64_t codebook_size = 0;  // 0: the size's
  int64_t batch_size = 32;
  int64_t tokenizer_steps = 300;
  double tokenizer_lr = 2e-3;
  int64_t pretrain_steps = 300;
  double pretrain_lr = 1e-3;
  double mask_ratio = 0.25;
  int64_t probe_steps = 200;
  double probe_lr = 3e-3;
  int64_t finetune_steps = 200;
  double finetune_lr = 5e-4;
  int64_t dead_code_steps = 50;
  uint64_t seed = 0;
  int64_t log_every = 25;
  std::string runs_dir = "runs";
  std::string name;
  bool overwrite = false;
  int threads = 0;
};

void apply_preset(const CLI::App& app, Options& o) {
  const auto set = [&app](const std::string& option, auto& field, auto value) {
    if (app.count(option) == 0) field = value;
  };
  if (o.preset == "quick") {
    // The defaults above: "tiny" models on 2k sequences of 128 bases, a few hundred steps a stage.
    return;
  }
  if (o.preset == "paper") {
    // papers.md §4.1: D 384, 6 + 6 blocks, K 512, BERT-base; tokenizer AdamW 1e-4 cosine; MLM 5e-4
    // cosine, 25% masking. The paper's step counts (500k MLM steps at batch 2048) are far beyond a
    // CPU; these are the same recipe at a length and budget one GPU day can hold.
    set("--size", o.size, std::string("paper"));
    set("--length", o.length, int64_t{512});
    set("--train-limit", o.train_limit, int64_t{0});
    set("--test-limit", o.test_limit, int64_t{0});
    set("--batch-size", o.batch_size, int64_t{64});
    set("--tokenizer-steps", o.tokenizer_steps, int64_t{20000});
    set("--tokenizer-lr", o.tokenizer_lr, 1e-4);
    set("--pretrain-steps", o.pretrain_steps, int64_t{50000});
    set("--pretrain-lr", o.pretrain_lr, 5e-4);
    set("--probe-steps", o.probe_steps, int64_t{5000});
    set("--finetune-steps", o.finetune_steps, int64_t{5000});
    set("--finetune-lr", o.finetune_lr, 3e-5);
    return;
  }
  EMBER_CHECK(o.preset == "none", "vqdna: unknown --preset '{}' (quick, paper, none)", o.preset);
}

std::vector<std::string> parse_list(const std::string& list, const std::vector<std::string>& valid) {
  std::vector<std::string> out;
  std::stringstream stream(list);
  std::string item;
  while (std::getline(stream, item, ','))
    if (!item.empty()) {
      EMBER_CHECK(std::find(valid.begin(), valid.end(), item) != valid.end(), "vqdna: unknown variant '{}' (valid: {})",
                  item, fmt::join(valid, ", "));
      out.push_back(item);
    }
  EMBER_CHECK(!out.empty(), "vqdna: --variants is empty (valid: {})", fmt::join(valid, ", "));
  return out;
}

// ---- data ----

struct TaskData {
  std::string name, description;
  int64_t num_classes = 0;
  std::vector<std::string> class_names;
  GenomeSplit train, test;
  std::string primary_metric = "mcc";
};

// A genome_* task's split as (N, L) base ids and (N) labels; PAD (and MASK) read as N. A limit
// takes evenly spaced examples (the splits list their classes one after another, so a prefix
// could hold one class only).
GenomeSplit gather_split(const data::DatasetPtr& dataset, int64_t limit) {
  const int64_t available = dataset->size();
  const int64_t n = limit > 0 ? std::min(limit, available) : available;
  EMBER_CHECK(n > 0, "vqdna: the split has no examples");
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < n; ++i) indices.push_back(i * available / n);
  const data::Batch batch = dataset->get_batch(indices);
  GenomeSplit split;
  Tensor bases = batch.input.to(DType::i64);
  split.bases = masked_fill(bases, ge(bases, static_cast<double>(kNumBases)), static_cast<double>(kNumBases - 1));
  split.labels = batch.target.to(DType::i64).reshape({-1});
  return split;
}

TaskData load_task(const Options& o) {
  std::string task = o.task;
  std::string note;
  if (task == "auto") {
    task = "synthetic";
    try {
      data::SequenceTaskOptions options;
      options.data_dir = o.data_dir;
      options.max_length = o.length;
      options.num_examples = 1;
      data::make_sequence_dataset("genome_promoter", data::Split::test, options);
      task = "genome_promoter";
    } catch (const std::exception& e) {
      note = " (genome_promoter not available: run scripts/fetch-data.sh for the real tasks)";
    }
  }
  TaskData out;
  out.name = task;
  if (task == "synthetic") {
    SyntheticGenomeOptions options;
    options.length = o.length;
    options.train_size = o.train_limit > 0 ? o.train_limit : 4096;
    options.test_size = o.test_limit > 0 ? o.test_limit : 1024;
    options.seed = o.seed;
    const SyntheticGenomeTask synthetic = make_synthetic_genome_task(options);
    out.train = synthetic.train;
    out.test = synthetic.test;
    out.num_classes = synthetic.num_classes;
    for (int64_t c = 0; c < out.num_classes; ++c) out.class_names.push_back(fmt::format("class {}", c));
    out.description = synthetic.description + note;
    return out;
  }
  EMBER_CHECK(task.rfind("genome_", 0) == 0, "vqdna: --task must be synthetic, auto or a genome_* task, got '{}'", task);
  data::SequenceTaskOptions options;
  options.data_dir = o.data_dir;
  options.max_length = o.length;
  options.seed = o.seed;
  const data::SequenceDatasetSplit train = data::make_sequence_dataset(task, data::Split::train, options);
  const data::SequenceDatasetSplit test = data::make_sequence_dataset(task, data::Split::test, options);
  out.train = gather_split(train.dataset, o.train_limit);
  out.test = gather_split(test.dataset, o.test_limit);
  out.num_classes = train.info.num_classes;
  out.class_names = train.info.class_names;
  out.primary_metric = train.info.primary_metric;
  out.description = fmt::format("{} ({} classes, {} bases)", task, out.num_classes, train.info.max_length);
  return out;
}

// ---- one variant through the three stages ----

struct ClassifierScores {
  double accuracy = 0.0, mcc = 0.0, f1 = 0.0;
};

struct VariantResult {
  std::string name;
  int64_t tokenizer_parameters = 0, bert_parameters = 0;
  std::optional<TokenizerEval> tokenizer;
  std::vector<int64_t> codebook_sizes;
  double mlm_loss = 0.0, mlm_accuracy = 0.0;
  ClassifierScores probe, finetune;
  double seconds = 0.0;
};

ClassifierScores score(BertClassifier& classifier, const Tensor& codes, const Tensor& labels, int64_t num_classes) {
  experiments::ConfusionMatrix confusion(num_classes);
  confusion.add(predict(classifier, codes), labels);
  return {confusion.accuracy(), confusion.mcc(), confusion.macro_f1()};
}

class StageLogger {
 public:
  StageLogger(experiments::MetricsLog& log, std::string variant, std::string stage, int64_t total, int64_t every)
      : log_(log), variant_(std::move(variant)), stage_(std::move(stage)), total_(total), every_(every) {}
  void operator()(const StepReport& report) {
    sum_ += report.loss;
    ++count_;
    if (report.step % every_ != 0 && report.step != total_) return;
    nlohmann::ordered_json record = {{"variant", variant_}, {"stage", stage_}, {"step", report.step},
                                     {"lr", report.lr}, {"loss", sum_ / static_cast<double>(count_)}};
    std::string line = fmt::format("[{} {}] step {}/{}  loss {:.4f}  lr {:.2e}", variant_, stage_, report.step, total_,
                                   sum_ / static_cast<double>(count_), report.lr);
    for (const auto& [key, value] : report.extra) {
      record[key] = value;
      line += fmt::format("  {} {:.4g}", key, value);
    }
    log_.write(record);
    std::cout << line << "\n" << std::flush;
    sum_ = 0.0;
    count_ = 0;
  }

 private:
  experiments::MetricsLog& log_;
  std::string variant_, stage_;
  int64_t total_, every_;
  double sum_ = 0.0;
  int64_t count_ = 0;
};

StageOptions stage(const Options& o, int64_t steps, double lr, uint64_t seed_offset) {
  StageOptions s;
  s.steps = steps;
  s.batch_size = o.batch_size;
  s.lr = lr;
  s.seed = o.seed + seed_offset;
  return s;
}

std::string percent_list(const std::vector<double>& values) {
  std::vector<std::string> parts;
  for (double v : values) parts.push_back(fmt::format("{:.1f}", 100.0 * v));
  return fmt::format("{}", fmt::join(parts, " / "));
}

VariantResult run_variant(const std::string& variant, const Options& o, const TaskData& task,
                          experiments::MetricsLog& log) {
  const auto start = std::chrono::steady_clock::now();
  manual_seed(o.seed);
  VQDNAConfig config = vqdna_config(o.size, variant == "onehot" ? "vq" : variant);
  if (o.codebook_size > 0) config.tokenizer.codebook_size = o.codebook_size;
  config.tokenizer.dead_code_steps = o.dead_code_steps;
  config.tokenizer.seed = o.seed;
  config.bert.max_length = std::max<int64_t>(config.bert.max_length, task.train.bases.size(1));
  VQDNA model = variant == "onehot" ? VQDNA::one_hot_baseline(config.bert) : VQDNA(config);
  VariantResult result;
  result.name = variant;
  if (!model.is_one_hot()) {
    result.tokenizer_parameters = model.tokenizer->num_parameters();
    std::cout << fmt::format("== {}: tokenizer ({} parameters) ==\n", variant, result.tokenizer_parameters);
    StageLogger logger(log, variant, "tokenizer", o.tokenizer_steps, o.log_every);
    model.train_tokenizer(task.train.bases, stage(o, o.tokenizer_steps, o.tokenizer_lr, 1), std::ref(logger));
    result.tokenizer = model.evaluate_tokenizer(task.test.bases);
    result.codebook_sizes = model.tokenizer->codebook_sizes();
    nlohmann::ordered_json record = {{"variant", variant}, {"stage", "tokenizer_eval"}, {"step", o.tokenizer_steps},
                                     {"reconstruction_accuracy", result.tokenizer->reconstruction_accuracy}};
    for (size_t level = 0; level < result.tokenizer->usage.size(); ++level) {
      record[fmt::format("usage_{}", level)] = result.tokenizer->usage[level];
      record[fmt::format("perplexity_{}", level)] = result.tokenizer->perplexity[level];
    }
    log.write(record);
    std::cout << fmt::format("[{}] test reconstruction {:.2f}%, token usage {}%, perplexity {}\n", variant,
                             100.0 * result.tokenizer->reconstruction_accuracy, percent_list(result.tokenizer->usage),
                             fmt::join(result.tokenizer->perplexity, " / "));
  }
  const Tensor train_codes = model.tokenize(task.train.bases);
  const Tensor test_codes = model.tokenize(task.test.bases);
  model.freeze_tokenizer();
  result.bert_parameters = model.bert->encoder->num_parameters();
  std::cout << fmt::format("== {}: masked pre-training (encoder {} parameters) ==\n", variant, result.bert_parameters)
            << std::flush;
  {
    StageLogger logger(log, variant, "pretrain", o.pretrain_steps, o.log_every);
    model.pretrain(train_codes, o.mask_ratio, stage(o, o.pretrain_steps, o.pretrain_lr, 2), std::ref(logger));
  }
  std::tie(result.mlm_loss, result.mlm_accuracy) = model.evaluate_pretraining(test_codes, o.mask_ratio);
  log.write({{"variant", variant}, {"stage", "pretrain_eval"}, {"step", o.pretrain_steps}, {"loss", result.mlm_loss},
             {"accuracy", result.mlm_accuracy}});
  for (const bool probe : {true, false}) {
    const std::string name = probe ? "linear_probe" : "finetune";
    auto classifier = model.classifier(task.num_classes, probe);
    StageLogger logger(log, variant, name, probe ? o.probe_steps : o.finetune_steps, o.log_every);
    train_classifier(*classifier, train_codes, task.train.labels,
                     stage(o, probe ? o.probe_steps : o.finetune_steps, probe ? o.probe_lr : o.finetune_lr, 3),
                     std::ref(logger));
    const ClassifierScores scores = score(*classifier, test_codes, task.test.labels, task.num_classes);
    (probe ? result.probe : result.finetune) = scores;
    log.write({{"variant", variant}, {"stage", name + "_eval"}, {"accuracy", scores.accuracy}, {"mcc", scores.mcc},
               {"f1", scores.f1}});
    std::cout << fmt::format("[{}] {}: test accuracy {:.2f}%, MCC {:.4f}, F1 {:.4f}\n", variant, name,
                             100.0 * scores.accuracy, scores.mcc, scores.f1);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// ---- report ----

std::string results_markdown(const Options& o, const TaskData& task, const std::vector<VariantResult>& results) {
  std::ostringstream md;
  md << "# vqdna: " << task.description << "\n\n"
     << fmt::format("size {}; {} training / {} test sequences of {} bases; batch {}; steps: tokenizer {}, masked "
                    "pre-training {} (mask ratio {:g}), linear probe {}, fine-tune {}; seed {}\n\n",
                    o.size, task.train.bases.size(0), task.test.bases.size(0), task.train.bases.size(1), o.batch_size,
                    o.tokenizer_steps, o.pretrain_steps, o.mask_ratio, o.probe_steps, o.finetune_steps, o.seed)
     << "## Ours (test split)\n\n"
     << "| tokens | codebook | tokenizer params | encoder params | reconstruction % | token usage % | perplexity | "
        "MLM acc % | probe acc % | probe MCC | probe F1 | fine-tune acc % | fine-tune MCC | fine-tune F1 | time |\n"
     << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const VariantResult& r : results) {
    const bool tok = r.tokenizer.has_value();
    std::vector<std::string> sizes;
    for (int64_t k : r.codebook_sizes) sizes.push_back(std::to_string(k));
    md << fmt::format(
        "| {} | {} | {} | {} | {} | {} | {} | {:.1f} | {:.2f} | {:.4f} | {:.4f} | {:.2f} | {:.4f} | {:.4f} | {} |\n",
        r.name, tok ? fmt::format("{}", fmt::join(sizes, " + ")) : "5 (bases)",
        tok ? std::to_string(r.tokenizer_parameters) : "—", r.bert_parameters,
        tok ? fmt::format("{:.2f}", 100.0 * r.tokenizer->reconstruction_accuracy) : "100 (identity)",
        tok ? percent_list(r.tokenizer->usage) : "100", tok ? [&] {
          std::vector<std::string> parts;
          for (double p : r.tokenizer->perplexity) parts.push_back(fmt::format("{:.1f}", p));
          return fmt::format("{}", fmt::join(parts, " / "));
        }() : "—",
        100.0 * r.mlm_accuracy, 100.0 * r.probe.accuracy, r.probe.mcc, r.probe.f1, 100.0 * r.finetune.accuracy,
        r.finetune.mcc, r.finetune.f1, experiments::format_duration(r.seconds));
  }
  md << "\nMCC is Gorodkin's R_K (the binary MCC for two classes); F1 is macro F1. Token usage: share of the codes used "
        "on the test split (per HRQ level).\n\n"
     << "## The paper (papers.md §4.3, third-party quotes [3P])\n\n"
     << "Table 1, COVID variant classification (token usage % / linear-probe F1 / fine-tune F1):\n\n"
     << "| tokens | usage % | linear-probe F1 | fine-tune F1 |\n|---|---|---|---|\n"
     << "| DNABERT 6-mer | 47 | 23.54 | 55.50 |\n| NT-2500M | 47 | 23.54 | 66.73 |\n"
     << "| HyenaDNA one-hot | 100 | 5.47 | 54.10 |\n| DNABERT-2 BPE | 99 | 36.53 | 71.02 |\n"
     << "| VQDNA VQ-VAE | 100 | 44.76 | 73.16 |\n| VQDNA HRQ | 100 | 48.87 | 74.32 |\n\n"
     << "Table 7, codebook size (reconstruction % / linear-probe F1): VQ-VAE K 128 98.2 / 42.1, 256 98.8 / 43.6, "
        "512 99.5 / 44.8, 1024 99.6 / 44.5; HRQ K 128 98.4 / 42.8, 256 99.1 / 47.7, 512 99.6 / 48.9, 1024 99.8 / 48.2.\n\n"
     << "Table 9, mask ratio (HRQ; H3 MCC / CVC F1): 15% 78.3 / 73.7, **25% 79.2 / 74.3**, 30% 78.6 / 73.9.\n\n"
     << "The paper's trend to compare: HRQ > VQ-VAE > one-hot in linear-probe score, every codebook fully used, "
        "reconstruction above 98%.\n";
  return md.str();
}

int run(int argc, char** argv) {
  CLI::App app{"VQDNA (papers.md §4): VQ tokenizer (VQ-VAE / HRQ), masked code pre-training, linear probe and "
               "fine-tuning on a genome task. Writes RUNS_DIR/vqdna/NAME/ with config.json, metrics.jsonl/.csv, results.md."};
  Options o;
  app.option_defaults()->always_capture_default();
  app.add_option("--preset", o.preset, "quick (tiny models, 2k sequences of 128 bases, < 30 min on 2 cores), paper (the paper's sizes), none");
  app.add_option("--task", o.task, "synthetic, genome_promoter, genome_species, genome_splice, or auto (genome_promoter when fetched, else synthetic)");
  app.add_option("--data-dir", o.data_dir, "the genome data cache (default $EMBER_DATA, see scripts/fetch-data.sh)");
  app.add_option("--length", o.length, "bases per sequence")->check(CLI::PositiveNumber);
  app.add_option("--train-limit", o.train_limit, "training sequences (0: all; synthetic: 4096)")->check(CLI::NonNegativeNumber);
  app.add_option("--test-limit", o.test_limit, "test sequences (0: all; synthetic: 1024)")->check(CLI::NonNegativeNumber);
  app.add_option("--size", o.size, "model sizes (" + fmt::format("{}", fmt::join(vqdna_size_names(), ", ")) + ")");
  app.add_option("--variants", o.variants, "comma-separated tokenizations: onehot, vq, hrq");
  app.add_option("--codebook-size", o.codebook_size, "K (HRQ: K and 2K); 0: the size's")->check(CLI::NonNegativeNumber);
  app.add_option("--batch-size", o.batch_size, "batch size of every stage")->check(CLI::PositiveNumber);
  app.add_option("--tokenizer-steps", o.tokenizer_steps, "stage 1 steps")->check(CLI::PositiveNumber);
  app.add_option("--tokenizer-lr", o.tokenizer_lr, "stage 1 peak lr (AdamW, cosine)")->check(CLI::PositiveNumber);
  app.add_option("--pretrain-steps", o.pretrain_steps, "stage 2 steps")->check(CLI::PositiveNumber);
  app.add_option("--pretrain-lr", o.pretrain_lr, "stage 2 peak lr")->check(CLI::PositiveNumber);
  app.add_option("--mask-ratio", o.mask_ratio, "share of positions selected for masked modeling (paper: 0.25)")->check(CLI::Range(0.01, 1.0));
  app.add_option("--probe-steps", o.probe_steps, "linear-probe steps")->check(CLI::PositiveNumber);
  app.add_option("--probe-lr", o.probe_lr, "linear-probe peak lr")->check(CLI::PositiveNumber);
  app.add_option("--finetune-steps", o.finetune_steps, "fine-tuning steps")->check(CLI::PositiveNumber);
  app.add_option("--finetune-lr", o.finetune_lr, "fine-tuning peak lr")->check(CLI::PositiveNumber);
  app.add_option("--dead-code-steps", o.dead_code_steps, "restart a code unused for this many tokenizer steps (0: never)")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o.seed, "seed of weights, batches, masking and the synthetic task");
  app.add_option("--log-every", o.log_every, "a metrics record every N steps")->check(CLI::PositiveNumber);
  app.add_option("--runs-dir", o.runs_dir, "where run folders go");
  app.add_option("--name", o.name, "run name (default: a timestamp)");
  app.add_flag("--overwrite", o.overwrite, "replace an existing run folder of the same name");
  app.add_option("--threads", o.threads, "CPU threads (0: the engine's default)")->check(CLI::NonNegativeNumber);
  experiments::use_experiment_cli_conventions(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  apply_preset(app, o);
  const std::vector<std::string> variants = parse_list(o.variants, {"onehot", "vq", "hrq"});
  vqdna_config(o.size, "vq");  // a bad --size fails before any data is read
  if (o.threads > 0) set_num_threads(o.threads);

  const TaskData task = load_task(o);
  const experiments::RunDir run = experiments::RunDir::create({o.runs_dir, "vqdna", o.name, o.overwrite});
  nlohmann::ordered_json config;
  config["experiment"] = "vqdna";
  config["preset"] = o.preset;
  config["task"] = {{"name", task.name}, {"description", task.description}, {"classes", task.num_classes},
                    {"train_sequences", task.train.bases.size(0)}, {"test_sequences", task.test.bases.size(0)},
                    {"length", task.train.bases.size(1)}};
  config["size"] = o.size;
  config["variants"] = variants;
  config["codebook_size"] = o.codebook_size;
  config["batch_size"] = o.batch_size;
  config["stages"] = {{"tokenizer", {{"steps", o.tokenizer_steps}, {"lr", o.tokenizer_lr}, {"dead_code_steps", o.dead_code_steps}}},
                      {"pretrain", {{"steps", o.pretrain_steps}, {"lr", o.pretrain_lr}, {"mask_ratio", o.mask_ratio}}},
                      {"linear_probe", {{"steps", o.probe_steps}, {"lr", o.probe_lr}}},
                      {"finetune", {{"steps", o.finetune_steps}, {"lr", o.finetune_lr}}},
                      {"optimizer", "adamw, weight decay 0.05, 5% linear warm-up then cosine, clip 1.0"}};
  config["seed"] = o.seed;
  config["threads"] = num_threads();
  run.write_config(config);
  std::cout << "run folder: " << run.path().string() << "\ndata: " << task.description << "; "
            << task.train.bases.size(0) << " training / " << task.test.bases.size(0) << " test sequences\n" << std::flush;

  experiments::MetricsLog log(run.path(), -1,
                              {"variant", "stage", "step", "lr", "loss", "reconstruction_accuracy", "usage_0", "usage_1",
                               "perplexity_0", "perplexity_1", "accuracy", "mcc", "f1"});
  std::vector<VariantResult> results;
  for (const std::string& variant : variants) {
    results.push_back(run_variant(variant, o, task, log));
    experiments::write_file_atomically(run.file("results.md"), results_markdown(o, task, results));
  }
  std::cout << "\n" << results_markdown(o, task, results) << "\nresults: " << run.file("results.md").string()
            << "\nrun folder: " << run.path().string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ember::experiments::run_main(argc, argv, run); }
