// CPU kernels for scaled_dot_product_attention: FlashAttention-style forward (online softmax over
// key tiles) and FlashAttention-2 backward (recomputation tile by tile). Twin: ops/attention.cpp.
// Memory stays O((L + S)·d) per call: besides blocked copies of Kᵀ (and Vᵀ in the backward), the
// only score-sized buffers are one (64 × 64) tile per thread; never an L × S array.
#include "ops/cpu/attention.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/parallel.h"
#include "engine/random.h"
#include "ops/cpu/math.h"
#include "ops/cpu/pooled_buffer.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ember::cpu {

namespace {

constexpr int64_t kQueryBlock = 64;
constexpr int64_t kKeyBlock = 64;

// ---- tile GEMM ----
// The tiles are small (64 × 64 × d), so a register-blocked kernel on GCC vector types does as
// well as a BLAS here, and it does not depend on OpenBLAS recognising the CPU (the Debian
// OpenBLAS falls back to its SSE3 "Prescott" kernels on CPUs it cannot name, 5× slower) nor
// on OpenBLAS's own threads staying out of our OpenMP ones.
template <class T> struct VectorOf;
template <> struct VectorOf<float> { typedef float type __attribute__((vector_size(64))); };
template <> struct VectorOf<double> { typedef double type __attribute__((vector_size(64))); };
template <class T> using Vector = typename VectorOf<T>::type;
template <class T> constexpr int64_t kLanes = static_cast<int64_t>(sizeof(Vector<T>) / sizeof(T));

// c[r, :] (R rows × NV vectors) = alpha · Σ_p a(r, p) · b[p, :] (+ c when accumulating), with
// a(r, p) = a[r·a_row + p·a_col] (any layout: transposed operands cost nothing, they are only
// broadcast) and b row-major with row stride ldb.
template <class T, int R, int NV>
inline void gemm_block(int64_t k, T alpha, const T* a, int64_t a_row, int64_t a_col, const T* b, int64_t ldb,
                       bool accumulate, T* c, int64_t ldc) {
  Vector<T> acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[r][v] = Vector<T>{};
  for (int64_t p = 0; p < k; ++p) {
    Vector<T> row[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) std::memcpy(&row[v], b + p * ldb + v * kLanes<T>, sizeof(Vector<T>));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const T scalar = a[r * a_row + p * a_col];
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] += scalar * row[v];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      Vector<T> result = acc[r][v] * alpha;
      T* destination = c + r * ldc + v * kLanes<T>;
      if (accumulate) {
        Vector<T> old;
        std::memcpy(&old, destination, sizeof(old));
        result += old;
      }
      std::memcpy(destination, &result, sizeof(result));
    }
}

// All rows of a column panel NV vectors wide: blocks of 8 rows, then 4, then 1.
template <class T, int NV>
void gemm_panel(int64_t m, int64_t k, T alpha, const T* a, int64_t a_row, int64_t a_col, const T* b, int64_t ldb,
                bool accumulate, T* c, int64_t ldc) {
  int64_t i = 0;
  for (; i + 8 <= m; i += 8)
    gemm_block<T, 8, NV>(k, alpha, a + i * a_row, a_row, a_col, b, ldb, accumulate, c + i * ldc, ldc);
  for (; i + 4 <= m; i += 4)
    gemm_block<T, 4, NV>(k, alpha, a + i * a_row, a_row, a_col, b, ldb, accumulate, c + i * ldc, ldc);
  for (; i < m; ++i) gemm_block<T, 1, NV>(k, alpha, a + i * a_row, a_row, a_col, b, ldb, accumulate, c + i * ldc, ldc);
}

