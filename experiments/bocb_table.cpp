// The BOCB tables as data, Table 1's statistics, the grid's results JSONL, per-layer statistics and
// the shared data/model set-up. Header: experiments/bocb_table.h (what each function means).
#include "experiments/bocb_table.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "data/transforms.h"
#include "ember.h"
#include "experiments/trainer/run_dir.h"
#include "models/zoo.h"

// LAPACK (OpenBLAS ships it): eigenvalues, and optionally vectors, of a symmetric matrix.
extern "C" void ssyevd_(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w, float* work,
                        const int* lwork, int* iwork, const int* liwork, int* info);

namespace ember::experiments::bocb {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The §1.5 columns we use, in this order. Rows: "lr/wd" exactly as the paper prints them.
const std::vector<std::string> kColumns = {"VGG-13", "R-50", "DeiT-S", "MLP-S", "CNX-T"};

struct OptimizerRow {
  std::string category;
  std::vector<std::string> tuned;  // §1.5, kColumns order
  std::vector<double> top1;        // Table 1 (%), kColumns order
};

// Paper row order (Table 1). Generated from papers.md §1.4/§1.5 by a script, not retyped.
const std::vector<std::pair<std::string, OptimizerRow>>& rows() {
  static const std::vector<std::pair<std::string, OptimizerRow>> table = {
      {"sgd", {"a", {"3e-1/2e-4", "1e-1/1e-4", "1e-1/1e-4", "2e-1/5e-5", "5e-2/1e-8"}, {77.08, 78.76, 63.20, 72.64, 60.09}}},
      {"sgdp", {"a", {"3e-1/1e-4", "2e-1/5e-4", "1e-1/1e-4", "2e-1/1e-4", "5e-3/1e-8"}, {77.56, 79.25, 63.53, 69.24, 61.25}}},
      {"lion", {"a", {"5e-5/0", "1e-4/0", "5e-5/1e-3", "1e-4/0", "5e-4/0"}, {73.87, 75.28, 74.57, 74.19, 82.29}}},
      {"adam", {"b", {"5e-4/1e-8", "5e-4/1e-8", "5e-4/1e-8", "5e-4/1e-8", "2e-3/1e-8"}, {73.41, 74.55, 71.04, 72.84, 82.03}}},
      {"adamax", {"b", {"5e-4/1e-8", "1e-3/1e-4", "5e-4/1e-4", "1e-3/0", "1e-3/1e-8"}, {73.80, 75.21, 73.31, 73.07, 80.25}}},
      {"nadam", {"b", {"5e-4/0", "1e-3/0", "1e-4/0", "5e-4/1e-8", "2e-3/1e-8"}, {73.96, 74.82, 72.75, 73.77, 82.26}}},
      {"adamw", {"b", {"5e-4/5e-2", "1e-3/5e-2", "5e-4/5e-2", "5e-4/5e-2", "5e-4/5e-2"}, {73.90, 75.56, 72.15, 73.59, 83.52}}},
      {"lamb", {"b", {"5e-3/2e-2", "5e-3/5e-2", "5e-3/5e-2", "5e-3/5e-2", "5e-3/5e-2"}, {75.55, 77.19, 75.39, 74.98, 84.13}}},
      {"radam", {"b", {"1e-3/0", "1e-3/0", "1e-4/1e-8", "1e-3/1e-8", "2e-3/1e-8"}, {74.64, 75.19, 72.41, 72.11, 82.18}}},
      {"adamp", {"b", {"5e-3/5e-2", "1e-3/5e-2", "1e-3/5e-2", "5e-4/5e-2", "5e-3/2e-2"}, {75.56, 78.17, 71.55, 73.66, 84.47}}},
      {"adan", {"b", {"5e-3/5e-2", "2e-3/5e-2", "2e-3/5e-2", "2e-3/2e-2", "5e-3/5e-2"}, {74.90, 77.08, 76.33, 74.94, 84.65}}},
      {"adabound", {"c", {"1e-3/2e-2", "5e-4/1e-2", "5e-3/0", "5e-3/0", "5e-3/1e-4"}, {77.00, 78.11, 68.59, 70.31, 71.96}}},
      {"lars", {"c", {"1.2/5e-5", "1.2/1e-4", "0.6/1e-6", "0.5/1e-6", "6e-2/0"}, {75.71, 78.25, 71.36, 72.64, 61.40}}},
      {"adafactor", {"c", {"5e-4/5e-2", "5e-4/1e-2", "2e-4/1e-2", "1e-3/1e-2", "5e-4/5e-2"}, {74.49, 75.41, 74.02, 71.16, 82.82}}},
      {"adabelief", {"c", {"1e-3/2e-2", "5e-3/5e-2", "5e-3/1e-2", "5e-3/2e-2", "5e-3/1e-2"}, {75.09, 80.53, 70.66, 73.30, 83.31}}},
      {"novograd", {"c", {"2e-3/1e-2", "2e-3/1e-2", "5e-3/1e-4", "1e-3/0", "3e-3/1e-4"}, {76.09, 79.36, 73.13, 67.03, 79.99}}},
      {"sophia", {"c", {"5e-5/1e-1", "1e-4/1e-1", "1e-4/2e-1", "1e-4/5e-4", "5e-4/2e-1"}, {74.18, 75.19, 71.47, 72.74, 83.76}}},
      {"adagrad", {"d", {"5e-4/1e-8", "5e-4/1e-8", "1e-4/1e-4", "1e-4/1e-4", "5e-4/1e-8"}, {71.29, 73.30, 67.24, 67.50, 75.63}}},
      {"adadelta", {"d", {"2.0/0", "1.5/0", "2.0/0", "2.0/1e-8", "2.4/0"}, {74.14, 75.07, 65.44, 71.32, 74.25}}},
      {"rmsprop", {"d", {"5e-4/1e-8", "1e-3/0", "5e-4/1e-8", "5e-4/0", "2e-3/1e-8"}, {73.30, 74.25, 70.71, 71.63, 82.29}}},
  };
  return table;
}

const OptimizerRow& row(const std::string& optimizer) {
  for (const auto& [name, r] : rows())
    if (name == optimizer) return r;
  EMBER_CHECK(false, "bocb: unknown optimizer '{}' (the study's: {})", optimizer, fmt::join(study_optimizers(), ", "));
  return rows().front().second;  // unreachable
}

int column_index(const std::string& column) {
  const auto it = std::find(kColumns.begin(), kColumns.end(), column);
  return it == kColumns.end() ? -1 : static_cast<int>(it - kColumns.begin());
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

// ---- hyperparameters ----

const std::vector<std::string>& study_optimizers() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& entry : rows()) out.push_back(entry.first);
    return out;
  }();
  return names;
}

