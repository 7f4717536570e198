// Tutorial chapter 7 (docs/tutorial/07-profiling.md): profiling and speeding up one op. Chapter 4's
// logaddexp in four versions, each a step of the usual ladder: a composite of existing ops (one
// pass over memory per op), one fused loop (one pass), the fused loop with vectorisable math
// (ops/cpu/math.h), and the same split across threads (engine/parallel.h), each measured with the
// op profiler (engine/profiler.h): the composite's table before, the fused versions' table after.
// Every version must agree with a float64 reference, and the profiler's counts (calls, declared
// FLOPs and bytes) are checked; the timings are printed, never asserted (timings belong in
// benchmarks, not in pass/fail checks).
// `// [name]` ... `// [/name]` mark the snippets the chapter quotes (kept in sync by tutorial_snippets).
// Run: build/examples/tutorial_07_profiling [--quick]
#include <cstring>
#include <functional>

#include "engine/parallel.h"
#include "engine/profiler.h"
#include "ops/cpu/math.h"
#include "tutorial_logaddexp.h"

using namespace ember;

// [composite]
// Version 0: existing ops. Seven kernels, each reading and writing whole tensors, six temporaries.
Tensor logaddexp_composite(const Tensor& a, const Tensor& b) {
  return add(maximum(a, b), log1p(exp(neg(abs(sub(a, b))))));
}
// [/composite]

// [vectorised]
// Version 2: one pass whose math GCC can turn into SIMD code. std::exp and std::log1p are opaque
// libm calls that keep a loop scalar; ops/cpu/math.h has branch-free polynomial versions.
template <class T>
void logaddexp_kernel_vectorised(T* out, const T* a, const T* b, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const T larger = a[i] > b[i] ? a[i] : b[i];
    out[i] = larger + cpu::math::log1p_exp_neg_abs(a[i] - b[i]);
  }
}
// [/vectorised]

// [declare-cost]
// Runs one of the fused kernels as an op the profiler sees. Like every op in ops/ (formulas in
// ops/flops.h) it declares its own work: 6 FLOPs per element (max, subtract, abs, exp, log1p,
// add) and 12 bytes (read a and b, write out, 4 bytes each). The arguments after the name are
// evaluated only while a profiler records (Note [Profiler zero cost] in engine/profiler.h).
template <class Kernel>
Tensor run_fused(const char* name, const Tensor& a, const Tensor& b, Kernel&& kernel) {
  EMBER_PROFILE_OP(name, {a, b}, (profiler::OpCost{6.0 * a.numel(), 3.0 * a.numel() * a.element_size()}));
  const Tensor a_dense = a.contiguous(), b_dense = b.contiguous();
  Tensor out = empty(a.sizes(), a.dtype());
  dispatch_floating(a.dtype(), "logaddexp", [&]<class T>() {
    kernel(out.data_ptr<T>(), a_dense.data_ptr<T>(), b_dense.data_ptr<T>());
  });
  return out;
}
// [/declare-cost]

// [versions]
// The fused versions (0, the composite, is profiled on its own: its ops declare their costs).
struct Version {
  std::string name;
  std::function<Tensor(const Tensor&, const Tensor&)> run;
};
const std::vector<Version> fused_versions = {
    {"logaddexp_libm",  // 1: chapter 4's kernel
     [](const Tensor& a, const Tensor& b) {
       return run_fused("logaddexp_libm", a, b, [n = a.numel()]<class T>(T* out, const T* x, const T* y) {
         tutorial::logaddexp_kernel(out, x, y, n);
       });
     }},
    {"logaddexp_vectorised",  // 2
     [](const Tensor& a, const Tensor& b) {
       return run_fused("logaddexp_vectorised", a, b, [n = a.numel()]<class T>(T* out, const T* x, const T* y) {
         logaddexp_kernel_vectorised(out, x, y, 0, n);
       });
     }},
    {"logaddexp_threads",  // 3
     [](const Tensor& a, const Tensor& b) {
       return run_fused("logaddexp_threads", a, b, [n = a.numel()]<class T>(T* out, const T* x, const T* y) {
         parallel_for(n, kParallelGrain, [&](int64_t begin, int64_t end) {
           logaddexp_kernel_vectorised(out, x, y, begin, end);
         });
       });
     }},
};
// [/versions]


int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int64_t n = quick ? (int64_t{1} << 18) : (int64_t{1} << 22);
  const int repeats = quick ? 3 : 20;
  tutorial::Checks check;
  NoGradGuard no_grad;  // the forward pass only

  Generator gen(0);
  Tensor a = mul(randn({n}, gen), 5.0), b = mul(randn({n}, gen), 5.0);  // float32
  const Tensor reference = tutorial::logaddexp_forward(a.to(DType::f64), b.to(DType::f64));
  // Correct first. The checks also warm up: first calls pay for page faults and thread start-up.
  check.expect_close(logaddexp_composite(a, b), reference, "composite: agrees with the float64 reference", 1e-5);
  for (const Version& version : fused_versions)
    check.expect_close(version.run(a, b), reference, version.name + ": agrees with the float64 reference", 1e-5);

  // [profile]
  Profiler before;  // measures the machine's ceilings once (GEMM, copy), then records
  for (int r = 0; r < repeats; ++r) logaddexp_composite(a, b);
  before.stop();
  Profiler after;
  for (const Version& version : fused_versions)
    for (int r = 0; r < repeats; ++r) version.run(a, b);
  after.stop();
  fmt::print("logaddexp forward, {} float32 elements, {} thread(s), {} calls each\n", n, num_threads(), repeats);
  fmt::print("\nbefore: the composite of existing ops\n{}\n", before.table());
  fmt::print("\nafter: one fused op, three ways\n{}\n", after.table());
  // [/profile]

  // What the profiler counted is exact, unlike its times: check it.
  const double elements = static_cast<double>(n) * repeats;
  const ProfileTotals composite = before.totals();
  check.expect(composite.op_calls == 7 * repeats, fmt::format("before: 7 op calls per composite ({} in all)", composite.op_calls));
  check.expect(composite.bytes == 68 * elements,
               "before: the ops declared 68 bytes per element (17 float32 reads and writes)");
  check.expect(composite.flops == 7 * elements, "before: and 7 FLOPs per element");
  for (const Version& version : fused_versions) {
    bool found = false;
    for (const ProfileRow& row : after.rows())
      if (row.name == version.name)
        found = row.calls == repeats && row.bytes == 12 * elements && row.flops == 6 * elements;
    check.expect(found, version.name + ": one row, " + std::to_string(repeats) + " calls, 12 bytes and 6 FLOPs per element");
  }
  return check.finish();
}
