// The BOCB / SEMA experiments (experiments/bocb_table.{h,cpp}, bocb.cpp, sema.cpp): the failure rule
// against the paper's own gray cells, Table 1 statistics on hand-worked numbers, the tuned-table
// look-ups, the results JSONL, per-layer statistics, and both binaries end to end on tiny synthetic
// runs (a grid that resumes cell by cell and marks a diverged cell; a SEMA smoke run).
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "experiments/bocb_table.h"
#include "helpers.h"
#include "trainer_test_utils.h"

using namespace ember;
namespace bocb = ember::experiments::bocb;
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> paper_column(const std::string& column) {
  std::vector<double> out;
  for (const std::string& name : bocb::study_optimizers()) out.push_back(*bocb::paper_top1(name, column));
  return out;
}

std::vector<std::string> failed_names(const std::vector<bool>& failed) {
  std::vector<std::string> out;
  for (size_t i = 0; i < failed.size(); ++i)
    if (failed[i]) out.push_back(bocb::study_optimizers()[i]);
  return out;
}

fs::path binary(const std::string& name) {
  return fs::canonical("/proc/self/exe").parent_path().parent_path() / "experiments" / name;
}

struct Outcome {
  int status = -1;
  std::string output;
};

Outcome run(const std::string& name, const std::string& arguments, const fs::path& scratch) {
  const fs::path log = scratch / (name + ".log");
  const std::string command = fmt::format("'{}' {} > '{}' 2>&1", binary(name).string(), arguments, log.string());
  const int raw = std::system(command.c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, text.str()};
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int64_t count_lines(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line))
    if (!line.empty()) ++n;
  return n;
}

// Column `column` (1-based between the pipes) of the markdown row starting "| name |".
std::string table_cell(const std::string& markdown, const std::string& name, size_t column) {
  const size_t start = markdown.find("| " + name + " |");
  if (start == std::string::npos) return "";
  const std::string row = markdown.substr(start, markdown.find('\n', start) - start);
  std::vector<std::string> cells;
  std::stringstream stream(row);
  std::string cell;
  while (std::getline(stream, cell, '|')) cells.push_back(cell);
  if (column >= cells.size()) return "";
  const std::string& text = cells[column];
  const size_t first = text.find_first_not_of(' ');
  return first == std::string::npos ? "" : text.substr(first, text.find_last_not_of(' ') - first + 1);
}

}  // namespace

TEST_CASE("bocb: the failure rule reproduces the paper's gray cells", "[trainer][bocb]") {
  // Table 1 (papers.md §1.4), γ = 3: VGG-13 has one gray cell (AdaGrad 71.29), ConvNeXt-T six.
  CHECK(failed_names(bocb::failures(paper_column("VGG-13"), 3.0)) == std::vector<std::string>{"adagrad"});
  CHECK(failed_names(bocb::failures(paper_column("CNX-T"), 3.0)) ==
        std::vector<std::string>{"sgd", "sgdp", "adabound", "lars", "adagrad", "adadelta"});
  // Hand-worked: median of {70, 75, 76, 80} is 75.5; the bound 72.5 fails 70 only; NaN always fails.
  CHECK(bocb::failures({70, 75, 76, 80}, 3.0) == std::vector<bool>{true, false, false, false});
  // With a NaN: the median of the finite {70, 76, 80} is 76, the bound 73.
  CHECK(bocb::failures({70, kNaN, 76, 80}, 3.0) == std::vector<bool>{true, true, false, false});
  CHECK(bocb::failures({74, kNaN, 76, 80}, 3.0) == std::vector<bool>{false, true, false, false});
}

TEST_CASE("bocb: quantile, top-k and the summary without the worst", "[trainer][bocb]") {
  CHECK(bocb::quantile({4, 1, 3, 2}, 0.25) == Approx(1.75));  // numpy.quantile([1,2,3,4], .25)
  CHECK(bocb::quantile({4, 1, 3, 2}, 0.5) == Approx(2.5));
  CHECK(bocb::quantile({7}, 0.9) == Approx(7));
  CHECK(bocb::top_k({5, 9, 7, 9, 1}, 2) == std::vector<bool>{false, true, false, true, false});
  CHECK(bocb::top_k({5, 9, 7, 9, kNaN}, 3) == std::vector<bool>{false, true, true, true, false});
  // {1, 2, 3, 10} without 1: mean 5, population std sqrt((9 + 4 + 25) / 3), range 8.
  const bocb::Summary s = bocb::summary_without_worst({2, 10, 1, 3});
  CHECK(s.mean == Approx(5.0));
  CHECK(s.std == Approx(std::sqrt(38.0 / 3.0)));
  CHECK(s.range == Approx(8.0));
  CHECK(s.count == 3);
  // A NaN is the worst: dropped instead of the smallest value.
  const bocb::Summary n = bocb::summary_without_worst({70, 80, 90, kNaN});
  CHECK(n.mean == Approx(80.0));
  CHECK(n.range == Approx(20.0));
}

