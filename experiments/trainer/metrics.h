// Metrics files of a run folder: metrics.jsonl (one JSON object a line) and metrics.csv (fixed
// columns, empty cells for keys a record lacks), appended and flushed per record so a killed run
// keeps every line it logged. scripts/plot.py reads the jsonl. Twins: run_dir.{h,cpp} (the folder),
// trainer.cpp (what is logged). Tests: test/trainer/test_run_dir.cpp.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ember::experiments {

class MetricsLog {
 public:
  // The columns of the csv, in order; a record's other keys go to the jsonl only.
  static const std::vector<std::string>& default_columns();

  // Opens (appends to) dir/metrics.jsonl and dir/metrics.csv. keep_up_to_step >= 0 (a resumed
  // run) first drops the records with "step" > keep_up_to_step: those came from the part of the
  // killed run after its last checkpoint, which the resumed run trains again.
  explicit MetricsLog(const std::filesystem::path& dir, int64_t keep_up_to_step = -1,
                      std::vector<std::string> columns = default_columns());
  void write(const nlohmann::ordered_json& record);

  const std::filesystem::path& jsonl_path() const { return jsonl_path_; }
  const std::filesystem::path& csv_path() const { return csv_path_; }

 private:
  std::filesystem::path jsonl_path_, csv_path_;
  std::vector<std::string> columns_;
  std::ofstream jsonl_, csv_;
};

// One csv cell: numbers with round-trip precision, strings quoted when they need it.
std::string csv_cell(const nlohmann::ordered_json& value);

}  // namespace ember::experiments
