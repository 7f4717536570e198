// The linear-time VQ attention kernels (ops/cpu/vq_attention.h).
//
// Note [VQ attention cache]: query i's keys split into "near" keys (the local window, scored
// exactly with the positional bias) and "far" keys, which enter only through their code: with
// Z_is = scale · q_i · C_s, the far part of the softmax sums is
//   Σ_{j far} e^{Z_{i,c_j}} v_j = Σ_s e^{Z_is} U_s,   Σ_{j far} e^{Z_{i,c_j}} = Σ_s e^{Z_is} n_s
// where (n_s, U_s) is the cache: the count and the value sum of the far keys with code s. The far
// keys on the left of query i are j <= i - W: a sweep over the queries in increasing order adds
// key i - W to the cache before visiting query i (the running prefix sums per code). Non-causal
// attention adds a second sweep in decreasing order for the right side (j >= i + max(W, 1)). Each
// part (near, left, right) is merged into the running (max, denominator, numerator) of the query
// as in online softmax, so nothing overflows. Z is computed by BLAS one chunk of queries at a time.
// Per query: O(S·(d + dv)) for the cache, O(W·(d + dv)) for the window: linear in L.
//
// Backward, with P_ij = e^{s_ij - lse_i}, δ_i = dO_i · o_i:
//   near: dS_ij = P_ij (dO_i·v_j - δ_i): dq_i += scale dS_ij k̂_j, dk_j += scale dS_ij q_i,
//         dv_j += P_ij dO_i, dbias[i - j] += dS_ij;
//   far, per side: dq_i += scale Σ_s C_s w_is (dO_i·U_s - δ_i n_s) with w_is = e^{Z_is - lse_i}
//         (the same cache sweep), and dv_j += R_{c_j} with R_s = Σ_{queries i that see j as far}
//         w_is dO_i, a sweep over the queries in the opposite order that adds query i to R
//         before key j = i - W (left side) reads it. Far keys give k no gradient (ops/vq_attention.h).
// w_is is only formed for codes some key uses; every R_s a key reads holds only terms with
// w_is = P_ij <= 1, so no overflow reaches a result.
#include "ops/cpu/vq_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/parallel.h"
#include "ops/cpu/matmul.h"

namespace ember::cpu {

namespace {

constexpr int64_t kQueryChunk = 64;

template <class T> constexpr T kNegInf = -std::numeric_limits<T>::infinity();

// One batch-head's view of the problem: its rows of q, v, indices and its codebook and bias.
template <class T>
struct Head {
  const VQAttentionProblem& p;
  const T* q;
  const T* v;
  const int64_t* idx;
  const T* codebook;  // (S, d)
  const T* bias;      // (bias_size) or null

  // The near keys of query i: [lo, hi] (empty when lo > hi) and the bias of key j.
  int64_t near_lo(int64_t i) const { return std::max<int64_t>(0, i - p.window + 1); }
  int64_t near_hi(int64_t i) const { return p.causal ? i : std::min<int64_t>(p.L - 1, i + p.window - 1); }
  T bias_of(int64_t i, int64_t j) const {
    if (bias == nullptr) return T(0);
    return bias[p.causal ? i - j : i - j + p.window - 1];
  }
  int64_t bias_index(int64_t i, int64_t j) const { return p.causal ? i - j : i - j + p.window - 1; }
  // Gap between a query and its nearest far key on each side.
  int64_t gap(bool left) const { return left ? p.window : std::max<int64_t>(p.window, 1); }
};

// Rows of Z = scale · q Cᵀ (L, S), kQueryChunk rows at a time: a sweep in either direction
// recomputes each chunk once.
template <class T>
class CodeScores {
 public:
  explicit CodeScores(const Head<T>& h) : h_(h), rows_(kQueryChunk * h.p.S) {}
  const T* row(int64_t i) {
    const int64_t r0 = i / kQueryChunk * kQueryChunk;
    if (r0 != r0_) {
      const int64_t count = std::min(kQueryChunk, h_.p.L - r0);
      const int64_t S = h_.p.S, d = h_.p.d;
      gemm<T>(count, S, d, h_.q + r0 * d, d, 1, h_.codebook, 1, d, rows_.data(), S, false);
      const T scale = static_cast<T>(h_.p.scale);
      for (int64_t n = 0; n < count * S; ++n) rows_[n] *= scale;
      r0_ = r0;
    }
    return rows_.data() + (i - r0) * h_.p.S;
  }

