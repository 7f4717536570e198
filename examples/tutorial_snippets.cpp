// Keeps docs/tutorial/ honest: every ```cpp block in a chapter must be a verbatim run of lines
// (at any indentation) from compiled code — the tutorial programs (examples/) or the engine itself
// (engine/, autograd/, ops/) — and every program a chapter names must exist. Run by scripts/test.sh
// with the other examples, so a snippet cannot drift from the code it was copied from.
// EMBER_SOURCE_ROOT is set by examples/meson.build.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tutorial_check.h"

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool is_blank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

// Whether `block` occurs in `source` as consecutive lines, all shifted right by one indentation.
bool contains_block(const std::vector<std::string>& source, const std::vector<std::string>& block) {
  for (size_t start = 0; start + block.size() <= source.size(); ++start) {
    const std::string& first = source[start];
    if (first.size() < block[0].size() || !first.ends_with(block[0])) continue;
    const std::string indent = first.substr(0, first.size() - block[0].size());
    if (!is_blank(indent)) continue;
    bool all = true;
    for (size_t i = 1; all && i < block.size(); ++i)
      all = block[i].empty() ? is_blank(source[start + i]) : source[start + i] == indent + block[i];
    if (all) return true;
  }
  return false;
}

int main() {
  tutorial::Checks check;
  const fs::path root = EMBER_SOURCE_ROOT;
  std::vector<std::vector<std::string>> sources;
  for (const char* folder : {"examples", "engine", "autograd", "ops"})
    for (const auto& entry : fs::recursive_directory_iterator(root / folder))
      if (entry.path().extension() == ".cpp" || entry.path().extension() == ".h")
        sources.push_back(lines_of(entry.path()));

  std::vector<fs::path> chapters;
  for (const auto& entry : fs::directory_iterator(root / "docs/tutorial"))
    if (entry.path().extension() == ".md") chapters.push_back(entry.path());
  std::sort(chapters.begin(), chapters.end());
  check.expect(chapters.size() >= 8, fmt::format("docs/tutorial has the index and 7 chapters ({} files)", chapters.size()));

  for (const fs::path& chapter : chapters) {
    const std::vector<std::string> lines = lines_of(chapter);
    int blocks = 0, found = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      // A program the chapter names must exist.
      const size_t program = lines[i].find("`examples/tutorial_");
      if (program != std::string::npos) {
        const std::string name = lines[i].substr(program + 1, lines[i].find('`', program + 1) - program - 1);
        check.expect(fs::exists(root / name), fmt::format("{}: names {}, which exists", chapter.filename().string(), name));
      }
      if (lines[i] != "```cpp") continue;
      std::vector<std::string> block;
      while (++i < lines.size() && lines[i] != "```") block.push_back(lines[i]);
      ++blocks;
      bool in_source = false;
      for (const auto& source : sources) in_source = in_source || contains_block(source, block);
      if (in_source) ++found;
      else fmt::print("  not found in the sources:\n{}\n", fmt::join(block, "\n"));
    }
    check.expect(found == blocks, fmt::format("{}: all {} C++ snippets are copied verbatim from compiled code",
                                              chapter.filename().string(), blocks));
  }
  return check.finish();
}
