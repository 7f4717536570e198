// CPU kernels for sorting, top-k, scans and take/place along a dim.
// Twin: ops/sort.cpp (API, checks, backward). Layout: ops/cpu/sort.h.
#include "ops/cpu/sort.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/dispatch.h"
#include "engine/parallel.h"

namespace ember::cpu {

namespace {

// A contiguous tensor seen as (outer, size(dim), inner).
struct Lines {
  int64_t outer = 1, length = 1, inner = 1;
};
Lines lines_of(const Tensor& t, int64_t dim) {
  Lines l;
  if (t.dim() == 0) return l;
  for (int64_t d = 0; d < dim; ++d) l.outer *= t.size(d);
  l.length = t.size(dim);
  for (int64_t d = dim + 1; d < t.dim(); ++d) l.inner *= t.size(d);
  return l;
}

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  return false;
}

}  // namespace

void sort(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim, bool descending, int64_t k) {
  dispatch_all(x.dtype(), "sort", [&]<class T>() {
    const Lines in = lines_of(x, dim);
    const T* src = x.data_ptr<T>();
    T* out_values = values.data_ptr<T>();
    int64_t* out_indices = indices.data_ptr<int64_t>();
    const int64_t n = in.length;
    const int64_t line_count = in.outer * in.inner;
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n * 8, 1));
    parallel_for(line_count, grain, [&](int64_t begin, int64_t end) {
      using Entry = std::pair<T, int64_t>;
      std::vector<Entry> line(n);
      // Ties keep their original order (stable): the index breaks them explicitly, which also
      // makes the partial sort for top-k agree with the full stable sort.
      auto before = [descending](const Entry& a, const Entry& b) {
        if (a.first != b.first) return descending ? a.first > b.first : a.first < b.first;
        return a.second < b.second;
      };
      for (int64_t l = begin; l < end; ++l) {
        const int64_t o = l / in.inner, i = l % in.inner;
        const T* p = src + o * n * in.inner + i;
        // NaN is the largest value: NaNs go, in index order, to the end (ascending) or the front
        // (descending) while gathering, so the comparator never sees one.
        int64_t numbers = 0, nans = 0;
        for (int64_t j = 0; j < n; ++j) nans += is_nan(p[j * in.inner]) ? 1 : 0;
        const int64_t number_start = descending ? nans : 0;
        int64_t nan_slot = descending ? 0 : n - nans;
        for (int64_t j = 0; j < n; ++j) {
          const T v = p[j * in.inner];
          if (is_nan(v)) line[nan_slot++] = {v, j};
          else line[number_start + numbers++] = {v, j};
        }
        auto first = line.begin() + number_start;
        auto last = first + numbers;
        const int64_t wanted = std::clamp<int64_t>(k - number_start, 0, numbers);  // numbers inside the first k
        if (wanted < numbers) std::partial_sort(first, first + wanted, last, before);
        else std::sort(first, last, before);
        T* v = out_values + o * k * in.inner + i;
        int64_t* idx = out_indices + o * k * in.inner + i;
        for (int64_t j = 0; j < k; ++j) {
          v[j * in.inner] = line[j].first;
          idx[j * in.inner] = line[j].second;
        }
      }
    });
  });
}

void scan(const Tensor& out, const Tensor& x, int64_t dim, ScanOp op, bool reverse) {
  dispatch_all(x.dtype(), op == ScanOp::sum ? "cumsum" : "cumprod", [&]<class T>() {
    // Floats accumulate in double, integers in int64 (the output dtype then).
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
    using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
    const Lines l = lines_of(x, dim);
    const T* src = x.data_ptr<T>();
    Out* dst = out.data_ptr<Out>();
    // Blocks of `block` inner columns scan together: each step along the dim is a contiguous,
    // vectorisable row update.
    constexpr int64_t block = 256;
    const int64_t blocks_per_outer = (l.inner + block - 1) / block;
    const int64_t items = l.outer * blocks_per_outer;
    const int64_t work_per_item = l.length * std::min(l.inner, block);
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(work_per_item, 1));
    if (l.inner == 1) {
      // One contiguous line per outer index: a plain sequential scan.
      parallel_for(l.outer, grain, [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o) {
          const T* line = src + o * l.length;
          Out* out_line = dst + o * l.length;
          Acc acc = op == ScanOp::sum ? Acc{0} : Acc{1};
          for (int64_t step = 0; step < l.length; ++step) {
            const int64_t j = reverse ? l.length - 1 - step : step;
            acc = op == ScanOp::sum ? acc + static_cast<Acc>(line[j]) : acc * static_cast<Acc>(line[j]);
            out_line[j] = static_cast<Out>(acc);
          }
        }
      });
      return;
    }
    parallel_for(items, grain, [&](int64_t i0, int64_t i1) {
      Acc acc[block];
      for (int64_t item = i0; item < i1; ++item) {
        const int64_t o = item / blocks_per_outer;
        const int64_t c0 = (item % blocks_per_outer) * block;
        const int64_t w = std::min(block, l.inner - c0);
        std::fill(acc, acc + w, op == ScanOp::sum ? Acc{0} : Acc{1});
        for (int64_t step = 0; step < l.length; ++step) {
          const int64_t j = reverse ? l.length - 1 - step : step;
          const int64_t offset = (o * l.length + j) * l.inner + c0;
          const T* row = src + offset;
          Out* out_row = dst + offset;
          if (op == ScanOp::sum) {
            for (int64_t c = 0; c < w; ++c) out_row[c] = static_cast<Out>(acc[c] += static_cast<Acc>(row[c]));
          } else {
            for (int64_t c = 0; c < w; ++c) out_row[c] = static_cast<Out>(acc[c] *= static_cast<Acc>(row[c]));
          }
        }
      }
    });
  });
}

}  // namespace ember::cpu
