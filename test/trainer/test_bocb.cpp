// The BOCB / SEMA experiments (experiments/bocb_table.{h,cpp}, bocb.cpp, sema.cpp): the failure rule
// against the paper's own gray cells, Table 1 statistics on hand-worked numbers, the tuned-table
// look-ups, the results JSONL, per-layer statistics, and both binaries end to end on tiny synthetic
// runs (a grid that resumes cell by cell and marks a diverged cell; a SEMA smoke run).
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
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

// Table 1 of the paper as papers.md §1.4 prints it (copied verbatim, without the Mean and Std/Range
// rows): ~x~ is a gray (failure) cell.
const char* const kPaperTable1 = R"(|SGD-M|*66.76*|*77.08*|*78.76*|78.01|77.16|*79.41*|75.85|~63.20~|72.64|78.95|~60.09~|82.25|~75.93~|82.75|86.21|77.40|77.70|83.46|83.02|81.21|
|SGDP|66.54|*77.56*|*79.25*|*78.93*|77.32|*79.55*|75.26|~63.53~|~69.24~|80.56|~61.25~|82.43|~80.86~|82.18|86.12|77.55|77.53|83.54|82.88|81.56|
|LION|62.11|73.87|75.28|75.42|74.62|76.97|73.55|*74.57*|*74.19*|*81.84*|82.29|82.53|85.03|83.43|86.96|78.65|79.66|84.62|82.41|~79.59~|
|Adam|65.29|73.41|74.55|76.78|74.56|76.48|75.06|71.04|72.84|80.71|82.03|82.66|84.92|84.73|86.23|78.39|79.18|84.81|81.54|82.18|
|Adamax|*67.30*|73.80|75.21|~73.52~|74.60|78.37|74.33|73.31|73.07|81.28|80.25|81.90|84.51|83.81|86.34|78.02|79.55|84.31|81.83|82.50|
|NAdam|~60.49~|73.96|74.82|76.10|75.08|77.06|74.86|72.75|73.77|81.80|82.26|82.72|85.23|82.07|86.44|78.37|*80.32*|84.81|81.82|82.83|
|AdamW|62.71|73.90|75.56|78.14|76.88|78.77|75.35|72.15|73.59|81.30|83.52|83.59|*86.19*|*86.30*|*87.51*|*79.39*|*80.55*|*85.46*|82.24|*83.60*|
|LAMB|*66.90*|75.55|77.19|78.81|*77.59*|78.77|*77.04*|*75.39*|*74.98*|*83.47*|*84.13*|*84.93*|*86.04*|84.99|*87.37*|*80.21*|80.01|*85.40*|*83.16*|*83.74*|
|RAdam|61.69|74.64|75.19|76.40|75.94|77.08|74.83|72.41|72.11|79.84|82.18|82.69|84.95|84.26|86.49|78.46|79.71|84.93|81.44|82.35|
|AdamP|~60.27~|75.56|78.17|*78.89*|*77.79*|78.65|*77.67*|71.55|73.66|80.91|*84.47*|*84.40*|*86.45*|*86.19*|*87.16*|*79.20*|*81.70*|*85.15*|82.12|*83.40*|
|Adan|63.98|74.90|77.08|*79.33*|*77.73*|78.43|*76.99*|*76.33*|*74.94*|*83.35*|*84.65*|*84.77*|*86.46*|*86.75*|*87.47*|*80.59*|*83.23*|*85.58*|*83.51*|*84.89*|
|AdaBound|66.59|*77.00*|78.11|75.26|*78.76*|*79.88*|74.14|~68.59~|~70.31~|80.67|~71.96~|83.90|~78.48~|83.03|86.07|77.99|77.81|82.73|*83.08*|82.38|
|LARS|64.35|75.71|78.25|77.25|76.23|~72.43~|75.50|71.36|72.64|81.29|~61.40~|82.22|~33.26~|~41.03~|85.16|77.66|78.78|82.98|81.00|82.05|
|AdaFactor|63.91|74.49|75.41|77.03|75.38|77.83|75.03|*74.02*|71.16|80.36|82.82|83.06|85.17|*85.99*|86.57|78.78|78.81|84.90|81.94|82.36|
|AdaBelief|62.98|75.09|*80.53*|*79.26*|75.78|78.48|*76.90*|70.66|73.30|80.98|83.31|*84.47*|84.80|84.54|86.64|78.55|*81.01*|85.03|*83.21*|*83.56*|
|NovoGrad|64.24|*76.09*|*79.36*|77.25|~71.26~|~74.23~|75.16|73.13|~67.03~|*81.82*|79.99|82.01|~82.96~|~80.77~|85.85|77.16|78.92|83.51|81.28|82.98|
|Sophia|64.30|74.18|75.19|77.91|76.60|*78.95*|75.85|71.47|72.74|80.61|*83.76*|*83.94*|85.39|84.20|86.60|77.67|78.90|84.58|81.67|82.96|
|AdaGrad|~45.79~|~71.29~|~73.30~|~51.70~|~33.87~|77.93|~46.06~|~67.24~|~67.50~|~75.83~|~75.63~|~50.34~|83.03|82.57|~66.83~|~44.34~|~44.40~|~79.67~|~78.71~|~38.09~|
|AdaDelta|*66.87*|74.14|75.07|76.82|75.32|77.88|74.58|~65.44~|71.32|80.25|~74.25~|82.74|~81.06~|84.17|85.31|~75.91~|~76.40~|84.05|82.62|82.08|
|RMSProp|~59.33~|73.30|74.25|75.45|73.94|76.83|74.92|70.71|71.63|~77.52~|82.29|82.11|85.17|~61.14~|86.21|77.40|77.14|84.01|~79.72~|81.83|)";

