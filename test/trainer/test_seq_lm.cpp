// Byte-level language modelling through the shared Trainer and the chela / longvq binaries
// (experiments/seq_experiment.cpp, task text_lm): per-position logits as rows (Note [Rows] in
// experiments/trainer/trainer.h), the held-out loss against a loop of our own, a tiny causal model
// learning a generated corpus, and the binaries end to end on a --text-file. Tag [seq_lm].
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "data/dataloader.h"
#include "data/sequence_datasets.h"
#include "data/text.h"
#include "experiments/trainer/seq_metrics.h"
#include "experiments/trainer/trainer.h"
#include "helpers.h"
#include "models/seq/seq_zoo.h"
#include "optim/optimizer.h"
#include "trainer_test_utils.h"

using namespace ember;
namespace fs = std::filesystem;

namespace {

// A generated English-like corpus: words drawn from a small vocabulary with a fixed seed, so a tiny
// model can learn the spelling (most bytes after a word's first letter are determined).
std::string generated_corpus(int64_t bytes) {
  const std::vector<std::string> words = {"the ", "cat ", "sat ", "on ", "a ", "mat. ", "dog ", "ran "};
  data::SplitMix64 rng(42);
  std::string text;
  while (static_cast<int64_t>(text.size()) < bytes) text += words[static_cast<size_t>(rng.below(8))];
  text.resize(static_cast<size_t>(bytes));
  return text;
}

models::seq::SeqModelConfig tiny_lm_config() {
  models::seq::SeqModelConfig config;
  config.task = "lm";
  config.vocab_size = data::text::kVocabSize;
  config.d_model = 16;
  config.depth = 1;
  config.z_dim = 8;
  config.long_base = 4;
  config.max_len = 32;
  config.chunk_size = 8;
  return config;
}

fs::path experiment_binary(const std::string& name) {
  return fs::canonical("/proc/self/exe").parent_path().parent_path() / "experiments" / name;
}

// Exit status and output (stdout + stderr) of an experiment binary.
std::pair<int, std::string> run_binary(const std::string& name, const std::string& arguments, const fs::path& scratch) {
  const fs::path log = scratch / (name + ".log");
  const std::string command =
      fmt::format("'{}' {} > '{}' 2>&1", experiment_binary(name).string(), arguments, log.string());
  const int raw = std::system(command.c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, text.str()};
}

}  // namespace

TEST_CASE("Trainer: per-position logits are rows; bad pairings are errors", "[trainer][seq_lm]") {
  const Tensor logits = zeros({2, 3, 5}), target = zeros({2, 3}, DType::i64);
  const auto [rows, flat] = experiments::prediction_rows(logits, target);
  CHECK(rows.sizes() == Shape({6, 5}));
  CHECK(flat.sizes() == Shape({6}));
  const auto [same, same_target] = experiments::prediction_rows(zeros({4, 5}), zeros({4}, DType::i64));
  CHECK(same.sizes() == Shape({4, 5}));
  CHECK(same_target.sizes() == Shape({4}));
  test::require_one_line_error([&] { experiments::prediction_rows(logits, zeros({2, 4}, DType::i64)); },
                               {"Trainer", "float32[2, 3, 5]", "int64[2, 4]"});
  test::require_one_line_error([&] { experiments::prediction_rows(zeros({4, 5}), zeros({4, 1}, DType::i64)); },
                               {"Trainer", "(B, L, C)"});
}

