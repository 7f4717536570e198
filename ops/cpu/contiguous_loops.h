// Contiguous fast paths for the elementwise kernels of this family (unary, activation,
// elementwise math), falling back to unary_kernel / binary_kernel (ops/cpu/loops.h) otherwise.
//
// Why not just unary_kernel: its row body reaches the op's lambda through a reference, and the
// lambda's captured state (a slope, an exponent) lives in memory the output pointer might alias,
// so GCC reloads it every element and gives up vectorising. Here each thread copies the functor
// into a private local whose address never escapes, and the loop over raw pointers vectorises.
#pragma once
#include "engine/parallel.h"
#include "ops/cpu/loops.h"

namespace ember::cpu {

// out = f(x) elementwise; T is x's element type, R the output's.
template <class T, class R = T, class F>
void map_unary(const Tensor& out, const Tensor& x, const F& f) {
  if (out.is_contiguous() && x.is_contiguous() && out.sizes() == x.sizes()) {
    R* o = static_cast<R*>(out.raw_data());
    const T* in = static_cast<const T*>(x.raw_data());
    parallel_for(out.numel(), kParallelGrain, [&](int64_t begin, int64_t end) {
      const F op = f;
      for (int64_t i = begin; i < end; ++i) o[i] = static_cast<R>(op(in[i]));
    });
    return;
  }
  unary_kernel<T, R>(out, x, f);
}

// out = f(a, b) elementwise with broadcasting (the fast path needs equal shapes).
template <class T, class R = T, class F>
void map_binary(const Tensor& out, const Tensor& a, const Tensor& b, const F& f) {
  if (out.is_contiguous() && a.is_contiguous() && b.is_contiguous() && out.sizes() == a.sizes() &&
      out.sizes() == b.sizes()) {
    R* o = static_cast<R*>(out.raw_data());
    const T* pa = static_cast<const T*>(a.raw_data());
    const T* pb = static_cast<const T*>(b.raw_data());
    parallel_for(out.numel(), kParallelGrain, [&](int64_t begin, int64_t end) {
      const F op = f;
      for (int64_t i = begin; i < end; ++i) o[i] = static_cast<R>(op(pa[i], pb[i]));
    });
    return;
  }
  binary_kernel<T, R>(out, a, b, f);
}

}  // namespace ember::cpu
