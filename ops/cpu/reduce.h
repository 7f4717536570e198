// The reduction framework for CPU kernels, and the reduction kernels built on it.
// Twins: ops/cpu/reduce.cpp (the reducers), ops/reduce.cpp (API, checks, backward).
//
// Note [Reduction layout]
// `plan_reduction` splits the input's dims into a kept group and a reduced group and coalesces
// each group (drops size-1 dims, merges neighbours that walk memory like one longer dim). One
// output per kept index, R reduced elements each, indexed row-major over the reduced dims (that
// flat index is what argmax-style reducers report). Then one of two walks, chosen without copying:
//   rows:    the innermost reduced dim is contiguous: every output reduces contiguous runs of
//            memory (outer reduced dims are stepped by an odometer). x.sum(-1), full reductions.
//   columns: the innermost kept dim is contiguous and the reduced dims are not: every reduced
//            index gives a contiguous row of outputs-to-update, so the kernel accumulates rows
//            into a block of accumulators, vectorised over the contiguous kept dim, parallel over
//            column blocks. x.sum(0) of (B, C) (the bias gradient), sum over T of (N, T, D).
// Anything else (e.g. a transposed input reduced over its strided dim with an odd kept layout)
// is copied once into a contiguous (kept..., reduced...) tensor and walked as rows.
// When there are few outputs and many elements, the reduced range itself is split across threads
// and the partial accumulators are merged in index order.
//
// A reducer is a small struct (see ops/cpu/reduce.cpp) with
//   using Acc;  Acc identity() const;
//   void step(Acc& a, T value, int64_t reduced_index) const;
//   void merge(Acc& a, const Acc& b) const;      // must be associative; ties by index, not order
//   void write(int64_t output_index, const Acc& a) const;  // finish and store (any outputs)
// and `reduce<T>(plan, reducer)` runs it over the plan. No copy-paste per op: every reduction in
// ops/reduce.cpp is one reducer plus this walk.
#pragma once
#include <algorithm>
#include <memory>
#include <vector>

#include "engine/parallel.h"
#include "engine/tensor.h"