std::string optimizer_category(const std::string& optimizer) { return row(optimizer).category; }

std::string table_column(const std::string& backbone) {
  if (starts_with(backbone, "vgg")) return "VGG-13";
  if (starts_with(backbone, "resnet")) return "R-50";
  if (starts_with(backbone, "vit") || starts_with(backbone, "deit")) return "DeiT-S";
  if (starts_with(backbone, "convnext")) return "CNX-T";
  if (starts_with(backbone, "mlp")) return "MLP-S";
  return "";
}

bool uses_modern_recipe(const std::string& backbone) {
  const std::string column = table_column(backbone);
  return column == "DeiT-S" || column == "CNX-T";
}

std::optional<HyperParams> tuned_hyperparams(const std::string& optimizer, const std::string& column) {
  const OptimizerRow& r = row(optimizer);
  const int index = column_index(column);
  if (index < 0) return std::nullopt;
  const std::string& cell = r.tuned[static_cast<size_t>(index)];
  const size_t slash = cell.find('/');
  return HyperParams{std::stod(cell.substr(0, slash)), std::stod(cell.substr(slash + 1))};
}

HyperParams default_hyperparams(const std::string& optimizer, bool modern_recipe) {
  return *tuned_hyperparams(optimizer, modern_recipe ? "DeiT-S" : "R-50");
}

HyperParams cell_hyperparams(const std::string& optimizer, const std::string& backbone, std::string* source) {
  const std::string column = table_column(backbone);
  if (auto tuned = tuned_hyperparams(optimizer, column)) {
    if (source) *source = "§1.5 " + column;
    return *tuned;
  }
  const bool modern = uses_modern_recipe(backbone);
  if (source) *source = modern ? "default (DeiT-S column)" : "default (R-50 column)";
  return default_hyperparams(optimizer, modern);
}

