// How a row-major strided matrix product reaches column-major cuBLAS without copies: pure host
// logic (no CUDA headers), so test/cuda/test_consistency_matmul.cpp checks it in every build.
// Used by cuda/matmul.cpp. CPU twin of the idea: blas_layout() in ops/cpu/matmul.cpp.
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>

namespace ember::cuda {

// Note [Row-major GEMM on column-major BLAS]: cuBLAS reads column-major matrices. The row-major
// (M, N) output C (leading dimension N) is, read column-major, the (N, M) matrix Cᵀ, and
// Cᵀ = bᵀ·aᵀ. So the library's problem is m = N, n = M, k = K with its "A" = our b and its
// "B" = our a, each needed as its own transpose. For an operand X (rows, cols) with strides
// (row_stride, col_stride):
//   rows dense (col_stride 1): X's memory read column-major with ld = row_stride IS Xᵀ -> op N;
//   columns dense (row_stride 1): X's memory read column-major with ld = col_stride is X -> op T;
//   anything else (every other column, an expanded dim, ...) is packed into a dense copy first.
// A size-1 dim may carry any stride (views produce arbitrary ones there), so it never forces a
// copy. Leading dimensions must fit cuBLAS's int.

enum class GemmTranspose : uint8_t { none, transpose };

struct GemmOperand {
  bool needs_copy = false;  // no strided layout fits: pack the operand (then op none, ld = cols)
  GemmTranspose op = GemmTranspose::none;
  int64_t ld = 1;
  bool operator==(const GemmOperand&) const = default;
};

// The column-major view of Xᵀ for a row-major (rows, cols) operand X.
inline GemmOperand plan_gemm_operand(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  constexpr int64_t kMaxLd = std::numeric_limits<int32_t>::max();
  const int64_t min_ld_n = std::max<int64_t>(1, cols);  // op N: stored (cols, rows), ld >= cols
  const int64_t min_ld_t = std::max<int64_t>(1, rows);  // op T: stored (rows, cols), ld >= rows
  if ((col_stride == 1 || cols == 1) && (rows == 1 || row_stride >= min_ld_n)) {
    const int64_t ld = rows == 1 ? min_ld_n : row_stride;
    if (ld <= kMaxLd) return {false, GemmTranspose::none, ld};
  }
  if ((row_stride == 1 || rows == 1) && (cols == 1 || col_stride >= min_ld_t)) {
    const int64_t ld = cols == 1 ? min_ld_t : col_stride;
    if (ld <= kMaxLd) return {false, GemmTranspose::transpose, ld};
  }
  return {true, GemmTranspose::none, min_ld_n};
}

// One cuBLAS call for out (M, N) row-major = a (M, K) · b (K, N), strided operands.
struct GemmPlan {
  int64_t m = 0, n = 0, k = 0;  // the library's column-major problem: (m, n) = op(A) (m, k) · op(B) (k, n)
  GemmOperand lib_a;            // the library's A: our right operand b (m = N rows of bᵀ)
  GemmOperand lib_b;            // the library's B: our left operand a
  int64_t ldc = 1;              // the output, row-major (M, N) = column-major (N, M)
  bool operator==(const GemmPlan&) const = default;
};

inline GemmPlan plan_row_major_gemm(int64_t M, int64_t N, int64_t K, int64_t a_row_stride, int64_t a_col_stride,
                                    int64_t b_row_stride, int64_t b_col_stride) {
  GemmPlan plan;
  plan.m = N;
  plan.n = M;
  plan.k = K;
  plan.lib_a = plan_gemm_operand(K, N, b_row_stride, b_col_stride);
  plan.lib_b = plan_gemm_operand(M, K, a_row_stride, a_col_stride);
  plan.ldc = std::max<int64_t>(1, N);
  return plan;
}

}  // namespace ember::cuda
