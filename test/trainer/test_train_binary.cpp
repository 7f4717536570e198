// The `train` binary end to end (experiments/train.cpp): a --quick smoke run with its run folder,
// resume from the command line, and the bad-input cases, each of which must exit non-zero with one
// clear line. The binary is found next to this test's build folder (build/experiments/train).
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "experiments/trainer/run_dir.h"
#include "helpers.h"
#include "trainer_test_utils.h"

using namespace ember;
namespace fs = std::filesystem;

namespace {

fs::path train_binary() { return fs::canonical("/proc/self/exe").parent_path().parent_path() / "experiments" / "train"; }

struct Outcome {
  int status = -1;
  std::string output;  // stdout + stderr
  std::string last_line() const {
    std::istringstream lines(output);
    std::string line, last;
    while (std::getline(lines, line))
      if (!line.empty()) last = line;
    return last;
  }
};

Outcome run_train(const std::string& arguments, const fs::path& scratch) {
  const fs::path log = scratch / "train.log";
  const std::string command = fmt::format("'{}' {} > '{}' 2>&1", train_binary().string(), arguments, log.string());
  const int raw = std::system(command.c_str());
  Outcome outcome;
  outcome.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  outcome.output = text.str();
  return outcome;
}

}  // namespace

TEST_CASE("train binary: --quick run, its run folder, resume, and bad input", "[trainer][binary]") {
  if (!fs::exists(train_binary())) {
    WARN("skipped: " << train_binary() << " is not built");
    return;
  }
  test::ScratchDir scratch("train-binary");
  // Small and short: synthetic data, 256 training / 64 test examples, 3 steps, no plots.
  const std::string common =
      fmt::format("--quick --dataset synthetic --epochs 3 --runs-dir '{}' --name q --train-limit 256 --test-limit 64 --no-plot", scratch.path().string());
  const fs::path run = scratch.path() / "quick" / "q";

  Outcome first = run_train(common + " --max-steps 3", scratch.path());
  INFO(first.output);
  REQUIRE(first.status == 0);
  CHECK(first.output.find("run folder: " + run.string()) != std::string::npos);
  CHECK(first.last_line() == "run folder: " + run.string());
  for (const char* file : {"config.json", "metrics.jsonl", "metrics.csv", "results.md", "checkpoint/last/state.json",
                           "checkpoint/last/model.safetensors", "checkpoint/last/optimizer.safetensors"})
    CHECK(fs::exists(run / file));
  const auto config = nlohmann::json::parse(experiments::read_file(run / "config.json"));
  CHECK(config["options"]["model"] == "resnet8");
  CHECK(config["options"]["width"] == 8);
  CHECK(config["options"]["augment"] == true);  // a flag's effective value, not CLI11's "not given"
  CHECK(config["model"]["parameters"].get<int64_t>() > 0);

  // One run folder serves every step below (Catch2 SECTIONs would train it again for each).
  {  // an existing run folder is kept without --overwrite
    const Outcome again = run_train(common + " --max-steps 3", scratch.path());
    CHECK(again.status != 0);
    CHECK(again.last_line().find("already exists: pass --overwrite") != std::string::npos);
    CHECK(fs::exists(run / "checkpoint" / "last" / "state.json"));
  }
  {  // --resume continues from the checkpoint with the run's own settings
    const Outcome resumed = run_train(fmt::format("--resume '{}' --max-steps 5 --no-plot", run.string()), scratch.path());
    INFO(resumed.output);
    CHECK(resumed.status == 0);
    CHECK(resumed.output.find("at step 3") != std::string::npos);
    CHECK(nlohmann::json::parse(experiments::read_file(run / "checkpoint" / "last" / "state.json"))["step"] == 5);
  }
  {  // --resume with another architecture is a one-line error
    const Outcome wrong = run_train(fmt::format("--resume '{}' --width 16 --no-plot", run.string()), scratch.path());
    CHECK(wrong.status == 1);
    CHECK(wrong.last_line().rfind("error: checkpoint", 0) == 0);
    CHECK(wrong.last_line().find("another architecture") != std::string::npos);
  }
  {  // a truncated checkpoint is a one-line error
    fs::resize_file(run / "checkpoint" / "last" / "model.safetensors", 100);
    const Outcome torn = run_train(fmt::format("--resume '{}' --no-plot", run.string()), scratch.path());
    CHECK(torn.status == 1);
    CHECK(torn.last_line().find("truncated or corrupt") != std::string::npos);
  }
}

TEST_CASE("train binary: bad values and names exit non-zero with one clear line", "[trainer][binary]") {
  if (!fs::exists(train_binary())) {
    WARN("skipped: " << train_binary() << " is not built");
    return;
  }
  test::ScratchDir scratch("train-binary-bad");
  std::ofstream(scratch.path() / "a-file") << "x";
  const std::string runs = fmt::format("--runs-dir '{}' ", scratch.path().string());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--lr abc", "'abc' is not a number"},
      {"--epochs 0", "must be >= 1"},
      {"--batch-size 12x", "'12x' is not a number"},
      {"--no-such-option", "no-such-option"},
      {"--model resnet9000", "unknown model"},
      {"--dataset imagenet77", "imagenet77"},
      {"--optimizer adagrad9", "unknown optimizer"},
      {"--dataset cifar10 --channels 1", "--channels"},
      {"--schedule wobbly --quick --dataset synthetic --train-limit 128 --test-limit 32", "wobbly"},
      {fmt::format("--runs-dir '{}' --quick --dataset synthetic --train-limit 128 --test-limit 32", (scratch.path() / "a-file").string()),
       "--runs-dir"},
      {fmt::format("--resume '{}'", (scratch.path() / "nothing").string()), "--resume"},
  };
  for (const auto& [arguments, expected] : cases) {
    const Outcome outcome = run_train(runs + arguments, scratch.path());
    INFO(arguments << "\n" << outcome.output);
    CHECK(outcome.status != 0);
    CHECK(outcome.last_line().find(expected) != std::string::npos);
    CHECK(outcome.output.find("terminate called") == std::string::npos);
  }
}

TEST_CASE("train binary: --config file values sit between the command line and --quick", "[trainer][binary]") {
  if (!fs::exists(train_binary())) {
    WARN("skipped: " << train_binary() << " is not built");
    return;
  }
  test::ScratchDir scratch("train-binary-config");
  std::ofstream(scratch.path() / "settings.toml") << "model = \"mlp\"\nlr = 0.05\nnesterov = false\nepochs = 4\n";
  const Outcome outcome = run_train(
      fmt::format("--config '{}' --quick --epochs 2 --dataset synthetic --train-limit 128 --test-limit 32 --max-steps 1 "
                  "--runs-dir '{}' --name c --no-plot",
                  (scratch.path() / "settings.toml").string(), scratch.path().string()),
      scratch.path());
  INFO(outcome.output);
  REQUIRE(outcome.status == 0);
  const auto options = nlohmann::json::parse(experiments::read_file(scratch.path() / "quick" / "c" / "config.json"))["options"];
  CHECK(options["model"] == "mlp");      // the file beats --quick's resnet8
  CHECK(options["lr"] == 0.05);
  CHECK(options["nesterov"] == false);
  CHECK(options["epochs"] == 2);         // the command line beats the file
  CHECK(options["train-limit"] == 128);
  CHECK(options["test-limit"] == 32);
}