std::optional<double> paper_top1(const std::string& optimizer, const std::string& column) {
  const int index = column_index(column);
  if (index < 0) return std::nullopt;
  return row(optimizer).top1[static_cast<size_t>(index)];
}

// ---- statistics ----

double quantile(std::vector<double> values, double q) {
  EMBER_CHECK(!values.empty(), "bocb quantile: no values");
  EMBER_CHECK(q >= 0.0 && q <= 1.0, "bocb quantile: q must be in [0, 1], got {}", q);
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return values[below] + fraction * (values[above] - values[below]);
}

std::vector<bool> failures(const std::vector<double>& results, double gamma) {
  std::vector<double> finite;
  for (double r : results)
    if (std::isfinite(r)) finite.push_back(r);
  std::vector<bool> failed(results.size(), true);
  if (finite.empty()) return failed;
  const double bound = quantile(finite, 0.5) - gamma;
  for (size_t i = 0; i < results.size(); ++i) failed[i] = !std::isfinite(results[i]) || results[i] < bound;
  return failed;
}

std::vector<bool> top_k(const std::vector<double>& results, int k) {
  std::vector<double> finite;
  for (double r : results)
    if (std::isfinite(r)) finite.push_back(r);
  std::vector<bool> marked(results.size(), false);
  if (finite.empty() || k <= 0) return marked;
  std::sort(finite.begin(), finite.end(), std::greater<>());
  const double kth = finite[std::min(finite.size(), static_cast<size_t>(k)) - 1];
  for (size_t i = 0; i < results.size(); ++i) marked[i] = std::isfinite(results[i]) && results[i] >= kth;
  return marked;
}

Summary summary_without_worst(const std::vector<double>& results) {
  std::vector<double> values = results;
  // The worst: a NaN when there is one, else the smallest value.
  auto worst = std::find_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); });
  if (worst == values.end()) worst = std::min_element(values.begin(), values.end());
  if (worst != values.end()) values.erase(worst);
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }), values.end());
  Summary s;
  s.count = static_cast<int64_t>(values.size());
  if (values.empty()) return {kNaN, kNaN, kNaN, 0};
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  double squares = 0.0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(squares / static_cast<double>(values.size()));  // population std, as numpy's default
  s.range = *std::max_element(values.begin(), values.end()) - *std::min_element(values.begin(), values.end());
  return s;
}

// ---- results JSONL ----

nlohmann::json to_json(const CellResult& c) {
  const auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"backbone", c.backbone}, {"optimizer", c.optimizer}, {"seed", c.seed}, {"status", c.status},
          {"top1", number(c.top1)}, {"best_top1", number(c.best_top1)}, {"lr", c.lr}, {"weight_decay", c.weight_decay},
          {"steps", c.steps}, {"seconds", c.seconds}, {"cpu_seconds", c.cpu_seconds}, {"message", c.message}, {"lr_step", c.lr_step},
          {"wd_step", c.wd_step}};
}

CellResult cell_from_json(const nlohmann::json& j) {
  const auto number = [&](const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN; };
  CellResult c;
  c.backbone = j.at("backbone").get<std::string>();
  c.optimizer = j.at("optimizer").get<std::string>();
  c.seed = j.at("seed").get<uint64_t>();
  c.status = j.value("status", "ok");
  c.top1 = number("top1");
  c.best_top1 = number("best_top1");
  c.lr = number("lr");
  c.weight_decay = number("weight_decay");
  c.steps = j.value("steps", int64_t{0});
  c.seconds = number("seconds");
  c.cpu_seconds = j.value("cpu_seconds", 0.0);
  c.message = j.value("message", "");
  c.lr_step = j.value("lr_step", 0);
  c.wd_step = j.value("wd_step", 0);
  return c;
}

std::string cell_key(const std::string& backbone, const std::string& optimizer, uint64_t seed, int lr_step,
                     int wd_step) {
  if (lr_step == 0 && wd_step == 0) return fmt::format("{}/{}/{}", backbone, optimizer, seed);
  return fmt::format("{}/{}/{}/lr{}/wd{}", backbone, optimizer, seed, lr_step, wd_step);
}

std::string cell_key(const CellResult& c) { return cell_key(c.backbone, c.optimizer, c.seed, c.lr_step, c.wd_step); }
std::string cell_key(const Trial& t) { return cell_key(t.backbone, t.optimizer, t.seed, t.lr_step, t.wd_step); }

