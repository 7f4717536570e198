// The command-line conventions every experiment binary shares (train, sema, bocb): one-line
// errors, "the last of a repeated option wins", and a main() that turns any exception into one
// "error: ..." line with exit status 1. Header-only (CLI11 is header-only too).
#pragma once
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace ember::experiments {

// Call after every option is added. A repeated option keeps its last value, so a script can append
// overrides to a preset's command line; CLI11's own parse errors become "error: ... (see --help)".
inline void use_experiment_cli_conventions(CLI::App& app) {
  app.failure_message([](const CLI::App*, const CLI::Error& e) { return fmt::format("error: {} (see --help)\n", e.what()); });
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  for (CLI::Option* option : app.get_options()) option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

// Runs a plotting script (scripts/plot.py, scripts/plot_compare.py) with Debian's /usr/bin/python3.
// Plots never fail a run: a missing script, a missing matplotlib or a failing script is one line on
// `out`, and the data files the plots are made from stay as they are.
inline void run_plot_script(const std::filesystem::path& script, const std::vector<std::string>& arguments,
                            std::ostream& out = std::cout) {
  if (!std::filesystem::exists(script)) {
    out << "plots: skipped (" << script.string() << " not found; run it on the run folder by hand)\n";
    return;
  }
  if (std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") != 0) {
    out << "plots: skipped (needs /usr/bin/python3 with matplotlib: apt-get install python3-matplotlib)\n";
    return;
  }
  std::string command = fmt::format("/usr/bin/python3 '{}'", script.string());
  for (const std::string& argument : arguments) command += fmt::format(" '{}'", argument);
  if (std::system(command.c_str()) != 0)
    out << "plots: " << script.filename().string() << " failed (the data files are intact)\n";
}

// The body of an experiment binary's main().
inline int run_main(int argc, char** argv, const std::function<int(int, char**)>& run) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace ember::experiments
