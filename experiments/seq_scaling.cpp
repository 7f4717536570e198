// `seq_scaling`: time and peak memory of ONE forward + backward against sequence length (1k ... 64k by
// default) for the token mixers CHELA and LongVQ are about:
//   softmax   causal scaled_dot_product_attention (ops/attention.h, key-tiled: O(L²) time, O(L) memory)
//   linear    causal chunked linear attention (ops/linear_attention.h: O(L) time and memory)
//   chela     a causal CHELA block (models/seq/chela.h: short-long convolutions + chunked linear attention)
//   longvq    a causal LongVQ block (models/seq/longvq.h: EMA + attention over quantized keys)
//   mega      (on request) a causal MEGA block: EMA + softmax attention
// A method stops at the first length whose time or peak memory passes its cap, or whose time, grown
// as the last two lengths grew, would pass the time cap. Writes RUNS_DIR/seq_scaling/NAME/scaling.csv,
// results.md and the log-log plots scaling_time.png / scaling_memory.png (scripts/plot_scaling.py).
//
//   build/experiments/seq_scaling                     # 1k..64k, caps 60 s / 16 GiB
//   build/experiments/seq_scaling --max-length 8192 --methods softmax,linear --time-cap 5
//
// Memory is the high-water mark of CPU storage bytes (engine/storage.h) above what was held before
// the forward: activations, saved tensors, gradients and workspace of the ops.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "ember.h"
#include "engine/storage.h"
#include "experiments/trainer/cli.h"
#include "experiments/trainer/run_dir.h"
#include "models/seq/seq_zoo.h"

using namespace ember;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string methods = "softmax,linear,chela,longvq";
  int64_t min_length = 1024;
  int64_t max_length = 65536;
  int64_t batch = 1;
  int64_t heads = 4;         // softmax / linear: heads of width head_dim
  int64_t head_dim = 64;
  int64_t d_model = 128;     // CHELA / LongVQ / MEGA blocks
  int64_t z_dim = 64;
  int64_t chunk_size = 64;
  int64_t codebook_size = 256;
  int64_t window = 64;
  double time_cap = 60.0;    // seconds of one forward + backward
  double memory_cap_gb = 16.0;
  int64_t repeats = 1;       // the fastest of this many runs is reported
  uint64_t seed = 0;
  std::string runs_dir = "runs";
  std::string name;
  bool overwrite = false;
  int threads = 0;
  bool plot = true;
};

struct Measurement {
  double seconds = 0.0;
  double peak_mb = 0.0;
};

// One forward + backward of `method` at length L (the sum of the output as the loss).
std::function<void()> make_workload(const std::string& method, int64_t L, const Options& o) {
  Generator gen(o.seed + static_cast<uint64_t>(L));
  if (method == "softmax" || method == "linear") {
    const Shape shape = {o.batch, o.heads, L, o.head_dim};
    auto q = (randn(shape, gen) * 0.1).requires_grad_(true);
    auto k = (randn(shape, gen) * 0.1).requires_grad_(true);
    auto v = randn(shape, gen).requires_grad_(true);
    if (method == "softmax")
      return [=] { sum(scaled_dot_product_attention(q, k, v, Tensor(), 0.0, true)).backward(); };
    LinearAttentionOptions options;
    options.causal = true;
    options.chunk_size = o.chunk_size;
    return [=] { sum(linear_attention(q, k, v, options)).backward(); };
  }
  models::seq::SeqModelConfig config;
  config.d_model = o.d_model;
  config.z_dim = o.z_dim;
  config.causal = true;
  config.max_len = L;
  config.chunk_size = o.chunk_size;
  config.codebook_size = o.codebook_size;
  config.window = o.window;
  manual_seed(o.seed);
  auto block = models::seq::create_seq_block(method, config);
  auto x = randn({o.batch, L, o.d_model}, gen).requires_grad_(true);
  return [=] {
    block->zero_grad();
    sum(block->forward(x)).backward();
  };
}

Measurement measure(const std::function<void()>& workload, int64_t repeats) {
  Measurement best{INFINITY, 0.0};
  for (int64_t r = 0; r < repeats; ++r) {
    const size_t before = cpu_bytes_allocated();
    reset_cpu_peak_bytes_allocated();
    const auto start = std::chrono::steady_clock::now();
    workload();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double peak_mb = static_cast<double>(cpu_peak_bytes_allocated() - before) / (1024.0 * 1024.0);
    best.seconds = std::min(best.seconds, seconds);
    best.peak_mb = std::max(best.peak_mb, peak_mb);
  }
  return best;
}

