// experiments/profile: N training steps of any zoo model under the op profiler
// (engine/profiler.h), on synthetic data, writing the op table, the CSVs, the Chrome trace and a
// short summary of where time goes. --overhead instead times steps with and without recording
// (docs/PERF.md, "Profiler overhead"). Guide: docs/PROFILER.md.
//
//   build/experiments/profile --model resnet18 --batch 32 --image-size 32 --steps 3 --out runs/profile
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "ember.h"
#include "engine/parallel.h"
#include "engine/profiler.h"
#include "models/zoo.h"
#include "optim/sgd.h"

namespace {

using namespace ember;

struct Step {
  nn::ModulePtr model;
  std::unique_ptr<optim::SGD> optimizer;
  Tensor images, labels;

  double run() {  // one SGD step; returns its wall time in ms
    const auto t0 = std::chrono::steady_clock::now();
    optimizer->zero_grad();
    Tensor loss = cross_entropy((*model)(images), labels);
    loss.backward();
    optimizer->step();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Profile N training steps of a zoo model (docs/PROFILER.md)"};
  std::string model_name = "resnet18", device = "cpu", out_dir = "runs/profile", group = "op";
  int64_t batch = 32, image_size = 32, classes = 10, steps = 3, warmup = 1;
  int threads = 0, rounds = 5;
  bool overhead = false;
  app.add_option("--model", model_name, "zoo model (models/zoo.h)")->capture_default_str();
  app.add_option("--batch", batch, "batch size")->capture_default_str();
  app.add_option("--image-size", image_size, "square image side")->capture_default_str();
  app.add_option("--classes", classes, "number of classes")->capture_default_str();
  app.add_option("--steps", steps, "profiled steps")->capture_default_str();
  app.add_option("--warmup", warmup, "unprofiled steps first (allocations, BLAS threads)")->capture_default_str();
  app.add_option("--device", device, "cpu (the CUDA backend is a separate issue)")->capture_default_str();
  app.add_option("--threads", threads, "OpenMP threads (0: the default)");
  app.add_option("--out", out_dir, "where the table, CSVs and trace go")->capture_default_str();
  app.add_option("--group", group, "table rows: op or shapes (op + input shapes)")->capture_default_str();
  app.add_flag("--overhead", overhead, "time steps with and without the profiler instead");
  app.add_option("--rounds", rounds, "--overhead: alternating rounds of `steps` steps each")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    EMBER_CHECK(device == "cpu", "profile: --device {} is not available (the CUDA backend is not built yet)", device);
    EMBER_CHECK(group == "op" || group == "shapes", "profile: --group must be op or shapes, got {}", group);
    EMBER_CHECK(steps >= 1 && batch >= 1, "profile: --steps and --batch must be positive");
    if (threads > 0) set_num_threads(threads);
    manual_seed(0);
    models::ModelConfig config;
    config.num_classes = classes;
    config.image_size = image_size;
    Step step;
    step.model = models::create_model(model_name, config);
    step.model->train();
    step.optimizer = std::make_unique<optim::SGD>(std::vector<optim::ParamGroup>{{step.model->parameters(), {}, ""}},
                                                  std::map<std::string, double>{{"lr", 0.01}, {"momentum", 0.9}});
    step.images = randn({batch, config.in_channels, image_size, image_size});
    step.labels = randint(0, classes, {batch});
    fmt::print("{}: {} parameters, batch {}, {}x{} images, {} threads\n", model_name, step.model->num_parameters(),
               batch, image_size, image_size, num_threads());
    for (int64_t i = 0; i < warmup; ++i) step.run();

    if (overhead) {
      // Alternate plain and profiled rounds so drift of the machine hits both alike. The
      // ceilings are measured before the first round, not inside one.
      profiler::machine_ceilings();
      std::vector<double> plain, profiled;
      for (int r = 0; r < rounds; ++r) {
        for (int64_t i = 0; i < steps; ++i) plain.push_back(step.run());
        Profiler prof;
        for (int64_t i = 0; i < steps; ++i) profiled.push_back(step.run());
      }
      // The per-call price of recording, on an op whose kernel costs nearly nothing.
      const Tensor tiny = ones({1});
      auto per_call_ns = [&] {
        constexpr int calls = 20000;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < calls; ++i) neg(tiny);
        return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / calls;
      };
      const double tiny_plain = per_call_ns();
      double tiny_profiled = 0;
      {
        Profiler prof;
        tiny_profiled = per_call_ns();
      }
      fmt::print("a 1-element neg: {:.0f} ns per call without the profiler, {:.0f} ns with it\n", tiny_plain,
                 tiny_profiled);
      const double p = median(plain), q = median(profiled);
      fmt::print("median step: {:.1f} ms without the profiler, {:.1f} ms with it: overhead {:+.2f}% ({} steps each)\n",
                 p, q, 100.0 * (q / p - 1.0), plain.size());
      return 0;
    }

    Profiler prof;
    std::vector<double> times;
    for (int64_t i = 0; i < steps; ++i) times.push_back(step.run());
    prof.stop();
    const ProfileGrouping grouping = group == "shapes" ? ProfileGrouping::op_and_shapes : ProfileGrouping::op;
    std::cout << prof.table(grouping) << "\n" << prof.summary();
    fmt::print("median step {:.1f} ms over {} profiled steps\n", median(times), steps);
    prof.write_files(out_dir);
    fmt::print("wrote {0}/ember_profile.txt, .csv, _shapes.csv and .trace.json (open the trace in ui.perfetto.dev)\n",
               out_dir);
  } catch (const Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
