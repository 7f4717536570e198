// The op profiler (engine/profiler.h): op counts and declared FLOPs of a small known network
// against hand counts (ops/flops.h states the formulas), the Chrome trace's nesting (module -> op,
// node -> op, same thread), a stopped or absent profiler recording nothing, and EMBER_PROFILE=1 on
// a child process. Timings are never checked here (they belong in test/bench).
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/profiler.h"
#include "helpers.h"
#include "models/nn/activation.h"
#include "models/nn/container.h"
#include "models/nn/linear.h"

namespace ember {
namespace {

using profiler::Event;
using profiler::RangeKind;

// Fixed ceilings: no start-up benchmark in tests.
ProfilerOptions test_options() { return {.measure_ceilings = false, .peak_gflops = 100, .peak_gbytes_per_s = 10}; }

constexpr int64_t N = 4, D = 5, H = 3, C = 2;

struct Mlp {
  Tensor w1 = randn({H, D}).requires_grad_(true), b1 = randn({H}).requires_grad_(true);
  Tensor w2 = randn({C, H}).requires_grad_(true), b2 = randn({C}).requires_grad_(true);
  Tensor x = randn({N, D});
  Tensor target = from_vector(std::vector<int64_t>{0, 1, 1, 0});
  // linear -> relu -> linear -> cross_entropy (mean)
  Tensor loss() const { return cross_entropy(linear(relu(linear(x, w1, b1)), w2, b2), target); }
};

struct OpTotals {
  int64_t calls = 0;
  double flops = 0;
};
// Per (op name, pass): calls and declared FLOPs.
std::map<std::pair<std::string, bool>, OpTotals> by_op(const std::vector<Event>& events) {
  std::map<std::pair<std::string, bool>, OpTotals> out;
  for (const Event& e : events) {
    if (e.kind != RangeKind::op) continue;
    auto& t = out[{e.name, e.backward}];
    t.calls++;
    t.flops += e.cost.flops;
  }
  return out;
}

double top_level_flops(const std::vector<Event>& events, bool backward) {
  double f = 0;
  for (const Event& e : events)
    if (e.kind == RangeKind::op && !e.inside_op && e.backward == backward) f += e.work.flops;
  return f;
}

TEST_CASE("profiler: op counts and FLOPs of linear-relu-linear-cross_entropy match hand counts", "[profiler]") {
  manual_seed(0);
  Mlp net;
  Profiler prof(test_options());
  Tensor loss = net.loss();
  loss.backward();
  prof.stop();
  const auto events = prof.events();
  auto ops = by_op(events);

  // Forward: linear 2·N·H·D and 2·N·C·H, relu N·H, cross_entropy 6·N·C (log_softmax 5 + pick 1).
  CHECK(ops[{"linear", false}].calls == 2);
  CHECK(ops[{"linear", false}].flops == 2.0 * N * H * D + 2.0 * N * C * H);
  CHECK(ops[{"relu", false}].calls == 1);
  CHECK(ops[{"relu", false}].flops == N * H);
  CHECK(ops[{"cross_entropy", false}].calls == 1);
  CHECK(ops[{"cross_entropy", false}].flops == 6.0 * N * C);
  // Nothing else runs outside those four in the forward (reshapes are views; the loss's own
  // reductions nest inside cross_entropy and are counted there).
  CHECK(top_level_flops(events, false) == 2.0 * N * H * D + N * H + 2.0 * N * C * H + 6.0 * N * C);

  // Backward: the second linear needs d/dh (g·W2: 2·N·C·H) and d/dW2 (gᵀ·h: 2·C·N·H); the first
  // only d/dW1 (x needs no grad: 2·H·N·D). Fused kernels: relu 2 per element, cross_entropy 4.
  CHECK(ops[{"bmm", true}].calls == 3);
  CHECK(ops[{"bmm", true}].flops == 2.0 * N * C * H * 2 + 2.0 * H * N * D);
  CHECK(ops[{"relu_backward", true}].calls == 1);
  CHECK(ops[{"relu_backward", true}].flops == 2.0 * N * H);
  CHECK(ops[{"cross_entropy_backward", true}].calls == 1);
  CHECK(ops[{"cross_entropy_backward", true}].flops == 4.0 * N * C);
  // The bias gradients are sums over the N rows: N·C and N·H additions.
  CHECK(ops[{"sum", true}].calls >= 2);
  CHECK(ops[{"sum", true}].flops >= N * C + N * H);
  // No forward op ran inside the backward, and no backward op ran in the forward.
  for (const Event& e : events) {
    if (e.kind != RangeKind::op) continue;
    const bool named_backward = e.name.ends_with("_backward");
    if (named_backward) CHECK(e.backward);
    if (e.backward) {
      INFO(e.name);
      CHECK(!e.node.empty());  // no two gradients meet here, so every backward op ran inside a node
    }
  }
  const ProfileTotals totals = prof.totals();
  CHECK(totals.flops == top_level_flops(events, false) + top_level_flops(events, true));
  CHECK(totals.backward_op_calls > 0);
  CHECK(totals.op_calls == static_cast<int64_t>(std::count_if(events.begin(), events.end(), [](const Event& e) {
          return e.kind == RangeKind::op;
        })));
}

TEST_CASE("profiler: conv2d and its backward declare 2·N·Cout·Hout·Wout·Cin·kh·kw each", "[profiler]") {
  manual_seed(1);
  Tensor x = randn({2, 3, 8, 8}).requires_grad_(true);
  Tensor w = randn({4, 3, 3, 3}).requires_grad_(true);
  Profiler prof(test_options());
  Tensor y = conv2d(x, w, Tensor(), 1, 1);
  sum(y).backward();
  prof.stop();
  auto ops = by_op(prof.events());
  const double expected = 2.0 * 2 * 4 * 8 * 8 * 3 * 3 * 3;
  CHECK(ops[{"conv2d", false}].calls == 1);
  CHECK(ops[{"conv2d", false}].flops == expected);
  CHECK(ops[{"conv_transpose2d", true}].flops == expected);        // d/dx
  CHECK(ops[{"conv2d_weight_backward", true}].flops == expected);  // d/dw
  // Grouped: the dot products shrink by the group count.
  Profiler grouped(test_options());
  conv2d(randn({1, 4, 6, 6}), randn({6, 2, 3, 3}), Tensor(), 1, 0, 1, /*groups=*/2);
  grouped.stop();
  CHECK(by_op(grouped.events())[{"conv2d", false}].flops == 2.0 * 1 * 6 * 4 * 4 * 2 * 3 * 3);
}

TEST_CASE("profiler: a stopped or absent profiler records nothing", "[profiler]") {
  manual_seed(2);
  Mlp net;
  CHECK_FALSE(profiler::enabled());
  net.loss().backward();  // no session: nothing is kept anywhere
  Profiler prof(test_options());
  CHECK(profiler::enabled());
  prof.stop();
  CHECK_FALSE(profiler::enabled());
  net.loss().backward();
  CHECK(prof.events().empty());
  CHECK(prof.totals().op_calls == 0);
  CHECK(prof.rows().empty());
  // A later session sees only its own span.
  Profiler later(test_options());
  relu(net.x);
  later.stop();
  REQUIRE(later.events().size() == 1);
  CHECK(later.events()[0].name == "relu");
  CHECK(later.events()[0].input_description() == "[4, 5] float32");
}

TEST_CASE("profiler: empty operands declare zero work, never NaN", "[profiler]") {
  Profiler prof(test_options());
  mm(empty({0, 3}), empty({3, 2}));
  bmm(empty({2, 0, 3}), empty({2, 3, 4}));
  matmul(empty({2, 3, 0}), empty({0, 4}));
  prof.stop();
  CHECK(prof.totals().op_calls >= 3);
  CHECK(prof.totals().flops == 0);
}

TEST_CASE("profiler: sessions nest and each sees its own span", "[profiler]") {
  Profiler outer(test_options());
  relu(ones({3}));
  {
    Profiler inner(test_options());
    neg(ones({3}));
    inner.stop();
    REQUIRE(inner.events().size() == 1);
    CHECK(inner.events()[0].name == "neg");
  }
  CHECK(profiler::enabled());  // the outer session still records
  outer.stop();
  CHECK(outer.totals().op_calls == 2);
}

// For every event on one thread: every other event is either disjoint from it or nested.
void check_nesting(const nlohmann::json& events) {
  for (const auto& a : events) {
    for (const auto& b : events) {
      if (&a == &b || a["tid"] != b["tid"]) continue;
      const double a0 = a["ts"], a1 = a0 + a["dur"].get<double>(), b0 = b["ts"], b1 = b0 + b["dur"].get<double>();
      const bool disjoint = a1 <= b0 || b1 <= a0;
      const bool a_in_b = b0 <= a0 && a1 <= b1, b_in_a = a0 <= b0 && b1 <= a1;
      INFO(a.dump() << "\n" << b.dump());
      CHECK((disjoint || a_in_b || b_in_a));
    }
  }
}

// The innermost complete event strictly around `e` on its thread (null if none).
const nlohmann::json* parent_of(const nlohmann::json& e, const std::vector<nlohmann::json>& all) {
  const nlohmann::json* best = nullptr;
  const double e0 = e["ts"], e1 = e0 + e["dur"].get<double>();
  for (const auto& p : all) {
    if (&p == &e || p["tid"] != e["tid"]) continue;
    const double p0 = p["ts"], p1 = p0 + p["dur"].get<double>();
    if (p0 <= e0 && e1 <= p1 && !(p0 == e0 && p1 == e1)) {
      if (best == nullptr || p["dur"].get<double>() < (*best)["dur"].get<double>()) best = &p;
    }
  }
  return best;
}

TEST_CASE("profiler: the Chrome trace parses and nests module -> op and node -> op", "[profiler]") {
  manual_seed(3);
  auto model = std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
      std::make_shared<nn::Linear>(D, H), nn::ReLU(), std::make_shared<nn::Linear>(H, C)});
  Tensor x = randn({N, D});
  Profiler prof(test_options());
  Tensor loss = cross_entropy((*model)(x), from_vector(std::vector<int64_t>{0, 1, 1, 0}));
  loss.backward();
  prof.stop();

