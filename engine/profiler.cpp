// The op profiler: recording (scopes, module observer, backward context), the machine ceilings,
// the reports (table, CSV, Chrome trace, summary) and the EMBER_PROFILE=1 session.
// API and Note [Profiler zero cost]: engine/profiler.h. Guide: docs/PROFILER.md.
#include "engine/profiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "autograd/grad_mode.h"
#include "ember_config.h"
#include "engine/factories.h"
#include "engine/parallel.h"
#include "engine/storage.h"
#include "models/nn/module.h"
#include "ops/matmul.h"

#if EMBER_WITH_CUDA && __has_include(<nvtx3/nvToolsExt.h>)
#include <nvtx3/nvToolsExt.h>
#define EMBER_PROFILER_NVTX 1
#else
#define EMBER_PROFILER_NVTX 0
#endif

namespace ember {
namespace profiler {

std::atomic<bool> g_enabled{false};

namespace {

using Clock = std::chrono::steady_clock;
const Clock::time_point g_epoch = Clock::now();

int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - g_epoch).count(); }

// The process-wide recorder: finished events of every thread, appended at range end.
struct Recorder {
  std::mutex mutex;
  std::vector<Event> events;
  int sessions = 0;  // Profilers recording now (they nest)
};
Recorder& recorder() {
  static Recorder r;  // a function static: usable from other static initialisers
  return r;
}

std::atomic<uint32_t> g_next_thread{0};
uint32_t this_thread_id() {
  thread_local const uint32_t id = g_next_thread++;
  return id;
}

}  // namespace

// One begun range; ranges of a thread form a linked stack through `parent`.
struct OpenRange {
  Event event;
  OpenRange* parent = nullptr;
  int64_t children_ns = 0;
  int64_t children_bytes = 0;
  OpCost children_work;
  int64_t thread_allocated_at_start = 0;
};

namespace {
thread_local OpenRange* t_top = nullptr;
thread_local int t_backward_passes = 0;
thread_local bool t_suppressed = false;  // the ceiling benchmark's own ops are not recorded

// Fills what every kind of range shares, and pushes the range on the thread's stack.
void open(OpenRange& r) {
  r.parent = t_top;
  r.event.thread = this_thread_id();
  r.event.backward = t_backward_passes > 0;
  if (r.parent) {
    r.event.depth = r.parent->event.depth + 1;
    r.event.inside_op = r.parent->event.kind == RangeKind::op || r.parent->event.inside_op;
    r.event.node = r.parent->event.kind == RangeKind::backward_node ? r.parent->event.name : r.parent->event.node;
  }
  t_top = &r;
#if EMBER_PROFILER_NVTX
  nvtxRangePushA(r.event.name.c_str());
#endif
  r.thread_allocated_at_start = static_cast<int64_t>(thread_bytes_allocated_total());
  r.event.start_ns = now_ns();
}
}  // namespace

const char* range_kind_name(RangeKind kind) {
  switch (kind) {
    case RangeKind::op: return "op";
    case RangeKind::module: return "module";
    case RangeKind::backward_node: return "backward";
    case RangeKind::user: return "user";
  }
  return "?";
}

std::string Event::input_description() const {
  std::string s;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i) s += ", ";
    s += inputs[i].defined ? fmt::format("{} {}", shape_str(inputs[i].sizes), dtype_name(inputs[i].dtype)) : "None";
  }
  return s;
}

void Scope::begin_op(std::string name, std::initializer_list<Tensor> inputs, OpCost cost) {
  if (t_suppressed) return;
  open_ = new OpenRange();
  Event& e = open_->event;
  e.kind = RangeKind::op;
  e.name = std::move(name);
  e.inputs.reserve(inputs.size());
  bool device_set = false;
  for (const Tensor& t : inputs) {
    InputMeta m;
    m.defined = t.defined();
    if (m.defined) {
      m.sizes = t.sizes();
      m.dtype = t.dtype();
      if (!device_set) e.device = t.device();
      device_set = true;
    }
    e.inputs.push_back(std::move(m));
  }
  e.cost = cost;
  open(*open_);
}