TEST_CASE("bocb: the tuned table mapped to our backbones", "[trainer][bocb]") {
  std::string source;
  bocb::HyperParams hp = bocb::cell_hyperparams("adamw", "resnet18", &source);  // §1.5 R-50: 1e-3 / 5e-2
  CHECK(hp.lr == 1e-3);
  CHECK(hp.weight_decay == 5e-2);
  CHECK(source == "§1.5 R-50");
  hp = bocb::cell_hyperparams("lars", "convnext_atto");  // CNX-T: 6e-2 / 0
  CHECK(hp.lr == 6e-2);
  CHECK(hp.weight_decay == 0.0);
  hp = bocb::cell_hyperparams("adadelta", "vgg13_bn");  // VGG-13: 2.0 / 0
  CHECK(hp.lr == 2.0);
  hp = bocb::cell_hyperparams("sgd", "some_future_net", &source);  // no column: the PyTorch-recipe default
  CHECK(hp.lr == 0.1);
  CHECK(hp.weight_decay == 1e-4);
  CHECK(source.find("default") != std::string::npos);
  CHECK(bocb::uses_modern_recipe("deit_small"));
  CHECK_FALSE(bocb::uses_modern_recipe("resnet50"));
  CHECK(bocb::optimizer_category("adabelief") == "c");
  CHECK(bocb::study_optimizers().size() == 20);
  test::require_one_line_error([] { bocb::optimizer_category("adamq"); }, {"adamq", "adamw", "sophia"});
}

TEST_CASE("bocb: results JSONL round trip, torn lines skipped, and the table", "[trainer][bocb]") {
  test::ScratchDir scratch("bocb-jsonl");
  const fs::path jsonl = scratch.path() / "results.jsonl";
  CHECK(bocb::read_results(jsonl).empty());
  bocb::CellResult a{"resnet8", "sgd", 0, "ok", 0.91, 0.92, 0.1, 1e-4, 10, 1.5, ""};
  bocb::CellResult b{"resnet8", "adamw", 0, "diverged", kNaN, kNaN, 1e-3, 0.05, 3, 0.5, "train: the loss is nan"};
  bocb::CellResult c{"resnet8", "sgd", 1, "ok", 0.89, 0.90, 0.1, 1e-4, 10, 1.5, ""};
  bocb::append_result(jsonl, a);
  bocb::append_result(jsonl, b);
  bocb::append_result(jsonl, c);
  std::ofstream(jsonl, std::ios::app) << "{\"backbone\": \"resn";  // a killed grid's torn last line
  const std::vector<bocb::CellResult> cells = bocb::read_results(jsonl);
  REQUIRE(cells.size() == 3);
  CHECK(cells[0].top1 == 0.91);
  CHECK(cells[1].status == "diverged");
  CHECK(std::isnan(cells[1].top1));
  CHECK(cells[2].seed == 1);
  const std::string table = bocb::table_markdown(cells, {"resnet8"}, {"sgd", "adamw"}, 3.0, 4);
  INFO(table);
  CHECK(table.find("90.00 ± 1.00") != std::string::npos);  // mean and population std of 91 and 89
  CHECK(table.find("~diverged~") != std::string::npos);
  CHECK(table.find("(paper 78.76)") != std::string::npos);  // resnet → the R-50 column of Table 1
}

TEST_CASE("bocb: per-layer L2 norm and histogram entropy", "[trainer][bocb]") {
  // [[0, 0], [3, 4]]: norm 5; two bins over [0, 4] hold {0, 0} and {3, 4}: entropy ln 2.
  const bocb::LayerStats s = bocb::layer_stats("w", from_vector<double>({0, 0, 3, 4}, {2, 2}), 2);
  CHECK(s.l2_norm == Approx(5.0));
  CHECK(s.entropy == Approx(std::log(2.0)));
  CHECK(s.numel == 4);
  // Constant weights: one bin, entropy 0.
  CHECK(bocb::layer_stats("c", full({3, 3}, 0.5), 8).entropy == Approx(0.0));
  test::TinyNet net(4, 3);
  const auto stats = bocb::model_layer_stats(net);  // the weight only: the bias is 1-D
  REQUIRE(stats.size() == 1);
  CHECK(bocb::layer_stats_csv(stats, "tiny", "sgd", 0, true).find("tiny,sgd,0,weight,3x4,12,") != std::string::npos);
}