// c (m × n, ldc) = alpha · a (m × k, strides a_row/a_col) · b (k × n, row stride ldb) (+ c).
template <class T>
void gemm(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t a_row, int64_t a_col, const T* b, int64_t ldb,
          bool accumulate, T* c, int64_t ldc) {
  constexpr int64_t lanes = kLanes<T>;
  int64_t j = 0;
  for (; j + 2 * lanes <= n; j += 2 * lanes)
    gemm_panel<T, 2>(m, k, alpha, a, a_row, a_col, b + j, ldb, accumulate, c + j, ldc);
  for (; j + lanes <= n; j += lanes) gemm_panel<T, 1>(m, k, alpha, a, a_row, a_col, b + j, ldb, accumulate, c + j, ldc);
  if (j == n) return;
  // Fewer than `lanes` columns left: run them zero-padded to one vector through scratch.
  const int64_t rest = n - j;
  thread_local std::vector<T> padded_b, padded_c;
  padded_b.assign(k * lanes, T(0));
  padded_c.resize(m * lanes);
  for (int64_t p = 0; p < k; ++p) std::copy(b + p * ldb + j, b + p * ldb + n, padded_b.begin() + p * lanes);
  gemm_panel<T, 1>(m, k, alpha, a, a_row, a_col, padded_b.data(), lanes, false, padded_c.data(), lanes);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t col = 0; col < rest; ++col)
      c[i * ldc + j + col] = padded_c[i * lanes + col] + (accumulate ? c[i * ldc + j + col] : T(0));
}

// x: (BH, rows, features) -> (BH, key_blocks, features, kKeyBlock), zero-padded: the key-major
// operand of Q Kᵀ and dO Vᵀ laid out so that each tile's rows are contiguous vectors.
template <class T>
PooledBuffer<T> transpose_key_blocks(const T* x, int64_t batch_heads, int64_t rows, int64_t features) {
  const int64_t blocks = (rows + kKeyBlock - 1) / kKeyBlock;
  PooledBuffer<T> out(batch_heads * blocks * features * kKeyBlock);
  std::fill(out.data(), out.data() + batch_heads * blocks * features * kKeyBlock, T(0));
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, rows * features));
  parallel_for(batch_heads, grain, [&](int64_t begin, int64_t end) {
  for (int64_t bh = begin; bh < end; ++bh) {
    for (int64_t block = 0; block < blocks; ++block) {
      T* tile = out.data() + (bh * blocks + block) * features * kKeyBlock;
      const int64_t n = std::min(kKeyBlock, rows - block * kKeyBlock);
      for (int64_t j = 0; j < n; ++j) {
        const T* src = x + (bh * rows + block * kKeyBlock + j) * features;
        for (int64_t f = 0; f < features; ++f) tile[f * kKeyBlock + j] = src[f];
      }
    }
  }
  });
  return out;
}

// exp over a tile row (masked entries are -inf and give exactly 0): math::fast_exp, which is
// branch-free and vectorised for float; double (tests, gradcheck) uses std::exp.
template <class T>
void exp_inplace(T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = math::fast_exp(x[i]);
}

template <class T> constexpr T kInf = std::numeric_limits<T>::infinity();

double dropout_scale(double p) { return p < 1.0 ? 1.0 / (1.0 - p) : 0.0; }

// Per-thread tiles: scores/probabilities, dP (or the output accumulator), dropout multipliers.
template <class T>
struct Scratch {
  std::vector<T> scores, second, factors, row_max, row_sum;
  explicit Scratch(int64_t dv)
      : scores(kQueryBlock * kKeyBlock),
        second(kQueryBlock * std::max(kKeyBlock, dv)),
        factors(kQueryBlock * kKeyBlock),
        row_max(kQueryBlock),
        row_sum(kQueryBlock) {}
};

// Runs body(task, scratch) for task in [0, tasks), over OpenMP threads when the work is big
// enough. Dynamic scheduling: causal tasks differ in size (later query blocks see more keys).
template <class T, class F>
void for_each_task(int64_t tasks, bool parallel, int64_t dv, F&& body) {
#ifdef _OPENMP
  if (parallel && tasks > 1 && omp_get_max_threads() > 1 && !omp_in_parallel()) {
#pragma omp parallel
    {
      Scratch<T> scratch(dv);
#pragma omp for schedule(dynamic, 1)
      for (int64_t task = 0; task < tasks; ++task) body(task, scratch);
    }
    return;
  }
#endif
  Scratch<T> scratch(dv);
  for (int64_t task = 0; task < tasks; ++task) body(task, scratch);
}

// One tile of the problem: queries [i0, i0 + m) and keys [j0, j0 + n) of head bh.
struct Tile {
  int64_t bh, i0, m, j0, n;
};

