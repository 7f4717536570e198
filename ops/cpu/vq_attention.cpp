// The linear-time VQ attention kernels (ops/cpu/vq_attention.h).
//
// Note [VQ attention cache]: query i's keys split into "near" keys (the local window, scored
// exactly with the positional bias) and "far" keys, which enter only through their code: with
// Z_is = scale · q_i · C_s, the far part of the softmax sums is
//   Σ_{j far} e^{Z_{i,c_j}} v_j = Σ_s e^{Z_is} U_s,   Σ_{j far} e^{Z_{i,c_j}} = Σ_s e^{Z_is} n_s
// where (n_s, U_s) is the cache: the count and the value sum of the far keys with code s. The far
// keys on the left of query i are j <= i - W: a sweep over the queries in increasing order adds
// the keys to the cache as they become far (the running prefix sums per code; done a chunk of
// queries at a time, Note [Chunked cache], so that the cache's share is one BLAS product). Non-causal
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
//         w_is dO_i, a sweep over the query chunks in the opposite order that adds each chunk to
//         R (one product) after the keys whose first far query lies in the chunk have read it.
//         Far keys give k no gradient (ops/vq_attention.h).
// w_is is only formed for codes some key uses; every R_s a key reads holds only terms with
// w_is = P_ij <= 1, so no overflow reaches a result.
#include "ops/cpu/vq_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/parallel.h"
#include "ops/cpu/math.h"
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

// One side's sweep order (Note [VQ attention cache]): step t visits position pos(t) (left side:
// increasing, right side: decreasing); the far keys of step t are the steps <= t - gap.
struct Side {
  bool left;
  int64_t L, gap;
  int64_t pos(int64_t t) const { return left ? t : L - 1 - t; }
};

// Rows of Z = scale · q Cᵀ for the queries of steps [t0, t1) of a side (one BLAS product).
template <class T>
class ChunkScores {
 public:
  explicit ChunkScores(const Head<T>& h) : h_(h), rows_(kQueryChunk * h.p.S) {}
  void compute(const Side& side, int64_t t0, int64_t t1) {
    const int64_t S = h_.p.S, d = h_.p.d, count = t1 - t0;
    const int64_t first = side.left ? t0 : side.L - t1;  // positions [first, first + count)
    gemm<T>(count, S, d, h_.q + first * d, d, 1, h_.codebook, 1, d, rows_.data(), S, false);
    const T scale = static_cast<T>(h_.p.scale);
    for (int64_t n = 0; n < count * S; ++n) rows_[n] *= scale;
    side_ = side;
    t0_ = t0;
    t1_ = t1;
  }
  const T* row(int64_t t) const { return rows_.data() + (side_.left ? t - t0_ : t1_ - 1 - t) * h_.p.S; }

 private:
  const Head<T>& h_;
  std::vector<T> rows_;
  Side side_{true, 0, 0};
  int64_t t0_ = 0, t1_ = 0;
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
  // Adds the keys of steps (from, to] (clipped to [0, L)).
  void add_steps(const Head<T>& h, const Side& side, int64_t from, int64_t to) {
    for (int64_t t = std::max<int64_t>(from + 1, 0); t <= std::min<int64_t>(to, side.L - 1); ++t) {
      const int64_t j = side.pos(t);
      add(h.idx[j], h.v + j * dv);
    }
  }
};

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

std::vector<Side> sides_of(const VQAttentionProblem& p) {
  std::vector<Side> sides = {{true, p.L, p.window}};
  if (!p.causal) sides.push_back({false, p.L, std::max<int64_t>(p.window, 1)});
  return sides;
}