  const nlohmann::json trace = nlohmann::json::parse(prof.chrome_trace());
  REQUIRE(trace.contains("traceEvents"));
  std::vector<nlohmann::json> complete;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X") complete.push_back(e);
  REQUIRE(!complete.empty());
  check_nesting(complete);

  int linear_ops = 0, module_ranges = 0, backward_ops_in_nodes = 0;
  for (const auto& e : complete) {
    if (e["cat"] == "module") {
      ++module_ranges;
      continue;
    }
    if (e["cat"] != "op") continue;
    const nlohmann::json* parent = parent_of(e, complete);
    if (e["name"] == "linear") {
      ++linear_ops;
      REQUIRE(parent != nullptr);
      // Named by the dotted path in the model and the type: "0 (Linear)", "2 (Linear)".
      const std::string parent_name = (*parent)["name"];
      CHECK((*parent)["cat"] == "module");
      CHECK(parent_name.find("(Linear)") != std::string::npos);
      const nlohmann::json* grandparent = parent_of(*parent, complete);
      REQUIRE(grandparent != nullptr);
      CHECK((*grandparent)["name"] == "Sequential");
    }
    if (e["args"]["pass"] == "backward" && e["args"].contains("node")) {
      REQUIRE(parent != nullptr);
      // The op's parent is the node it was tagged with, or an op inside that node.
      if ((*parent)["cat"] == "backward") {
        CHECK((*parent)["name"] == e["args"]["node"]);
        ++backward_ops_in_nodes;
      }
    }
  }
  CHECK(linear_ops == 2);
  CHECK(module_ranges == 4);  // Sequential, 0 (Linear), 1 (ReLU), 2 (Linear)
  CHECK(backward_ops_in_nodes >= 3);
  // The module names are the dotted paths.
  std::set<std::string> names;
  for (const auto& e : complete)
    if (e["cat"] == "module") names.insert(e["name"].get<std::string>());
  CHECK(names == std::set<std::string>{"Sequential", "0 (Linear)", "1 (ReLU)", "2 (Linear)"});
}