// Last key (exclusive) that query block [i0, i0 + m) can see.
int64_t key_end(const AttentionProblem& p, int64_t i0, int64_t m) {
  return p.causal ? std::min(p.S, i0 + m) : p.S;
}
// First query (block-aligned) that can see key block [j0, ...).
int64_t query_begin(const AttentionProblem& p, int64_t j0) {
  return p.causal ? (j0 / kQueryBlock) * kQueryBlock : 0;
}

// The (features × kKeyBlock) block of transpose_key_blocks' output holding tile t's keys.
template <class T>
const T* key_block_of(const AttentionProblem& p, const Tile& t, const T* transposed, int64_t features) {
  const int64_t blocks = (p.S + kKeyBlock - 1) / kKeyBlock;
  return transposed + (t.bh * blocks + t.j0 / kKeyBlock) * features * kKeyBlock;
}

// scores (m × n, row stride ld) = scale · Q_i K_jᵀ, then the causal / user mask.
// k_t: K transposed by transpose_key_blocks.
template <class T>
void score_tile(const AttentionProblem& p, const Tile& t, const T* q, const T* k_t, T* scores, int64_t ld) {
  gemm(t.m, t.n, p.d, static_cast<T>(p.scale), q + (t.bh * p.L + t.i0) * p.d, p.d, 1, key_block_of(p, t, k_t, p.d),
       kKeyBlock, false, scores, ld);
  // Only tiles that cross the diagonal need the causal mask; tiles below it are fully kept.
  if (p.causal && t.j0 + t.n - 1 > t.i0) {
    for (int64_t r = 0; r < t.m; ++r) {
      const int64_t first_masked = std::max<int64_t>(t.i0 + r + 1 - t.j0, 0);
      for (int64_t c = first_masked; c < t.n; ++c) scores[r * ld + c] = -kInf<T>;
    }
  }
  const AttentionMask& mask = p.mask;
  if (mask.data == nullptr) return;
  const int64_t base = mask.batch_offsets[t.bh];
  for (int64_t r = 0; r < t.m; ++r) {
    const int64_t row = base + (t.i0 + r) * mask.stride_l + t.j0 * mask.stride_s;
    T* s = scores + r * ld;
    if (mask.is_bool) {
      const bool* keep = static_cast<const bool*>(mask.data) + row;
      for (int64_t c = 0; c < t.n; ++c) s[c] = keep[c * mask.stride_s] ? s[c] : -kInf<T>;
    } else {
      const T* add = static_cast<const T*>(mask.data) + row;
      for (int64_t c = 0; c < t.n; ++c) s[c] += add[c * mask.stride_s];
    }
  }
}

// factors (m × n, row stride ld) = 0 or 1/(1-p) per Note [Attention dropout stream]. A tile row's
// counters are consecutive: one vectorised Philox call per row, and the keep test u >= p on the
// integer bits (uniform_threshold), so the mask costs a few ns per element, not a call each.
template <class T>
void dropout_tile(const AttentionProblem& p, const Tile& t, T* factors, int64_t ld) {
  const T kept = static_cast<T>(dropout_scale(p.dropout.p));
  const uint64_t threshold = uniform_threshold(p.dropout.p);
  thread_local std::vector<uint32_t> lane0, lane1;
  lane0.resize(static_cast<size_t>(t.n));
  lane1.resize(static_cast<size_t>(t.n));
  for (int64_t r = 0; r < t.m; ++r) {
    const uint64_t row_counter = p.dropout.offset + static_cast<uint64_t>(((t.bh * p.L + t.i0 + r) * p.S) + t.j0);
    philox4x32_blocks(row_counter, p.dropout.seed, t.n, lane0.data(), lane1.data());
    T* row = factors + r * ld;
    for (int64_t c = 0; c < t.n; ++c) row[c] = bits53_from_lanes(lane0[c], lane1[c]) >= threshold ? kept : T(0);
  }
}

bool worth_parallel(const AttentionProblem& p) { return p.batch_heads * p.L * p.S * (p.d + p.dv) >= (1 << 18); }

}  // namespace

