// CPU kernels for ops/index.cpp: gather, scatter, scatter_add, index_select, index_add, one_hot.
// Twin: ops/index.cpp (API, checks, backward).
#include "ops/cpu/index.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "engine/dispatch.h"
#include "engine/factories.h"
#include "engine/parallel.h"

namespace ember::cpu {

namespace {

constexpr int64_t kRowBlock = 512;  // elements of the last dim per work item

int64_t wrapped(int64_t i, int64_t size) { return i < 0 ? i + size : i; }

// Note [Indexed walk]: gather/scatter visit every position of the index tensor. Work is split
// over the dims other than `dim` (the last dim in blocks, when `dim` is not last) and each work
// item walks `dim` in order. So two threads never write one target element, and every sum
// (scatter_add, index_add) accumulates in the same order whatever the thread count.
//
// strides (in elements) are for {index, value, target}: value is the tensor read or written at
// the index position (gather's out, scatter's src); target is the tensor addressed through the
// index along `dim`. body(index_offset, value_offset, target_offset) gets the target offset
// without the `dim` term; the body adds index * target_stride[dim].
// A gather writes each value position once, so it may also split `dim` (split_dim) when the
// other dims offer too little parallel work; accumulating scatters never do.
template <class Body>
void indexed_walk(Shape sizes, int64_t dim, std::array<Shape, 3> strides, bool split_dim, Body body) {
  if (numel_of(sizes) == 0) return;
  if (sizes.empty()) {  // 0-d: one position
    sizes = {1};
    for (auto& s : strides) s = {0};
    dim = 0;
  }
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  const int64_t steps = sizes[dim];
  const int64_t last = dim == ndim - 1 ? -1 : ndim - 1;
  const int64_t row = last >= 0 ? sizes[last] : 1;
  const int64_t block = std::min(row, kRowBlock);
  const int64_t blocks_per_row = (row + block - 1) / block;
  std::vector<int64_t> outer_dims;
  int64_t outer_count = 1;
  for (int64_t d = 0; d < ndim; ++d) {
    if (d == dim || d == last) continue;
    outer_dims.push_back(d);
    outer_count *= sizes[d];
  }
  const std::array<int64_t, 3> last_stride = {last >= 0 ? strides[0][last] : 0, last >= 0 ? strides[1][last] : 0,
                                              last >= 0 ? strides[2][last] : 0};
  const int64_t step_parts =
      split_dim && outer_count * blocks_per_row < 2 * num_threads() ? std::max<int64_t>(1, steps * block / kParallelGrain) : 1;
  const int64_t step_span = (steps + step_parts - 1) / step_parts;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / (step_span * block));
  parallel_for(outer_count * blocks_per_row * step_parts, grain, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t s0 = (item % step_parts) * step_span, s1 = std::min(steps, s0 + step_span);
      int64_t outer = item / step_parts / blocks_per_row;
      const int64_t b0 = (item / step_parts % blocks_per_row) * block;
      const int64_t b1 = std::min(row, b0 + block);
      std::array<int64_t, 3> base{0, 0, 0};
      for (int64_t j = static_cast<int64_t>(outer_dims.size()) - 1; j >= 0; --j) {
        const int64_t d = outer_dims[j];
        const int64_t i = outer % sizes[d];
        outer /= sizes[d];
        for (size_t k = 0; k < 3; ++k) base[k] += i * strides[k][d];
      }
      for (int64_t step = s0; step < s1; ++step) {
        const int64_t index_offset = base[0] + step * strides[0][dim];
        const int64_t value_offset = base[1] + step * strides[1][dim];
        for (int64_t b = b0; b < b1; ++b)
          body(index_offset + b * last_stride[0], value_offset + b * last_stride[1], base[2] + b * last_stride[2]);
      }
    }
  });
}

}  // namespace

std::optional<int64_t> first_outside(const Tensor& index, int64_t low, int64_t high) {
  const int64_t* data = index.data_ptr<int64_t>();
  const int64_t n = index.numel();
  for (int64_t i = 0; i < n; ++i)
    if (data[i] < low || data[i] >= high) return data[i];
  return std::nullopt;
}

int64_t max_value(const Tensor& index) {
  const int64_t* data = index.data_ptr<int64_t>();
  return *std::max_element(data, data + index.numel());
}

Tensor true_positions(const Tensor& mask) {
  const bool* data = mask.data_ptr<bool>();
  const int64_t n = mask.numel();
  std::vector<int64_t> positions;
  for (int64_t i = 0; i < n; ++i)
    if (data[i]) positions.push_back(i);
  return from_vector(positions, {static_cast<int64_t>(positions.size())});
}

// x: any strides; out: index's shape, contiguous.
void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  const int64_t size = x.dim() > 0 ? x.size(dim) : 1;
  const int64_t x_dim_stride = x.dim() > 0 ? x.stride(dim) : 0;
  dispatch_all(out.dtype(), "gather", [&]<class T>() {
    const int64_t* idx = index.data_ptr<int64_t>();
    const T* x_data = x.data_ptr<T>();
    T* out_data = out.data_ptr<T>();
    indexed_walk(index.sizes(), dim, {index.strides(), out.strides(), x.strides()}, /*split_dim=*/true,
                 [&](int64_t i, int64_t v, int64_t t) { out_data[v] = x_data[t + wrapped(idx[i], size) * x_dim_stride]; });
  });
}

