// cuda/elementwise.cu (and so cuda/elementwise_map.cuh's launch_map, the machinery of every
// elementwise family) in the host emulator (run.sh): each binary op, neg, pow by a scalar, the
// scalar lerp and the ternary ops, over the layouts that choose launch_map's kernels: dense and
// aligned (the vectorized kernel, n = 1003 so the scalar tail runs), a broadcast scalar input (the
// vectorized kernel's repeat), a transposed input (the strided kernel), a misaligned output (dense
// but not vectorizable), and in place (out == a); float32, float64, bfloat16, int32, int64, bool.
// References in double with ops/cpu's conventions (NaN-keeping minimum/maximum, C fmod, Python
// remainder, integer powers by squaring).
#include "emu.h"
#include "elementwise_emu.inc"

using namespace ember::cuda;

template <class T> constexpr ScalarType scalar_type_of() {
  if constexpr (std::is_same_v<T, float>) return ScalarType::f32;
  else if constexpr (std::is_same_v<T, double>) return ScalarType::f64;
  else if constexpr (std::is_same_v<T, int64_t>) return ScalarType::i64;
  else if constexpr (std::is_same_v<T, int32_t>) return ScalarType::i32;
  else if constexpr (std::is_same_v<T, bool>) return ScalarType::bool_;
  else return ScalarType::bf16;
}
template <class T> constexpr bool is_float() { return !std::is_integral_v<T>; }

constexpr int64_t R = 17, C = 59;  // 1003 elements
enum class Layout { dense, scalar_b, transposed_a, misaligned, in_place };
const char* layout_name(Layout l) {
  const char* names[] = {"dense (vectorized)", "broadcast scalar b", "transposed a (strided)", "misaligned out", "in place"};
  return names[static_cast<int>(l)];
}
StridedLayout make(int64_t s0, int64_t s1) {
  StridedLayout l;
  l.ndim = 2, l.numel = R * C, l.sizes[0] = R, l.sizes[1] = C, l.strides[0] = s0, l.strides[1] = s1;
  l.contiguous = s0 == C && s1 == 1;
  return l;
}

template <class T> T value(int64_t i, int which) {
  if constexpr (std::is_same_v<T, bool>) return (i * (3 + which)) % 5 < 2;
  else if constexpr (std::is_integral_v<T>) {
    const T v = static_cast<T>((i * (7 + 2 * which)) % 23 - 11);
    return which == 1 && v == 0 ? T(3) : v;  // no integer division by zero
  } else {
    double v = ((i * (37 + which * 11)) % 201 - 100) / 25.0;
    if (which == 1 && v == 0) v = 0.5;
    if (which == 0 && i % 97 == 13) v = NAN;
    return T(static_cast<float>(v));
  }
}

double ref_binary(BinaryKind k, double x, double y, double alpha, bool integral, bool boolean) {
  switch (k) {
    case BinaryKind::add: return boolean ? double(x || y) : x + alpha * y;
    case BinaryKind::mul: return boolean ? double(x && y) : x * y;
    case BinaryKind::div: return x / y;
    case BinaryKind::pow: {
      if (!integral) return std::pow(x, y);
      if (y < 0) return x == 1 ? 1 : x == -1 ? (int64_t(y) % 2 ? -1 : 1) : 0;
      uint64_t r = 1;  // wraps like the kernel's unsigned squaring; the caller casts to T
      for (int64_t k = 0; k < int64_t(y); ++k) r *= static_cast<uint64_t>(static_cast<int64_t>(x));
      return static_cast<double>(static_cast<int64_t>(r));
    }
    case BinaryKind::minimum: return (x < y || std::isnan(x)) ? x : y;
    case BinaryKind::maximum: return (x > y || std::isnan(x)) ? x : y;
    case BinaryKind::fmod: return std::fmod(x, y);
    case BinaryKind::remainder: { double r = std::fmod(x, y); if (r != 0 && ((r < 0) != (y < 0))) r += y; return r; }
  }
  return 0;
}

template <class T> void binary(BinaryKind kind, const char* name, Layout lay, double alpha = 1.0) {
  const int64_t n = R * C;
  emu::Array<T> a(n + 8), b(n + 8), out(n + 8, T(0));
  for (int64_t i = 0; i < n; ++i) a[i] = value<T>(i, 0), b[i] = value<T>(i, 1);
  const emu::Array<T> a0 = a;
  Operand oa{a.data(), make(C, 1)}, ob{b.data(), make(C, 1)}, oo{out.data(), make(C, 1)};
  if (lay == Layout::scalar_b) ob.layout = make(0, 0);
  if (lay == Layout::transposed_a) oa.layout = make(1, R);
  if (lay == Layout::misaligned) oo.data = out.data() + 1;
  if (lay == Layout::in_place) oo.data = a.data();
  launch_binary(kind, scalar_type_of<T>(), oo, oa, ob, alpha, Stream{});
  const T* result = static_cast<const T*>(oo.data);
  std::vector<double> got(n), want(n);
  for (int64_t i = 0; i < n; ++i) {
    const double x = emu::to_double(a0[oa.layout.offset_of(i)]), y = emu::to_double(b[ob.layout.offset_of(i)]);
    const double r = ref_binary(kind, x, y, static_cast<double>(static_cast<acc_t<T>>(alpha)), std::is_integral_v<T>, std::is_same_v<T, bool>);
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      want[i] = static_cast<double>(static_cast<T>(static_cast<int64_t>(r)));  // integer results wrap to T
      got[i] = emu::to_double(result[i]);
      continue;
    }
    want[i] = emu::to_double(T(static_cast<acc_t<T>>(ref_binary(kind, x, y, static_cast<double>(static_cast<acc_t<T>>(alpha)),
                                                               std::is_integral_v<T>, std::is_same_v<T, bool>))));
    got[i] = emu::to_double(result[i]);
  }
  double e = 0;
  const bool ok = emu::close(got, want, is_float<T>() ? emu::tolerance<T>() * 10 : 0.0, 1e-3, &e);
  char line[200];
  std::snprintf(line, sizeof line, "%s %s (17, 59) %s%s: %.1e", name, emu::type_name<T>(), layout_name(lay),
                alpha != 1.0 ? " alpha 2" : "", e);
  emu::check(ok, line);
}

