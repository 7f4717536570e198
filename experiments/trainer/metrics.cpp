// metrics.jsonl / metrics.csv appenders (see metrics.h).
#include "experiments/trainer/metrics.h"

#include <cstdlib>
#include <sstream>

#include "engine/error.h"

namespace ember::experiments {

namespace fs = std::filesystem;

const std::vector<std::string>& MetricsLog::default_columns() {
  static const std::vector<std::string> columns = {"kind",     "epoch",    "step",     "lr",
                                                   "loss",     "acc",      "top5",     "samples_per_s",
                                                   "time_s"};
  return columns;
}

namespace {

// Keeps the lines of `path` for which keep(line) holds (rewritten through a temp file + rename).
template <class Keep>
void filter_lines(const fs::path& path, Keep keep) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  bool first = true;
  while (std::getline(in, line)) {
    if (keep(line, first)) kept += line + "\n";
    first = false;
  }
  in.close();
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    EMBER_CHECK(out.good(), "metrics: cannot write {}", tmp.string());
    out << kept;
  }
  fs::rename(tmp, path);
}

std::ofstream open_append(const fs::path& path) {
  std::ofstream out(path, std::ios::app);
  EMBER_CHECK(out.good(), "metrics: cannot open {} for writing (is the run folder writable?)", path.string());
  return out;
}

}  // namespace

std::string csv_cell(const nlohmann::ordered_json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string quoted = "\"";
    for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  }
  return value.dump();  // numbers (shortest round-trip form) and booleans
}

MetricsLog::MetricsLog(const fs::path& dir, int64_t keep_up_to_step, std::vector<std::string> columns)
    : jsonl_path_(dir / "metrics.jsonl"), csv_path_(dir / "metrics.csv"), columns_(std::move(columns)) {
  if (keep_up_to_step >= 0) {
    auto step_of = [](const nlohmann::ordered_json& record) {
      return record.contains("step") && record["step"].is_number() ? record["step"].get<int64_t>() : int64_t{0};
    };
    filter_lines(jsonl_path_, [&](const std::string& line, bool) {
      auto record = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
      return !record.is_discarded() && step_of(record) <= keep_up_to_step;
    });
    // The csv's step column is found from its header.
    size_t step_column = 0;
    for (; step_column < columns_.size() && columns_[step_column] != "step"; ++step_column) {}
    filter_lines(csv_path_, [&](const std::string& line, bool header) {
      if (header) return true;
      std::stringstream cells(line);
      std::string cell;
      for (size_t i = 0; i <= step_column && std::getline(cells, cell, ','); ++i) {}
      return cell.empty() || std::strtoll(cell.c_str(), nullptr, 10) <= keep_up_to_step;
    });
  }
  const bool csv_is_new = !fs::exists(csv_path_) || fs::file_size(csv_path_) == 0;
  jsonl_ = open_append(jsonl_path_);
  csv_ = open_append(csv_path_);
  if (csv_is_new) {
    for (size_t i = 0; i < columns_.size(); ++i) csv_ << (i ? "," : "") << columns_[i];
    csv_ << "\n" << std::flush;
  }
}

void MetricsLog::write(const nlohmann::ordered_json& record) {
  jsonl_ << record.dump() << "\n" << std::flush;
  for (size_t i = 0; i < columns_.size(); ++i) {
    csv_ << (i ? "," : "");
    if (record.contains(columns_[i])) csv_ << csv_cell(record[columns_[i]]);
  }
  csv_ << "\n" << std::flush;
  EMBER_CHECK(jsonl_.good() && csv_.good(), "metrics: writing {} failed (disk full?)", jsonl_path_.string());
}

}  // namespace ember::experiments