TEST_CASE("bocb binary: a tiny grid runs, resumes cell by cell and marks divergence", "[trainer][bocb][binary]") {
  if (!fs::exists(binary("bocb"))) {
    WARN("skipped: " << binary("bocb") << " is not built");
    return;
  }
  test::ScratchDir scratch("bocb-grid");
  const std::string common = fmt::format(
      "--preset none --backbones mlp:width=16 --optimizers sgd,adamw --dataset synthetic --train-limit 128 "
      "--test-limit 32 --batch-size 32 --epochs 1 --max-steps 2 --threads 1 --no-plot --runs-dir '{}' --name g",
      scratch.path().string());
  const fs::path grid = scratch.path() / "bocb" / "g";
  Outcome first = run("bocb", common, scratch.path());
  INFO(first.output);
  REQUIRE(first.status == 0);
  CHECK(count_lines(grid / "results.jsonl") == 2);
  const std::string table = read(grid / "results.md");
  CHECK(table.find("| sgd | a |") != std::string::npos);
  CHECK(table.find("| adamw | b |") != std::string::npos);
  CHECK(table.find("Std/Range") != std::string::npos);
  CHECK(fs::exists(grid / "layer_stats.csv"));

  // Drop the second cell's line, as if the grid had been killed during it: the rerun trains only it.
  const std::vector<bocb::CellResult> before = bocb::read_results(grid / "results.jsonl");
  std::ofstream(grid / "results.jsonl", std::ios::trunc) << bocb::to_json(before[0]).dump() << "\n";
  Outcome second = run("bocb", common, scratch.path());
  INFO(second.output);
  REQUIRE(second.status == 0);
  CHECK(second.output.find("1 already done: resuming") != std::string::npos);
  CHECK(second.output.find("[cell 1/2]") == std::string::npos);
  CHECK(second.output.find("[cell 2/2]") != std::string::npos);
  const std::vector<bocb::CellResult> after = bocb::read_results(grid / "results.jsonl");
  REQUIRE(after.size() == 2);
  CHECK(after[1].optimizer == "adamw");
  CHECK(after[1].top1 == before[1].top1);  // the same seed trains the same cell again

  // A cell killed mid-run (its checkpoint/last is there, its line is not): the rerun continues it
  // from the checkpoint instead of starting over. Here: the adamw cell stopped by --max-steps 2 is
  // taken on to 3 steps.
  std::ofstream(grid / "results.jsonl", std::ios::trunc) << bocb::to_json(before[0]).dump() << "\n";
  Outcome continued = run("bocb", common + " --max-steps 3", scratch.path());
  INFO(continued.output);
  REQUIRE(continued.status == 0);
  CHECK(continued.output.find("resumed the cell from") != std::string::npos);
  CHECK(continued.output.find("at step 2") != std::string::npos);
  const std::vector<bocb::CellResult> resumed = bocb::read_results(grid / "results.jsonl");
  REQUIRE(resumed.size() == 2);
  CHECK(resumed[1].steps == 3);

  // Sophia runs in a grid, with its Hessian estimates.
  Outcome sophia = run("bocb", common + "s --optimizers sophia", scratch.path());
  INFO(sophia.output);
  CHECK(sophia.status == 0);
  const std::vector<bocb::CellResult> s = bocb::read_results(scratch.path() / "bocb" / "gs" / "results.jsonl");
  REQUIRE(s.size() == 1);
  CHECK(s[0].status == "ok");

  // An absurd lr makes the loss NaN: the cell is "diverged", the grid still finishes with exit 0.
  Outcome diverged = run("bocb", common + "x --optimizers sgd --lr-scale 1e30", scratch.path());
  INFO(diverged.output);
  CHECK(diverged.status == 0);
  const std::vector<bocb::CellResult> d = bocb::read_results(scratch.path() / "bocb" / "gx" / "results.jsonl");
  REQUIRE(d.size() == 1);
  CHECK(d[0].status == "diverged");
  CHECK(read(scratch.path() / "bocb" / "gx" / "results.md").find("~diverged~") != std::string::npos);

  Outcome bad = run("bocb", common + "y --optimizers sgd,adamq", scratch.path());
  CHECK(bad.status != 0);
  CHECK(bad.output.find("adamq") != std::string::npos);
  bad = run("bocb", common + "y --backbones resnet8,nonet", scratch.path());
  CHECK(bad.status != 0);
  CHECK(bad.output.find("unknown backbone 'nonet'") != std::string::npos);
  CHECK(bad.output.find("vgg13_bn") != std::string::npos);  // the valid names are listed
  // Resuming grid "g" with other settings is refused instead of mixing two experiments.
  bad = run("bocb", common + " --epochs 2", scratch.path());
  CHECK(bad.status != 0);
  CHECK(bad.output.find("--overwrite") != std::string::npos);
}