void Scope::begin_range(RangeKind kind, std::string name) {
  if (t_suppressed) return;
  open_ = new OpenRange();
  open_->event.kind = kind;
  open_->event.name = std::move(name);
  open(*open_);
}

void Scope::end() {
  OpenRange& r = *open_;
  Event& e = r.event;
  e.end_ns = now_ns();
  e.bytes_allocated = static_cast<int64_t>(thread_bytes_allocated_total()) - r.thread_allocated_at_start;
  e.live_bytes_at_end = static_cast<int64_t>(cpu_bytes_allocated());
#if EMBER_PROFILER_NVTX
  nvtxRangePop();
#endif
  e.self_ns = e.duration_ns() - r.children_ns;
  e.self_bytes_allocated = e.bytes_allocated - r.children_bytes;
  e.work = {std::max(e.cost.flops, r.children_work.flops), std::max(e.cost.bytes, r.children_work.bytes)};
  // Scopes are RAII objects, so ranges end in reverse order of their beginning on each thread.
  t_top = r.parent;
  if (r.parent) {
    r.parent->children_ns += e.duration_ns();
    r.parent->children_bytes += e.bytes_allocated;
    r.parent->children_work.flops += e.work.flops;
    r.parent->children_work.bytes += e.work.bytes;
  }
  {
    Recorder& rec = recorder();
    std::lock_guard lock(rec.mutex);
    if (rec.sessions > 0) rec.events.push_back(std::move(e));
  }
  delete open_;
  open_ = nullptr;
}

BackwardPassScope::BackwardPassScope() { ++t_backward_passes; }
BackwardPassScope::~BackwardPassScope() { --t_backward_passes; }

// ---------------------------------------------------------------- module ranges
namespace {

// Names module calls by their dotted path from the outermost module called ("layer1.0.conv1
// (Conv2d)"), found by walking the outermost module's children once and cached per session.
class ModuleRanges : public nn::ModuleCallObserver {
 public:
  void enter(const nn::Module& module) override {
    Frame& frame = stack().emplace_back();
    frame.module = &module;
    frame.scope = std::make_unique<Scope>();
    if (enabled()) frame.scope->begin_range(RangeKind::module, display_name(module));
  }
  void exit(const nn::Module& module) override {
    auto& frames = stack();
    // An observer installed in the middle of a call sees exits without enters: ignore them.
    if (frames.empty() || frames.back().module != &module) return;
    frames.pop_back();
  }
  void clear_names() {
    std::lock_guard lock(mutex_);
    paths_.clear();
  }

 private:
  struct Frame {
    const nn::Module* module = nullptr;
    std::unique_ptr<Scope> scope;
  };
  static std::vector<Frame>& stack() {
    thread_local std::vector<Frame> frames;
    return frames;
  }

  std::string display_name(const nn::Module& module) {
    std::lock_guard lock(mutex_);
    auto it = paths_.find(&module);
    if (it == paths_.end() || it->second.type != module.type_name()) {
      // Not seen yet: name it and its whole subtree, relative to the module called around it.
      std::string path;
      const auto& frames = stack();
      if (frames.size() >= 2) {
        const nn::Module* parent = frames[frames.size() - 2].module;
        auto parent_it = paths_.find(parent);
        const std::string parent_path = parent_it == paths_.end() ? parent->type_name() : parent_it->second.path;
        std::string child_name = module.type_name();
        for (const auto& [name, child] : parent->named_children())
          if (child.get() == &module) child_name = name;
        path = parent_path.empty() ? child_name : parent_path + "." + child_name;
      }
      // named_modules() only reads the tree; it is non-const because it hands out Module*.
      for (auto& [name, m] : const_cast<nn::Module&>(module).named_modules()) {
        const std::string full = path.empty() ? name : (name.empty() ? path : path + "." + name);
        paths_[m] = {full, m->type_name()};
      }
      it = paths_.find(&module);
    }
    const auto& [path, type] = it->second;
    return path.empty() ? type : fmt::format("{} ({})", path, type);
  }

