// cuda/copy.cu in the host emulator (run.sh): strided copies between every pair of dtypes (the
// conversion rules of engine/copy.cpp: to bool is != 0, 16-bit floats through float, float to
// integer truncates), the contiguous same-type memcpy path, broadcast (stride 0) and permuted
// views over several blocks, and fill of a strided view that must leave the gaps alone.
#include "emu.h"
#include "copy_emu.inc"

using namespace ember::cuda;

template <class T> constexpr ScalarType scalar_type_of() {
  if constexpr (std::is_same_v<T, float>) return ScalarType::f32;
  else if constexpr (std::is_same_v<T, double>) return ScalarType::f64;
  else if constexpr (std::is_same_v<T, int64_t>) return ScalarType::i64;
  else if constexpr (std::is_same_v<T, int32_t>) return ScalarType::i32;
  else if constexpr (std::is_same_v<T, uint8_t>) return ScalarType::u8;
  else if constexpr (std::is_same_v<T, bool>) return ScalarType::bool_;
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return ScalarType::bf16;
  else return ScalarType::f16;
}
template <class T> constexpr bool is_float() {
  return std::is_floating_point_v<T> || std::is_same_v<T, __nv_bfloat16> || std::is_same_v<T, __half>;
}

StridedLayout make_layout(std::vector<int64_t> sizes, std::vector<int64_t> strides) {
  StridedLayout l;
  l.ndim = static_cast<int>(sizes.size());
  l.numel = 1;
  int64_t expect = 1;
  l.contiguous = true;
  for (int d = l.ndim - 1; d >= 0; --d) {
    l.sizes[d] = sizes[d];
    l.strides[d] = strides[d];
    l.numel *= sizes[d];
    if (sizes[d] != 1 && strides[d] != expect) l.contiguous = false;
    expect *= sizes[d];
  }
  return l;
}
int64_t span(const StridedLayout& l) {  // elements a buffer needs
  int64_t last = 0;
  for (int d = 0; d < l.ndim; ++d) last += (l.sizes[d] - 1) * l.strides[d];
  return l.numel == 0 ? 0 : last + 1;
}

// The reference conversion (engine/copy.cpp's rules), written from the value in double.
template <class Out, class In> Out reference_convert(In v) {
  const double d = emu::to_double(v);
  if constexpr (std::is_same_v<Out, bool>) return d != 0.0;
  else if constexpr (std::is_same_v<Out, __nv_bfloat16> || std::is_same_v<Out, __half>) return Out(static_cast<float>(d));
  else if constexpr (std::is_same_v<Out, float>) return static_cast<float>(d);
  else return static_cast<Out>(d);  // every source value is exact in double
}

template <class In> In source_value(int64_t i) {
  if constexpr (std::is_same_v<In, bool>) return (i * 7) % 3 != 0;
  else if constexpr (is_float<In>()) return In(static_cast<float>(((i * 37) % 201) * 0.37));  // >= 0: float -> u8 stays defined
  else return static_cast<In>((i * 13) % 120);
}

template <class Out, class In> void copy_case(const StridedLayout& dst, const StridedLayout& src, const char* what) {
  emu::Array<In> s(span(src));
  for (size_t i = 0; i < s.size(); ++i) s[i] = source_value<In>(static_cast<int64_t>(i));
  emu::Array<Out> d(span(dst), Out(static_cast<float>(99))); emu::Array<Out> want = d;
  for (int64_t i = 0; i < dst.numel; ++i) want[dst.offset_of(i)] = reference_convert<Out>(s[src.offset_of(i)]);
  copy_strided(d.data(), scalar_type_of<Out>(), dst, s.data(), scalar_type_of<In>(), src, Stream{});
  bool ok = true;
  for (size_t i = 0; i < d.size(); ++i) ok = ok && std::memcmp(&d[i], &want[i], sizeof(Out)) == 0;
  emu::check(ok, std::string("copy ") + emu::type_name<In>() + " -> " + emu::type_name<Out>() + " " + what);
}

template <class T> void fill_case() {
  const StridedLayout view = make_layout({5, 67}, {2 * 67 * 2, 2});  // every other element of every other row
  emu::Array<T> d(span(view) + 3, T(static_cast<float>(3))); emu::Array<T> want = d;
  const double value = is_float<T>() ? -2.625 : std::is_same_v<T, bool> ? 1.0 : 77.0;
  for (int64_t i = 0; i < view.numel; ++i) want[view.offset_of(i)] = reference_convert<T>(value);
  fill_strided(d.data(), scalar_type_of<T>(), view, value, Stream{});
  bool ok = true;
  for (size_t i = 0; i < d.size(); ++i) ok = ok && std::memcmp(&d[i], &want[i], sizeof(T)) == 0;
  emu::check(ok, std::string("fill ") + emu::type_name<T>() + " strided (5, 67)");
}

template <class... Ts> struct Types {};
using All = Types<float, double, int64_t, int32_t, uint8_t, bool, __nv_bfloat16, __half>;

template <class Out, class... Ins> void copies_into(Types<Ins...>) {
  // (7, 33): contiguous source into a transposed destination, and back.
  const StridedLayout plain = make_layout({7, 33}, {33, 1}), transposed = make_layout({7, 33}, {1, 7});
  (copy_case<Out, Ins>(transposed, plain, "(7, 33) into a transposed view"), ...);
  (copy_case<Out, Ins>(plain, transposed, "(7, 33) from a transposed view"), ...);
}
template <class... Outs> void all_copies(Types<Outs...>) {
  (copies_into<Outs>(All{}), ...);
  (fill_case<Outs>(), ...);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  all_copies(All{});
  // Several blocks: a (3, 5, 70) destination from a permuted source with a broadcast (stride-0) dim,
  // and a same-type contiguous copy (the cudaMemcpyAsync path), and an empty copy.
  const StridedLayout dst = make_layout({3, 5, 70}, {350, 70, 1}), src = make_layout({3, 5, 70}, {1, 0, 3});
  copy_case<float, double>(dst, src, "(3, 5, 70) permuted + broadcast source");
  copy_case<__half, float>(dst, src, "(3, 5, 70) permuted + broadcast source");
  copy_case<int64_t, int32_t>(dst, src, "(3, 5, 70) permuted + broadcast source");
  copy_case<float, float>(dst, src, "(3, 5, 70) permuted + broadcast source");
  copy_case<double, double>(dst, dst, "(3, 5, 70) contiguous same type (memcpy)");
  copy_case<float, float>(make_layout({0, 4}, {4, 1}), make_layout({0, 4}, {4, 1}), "empty");
  return emu::finish("emu_copy");
}