// ---------------------------------------------------------------- forward
template <class T>
void attention_fwd(const AttentionProblem& p, const T* q, const T* k, const T* v, T* out, T* lse) {
  constexpr int64_t block_k = kKeyBlock;
  const int64_t query_blocks = (p.L + kQueryBlock - 1) / kQueryBlock;
  const bool dropout = p.dropout.p > 0.0;
  const PooledBuffer<T> k_t = transpose_key_blocks(k, p.batch_heads, p.S, p.d);
  for_each_task<T>(p.batch_heads * query_blocks, worth_parallel(p), p.dv,
                   [&](int64_t task, Scratch<T>& scratch) {
    const int64_t bh = task / query_blocks;
    const int64_t i0 = (task % query_blocks) * kQueryBlock;
    const int64_t m = std::min(kQueryBlock, p.L - i0);
    T* probs = scratch.scores.data();   // (m × block_k)
    T* acc = scratch.second.data();     // (m × dv) unnormalised output
    T* row_max = scratch.row_max.data();
    T* row_sum = scratch.row_sum.data();
    std::fill(acc, acc + m * p.dv, T(0));
    std::fill(row_max, row_max + m, -kInf<T>);
    std::fill(row_sum, row_sum + m, T(0));
    const int64_t j_end = key_end(p, i0, m);
    for (int64_t j0 = 0; j0 < j_end; j0 += block_k) {
      const Tile tile{bh, i0, m, j0, std::min(block_k, j_end - j0)};
      score_tile(p, tile, q, k_t.data(), probs, block_k);
      // Online softmax: rescale what was accumulated under the old running max.
      for (int64_t r = 0; r < m; ++r) {
        T* s = probs + r * block_k;
        const T tile_max = math::row_max(s, tile.n);
        const T new_max = std::max(row_max[r], tile_max);
        if (new_max == -kInf<T>) {  // every key so far is masked for this row
          std::fill(s, s + tile.n, T(0));
          continue;
        }
        for (int64_t c = 0; c < tile.n; ++c) s[c] -= new_max;
        exp_inplace(s, tile.n);
        const T tile_sum = math::row_sum(s, tile.n);
        if (new_max != row_max[r]) {
          const T correction = row_max[r] == -kInf<T> ? T(0) : std::exp(row_max[r] - new_max);
          row_sum[r] *= correction;
          T* a = acc + r * p.dv;
          for (int64_t c = 0; c < p.dv; ++c) a[c] *= correction;
          row_max[r] = new_max;
        }
        row_sum[r] += tile_sum;
      }
      if (dropout) {  // the softmax normaliser counts every key; only the PV product is dropped
        T* factors = scratch.factors.data();
        dropout_tile(p, tile, factors, block_k);
        for (int64_t r = 0; r < m; ++r)
          for (int64_t c = 0; c < tile.n; ++c) probs[r * block_k + c] *= factors[r * block_k + c];
      }
      gemm(m, p.dv, tile.n, T(1), probs, block_k, 1, v + (bh * p.S + j0) * p.dv, p.dv, true, acc, p.dv);
    }
    for (int64_t r = 0; r < m; ++r) {
      T* o = out + (bh * p.L + i0 + r) * p.dv;
      const T* a = acc + r * p.dv;
      const bool empty_row = row_sum[r] == T(0);
      const T inverse = empty_row ? T(0) : T(1) / row_sum[r];
      for (int64_t c = 0; c < p.dv; ++c) o[c] = a[c] * inverse;
      lse[bh * p.L + i0 + r] = empty_row ? kInf<T> : row_max[r] + std::log(row_sum[r]);
    }
  });
}

