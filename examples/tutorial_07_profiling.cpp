// Tutorial chapter 7 (docs/tutorial/07-profiling.md): profiling and speeding up one op. Chapter 4's
// logaddexp in four versions, each a step of the usual ladder: a composite of existing ops (one
// pass over memory per op), one fused loop (one pass), the fused loop with vectorisable math
// (ops/cpu/math.h), and the same split across threads (engine/parallel.h). Every version must
// agree with a float64 reference; the timings are printed, never asserted (timings belong in
// benchmarks, not in pass/fail checks).
// `// [name]` ... `// [/name]` mark the snippets the chapter quotes (kept in sync by tutorial_snippets).
// Run: build/examples/tutorial_07_profiling [--quick]
#include <chrono>
#include <cstring>
#include <functional>

#include "engine/parallel.h"
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

// Runs one of the fused kernels over dense copies of a and b (forward only: this chapter times
// the forward pass; chapter 4's op shows the backward).
template <class Kernel>
Tensor run_fused(const Tensor& a, const Tensor& b, Kernel&& kernel) {
  const Tensor a_dense = a.contiguous(), b_dense = b.contiguous();
  Tensor out = empty(a.sizes(), a.dtype());
  dispatch_floating(a.dtype(), "logaddexp", [&]<class T>() {
    kernel(out.data_ptr<T>(), a_dense.data_ptr<T>(), b_dense.data_ptr<T>());
  });
  return out;
}

// [versions]
struct Version {
  std::string name;
  std::function<Tensor(const Tensor&, const Tensor&)> run;
};
const std::vector<Version> versions = {
    {"0 composite of 7 ops", logaddexp_composite},
    {"1 fused loop (libm)", tutorial::logaddexp_forward},  // chapter 4's kernel
    {"2 fused, vectorised",
     [](const Tensor& a, const Tensor& b) {
       return run_fused(a, b, [n = a.numel()]<class T>(T* out, const T* x, const T* y) {
         logaddexp_kernel_vectorised(out, x, y, 0, n);
       });
     }},
    {"3 fused, vectorised, threads",
     [](const Tensor& a, const Tensor& b) {
       return run_fused(a, b, [n = a.numel()]<class T>(T* out, const T* x, const T* y) {
         parallel_for(n, kParallelGrain, [&](int64_t begin, int64_t end) {
           logaddexp_kernel_vectorised(out, x, y, begin, end);
         });
       });
     }},
};
// [/versions]

// TODO(profiler): when engine/profiler.h lands, time the versions with ember::Profiler (the fused
// versions declaring their FLOPs and bytes with EMBER_PROFILE_OP) and print its before/after table
// instead of this std::chrono loop. The chapter's text says which table to expect.
// [timing]
// Best of `repeats` calls, in milliseconds: the minimum is the least disturbed by other processes.
double best_ms(const Version& version, const Tensor& a, const Tensor& b, int repeats) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    Tensor out = version.run(a, b);
    const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  return best;
}
// [/timing]

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int64_t n = quick ? (int64_t{1} << 18) : (int64_t{1} << 22);
  const int repeats = quick ? 3 : 20;
  tutorial::Checks check;
  NoGradGuard no_grad;  // timing the forward pass only

  Generator gen(0);
  Tensor a = mul(randn({n}, gen), 5.0), b = mul(randn({n}, gen), 5.0);  // float32
  const Tensor reference = tutorial::logaddexp_forward(a.to(DType::f64), b.to(DType::f64));

  // [table]
  // Each version reads a and b and writes out once: 12 bytes per element, at the least.
  const double bytes = 3.0 * static_cast<double>(n) * sizeof(float);
  fmt::print("logaddexp forward, {} float32 elements, {} thread(s), best of {}\n", n, num_threads(), repeats);
  fmt::print("{:<30} {:>9} {:>12} {:>9}\n", "version", "ms", "GB/s (min)", "speed-up");
  double baseline = 0;
  for (const Version& version : versions) {
    // The check is also a warm-up: the first call pays for page faults and thread start-up.
    check.expect_close(version.run(a, b), reference, version.name + ": agrees with the float64 reference", 1e-5);
    const double ms = best_ms(version, a, b, repeats);
    if (baseline == 0) baseline = ms;
    fmt::print("{:<30} {:>9.3f} {:>12.2f} {:>8.1f}x\n", version.name, ms, bytes / (ms * 1e6), baseline / ms);
  }
  // [/table]
  return check.finish();
}
