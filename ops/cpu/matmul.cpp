// CPU matrix-product kernels: strided GEMM through OpenBLAS for f32/f64, a loop for integers,
// and the batched driver. Twins: ops/cpu/matmul.h, ops/matmul.cpp (API + backward).
#include "ops/cpu/matmul.h"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

#include "engine/dispatch.h"
#include "engine/parallel.h"

// OpenBLAS built with DYNAMIC_ARCH (Debian's) exports its core selection. Weak, so a build
// against an OpenBLAS without them still links (the pointers are then null).
extern "C" {
__attribute__((weak)) char* gotoblas_corename(void);
__attribute__((weak)) void gotoblas_dynamic_init(void);
__attribute__((weak)) void gotoblas_dynamic_quit(void);
}

namespace ember::cpu {

namespace {

// Note [OpenBLAS core detection]: OpenBLAS 0.3.21 does not know recent Xeons (family 6 model
// 0xCF here, a VM reporting "Intel Xeon Processor") and falls back to its Prescott (SSE3)
// kernels, 5-10x slower than the AVX-512 ones on the same machine. When the detected core is
// such a fallback, the CPU has AVX-512 / AVX2, and the user did not choose a core with
// OPENBLAS_CORETYPE, re-run OpenBLAS's core selection with the matching core forced.
void select_blas_core() {
  if (gotoblas_corename == nullptr || gotoblas_dynamic_init == nullptr || gotoblas_dynamic_quit == nullptr) return;
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const char* detected = gotoblas_corename();
  if (detected == nullptr || (std::strcmp(detected, "Prescott") != 0 && std::strcmp(detected, "Core2") != 0 &&
                              std::strcmp(detected, "Nehalem") != 0)) {
    return;
  }
  __builtin_cpu_init();
  const char* core = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
    core = __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    core = "Haswell";
  }
  if (core == nullptr) return;
  setenv("OPENBLAS_CORETYPE", core, /*overwrite=*/0);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
}

// Note [One thread pool]: OpenBLAS (Debian's pthreads build) keeps a thread pool of its own
// whose workers busy-wait after each GEMM, while OpenMP's workers busy-wait after each parallel
// region. Interleaving GEMMs with Ember's OpenMP loops (a transformer step: linear, gelu, linear,
// add, ...) then puts up to four spinning threads on two cores, and whichever pool is working
// loses its cores to the other: a ViT step ran 2x slower on two threads than on one. OpenBLAS is
// therefore always single-threaded, and gemm() below splits a large product over the OpenMP
// threads itself (Note [Split GEMM]).
void select_blas_core_and_threads() {
  select_blas_core();
  openblas_set_num_threads(1);
}

void ensure_blas_core() {
  static const bool once = (select_blas_core_and_threads(), true);
  (void)once;
}
// Selected at program start-up too, while there is one thread: re-selecting swaps OpenBLAS's
// kernel table, which must not happen under a GEMM running on another thread.
const bool blas_core_selected_at_startup = (ensure_blas_core(), true);

// How a strided (rows, cols) matrix is handed to BLAS without copying: as row-major with leading
// dimension `ld`, or as the transpose of a row-major (cols, rows) matrix. Size-1 dims may carry any
// stride, so they never disqualify a layout.
struct BlasOperand {
  CBLAS_TRANSPOSE trans;
  int64_t ld;
};

std::optional<BlasOperand> blas_layout(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  if ((col_stride == 1 || cols == 1) && (rows == 1 || row_stride >= std::max<int64_t>(1, cols))) {
    return BlasOperand{CblasNoTrans, rows == 1 ? std::max<int64_t>(1, cols) : row_stride};
  }
  if ((row_stride == 1 || rows == 1) && (cols == 1 || col_stride >= std::max<int64_t>(1, rows))) {
    return BlasOperand{CblasTrans, cols == 1 ? std::max<int64_t>(1, rows) : col_stride};
  }
  return std::nullopt;
}

// A contiguous row-major copy of a strided matrix (only for layouts BLAS cannot read).
template <class T>
std::vector<T> pack(int64_t rows, int64_t cols, const T* src, int64_t row_stride, int64_t col_stride) {
  std::vector<T> packed(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) packed[r * cols + c] = src[r * row_stride + c * col_stride];
  return packed;
}

template <class T>
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, const T* a, int64_t lda,
               const T* b, int64_t ldb, T* out, int64_t ldc, T beta) {
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, a, lda, b, ldb, beta, out, ldc);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1.0, a, lda, b, ldb, beta, out, ldc);
  }
}

// Note [Split GEMM]: outside a parallel region, a product of at least kSplitWork multiply-adds
// runs as one single-threaded BLAS call per OpenMP thread on a slice of the output: slices of
// columns when N >= M (every thread packs all of A, the smaller operand), else slices of rows.
// Slices are multiples of 16 columns / rows (the AVX-512 kernels' register tile).
constexpr int64_t kSplitWork = 64 * 64 * 64;
constexpr int64_t kSplitAlign = 16;