TEST_CASE("profiler: table, CSV and memory report what was recorded", "[profiler]") {
  manual_seed(4);
  Mlp net;
  Profiler prof(test_options());
  net.loss().backward();
  prof.stop();
  const std::string table = prof.table();
  CHECK(table.find("linear") != std::string::npos);
  CHECK(table.find("100.0 GFLOP/s") != std::string::npos);  // the given ceiling
  CHECK(table.find("Memory: peak") != std::string::npos);
  // CSV: a header and one row per op name; the linear row has 2 calls.
  std::istringstream csv(prof.csv());
  std::string line;
  std::getline(csv, line);
  CHECK(line.rfind("op,inputs,calls,", 0) == 0);
  bool found = false;
  size_t rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    if (line.rfind("linear,,2,", 0) == 0) found = true;
  }
  CHECK(found);
  CHECK(rows == prof.rows().size());
  // By op and shapes: the two linears differ in shapes, so they get two rows.
  int linear_rows = 0;
  for (const auto& r : prof.rows(ProfileGrouping::op_and_shapes))
    if (r.name == "linear") ++linear_rows;
  CHECK(linear_rows == 2);
  // Allocation: the forward allocates at least its activations (N·H, N·H, N·C floats).
  int64_t allocated = 0;
  for (const auto& r : prof.rows()) allocated += r.bytes_allocated;
  CHECK(allocated >= static_cast<int64_t>((2 * N * H + N * C) * sizeof(float)));
  CHECK(prof.totals().peak_bytes > 0);
  CHECK(prof.summary().find("forward") != std::string::npos);
}