// ---- hyperparameter search ----

double hp_factor(int step) { return std::pow(kHpFactor, step); }

namespace {
// Nearer the centre first, then the smaller step: the order ties are broken in.
bool nearer_centre(int a, int b) { return std::abs(a) != std::abs(b) ? std::abs(a) < std::abs(b) : a < b; }

std::vector<const CellResult*> trials_of(const std::vector<CellResult>& cells, const std::string& backbone,
                                         const std::string& optimizer, uint64_t seed) {
  std::vector<const CellResult*> out;
  for (const CellResult& c : cells)
    if (c.backbone == backbone && c.optimizer == optimizer && c.seed == seed) out.push_back(&c);
  return out;
}

double score(const CellResult& c) { return c.status == "ok" && std::isfinite(c.top1) ? c.top1 : -1.0; }
}  // namespace

const CellResult* best_trial(const std::vector<const CellResult*>& trials) {
  const CellResult* best = nullptr;
  for (const CellResult* t : trials) {
    if (!best || score(*t) > score(*best)) best = t;
    else if (score(*t) == score(*best) && (nearer_centre(t->lr_step, best->lr_step) ||
                                           (t->lr_step == best->lr_step && nearer_centre(t->wd_step, best->wd_step))))
      best = t;
  }
  return best;
}

const CellResult* selected_trial(const std::vector<CellResult>& cells, const std::string& backbone,
                                 const std::string& optimizer, uint64_t seed) {
  return best_trial(trials_of(cells, backbone, optimizer, seed));
}

std::vector<Trial> ready_trials(const std::vector<std::string>& backbones, const std::vector<std::string>& optimizers,
                                int64_t seeds, int hp_points, const std::vector<CellResult>& done) {
  std::set<std::string> finished;
  for (const CellResult& c : done) finished.insert(cell_key(c));
  std::vector<Trial> ready;
  const auto add = [&](const Trial& t) {
    if (!finished.count(cell_key(t))) ready.push_back(t);
  };
  const int half = hp_points > 1 ? hp_points / 2 : 0;
  for (const std::string& b : backbones)
    for (const std::string& o : optimizers) {
      if (half == 0) {
        for (int64_t s = 0; s < seeds; ++s) add({b, o, static_cast<uint64_t>(s), 0, 0});
        continue;
      }
      // Whether every trial of a phase has finished, and the best of them.
      const auto phase = [&](int lr_step, bool vary_lr) {
        std::vector<const CellResult*> trials;
        bool complete = true;
        for (int k = -half; k <= half; ++k) {
          const Trial t{b, o, 0, vary_lr ? k : lr_step, vary_lr ? 0 : k};
          const auto it = std::find_if(done.begin(), done.end(), [&](const CellResult& c) { return cell_key(c) == cell_key(t); });
          if (it == done.end()) {
            complete = false;
            add(t);
          } else {
            trials.push_back(&*it);
          }
        }
        return complete ? best_trial(trials) : nullptr;
      };
      const CellResult* best_lr = phase(0, true);
      if (!best_lr) continue;
      const CellResult* best = best_lr;
      if (cell_hyperparams(o, b).weight_decay > 0.0) {
        best = phase(best_lr->lr_step, false);
        if (!best) continue;
      }
      for (int64_t s = 1; s < seeds; ++s) add({b, o, static_cast<uint64_t>(s), best->lr_step, best->wd_step});
    }
  return ready;
}