TEST_CASE("sema binary: a smoke run writes the comparison table", "[trainer][sema][binary]") {
  if (!fs::exists(binary("sema"))) {
    WARN("skipped: " << binary("sema") << " is not built");
    return;
  }
  test::ScratchDir scratch("sema-smoke");
  const std::string arguments = fmt::format(
      "--preset none --dataset synthetic --model mlp --width 16 --train-limit 128 --test-limit 32 --batch-size 32 "
      "--epochs 2 --log-every 1 --variants plain,ema,sema,swa --flatness-points 3 --threads 1 --no-plot --runs-dir '{}' "
      "--name s",
      scratch.path().string());
  Outcome outcome = run("sema", arguments, scratch.path());
  INFO(outcome.output);
  REQUIRE(outcome.status == 0);
  const fs::path folder = scratch.path() / "sema" / "s";
  const std::string results = read(folder / "results.md");
  INFO(results);
  for (const char* row : {"| plain |", "| ema |", "| sema |", "| swa |"}) CHECK(results.find(row) != std::string::npos);
  CHECK(count_lines(folder / "flatness.csv") == 1 + 4 * 3);
  // Four batches per epoch and two epochs: SEMA switched once (at the start of epoch 2), EMA never.
  CHECK(table_cell(results, "sema", 6) == "1");
  CHECK(table_cell(results, "ema", 6) == "0");
  CHECK(table_cell(results, "plain", 7) == "8");  // steps
  CHECK(count_lines(folder / "sema" / "metrics.jsonl") == 8 + 2);  // 8 train records + 2 evaluations
  Outcome bad = run("sema", arguments + "2 --variants plain,swirl", scratch.path());
  CHECK(bad.status != 0);
  CHECK(bad.output.find("swirl") != std::string::npos);
}

TEST_CASE("bocb: ESD eigenvalues through ssyevd and the power-law fit", "[trainer][bocb]") {
  // [[2, 1], [1, 2]] has eigenvalues 1 and 3; [[4, 0, 0], [0, 1, 0], [0, 0, 9]] its diagonal.
  std::vector<double> e = bocb::symmetric_eigenvalues(from_vector<float>({2, 1, 1, 2}, {2, 2}));
  REQUIRE(e.size() == 2);
  CHECK(e[0] == Approx(1.0));
  CHECK(e[1] == Approx(3.0));
  e = bocb::symmetric_eigenvalues(from_vector<float>({4, 0, 0, 0, 1, 0, 0, 0, 9}, {3, 3}));
  CHECK(e == std::vector<double>{1.0, 4.0, 9.0});
  // Exact quantiles of a Pareto law with α = 3 (density ∝ λ^−3, λ >= 0.5): the fit finds α ≈ 3.
  std::vector<double> pareto;
  for (int i = 0; i < 2000; ++i) pareto.push_back(0.5 * std::pow(1.0 - (i + 0.5) / 2000.0, -1.0 / 2.0));
  const bocb::PowerLawFit fit = bocb::fit_power_law(pareto);
  CHECK(fit.alpha == Approx(3.0).epsilon(0.05));
  CHECK(fit.ks_distance < 0.02);
  // A layer big enough for a spectrum gets an α; a 3 × 4 one does not.
  Generator gen(3);
  const bocb::LayerStats big = bocb::layer_stats("w", randn({16, 32}, gen), 16);
  CHECK(std::isfinite(big.alpha));
  CHECK(big.alpha > 1.0);
  CHECK(std::isnan(bocb::layer_stats("w", randn({3, 4}, gen)).alpha));
  // PCA energy: rows (i − 7.5)·v + c differ only along v once centred: all energy in one component.
  const Tensor v = randn({1, 32}, gen), c = randn({1, 32}, gen);
  const Tensor steps = (arange(0, 16, 1, TensorOptions(DType::f32)) - 7.5).reshape({16, 1});
  CHECK(bocb::layer_stats("r", matmul(steps, v) + c).pca_energy == Approx(1.0).epsilon(1e-4));
  // Random rows: four of 16 components hold more than 4/16 of the energy (sorted) but not all.
  CHECK(big.pca_energy > 0.25);
  CHECK(big.pca_energy < 0.9);
}
