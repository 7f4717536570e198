// cuda/sort.cu in the host emulator (run.sh): sort / top-k along a dim (the order-preserving keys:
// NaN the largest and one key, -0 == +0, descending by flipped bits; line offsets; the workspace
// layout; the write-back of the first k) and the scans (cumsum / cumprod, reversed, integers into
// int64). CUB's stable segmented sort is a host stand-in (emu.h): the test checks the code around it.
#include "emu.h"
#include "sort_emu.inc"

using namespace ember::cuda;

template <class T> constexpr ScalarType scalar_type_of() {
  if constexpr (std::is_same_v<T, float>) return ScalarType::f32;
  else if constexpr (std::is_same_v<T, double>) return ScalarType::f64;
  else if constexpr (std::is_same_v<T, int64_t>) return ScalarType::i64;
  else if constexpr (std::is_same_v<T, int32_t>) return ScalarType::i32;
  else if constexpr (std::is_same_v<T, uint8_t>) return ScalarType::u8;
  else return ScalarType::bool_;
}

template <class T> T value(int64_t i) {
  if constexpr (std::is_same_v<T, bool>) return (i * 7) % 3 == 0;
  else if constexpr (std::is_integral_v<T>) return static_cast<T>((i * 13) % 9) - (std::is_signed_v<T> ? T(4) : T(0));
  else {
    if (i % 17 == 5) return T(NAN);
    if (i % 23 == 7) return T(-0.0);
    return T(((i * 37) % 11 - 5) / 2.0);  // many ties
  }
}

template <class T> void sort_case(int64_t outer, int64_t n, int64_t inner, int64_t k, bool descending) {
  const int64_t total = outer * n * inner;
  emu::Array<T> x(total), values(outer * k * inner);
  for (int64_t i = 0; i < total; ++i) x[i] = value<T>(i);
  std::vector<int64_t> indices(outer * k * inner, -9);
  const size_t bytes = sort_workspace_bytes(scalar_type_of<T>(), outer, n, inner);
  std::vector<unsigned char> workspace(bytes + 256);
  sort_lines(values.data(), indices.data(), x.data(), scalar_type_of<T>(), outer, n, inner, k, descending, workspace.data(), bytes,
             Stream{});
  bool ok = true;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      std::vector<int64_t> order(n);
      for (int64_t j = 0; j < n; ++j) order[j] = j;
      auto v = [&](int64_t j) { return emu::to_double(x[(o * n + j) * inner + i]); };
      // the CPU's comparator: NaN the largest, -0 == +0, ties by index (stable)
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        const double va = v(a), vb = v(b);
        if (std::isnan(va) || std::isnan(vb)) return descending ? (std::isnan(va) && !std::isnan(vb)) : (!std::isnan(va) && std::isnan(vb));
        return descending ? va > vb : va < vb;
      });
      for (int64_t j = 0; j < k; ++j) {
        const int64_t at = (o * k + j) * inner + i;
        ok = ok && indices[at] == order[j] && std::memcmp(&values[at], &x[(o * n + order[j]) * inner + i], sizeof(T)) == 0;
      }
    }
  char line[200];
  std::snprintf(line, sizeof line, "sort %s outer=%ld n=%ld inner=%ld k=%ld%s", emu::type_name<T>(), outer, n, inner, k,
                descending ? " descending" : "");
  emu::check(ok, line);
}

template <class T> void scan_case(int64_t outer, int64_t n, int64_t inner, bool product, bool reverse) {
  using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
  const int64_t total = outer * n * inner;
  emu::Array<T> x(total);
  for (int64_t i = 0; i < total; ++i) x[i] = std::is_floating_point_v<T> ? T(1 + 0.01 * (i % 7)) : value<T>(i);
  std::vector<Out> out(total, Out(-9));
  scan_lines(out.data(), x.data(), scalar_type_of<T>(), outer, n, inner, product, reverse, Stream{});
  std::vector<double> got(total), want(total);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      std::conditional_t<std::is_floating_point_v<T>, double, int64_t> acc = product ? 1 : 0;
      for (int64_t step = 0; step < n; ++step) {
        const int64_t j = reverse ? n - 1 - step : step, at = (o * n + j) * inner + i;
        acc = product ? acc * static_cast<decltype(acc)>(x[at]) : acc + static_cast<decltype(acc)>(x[at]);
        want[at] = static_cast<double>(static_cast<Out>(acc));
        got[at] = static_cast<double>(out[at]);
      }
    }
  char line[200];
  std::snprintf(line, sizeof line, "%s %s outer=%ld n=%ld inner=%ld%s", product ? "cumprod" : "cumsum", emu::type_name<T>(), outer, n,
                inner, reverse ? " reversed" : "");
  emu::check(got == want, line);
}

template <class T> void all() {
  for (bool descending : {false, true}) {
    sort_case<T>(3, 37, 1, 37, descending);
    sort_case<T>(2, 50, 3, 5, descending);  // top-5 along a middle dim
    sort_case<T>(1, 1, 4, 1, descending);
  }
  for (bool product : {false, true})
    for (bool reverse : {false, true}) scan_case<T>(2, 40, 3, product, reverse);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  all<float>();
  all<double>();
  all<int64_t>();
  all<int32_t>();
  all<uint8_t>();
  all<bool>();
  return emu::finish("emu_sort");
}
