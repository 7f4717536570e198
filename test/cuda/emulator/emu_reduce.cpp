// cuda/reduce.cpp's kernels (cuda/reduce.cu) in the host emulator (run.sh): every ReduceKind over
// both walks (one thread per output for R < 128 or strided columns; one block per output, with the
// shared-memory merge tree, for long rows), with unit-stride rows, strided columns and a reduction
// over three non-adjacent dims (offset_of), against naive double references: sums in double, the
// first extreme's index (ties and NaN: the first wins), two-pass variance, log-sum-exp, norms.
#include "emu.h"
#include "reduce_emu.inc"

using namespace ember::cuda;

template <class T> constexpr ScalarType scalar_type_of() {
  if constexpr (std::is_same_v<T, float>) return ScalarType::f32;
  else if constexpr (std::is_same_v<T, double>) return ScalarType::f64;
  else if constexpr (std::is_same_v<T, int32_t>) return ScalarType::i32;
  else if constexpr (std::is_same_v<T, bool>) return ScalarType::bool_;
  else return ScalarType::bf16;
}
template <class T> constexpr bool is_float() { return !std::is_same_v<T, int32_t> && !std::is_same_v<T, bool>; }

enum class Shape { rows, columns, scattered };  // reduce the last dim / the first dim / dims 0, 2, 3 of (2, K, 3, R/6)
struct Case { int64_t K, R; Shape shape; const char* name; };

// Element (k, r) of the input buffer; r is the row-major index over the reduced dims.
int64_t offset(const Case& c, int64_t k, int64_t r) {
  switch (c.shape) {
    case Shape::rows: return k * c.R + r;
    case Shape::columns: return r * c.K + k;
    case Shape::scattered: {
      const int64_t inner = c.R / 6, a = r / (3 * inner), b = r / inner % 3, t = r % inner;
      return a * c.K * 3 * inner + k * 3 * inner + b * inner + t;
    }
  }
  return 0;
}
void layouts(const Case& c, StridedLayout& kept, StridedLayout& reduced) {
  kept = {}, reduced = {};
  kept.ndim = 1, kept.numel = c.K, kept.sizes[0] = c.K, kept.contiguous = false;
  reduced.numel = c.R, reduced.contiguous = false;
  if (c.shape == Shape::scattered) {
    const int64_t inner = c.R / 6;
    kept.strides[0] = 3 * inner;
    reduced.ndim = 3;
    const int64_t sizes[3] = {2, 3, inner}, strides[3] = {c.K * 3 * inner, inner, 1};
    for (int d = 0; d < 3; ++d) reduced.sizes[d] = sizes[d], reduced.strides[d] = strides[d];
  } else {
    kept.strides[0] = c.shape == Shape::rows ? c.R : 1;
    reduced.ndim = 1, reduced.sizes[0] = c.R, reduced.strides[0] = c.shape == Shape::rows ? 1 : c.K;
  }
}

const char* kind_name(ReduceKind k) {
  const char* names[] = {"sum", "prod", "max", "min", "var_mean", "logsumexp", "norm_l1", "norm_l2", "norm_linf", "any", "all", "count_nonzero"};
  return names[static_cast<int>(k)];
}

template <class T> T value_at(ReduceKind kind, int64_t i, bool with_nan) {
  if constexpr (std::is_same_v<T, bool>) return (i * 7) % 5 < 2 || (kind == ReduceKind::all && i % 11 != 3);
  else if constexpr (std::is_same_v<T, int32_t>) return kind == ReduceKind::prod ? ((i % 7 == 0) ? -1 : 1) : static_cast<int32_t>((i * 7) % 5) - 2;
  else {
    if (with_nan && i % 97 == 40) return T(NAN);
    const double x = ((i * 7919) % 1000) / 500.0 - 1.0;  // [-1, 1), repeats: ties for max/min
    return T(static_cast<float>(kind == ReduceKind::prod ? 1.0 + 0.05 * x : 3 * x));
  }
}