namespace ember::cpu {

struct ReductionPlan {
  enum class Layout { rows, columns };
  Layout layout = Layout::rows;
  Tensor input;                          // x itself, or a contiguous (kept..., reduced...) copy
  int64_t K = 1;                         // number of outputs
  int64_t R = 1;                         // elements reduced into each output
  Shape out_sizes;                       // the output shape (with or without kept size-1 dims)
  Shape kept_sizes, kept_strides;        // coalesced kept dims, in elements; never empty
  Shape reduced_sizes, reduced_strides;  // coalesced reduced dims, in elements; never empty
};

// `dims` must already be wrapped and sorted (engine/shape.h wrap_dims). Detaches `x`.
ReductionPlan plan_reduction(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);

// Most dims a coalesced group may keep; plan_reduction copies inputs with more (never in practice).
inline constexpr int64_t kMaxReductionDims = 12;

// Steps a multi-index over (sizes, strides) in row-major order, tracking the element offset.
// Fixed-size state: one is made per output row, so it must not allocate.
struct Odometer {
  const int64_t* sizes;
  const int64_t* strides;
  int64_t ndim;
  int64_t index[kMaxReductionDims] = {};
  int64_t offset = 0;
  Odometer(const Shape& s, const Shape& st, int64_t dims) : sizes(s.data()), strides(st.data()), ndim(dims) {}
  void seek(int64_t linear) {
    offset = 0;
    for (int64_t d = ndim - 1; d >= 0; --d) {
      index[d] = linear % sizes[d];
      linear /= sizes[d];
      offset += index[d] * strides[d];
    }
  }
  void next() {
    for (int64_t d = ndim - 1; d >= 0; --d) {
      offset += strides[d];
      if (++index[d] < sizes[d]) return;
      offset -= index[d] * strides[d];
      index[d] = 0;
    }
  }
};

namespace detail {

// Reduces a contiguous run p[0..n) whose first element has reduced index `index0`. Eight
// interleaved accumulators break the dependency chain so the compiler can vectorise the lanes
// (e.g. two AVX2 vectors of doubles for a float sum); merged pairwise at the end.
template <class T, class Red>
void reduce_run(const Red& red, typename Red::Acc& acc, const T* p, int64_t n, int64_t index0) {
  constexpr int64_t lanes = 8;
  int64_t i = 0;
  if (n >= 4 * lanes) {
    typename Red::Acc lane[lanes];
    for (int64_t l = 0; l < lanes; ++l) lane[l] = red.identity();
    for (; i + lanes <= n; i += lanes)
      for (int64_t l = 0; l < lanes; ++l) red.step(lane[l], p[i + l], index0 + i + l);
    for (int64_t width = lanes / 2; width > 0; width /= 2)
      for (int64_t l = 0; l < width; ++l) red.merge(lane[l], lane[l + width]);
    red.merge(acc, lane[0]);
  }
  for (; i < n; ++i) red.step(acc, p[i], index0 + i);
}

// Rows layout: reduces flat reduced indices [begin, end) of the output whose data starts at `base`.
template <class T, class Red>
typename Red::Acc reduce_rows_range(const Red& red, const ReductionPlan& plan, const T* base, int64_t begin,
                                    int64_t end) {
  typename Red::Acc acc = red.identity();
  if (begin >= end) return acc;
  const int64_t outer_dims = static_cast<int64_t>(plan.reduced_sizes.size()) - 1;
  const int64_t run = plan.reduced_sizes.back();
  Odometer outer(plan.reduced_sizes, plan.reduced_strides, outer_dims);
  outer.seek(begin / run);
  int64_t within = begin % run;
  for (int64_t pos = begin; pos < end;) {
    const int64_t n = std::min(run - within, end - pos);
    reduce_run<T>(red, acc, base + outer.offset + within, n, pos);
    pos += n;
    within = 0;
    outer.next();
  }
  return acc;
}

// Columns layout: accumulates reduced indices [begin, end) into acc[0..width) for the kept
// columns starting at `base` (contiguous along the innermost kept dim).
template <class T, class Red>
void reduce_columns_range(const Red& red, const ReductionPlan& plan, const T* base, int64_t width,
                          typename Red::Acc* acc, int64_t begin, int64_t end) {
  const int64_t ndim = static_cast<int64_t>(plan.reduced_sizes.size());
  Odometer rows(plan.reduced_sizes, plan.reduced_strides, ndim);
  rows.seek(begin);
  for (int64_t r = begin; r < end; ++r, rows.next()) {
    const T* row = base + rows.offset;
    for (int64_t c = 0; c < width; ++c) red.step(acc[c], row[c], r);
  }
}

// Accumulators filled with `init` (not std::vector: vector<bool> hands out proxies, not bool&).
template <class Acc>
std::unique_ptr<Acc[]> accumulators(int64_t n, const Acc& init) {
  std::unique_ptr<Acc[]> a(new Acc[static_cast<size_t>(std::max<int64_t>(n, 1))]);
  std::fill(a.get(), a.get() + n, init);
  return a;
}

// How many pieces to split a reduction of `R` elements into for each of `K` outputs.
inline int64_t split_count(int64_t K, int64_t R) {
  const int64_t threads = num_threads();
  if (threads <= 1 || K >= threads || R < 2 * kParallelGrain) return 1;
  return std::min<int64_t>(threads, R / kParallelGrain);
}

}  // namespace detail

// Runs `red` over the plan; red.write(k, acc) is called exactly once per output k in [0, K).
template <class T, class Red>
void reduce(const ReductionPlan& plan, const Red& red) {
  using Acc = typename Red::Acc;
  if (plan.K == 0) return;
  const T* data = plan.input.template data_ptr<T>();
  const int64_t kept_outer_dims = static_cast<int64_t>(plan.kept_sizes.size()) - 1;

  if (plan.layout == ReductionPlan::Layout::rows) {
    const int64_t kept_dims = kept_outer_dims + 1;
    const int64_t pieces = detail::split_count(plan.K, plan.R);
    if (pieces > 1) {
      // Few outputs, long reductions: split each output's range, merge pieces in index order.
      Odometer kept(plan.kept_sizes, plan.kept_strides, kept_dims);
      for (int64_t k = 0; k < plan.K; ++k, kept.next()) {
        auto partial = detail::accumulators(pieces, red.identity());
        const int64_t chunk = (plan.R + pieces - 1) / pieces;
        parallel_for(pieces, 1, [&](int64_t p0, int64_t p1) {
          for (int64_t p = p0; p < p1; ++p)
            partial[p] = detail::reduce_rows_range<T>(red, plan, data + kept.offset, p * chunk,
                                                      std::min(plan.R, (p + 1) * chunk));
        });
        for (int64_t p = 1; p < pieces; ++p) red.merge(partial[0], partial[p]);
        red.write(k, partial[0]);
      }
      return;
    }
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(plan.R, 1));
    parallel_for(plan.K, grain, [&](int64_t k0, int64_t k1) {
      Odometer kept(plan.kept_sizes, plan.kept_strides, kept_dims);
      kept.seek(k0);
      for (int64_t k = k0; k < k1; ++k, kept.next())
        red.write(k, detail::reduce_rows_range<T>(red, plan, data + kept.offset, 0, plan.R));
    });
    return;
  }