  struct Named {
    std::string path;
    std::string type;
  };
  std::mutex mutex_;
  std::unordered_map<const nn::Module*, Named> paths_;
};

ModuleRanges& module_ranges() {
  static ModuleRanges observer;
  return observer;
}

}  // namespace

// ---------------------------------------------------------------- ceilings
namespace {

double env_double(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atof(v) : 0.0;
}

// Best of a few runs: the ceiling is what the machine can do, not its average.
template <class F>
double best_seconds(int repeats, F&& run) {
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = Clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

Ceilings measure_ceilings() {
  NoGradGuard no_grad;
  t_suppressed = true;
  struct Unsuppress {
    ~Unsuppress() { t_suppressed = false; }
  } unsuppress;
  constexpr int64_t n = 768;  // GEMM: 2 n^3 = 0.9 GFLOP, a few ms on two cores
  Tensor a = full({n, n}, 0.5), b = full({n, n}, 0.25);
  mm(a, b);  // warm-up: BLAS threads and packing buffers
  const double gemm_s = best_seconds(3, [&] { mm(a, b); });
  constexpr size_t copy_bytes = size_t{64} << 20;  // far beyond the last-level cache
  std::vector<char> src(copy_bytes, 1), dst(copy_bytes, 0);
  auto copy = [&] {
    constexpr int64_t chunk = int64_t{1} << 20;
    parallel_for(static_cast<int64_t>(copy_bytes) / chunk, 1, [&](int64_t begin, int64_t end) {
      std::memcpy(dst.data() + begin * chunk, src.data() + begin * chunk, static_cast<size_t>((end - begin) * chunk));
    });
  };
  copy();
  const double copy_s = best_seconds(3, copy);
  Ceilings c;
  c.gflops = 2.0 * n * n * n / gemm_s / 1e9;
  c.gbytes_per_s = 2.0 * copy_bytes / copy_s / 1e9;  // read + write
  c.source = fmt::format("measured: {}^3 f32 GEMM and a {} MiB copy", n, copy_bytes >> 20);
  return c;
}

}  // namespace

const Ceilings& machine_ceilings() {
  static const Ceilings ceilings = [] {
    const double gflops = env_double("EMBER_PEAK_GFLOPS"), gbps = env_double("EMBER_PEAK_GBPS");
    if (gflops > 0 && gbps > 0) return Ceilings{gflops, gbps, "given: EMBER_PEAK_GFLOPS, EMBER_PEAK_GBPS"};
    Ceilings c = measure_ceilings();
    if (gflops > 0) c.gflops = gflops;
    if (gbps > 0) c.gbytes_per_s = gbps;
    return c;
  }();
  return ceilings;
}

}  // namespace profiler

// ---------------------------------------------------------------- sessions
using profiler::Event;
using profiler::RangeKind;

Profiler::Profiler(ProfilerOptions options) : options_(options) {
  if (options_.peak_gflops > 0 && options_.peak_gbytes_per_s > 0) {
    ceilings_ = std::make_unique<profiler::Ceilings>(
        profiler::Ceilings{options_.peak_gflops, options_.peak_gbytes_per_s, "given by the caller"});
  } else if (options_.measure_ceilings) {
    // Before recording starts, so the benchmark's own ops stay out of the profile.
    ceilings_ = std::make_unique<profiler::Ceilings>(profiler::machine_ceilings());
  }
  auto& rec = profiler::recorder();
  std::lock_guard lock(rec.mutex);
  if (rec.sessions++ == 0) {
    rec.events.clear();
    reset_cpu_peak_bytes_allocated();
    profiler::module_ranges().clear_names();
    nn::set_module_call_observer(&profiler::module_ranges());
    profiler::g_enabled.store(true);
  }
  first_event_ = rec.events.size();
  start_peak_ = static_cast<int64_t>(cpu_bytes_allocated());
  start_ns_ = profiler::now_ns();
  recording_ = true;
}