TEST_CASE("profiler: the machine ceilings are measured once and positive", "[profiler]") {
  const auto& c = profiler::machine_ceilings();
  CHECK(c.gflops > 0);
  CHECK(c.gbytes_per_s > 0);
  CHECK(&profiler::machine_ceilings() == &c);
}

// Run by the next test in a child process with EMBER_PROFILE=1 (hidden: "[.]").
TEST_CASE("profiler child: a small training step", "[.][profiler_child]") {
  manual_seed(5);
  Mlp net;
  net.loss().backward();
}

TEST_CASE("profiler: EMBER_PROFILE=1 writes the table, CSV and trace at exit", "[profiler]") {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("ember_profile_test_{}", ::getpid());
  std::filesystem::remove_all(dir);
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string command =
      fmt::format("EMBER_PROFILE=1 EMBER_PROFILE_OUT='{}' EMBER_PEAK_GFLOPS=100 EMBER_PEAK_GBPS=10 '{}' "
                  "'[profiler_child]' >/dev/null 2>&1",
                  dir.string(), self);
  REQUIRE(std::system(command.c_str()) == 0);
  for (const char* file : {"ember_profile.txt", "ember_profile.csv", "ember_profile_shapes.csv", "ember_profile.trace.json"})
    CHECK(std::filesystem::exists(dir / file));
  std::ifstream trace_file(dir / "ember_profile.trace.json");
  const nlohmann::json trace = nlohmann::json::parse(trace_file);
  int linear = 0;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X" && e["name"] == "linear") ++linear;
  CHECK(linear == 2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ember