template <class T> void run(ReduceKind kind, const Case& c, bool with_nan) {
  const int64_t K = c.K, R = c.R;
  const int64_t total = (c.shape == Shape::scattered ? 2 * K * R : K * R);
  emu::Array<T> x(total);
  for (int64_t i = 0; i < total; ++i) x[i] = value_at<T>(kind, i, with_nan);
  using Sum = std::conditional_t<is_float<T>(), T, int64_t>;
  emu::Array<unsigned char> out(K * 8, 0xab), out2(K * 8, 0xab);
  ReduceArgs a;
  a.input = x.data(), a.input_type = scalar_type_of<T>(), a.out = out.data(), a.out2 = out2.data();
  a.correction = (K % 2) ? 1.0 : 0.0;
  layouts(c, a.kept, a.reduced);
  const bool values_only = kind == ReduceKind::max && K % 2 == 0;  // amax: no indices
  if (values_only || kind == ReduceKind::min) a.out2 = (kind == ReduceKind::min && K % 2 == 1) ? nullptr : a.out2;
  if (values_only) a.out2 = nullptr;
  reduce(kind, a, Stream{});
  std::vector<double> got, want;
  bool exact_ok = true;
  for (int64_t k = 0; k < K; ++k) {
    std::vector<double> v(R);
    for (int64_t r = 0; r < R; ++r) v[r] = emu::to_double(x[offset(c, k, r)]);
    double s = 0, p = 1, l1 = 0, l2 = 0, linf = 0, m = -INFINITY;
    int64_t nonzero = 0, best = -1;
    for (int64_t r = 0; r < R; ++r) {
      s += v[r], p *= v[r], l1 += std::abs(v[r]), l2 += v[r] * v[r], nonzero += v[r] != 0;
      linf = (std::abs(v[r]) > linf || std::isnan(v[r])) && !std::isnan(linf) ? std::abs(v[r]) : linf;
      m = std::max(m, v[r]);
      const bool nan_best = best >= 0 && std::isnan(v[best]);
      const bool beats = best < 0 || (!nan_best && (std::isnan(v[r]) || (kind == ReduceKind::max ? v[r] > v[best] : v[r] < v[best])));
      if (beats) best = r;
    }
    switch (kind) {
      case ReduceKind::sum:
      case ReduceKind::prod:
        got.push_back(emu::to_double(reinterpret_cast<Sum*>(out.data())[k]));
        want.push_back(emu::to_double(static_cast<Sum>(kind == ReduceKind::sum ? s : p)));
        break;
      case ReduceKind::max:
      case ReduceKind::min:
        got.push_back(emu::to_double(reinterpret_cast<T*>(out.data())[k]));
        want.push_back(v[best]);
        if (a.out2) exact_ok = exact_ok && reinterpret_cast<int64_t*>(out2.data())[k] == best;
        break;
      case ReduceKind::var_mean: {
        const double mean = s / R;
        double m2 = 0;
        for (double e : v) m2 += (e - mean) * (e - mean);
        got.push_back(emu::to_double(reinterpret_cast<T*>(out.data())[k]));
        want.push_back(emu::to_double(T(m2 / std::max(0.0, R - a.correction))));
        got.push_back(emu::to_double(reinterpret_cast<T*>(out2.data())[k]));
        want.push_back(emu::to_double(T(mean)));
        break;
      }
      case ReduceKind::logsumexp: {
        double e = 0;
        for (double t : v) e += std::exp(t - m);
        got.push_back(emu::to_double(reinterpret_cast<T*>(out.data())[k]));
        want.push_back(emu::to_double(T(std::isnan(m) ? m : m + std::log(e))));
        break;
      }
      case ReduceKind::norm_l1:
      case ReduceKind::norm_l2:
      case ReduceKind::norm_linf:
        got.push_back(emu::to_double(reinterpret_cast<T*>(out.data())[k]));
        want.push_back(emu::to_double(T(kind == ReduceKind::norm_l1 ? l1 : kind == ReduceKind::norm_l2 ? std::sqrt(l2) : linf)));
        break;
      case ReduceKind::any:
      case ReduceKind::all:
        got.push_back(reinterpret_cast<bool*>(out.data())[k]);
        want.push_back(kind == ReduceKind::any ? nonzero > 0 : nonzero == R);
        break;
      case ReduceKind::count_nonzero:
        got.push_back(static_cast<double>(reinterpret_cast<int64_t*>(out.data())[k]));
        want.push_back(static_cast<double>(nonzero));
        break;
    }
  }
  // NaN inputs: only max/min/linf/logsumexp/sum keep a meaningful comparison (NaN in the same places)
  double err = 0;
  const bool ok = exact_ok && emu::close(got, want, emu::tolerance<T>() * 10, 1e-3, &err);
  char line[200];
  std::snprintf(line, sizeof line, "%s %s K=%ld R=%ld %s%s: error %.1e%s", kind_name(kind), emu::type_name<T>(), K, R, c.name,
                with_nan ? " with NaN" : "", err, exact_ok ? "" : " (wrong index)");
  emu::check(ok, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  const Case cases[] = {
      {33, 7, Shape::rows, "rows (thread walk)"},
      {33, 7, Shape::columns, "columns (thread walk)"},
      {5, 300, Shape::rows, "rows (block walk)"},
      {4, 300, Shape::columns, "columns (block walk, strided)"},
      {3, 300, Shape::scattered, "dims 0,2,3 (block walk, offset_of)"},
      {7, 42, Shape::scattered, "dims 0,2,3 (thread walk, offset_of)"},
      {4, 1, Shape::rows, "R = 1"},
  };
  const ReduceKind floating[] = {ReduceKind::sum, ReduceKind::prod, ReduceKind::max, ReduceKind::min, ReduceKind::var_mean,
                                 ReduceKind::logsumexp, ReduceKind::norm_l1, ReduceKind::norm_l2, ReduceKind::norm_linf,
                                 ReduceKind::any, ReduceKind::all, ReduceKind::count_nonzero};
  const ReduceKind integral[] = {ReduceKind::sum, ReduceKind::prod, ReduceKind::max, ReduceKind::min, ReduceKind::any,
                                 ReduceKind::all, ReduceKind::count_nonzero};
  for (const Case& c : cases) {
    for (ReduceKind k : floating) {
      if (k == ReduceKind::var_mean && c.R == 1) continue;  // divides by R - 1 = 0 for odd K: covered by the CPU suite
      run<float>(k, c, false);
      run<double>(k, c, false);
      run<__nv_bfloat16>(k, c, false);
    }
    for (ReduceKind k : integral) {
      run<int32_t>(k, c, false);
      if (k != ReduceKind::sum && k != ReduceKind::prod) run<bool>(k, c, false);
    }
    for (ReduceKind k : {ReduceKind::max, ReduceKind::min, ReduceKind::norm_linf, ReduceKind::logsumexp, ReduceKind::sum})
      run<float>(k, c, true);
  }
  return emu::finish("emu_reduce");
}
