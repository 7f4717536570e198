// The run folder: runs/<experiment>/<name or timestamp>/ holding config.json (every effective
// setting), metrics.jsonl/.csv (metrics.h), checkpoint/ (checkpoint.h), results.md and the plots.
// An existing run folder is never replaced unless the caller passes overwrite; a folder that cannot
// be created gives a one-line error naming it. Tests: test/trainer/test_run_dir.cpp.
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace ember::experiments {

struct RunDirOptions {
  std::string runs_dir = "runs";
  std::string experiment = "train";
  std::string name;        // empty: a timestamp (YYYYmmdd-HHMMSS)
  bool overwrite = false;  // replace an existing folder of the same name
};

class RunDir {
 public:
  // A new run: creates the folder. Throws ember::Error when it exists (and !overwrite) or cannot be
  // created.
  static RunDir create(const RunDirOptions& options);
  // A resumed run: `path` is the run folder, its checkpoint/ folder or a checkpoint inside it.
  static RunDir open_existing(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path checkpoint_dir() const { return path_ / "checkpoint"; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

  // config.json (pretty-printed, keys in the caller's order), written atomically.
  void write_config(const nlohmann::ordered_json& config) const;
  nlohmann::ordered_json read_config() const;
  // results.md: a title, then a two-column markdown table of (metric, value).
  void write_results(const std::string& title, const std::vector<std::pair<std::string, std::string>>& rows) const;

 private:
  explicit RunDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

// Writes `text` to path.tmp.<pid> and renames it over `path` (a crash never leaves a torn file).
void write_file_atomically(const std::filesystem::path& path, const std::string& text);
std::string read_file(const std::filesystem::path& path);

}  // namespace ember::experiments