Robustness hp_robustness(const std::vector<CellResult>& cells, const std::string& backbone,
                         const std::vector<std::string>& optimizers, int hp_points) {
  Robustness r;
  const size_t O = optimizers.size();
  r.lr_step.assign(O, 0);
  r.wd_step.assign(O, 0);
  r.variation.assign(O, 0);
  r.found.assign(O, false);
  // An optimizer's search is finished when no seed-0 trial of it is ready or pending: then its best
  // seed-0 trial holds the optimal steps.
  const std::vector<Trial> pending_trials = ready_trials({backbone}, optimizers, 1, hp_points, cells);
  std::map<int, int> lr_votes, wd_votes;
  for (size_t o = 0; o < O; ++o) {
    const bool pending = std::any_of(pending_trials.begin(), pending_trials.end(),
                                     [&](const Trial& t) { return t.optimizer == optimizers[o]; });
    const CellResult* best = selected_trial(cells, backbone, optimizers[o], 0);
    if (pending || !best) continue;
    r.found[o] = true;
    r.lr_step[o] = best->lr_step;
    r.wd_step[o] = best->wd_step;
    ++lr_votes[best->lr_step];
    ++wd_votes[best->wd_step];
  }
  const auto mode = [](const std::map<int, int>& votes) {
    int best = 0, count = -1;
    for (const auto& [step, n] : votes)
      if (n > count || (n == count && nearer_centre(step, best))) {
        best = step;
        count = n;
      }
    return best;
  };
  r.mode_lr_step = mode(lr_votes);
  r.mode_wd_step = mode(wd_votes);
  int found = 0, total = 0;
  for (size_t o = 0; o < O; ++o) {
    if (!r.found[o]) continue;
    // |onehot(a) − onehot(b)|₁ is 0 when a = b, else 2.
    r.variation[o] = (r.lr_step[o] != r.mode_lr_step ? 2 : 0) + (r.wd_step[o] != r.mode_wd_step ? 2 : 0);
    total += r.variation[o];
    ++found;
  }
  r.mean_variation = found > 0 ? static_cast<double>(total) / found : kNaN;
  return r;
}

std::string robustness_markdown(const std::vector<CellResult>& cells, const std::vector<std::string>& backbones,
                                const std::vector<std::string>& optimizers, int hp_points) {
  if (hp_points <= 1) return "";
  std::vector<Robustness> per_backbone;
  for (const std::string& b : backbones) per_backbone.push_back(hp_robustness(cells, b, optimizers, hp_points));
  const auto factors = [](int lr_step, int wd_step) {
    return fmt::format("lr×{:g} wd×{:g}", hp_factor(lr_step), hp_factor(wd_step));
  };
  std::ostringstream out;
  out << "| optimizer |";
  for (const auto& b : backbones) out << " " << b << " |";
  out << " mean variation |\n|---|";
  for (size_t b = 0; b <= backbones.size(); ++b) out << "---|";
  out << "\n";
  for (size_t o = 0; o < optimizers.size(); ++o) {
    out << "| " << optimizers[o] << " |";
    double sum = 0.0;
    int n = 0;
    for (const Robustness& r : per_backbone) {
      if (!r.found[o]) {
        out << " — |";
        continue;
      }
      out << fmt::format(" {} ({}) |", factors(r.lr_step[o], r.wd_step[o]), r.variation[o]);
      sum += r.variation[o];
      ++n;
    }
    out << (n > 0 ? fmt::format(" {:.2f} |", sum / n) : std::string(" — |")) << "\n";
  }
  out << "| mode (M_lr, M_wd) |";
  for (const Robustness& r : per_backbone) out << " " << factors(r.mode_lr_step, r.mode_wd_step) << " |";
  out << " |\n| mean variation |";
  for (const Robustness& r : per_backbone) out << fmt::format(" {:.2f} |", r.mean_variation);
  out << " |\n";
  return out.str();
}

std::vector<CellResult> read_results(const std::filesystem::path& jsonl) {
  std::vector<CellResult> cells;
  std::ifstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("backbone")) continue;  // a torn last line
    cells.push_back(cell_from_json(json));
  }
  return cells;
}

void append_result(const std::filesystem::path& jsonl, const CellResult& cell) {
  std::ofstream out(jsonl, std::ios::app);
  EMBER_CHECK(out.good(), "bocb: cannot append to {}", jsonl.string());
  out << to_json(cell).dump() << "\n";
  out.flush();
  EMBER_CHECK(out.good(), "bocb: writing {} failed", jsonl.string());
}

