// cuda/embedding.cu in the host emulator (run.sh): the row gather from a transposed weight with a
// zeroed padding row, and the deterministic backward (positions sorted by index with CUB's radix
// sort, a host stand-in here, then one writer per (row, column) summing its run in input order),
// with repeated indices, a skipped row and V not a power of two; exact against sums in that order.
#include "emu.h"
#include "embedding_emu.inc"

using namespace ember::cuda;

template <class T> constexpr ScalarType scalar_type_of() {
  if constexpr (std::is_same_v<T, float>) return ScalarType::f32;
  else if constexpr (std::is_same_v<T, double>) return ScalarType::f64;
  else return ScalarType::bf16;
}

template <class T> void run(int64_t n, int64_t V, int64_t D, int64_t special_row) {
  using A = acc_t<T>;
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = (i * 7 + i / 3) % V;
  emu::Array<T> weight(V * D), out(n * D, T(-9.0f)), grad(n * D), gw(V * D, T(0.0f));
  for (int64_t i = 0; i < V * D; ++i) weight[i] = T(static_cast<float>(i * 0.25 - 3));
  for (int64_t i = 0; i < n * D; ++i) grad[i] = T(static_cast<float>(((i * 31) % 17) * 0.125 - 1));
  // weight stored (D, V): row stride 1, column stride V
  embedding_forward(out.data(), weight.data(), scalar_type_of<T>(), 1, V, idx.data(), n, D, special_row, Stream{});
  const size_t bytes = embedding_backward_workspace_bytes(n, V);
  std::vector<unsigned char> workspace(bytes);
  embedding_backward(gw.data(), grad.data(), scalar_type_of<T>(), idx.data(), n, V, D, special_row, workspace.data(), bytes, Stream{});
  bool ok = true;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t d = 0; d < D; ++d)
      ok = ok && emu::to_double(out[i * D + d]) == (idx[i] == special_row ? 0.0 : emu::to_double(weight[d * V + idx[i]]));
  const bool forward_ok = ok;
  for (int64_t r = 0; r < V; ++r)
    for (int64_t d = 0; d < D; ++d) {
      A total = 0;
      bool any = false;
      for (int64_t i = 0; i < n; ++i)
        if (idx[i] == r) total += static_cast<A>(emu::to_double(grad[i * D + d])), any = true;
      const double want = (r == special_row || !any) ? 0.0 : emu::to_double(T(total));
      ok = ok && emu::to_double(gw[r * D + d]) == want;
    }
  char line[200];
  std::snprintf(line, sizeof line, "embedding %s n=%ld V=%ld D=%ld padding/skip row %ld: forward %s, backward %s", emu::type_name<T>(), n,
                V, D, special_row, forward_ok ? "ok" : "WRONG", ok ? "ok" : "WRONG");
  emu::check(ok, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (auto [n, V, D, special] : {std::tuple{300L, 37L, 5L, 4L}, {7L, 1L, 3L, -1L}, {64L, 1000L, 2L, -1L}, {1L, 3L, 1L, 2L}}) {
    run<float>(n, V, D, special);
    run<double>(n, V, D, special);
    run<__nv_bfloat16>(n, V, D, special);
  }
  return emu::finish("emu_embedding");
}
