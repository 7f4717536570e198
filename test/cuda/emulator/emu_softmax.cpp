// cuda/softmax.cu in the host emulator (run.sh): softmax and log_softmax, forward and fused
// backward, over the three paths (last-dim rows up to kWarpRowMaxLength = 1024 take a warp, longer
// rows a block; inner > 1 takes a thread per column), row counts that leave warps and blocks idle,
// every floating dtype; against double references computed from the same (rounded) inputs.
#include "emu.h"
#include "softmax_emu.inc"

using namespace ember::cuda;

template <class T> constexpr ScalarType scalar_type_of() {
  if constexpr (std::is_same_v<T, float>) return ScalarType::f32;
  else if constexpr (std::is_same_v<T, double>) return ScalarType::f64;
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return ScalarType::bf16;
  else return ScalarType::f16;
}

template <class T> void run(SoftmaxDims dims, bool log) {
  srand(static_cast<unsigned>(dims.outer * 131 + dims.size * 7 + dims.inner));
  auto rnd = [] { return (rand() / (double)RAND_MAX) * 2 - 1; };
  const int64_t n = dims.outer * dims.size * dims.inner;
  emu::Array<T> x(n), g(n), y(n, T(-7.0f)), gi(n, T(-7.0f));
  for (auto& v : x) v = T(static_cast<float>(4 * rnd()));
  for (auto& v : g) v = T(static_cast<float>(rnd()));
  softmax_forward(y.data(), x.data(), scalar_type_of<T>(), dims, log, Stream{});
  softmax_backward(gi.data(), g.data(), y.data(), scalar_type_of<T>(), dims, log, Stream{});
  std::vector<double> ry(n), rg(n);
  for (int64_t o = 0; o < dims.outer; ++o)
    for (int64_t i = 0; i < dims.inner; ++i) {
      auto at = [&](int64_t d) { return (o * dims.size + d) * dims.inner + i; };
      double m = -INFINITY, s = 0, total = 0;
      for (int64_t d = 0; d < dims.size; ++d) m = std::max(m, emu::to_double(x[at(d)]));
      for (int64_t d = 0; d < dims.size; ++d) s += std::exp(emu::to_double(x[at(d)]) - m);
      for (int64_t d = 0; d < dims.size; ++d) {
        const double xv = emu::to_double(x[at(d)]);
        ry[at(d)] = log ? xv - m - std::log(s) : std::exp(xv - m) / s;
      }
      // backward from the kernel's own y (what autograd hands it)
      for (int64_t d = 0; d < dims.size; ++d)
        total += log ? emu::to_double(g[at(d)]) : emu::to_double(g[at(d)]) * emu::to_double(y[at(d)]);
      for (int64_t d = 0; d < dims.size; ++d) {
        const double gv = emu::to_double(g[at(d)]), yv = emu::to_double(y[at(d)]);
        rg[at(d)] = log ? gv - std::exp(yv) * total : yv * (gv - total);
      }
    }
  double ef = 0, eb = 0;
  const double tol = emu::tolerance<T>() * (std::is_same_v<T, float> ? 5 : 1);
  const bool ok = emu::close(emu::doubles(y), ry, tol, 1e-3, &ef) && emu::close(emu::doubles(gi), rg, tol, 1e-3, &eb);
  char line[200];
  std::snprintf(line, sizeof line, "%s %s outer=%ld size=%ld inner=%ld: forward %.1e backward %.1e", log ? "log_softmax" : "softmax",
                emu::type_name<T>(), dims.outer, dims.size, dims.inner, ef, eb);
  emu::check(ok, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  const SoftmaxDims cases[] = {
      {1, 1, 1}, {9, 7, 1}, {17, 33, 1}, {3, 1024, 1},  // warp rows (17 rows: three blocks, idle warps)
      {2, 1025, 1}, {3, 3000, 1},                     // block rows
      {3, 7, 5}, {2, 1100, 3}, {1, 2, 300},           // columns
  };
  for (const SoftmaxDims& d : cases)
    for (bool log : {false, true}) {
      run<float>(d, log);
      run<double>(d, log);
      run<__nv_bfloat16>(d, log);
      run<__half>(d, log);
    }
  return emu::finish("emu_softmax");
}