int run(int argc, char** argv) {
  CLI::App app{"Time and peak memory of one forward + backward vs sequence length for softmax attention, chunked "
               "linear attention, CHELA and LongVQ blocks. Writes RUNS_DIR/seq_scaling/NAME/scaling.csv and log-log plots."};
  Options o;
  app.option_defaults()->always_capture_default();
  app.add_option("--methods", o.methods, "comma-separated: softmax, linear, chela, longvq, mega");
  app.add_option("--min-length", o.min_length, "first length (doubling)")->check(CLI::PositiveNumber);
  app.add_option("--max-length", o.max_length, "last length")->check(CLI::PositiveNumber);
  app.add_option("--batch", o.batch, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--heads", o.heads, "softmax / linear: heads")->check(CLI::PositiveNumber);
  app.add_option("--head-dim", o.head_dim, "softmax / linear: head width")->check(CLI::PositiveNumber);
  app.add_option("--d-model", o.d_model, "blocks: width")->check(CLI::PositiveNumber);
  app.add_option("--z-dim", o.z_dim, "blocks: query/key width")->check(CLI::PositiveNumber);
  app.add_option("--chunk-size", o.chunk_size, "linear attention tile")->check(CLI::PositiveNumber);
  app.add_option("--codebook-size", o.codebook_size, "LongVQ codewords")->check(CLI::PositiveNumber);
  app.add_option("--window", o.window, "LongVQ local window")->check(CLI::NonNegativeNumber);
  app.add_option("--time-cap", o.time_cap, "stop a method past this many seconds per forward + backward")
      ->check(CLI::PositiveNumber);
  app.add_option("--memory-cap-gb", o.memory_cap_gb, "stop a method past this peak memory (GiB)")->check(CLI::PositiveNumber);
  app.add_option("--repeats", o.repeats, "runs per point (the fastest is kept)")->check(CLI::PositiveNumber);
  app.add_option("--seed", o.seed, "seed of inputs and weights");
  app.add_option("--runs-dir", o.runs_dir, "where run folders go");
  app.add_option("--name", o.name, "run name (default: a timestamp)");
  app.add_flag("--overwrite", o.overwrite, "replace an existing run folder of the same name");
  app.add_option("--threads", o.threads, "CPU threads (0: the engine's default)")->check(CLI::NonNegativeNumber);
  app.add_flag("--plot,!--no-plot", o.plot, "make the log-log plots with scripts/plot_scaling.py");
  experiments::use_experiment_cli_conventions(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (o.threads > 0) set_num_threads(o.threads);
  const std::vector<std::string> known = {"softmax", "linear", "chela", "longvq", "mega"};
  std::vector<std::string> methods;
  {
    std::stringstream stream(o.methods);
    std::string item;
    while (std::getline(stream, item, ','))
      if (!item.empty()) {
        EMBER_CHECK(std::find(known.begin(), known.end(), item) != known.end(),
                    "seq_scaling: unknown method '{}' (known: {})", item, fmt::join(known, ", "));
        methods.push_back(item);
      }
    EMBER_CHECK(!methods.empty(), "seq_scaling: --methods is empty");
  }
  EMBER_CHECK(o.min_length <= o.max_length, "seq_scaling: --min-length {} > --max-length {}", o.min_length,
              o.max_length);

  const experiments::RunDir run = experiments::RunDir::create({o.runs_dir, "seq_scaling", o.name, o.overwrite});
  nlohmann::ordered_json config;
  config["experiment"] = "seq_scaling";
  config["methods"] = methods;
  config["lengths"] = {o.min_length, o.max_length};
  config["batch"] = o.batch;
  config["attention"] = {{"heads", o.heads}, {"head_dim", o.head_dim}, {"chunk_size", o.chunk_size}};
  config["blocks"] = {{"d_model", o.d_model}, {"z_dim", o.z_dim}, {"codebook_size", o.codebook_size},
                      {"window", o.window}};
  config["caps"] = {{"seconds", o.time_cap}, {"memory_gb", o.memory_cap_gb}};
  config["threads"] = num_threads();
  run.write_config(config);
  std::cout << "run folder: " << run.path().string() << " (" << num_threads() << " threads)\n" << std::flush;

  std::ostringstream csv, md;
  csv << "method,length,seconds,peak_mb\n";
  md << "# seq_scaling: one forward + backward vs length\n\n"
     << fmt::format("batch {}; softmax / linear: {} heads x {}, causal; blocks: d_model {}, z {}, causal; {} threads; "
                    "caps {:g} s, {:g} GiB\n\n", o.batch, o.heads, o.head_dim, o.d_model, o.z_dim, num_threads(),
                    o.time_cap, o.memory_cap_gb)
     << "| method | length | seconds | peak MiB |\n|---|---|---|---|\n";
  for (const std::string& method : methods) {
    double previous = 0.0, last = 0.0;
    for (int64_t L = o.min_length; L <= o.max_length; L *= 2) {
      // Predict from the growth between the last two lengths (at least linear).
      if (last > 0.0) {
        const double growth = previous > 0.0 ? std::max(2.0, last / previous) : 2.0;
        if (last * growth > o.time_cap) {
          std::cout << fmt::format("{:8} L {:6}: skipped (predicted {:.1f} s > cap)\n", method, L, last * growth);
          md << fmt::format("| {} | {} | stopped: predicted {:.1f} s | |\n", method, L, last * growth);
          break;
        }
      }
      const Measurement m = measure(make_workload(method, L, o), o.repeats);
      std::cout << fmt::format("{:8} L {:6}: {:9.4f} s  {:10.1f} MiB\n", method, L, m.seconds, m.peak_mb) << std::flush;
      csv << fmt::format("{},{},{:.6g},{:.6g}\n", method, L, m.seconds, m.peak_mb);
      md << fmt::format("| {} | {} | {:.4f} | {:.1f} |\n", method, L, m.seconds, m.peak_mb);
      experiments::write_file_atomically(run.file("scaling.csv"), csv.str());
      previous = last;
      last = m.seconds;
      if (m.seconds > o.time_cap || m.peak_mb > o.memory_cap_gb * 1024.0) {
        md << fmt::format("| {} | > {} | stopped: over the cap | |\n", method, L);
        break;
      }
    }
  }
  experiments::write_file_atomically(run.file("results.md"), md.str());
  if (o.plot)
    experiments::run_plot_script(fs::path(EMBER_SOURCE_ROOT) / "scripts" / "plot_scaling.py", {run.path().string()});
  std::cout << "results: " << run.file("results.md").string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return experiments::run_main(argc, argv, run); }