  // Columns layout: blocks of `block` columns keep their accumulators in L1.
  constexpr int64_t block = 512;
  const int64_t width = plan.kept_sizes.back();
  const int64_t blocks_per_row = (width + block - 1) / block;
  const int64_t items = (plan.K / width) * blocks_per_row;
  auto item_geometry = [&](int64_t item, Odometer& kept_outer) {
    kept_outer.seek(item / blocks_per_row);
    const int64_t c0 = (item % blocks_per_row) * block;
    return std::pair<int64_t, int64_t>{c0, std::min(block, width - c0)};
  };
  const int64_t pieces = detail::split_count(items, plan.R * std::min(width, block));
  if (pieces > 1) {
    for (int64_t item = 0; item < items; ++item) {
      Odometer kept_outer(plan.kept_sizes, plan.kept_strides, kept_outer_dims);
      auto [c0, w] = item_geometry(item, kept_outer);
      std::vector<std::unique_ptr<Acc[]>> partial;
      for (int64_t p = 0; p < pieces; ++p) partial.push_back(detail::accumulators(w, red.identity()));
      const int64_t chunk = (plan.R + pieces - 1) / pieces;
      parallel_for(pieces, 1, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p)
          detail::reduce_columns_range<T>(red, plan, data + kept_outer.offset + c0, w, partial[p].get(),
                                          p * chunk, std::min(plan.R, (p + 1) * chunk));
      });
      const int64_t k0 = (item / blocks_per_row) * width + c0;
      for (int64_t c = 0; c < w; ++c) {
        for (int64_t p = 1; p < pieces; ++p) red.merge(partial[0][c], partial[p][c]);
        red.write(k0 + c, partial[0][c]);
      }
    }
    return;
  }
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(plan.R * std::min(width, block), 1));
  parallel_for(items, grain, [&](int64_t i0, int64_t i1) {
    auto acc = detail::accumulators(std::min(width, block), red.identity());
    Odometer kept_outer(plan.kept_sizes, plan.kept_strides, kept_outer_dims);
    for (int64_t item = i0; item < i1; ++item) {
      auto [c0, w] = item_geometry(item, kept_outer);
      std::fill(acc.get(), acc.get() + w, red.identity());
      detail::reduce_columns_range<T>(red, plan, data + kept_outer.offset + c0, w, acc.get(), 0, plan.R);
      const int64_t k0 = (item / blocks_per_row) * width + c0;
      for (int64_t c = 0; c < w; ++c) red.write(k0 + c, acc[c]);
    }
  });
}

// ---- the kernels (ops/cpu/reduce.cpp). Outputs are contiguous with plan.K elements. ----
void sum(const ReductionPlan& plan, const Tensor& out);   // out: x's float dtype, or i64
void prod(const ReductionPlan& plan, const Tensor& out);  // out: x's float dtype, or i64
void amax(const ReductionPlan& plan, const Tensor& out, bool is_max);  // out: x's dtype; R > 0
// values (x's dtype, may be undefined) and indices (i64: flat reduced index of the first extreme).
void max_with_indices(const ReductionPlan& plan, const Tensor& values, const Tensor& indices, bool is_max);
// var (with `correction`) and mean (may be undefined), x floating.
void var_mean(const ReductionPlan& plan, const Tensor& var, const Tensor& mean, double correction);
void logsumexp(const ReductionPlan& plan, const Tensor& out);
enum class NormKind { l1, l2, linf };
void norm(const ReductionPlan& plan, const Tensor& out, NormKind kind);
void any_all(const ReductionPlan& plan, const Tensor& out, bool is_all);  // out: bool
void count_nonzero(const ReductionPlan& plan, const Tensor& out);          // out: i64

}  // namespace ember::cpu
