// cuda/shape.cu in the host emulator (run.sh): the index-map gather (Note [Index maps]: a flip with
// zero padding along one dim, a repeat/replicate pattern with a filled slot along the other, from a
// transposed input), its adjoint (readers summed in the CPU's odometer order, added to the existing
// values), and tril/triu with positive and negative diagonals over a batch; exact.
#include "emu.h"
#include "shape_emu.inc"

using namespace ember::cuda;

template <class T> void run() {
  const int64_t H = 3, W = 6, OH = 5, OW = 8;
  const std::vector<int64_t> map0 = {-1, 2, 1, 0, -1}, map1 = {0, 1, 2, 3, 4, 5, 5, -1};
  std::vector<int64_t> maps = map0;
  maps.insert(maps.end(), map1.begin(), map1.end());
  MapsGather g;
  g.ndim = 2, g.numel = OH * OW, g.sizes[0] = OH, g.sizes[1] = OW, g.map_start[0] = 0, g.map_start[1] = OH;
  g.x_strides[0] = 1, g.x_strides[1] = H;  // x stored (W, H)
  std::vector<T> x(H * W), out(OH * OW, T(-9));
  for (int64_t i = 0; i < H * W; ++i) x[i] = T(i + 1);
  gather_by_maps(out.data(), x.data(), sizeof(T) == 4 ? ScalarType::f32 : ScalarType::f64, g, maps.data(), 7.5, Stream{});
  bool ok_gather = true;
  for (int64_t a = 0; a < OH; ++a)
    for (int64_t b = 0; b < OW; ++b)
      ok_gather = ok_gather && out[a * OW + b] == ((map0[a] < 0 || map1[b] < 0) ? T(7.5) : x[map0[a] * 1 + map1[b] * H]);
  // adjoint tables: per dim, offsets (size + 1, relative) then the reader lists
  std::vector<int64_t> tables;
  MapsAdjoint adj;
  adj.ndim = 2, adj.numel = H * W, adj.sizes[0] = H, adj.sizes[1] = W, adj.grad_strides[0] = OW, adj.grad_strides[1] = 1;
  std::vector<std::vector<std::vector<int64_t>>> readers(2);
  for (int d = 0; d < 2; ++d) {
    const std::vector<int64_t>& m = d == 0 ? map0 : map1;
    const int64_t size = d == 0 ? H : W;
    readers[d].resize(size);
    for (int64_t o = 0; o < static_cast<int64_t>(m.size()); ++o)
      if (m[o] >= 0) readers[d][m[o]].push_back(o);
    adj.offset_start[d] = static_cast<int64_t>(tables.size());
    int64_t running = 0;
    for (int64_t j = 0; j < size; ++j) tables.push_back(running), running += static_cast<int64_t>(readers[d][j].size());
    tables.push_back(running);
    adj.list_start[d] = static_cast<int64_t>(tables.size());
    for (int64_t j = 0; j < size; ++j) tables.insert(tables.end(), readers[d][j].begin(), readers[d][j].end());
  }
  std::vector<T> grad(OH * OW), back(H * W, T(0.5));
  for (int64_t i = 0; i < OH * OW; ++i) grad[i] = T(((i * 7) % 9) * 0.125);
  scatter_add_by_maps(back.data(), grad.data(), sizeof(T) == 4 ? ScalarType::f32 : ScalarType::f64, adj, tables.data(), Stream{});
  bool ok_adjoint = true;
  for (int64_t a = 0; a < H; ++a)
    for (int64_t b = 0; b < W; ++b) {
      T total = T(0.5);
      for (int64_t oa : readers[0][a])
        for (int64_t ob : readers[1][b]) total += grad[oa * OW + ob];
      ok_adjoint = ok_adjoint && back[a * W + b] == total;
    }
  bool ok_triangle = true;
  for (int64_t diagonal : {int64_t{1}, int64_t{-1}, int64_t{0}})
    for (bool lower : {true, false}) {
      const int64_t B = 2, R = 4, C = 5;
      std::vector<T> t(B * R * C), o(B * R * C, T(-9));
      for (size_t i = 0; i < t.size(); ++i) t[i] = T(i + 1);
      triangle(o.data(), t.data(), sizeof(T) == 4 ? ScalarType::f32 : ScalarType::f64, B * R * C, R, C, diagonal, lower, Stream{});
      for (int64_t i = 0; i < B * R * C; ++i) {
        const int64_t c = i % C, r = (i / C) % R;
        ok_triangle = ok_triangle && o[i] == ((lower ? c - r <= diagonal : c - r >= diagonal) ? t[i] : T(0));
      }
    }
  char line[200];
  std::snprintf(line, sizeof line, "shape %s: maps gather (5, 8) from (3, 6) transposed %s, adjoint %s, tril/triu %s", emu::type_name<T>(),
                ok_gather ? "ok" : "WRONG", ok_adjoint ? "ok" : "WRONG", ok_triangle ? "ok" : "WRONG");
  emu::check(ok_gather && ok_adjoint && ok_triangle, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  run<float>();
  run<double>();
  return emu::finish("emu_shape");
}