// The paper's Table 1 by backbone column: the values and whether each is gray.
struct PaperColumn {
  std::vector<double> values;
  std::vector<bool> gray;
};
std::vector<PaperColumn> paper_table1() {
  std::vector<PaperColumn> columns;
  std::stringstream lines(kPaperTable1);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    std::string cell;
    while (std::getline(row, cell, '|')) cells.push_back(cell);
    // cells: "", optimizer, 20 backbones
    REQUIRE(cells.size() == 22);
    if (columns.empty()) columns.resize(20);
    for (size_t b = 0; b < 20; ++b) {
      const std::string& text = cells[b + 2];
      columns[b].gray.push_back(text.find('~') != std::string::npos);
      columns[b].values.push_back(std::stod(text.substr(text.find_first_of("0123456789"))));
    }
  }
  return columns;
}

// How many of Table 1's 400 cells a rule marks as the paper does.
int paper_agreement(const std::function<std::vector<bool>(const std::vector<double>&)>& rule) {
  int agree = 0;
  for (const PaperColumn& column : paper_table1()) {
    const std::vector<bool> failed = rule(column.values);
    for (size_t i = 0; i < failed.size(); ++i) agree += failed[i] == column.gray[i];
  }
  return agree;
}

TEST_CASE("bocb: the failure rule reproduces the paper's gray cells", "[trainer][bocb]") {
  const std::vector<PaperColumn> table = paper_table1();
  REQUIRE(table.size() == 20);
  int gray = 0;
  for (const PaperColumn& c : table) gray += static_cast<int>(std::count(c.gray.begin(), c.gray.end(), true));
  CHECK(gray == 50);
  // median − γ with the default γ = 2 agrees with 397 of the 400 cells (the misses: AlexNet RAdam and
  // ConvNeXt-T NovoGrad marked, MogaNet-S NovoGrad not); γ = 3, the paper's stated λ, with 392.
  const auto median_rule = [](double gamma) {
    return [gamma](const std::vector<double>& r) { return bocb::failures(r, gamma); };
  };
  CHECK(paper_agreement(median_rule(bocb::kPaperGamma)) == 397);
  CHECK(paper_agreement(median_rule(3.0)) == 392);
  // No other γ of the form does better.
  for (int tenths = 5; tenths <= 50; ++tenths)
    CHECK(paper_agreement(median_rule(tenths / 10.0)) <= paper_agreement(median_rule(bocb::kPaperGamma)));
  // The extracted Eq. (1), r < max(R) − min(IQR, 3): 192 of 400.
  CHECK(paper_agreement([](const std::vector<double>& r) {
          const double bound = *std::max_element(r.begin(), r.end()) -
                               std::min(bocb::quantile(r, 0.75) - bocb::quantile(r, 0.25), 3.0);
          std::vector<bool> failed;
          for (double v : r) failed.push_back(v < bound);
          return failed;
        }) == 192);
  // The columns our backbones borrow: VGG-13 has one gray cell (AdaGrad 71.29); ConvNeXt-T six, and
  // the rule also marks NovoGrad (79.99 < median 82.22 − 2), one of the three misses.
  CHECK(failed_names(bocb::failures(paper_column("VGG-13"), bocb::kPaperGamma)) == std::vector<std::string>{"adagrad"});
  CHECK(failed_names(bocb::failures(paper_column("CNX-T"), bocb::kPaperGamma)) ==
        std::vector<std::string>{"sgd", "sgdp", "adabound", "lars", "novograd", "adagrad", "adadelta"});
  // Hand-worked: median of {70, 75, 76, 80} is 75.5; the bound 72.5 fails 70 only; NaN always fails.
  CHECK(bocb::failures({70, 75, 76, 80}, 3.0) == std::vector<bool>{true, false, false, false});
  // With a NaN: the median of the finite {70, 76, 80} is 76, the bound 73.
  CHECK(bocb::failures({70, kNaN, 76, 80}, 3.0) == std::vector<bool>{true, true, false, false});
  CHECK(bocb::failures({74, kNaN, 76, 80}, 3.0) == std::vector<bool>{false, true, false, false});
}