// out: self's shape, contiguous; src: any strides, at least index's shape.
void scatter(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, bool accumulate) {
  const int64_t size = out.dim() > 0 ? out.size(dim) : 1;
  const int64_t out_dim_stride = out.dim() > 0 ? out.stride(dim) : 0;
  dispatch_all(out.dtype(), "scatter", [&]<class T>() {
    const int64_t* idx = index.data_ptr<int64_t>();
    const T* src_data = src.data_ptr<T>();
    T* out_data = out.data_ptr<T>();
    const std::array<Shape, 3> strides{index.strides(), src.strides(), out.strides()};
    if (!accumulate) {
      indexed_walk(index.sizes(), dim, strides, /*split_dim=*/false, [&](int64_t i, int64_t v, int64_t t) {
        out_data[t + wrapped(idx[i], size) * out_dim_stride] = src_data[v];
      });
    } else {
      indexed_walk(index.sizes(), dim, strides, /*split_dim=*/false, [&](int64_t i, int64_t v, int64_t t) {
        T& target = out_data[t + wrapped(idx[i], size) * out_dim_stride];
        if constexpr (std::is_same_v<T, bool>) {
          target = target || src_data[v];
        } else {
          target = static_cast<T>(target + src_data[v]);
        }
      });
    }
  });
}

void scatter_fill(const Tensor& out, int64_t dim, const Tensor& index, double value) {
  const int64_t size = out.dim() > 0 ? out.size(dim) : 1;
  const int64_t out_dim_stride = out.dim() > 0 ? out.stride(dim) : 0;
  dispatch_all(out.dtype(), "scatter", [&]<class T>() {
    const int64_t* idx = index.data_ptr<int64_t>();
    const T fill = static_cast<T>(value);
    T* out_data = out.data_ptr<T>();
    indexed_walk(index.sizes(), dim, {index.strides(), Shape(index.dim(), 0), out.strides()}, /*split_dim=*/false,
                 [&](int64_t i, int64_t, int64_t t) { out_data[t + wrapped(idx[i], size) * out_dim_stride] = fill; });
  });
}

// Splits `sizes` around `dim` into (A, N, B).
static std::array<int64_t, 3> around(const Shape& sizes, int64_t dim) {
  int64_t before = 1, after = 1;
  for (int64_t d = 0; d < dim; ++d) before *= sizes[d];
  for (int64_t d = dim + 1; d < static_cast<int64_t>(sizes.size()); ++d) after *= sizes[d];
  return {before, sizes[dim], after};
}

// x: (A, N, B) contiguous -> out: (A, J, B). Each (a, j) is one memcpy of B elements.
void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  const auto [A, N, B] = around(x.sizes(), dim);
  const int64_t J = index.numel();
  const size_t row_bytes = static_cast<size_t>(B) * x.element_size();
  const int64_t* idx = index.data_ptr<int64_t>();
  const char* x_data = static_cast<const char*>(x.raw_data());
  char* out_data = static_cast<char*>(out.raw_data());
  parallel_for(A * J, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(B, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t a = r / J, j = r % J;
      std::memcpy(out_data + r * row_bytes, x_data + (a * N + wrapped(idx[j], N)) * row_bytes, row_bytes);
    }
  });
}

// out: (A, N, B), src: (A, J, B), both contiguous. Work items are (a, block of B); each walks j
// in order (Note [Indexed walk]: deterministic, no two threads on one element).
void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src, double alpha) {
  const auto [A, N, B] = around(out.sizes(), dim);
  const int64_t J = index.numel();
  if (A * B == 0 || J == 0) return;
  const int64_t block = std::min(B, kRowBlock);
  const int64_t blocks = (B + block - 1) / block;
  const int64_t* idx = index.data_ptr<int64_t>();
  dispatch_all(out.dtype(), "index_add", [&]<class T>() {
    const T* src_data = src.data_ptr<T>();
    T* out_data = out.data_ptr<T>();
    const T scale = static_cast<T>(alpha);
    parallel_for(A * blocks, std::max<int64_t>(1, kParallelGrain / (J * block)), [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t a = item / blocks;
        const int64_t b0 = (item % blocks) * block, b1 = std::min(B, b0 + block);
        for (int64_t j = 0; j < J; ++j) {
          T* dst = out_data + (a * N + wrapped(idx[j], N)) * B;
          const T* s = src_data + (a * J + j) * B;
          for (int64_t b = b0; b < b1; ++b) {
            if constexpr (std::is_same_v<T, bool>) {
              dst[b] = dst[b] || (scale && s[b]);
            } else {
              dst[b] = static_cast<T>(dst[b] + scale * s[b]);
            }
          }
        }
      }
    });
  });
}

void one_hot(const Tensor& out, const Tensor& indices) {
  const int64_t classes = out.size(out.dim() - 1);
  const int64_t* idx = indices.data_ptr<int64_t>();
  int64_t* out_data = out.data_ptr<int64_t>();
  parallel_for(indices.numel(), kParallelGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out_data[i * classes + idx[i]] = 1;
  });
}

}  // namespace ember::cpu
