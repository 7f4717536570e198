// CPU kernels for ops/shape.cpp (cat, pad, flip, roll, repeat, tril/triu and the pad adjoint).
// Twin: ops/shape.cpp (API, checks, backward). Note [Index maps] is in ops/cpu/shape.h.
#include "ops/cpu/shape.h"

#include <algorithm>
#include <cstring>

#include "engine/copy.h"
#include "engine/dispatch.h"
#include "engine/parallel.h"
#include "engine/strided_loop.h"

namespace ember::cpu {

namespace {

Shape byte_strides(const Tensor& t) {
  Shape s = t.strides();
  for (auto& v : s) v *= static_cast<int64_t>(t.element_size());
  return s;
}

// Strided copy of n elements of `item` bytes, typed by size so it needs no dtype dispatch.
template <class Word>
void copy_words(char* dst, int64_t dst_stride, const char* src, int64_t src_stride, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    *reinterpret_cast<Word*>(dst + i * dst_stride) = *reinterpret_cast<const Word*>(src + i * src_stride);
}

// A maximal stretch of the last-dim map: `length` outputs from out_start read inputs
// in_start, in_start + step, ... (step +1 or -1), or the fill value when in_start is -1.
struct Run {
  int64_t out_start, in_start, length, step;
};

std::vector<Run> runs_of(const std::vector<int64_t>& map) {
  std::vector<Run> runs;
  const int64_t n = static_cast<int64_t>(map.size());
  int64_t i = 0;
  while (i < n) {
    Run run{i, map[i], 1, 1};
    if (map[i] < 0) {
      run.in_start = -1;
      while (i + run.length < n && map[i + run.length] < 0) ++run.length;
    } else if (i + 1 < n && map[i + 1] >= 0 && (map[i + 1] - map[i] == 1 || map[i + 1] - map[i] == -1)) {
      run.step = map[i + 1] - map[i];
      while (i + run.length < n && map[i + run.length] >= 0 &&
             map[i + run.length] - map[i + run.length - 1] == run.step)
        ++run.length;
    }
    runs.push_back(run);
    i += run.length;
  }
  return runs;
}

// Splits row index `row` (row-major over sizes[0..n-2]) into per-dim indices.
Shape unravel_rows(int64_t row, const Shape& sizes) {
  const int64_t outer = static_cast<int64_t>(sizes.size()) - 1;
  Shape index(std::max<int64_t>(outer, 0), 0);
  for (int64_t d = outer - 1; d >= 0; --d) {
    index[d] = row % sizes[d];
    row /= sizes[d];
  }
  return index;
}

void next_row(Shape& index, const Shape& sizes) {
  for (int64_t d = static_cast<int64_t>(index.size()) - 1; d >= 0; --d) {
    if (++index[d] < sizes[d]) return;
    index[d] = 0;
  }
}

// Work items for a row kernel: whole rows when there are enough of them, else each row cut into
// `parts` column ranges of `span`, so a few long rows (a 1-d signal) still spread over threads.
struct ColumnSplit {
  int64_t parts, span;
};

ColumnSplit split_columns(int64_t rows, int64_t inner) {
  const int64_t parts = rows >= 2 * num_threads() ? 1 : std::max<int64_t>(1, inner / kParallelGrain);
  return {parts, (inner + parts - 1) / parts};
}

}  // namespace

void copy_into(const Tensor& dst, const Tensor& src) {
  if (dst.dtype() != src.dtype()) {
    copy_data(dst, src);
    return;
  }
  const int64_t item = static_cast<int64_t>(dst.element_size());
  StridedOperands<2> ops{{static_cast<char*>(dst.raw_data()), static_cast<char*>(src.raw_data())},
                         {byte_strides(dst), byte_strides(src)}};
  strided_loop<2>(dst.sizes(), ops, [item](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
    if (s[0] == item && s[1] == item) {
      std::memcpy(p[0], p[1], static_cast<size_t>(n * item));
      return;
    }
    switch (item) {
      case 1: copy_words<uint8_t>(p[0], s[0], p[1], s[1], n); break;
      case 2: copy_words<uint16_t>(p[0], s[0], p[1], s[1], n); break;
      case 4: copy_words<uint32_t>(p[0], s[0], p[1], s[1], n); break;
      default: copy_words<uint64_t>(p[0], s[0], p[1], s[1], n); break;
    }
  });
}

// out: (maps[0].size(), ..., maps[n-1].size()) contiguous; x: (in_0, ..., in_{n-1}) any strides.
void gather_by_maps(const Tensor& out, const Tensor& x, const IndexMaps& maps, double fill) {
  if (out.numel() == 0) return;
  if (maps.empty()) {  // 0-d: a one-element copy
    copy_into(out, x);
    return;
  }
  const int64_t ndim = static_cast<int64_t>(maps.size());
  const Shape& out_sizes = out.sizes();
  const int64_t inner = out_sizes.back();
  const int64_t rows = out.numel() / inner;
  const std::vector<Run> runs = runs_of(maps.back());
  const Shape x_strides = x.strides();
  const int64_t x_inner_stride = x_strides.back();
  const ColumnSplit split = split_columns(rows, inner);
  dispatch_all(out.dtype(), "gather_by_maps", [&]<class T>() {
    const T fill_value = static_cast<T>(fill);
    const T* x_data = x.data_ptr<T>();
    T* out_data = out.data_ptr<T>();
    parallel_for(rows * split.parts, std::max<int64_t>(1, kParallelGrain / split.span), [&](int64_t begin, int64_t end) {
      int64_t row = begin / split.parts;
      Shape index = unravel_rows(row, out_sizes);
      for (int64_t item = begin; item < end; ++item) {
        if (item / split.parts != row) {
          row = item / split.parts;
          next_row(index, out_sizes);
        }
        const int64_t c0 = (item % split.parts) * split.span, c1 = std::min(inner, c0 + split.span);
        T* out_row = out_data + row * inner;
        int64_t x_offset = 0;
        bool filled_row = false;
        for (int64_t d = 0; d < ndim - 1 && !filled_row; ++d) {
          const int64_t source = maps[d][index[d]];
          filled_row = source < 0;
          x_offset += source * x_strides[d];
        }
        if (filled_row) {
          std::fill(out_row + c0, out_row + c1, fill_value);
          continue;
        }
        const T* x_row = x_data + x_offset;
        for (const Run& run : runs) {
          // The part of the run inside the columns [c0, c1).
          const int64_t k0 = std::max<int64_t>(0, c0 - run.out_start);
          const int64_t k1 = std::min(run.length, c1 - run.out_start);
          if (k0 >= k1) continue;
          T* o = out_row + run.out_start;
          if (run.in_start < 0) {
            std::fill(o + k0, o + k1, fill_value);
          } else if (run.step == 1 && x_inner_stride == 1) {
            std::memcpy(o + k0, x_row + run.in_start + k0, static_cast<size_t>(k1 - k0) * sizeof(T));
          } else {
            const T* first = x_row + run.in_start * x_inner_stride;
            const int64_t stride = run.step * x_inner_stride;
            for (int64_t k = k0; k < k1; ++k) o[k] = first[k * stride];
          }
        }
      }
    });
  });
}

// out: input shape (in_0, ..., in_{n-1}), contiguous, zero-filled; grad: (maps[0].size(), ...).
void scatter_add_by_maps(const Tensor& out, const Tensor& grad, const IndexMaps& maps) {
  if (out.numel() == 0 || grad.numel() == 0) return;
  if (maps.empty()) {
    copy_into(out, grad);
    return;
  }
  const int64_t ndim = static_cast<int64_t>(maps.size());
  const Shape& in_sizes = out.sizes();
  // For each outer dim, which output indices read input index j: the rows to sum.
  std::vector<std::vector<std::vector<int64_t>>> readers(ndim - 1);
  for (int64_t d = 0; d < ndim - 1; ++d) {
    readers[d].resize(in_sizes[d]);
    for (int64_t i = 0; i < static_cast<int64_t>(maps[d].size()); ++i)
      if (maps[d][i] >= 0) readers[d][maps[d][i]].push_back(i);
  }
  std::vector<Run> runs = runs_of(maps.back());
  std::erase_if(runs, [](const Run& r) { return r.in_start < 0; });
  const int64_t inner = in_sizes.back();
  const int64_t rows = out.numel() / inner;
  const Shape g_strides = grad.strides();
  const int64_t g_inner_stride = g_strides.back();
  const ColumnSplit split = split_columns(rows, inner);
  dispatch_floating(out.dtype(), "scatter_add_by_maps", [&]<class T>() {
    const T* g_data = grad.data_ptr<T>();
    T* out_data = out.data_ptr<T>();
    parallel_for(rows * split.parts, std::max<int64_t>(1, kParallelGrain / split.span), [&](int64_t begin, int64_t end) {
      int64_t row = begin / split.parts;
      Shape index = unravel_rows(row, in_sizes);
      std::vector<size_t> pick(ndim - 1);
      for (int64_t item = begin; item < end; ++item) {
        if (item / split.parts != row) {
          row = item / split.parts;
          next_row(index, in_sizes);
        }
        const int64_t c0 = (item % split.parts) * split.span, c1 = std::min(inner, c0 + split.span);
        bool read_at_all = true;
        for (int64_t d = 0; d < ndim - 1; ++d) read_at_all = read_at_all && !readers[d][index[d]].empty();
        if (!read_at_all) continue;
        T* out_row = out_data + row * inner;
        // Odometer over the cartesian product of the reader lists: each is one grad row.
        std::fill(pick.begin(), pick.end(), 0);
        while (true) {
          int64_t g_offset = 0;
          for (int64_t d = 0; d < ndim - 1; ++d) g_offset += readers[d][index[d]][pick[d]] * g_strides[d];
          const T* g_row = g_data + g_offset;
          for (const Run& run : runs) {
            // The part of the run whose input positions in_start + k * step lie in [c0, c1).
            const int64_t k0 = run.step > 0 ? std::max<int64_t>(0, c0 - run.in_start)
                                            : std::max<int64_t>(0, run.in_start - c1 + 1);
            const int64_t k1 = run.step > 0 ? std::min(run.length, c1 - run.in_start)
                                            : std::min(run.length, run.in_start - c0 + 1);
            T* o = out_row + run.in_start;
            const T* g = g_row + run.out_start * g_inner_stride;
            for (int64_t k = k0; k < k1; ++k) o[k * run.step] += g[k * g_inner_stride];
          }
          int64_t d = ndim - 2;
          for (; d >= 0; --d) {
            if (++pick[d] < readers[d][index[d]].size()) break;
            pick[d] = 0;
          }
          if (d < 0) break;
        }
      }
    });
  });
}

// x, out: (batch, R, C) contiguous. Row r keeps columns c with c - r <= diagonal (lower) or
// c - r >= diagonal (upper): one copied block and one zeroed block per row.
void triangle(const Tensor& out, const Tensor& x, int64_t diagonal, bool lower) {
  if (out.numel() == 0) return;
  const int64_t R = x.size(x.dim() - 2), C = x.size(x.dim() - 1);
  const int64_t rows = out.numel() / C;
  dispatch_all(out.dtype(), "triangle", [&]<class T>() {
    const T* x_data = x.data_ptr<T>();
    T* out_data = out.data_ptr<T>();
    parallel_for(rows, std::max<int64_t>(1, kParallelGrain / C), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t r = row % R;
        const T* src = x_data + row * C;
        T* dst = out_data + row * C;
        // Kept columns are [keep_begin, keep_end).
        const int64_t keep_begin = lower ? 0 : std::clamp<int64_t>(r + diagonal, 0, C);
        const int64_t keep_end = lower ? std::clamp<int64_t>(r + diagonal + 1, 0, C) : C;
        std::fill(dst, dst + keep_begin, T(0));
        std::memcpy(dst + keep_begin, src + keep_begin, static_cast<size_t>(keep_end - keep_begin) * sizeof(T));
        std::fill(dst + keep_end, dst + C, T(0));
      }
    });
  });
}

}  // namespace ember::cpu
