// cuda/pool.cu (with cuda/sort.cu's segmented sort, CUB being a host stand-in) in the host emulator
// (run.sh): max pooling (NaN wins, the last one; ties keep the first; indices), avg pooling and its
// adjoint through the reader tables, and max pooling's atomic-free backward (plane keys, stable
// segmented sort, sums of runs) and gather; padded and dilated windows over (3, 9, 11) planes;
// exact against the CPU's walk (rows then columns, ascending; sums in that order).
#include "emu.h"
#include "pool_emu.inc"
#include "sort_emu.inc"

using namespace ember::cuda;

struct Windows {  // ops/cpu/pool.h PoolWindows for a regular rule, plus the adjoint's reader table
  std::vector<int64_t> start, end, reader_offsets, readers;
  std::vector<double> scale;
  int64_t step, input;
  Windows(int64_t input_size, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation) : step(dilation), input(input_size) {
    const int64_t out = (input_size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
    for (int64_t o = 0; o < out; ++o) {
      int64_t s = o * stride - padding, e = s + dilation * (kernel - 1) + 1;
      while (s < 0) s += dilation;
      e = std::min(e, input_size);
      start.push_back(s), end.push_back(e), scale.push_back(1.0 / kernel);
    }
    reader_offsets.push_back(0);
    for (int64_t p = 0; p < input_size; ++p) {
      for (int64_t o = 0; o < out; ++o)
        if (p >= start[o] && p < end[o] && (p - start[o]) % step == 0) readers.push_back(o);
      reader_offsets.push_back(static_cast<int64_t>(readers.size()));
    }
  }
  AxisWindows device() const {
    AxisWindows a;
    a.start = start.data(), a.end = end.data(), a.scale = scale.data(), a.step = step, a.input_size = input;
    a.output_size = static_cast<int64_t>(start.size()), a.reader_offsets = reader_offsets.data(), a.readers = readers.data();
    return a;
  }
};

template <class T> void run(int64_t kernel, int64_t stride, int64_t padding, int64_t dilation) {
  const int64_t B = 3, H = 9, W = 11;
  const Windows rw(H, kernel, stride, padding, dilation), cw(W, kernel, stride, padding, dilation);
  const AxisWindows rows = rw.device(), cols = cw.device();
  const int64_t OH = rows.output_size, OW = cols.output_size, P = H * W, Q = OH * OW;
  const ScalarType type = std::is_same_v<T, float> ? ScalarType::f32 : ScalarType::f64;
  std::vector<T> x(B * P), out(B * Q, T(-9)), avg(B * Q, T(-9)), g(B * Q), gin(B * P, T(-9)), scat(B * P, T(-9)), gath(B * Q, T(-9));
  for (int64_t i = 0; i < B * P; ++i) x[i] = i % 29 == 3 ? T(NAN) : T((i * 7) % 5);  // ties everywhere, some NaN
  for (int64_t i = 0; i < B * Q; ++i) g[i] = T(((i * 13) % 11) * 0.25 - 1);
  std::vector<int64_t> idx(B * Q, -9);
  max_pool2d(out.data(), idx.data(), x.data(), type, B, rows, cols, Stream{});
  avg_pool2d(avg.data(), x.data(), type, B, rows, cols, Stream{});
  avg_pool2d_adjoint(gin.data(), g.data(), type, B, rows, cols, Stream{});
  // max pool backward: keys, segmented sort, runs
  std::vector<uint32_t> keys(B * Q), sorted_keys(B * Q);
  std::vector<int64_t> positions(B * Q), sorted_positions(B * Q);
  std::vector<int> offsets(B + 1);
  plane_scatter_keys(keys.data(), positions.data(), offsets.data(), idx.data(), B, Q, Stream{});
  const size_t bytes = segmented_sort_bytes(4, B * Q, B);
  std::vector<unsigned char> temp(bytes);
  segmented_stable_sort(4, keys.data(), sorted_keys.data(), positions.data(), sorted_positions.data(), B * Q, B, offsets.data(),
                        temp.data(), bytes, Stream{});
  plane_sum_runs(scat.data(), g.data(), type, sorted_keys.data(), sorted_positions.data(), B, P, Q, Stream{});
  plane_gather(gath.data(), x.data(), type, idx.data(), B, P, Q, Stream{});
  bool ok_max = true, ok_avg = true, ok_adj = true, ok_scatter = true, ok_gather = true;
  auto same = [](T a, T b) { return (a != a && b != b) || a == b; };
  std::vector<T> want_scatter(B * P, T(0)), want_adj(B * P, T(0));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        T best = -INFINITY, sum = 0;
        int64_t bi = rw.start[oh] * W + cw.start[ow];
        for (int64_t h = rw.start[oh]; h < rw.end[oh]; h += dilation)
          for (int64_t w = cw.start[ow]; w < cw.end[ow]; w += dilation) {
            const T v = x[b * P + h * W + w];
            if (v > best || v != v) best = v, bi = h * W + w;
            sum += v;
          }
        const int64_t t = (b * OH + oh) * OW + ow;
        ok_max = ok_max && same(out[t], best) && idx[t] == bi;
        ok_avg = ok_avg && same(avg[t], static_cast<T>(sum * (rw.scale[oh] * cw.scale[ow])));
        ok_gather = ok_gather && same(gath[t], x[b * P + idx[t]]);
        want_scatter[b * P + idx[t]] += g[t];  // q order
      }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        T sum = 0;
        for (int64_t r = rw.reader_offsets[h]; r < rw.reader_offsets[h + 1]; ++r)
          for (int64_t c = cw.reader_offsets[w]; c < cw.reader_offsets[w + 1]; ++c) {
            const int64_t oh = rw.readers[r], ow = cw.readers[c];
            sum += static_cast<T>(g[(b * OH + oh) * OW + ow] * (rw.scale[oh] * cw.scale[ow]));
          }
        ok_adj = ok_adj && gin[(b * H + h) * W + w] == sum;
      }
  for (int64_t i = 0; i < B * P; ++i) ok_scatter = ok_scatter && scat[i] == want_scatter[i];
  char line[220];
  std::snprintf(line, sizeof line, "pool %s (3, 9, 11) kernel %ld stride %ld padding %ld dilation %ld: max %s avg %s adjoint %s scatter %s gather %s",
                emu::type_name<T>(), kernel, stride, padding, dilation, ok_max ? "ok" : "WRONG", ok_avg ? "ok" : "WRONG",
                ok_adj ? "ok" : "WRONG", ok_scatter ? "ok" : "WRONG", ok_gather ? "ok" : "WRONG");
  emu::check(ok_max && ok_avg && ok_adj && ok_scatter && ok_gather, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (auto [k, s, p, d] : {std::tuple{3L, 2L, 1L, 1L}, {2L, 1L, 0L, 2L}, {1L, 1L, 0L, 1L}, {4L, 3L, 2L, 1L}}) {
    run<float>(k, s, p, d);
    run<double>(k, s, p, d);
  }
  return emu::finish("emu_pool");
}