TEST_CASE("Trainer: a tiny causal LM learns a generated corpus; the held-out loss is per byte", "[trainer][seq_lm]") {
  auto corpus = std::make_shared<const std::string>(generated_corpus(40000));
  const int64_t L = 32;
  const auto [train_begin, train_end] = data::text::lm_split_range(40000, data::Split::train);
  const auto [test_begin, test_end] = data::text::lm_split_range(40000, data::Split::test);
  auto train_set = std::make_shared<data::text::ByteLMDataset>(corpus, train_begin, train_end, L);
  auto test_set = std::make_shared<data::text::ByteLMDataset>(corpus, test_begin, test_end, L);
  manual_seed(3);
  auto model = models::seq::create_seq_model("chela", tiny_lm_config());
  auto optimizer = optim::make_optimizer("adamw", {optim::ParamGroup{model->parameters(), {}, "all"}}, {{"lr", 1e-2}});
  data::DataLoader train(train_set, {.batch_size = 16, .shuffle = true, .seed = 1, .drop_last = true});
  data::DataLoader test(test_set, {.batch_size = 16});
  experiments::TrainerConfig config;
  config.max_steps = 40;
  config.epochs = 1;
  config.progress = false;
  experiments::Trainer trainer(config, model, *optimizer, train, &test);

  const experiments::EvalResult before = trainer.evaluate(test);
  CHECK(before.samples == test_set->size() * L);  // rows are positions
  // The mean NLL per byte, by a loop of our own over the windows.
  {
    NoGradGuard no_grad;
    model->eval();
    double nll = 0.0;
    for (int64_t i = 0; i < test_set->size(); ++i) {
      const data::Example e = test_set->get(i);
      const Tensor log_p = log_softmax(model->forward(e.input.unsqueeze(0)).squeeze(0), -1).to(DType::f64);  // (L, V)
      const std::vector<double> lp = test::values(log_p), y = test::values(e.target);
      for (int64_t t = 0; t < L; ++t) nll -= lp[static_cast<size_t>(t * data::text::kVocabSize + static_cast<int64_t>(y[t]))];
    }
    CHECK(before.loss == Approx(nll / static_cast<double>(test_set->size() * L)).epsilon(1e-5));
  }
  // An untrained model is near uniform over 257 ids: about 8 bits per byte.
  CHECK(experiments::bits_per_byte(before.loss) == Approx(std::log2(257.0)).margin(0.5));

  const experiments::FitResult fit = trainer.fit();
  REQUIRE(fit.last_eval.has_value());
  const double bpb = experiments::bits_per_byte(fit.last_eval->loss);
  INFO("held-out bits per byte after 40 steps: " << bpb);
  // The corpus holds at most log2(8) = 3 bits per word (about 4 bytes): well under 1.5 bits per byte
  // once spelling is learnt; 40 steps get most of the way from 8.
  CHECK(bpb < 3.0);
  CHECK(fit.last_eval->top1 > 0.4);
}

TEST_CASE("chela and longvq binaries: byte-level LM on a --text-file", "[trainer][seq_lm][binary]") {
  for (const std::string binary : {"chela", "longvq"}) {
    INFO(binary);
    if (!fs::exists(experiment_binary(binary))) {
      WARN("skipped: " << experiment_binary(binary) << " is not built");
      continue;
    }
    test::ScratchDir scratch("seq-lm-" + binary);
    const fs::path corpus = scratch.path() / "corpus.txt";
    std::ofstream(corpus) << generated_corpus(20000);
    const std::string common = fmt::format(
        "--preset quick_lm --text-file '{}' --max-length 32 --train-limit 64 --test-limit 8 --d-model 16 "
        "--batch-size 8 --runs-dir '{}' --no-plot --threads 1",
        corpus.string(), scratch.path().string());
    const auto [status, output] = run_binary(binary, common + " --name lm --max-steps 2", scratch.path());
    INFO(output);
    REQUIRE(status == 0);
    std::ifstream in(scratch.path() / binary / "lm" / "results.md");
    std::stringstream results;
    results << in.rdbuf();
    INFO(results.str());
    CHECK(results.str().find("test bits/byte") != std::string::npos);
    for (const std::string& model : {binary, std::string("transformer"), std::string("mega")})
      CHECK(results.str().find("| text_lm | " + model + " |") != std::string::npos);

    // A corpus too short for one test window: one line naming the file and the sizes.
    const fs::path tiny = scratch.path() / "tiny.txt";
    std::ofstream(tiny) << "just a few bytes of text";
    const auto [bad_status, bad_output] = run_binary(
        binary, fmt::format("--tasks text_lm --text-file '{}' --max-length 32 --runs-dir '{}' --name bad --no-plot",
                            tiny.string(), scratch.path().string()),
        scratch.path());
    CHECK(bad_status != 0);
    CHECK(bad_output.find("too short for one window") != std::string::npos);
  }
}