namespace {
bocb::CellResult trial_result(const std::string& optimizer, uint64_t seed, int lr_step, int wd_step, double top1) {
  bocb::CellResult c{"resnet8", optimizer, seed, "ok", top1, top1, 0.1, 1e-4, 10, 1.0, ""};
  c.lr_step = lr_step;
  c.wd_step = wd_step;
  if (std::isnan(top1)) c.status = "diverged";
  return c;
}
std::vector<std::string> keys(const std::vector<bocb::Trial>& trials) {
  std::vector<std::string> out;
  for (const bocb::Trial& t : trials) out.push_back(bocb::cell_key(t));
  return out;
}
}  // namespace

TEST_CASE("bocb: the lr/wd search plan, the selected trials and the robustness score", "[trainer][bocb]") {
  CHECK(bocb::hp_factor(-2) == 0.25);
  CHECK(bocb::hp_factor(1) == 2.0);
  // Without a search: every (backbone, optimizer, seed) at the centre, minus the finished ones.
  std::vector<bocb::CellResult> done = {trial_result("sgd", 0, 0, 0, 0.8)};
  CHECK(keys(bocb::ready_trials({"resnet8"}, {"sgd", "adamw"}, 2, 0, done)) ==
        std::vector<std::string>{"resnet8/sgd/1", "resnet8/adamw/0", "resnet8/adamw/1"});
  // A 3-point search, 2 seeds, SGD (tuned wd 1e-4 > 0): first the lr steps of seed 0 ...
  done.clear();
  CHECK(keys(bocb::ready_trials({"resnet8"}, {"sgd"}, 2, 3, done)) ==
        std::vector<std::string>{"resnet8/sgd/0/lr-1/wd0", "resnet8/sgd/0", "resnet8/sgd/0/lr1/wd0"});
  done = {trial_result("sgd", 0, -1, 0, 0.70), trial_result("sgd", 0, 0, 0, 0.75)};
  CHECK(keys(bocb::ready_trials({"resnet8"}, {"sgd"}, 2, 3, done)) == std::vector<std::string>{"resnet8/sgd/0/lr1/wd0"});
  // ... then, lr ×2 being best, the wd steps at it ...
  done.push_back(trial_result("sgd", 0, 1, 0, 0.78));
  CHECK(keys(bocb::ready_trials({"resnet8"}, {"sgd"}, 2, 3, done)) ==
        std::vector<std::string>{"resnet8/sgd/0/lr1/wd-1", "resnet8/sgd/0/lr1/wd1"});
  // ... then the other seeds at the best of all (lr ×2, wd ×0.5).
  done.push_back(trial_result("sgd", 0, 1, -1, 0.79));
  done.push_back(trial_result("sgd", 0, 1, 1, kNaN));
  CHECK(keys(bocb::ready_trials({"resnet8"}, {"sgd"}, 2, 3, done)) == std::vector<std::string>{"resnet8/sgd/1/lr1/wd-1"});
  done.push_back(trial_result("sgd", 1, 1, -1, 0.77));
  CHECK(bocb::ready_trials({"resnet8"}, {"sgd"}, 2, 3, done).empty());
  // Table 1 takes the best trial of each seed: (79 + 77) / 2.
  CHECK(bocb::selected_trial(done, "resnet8", "sgd", 0)->top1 == 0.79);
  CHECK(bocb::table_markdown(done, {"resnet8"}, {"sgd"}, 2.0, 4).find("78.00 ± 1.00") != std::string::npos);
  // Lion's tuned wd for R-50 is 0: no wd steps, straight to the other seeds.
  std::vector<bocb::CellResult> lion = {trial_result("lion", 0, -1, 0, 0.6), trial_result("lion", 0, 0, 0, 0.6),
                                        trial_result("lion", 0, 1, 0, 0.5)};
  CHECK(keys(bocb::ready_trials({"resnet8"}, {"lion"}, 2, 3, lion)) == std::vector<std::string>{"resnet8/lion/1"});
  // Ties go to the step nearer the centre; a diverged trial never wins.
  CHECK(bocb::selected_trial(lion, "resnet8", "lion", 0)->lr_step == 0);
  CHECK(bocb::best_trial({&done[4]}) == &done[4]);

  // Robustness: optimal steps sgd (1, −1), lion (0, 0), adamw (1, 0): mode lr step 1, mode wd step 0;
  // variations sgd 0 + 2, lion 2 + 0, adamw 0.
  std::vector<bocb::CellResult> grid = done;
  grid.insert(grid.end(), lion.begin(), lion.end());
  for (int k = -1; k <= 1; ++k) grid.push_back(trial_result("adamw", 0, k, 0, k == 1 ? 0.9 : 0.8));
  for (int j : {-1, 1}) grid.push_back(trial_result("adamw", 0, 1, j, 0.85));
  const bocb::Robustness r = bocb::hp_robustness(grid, "resnet8", {"sgd", "lion", "adamw"}, 3);
  CHECK(r.found == std::vector<bool>{true, true, true});
  CHECK(r.mode_lr_step == 1);
  CHECK(r.mode_wd_step == 0);
  CHECK(r.variation == std::vector<int>{2, 2, 0});
  CHECK(r.mean_variation == Approx(4.0 / 3.0));
  const std::string md = bocb::robustness_markdown(grid, {"resnet8"}, {"sgd", "lion", "adamw"}, 3);
  INFO(md);
  CHECK(md.find("| sgd | lr×2 wd×0.5 (2) | 2.00 |") != std::string::npos);
  CHECK(md.find("| mean variation | 1.33 |") != std::string::npos);
  // An unfinished search is left out.
  grid.pop_back();
  CHECK(bocb::hp_robustness(grid, "resnet8", {"sgd", "lion", "adamw"}, 3).found == std::vector<bool>{true, true, false});
  // The JSONL keeps the steps.
  CHECK(bocb::cell_from_json(bocb::to_json(done[4])).wd_step == 1);
  CHECK(bocb::cell_key(done[4]) == "resnet8/sgd/0/lr1/wd1");
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
  CHECK(second.output.find("1 trials already done: resuming") != std::string::npos);
  CHECK(second.output.find("done mlp:width=16/sgd/0") == std::string::npos);
  CHECK(second.output.find("done mlp:width=16/adamw/0") != std::string::npos);
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
  // Two cells at a time in worker processes (one thread each): the same results as in-process.
  Outcome parallel = run("bocb", common + "p --jobs 2 --threads 2", scratch.path());
  INFO(parallel.output);
  REQUIRE(parallel.status == 0);
  CHECK(parallel.output.find("2 cells at a time, 1 threads each") != std::string::npos);
  const std::vector<bocb::CellResult> p = bocb::read_results(scratch.path() / "bocb" / "gp" / "results.jsonl");
  REQUIRE(p.size() == 2);
  for (const bocb::CellResult& cell : p) {
    const bocb::CellResult& serial = cell.optimizer == "sgd" ? before[0] : before[1];
    CHECK(cell.status == "ok");
    CHECK(cell.top1 == serial.top1);
  }
  CHECK(fs::exists(scratch.path() / "bocb" / "gp" / "logs" / "mlp-width-16_sgd_s0.log"));
  CHECK(fs::exists(scratch.path() / "bocb" / "gp" / "layer_stats.csv"));
  // With plots (the last of --no-plot / --plot wins): scripts/plot.py --layer-stats makes the ridge
  // and box plots, when Debian's python3 has matplotlib.
  if (std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") == 0) {
    Outcome plotted = run("bocb", common + "p --jobs 2 --threads 2 --plot", scratch.path());
    INFO(plotted.output);
    CHECK(plotted.status == 0);
    for (const char* png : {"layer_alpha_ridge.png", "layer_entropy_ridge.png", "layer_l2_norm.png", "layer_pca_energy_top4_ridge.png"})
      CHECK(fs::exists(scratch.path() / "bocb" / "gp" / png));
  }

  // A 3-point lr/wd search with 2 seeds, in parallel: 3 lr trials, 2 wd trials, then seed 1 at the
  // best: 6 trials, and the robustness table.
  Outcome search = run("bocb", common + "h --optimizers sgd --seeds 2 --hp-search --hp-points 3 --jobs 2 --threads 2",
                       scratch.path());
  INFO(search.output);
  REQUIRE(search.status == 0);
  CHECK(count_lines(scratch.path() / "bocb" / "gh" / "results.jsonl") == 6);
  const std::string searched = read(scratch.path() / "bocb" / "gh" / "results.md");
  INFO(searched);
  CHECK(searched.find("Hyperparameter robustness") != std::string::npos);
  CHECK(searched.find("| mean variation | 0.00 |") != std::string::npos);  // one optimizer: its own mode
  bad = run("bocb", common + "h2 --hp-search --hp-points 4", scratch.path());
  CHECK(bad.status != 0);
  CHECK(bad.output.find("--hp-points must be odd") != std::string::npos);

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
  // The EMA of the full state (BN statistics too) runs as well.
  Outcome full = run("sema", arguments + "3 --variants ema,sema --ema-full-state --flatness-points 0", scratch.path());
  INFO(full.output);
  CHECK(full.status == 0);
  CHECK(read(scratch.path() / "sema" / "s3" / "config.json").find("\"full_state\": true") != std::string::npos);
  // Switch points counted in iterations (8 steps): every 2 after the EMA update of steps 2, 4, 6, not
  // after the last step (8); the "ema" variant never switches. With start 1 and end 6: steps 3 and 5.
  // In epochs (5 epochs, asked at the starts of epochs 2-5, i.e. 1-4 done): every 2 → after epochs 2 and 4.
  const auto switches = [&](const std::string& name, const std::string& options, const std::string& variant) {
    Outcome switched = run("sema", arguments + name + " --variants ema,sema --flatness-points 0 " + options, scratch.path());
    INFO(switched.output);
    REQUIRE(switched.status == 0);
    const std::string table = read(scratch.path() / "sema" / ("s" + name) / "results.md");
    INFO(table);
    CHECK(table_cell(table, "ema", 6) == "0");
    return table_cell(table, variant, 6);
  };
  CHECK(switches("i2", "--switch-by-iter --switch-interval 2", "sema") == "3");
  CHECK(switches("i2se", "--switch-by-iter --switch-interval 2 --switch-start 1 --switch-end 6", "sema") == "2");
  CHECK(switches("e2", "--epochs 5 --switch-interval 2", "sema") == "2");
  CHECK(read(scratch.path() / "sema" / "si2" / "results.md").find("SEMA switches every 2 iterations") != std::string::npos);
  CHECK(read(scratch.path() / "sema" / "si2" / "config.json").find("\"by_iter\": true") != std::string::npos);
  // The quick preset's EMA and switch settings (on synthetic data here): full state, every 19 iterations;
  // `--switch-by-epoch` alone means every epoch, `--ema-params-only` turns the full state off.
  const auto quick_ema = [&](const std::string& name, const std::string& options) {
    Outcome quick = run("sema", arguments + name + " --preset quick --variants ema --max-steps 1 --flatness-points 0 " + options,
                        scratch.path());
    INFO(quick.output);
    REQUIRE(quick.status == 0);
    return nlohmann::json::parse(read(scratch.path() / "sema" / ("s" + name) / "config.json"))["ema"];
  };
  nlohmann::json ema = quick_ema("q", "");
  CHECK(ema["momentum"] == 0.973);
  CHECK(ema["full_state"] == true);
  CHECK(ema["switch"]["by_iter"] == true);
  CHECK(ema["switch"]["interval"] == 19);
  ema = quick_ema("qe", "--switch-by-epoch --ema-params-only");
  CHECK(ema["full_state"] == false);
  CHECK(ema["switch"]["by_iter"] == false);
  CHECK(ema["switch"]["interval"] == 1);
  // Switch points that cannot happen fail before anything trains, naming the values.
  Outcome never = run("sema", arguments + "n --switch-start 3 --switch-end 2", scratch.path());
  CHECK(never.status != 0);
  CHECK(never.output.find("end (2) must be after start (3)") != std::string::npos);
  CHECK_FALSE(fs::exists(scratch.path() / "sema" / "sn"));
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