// Note [Chunked cache]: a sweep visits the steps a chunk [t0, t1) at a time. The cache holds the
// keys of steps < t0 - gap (far for every query of the chunk); step t's remaining far keys, the
// "band" [t0 - gap, t - gap] (at most kQueryChunk), are scored one by one through their code.
// The cache's contribution to the whole chunk is then one product (chunk × S) · (S × dv).
template <class T>
void forward_head(const Head<T>& h, T* out, T* lse) {
  const VQAttentionProblem& p = h.p;
  const int64_t L = p.L, S = p.S, dv = p.dv;
  ChunkScores<T> scores(h);
  std::vector<T> row_max(L, kNegInf<T>), row_sum(L, T(0));
  std::vector<T> weights(kQueryChunk * S), chunk_out(kQueryChunk * dv);
  std::fill(out, out + L * dv, T(0));
  // Moves query i's running sums to the max `new_max` (online softmax).
  auto rescale = [&](int64_t i, T new_max) {
    if (new_max <= row_max[i]) return;
    const T factor = row_max[i] == kNegInf<T> ? T(0) : std::exp(row_max[i] - new_max);
    row_sum[i] *= factor;
    for (int64_t c = 0; c < dv; ++c) out[i * dv + c] *= factor;
    row_max[i] = new_max;
  };
  CodeCache<T> cache(S, dv);
  for (const Side& side : sides_of(p)) {
    cache.clear();
    for (int64_t t0 = 0; t0 < L; t0 += kQueryChunk) {
      const int64_t t1 = std::min(L, t0 + kQueryChunk), rows = t1 - t0;
      scores.compute(side, t0, t1);
      if (side.left) {
        // The window, exact (once, in the left sweep, where step = position).
        for (int64_t i = t0; i < t1; ++i) {
          const T* z = scores.row(i);
          const int64_t lo = h.near_lo(i), hi = h.near_hi(i);
          T best = kNegInf<T>;
          for (int64_t j = lo; j <= hi; ++j) best = std::max(best, z[h.idx[j]] + h.bias_of(i, j));
          if (best == kNegInf<T>) continue;
          rescale(i, best);
          for (int64_t j = lo; j <= hi; ++j) {
            const T e = math::fast_exp(z[h.idx[j]] + h.bias_of(i, j) - row_max[i]);
            row_sum[i] += e;
            axpy(e, h.v + j * dv, out + i * dv, dv);
          }
        }
      }
      // The far keys: cache (one product for the chunk) + band (one by one).
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t i = side.pos(t);
        const T* z = scores.row(t);
        T* w = weights.data() + (t - t0) * S;
        const int64_t band_lo = std::max<int64_t>(t0 - side.gap, 0), band_hi = t - side.gap;
        T best = kNegInf<T>;
        for (int64_t s = 0; s < S; ++s)
          if (cache.count[s] > T(0)) best = std::max(best, z[s]);
        for (int64_t tj = band_lo; tj <= band_hi; ++tj) best = std::max(best, z[h.idx[side.pos(tj)]]);
        if (best == kNegInf<T>) {
          std::fill(w, w + S, T(0));
          continue;
        }
        rescale(i, best);
        const T m = row_max[i];
        T sum = T(0);
        for (int64_t s = 0; s < S; ++s) {
          w[s] = cache.count[s] > T(0) ? math::fast_exp(z[s] - m) : T(0);
          sum += w[s] * cache.count[s];
        }
        for (int64_t tj = band_lo; tj <= band_hi; ++tj) {
          const int64_t j = side.pos(tj);
          const T e = math::fast_exp(z[h.idx[j]] - m);
          sum += e;
          axpy(e, h.v + j * dv, out + i * dv, dv);
        }
        row_sum[i] += sum;
      }
      gemm<T>(rows, dv, S, weights.data(), S, 1, cache.value_sum.data(), dv, 1, chunk_out.data(), dv, false);
      for (int64_t t = t0; t < t1; ++t) axpy(T(1), chunk_out.data() + (t - t0) * dv, out + side.pos(t) * dv, dv);
      cache.add_steps(h, side, t0 - 1 - side.gap, t1 - 1 - side.gap);
    }
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
  ChunkScores<T> scores(h);
  std::vector<T> weights(kQueryChunk * S), second(kQueryChunk * S);
  std::vector<T> chunk_grad(kQueryChunk * std::max(d, dv)), chunk_grad_out(kQueryChunk * dv);
  CodeCache<T> cache(S, dv);
  std::vector<T> reverse(S * dv);  // R_s
  for (const Side& side : sides_of(p)) {
    // dq through the cache, and the window (left sweep), the steps in increasing order.
    cache.clear();
    for (int64_t t0 = 0; t0 < L; t0 += kQueryChunk) {
      const int64_t t1 = std::min(L, t0 + kQueryChunk), rows = t1 - t0;
      scores.compute(side, t0, t1);
      if (side.left) {
        for (int64_t i = t0; i < t1; ++i) {
          const T* z = scores.row(i);
          const T* go = grad_out + i * dv;
          for (int64_t j = h.near_lo(i), hi = h.near_hi(i); j <= hi; ++j) {
            const int64_t code = h.idx[j];
            const T prob = math::fast_exp(z[code] + h.bias_of(i, j) - lse[i]);
            const T grad_score = prob * (dot(go, h.v + j * dv, dv) - delta[i]);
            axpy(scale * grad_score, h.codebook + code * d, grad_q + i * d, d);
            axpy(scale * grad_score, h.q + i * d, grad_k + j * d, d);
            axpy(prob, go, grad_v + j * dv, dv);
            if (grad_bias != nullptr) grad_bias[h.bias_index(i, j)] += grad_score;
          }
        }
      }
      for (int64_t t = t0; t < t1; ++t)
        std::copy(grad_out + side.pos(t) * dv, grad_out + (side.pos(t) + 1) * dv, chunk_grad_out.data() + (t - t0) * dv);
      // second (rows, S) = dO · Uᵀ: dO_i · U_s for every code.
      gemm<T>(rows, S, dv, chunk_grad_out.data(), dv, 1, cache.value_sum.data(), 1, dv, second.data(), S, false);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t i = side.pos(t);
        const T* z = scores.row(t);
        T* a = second.data() + (t - t0) * S;
        for (int64_t s = 0; s < S; ++s)
          a[s] = cache.count[s] > T(0) ? math::fast_exp(z[s] - lse[i]) * (a[s] - delta[i] * cache.count[s]) : T(0);
        // The band, one key at a time.
        const T* go = grad_out + i * dv;
        for (int64_t tj = std::max<int64_t>(t0 - side.gap, 0), hi = t - side.gap; tj <= hi; ++tj) {
          const int64_t j = side.pos(tj), code = h.idx[j];
          const T prob = math::fast_exp(z[code] - lse[i]);
          a[code] += prob * (dot(go, h.v + j * dv, dv) - delta[i]);
        }
      }
      // dq (rows, d) += scale · a (rows, S) · C (S, d)
      gemm<T>(rows, d, S, second.data(), S, 1, h.codebook, d, 1, chunk_grad.data(), d, false);
      for (int64_t t = t0; t < t1; ++t) axpy(scale, chunk_grad.data() + (t - t0) * d, grad_q + side.pos(t) * d, d);
      cache.add_steps(h, side, t0 - 1 - side.gap, t1 - 1 - side.gap);
    }
    // dv through the cache: the chunks in decreasing order. R holds w_is dO_i of the steps >= t1;
    // a key whose first far step h = t_j + gap falls in [t0, t1) reads R plus the chunk's steps >= h.
    std::fill(reverse.begin(), reverse.end(), T(0));
    const int64_t last = (L - 1) / kQueryChunk * kQueryChunk;
    for (int64_t t0 = last; t0 >= 0; t0 -= kQueryChunk) {
      const int64_t t1 = std::min(L, t0 + kQueryChunk), rows = t1 - t0;
      scores.compute(side, t0, t1);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t i = side.pos(t);
        const T* z = scores.row(t);
        T* w = weights.data() + (t - t0) * S;
        for (int64_t s = 0; s < S; ++s) w[s] = used[s] ? math::fast_exp(z[s] - lse[i]) : T(0);
        std::copy(grad_out + i * dv, grad_out + (i + 1) * dv, chunk_grad_out.data() + (t - t0) * dv);
      }
      for (int64_t tj = std::max<int64_t>(t0 - side.gap, 0); tj < t1 - side.gap; ++tj) {
        const int64_t j = side.pos(tj), code = h.idx[j];
        T* gv = grad_v + j * dv;
        axpy(T(1), reverse.data() + code * dv, gv, dv);
        for (int64_t t = tj + side.gap; t < t1; ++t)
          axpy(weights[(t - t0) * S + code], chunk_grad_out.data() + (t - t0) * dv, gv, dv);
      }
      // R (S, dv) += wᵀ (S, rows) · dO (rows, dv)
      gemm<T>(S, dv, rows, weights.data(), 1, S, chunk_grad_out.data(), dv, 1, reverse.data(), dv, true);
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
