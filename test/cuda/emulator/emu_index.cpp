// cuda/index.cu in the host emulator (run.sh): gather, scatter (assign: the last duplicate wins;
// add with alpha: duplicates summed in index order; fill), along each dim of a (4, 6, 5) target
// with a (4, 3, 5) index holding negative (wrapped) and duplicate entries, a transposed value
// tensor, index_add's expanded 1-d index (stride 0 off the dim), the range check (the smallest bad
// position, atomics) and one_hot; exact against the CPU's walk (Note [Indexed walk]).
#include "emu.h"
#include "index_emu.inc"

using namespace ember::cuda;

StridedLayout layout3(const int64_t (&sizes)[3], const int64_t (&strides)[3]) {
  StridedLayout l;
  l.ndim = 3, l.numel = sizes[0] * sizes[1] * sizes[2], l.contiguous = false;
  for (int d = 0; d < 3; ++d) l.sizes[d] = sizes[d], l.strides[d] = strides[d];
  return l;
}

template <class T> void run(int dim, bool expanded) {
  int64_t tsz[3] = {4, 6, 5}, isz[3] = {4, 6, 5};
  isz[dim] = 3;
  const int64_t tst[3] = {30, 5, 1}, ist[3] = {isz[1] * isz[2], isz[2], 1};
  const int64_t n_index = isz[0] * isz[1] * isz[2];
  std::vector<int64_t> index(n_index);
  for (int64_t i = 0; i < n_index; ++i) {
    const int64_t v = (i * 5 + i / 7) % tsz[dim];
    index[i] = (i % 4 == 1) ? v - tsz[dim] : v;  // some negative (wrapped)
  }
  // index_add: a 1-d index of isz[dim] entries expanded (stride 0 off the dim)
  int64_t xst[3] = {0, 0, 0};
  xst[dim] = 1;
  if (expanded) for (int64_t j = 0; j < isz[dim]; ++j) index[j] = (j * 2) % tsz[dim];  // duplicates when tsz is small
  const StridedLayout il = expanded ? layout3(isz, xst) : layout3(isz, ist);
  // value stored transposed: strides (1, isz0, isz0 isz1)
  const int64_t vst[3] = {1, isz[0], isz[0] * isz[1]};
  std::vector<T> target(120), value(n_index), gathered(n_index, T(-9));
  for (int64_t i = 0; i < 120; ++i) target[i] = T(i % 17);
  for (int64_t i = 0; i < n_index; ++i) value[i] = T(i % 13 + 1);
  IndexedOperands ops;
  ops.index = index.data(), ops.index_layout = il, ops.value = gathered.data(), ops.value_layout = layout3(isz, vst);
  ops.target = target.data(), ops.target_layout = layout3(tsz, tst), ops.dim = dim;
  const ScalarType type = std::is_same_v<T, float> ? ScalarType::f32 : std::is_same_v<T, int64_t> ? ScalarType::i64 : ScalarType::f64;
  auto idx_at = [&](int64_t a, int64_t b, int64_t c) {
    const int64_t v = index[a * il.strides[0] + b * il.strides[1] + c * il.strides[2]];
    return v < 0 ? v + tsz[dim] : v;
  };
  auto target_off = [&](int64_t a, int64_t b, int64_t c, int64_t k) {
    int64_t p[3] = {a, b, c};
    p[dim] = k;
    return p[0] * tst[0] + p[1] * tst[1] + p[2] * tst[2];
  };
  indexed_gather(ops, type, Stream{});
  bool ok_gather = true;
  for (int64_t a = 0; a < isz[0]; ++a)
    for (int64_t b = 0; b < isz[1]; ++b)
      for (int64_t c = 0; c < isz[2]; ++c)
        ok_gather = ok_gather && gathered[a * vst[0] + b * vst[1] + c * vst[2]] == target[target_off(a, b, c, idx_at(a, b, c))];
  bool ok_scatter = true;
  for (ScatterMode mode : {ScatterMode::assign, ScatterMode::add, ScatterMode::fill}) {
    std::vector<T> t = target, want = target;
    ops.target = t.data(), ops.value = value.data();
    indexed_scatter(ops, type, mode, 2.0, 7.0, Stream{});
    // the CPU's walk: positions in row-major order (per line, along dim in order)
    for (int64_t a = 0; a < isz[0]; ++a)
      for (int64_t b = 0; b < isz[1]; ++b)
        for (int64_t c = 0; c < isz[2]; ++c) {
          T& w = want[target_off(a, b, c, idx_at(a, b, c))];
          const T v = value[a * vst[0] + b * vst[1] + c * vst[2]];
          w = mode == ScatterMode::fill ? T(7) : mode == ScatterMode::assign ? v : static_cast<T>(w + T(2) * v);
        }
    ok_scatter = ok_scatter && t == want;
  }
  char line[200];
  std::snprintf(line, sizeof line, "index %s target (4, 6, 5) dim %d%s: gather %s, scatter assign/add/fill %s", emu::type_name<T>(), dim,
                expanded ? " expanded 1-d index" : "", ok_gather ? "ok" : "WRONG", ok_scatter ? "ok" : "WRONG");
  emu::check(ok_gather && ok_scatter, line);
}

void range_and_one_hot() {
  std::vector<int64_t> index(700);
  for (int64_t i = 0; i < 700; ++i) index[i] = i % 9;
  int64_t first = 700;
  first_outside_position(index.data(), 700, 0, 9, &first, Stream{});
  bool ok = first == 700;
  index[650] = 9, index[333] = -1, index[600] = 100;
  first_outside_position(index.data(), 700, 0, 9, &first, Stream{});
  ok = ok && first == 333;
  index[333] = 3, index[650] = 2, index[600] = 1;
  std::vector<int64_t> hot(700 * 9, 0);
  one_hot(hot.data(), index.data(), 700, 9, Stream{});
  for (int64_t i = 0; i < 700; ++i)
    for (int64_t c = 0; c < 9; ++c) ok = ok && hot[i * 9 + c] == (index[i] == c ? 1 : 0);
  emu::check(ok, "index range check (700 positions, three bad) and one_hot (700, 9)");
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (int dim = 0; dim < 3; ++dim)
    for (bool expanded : {false, true}) {
      run<float>(dim, expanded);
      run<double>(dim, expanded);
      run<int64_t>(dim, expanded);
    }
  range_and_one_hot();
  return emu::finish("emu_index");
}