// ---------------------------------------------------------------- backward
namespace {

// Where one tile's gradient contributions go; null pointers are skipped.
template <class T>
struct TileGrads {
  T* grad_q = nullptr;  // rows i0.. of grad_q for this bh, (m × d), accumulated
  T* grad_k = nullptr;  // rows j0.. of grad_k, (n × d), accumulated
  T* grad_v = nullptr;  // rows j0.. of grad_v, (n × dv), accumulated
  T* grad_scores = nullptr;  // (BH, L, S) full buffer, written
};

// Recomputes P = exp(S - lse) for one tile and adds its contributions:
//   dV += (P∘Z)ᵀ dO,  dP = (dO Vᵀ)∘Z,  dS = P∘(dP - D),  dQ += scale·dS K,  dK += scale·dSᵀ Q.
template <class T>
void backward_tile(const AttentionProblem& p, const Tile& t, const T* q, const T* k, const T* k_t, const T* v_t,
                   const T* grad_out, const T* lse, const T* delta, Scratch<T>& scratch, const TileGrads<T>& g) {
  T* probs = scratch.scores.data();
  T* grad_scores = scratch.second.data();
  T* factors = scratch.factors.data();
  constexpr int64_t ld = kKeyBlock;
  const bool dropout = p.dropout.p > 0.0;
  score_tile(p, t, q, k_t, probs, ld);
  for (int64_t r = 0; r < t.m; ++r) {
    T* s = probs + r * ld;
    const T row_lse = lse[t.bh * p.L + t.i0 + r];
    for (int64_t c = 0; c < t.n; ++c) s[c] -= row_lse;
    exp_inplace(s, t.n);
  }
  const T* dO = grad_out + (t.bh * p.L + t.i0) * p.dv;
  if (dropout) dropout_tile(p, t, factors, ld);
  if (g.grad_v != nullptr) {
    if (dropout) {  // dV needs P∘Z; borrow the dS buffer before it is filled
      for (int64_t r = 0; r < t.m; ++r)
        for (int64_t c = 0; c < t.n; ++c) grad_scores[r * ld + c] = probs[r * ld + c] * factors[r * ld + c];
    }
    // (P∘Z)ᵀ read in place: row stride 1, column stride ld.
    gemm(t.n, p.dv, t.m, T(1), dropout ? grad_scores : probs, 1, ld, dO, p.dv, true, g.grad_v, p.dv);
  }
  gemm(t.m, t.n, p.dv, T(1), dO, p.dv, 1, key_block_of(p, t, v_t, p.dv), kKeyBlock, false, grad_scores, ld);
  for (int64_t r = 0; r < t.m; ++r) {
    T* ds = grad_scores + r * ld;
    const T* prob = probs + r * ld;
    const T row_delta = delta[t.bh * p.L + t.i0 + r];
    if (dropout) {
      const T* z = factors + r * ld;
      for (int64_t c = 0; c < t.n; ++c) ds[c] = prob[c] * (ds[c] * z[c] - row_delta);
    } else {
      for (int64_t c = 0; c < t.n; ++c) ds[c] = prob[c] * (ds[c] - row_delta);
    }
  }
  if (g.grad_scores != nullptr) {
    for (int64_t r = 0; r < t.m; ++r)
      std::copy(grad_scores + r * ld, grad_scores + r * ld + t.n,
                g.grad_scores + (t.bh * p.L + t.i0 + r) * p.S + t.j0);
  }
  const T scale = static_cast<T>(p.scale);
  if (g.grad_q != nullptr)
    gemm(t.m, p.d, t.n, scale, grad_scores, ld, 1, k + (t.bh * p.S + t.j0) * p.d, p.d, true, g.grad_q, p.d);
  if (g.grad_k != nullptr)
    gemm(t.n, p.d, t.m, scale, grad_scores, 1, ld, q + (t.bh * p.L + t.i0) * p.d, p.d, true, g.grad_k, p.d);
}

}  // namespace

