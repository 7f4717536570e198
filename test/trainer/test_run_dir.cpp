// Run folders and metrics files: experiments/trainer/run_dir.{h,cpp}, metrics.{h,cpp}, progress.cpp.
#include <fstream>
#include <sstream>

#include "experiments/trainer/metrics.h"
#include "experiments/trainer/progress.h"
#include "experiments/trainer/run_dir.h"
#include "helpers.h"
#include "trainer_test_utils.h"

using namespace ember;
using namespace ember::experiments;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("run folder: runs/<experiment>/<name>, never overwritten without overwrite", "[trainer][run_dir]") {
  test::ScratchDir scratch("run-dir");
  RunDirOptions options{(scratch.path() / "runs").string(), "fmnist", "first", false};
  const RunDir run = RunDir::create(options);
  CHECK(run.path() == scratch.path() / "runs" / "fmnist" / "first");
  CHECK(fs::is_directory(run.path()));
  std::ofstream(run.file("marker.txt")) << "earlier run";

  test::require_one_line_error([&] { RunDir::create(options); },
                               {"already exists", "--overwrite", "--resume", run.path().string()});
  CHECK(fs::exists(run.file("marker.txt")));  // the earlier run is untouched

  options.overwrite = true;
  const RunDir again = RunDir::create(options);
  CHECK(again.path() == run.path());
  CHECK_FALSE(fs::exists(run.file("marker.txt")));
}

TEST_CASE("run folder: timestamp names never collide", "[trainer][run_dir]") {
  test::ScratchDir scratch("run-dir-ts");
  const RunDirOptions options{scratch.path().string(), "exp", "", false};
  const RunDir first = RunDir::create(options);
  const RunDir second = RunDir::create(options);
  CHECK(first.path() != second.path());
  CHECK(first.path().filename().string().size() >= 15);  // YYYYmmdd-HHMMSS
}

TEST_CASE("run folder: an unwritable place is a one-line error", "[trainer][run_dir]") {
  test::ScratchDir scratch("run-dir-bad");
  // A regular file where a folder should be: fails even for root, unlike permission bits.
  std::ofstream(scratch.path() / "not-a-folder") << "x";
  test::require_one_line_error(
      [&] { RunDir::create({(scratch.path() / "not-a-folder").string(), "exp", "run", false}); },
      {"cannot create", "--runs-dir"});
  test::require_one_line_error([&] { RunDir::create({scratch.path().string(), "exp", "a/b", false}); }, {"--name"});
}

TEST_CASE("run folder: config.json, results.md, reopening for --resume", "[trainer][run_dir]") {
  test::ScratchDir scratch("run-dir-config");
  const RunDir run = RunDir::create({scratch.path().string(), "exp", "cfg", false});
  nlohmann::ordered_json config = {{"model", "resnet_small"}, {"lr", 0.1}, {"epochs", 3}, {"nesterov", true}};
  run.write_config(config);
  const nlohmann::ordered_json back = nlohmann::ordered_json::parse(read_file(run.file("config.json")));
  CHECK(back == config);
  CHECK(back.begin().key() == "model");  // the caller's order is kept
  CHECK(run.read_config()["lr"].get<double>() == 0.1);

  run.write_results("fmnist", {{"test top-1", "91.20%"}, {"time", "5m02s"}});
  const auto results = lines_of(run.file("results.md"));
  REQUIRE(results.size() == 6);
  CHECK(results[0] == "# fmnist");
  CHECK(results[4] == "| test top-1 | 91.20% |");

  fs::create_directories(run.checkpoint_dir() / "last");
  CHECK(RunDir::open_existing(run.path()).path() == run.path());
  CHECK(RunDir::open_existing(run.checkpoint_dir() / "last").path() == run.path());
  test::require_one_line_error([&] { RunDir::open_existing(scratch.path() / "nowhere"); }, {"--resume", "no run folder"});
  // No temp files are left behind by the atomic writes.
  for (const auto& entry : fs::directory_iterator(run.path()))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("metrics: jsonl and csv lines, flushed per record, trimmed on resume", "[trainer][metrics]") {
  test::ScratchDir scratch("metrics");
  {
    MetricsLog log(scratch.path());
    log.write({{"kind", "train"}, {"epoch", 1}, {"step", 10}, {"lr", 0.1}, {"loss", 2.5}, {"acc", 0.25}});
    log.write({{"kind", "eval"}, {"epoch", 1}, {"step", 20}, {"loss", 1.25}, {"acc", 0.5}, {"top5", 0.875},
               {"note", "not a csv column"}});
    // Flushed per line: readable while the log is still open.
    CHECK(lines_of(log.jsonl_path()).size() == 2);
    log.write({{"kind", "train"}, {"epoch", 2}, {"step", 30}, {"loss", 1.0}});
  }
  const auto jsonl = lines_of(scratch.path() / "metrics.jsonl");
  REQUIRE(jsonl.size() == 3);
  const auto second = nlohmann::json::parse(jsonl[1]);
  CHECK(second["top5"].get<double>() == 0.875);
  CHECK(second["note"] == "not a csv column");
  const auto csv = lines_of(scratch.path() / "metrics.csv");
  REQUIRE(csv.size() == 4);
  CHECK(csv[0] == "kind,epoch,step,lr,loss,acc,top5,samples_per_s,time_s");
  CHECK(csv[1] == "train,1,10,0.1,2.5,0.25,,,");
  CHECK(csv[2] == "eval,1,20,,1.25,0.5,0.875,,");

  // A run resumed from the checkpoint of step 20 drops the records logged after it, and keeps
  // appending below the others (one header).
  {
    MetricsLog log(scratch.path(), 20);
    log.write({{"kind", "train"}, {"epoch", 2}, {"step", 30}, {"loss", 0.75}});
  }
  const auto resumed_csv = lines_of(scratch.path() / "metrics.csv");
  REQUIRE(resumed_csv.size() == 4);
  CHECK(resumed_csv[3] == "train,2,30,,0.75,,,,");
  const auto resumed_jsonl = lines_of(scratch.path() / "metrics.jsonl");
  REQUIRE(resumed_jsonl.size() == 3);
  CHECK(nlohmann::json::parse(resumed_jsonl[2])["loss"].get<double>() == 0.75);
  CHECK(csv_cell("a,b") == "\"a,b\"");
}

TEST_CASE("progress: plain lines every N steps off a terminal, one redrawn line on it", "[trainer][progress]") {
  ProgressStats stats{1, 2, 0, 10, 0, 20, 0.5, 0.75, 1000.0};
  std::ostringstream plain;
  Progress log(plain, /*tty=*/false, /*log_every=*/5);
  for (int64_t i = 1; i <= 10; ++i) {
    stats.step_in_epoch = i;
    stats.global_step = i;
    log.update(stats, 0.5);
  }
  const std::string text = plain.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);  // steps 5 and 10
  CHECK(text.find("epoch 1/2   5/10  loss 0.5000  acc 75.00%  1000 samples/s  ETA 8s") != std::string::npos);
  CHECK(text.find('\r') == std::string::npos);

  std::ostringstream terminal;
  Progress bar(terminal, /*tty=*/true, 5);
  stats.step_in_epoch = 10;
  bar.update(stats, 0.5);
  bar.message("epoch 1/2: done");
  CHECK(terminal.str().find("\r\033[2K[####################] epoch 1/2") == 0);
  CHECK(terminal.str().find("\r\033[2Kepoch 1/2: done\n") != std::string::npos);
  CHECK(format_duration(3725) == "1h02m");
  CHECK(format_duration(192) == "3m12s");
}
