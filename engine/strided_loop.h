// The iteration engine behind elementwise kernels: walk an N-d index space with one stride
// vector per operand (strides 0 for broadcast dims), coalescing dims that are contiguous for
// every operand, and hand the innermost row to a loop body. Rows where every operand has unit
// stride (or 0 for a broadcast scalar) get a branch the compiler can vectorise.
#pragma once
#include <array>
#include <cstdint>
#include <tuple>
#include <utility>

#include "engine/parallel.h"
#include "engine/shape.h"

namespace ember {

template <size_t N>
struct StridedOperands {
  std::array<char*, N> data;      // address of element 0
  std::array<Shape, N> strides;   // in bytes
};

namespace detail {
// Drops size-1 dims, then merges dim d into the dim inside it when, for every operand,
// stride[d] == stride[inner] * size[inner] (so the pair walks memory like one longer dim).
template <size_t N>
void coalesce(Shape& sizes, std::array<Shape, N>& strides) {
  Shape kept_sizes;
  std::array<Shape, N> kept_strides;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    kept_sizes.push_back(sizes[d]);
    for (size_t k = 0; k < N; ++k) kept_strides[k].push_back(strides[k][d]);
  }
  if (kept_sizes.empty()) {
    sizes = {1};
    for (auto& s : strides) s = {0};
    return;
  }
  Shape out_sizes{kept_sizes.back()};
  std::array<Shape, N> out_strides;
  for (size_t k = 0; k < N; ++k) out_strides[k] = {kept_strides[k].back()};
  for (int64_t d = static_cast<int64_t>(kept_sizes.size()) - 2; d >= 0; --d) {
    bool mergeable = true;
    for (size_t k = 0; k < N && mergeable; ++k)
      mergeable = kept_strides[k][d] == out_strides[k].front() * out_sizes.front();
    if (mergeable) {
      out_sizes.front() *= kept_sizes[d];
    } else {
      out_sizes.insert(out_sizes.begin(), kept_sizes[d]);
      for (size_t k = 0; k < N; ++k) out_strides[k].insert(out_strides[k].begin(), kept_strides[k][d]);
    }
  }
  sizes = std::move(out_sizes);
  strides = std::move(out_strides);
}
}  // namespace detail

// body(std::array<char*, N> row_pointers, std::array<int64_t, N> row_strides_bytes, int64_t n)
// is called once per innermost row; rows are split across threads when the work is large.
template <size_t N, class Body>
void strided_loop(Shape sizes, StridedOperands<N> ops, Body&& body, int64_t grain = kParallelGrain) {
  const int64_t total = numel_of(sizes);
  if (total == 0) return;
  if (sizes.empty()) {
    sizes = {1};
    for (auto& s : ops.strides) s = {0};
  }
  detail::coalesce<N>(sizes, ops.strides);
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  const int64_t inner = sizes.back();
  const int64_t rows = total / inner;
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = ops.strides[k].back();

  // A single long row: split the row itself across threads.
  if (rows == 1) {
    parallel_for(inner, grain, [&](int64_t begin, int64_t end) {
      std::array<char*, N> p;
      for (size_t k = 0; k < N; ++k) p[k] = ops.data[k] + begin * inner_strides[k];
      body(p, inner_strides, end - begin);
    });
    return;
  }
  const int64_t row_grain = inner >= grain ? 1 : grain / inner;
  parallel_for(rows, row_grain, [&](int64_t begin, int64_t end) {
    // Decompose `begin` into an index over the outer dims, then step it like an odometer.
    Shape index(ndim - 1, 0);
    int64_t rem = begin;
    for (int64_t d = ndim - 2; d >= 0; --d) {
      index[d] = rem % sizes[d];
      rem /= sizes[d];
    }
    for (int64_t row = begin; row < end; ++row) {
      std::array<char*, N> p = ops.data;
      for (int64_t d = 0; d < ndim - 1; ++d)
        for (size_t k = 0; k < N; ++k) p[k] += index[d] * ops.strides[k][d];
      body(p, inner_strides, inner);
      for (int64_t d = ndim - 2; d >= 0; --d) {
        if (++index[d] < sizes[d]) break;
        index[d] = 0;
      }
    }
  });
}

// Elementwise map over N-1 inputs into operand 0 (the output). f(in...) -> out value.
// Operands are typed pointers; `Out` and `Ins...` give their C++ types.
template <class Out, class... Ins, class F>
void map_kernel(const Shape& sizes, StridedOperands<sizeof...(Ins) + 1> ops, F f) {
  constexpr size_t N = sizeof...(Ins) + 1;
  // flatten: inline the functor into every row loop even in kernel files with many instantiations,
  // where GCC's inliner budget would otherwise leave a call per element (and no SIMD).
  strided_loop<N>(sizes, ops, [&](std::array<char*, N> p, std::array<int64_t, N> s, int64_t n) __attribute__((flatten)) {
    // A private copy of the functor: its captured state (an alpha, a slope) then cannot alias the
    // output, so GCC keeps it in registers and vectorises the unit-stride loops below.
    const F op = f;
    constexpr std::array<int64_t, N> item_sizes{static_cast<int64_t>(sizeof(Out)),
                                                static_cast<int64_t>(sizeof(Ins))...};
    bool unit = true;
    for (size_t k = 0; k < N; ++k) unit = unit && s[k] == item_sizes[k];
    Out* out = reinterpret_cast<Out*>(p[0]);
    if (unit) {
      [&]<size_t... I>(std::index_sequence<I...>) {
        [[maybe_unused]] auto ins = std::make_tuple(reinterpret_cast<const Ins*>(p[I + 1])...);
        for (int64_t i = 0; i < n; ++i) out[i] = static_cast<Out>(op(std::get<I>(ins)[i]...));
      }(std::index_sequence_for<Ins...>{});
      return;
    }
    if constexpr (N == 3) {
      // Binary op against a broadcast scalar (x + 2.0, a row times a column entry): read the
      // scalar once and keep the loop contiguous.
      using A = std::tuple_element_t<0, std::tuple<Ins...>>;
      using B = std::tuple_element_t<1, std::tuple<Ins...>>;
      if (s[0] == item_sizes[0] && s[1] == item_sizes[1] && s[2] == 0) {
        const A* a = reinterpret_cast<const A*>(p[1]);
        const B b = *reinterpret_cast<const B*>(p[2]);
        for (int64_t i = 0; i < n; ++i) out[i] = static_cast<Out>(op(a[i], b));
        return;
      }
      if (s[0] == item_sizes[0] && s[1] == 0 && s[2] == item_sizes[2]) {
        const A a = *reinterpret_cast<const A*>(p[1]);
        const B* b = reinterpret_cast<const B*>(p[2]);
        for (int64_t i = 0; i < n; ++i) out[i] = static_cast<Out>(op(a, b[i]));
        return;
      }
    }
    [&]<size_t... I>(std::index_sequence<I...>) {
      for (int64_t i = 0; i < n; ++i) {
        *reinterpret_cast<Out*>(p[0] + i * s[0]) =
            static_cast<Out>(op(*reinterpret_cast<const Ins*>(p[I + 1] + i * s[I + 1])...));
      }
    }(std::index_sequence_for<Ins...>{});
  });
}

}  // namespace ember