 private:
  const Head<T>& h_;
  std::vector<T> rows_;
  int64_t r0_ = -1;
};

// The aggregated codebook cache: count and value sum of the far keys per code.
template <class T>
struct CodeCache {
  std::vector<T> count, value_sum;  // (S), (S, dv)
  int64_t dv;
  CodeCache(int64_t S, int64_t dv_) : count(S, T(0)), value_sum(S * dv_, T(0)), dv(dv_) {}
  void clear() {
    std::fill(count.begin(), count.end(), T(0));
    std::fill(value_sum.begin(), value_sum.end(), T(0));
  }
  void add(int64_t code, const T* value) {
    count[code] += T(1);
    T* sum = value_sum.data() + code * dv;
    for (int64_t c = 0; c < dv; ++c) sum[c] += value[c];
  }
};

// Visits every query of one side's sweep, the cache holding exactly that side's far keys of the
// visited query (Note [VQ attention cache]).
template <class T, class Visit>
void far_sweep(const Head<T>& h, bool left, CodeCache<T>& cache, Visit&& visit) {
  cache.clear();
  const int64_t L = h.p.L, gap = h.gap(left);
  for (int64_t step = 0; step < L; ++step) {
    const int64_t i = left ? step : L - 1 - step;
    const int64_t j = left ? i - gap : i + gap;
    if (j >= 0 && j < L) cache.add(h.idx[j], h.v + j * h.p.dv);
    visit(i);
  }
}

template <class T>
T dot(const T* a, const T* b, int64_t n) {
  T acc = T(0);
  for (int64_t c = 0; c < n; ++c) acc += a[c] * b[c];
  return acc;
}

template <class T>
void axpy(T alpha, const T* x, T* y, int64_t n) {
  for (int64_t c = 0; c < n; ++c) y[c] += alpha * x[c];
}

template <class T>
Head<T> head_of(const VQAttentionProblem& p, int64_t bh, const T* q, const T* v, const int64_t* indices,
                const T* codebook, const T* bias) {
  const int64_t h = bh % p.heads;
  return Head<T>{p,
                 q + bh * p.L * p.d,
                 v + bh * p.L * p.dv,
                 indices + bh * p.L,
                 codebook + (p.shared_codebook ? 0 : h * p.S * p.d),
                 p.has_bias ? bias + h * p.bias_size() : nullptr};
}

template <class T>
void forward_head(const Head<T>& h, T* out, T* lse) {
  const VQAttentionProblem& p = h.p;
  const int64_t L = p.L, S = p.S, dv = p.dv;
  CodeScores<T> scores(h);
  std::vector<T> row_max(L, kNegInf<T>), row_sum(L, T(0));
  std::fill(out, out + L * dv, T(0));
  // Merges exp(score - max) terms into query i's running sums after moving its max to `new_max`.
  auto rescale = [&](int64_t i, T new_max) {
    if (new_max <= row_max[i]) return;
    const T factor = row_max[i] == kNegInf<T> ? T(0) : std::exp(row_max[i] - new_max);
    row_sum[i] *= factor;
    for (int64_t c = 0; c < dv; ++c) out[i * dv + c] *= factor;
    row_max[i] = new_max;
  };
  // The window, exact.
  for (int64_t i = 0; i < L; ++i) {
    const T* z = scores.row(i);
    const int64_t lo = h.near_lo(i), hi = h.near_hi(i);
    T best = kNegInf<T>;
    for (int64_t j = lo; j <= hi; ++j) best = std::max(best, z[h.idx[j]] + h.bias_of(i, j));
    if (best == kNegInf<T>) continue;
    rescale(i, best);
    for (int64_t j = lo; j <= hi; ++j) {
      const T e = std::exp(z[h.idx[j]] + h.bias_of(i, j) - row_max[i]);
      row_sum[i] += e;
      axpy(e, h.v + j * dv, out + i * dv, dv);
    }
  }
  // The cache, one sweep per side.
  CodeCache<T> cache(S, dv);
  for (bool left : {true, false}) {
    if (!left && p.causal) break;
    far_sweep(h, left, cache, [&](int64_t i) {
      const T* z = scores.row(i);
      T best = kNegInf<T>;
      for (int64_t s = 0; s < S; ++s)
        if (cache.count[s] > T(0)) best = std::max(best, z[s]);
      if (best == kNegInf<T>) return;
      rescale(i, best);
      for (int64_t s = 0; s < S; ++s) {
        if (cache.count[s] == T(0)) continue;
        const T e = std::exp(z[s] - row_max[i]);
        row_sum[i] += e * cache.count[s];
        axpy(e, cache.value_sum.data() + s * dv, out + i * dv, dv);
      }
    });
  }
  for (int64_t i = 0; i < L; ++i) {
    const T inv = T(1) / row_sum[i];
    for (int64_t c = 0; c < dv; ++c) out[i * dv + c] *= inv;
    lse[i] = row_max[i] + std::log(row_sum[i]);
  }
}

template <class T>
void backward_head(const Head<T>& h, const T* out, const T* grad_out, const T* lse, T* grad_q, T* grad_k, T* grad_v,
                   T* grad_bias) {
  const VQAttentionProblem& p = h.p;
  const int64_t L = p.L, S = p.S, d = p.d, dv = p.dv;
  const T scale = static_cast<T>(p.scale);
  std::fill(grad_q, grad_q + L * d, T(0));
  std::fill(grad_k, grad_k + L * d, T(0));
  std::fill(grad_v, grad_v + L * dv, T(0));
  if (grad_bias != nullptr) std::fill(grad_bias, grad_bias + p.bias_size(), T(0));
  std::vector<T> delta(L);
  for (int64_t i = 0; i < L; ++i) delta[i] = dot(grad_out + i * dv, out + i * dv, dv);
  std::vector<char> used(S, 0);
  for (int64_t j = 0; j < L; ++j) used[h.idx[j]] = 1;
  CodeScores<T> scores(h);
  // The window.
  for (int64_t i = 0; i < L; ++i) {
    const T* z = scores.row(i);
    const T* go = grad_out + i * dv;
    for (int64_t j = h.near_lo(i), hi = h.near_hi(i); j <= hi; ++j) {
      const int64_t code = h.idx[j];
      const T prob = std::exp(z[code] + h.bias_of(i, j) - lse[i]);
      const T grad_score = prob * (dot(go, h.v + j * dv, dv) - delta[i]);
      axpy(scale * grad_score, h.codebook + code * d, grad_q + i * d, d);
      axpy(scale * grad_score, h.q + i * d, grad_k + j * d, d);
      axpy(prob, go, grad_v + j * dv, dv);
      if (grad_bias != nullptr) grad_bias[h.bias_index(i, j)] += grad_score;
    }
  }
  CodeCache<T> cache(S, dv);
  std::vector<T> reverse(S * dv);  // R_s
  for (bool left : {true, false}) {
    if (!left && p.causal) break;
    // dq through the cache.
    far_sweep(h, left, cache, [&](int64_t i) {
      const T* z = scores.row(i);
      const T* go = grad_out + i * dv;
      for (int64_t s = 0; s < S; ++s) {
        if (cache.count[s] == T(0)) continue;
        const T w = std::exp(z[s] - lse[i]);
        const T a = w * (dot(go, cache.value_sum.data() + s * dv, dv) - delta[i] * cache.count[s]);
        axpy(scale * a, h.codebook + s * d, grad_q + i * d, d);
      }
    });
    // dv through the cache: the queries in the opposite order.
    std::fill(reverse.begin(), reverse.end(), T(0));
    const int64_t gap = h.gap(left);
    for (int64_t step = 0; step < L; ++step) {
      const int64_t i = left ? L - 1 - step : step;
      const T* z = scores.row(i);
      const T* go = grad_out + i * dv;
      for (int64_t s = 0; s < S; ++s)
        if (used[s]) axpy(std::exp(z[s] - lse[i]), go, reverse.data() + s * dv, dv);
      const int64_t j = left ? i - gap : i + gap;
      if (j >= 0 && j < L) axpy(T(1), reverse.data() + h.idx[j] * dv, grad_v + j * dv, dv);
    }
  }
}

// Runs body(bh) over the batch-heads, in parallel when there is more than one.
template <class F>
void for_each_head(int64_t batch_heads, F&& body) {
  parallel_for(batch_heads, 1, [&](int64_t begin, int64_t end) {
    SingleThreadedBlas single;  // the heads are the parallelism
    for (int64_t bh = begin; bh < end; ++bh) body(bh);
  });
}

}  // namespace

template <class T>
void vq_attention_fwd(const VQAttentionProblem& p, const T* q, const T* v, const int64_t* indices, const T* codebook,
                      const T* bias, T* out, T* lse) {
  for_each_head(p.batch_heads, [&](int64_t bh) {
    const Head<T> h = head_of(p, bh, q, v, indices, codebook, bias);
    forward_head(h, out + bh * p.L * p.dv, lse + bh * p.L);
  });
}

template <class T>
void vq_attention_bwd(const VQAttentionProblem& p, const T* q, const T* v, const int64_t* indices, const T* codebook,
                      const T* bias, const T* out, const T* grad_out, const T* lse, T* grad_q, T* grad_k, T* grad_v,
                      T* grad_bias) {
  for_each_head(p.batch_heads, [&](int64_t bh) {
    const Head<T> h = head_of(p, bh, q, v, indices, codebook, bias);
    const int64_t rows_d = bh * p.L * p.d, rows_dv = bh * p.L * p.dv;
    backward_head(h, out + rows_dv, grad_out + rows_dv, lse + bh * p.L, grad_q + rows_d, grad_k + rows_d,
                  grad_v + rows_dv, grad_bias != nullptr ? grad_bias + bh * p.bias_size() : nullptr);
  });
}

#define EMBER_VQ_ATTENTION_INSTANTIATE(T)                                                                    \
  template void vq_attention_fwd<T>(const VQAttentionProblem&, const T*, const T*, const int64_t*, const T*, \
                                    const T*, T*, T*);                                                        \
  template void vq_attention_bwd<T>(const VQAttentionProblem&, const T*, const T*, const int64_t*, const T*, \
                                    const T*, const T*, const T*, const T*, T*, T*, T*, T*);
EMBER_VQ_ATTENTION_INSTANTIATE(float)
EMBER_VQ_ATTENTION_INSTANTIATE(double)
#undef EMBER_VQ_ATTENTION_INSTANTIATE

}  // namespace ember::cpu
