// cuda/unary.cu and cuda/compare.cu in the host emulator (run.sh): every unary op against <cmath>
// in double (round: half to even), isnan/isinf/isfinite, clamp with NaN bounds and NaN inputs,
// the comparisons and logical ops with a broadcast operand, logical_not and where; float32,
// float64, int32 where the op takes integers, over a transposed input (the strided kernel).
#include "emu.h"
#include "unary_emu.inc"
#include "compare_emu.inc"

using namespace ember::cuda;

constexpr int64_t R = 5, C = 43, N = R * C;
StridedLayout plain(bool transposed, bool broadcast = false) {
  StridedLayout l;
  l.ndim = 2, l.numel = N, l.sizes[0] = R, l.sizes[1] = C;
  l.strides[0] = broadcast ? 0 : transposed ? 1 : C, l.strides[1] = transposed ? R : 1, l.contiguous = !transposed && !broadcast;
  return l;
}
template <class T> constexpr ScalarType type_of() {
  return std::is_same_v<T, float> ? ScalarType::f32 : std::is_same_v<T, double> ? ScalarType::f64 : ScalarType::i32;
}

double unary_ref(UnaryKind k, double v) {
  switch (k) {
    case UnaryKind::exp: return std::exp(v);
    case UnaryKind::expm1: return std::expm1(v);
    case UnaryKind::log: return std::log(v);
    case UnaryKind::log1p: return std::log1p(v);
    case UnaryKind::log2: return std::log2(v);
    case UnaryKind::sqrt: return std::sqrt(v);
    case UnaryKind::rsqrt: return 1 / std::sqrt(v);
    case UnaryKind::sin: return std::sin(v);
    case UnaryKind::cos: return std::cos(v);
    case UnaryKind::tan: return std::tan(v);
    case UnaryKind::erf: return std::erf(v);
    case UnaryKind::erfinv: return erfinv(v);
    case UnaryKind::reciprocal: return 1 / v;
    case UnaryKind::abs: return std::abs(v);
    case UnaryKind::sign: return v > 0 ? 1 : v < 0 ? -1 : 0;
    case UnaryKind::square: return v * v;
    case UnaryKind::floor: return std::floor(v);
    case UnaryKind::ceil: return std::ceil(v);
    case UnaryKind::round: return std::nearbyint(v);
    case UnaryKind::trunc: return std::trunc(v);
  }
  return 0;
}
const char* unary_names[] = {"exp", "expm1", "log", "log1p", "log2", "sqrt", "rsqrt", "sin", "cos", "tan", "erf", "erfinv",
                             "reciprocal", "abs", "sign", "square", "floor", "ceil", "round", "trunc"};

template <class T> void unary(UnaryKind k) {
  const bool floating_only = static_cast<int>(k) <= static_cast<int>(UnaryKind::reciprocal);
  if (floating_only && std::is_integral_v<T>) return;
  std::vector<T> x(N), out(N, T(-9));
  for (int64_t i = 0; i < N; ++i) {
    double v = (i * 37 % 199 - 99) / 20.0;  // (-5, 5), halves included (round)
    if (k == UnaryKind::log || k == UnaryKind::log2 || k == UnaryKind::sqrt || k == UnaryKind::rsqrt) v = std::abs(v) + 0.1;
    if (k == UnaryKind::log1p) v = std::abs(v) - 0.9;
    if (k == UnaryKind::erfinv) v /= 5.1;
    x[i] = std::is_integral_v<T> ? T(std::lround(v * 3)) : T(v);
  }
  const Operand ox{x.data(), plain(true)};
  launch_unary(k, type_of<T>(), Operand{out.data(), plain(false)}, ox, Stream{});
  std::vector<double> got(N), want(N);
  for (int64_t i = 0; i < N; ++i) got[i] = double(out[i]), want[i] = double(T(unary_ref(k, double(x[ox.layout.offset_of(i)]))));
  double e;
  const bool ok = emu::close(got, want, std::is_integral_v<T> ? 0.0 : emu::tolerance<T>() * (k == UnaryKind::erfinv ? 100 : 10), 1e-3, &e);
  emu::check(ok, std::string(unary_names[static_cast<int>(k)]) + " " + emu::type_name<T>() + " (5, 43) transposed: " + std::to_string(e));
}

