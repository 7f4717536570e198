// Run folders (see run_dir.h).
#include "experiments/trainer/run_dir.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

#include "engine/error.h"

namespace ember::experiments {

namespace fs = std::filesystem;

namespace {

std::string timestamp_name() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%d-%H%M%S", &local);
  return text;
}

// Creates `path` and its parents; throws a one-line error that says what to do.
void create_directories_or_throw(const fs::path& path) {
  std::error_code error;
  fs::create_directories(path, error);
  EMBER_CHECK(!error, "run folder: cannot create {}: {} (choose a writable place with --runs-dir)", path.string(),
              error.message());
  // create_directories succeeds on an existing read-only folder: probe that we can write in it.
  const fs::path probe = path / ".write-test";
  std::ofstream test(probe);
  EMBER_CHECK(test.good(), "run folder: cannot write in {}: {} (choose a writable place with --runs-dir)",
              path.string(), std::strerror(errno));
  test.close();
  fs::remove(probe, error);
}

}  // namespace

void write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    EMBER_CHECK(out.good(), "cannot write {}: {}", tmp.string(), std::strerror(errno));
    out << text;
    out.flush();
    EMBER_CHECK(out.good(), "cannot write {}: {} (disk full?)", tmp.string(), std::strerror(errno));
  }
  std::error_code error;
  fs::rename(tmp, path, error);
  EMBER_CHECK(!error, "cannot rename {} to {}: {}", tmp.string(), path.string(), error.message());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EMBER_CHECK(in.good(), "cannot read {}: {}", path.string(), std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

RunDir RunDir::create(const RunDirOptions& options) {
  EMBER_CHECK(!options.experiment.empty(), "run folder: the experiment name is empty");
  const fs::path parent = fs::path(options.runs_dir) / options.experiment;
  std::string name = options.name;
  if (name.empty()) {
    // Two runs started within the same second get -2, -3, ...: a timestamp never overwrites.
    name = timestamp_name();
    for (int suffix = 2; fs::exists(parent / name); ++suffix) name = timestamp_name() + "-" + std::to_string(suffix);
  }
  EMBER_CHECK(name.find('/') == std::string::npos && name != "." && name != "..",
              "run folder: --name '{}' must be a plain folder name (no '/')", name);
  const fs::path path = parent / name;
  if (fs::exists(path)) {
    EMBER_CHECK(options.overwrite,
                "run folder {} already exists: pass --overwrite to replace it, --resume {} to continue it, or "
                "another --name",
                path.string(), path.string());
    std::error_code error;
    fs::remove_all(path, error);
    EMBER_CHECK(!error, "run folder: cannot remove {} for --overwrite: {}", path.string(), error.message());
  }
  create_directories_or_throw(path);
  return RunDir(path);
}

RunDir RunDir::open_existing(const fs::path& path) {
  // The run folder itself, its checkpoint/ folder, or checkpoint/last (or best).
  fs::path candidate = path;
  for (int up = 0; up < 3 && !candidate.empty(); ++up, candidate = candidate.parent_path())
    if (fs::exists(candidate / "config.json")) return RunDir(candidate);
  EMBER_FAIL("--resume {}: no run folder there (expected a folder with config.json and checkpoint/, as printed "
             "by the run you want to continue)", path.string());
}

void RunDir::write_config(const nlohmann::ordered_json& config) const {
  write_file_atomically(file("config.json"), config.dump(2) + "\n");
}

nlohmann::ordered_json RunDir::read_config() const {
  auto config = nlohmann::ordered_json::parse(read_file(file("config.json")), nullptr, false);
  EMBER_CHECK(!config.is_discarded(), "{}: not valid JSON", file("config.json").string());
  return config;
}

void RunDir::write_results(const std::string& title, const std::vector<std::pair<std::string, std::string>>& rows) const {
  std::string text = "# " + title + "\n\n| metric | value |\n|---|---|\n";
  for (const auto& [metric, value] : rows) text += "| " + metric + " | " + value + " |\n";
  write_file_atomically(file("results.md"), text);
}

}  // namespace ember::experiments