Profiler::~Profiler() { stop(); }

void Profiler::stop() {
  if (!recording_) return;
  events_ = recorded();
  peak_bytes_ = std::max(start_peak_, static_cast<int64_t>(cpu_peak_bytes_allocated()));
  stop_ns_ = profiler::now_ns();
  auto& rec = profiler::recorder();
  std::lock_guard lock(rec.mutex);
  recording_ = false;
  if (--rec.sessions == 0) {
    profiler::g_enabled.store(false);
    if (nn::module_call_observer() == &profiler::module_ranges()) nn::set_module_call_observer(nullptr);
    rec.events.clear();
    rec.events.shrink_to_fit();
  }
}

const std::vector<Event>& Profiler::view(std::vector<Event>& scratch) const {
  if (!recording_) return events_;
  scratch = recorded();
  return scratch;
}

std::vector<Event> Profiler::recorded() const {
  auto& rec = profiler::recorder();
  std::lock_guard lock(rec.mutex);
  std::vector<Event> out;
  for (size_t i = std::min(first_event_, rec.events.size()); i < rec.events.size(); ++i)
    if (rec.events[i].start_ns >= start_ns_) out.push_back(rec.events[i]);
  return out;
}

std::vector<Event> Profiler::events() const {
  std::vector<Event> scratch;
  return view(scratch);
}

profiler::Ceilings Profiler::ceilings() const {
  if (ceilings_) return *ceilings_;
  return profiler::machine_ceilings();
}

std::vector<ProfileRow> Profiler::rows(ProfileGrouping grouping) const {
  std::map<std::pair<std::string, std::string>, ProfileRow> by_key;
  std::vector<Event> scratch;
  for (const Event& e : view(scratch)) {
    if (e.kind != RangeKind::op) continue;
    const std::string inputs = grouping == ProfileGrouping::op_and_shapes ? e.input_description() : "";
    ProfileRow& row = by_key[{e.name, inputs}];
    row.name = e.name;
    row.inputs = inputs;
    row.calls++;
    row.backward_calls += e.backward;
    row.total_ns += e.duration_ns();
    row.self_ns += e.self_ns;
    row.flops += e.work.flops;
    row.bytes += e.work.bytes;
    row.bytes_allocated += e.self_bytes_allocated;
  }
  std::vector<ProfileRow> out;
  for (auto& [key, row] : by_key) out.push_back(std::move(row));
  std::stable_sort(out.begin(), out.end(), [](const ProfileRow& a, const ProfileRow& b) { return a.self_ns > b.self_ns; });
  return out;
}

ProfileTotals Profiler::totals() const {
  ProfileTotals t;
  std::vector<Event> scratch;
  for (const Event& e : view(scratch)) {
    if (e.kind != RangeKind::op) continue;
    t.op_calls++;
    t.backward_op_calls += e.backward;
    t.op_self_ns += e.self_ns;
    if (!e.inside_op) {
      t.flops += e.work.flops;
      t.bytes += e.work.bytes;
    }
  }
  t.wall_ns = (recording_ ? profiler::now_ns() : stop_ns_) - start_ns_;
  t.peak_bytes = recording_ ? std::max(start_peak_, static_cast<int64_t>(cpu_peak_bytes_allocated())) : peak_bytes_;
  return t;
}

