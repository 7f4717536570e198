// Typed elementwise loops over tensors, built on engine/strided_loop.h. Kernels in ops/cpu/*.cpp
// write `unary_kernel<T>(out, x, [](T v) { ... })` and get broadcasting, any strides,
// coalescing, vectorisable unit-stride rows and OpenMP for free.
#pragma once
#include "engine/strided_loop.h"
#include "engine/tensor.h"

namespace ember::cpu {

inline Shape byte_strides(const Tensor& t, const Shape& out_sizes) {
  // Strides of `t` broadcast to `out_sizes` (0 on broadcast dims), in bytes.
  Shape s(out_sizes.size(), 0);
  const int64_t lead = static_cast<int64_t>(out_sizes.size()) - t.dim();
  const int64_t item = static_cast<int64_t>(t.element_size());
  for (int64_t d = 0; d < t.dim(); ++d) s[lead + d] = t.size(d) == 1 ? 0 : t.stride(d) * item;
  return s;
}

template <size_t N>
inline StridedOperands<N> operands(const Shape& out_sizes, std::array<const Tensor*, N> tensors) {
  StridedOperands<N> ops;
  for (size_t k = 0; k < N; ++k) {
    ops.data[k] = static_cast<char*>(tensors[k]->raw_data());
    ops.strides[k] = byte_strides(*tensors[k], out_sizes);
  }
  return ops;
}

// out = f(x); `x` may broadcast to out's shape. Types: R for out, T for x.
template <class T, class R = T, class F>
void unary_kernel(const Tensor& out, const Tensor& x, F f) {
  map_kernel<R, T>(out.sizes(), operands<2>(out.sizes(), {&out, &x}), f);
}

// out = f(a, b) with broadcasting of a and b to out's shape.
template <class T, class R = T, class F>
void binary_kernel(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  map_kernel<R, T, T>(out.sizes(), operands<3>(out.sizes(), {&out, &a, &b}), f);
}

// out = f(a, b, c) with broadcasting.
template <class T, class R = T, class F>
void ternary_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c, F f) {
  map_kernel<R, T, T, T>(out.sizes(), operands<4>(out.sizes(), {&out, &a, &b, &c}), f);
}

}  // namespace ember::cpu