template <class T>
void attention_bwd(const AttentionProblem& p, const T* q, const T* k, const T* v, const T* out, const T* grad_out,
                   const T* lse, T* grad_q, T* grad_k, T* grad_v, T* grad_scores) {
  constexpr int64_t block_k = kKeyBlock;
  const int64_t rows = p.batch_heads * p.L;
  std::fill(grad_q, grad_q + rows * p.d, T(0));
  std::fill(grad_k, grad_k + p.batch_heads * p.S * p.d, T(0));
  std::fill(grad_v, grad_v + p.batch_heads * p.S * p.dv, T(0));
  if (grad_scores != nullptr) std::fill(grad_scores, grad_scores + rows * p.S, T(0));
  // D = rowsum(dO ∘ O) = Σ_j P_ij dP_ij (dropout included, since O already carries it).
  std::vector<T> delta(rows);
  for (int64_t row = 0; row < rows; ++row) {
    T sum = 0;
    for (int64_t c = 0; c < p.dv; ++c) sum += grad_out[row * p.dv + c] * out[row * p.dv + c];
    delta[row] = sum;
  }
  const int64_t query_blocks = (p.L + kQueryBlock - 1) / kQueryBlock;
  const int64_t key_blocks = (p.S + block_k - 1) / block_k;
  const bool parallel = worth_parallel(p);
  const PooledBuffer<T> k_t = transpose_key_blocks(k, p.batch_heads, p.S, p.d);
  const PooledBuffer<T> v_t = transpose_key_blocks(v, p.batch_heads, p.S, p.dv);
  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  auto run_tile = [&](const Tile& t, Scratch<T>& scratch, bool want_q, bool want_kv) {
    TileGrads<T> g;
    if (want_q) g.grad_q = grad_q + (t.bh * p.L + t.i0) * p.d;
    if (want_kv) {
      g.grad_k = grad_k + (t.bh * p.S + t.j0) * p.d;
      g.grad_v = grad_v + (t.bh * p.S + t.j0) * p.dv;
      g.grad_scores = grad_scores;
    }
    backward_tile(p, t, q, k, k_t.data(), v_t.data(), grad_out, lse, delta.data(), scratch, g);
  };
  if (!parallel || threads == 1 || p.batch_heads >= 2 * threads) {
    // Enough heads to keep every thread busy: one pass per head, which owns its dQ/dK/dV rows,
    // so every tile computes its scores and dS once (5 GEMMs per tile).
    for_each_task<T>(p.batch_heads, parallel, p.dv, [&](int64_t bh, Scratch<T>& scratch) {
      for (int64_t j0 = 0; j0 < p.S; j0 += block_k) {
        const int64_t n = std::min(block_k, p.S - j0);
        for (int64_t i0 = query_begin(p, j0); i0 < p.L; i0 += kQueryBlock) {
          run_tile({bh, i0, std::min(kQueryBlock, p.L - i0), j0, n}, scratch, true, true);
        }
      }
    });
    return;
  }
  // Few heads: parallelise over blocks instead, in two race-free passes that each recompute
  // the tiles: query blocks own dQ rows, then key blocks own dK/dV rows.
  for_each_task<T>(p.batch_heads * query_blocks, parallel, p.dv, [&](int64_t task, Scratch<T>& scratch) {
    const int64_t bh = task / query_blocks;
    const int64_t i0 = (task % query_blocks) * kQueryBlock;
    const int64_t m = std::min(kQueryBlock, p.L - i0);
    const int64_t j_end = key_end(p, i0, m);
    for (int64_t j0 = 0; j0 < j_end; j0 += block_k) {
      run_tile({bh, i0, m, j0, std::min(block_k, j_end - j0)}, scratch, true, false);
    }
  });
  for_each_task<T>(p.batch_heads * key_blocks, parallel, p.dv, [&](int64_t task, Scratch<T>& scratch) {
    const int64_t bh = task / key_blocks;
    const int64_t j0 = (task % key_blocks) * block_k;
    const int64_t n = std::min(block_k, p.S - j0);
    for (int64_t i0 = query_begin(p, j0); i0 < p.L; i0 += kQueryBlock) {
      run_tile({bh, i0, std::min(kQueryBlock, p.L - i0), j0, n}, scratch, false, true);
    }
  });
}

template <class T>
void attention_dropout_factors(const AttentionProblem& p, T* factors) {
  for (int64_t bh = 0; bh < p.batch_heads; ++bh) {
    dropout_tile(p, Tile{bh, 0, p.L, 0, p.S}, factors + bh * p.L * p.S, p.S);
  }
}

#define EMBER_ATTENTION_INSTANTIATE(T)                                                                        \
  template void attention_fwd<T>(const AttentionProblem&, const T*, const T*, const T*, T*, T*);             \
  template void attention_bwd<T>(const AttentionProblem&, const T*, const T*, const T*, const T*, const T*,   \
                                 const T*, T*, T*, T*, T*);                                                  \
  template void attention_dropout_factors<T>(const AttentionProblem&, T*);
EMBER_ATTENTION_INSTANTIATE(float)
EMBER_ATTENTION_INSTANTIATE(double)
#undef EMBER_ATTENTION_INSTANTIATE

}  // namespace ember::cpu