template <class T> void unary_and_ternary(Layout lay) {
  const int64_t n = R * C;
  emu::Array<T> a(n + 8), b(n + 8), c(n + 8), out(n + 8);
  for (int64_t i = 0; i < n; ++i) a[i] = value<T>(i, 0), b[i] = value<T>(i, 1), c[i] = value<T>(i, 2);
  auto operand = [&](emu::Array<T>& v, bool first) {
    Operand o{v.data(), make(C, 1)};
    if (first && lay == Layout::transposed_a) o.layout = make(1, R);
    return o;
  };
  Operand oo{out.data() + (lay == Layout::misaligned ? 1 : 0), make(C, 1)};
  auto finish = [&](const char* what, auto reference) {
    std::vector<double> got(n), want(n);
    const T* result = static_cast<const T*>(oo.data);
    const StridedLayout la = operand(a, true).layout;
    for (int64_t i = 0; i < n; ++i) {
      got[i] = emu::to_double(result[i]);
      want[i] = emu::to_double(T(static_cast<acc_t<T>>(reference(emu::to_double(a[la.offset_of(i)]), emu::to_double(b[i]), emu::to_double(c[i])))));
    }
    double e = 0;
    const bool ok = emu::close(got, want, emu::tolerance<T>() * 10, 1e-3, &e);
    char line[200];
    std::snprintf(line, sizeof line, "%s %s (17, 59) %s: %.1e", what, emu::type_name<T>(), layout_name(lay), e);
    emu::check(ok, line);
  };
  launch_neg(scalar_type_of<T>(), oo, operand(a, true), Stream{});
  finish("neg", [](double x, double, double) { return -x; });
  for (double e : {2.0, 3.0, 0.5, -1.0, 1.7}) {
    launch_pow_scalar(scalar_type_of<T>(), oo, operand(a, true), e, Stream{});
    finish(("pow scalar " + std::to_string(e)).c_str(), [e](double x, double, double) {
      return e == 2 ? x * x : e == 3 ? x * x * x : e == 0.5 ? std::sqrt(x) : e == -1 ? 1 / x : std::pow(x, e);
    });
  }
  if constexpr (is_float<T>()) {
    for (double w : {0.25, 0.75}) {
      launch_lerp_scalar(scalar_type_of<T>(), oo, operand(a, true), operand(b, false), w, Stream{});
      finish("lerp scalar", [w](double s, double e, double) { return s + w * (e - s); });
    }
    launch_ternary(TernaryKind::lerp, scalar_type_of<T>(), oo, operand(a, true), operand(b, false), operand(c, false), 0, Stream{});
    finish("lerp tensor weight", [](double s, double e, double w) { return s + w * (e - s); });
    launch_ternary(TernaryKind::addcdiv, scalar_type_of<T>(), oo, operand(a, true), operand(b, false), operand(c, false), 0.5, Stream{});
    finish("addcdiv", [](double s, double p, double q) { return s + 0.5 * p / q; });
  }
  launch_ternary(TernaryKind::addcmul, scalar_type_of<T>(), oo, operand(a, true), operand(b, false), operand(c, false), 2.0, Stream{});
  finish("addcmul", [](double s, double p, double q) { return s + 2.0 * p * q; });
}

template <class T> void all_binary(Layout lay) {
  binary<T>(BinaryKind::add, "add", lay);
  if constexpr (!std::is_same_v<T, bool>) binary<T>(BinaryKind::add, "add", lay, 2.0);
  binary<T>(BinaryKind::mul, "mul", lay);
  binary<T>(BinaryKind::minimum, "minimum", lay);
  binary<T>(BinaryKind::maximum, "maximum", lay);
  if constexpr (is_float<T>()) binary<T>(BinaryKind::div, "div", lay);
  if constexpr (!std::is_same_v<T, bool>) {
    binary<T>(BinaryKind::fmod, "fmod", lay);
    binary<T>(BinaryKind::remainder, "remainder", lay);
    if constexpr (std::is_integral_v<T>) binary<T>(BinaryKind::pow, "pow", lay);
  }
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (Layout lay : {Layout::dense, Layout::scalar_b, Layout::transposed_a, Layout::misaligned, Layout::in_place}) {
    all_binary<float>(lay);
    all_binary<double>(lay);
    all_binary<__nv_bfloat16>(lay);
    all_binary<int32_t>(lay);
    all_binary<int64_t>(lay);
    all_binary<bool>(lay);
  }
  for (Layout lay : {Layout::dense, Layout::transposed_a, Layout::misaligned}) {
    unary_and_ternary<float>(lay);
    unary_and_ternary<double>(lay);
    unary_and_ternary<__nv_bfloat16>(lay);
  }
  return emu::finish("emu_elementwise");
}
