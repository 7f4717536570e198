// CPU kernels for ops/vq.h. Note [Fused nearest search]: the N×K distance matrix is never built.
// Rows are cut into blocks of kRowBlock (one OpenMP task each), codes into tiles of kCodeTile;
// for each (row block, code tile) one BLAS GEMM gives the kRowBlock×kCodeTile dot products in a
// per-thread buffer, and each row keeps its running (best score, best code) across the tiles.
// The score is ||c||² - 2 z·c (||z||² is the same for every code of a row); codes are visited in
// increasing order and only a strictly smaller score replaces the best, so ties go to the lowest
// index. Twins: ops/vq.cpp (API), docs/VQ.md.
#include "ops/cpu/vq.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "engine/parallel.h"
#include "ops/cpu/matmul.h"

namespace ember::cpu {

namespace {
constexpr int64_t kRowBlock = 256;
constexpr int64_t kCodeTile = 256;
}  // namespace

template <class T>
void vq_nearest(int64_t N, int64_t K, int64_t D, const T* z, const T* codebook, int64_t* indices, T* distances) {
  if (N == 0) return;
  // ||c_k||², computed once.
  std::vector<T> code_norms(K);
  for (int64_t k = 0; k < K; ++k) {
    const T* c = codebook + k * D;
    T acc = T(0);
    for (int64_t d = 0; d < D; ++d) acc += c[d] * c[d];
    code_norms[k] = acc;
  }
  const int64_t blocks = (N + kRowBlock - 1) / kRowBlock;
  const int64_t tile = std::min(kCodeTile, K);
  // One block costs kRowBlock·K·D multiply-adds: parallel as soon as there are two blocks of work.
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, kRowBlock * K * D));
  parallel_for(blocks, grain, [&](int64_t begin, int64_t end) {
    SingleThreadedBlas single;  // the row blocks are the parallelism
    std::vector<T> dots(kRowBlock * tile);
    std::vector<T> best(kRowBlock);
    std::vector<int64_t> best_code(kRowBlock);
    for (int64_t block = begin; block < end; ++block) {
      const int64_t r0 = block * kRowBlock;
      const int64_t rows = std::min(kRowBlock, N - r0);
      std::fill(best.begin(), best.begin() + rows, std::numeric_limits<T>::infinity());
      std::fill(best_code.begin(), best_code.begin() + rows, int64_t{0});
      for (int64_t k0 = 0; k0 < K; k0 += tile) {
        const int64_t codes = std::min(tile, K - k0);
        // dots (rows, codes) = z[r0 : r0 + rows] · codebook[k0 : k0 + codes]ᵀ
        gemm<T>(rows, codes, D, z + r0 * D, D, 1, codebook + k0 * D, 1, D, dots.data(), codes, false);
        for (int64_t r = 0; r < rows; ++r) {
          const T* row = dots.data() + r * codes;
          T row_best = best[r];
          int64_t row_code = best_code[r];
          for (int64_t k = 0; k < codes; ++k) {
            const T score = code_norms[k0 + k] - T(2) * row[k];
            if (score < row_best) {
              row_best = score;
              row_code = k0 + k;
            }
          }
          best[r] = row_best;
          best_code[r] = row_code;
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        const T* zr = z + (r0 + r) * D;
        const T* c = codebook + best_code[r] * D;
        T acc = T(0);
        for (int64_t d = 0; d < D; ++d) {
          const T diff = zr[d] - c[d];
          acc += diff * diff;
        }
        indices[r0 + r] = best_code[r];
        distances[r0 + r] = acc;
      }
    }
  });
}

void vq_code_counts(int64_t N, int64_t K, const int64_t* indices, int64_t* counts) {
  std::fill(counts, counts + K, int64_t{0});
  for (int64_t n = 0; n < N; ++n) ++counts[indices[n]];
}

template void vq_nearest<float>(int64_t, int64_t, int64_t, const float*, const float*, int64_t*, float*);
template void vq_nearest<double>(int64_t, int64_t, int64_t, const double*, const double*, int64_t*, double*);

}  // namespace ember::cpu