template <class T>
void split_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, const T* a, int64_t lda,
                const T* b, int64_t ldb, T* out, int64_t ldc, T beta) {
  const int64_t threads = num_threads();
  const bool by_columns = N >= M;
  const int64_t extent = by_columns ? N : M;
  if (threads < 2 || M * N * K < kSplitWork || extent < 2 * kSplitAlign) {
    blas_gemm<T>(ta, tb, M, N, K, a, lda, b, ldb, out, ldc, beta);
    return;
  }
  const int64_t tiles = (extent + kSplitAlign - 1) / kSplitAlign;
  parallel_for(tiles, 1, [&](int64_t first_tile, int64_t end_tile) {
    const int64_t first = first_tile * kSplitAlign, count = std::min(extent, end_tile * kSplitAlign) - first;
    if (by_columns) {
      // columns [first, first + count) of B and out; B is (K, N) row-major, or (N, K) when transposed
      const T* b_slice = tb == CblasNoTrans ? b + first : b + first * ldb;
      blas_gemm<T>(ta, tb, M, count, K, a, lda, b_slice, ldb, out + first, ldc, beta);
    } else {
      // rows [first, first + count) of A and out; A is (M, K) row-major, or (K, M) when transposed
      const T* a_slice = ta == CblasNoTrans ? a + first * lda : a + first;
      blas_gemm<T>(ta, tb, count, N, K, a_slice, lda, b, ldb, out + first * ldc, ldc, beta);
    }
  });
}

}  // namespace

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* a, int64_t a_row_stride, int64_t a_col_stride, const T* b,
          int64_t b_row_stride, int64_t b_col_stride, T* out, int64_t ldc, bool accumulate) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill(out + i * ldc, out + i * ldc + N, T(0));
    return;
  }
  if constexpr (std::is_floating_point_v<T>) {
    ensure_blas_core();
    std::vector<T> a_packed, b_packed;
    std::optional<BlasOperand> la = blas_layout(M, K, a_row_stride, a_col_stride);
    if (!la) {
      a_packed = pack(M, K, a, a_row_stride, a_col_stride);
      a = a_packed.data();
      la = BlasOperand{CblasNoTrans, K};
    }
    std::optional<BlasOperand> lb = blas_layout(K, N, b_row_stride, b_col_stride);
    if (!lb) {
      b_packed = pack(K, N, b, b_row_stride, b_col_stride);
      b = b_packed.data();
      lb = BlasOperand{CblasNoTrans, N};
    }
    split_gemm<T>(la->trans, lb->trans, M, N, K, a, la->ld, b, lb->ld, out, std::max<int64_t>(ldc, N),
                  accumulate ? T(1) : T(0));
  } else {
    // out: (M, N) row-major; i-k-j order keeps the inner loop contiguous in out.
    for (int64_t i = 0; i < M; ++i) {
      T* row = out + i * ldc;
      if (!accumulate) std::fill(row, row + N, T(0));
      for (int64_t k = 0; k < K; ++k) {
        const T aik = a[i * a_row_stride + k * a_col_stride];
        const T* brow = b + k * b_row_stride;
        for (int64_t j = 0; j < N; ++j) row[j] += aik * brow[j * b_col_stride];
      }
    }
  }
}

void bmm(const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate) {
  // a: (B, M, K), b: (B, K, N), out: (B, M, N) contiguous.
  const int64_t batch = a.size(0), M = a.size(1), K = a.size(2), N = b.size(2);
  dispatch_all(out.dtype(), "matmul", [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      EMBER_FAIL("matmul: no CPU kernel for bool tensors");
    } else {
      const T* pa = a.data_ptr<T>();
      const T* pb = b.data_ptr<T>();
      T* po = out.data_ptr<T>();
      auto run = [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          gemm<T>(M, N, K, pa + i * a.stride(0), a.stride(1), a.stride(2), pb + i * b.stride(0), b.stride(1),
                  b.stride(2), po + i * M * N, N, accumulate);
        }
      };
      // Small products run one per thread; large ones run in sequence, each split over the
      // threads by gemm() (Note [Split GEMM]).
      const int64_t work = M * N * std::max<int64_t>(K, 1);
      if (work < 64 * 64 * 64) {
        SingleThreadedBlas single_threaded;
        parallel_for(batch, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(work, 1)), run);
      } else {
        run(0, batch);
      }
    }
  });
}

SingleThreadedBlas::SingleThreadedBlas() : previous_(openblas_get_num_threads()) {
  if (previous_ != 1) openblas_set_num_threads(1);
}
SingleThreadedBlas::~SingleThreadedBlas() {
  if (previous_ != 1) openblas_set_num_threads(previous_);
}

#define EMBER_INSTANTIATE_GEMM(T)                                                                       \
  template void gemm<T>(int64_t, int64_t, int64_t, const T*, int64_t, int64_t, const T*, int64_t, int64_t, T*, \
                        int64_t, bool);
EMBER_INSTANTIATE_GEMM(float)
EMBER_INSTANTIATE_GEMM(double)
EMBER_INSTANTIATE_GEMM(int64_t)
EMBER_INSTANTIATE_GEMM(int32_t)
EMBER_INSTANTIATE_GEMM(uint8_t)
#undef EMBER_INSTANTIATE_GEMM

}  // namespace ember::cpu