namespace {

struct Throughput {
  double gflops_per_s = 0, gbytes_per_s = 0, flops_pct = 0, bytes_pct = 0;
};
Throughput throughput(const ProfileRow& row, const profiler::Ceilings& c) {
  Throughput t;
  if (row.total_ns <= 0) return t;
  t.gflops_per_s = row.flops / static_cast<double>(row.total_ns);  // flop/ns = GFLOP/s
  t.gbytes_per_s = row.bytes / static_cast<double>(row.total_ns);
  if (c.gflops > 0) t.flops_pct = 100.0 * t.gflops_per_s / c.gflops;
  if (c.gbytes_per_s > 0) t.bytes_pct = 100.0 * t.gbytes_per_s / c.gbytes_per_s;
  return t;
}

double ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }
double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::string Profiler::table(ProfileGrouping grouping, size_t max_rows) const {
  const auto all_rows = rows(grouping);
  const ProfileTotals t = totals();
  const profiler::Ceilings c = ceilings();
  std::string s = fmt::format(
      "Ember profile: {} op calls ({} in backward) in {:.1f} ms wall, {:.1f} ms inside ops; {:.2f} GFLOP, peak "
      "memory {:.1f} MiB\n",
      t.op_calls, t.backward_op_calls, ms(t.wall_ns), ms(t.op_self_ns), t.flops / 1e9, mib(static_cast<double>(t.peak_bytes)));
  s += fmt::format("Ceilings: {:.1f} GFLOP/s, {:.1f} GB/s ({})\n", c.gflops, c.gbytes_per_s, c.source);
  s += "Sorted by self time (total includes the ops nested inside; throughput is per total time).\n";
  const bool shapes = grouping == ProfileGrouping::op_and_shapes;
  s += fmt::format("{:<26} {:>7} {:>6} {:>10} {:>10} {:>9} {:>6} {:>9} {:>8} {:>6} {:>8} {:>6} {:>9}{}\n", "op",
                   "calls", "bwd", "total ms", "self ms", "mean us", "self%", "GFLOP", "GFLOP/s", "%peak", "GB/s",
                   "%peak", "alloc MiB", shapes ? "  inputs" : "");
  for (size_t i = 0; i < all_rows.size() && i < max_rows; ++i) {
    const ProfileRow& r = all_rows[i];
    const Throughput th = throughput(r, c);
    s += fmt::format("{:<26} {:>7} {:>6} {:>10.2f} {:>10.2f} {:>9.1f} {:>6.1f} {:>9.3f} {:>8.1f} {:>6.1f} {:>8.2f} {:>6.1f} {:>9.1f}{}\n",
                     r.name, r.calls, r.backward_calls, ms(r.total_ns), ms(r.self_ns),
                     static_cast<double>(r.total_ns) / 1e3 / static_cast<double>(r.calls),
                     t.op_self_ns > 0 ? 100.0 * static_cast<double>(r.self_ns) / static_cast<double>(t.op_self_ns) : 0.0,
                     r.flops / 1e9, th.gflops_per_s, th.flops_pct, th.gbytes_per_s, th.bytes_pct,
                     mib(static_cast<double>(r.bytes_allocated)), shapes ? "  " + r.inputs : "");
  }
  if (all_rows.size() > max_rows) s += fmt::format("... {} more rows (see the CSV)\n", all_rows.size() - max_rows);
  // Memory: the high-water mark and the ops whose own calls allocated most.
  auto by_alloc = rows(ProfileGrouping::op);
  std::stable_sort(by_alloc.begin(), by_alloc.end(),
                   [](const ProfileRow& a, const ProfileRow& b) { return a.bytes_allocated > b.bytes_allocated; });
  s += fmt::format("Memory: peak {:.1f} MiB of CPU storage; ops that allocated most:", mib(static_cast<double>(t.peak_bytes)));
  for (size_t i = 0; i < by_alloc.size() && i < 5 && by_alloc[i].bytes_allocated > 0; ++i)
    s += fmt::format(" {} {:.1f} MiB;", by_alloc[i].name, mib(static_cast<double>(by_alloc[i].bytes_allocated)));
  return s + "\n";
}

