// The op profiler: records every op call (name, input shapes and dtypes, device, forward or
// backward and which autograd node, wall time, bytes allocated, and the FLOPs and bytes moved the op
// declares), module calls and autograd nodes as nested ranges, and reports them as a table sorted
// by time, a CSV and a Chrome trace (Perfetto). Two ways in:
//     ember::Profiler prof;  ...  prof.report();       // a scope in code
//     EMBER_PROFILE=1 [EMBER_PROFILE_OUT=dir] ./binary   // any binary, written at exit
// Each op front end opens a scope with EMBER_PROFILE_OP and its cost formula from ops/flops.h;
// the autograd engine (autograd/engine.cpp) opens one range per node it runs; the module-call
// observer (models/nn/module.h, Note [Module calls]) opens one per module call.
// Implementation: engine/profiler.cpp. Tests: test/profiler/test_profiler.cpp. Guide: docs/PROFILER.md.
//
// Note [Profiler zero cost]: with no session recording, an op scope is one relaxed load of a
// global flag and a predictable branch; the input list and the cost formula sit behind that branch
// (inside the macro), so they are never evaluated. Nothing allocates and no clock is read.
#pragma once
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace ember {

namespace profiler {

// What an op declares about one call: floating-point operations (a multiply-add is 2) and bytes
// of its inputs read plus outputs written, each once. Formulas: ops/flops.h.
struct OpCost {
  double flops = 0;
  double bytes = 0;
};

extern std::atomic<bool> g_enabled;  // Note [Profiler zero cost]
inline bool enabled() { return g_enabled.load(std::memory_order_relaxed); }

enum class RangeKind : uint8_t { op, module, backward_node, user };
const char* range_kind_name(RangeKind kind);  // "op", "module", "backward", "user"

struct InputMeta {
  bool defined = false;
  Shape sizes;
  DType dtype = DType::f32;
};

// One finished range.
struct Event {
  RangeKind kind = RangeKind::op;
  std::string name;               // op name, module "layer1.0.conv1 (Conv2d)", node "MulBackward"
  std::vector<InputMeta> inputs;  // ops only
  Device device;
  bool backward = false;  // ran inside autograd::backward / grad
  std::string node;       // the autograd node that was running ("" outside nodes)
  int64_t start_ns = 0;   // since the process-wide profiler epoch
  int64_t end_ns = 0;
  int64_t self_ns = 0;          // minus the time of ranges nested inside it
  int64_t bytes_allocated = 0;  // storage bytes allocated on this thread during the range
  int64_t self_bytes_allocated = 0;
  int64_t live_bytes_at_end = 0;  // all CPU storage bytes held when the range ended
  OpCost cost;                    // as declared by the op
  // The larger of the declared cost and the sum over the ops nested inside (a wrapper such as
  // conv1d declares none and counts its conv2d's; matmul and its mm are counted once).
  OpCost work;
  bool inside_op = false;         // another op was open around it: its work is part of that op's
  uint32_t thread = 0;            // 0, 1, ... in order of first use
  uint32_t depth = 0;             // ranges open around it on its thread

  int64_t duration_ns() const { return end_ns - start_ns; }
  std::string input_description() const;  // "[32, 784] f32, [10, 784] f32"
};

// What one scope remembers between begin and end (allocated only while recording).
struct OpenRange;

// RAII scope behind EMBER_PROFILE_OP / EMBER_PROFILE_RANGE. Constructing and destroying an unbegun
// scope does nothing (Note [Profiler zero cost]).
class Scope {
 public:
  Scope() = default;
  ~Scope() {
    if (open_) [[unlikely]] end();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  void begin_op(std::string name, std::initializer_list<Tensor> inputs, OpCost cost);
  void begin_range(RangeKind kind, std::string name);

 private:
  void end();
  OpenRange* open_ = nullptr;  // owned; a raw pointer keeps the inline destructor trivial
};

// Marks the thread as running a backward pass (autograd/engine.cpp): ops record backward = true.
class BackwardPassScope {
 public:
  BackwardPassScope();
  ~BackwardPassScope();
  BackwardPassScope(const BackwardPassScope&) = delete;
  BackwardPassScope& operator=(const BackwardPassScope&) = delete;
};

// The machine's limits the report compares against (GFLOP/s from a GEMM, GB/s from a copy).
struct Ceilings {
  double gflops = 0;
  double gbytes_per_s = 0;
  std::string source;  // "measured: 512^3 f32 GEMM, 64 MiB copy" or "EMBER_PEAK_GFLOPS/GBPS"
};
// Measured once per process (then cached) unless EMBER_PEAK_GFLOPS and EMBER_PEAK_GBPS are set.
const Ceilings& machine_ceilings();

}  // namespace profiler

enum class ProfileGrouping { op, op_and_shapes };

struct ProfilerOptions {
  bool measure_ceilings = true;  // false: no start-up benchmark (the report omits the % columns)
  // Given ceilings win over measured ones (0: not given).
  double peak_gflops = 0;
  double peak_gbytes_per_s = 0;
};

// One row of the report: every call of one op (or one op on one set of input shapes).
struct ProfileRow {
  std::string name;
  std::string inputs;  // only when grouped by op and shapes
  int64_t calls = 0;
  int64_t backward_calls = 0;
  int64_t total_ns = 0;  // inclusive of ops nested inside
  int64_t self_ns = 0;
  double flops = 0;
  double bytes = 0;
  int64_t bytes_allocated = 0;  // self
};

struct ProfileTotals {
  int64_t op_calls = 0;
  int64_t backward_op_calls = 0;
  int64_t wall_ns = 0;     // first event start to last event end
  int64_t op_self_ns = 0;  // time inside ops (Σ self)
  double flops = 0;        // outermost ops only: nested ops' work is part of their caller's
  double bytes = 0;
  int64_t peak_bytes = 0;  // CPU storage high-water mark while recording
};

// A recording session: starts in the constructor, stops in stop() or the destructor. Sessions
// nest (an EMBER_PROFILE=1 run around a Profiler in code): each sees the events of its own span.
class Profiler {
 public:
  explicit Profiler(ProfilerOptions options = {});
  ~Profiler();
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  void stop();  // idempotent; reports work before and after stopping
  bool recording() const { return recording_; }

  std::vector<profiler::Event> events() const;  // ended in this session's span, by end time
  std::vector<ProfileRow> rows(ProfileGrouping grouping = ProfileGrouping::op) const;  // by self time
  ProfileTotals totals() const;
  profiler::Ceilings ceilings() const;

  // The op table (max_rows, then "... N more"), totals, peak memory and the top allocating ops.
  std::string table(ProfileGrouping grouping = ProfileGrouping::op, size_t max_rows = 40) const;
  std::string csv(ProfileGrouping grouping = ProfileGrouping::op) const;
  std::string chrome_trace() const;  // JSON, loads in ui.perfetto.dev and chrome://tracing
  // Where time goes in a few lines: top ops, forward/backward split, compute- vs memory-bound.
  std::string summary() const;
  // Writes the table to `out` (stdout by default).
  void report(std::ostream& out) const;
  void report() const;
  // Writes <prefix>.txt (table + summary), <prefix>.csv and <prefix>.trace.json into dir.
  void write_files(const std::string& dir, const std::string& prefix = "ember_profile") const;

 private:
  std::vector<profiler::Event> recorded() const;  // copied out of the recorder (while recording)
  // The events without a copy once stopped; while recording, a copy kept in `scratch`.
  const std::vector<profiler::Event>& view(std::vector<profiler::Event>& scratch) const;
  ProfilerOptions options_;
  bool recording_ = false;
  size_t first_event_ = 0;
  int64_t start_ns_ = 0;
  int64_t stop_ns_ = 0;
  int64_t start_peak_ = 0;
  int64_t peak_bytes_ = 0;
  std::vector<profiler::Event> events_;  // filled by stop()
  std::unique_ptr<profiler::Ceilings> ceilings_;
};

}  // namespace ember

#define EMBER_PROFILE_CONCAT_(a, b) a##b
#define EMBER_PROFILE_CONCAT(a, b) EMBER_PROFILE_CONCAT_(a, b)

// EMBER_PROFILE_OP("conv2d", {x, weight}, flops::conv2d(...)): records this op call until the end
// of the enclosing block. The input list and the cost are evaluated only while recording.
#define EMBER_PROFILE_OP(...)                                              \
  ::ember::profiler::Scope EMBER_PROFILE_CONCAT(ember_profile_op_, __LINE__); \
  if (::ember::profiler::enabled()) [[unlikely]]                           \
  EMBER_PROFILE_CONCAT(ember_profile_op_, __LINE__).begin_op(__VA_ARGS__)

// A named range (kind: ember::profiler::RangeKind) until the end of the enclosing block.
#define EMBER_PROFILE_RANGE(kind, name)                                       \
  ::ember::profiler::Scope EMBER_PROFILE_CONCAT(ember_profile_range_, __LINE__); \
  if (::ember::profiler::enabled()) [[unlikely]]                              \
  EMBER_PROFILE_CONCAT(ember_profile_range_, __LINE__).begin_range(kind, name)
