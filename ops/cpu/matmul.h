// CPU GEMM kernels behind ops/matmul.cpp and ops/conv.cpp.
// Twins: ops/cpu/matmul.cpp (implementation), ops/matmul.h (API).
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace ember::cpu {

// out = a · b (+ out when accumulate) for one (M, K) · (K, N) product of raw strided operands.
// Floating types go to cblas_?gemm: an operand whose rows or columns are stride-1 is passed as
// is (transposed when its columns are strided), and only a matrix with neither layout is copied.
// Integer types use a plain loop. out is row-major with leading dimension ldc.
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* a, int64_t a_row_stride, int64_t a_col_stride, const T* b,
          int64_t b_row_stride, int64_t b_col_stride, T* out, int64_t ldc, bool accumulate);

// out[i] = a[i] · b[i] for every batch i. a: (B, M, K), b: (B, K, N), any strides (0 along B
// for broadcast operands); out: (B, M, N) contiguous. When `accumulate`, out must hold the
// initial values (e.g. a broadcast bias) and the products are added to them.
void bmm(const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate);

}  // namespace ember::cpu

namespace ember::cpu {

// Runs OpenBLAS single-threaded while alive: for GEMMs issued from several OpenMP threads at
// once (one image per thread), where BLAS threads of their own would only oversubscribe the cores.
// Ember sets OpenBLAS to one thread at start-up anyway (ops/cpu/matmul.cpp, Note [One thread
// pool]); the guard matters only if a user raised OpenBLAS's threads themselves.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int previous_;
};

}  // namespace ember::cpu