std::string Profiler::csv(ProfileGrouping grouping) const {
  const profiler::Ceilings c = ceilings();
  const ProfileTotals t = totals();
  std::string s =
      "op,inputs,calls,backward_calls,total_ms,self_ms,mean_us,self_pct,gflop,gflop_per_s,pct_peak_flops,gbytes,gb_per_s,"
      "pct_peak_bandwidth,alloc_mib\n";
  for (const ProfileRow& r : rows(grouping)) {
    const Throughput th = throughput(r, c);
    s += fmt::format("{},{},{},{},{:.4f},{:.4f},{:.3f},{:.3f},{:.6f},{:.3f},{:.3f},{:.6f},{:.3f},{:.3f},{:.4f}\n",
                     csv_field(r.name), csv_field(r.inputs), r.calls, r.backward_calls, ms(r.total_ns), ms(r.self_ns),
                     static_cast<double>(r.total_ns) / 1e3 / static_cast<double>(r.calls),
                     t.op_self_ns > 0 ? 100.0 * static_cast<double>(r.self_ns) / static_cast<double>(t.op_self_ns) : 0.0,
                     r.flops / 1e9, th.gflops_per_s, th.flops_pct, r.bytes / 1e9, th.gbytes_per_s, th.bytes_pct,
                     mib(static_cast<double>(r.bytes_allocated)));
  }
  return s;
}

std::string Profiler::chrome_trace() const {
  using nlohmann::json;
  std::vector<Event> scratch;
  const auto& evs = view(scratch);
  json trace = json::array();
  std::map<uint32_t, bool> threads;
  for (const Event& e : evs) {
    threads[e.thread] = true;
    json args = {{"self_us", static_cast<double>(e.self_ns) / 1e3},
                 {"alloc_bytes", e.self_bytes_allocated},
                 {"pass", e.backward ? "backward" : "forward"}};
    if (!e.node.empty()) args["node"] = e.node;
    if (e.kind == RangeKind::op) {
      args["inputs"] = e.input_description();
      args["device"] = e.device.str();
      args["flops"] = e.work.flops;
      args["bytes"] = e.work.bytes;
    }
    trace.push_back({{"name", e.name},
                     {"cat", profiler::range_kind_name(e.kind)},
                     {"ph", "X"},
                     {"ts", static_cast<double>(e.start_ns) / 1e3},
                     {"dur", static_cast<double>(e.duration_ns()) / 1e3},
                     {"pid", 0},
                     {"tid", e.thread},
                     {"args", args}});
    if (e.kind == RangeKind::op && !e.inside_op) {
      trace.push_back({{"name", "CPU storage (MiB)"},
                       {"ph", "C"},
                       {"ts", static_cast<double>(e.end_ns) / 1e3},
                       {"pid", 0},
                       {"args", {{"live", mib(static_cast<double>(e.live_bytes_at_end))}}}});
    }
  }
  for (const auto& [tid, unused] : threads) {
    trace.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 0}, {"tid", tid},
                     {"args", {{"name", tid == 0 ? std::string("main") : fmt::format("thread {}", tid)}}}});
  }
  trace.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 0}, {"args", {{"name", "ember"}}}});
  return json{{"traceEvents", trace}, {"displayTimeUnit", "ms"}}.dump();
}