template <class T> void classify_clamp_compare() {
  std::vector<T> x(N), y(N);
  for (int64_t i = 0; i < N; ++i) {
    x[i] = T((i * 7) % 11) - T(5), y[i] = T((i * 5) % 9) - T(4);
    if constexpr (!std::is_integral_v<T>) {
      if (i % 13 == 4) x[i] = T(NAN);
      if (i % 17 == 6) x[i] = T(INFINITY);
      if (i % 19 == 7) x[i] = -T(INFINITY);
    }
  }
  const Operand ox{x.data(), plain(true)};
  bool ok = true;
  for (FloatClassKind which : {FloatClassKind::nan, FloatClassKind::inf, FloatClassKind::finite}) {
    std::vector<unsigned char> out(N, 7);
    launch_classify(which, type_of<T>(), Operand{out.data(), plain(false)}, ox, Stream{});
    for (int64_t i = 0; i < N; ++i) {
      const double v = double(x[ox.layout.offset_of(i)]);
      const bool want = which == FloatClassKind::nan ? std::isnan(v) : which == FloatClassKind::inf ? std::isinf(v) : std::isfinite(v);
      ok = ok && out[i] == (want ? 1 : 0);
    }
  }
  for (auto [lo, hi] : {std::pair{-2.0, 3.0}, {NAN, 1.0}, {-1.0, NAN}}) {
    if (std::is_integral_v<T> && (std::isnan(lo) || std::isnan(hi))) continue;
    std::vector<T> out(N, T(-9));
    launch_clamp(type_of<T>(), Operand{out.data(), plain(false)}, ox, lo, hi, Stream{});
    for (int64_t i = 0; i < N; ++i) {
      double v = double(x[ox.layout.offset_of(i)]);
      if (!std::isnan(v)) {
        if (!std::isnan(lo)) v = std::max(v, lo);
        if (!std::isnan(hi)) v = std::min(v, hi);
      }
      ok = ok && ((std::isnan(v) && std::isnan(double(out[i]))) || double(out[i]) == v);
    }
  }
  const Operand oy{y.data(), plain(false, true)};  // broadcast along rows
  for (int k = 0; k < 9; ++k) {
    std::vector<unsigned char> out(N, 7);
    launch_compare(static_cast<CompareKind>(k), type_of<T>(), Operand{out.data(), plain(false)}, ox, oy, Stream{});
    for (int64_t i = 0; i < N; ++i) {
      const double a = double(x[ox.layout.offset_of(i)]), b = double(y[oy.layout.offset_of(i)]);
      const bool want = k == 0 ? a == b : k == 1 ? a != b : k == 2 ? a < b : k == 3 ? a <= b : k == 4 ? a > b : k == 5 ? a >= b
                      : k == 6 ? (a != 0 && b != 0) : k == 7 ? (a != 0 || b != 0) : ((a != 0) != (b != 0));
      ok = ok && out[i] == (want ? 1 : 0);
    }
  }
  std::vector<unsigned char> notx(N, 7), cond(N);
  launch_logical_not(type_of<T>(), Operand{notx.data(), plain(false)}, ox, Stream{});
  for (int64_t i = 0; i < N; ++i) ok = ok && notx[i] == (double(x[ox.layout.offset_of(i)]) == 0 ? 1 : 0), cond[i] = i % 3 == 0;
  std::vector<T> w(N, T(-9));
  launch_where(type_of<T>(), Operand{w.data(), plain(false)}, Operand{cond.data(), plain(false)}, ox, oy, Stream{});
  for (int64_t i = 0; i < N; ++i) {
    const T want = cond[i] ? x[ox.layout.offset_of(i)] : y[oy.layout.offset_of(i)];
    ok = ok && (std::memcmp(&w[i], &want, sizeof(T)) == 0);
  }
  emu::check(ok, std::string("isnan/isinf/isfinite, clamp, compare x9, logical_not, where ") + emu::type_name<T>() +
                     " (5, 43) transposed / broadcast");
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (int k = 0; k < 20; ++k) {
    unary<float>(static_cast<UnaryKind>(k));
    unary<double>(static_cast<UnaryKind>(k));
    unary<int32_t>(static_cast<UnaryKind>(k));
  }
  classify_clamp_compare<float>();
  classify_clamp_compare<double>();
  classify_clamp_compare<int32_t>();
  return emu::finish("emu_unary");
}