std::string table_markdown(const std::vector<CellResult>& cells, const std::vector<std::string>& backbones,
                           const std::vector<std::string>& optimizers, double gamma, int top) {
  // mean and std (population) over seeds of a cell's final top-1 (%); NaN when any seed diverged.
  const size_t B = backbones.size(), O = optimizers.size();
  std::vector<std::vector<double>> mean(B, std::vector<double>(O, kNaN)), spread(B, std::vector<double>(O, kNaN));
  std::vector<std::vector<int>> seeds(B, std::vector<int>(O, 0));
  for (size_t b = 0; b < B; ++b)
    for (size_t o = 0; o < O; ++o) {
      std::vector<double> values;
      bool diverged = false;
      std::set<uint64_t> seen;
      for (const CellResult& c : cells) {
        if (c.backbone != backbones[b] || c.optimizer != optimizers[o] || !seen.insert(c.seed).second) continue;
        const CellResult& chosen = *selected_trial(cells, backbones[b], optimizers[o], c.seed);
        diverged = diverged || chosen.status != "ok" || !std::isfinite(chosen.top1);
        values.push_back(100.0 * chosen.top1);
      }
      seeds[b][o] = static_cast<int>(values.size());
      if (values.empty() || diverged) continue;
      const double m = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
      double squares = 0.0;
      for (double v : values) squares += (v - m) * (v - m);
      mean[b][o] = m;
      spread[b][o] = std::sqrt(squares / static_cast<double>(values.size()));
    }
  std::ostringstream out;
  out << "| optimizer | category |";
  for (const auto& b : backbones) out << " " << b << " |";
  out << "\n|---|---|";
  for (size_t b = 0; b < B; ++b) out << "---|";
  out << "\n";
  std::vector<std::vector<bool>> failed(B), best(B);
  for (size_t b = 0; b < B; ++b) {
    failed[b] = failures(mean[b], gamma);
    best[b] = top_k(mean[b], top);
  }
  for (size_t o = 0; o < O; ++o) {
    out << "| " << optimizers[o] << " | " << optimizer_category(optimizers[o]) << " |";
    for (size_t b = 0; b < B; ++b) {
      std::string text;
      if (seeds[b][o] == 0) text = "—";
      else if (!std::isfinite(mean[b][o])) text = "~diverged~";
      else {
        text = seeds[b][o] > 1 ? fmt::format("{:.2f} ± {:.2f}", mean[b][o], spread[b][o]) : fmt::format("{:.2f}", mean[b][o]);
        if (failed[b][o]) text = "~" + text + "~";
        else if (best[b][o]) text = "*" + text + "*";
      }
      if (auto paper = paper_top1(optimizers[o], table_column(backbones[b]))) text += fmt::format(" (paper {:.2f})", *paper);
      out << " " << text << " |";
    }
    out << "\n";
  }
  out << "| Mean | |";
  for (size_t b = 0; b < B; ++b) out << fmt::format(" {:.2f} |", summary_without_worst(mean[b]).mean);
  out << "\n| Std/Range | |";
  for (size_t b = 0; b < B; ++b) {
    const Summary s = summary_without_worst(mean[b]);
    out << fmt::format(" {:.2f}/{:.2f} |", s.std, s.range);
  }
  out << "\n";
  return out.str();
}

// ---- per-layer statistics ----

LayerStats layer_stats(const std::string& name, const Tensor& weight, int bins) {
  EMBER_CHECK(bins >= 1, "layer_stats: bins must be >= 1, got {}", bins);
  const Tensor w = weight.detach().to(DType::f64).contiguous();
  LayerStats s;
  s.name = name;
  s.shape = std::vector<int64_t>(w.sizes().begin(), w.sizes().end());
  s.numel = w.numel();
  if (s.numel == 0) return s;
  const double* data = w.data_ptr<double>();
  double squares = 0.0, lo = data[0], hi = data[0];
  for (int64_t i = 0; i < s.numel; ++i) {
    squares += data[i] * data[i];
    lo = std::min(lo, data[i]);
    hi = std::max(hi, data[i]);
  }
  s.l2_norm = std::sqrt(squares);
  std::vector<int64_t> counts(static_cast<size_t>(bins), 0);
  const double width = (hi - lo) / bins;
  for (int64_t i = 0; i < s.numel; ++i) {
    const int64_t bin = width > 0.0 ? std::min<int64_t>(bins - 1, static_cast<int64_t>((data[i] - lo) / width)) : 0;
    ++counts[static_cast<size_t>(bin)];
  }
  for (int64_t count : counts) {
    if (count == 0) continue;
    const double p = static_cast<double>(count) / static_cast<double>(s.numel);
    s.entropy -= p * std::log(p);
  }
  if (w.dim() >= 2) {
    // matrix: (out, in·k·k); X = M·Mᵀ on the smaller side (the nonzero spectrum of WᵀW either way).
    NoGradGuard no_grad;
    const Tensor rows = w.reshape({w.size(0), s.numel / w.size(0)}).to(DType::f32);
    // The nonzero spectrum of AᵀA equals that of A·Aᵀ: take the smaller Gram matrix.
    const auto gram = [](const Tensor& a) { return a.size(0) <= a.size(1) ? matmul(a, a.t()) : matmul(a.t(), a); };
    if (std::min(rows.size(0), rows.size(1)) >= kMinSpectrum) {
      const PowerLawFit fit = fit_power_law(symmetric_eigenvalues(gram(rows)));
      s.alpha = fit.alpha;
      s.alpha_lambda_min = fit.lambda_min;
      // rows: (out, features); centred over the output units.
      std::vector<double> pca = symmetric_eigenvalues(gram(rows - mean(rows, {0}, true)));
      std::sort(pca.begin(), pca.end(), std::greater<>());
      double total = 0.0, top = 0.0;
      for (size_t i = 0; i < pca.size(); ++i) {
        const double lambda = std::max(0.0, pca[i]);
        total += lambda;
        if (static_cast<int64_t>(i) < kPcaTopK) top += lambda;
      }
      if (total > 0.0) s.pca_energy = top / total;
    }
  }
  return s;
}