std::string Profiler::summary() const {
  const auto all_rows = rows(ProfileGrouping::op);
  const ProfileTotals t = totals();
  const profiler::Ceilings c = ceilings();
  int64_t backward_ns = 0, compute_bound_ns = 0, top_level_ns = 0;
  const double ridge = c.gbytes_per_s > 0 ? c.gflops / c.gbytes_per_s : 0;  // flop per byte
  std::vector<Event> scratch;
  for (const Event& e : view(scratch)) {
    if (e.kind != RangeKind::op) continue;
    if (e.backward) backward_ns += e.self_ns;
    if (!e.inside_op) top_level_ns += e.duration_ns();
  }
  for (const ProfileRow& r : all_rows)
    if (r.bytes > 0 && r.flops / r.bytes >= ridge) compute_bound_ns += r.self_ns;
  const double op_ns = static_cast<double>(std::max<int64_t>(t.op_self_ns, 1));
  std::string s = fmt::format("Where time goes ({:.1f} ms wall, {:.1f} ms in ops = {:.0f}%):\n", ms(t.wall_ns),
                              ms(top_level_ns), 100.0 * static_cast<double>(top_level_ns) / static_cast<double>(std::max<int64_t>(t.wall_ns, 1)));
  s += "  top ops by self time:";
  for (size_t i = 0; i < all_rows.size() && i < 5; ++i)
    s += fmt::format(" {} {:.0f}%;", all_rows[i].name, 100.0 * static_cast<double>(all_rows[i].self_ns) / op_ns);
  s += fmt::format("\n  forward {:.0f}% / backward {:.0f}% of op time\n",
                   100.0 * (1.0 - static_cast<double>(backward_ns) / op_ns), 100.0 * static_cast<double>(backward_ns) / op_ns);
  s += fmt::format("  compute-bound ops (above the ridge of {:.1f} flop/byte) {:.0f}% of op time, memory-bound {:.0f}%\n",
                   ridge, 100.0 * static_cast<double>(compute_bound_ns) / op_ns,
                   100.0 * (1.0 - static_cast<double>(compute_bound_ns) / op_ns));
  const double achieved = t.flops / static_cast<double>(std::max<int64_t>(t.wall_ns, 1));
  s += fmt::format("  overall {:.1f} GFLOP/s over the wall time ({:.0f}% of the GEMM ceiling)\n", achieved,
                   c.gflops > 0 ? 100.0 * achieved / c.gflops : 0.0);
  return s;
}

void Profiler::report(std::ostream& out) const { out << table() << summary(); }
void Profiler::report() const { report(std::cout); }

void Profiler::write_files(const std::string& dir, const std::string& prefix) const {
  std::filesystem::create_directories(dir);
  const std::filesystem::path base = std::filesystem::path(dir) / prefix;
  auto write = [](const std::filesystem::path& path, const std::string& text) {
    std::ofstream f(path);
    EMBER_CHECK(f.good(), "profiler: cannot write {}", path.string());
    f << text;
  };
  write(base.string() + ".txt", table(ProfileGrouping::op) + summary() + "\n" + table(ProfileGrouping::op_and_shapes));
  write(base.string() + ".csv", csv(ProfileGrouping::op));
  write(base.string() + "_shapes.csv", csv(ProfileGrouping::op_and_shapes));
  write(base.string() + ".trace.json", chrome_trace());
}

// ---------------------------------------------------------------- EMBER_PROFILE=1
namespace {

// Started before main when EMBER_PROFILE is set (and not "0"); written at exit.
std::unique_ptr<Profiler>& environment_session() {
  static std::unique_ptr<Profiler> session;
  return session;
}

void write_environment_report() {
  auto& session = environment_session();
  if (!session) return;
  session->stop();
  const char* dir = std::getenv("EMBER_PROFILE_OUT");
  try {
    session->write_files(dir ? dir : ".");
    std::cerr << session->table() << session->summary()
              << fmt::format("(EMBER_PROFILE: table, CSV and trace written to {})\n", dir ? dir : ".");
  } catch (const std::exception& e) {
    std::cerr << "EMBER_PROFILE: could not write the profile: " << e.what() << "\n";
  }
  session.reset();
}

const bool g_environment_session_started = [] {
  const char* flag = std::getenv("EMBER_PROFILE");
  if (flag == nullptr || std::strcmp(flag, "") == 0 || std::strcmp(flag, "0") == 0) return false;
  // Ceilings are measured at exit: the engine's own start-up may not have run yet.
  environment_session() = std::make_unique<Profiler>(ProfilerOptions{.measure_ceilings = false});
  std::atexit(write_environment_report);
  return true;
}();

}  // namespace

}  // namespace ember
