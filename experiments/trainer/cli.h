// The command-line conventions every experiment binary shares (train, sema, bocb): one-line
// errors, "the last of a repeated option wins", and a main() that turns any exception into one
// "error: ..." line with exit status 1. Header-only (CLI11 is header-only too).
#pragma once
#include <exception>
#include <functional>
#include <iostream>

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