std::vector<double> symmetric_eigenvalues(const Tensor& x) {
  EMBER_CHECK(x.dim() == 2 && x.size(0) == x.size(1), "symmetric_eigenvalues: expected a square matrix, got {}", x.sizes());
  const int n = static_cast<int>(x.size(0));
  if (n == 0) return {};
  // Column-major and row-major agree for a symmetric matrix; ssyevd overwrites its input.
  Tensor a = x.detach().to(DType::f32).contiguous().clone();
  std::vector<float> w(static_cast<size_t>(n));
  int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  float work_query = 0.0f;
  ssyevd_("N", "U", &n, a.data_ptr<float>(), &n, w.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
  lwork = static_cast<int>(work_query);
  liwork = iwork_query;
  std::vector<float> work(static_cast<size_t>(std::max(1, lwork)));
  std::vector<int> iwork(static_cast<size_t>(std::max(1, liwork)));
  ssyevd_("N", "U", &n, a.data_ptr<float>(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  EMBER_CHECK(info == 0, "symmetric_eigenvalues: ssyevd failed (info {}) on a {}x{} matrix", info, n, n);
  return std::vector<double>(w.begin(), w.end());
}

PowerLawFit fit_power_law(std::vector<double> values, int64_t min_tail) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !(v > 0.0) || !std::isfinite(v); }),
               values.end());
  std::sort(values.begin(), values.end());
  PowerLawFit best;
  const auto n = static_cast<int64_t>(values.size());
  for (int64_t start = 0; start + min_tail <= n; ++start) {
    const double xmin = values[static_cast<size_t>(start)];
    if (start > 0 && xmin == values[static_cast<size_t>(start - 1)]) continue;  // the same tail
    const int64_t tail = n - start;
    double log_sum = 0.0;
    for (int64_t i = start; i < n; ++i) log_sum += std::log(values[static_cast<size_t>(i)] / xmin);
    if (!(log_sum > 0.0)) continue;
    const double alpha = 1.0 + static_cast<double>(tail) / log_sum;
    // KS distance between the tail's empirical CDF and P(x) = 1 − (x / xmin)^(1 − α).
    double ks = 0.0;
    for (int64_t i = start; i < n; ++i) {
      const double model = 1.0 - std::pow(values[static_cast<size_t>(i)] / xmin, 1.0 - alpha);
      const double below = static_cast<double>(i - start) / static_cast<double>(tail);
      const double upto = static_cast<double>(i - start + 1) / static_cast<double>(tail);
      ks = std::max({ks, std::abs(model - below), std::abs(upto - model)});
    }
    if (std::isnan(best.ks_distance) || ks < best.ks_distance) best = {alpha, xmin, ks, tail};
  }
  return best;
}

std::vector<LayerStats> model_layer_stats(const nn::Module& model) {
  std::vector<LayerStats> out;
  for (const auto& [name, param] : model.named_parameters())
    if (param.dim() >= 2) out.push_back(layer_stats(name, param));
  return out;
}

std::string layer_stats_csv(const std::vector<LayerStats>& stats, const std::string& backbone,
                            const std::string& optimizer, uint64_t seed, bool header) {
  std::ostringstream out;
  if (header) out << "backbone,optimizer,seed,layer,shape,numel,l2_norm,entropy,alpha,alpha_lambda_min,pca_energy_top4\n";
  const auto number = [](double v) { return std::isfinite(v) ? fmt::format("{:.9g}", v) : std::string(); };
  for (const LayerStats& s : stats)
    out << fmt::format("{},{},{},{},{},{},{:.9g},{:.9g},{},{},{}\n", backbone, optimizer, seed, s.name,
                       fmt::join(s.shape, "x"), s.numel, s.l2_norm, s.entropy, number(s.alpha), number(s.alpha_lambda_min),
                       number(s.pca_energy));
  return out.str();
}

// ---- data and model ----

namespace {
data::DatasetPtr first_examples(const data::DatasetPtr& dataset, int64_t count) {
  std::vector<int64_t> indices(static_cast<size_t>(std::min(count, dataset->size())));
  std::iota(indices.begin(), indices.end(), 0);
  return std::make_shared<data::Subset>(dataset, std::move(indices));
}
}  // namespace

ImageData make_image_data(const DataOptions& o) {
  ImageData d;
  d.info = data::image_dataset_info(o.dataset);
  d.channels = o.channels > 0 ? o.channels : d.info.channels;
  EMBER_CHECK(d.channels == d.info.channels || d.info.channels == 1,
              "--channels {} does not fit {} ({} channels): only a grey dataset's channel can be repeated", d.channels,
              d.info.name, d.info.channels);
  d.train_set = data::make_image_dataset(o.dataset, o.data_dir, /*train=*/true).dataset;
  d.test_set = data::make_image_dataset(o.dataset, o.data_dir, /*train=*/false).dataset;
  if (o.train_limit > 0) d.train_set = first_examples(d.train_set, o.train_limit);
  if (o.test_limit > 0) d.test_set = first_examples(d.test_set, o.test_limit);
  data::ImageTransformOptions transform;
  transform.augment = o.augment;
  transform.crop_padding = o.crop_padding;
  transform.size = d.info.height;
  transform.channels = d.channels;
  const data::TransformPtr train_transform = data::image_transforms(d.info, transform);
  d.train_transform = train_transform;
  transform.train = false;
  const data::TransformPtr test_transform = data::image_transforms(d.info, transform);
  d.train = std::make_unique<data::DataLoader>(
      d.train_set, data::DataLoaderOptions{.batch_size = o.batch_size, .shuffle = true, .seed = o.seed, .drop_last = true,
                                           .num_workers = o.workers},
      train_transform);
  d.test = std::make_unique<data::DataLoader>(
      d.test_set, data::DataLoaderOptions{.batch_size = 256, .shuffle = false, .num_workers = o.workers}, test_transform);
  EMBER_CHECK(d.train->num_batches() > 0, "{} training examples make no batch of {}: lower --batch-size",
              d.train_set->size(), o.batch_size);
  d.description = fmt::format("{} ({} train / {} test)", d.info.name, d.train_set->size(), d.test_set->size());
  return d;
}

nn::ModulePtr make_model(const std::string& name, const ImageData& data, int64_t width, std::string* description) {
  models::ModelConfig config;
  config.num_classes = data.info.num_classes;
  config.in_channels = data.channels;
  config.image_size = data.info.height;
  config.width = width;
  nn::ModulePtr model = models::create_model(name, config);
  if (description)
    *description = fmt::format("{}(width={}, in_channels={}, image_size={}, classes={}, {} parameters)", name, width,
                               data.channels, data.info.height, data.info.num_classes, model->num_parameters());
  return model;
}

void add_data_options(CLI::App& app, DataOptions& options) {
  app.add_option("--dataset", options.dataset, "dataset (" + fmt::format("{}", fmt::join(data::image_dataset_names(), ", ")) + ")");
  app.add_option("--data-dir", options.data_dir, "folder holding the dataset's files");
  app.add_option("--train-limit", options.train_limit, "use only the first N training examples (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--test-limit", options.test_limit, "use only the first N test examples (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--batch-size", options.batch_size, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--crop-padding", options.crop_padding, "padding of the random crop")->check(CLI::NonNegativeNumber);
  app.add_option("--workers", options.workers, "data-loader worker threads")->check(CLI::Range(0, 64));
}

}  // namespace ember::experiments::bocb
