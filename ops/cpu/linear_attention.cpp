// CPU kernels for linear_attention: the chunked form (intra-chunk masked products plus an
// inter-chunk (dk, dv) state), its recomputing backward, and the recurrent form.
// Twins: ops/cpu/linear_attention.h, ops/linear_attention.cpp (front end), docs/LINEAR_ATTENTION.md.
//
// Per head, with chunks of C steps, Q_c/K_c/V_c the chunk's rows and S the state entering it:
//   O_c = (Q_c K_cᵀ ⊙ M) V_c + diag(e^b) Q_c S          M[i, j] = e^(b_i - b_j) [j <= i]
//   S  <- e^(b_last) S + (diag(w) K_c)ᵀ V_c              w_j = e^(b_last - b_j)
// where b_i is the chunk-local cumulative log gate (Note [Chunk-local log decay]). Every product
// is a BLAS GEMM on a tile (C × C × d or C × d × d); OpenMP runs the heads in parallel, each
// thread calling single-threaded OpenBLAS (Note [One thread pool], ops/cpu/matmul.cpp).
#include "ops/cpu/linear_attention.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "ops/cpu/math.h"
#include "ops/cpu/matmul.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ember::cpu {

namespace {

// c (m × n, ldc) = alpha · op(a) · op(b) + beta · c, row-major. a is (m × k) with row stride lda,
// or (k × m) when trans_a; b is (k × n) with row stride ldb, or (n × k) when trans_b.
// Called only with m, n, k >= 1 (the front end sends empty problems to the reference).
template <class T>
void gemm_tile(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
               int64_t ldb, T beta, T* c, int64_t ldc) {
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
  }
}

// Per-thread tiles, sized for one chunk.
template <class T>
struct Scratch {
  std::vector<T> scores, grad_scores, mask, rows_a, rows_b, state, grad_state;
  std::vector<T> log_decay;  // b_i of the current chunk
  std::vector<T> query_scale, key_scale;
  explicit Scratch(const LinearAttentionProblem& p)
      : scores(p.chunk * p.chunk),
        grad_scores(p.chunk * p.chunk),
        mask(p.chunk * p.chunk),
        rows_a(p.chunk * std::max(p.dk, p.dv)),
        rows_b(p.chunk * std::max(p.dk, p.dv)),
        state(p.dk * p.dv),
        grad_state(p.dk * p.dv),
        log_decay(p.chunk),
        query_scale(p.chunk),
        key_scale(p.chunk) {}
};

// Note [Chunk-local log decay]: with gates a_r in (0, 1], the factors e^(c_t - c_s) of the global
// cumulative log gate c are <= 1, but splitting them as e^(c_t) · e^(-c_s) (to fold them into Q
// and K) overflows once c reaches -88 in float32 (64 steps of gates 0.25). So the chunked form
// never factors across a chunk: inside one, b_i = Σ_{t0 <= r <= t0+i} log a_r (accumulated in
// double), the intra-chunk mask holds e^(b_i - b_j) (j <= i) elementwise, and the inter-chunk terms
// only need e^(b_i) (state -> step i), e^(b_last - b_j) (step j -> chunk end) and e^(b_last): every
// exponent is <= 0, so nothing overflows however small the gates; underflow to 0 is the right limit.
template <class T>
struct ChunkDecay {
  bool decayed = false;  // false: no gates; the scales are 1 and the mask is the causal 0/1 mask
  const T* mask = nullptr;         // (m × m, row stride C) when decayed
  const T* query_scale = nullptr;  // e^(b_i)
  const T* key_scale = nullptr;    // e^(b_last - b_j)
  T across = T(1);                 // e^(b_last)
};

// The decay factors of chunk [t0, t0 + m) (log_gates points at t0); the (m × m) mask only when
// `with_mask`. b is accumulated in double and the factors are computed in T by math::fast_exp
// (vectorised for float): a chunk costs a few vector instructions per row, not C scalar exp calls.
// In float32 the exponent differences b_i - b_j carry an absolute error of about
// |b| · 6e-8 (|b| <= C · |log a_min|), a relative error of the same size in the factor.
template <class T>
ChunkDecay<T> chunk_decay(const T* log_gates, int64_t m, int64_t C, Scratch<T>& s, bool with_mask) {
  ChunkDecay<T> d;
  if (log_gates == nullptr) return d;
  d.decayed = true;
  T* b = s.log_decay.data();
  double running = 0;
  for (int64_t i = 0; i < m; ++i) b[i] = static_cast<T>(running += static_cast<double>(log_gates[i]));
  const T last = b[m - 1];
  T* query_scale = s.query_scale.data();
  T* key_scale = s.key_scale.data();
  for (int64_t i = 0; i < m; ++i) query_scale[i] = math::fast_exp(b[i]);
  for (int64_t i = 0; i < m; ++i) key_scale[i] = math::fast_exp(std::min(last - b[i], T(0)));
  if (with_mask) {
    // Whole rows, zero above the diagonal (where the exponent would be positive).
    for (int64_t i = 0; i < m; ++i) {
      T* row = s.mask.data() + i * C;
      const T bi = b[i];
      for (int64_t j = 0; j < m; ++j) row[j] = j <= i ? math::fast_exp(std::min(bi - b[j], T(0))) : T(0);
    }
  }
  d.mask = s.mask.data();
  d.query_scale = query_scale;
  d.key_scale = key_scale;
  d.across = math::fast_exp(last);
  return d;
}

// a (m × m, row stride ld) ⊙= the chunk's causal mask (with its decay when decayed). Selects, not
// products with 0, so a non-finite score above the diagonal does not leak NaN into the output.
template <class T>
void apply_mask(T* a, int64_t ld, int64_t m, int64_t C, const ChunkDecay<T>& d) {
  for (int64_t i = 0; i < m; ++i) {
    T* row = a + i * ld;
    if (d.decayed) {
      const T* factors = d.mask + i * C;
      for (int64_t j = 0; j < m; ++j) row[j] = j <= i ? row[j] * factors[j] : T(0);
    } else {
      for (int64_t j = 0; j < m; ++j) row[j] = j <= i ? row[j] : T(0);
    }
  }
}

// diag(scale) x for x (m × n, contiguous rows), into `buffer`; x itself when there is no decay.
template <class T>
const T* scale_rows(const T* x, int64_t m, int64_t n, const T* scale, bool decayed, T* buffer) {
  if (!decayed) return x;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t c = 0; c < n; ++c) buffer[i * n + c] = x[i * n + c] * scale[i];
  return buffer;
}

// One head's arrays: rows of q/k (dk wide) and v/o (dv wide), and its log gates (or null).
template <class T>
struct Head {
  const T* q;
  const T* k;
  const T* v;
  const T* log_gates;
};

template <class T>
Head<T> head_of(const LinearAttentionProblem& p, int64_t bh, const T* q, const T* k, const T* v, const T* log_gates) {
  return {q + bh * p.L * p.dk, k + bh * p.L * p.dk, v + bh * p.L * p.dv,
          log_gates == nullptr ? nullptr : log_gates + bh * p.L};
}

// Runs body(bh, scratch) for every head, over OpenMP threads when there is enough work. Each
// OpenBLAS call is single-threaded (SingleThreadedBlas) so the tiles do not spawn threads of their own.
template <class T, class F>
void for_each_head(const LinearAttentionProblem& p, F&& body) {
  SingleThreadedBlas single_threaded;
#ifdef _OPENMP
  const bool worth = p.L * (p.dk + p.dv) * std::max<int64_t>(p.dk, std::min(p.chunk, p.L)) * p.batch_heads >= (1 << 18);
  if (worth && p.batch_heads > 1 && omp_get_max_threads() > 1 && !omp_in_parallel()) {
#pragma omp parallel
    {
      Scratch<T> scratch(p);
#pragma omp for schedule(dynamic, 1)
      for (int64_t bh = 0; bh < p.batch_heads; ++bh) body(bh, scratch);
    }
    return;
  }
#endif
  Scratch<T> scratch(p);
  for (int64_t bh = 0; bh < p.batch_heads; ++bh) body(bh, scratch);
}

// ---- causal, chunked ----

template <class T>
void causal_forward_head(const LinearAttentionProblem& p, const Head<T>& h, T* out, Scratch<T>& s) {
  const int64_t C = p.chunk, dk = p.dk, dv = p.dv;
  T* state = s.state.data();  // (dk × dv), the state entering the chunk
  std::fill(state, state + dk * dv, T(0));
  for (int64_t t0 = 0; t0 < p.L; t0 += C) {
    const int64_t m = std::min(C, p.L - t0);
    const T* qc = h.q + t0 * dk;
    const T* kc = h.k + t0 * dk;
    const T* vc = h.v + t0 * dv;
    T* oc = out + t0 * dv;
    const ChunkDecay<T> d = chunk_decay(h.log_gates == nullptr ? nullptr : h.log_gates + t0, m, C, s, true);
    // intra-chunk: O_c = (Q_c K_cᵀ ⊙ M) V_c
    gemm_tile(false, true, m, m, dk, qc, dk, kc, dk, T(0), s.scores.data(), C);
    apply_mask(s.scores.data(), C, m, C, d);
    gemm_tile(false, false, m, dv, m, s.scores.data(), C, vc, dv, T(0), oc, dv);
    // inter-chunk: O_c += diag(e^b) Q_c S
    if (t0 > 0) {
      const T* qs = scale_rows(qc, m, dk, d.query_scale, d.decayed, s.rows_a.data());
      gemm_tile(false, false, m, dv, dk, qs, dk, state, dv, T(1), oc, dv);
    }
    // S <- e^(b_last) S + (diag(w) K_c)ᵀ V_c
    if (t0 + m < p.L) {
      const T* ks = scale_rows(kc, m, dk, d.key_scale, d.decayed, s.rows_a.data());
      gemm_tile(true, false, dk, dv, m, ks, dk, vc, dv, t0 > 0 ? d.across : T(0), state, dv);
    }
  }
}

// Note [Linear attention backward]: with S_n the state entering chunk n and dS_n = ∂loss/∂S_n,
//   dQ_c = (dO_c V_cᵀ ⊙ M) K_c + diag(e^b) dO_c S_nᵀ
//   dK_c = (dO_c V_cᵀ ⊙ M)ᵀ Q_c + diag(w) V_c dS_{n+1}ᵀ
//   dV_c = (Q_c K_cᵀ ⊙ M)ᵀ dO_c + diag(w) K_c dS_{n+1}
//   dS_n = e^(b_last) dS_{n+1} + (diag(e^b) Q_c)ᵀ dO_c,   dS_N = 0
// S_n runs forward in time and dS_n backward, so the kernel makes two sweeps per head and stores
// no state at all (no checkpoints): a forward sweep recomputes S_n and writes the inter-chunk part
// of dQ, then a reverse sweep carries dS and does everything else (the intra-chunk products are
// recomputed there once). Extra work over storing every S_n: one (dk × dv × C) GEMM per chunk,
// about 1/10 of the backward; saved memory: BH · L/C · dk · dv (16 MB for the benchmark).
template <class T>
void causal_backward_head(const LinearAttentionProblem& p, const Head<T>& h, const T* grad_out, T* grad_q,
                          T* grad_k, T* grad_v, Scratch<T>& s) {
  const int64_t C = p.chunk, dk = p.dk, dv = p.dv;
  auto decay_of = [&](int64_t t0, int64_t m, bool with_mask) {
    return chunk_decay(h.log_gates == nullptr ? nullptr : h.log_gates + t0, m, C, s, with_mask);
  };
  // Sweep 1, forward in time: dQ_c = diag(e^b) dO_c S_nᵀ.
  T* state = s.state.data();
  for (int64_t t0 = 0; t0 < p.L; t0 += C) {
    const int64_t m = std::min(C, p.L - t0);
    const T* kc = h.k + t0 * dk;
    const T* vc = h.v + t0 * dv;
    T* dqc = grad_q + t0 * dk;
    const ChunkDecay<T> d = decay_of(t0, m, false);
    if (t0 == 0) {
      std::fill(dqc, dqc + m * dk, T(0));
    } else {
      gemm_tile(false, true, m, dk, dv, grad_out + t0 * dv, dv, state, dv, T(0), dqc, dk);
      if (d.decayed)
        for (int64_t i = 0; i < m; ++i)
          for (int64_t c = 0; c < dk; ++c) dqc[i * dk + c] *= d.query_scale[i];
    }
    if (t0 + m < p.L) {
      const T* ks = scale_rows(kc, m, dk, d.key_scale, d.decayed, s.rows_a.data());
      gemm_tile(true, false, dk, dv, m, ks, dk, vc, dv, t0 > 0 ? d.across : T(0), state, dv);
    }
  }
  // Sweep 2, backward in time, carrying dS (the gradient of the state leaving the chunk).
  T* grad_state = s.grad_state.data();
  T* scores = s.scores.data();
  T* grad_scores = s.grad_scores.data();
  const int64_t last_t0 = ((p.L - 1) / C) * C;
  for (int64_t t0 = last_t0; t0 >= 0; t0 -= C) {
    const int64_t m = std::min(C, p.L - t0);
    const T* qc = h.q + t0 * dk;
    const T* kc = h.k + t0 * dk;
    const T* vc = h.v + t0 * dv;
    const T* doc = grad_out + t0 * dv;
    T* dqc = grad_q + t0 * dk;
    T* dkc = grad_k + t0 * dk;
    T* dvc = grad_v + t0 * dv;
    const ChunkDecay<T> d = decay_of(t0, m, true);
    gemm_tile(false, true, m, m, dk, qc, dk, kc, dk, T(0), scores, C);  // Q_c K_cᵀ ⊙ M
    apply_mask(scores, C, m, C, d);
    gemm_tile(false, true, m, m, dv, doc, dv, vc, dv, T(0), grad_scores, C);  // dO_c V_cᵀ ⊙ M
    apply_mask(grad_scores, C, m, C, d);
    gemm_tile(false, false, m, dk, m, grad_scores, C, kc, dk, T(1), dqc, dk);
    gemm_tile(true, false, m, dk, m, grad_scores, C, qc, dk, T(0), dkc, dk);
    gemm_tile(true, false, m, dv, m, scores, C, doc, dv, T(0), dvc, dv);
    if (t0 + m < p.L) {  // dS_{n+1} is non-zero: the chunk's keys and values reach later chunks
      const T* ks = scale_rows(kc, m, dk, d.key_scale, d.decayed, s.rows_a.data());
      gemm_tile(false, false, m, dv, dk, ks, dk, grad_state, dv, T(1), dvc, dv);
      const T* vs = scale_rows(vc, m, dv, d.key_scale, d.decayed, s.rows_b.data());
      gemm_tile(false, true, m, dk, dv, vs, dv, grad_state, dv, T(1), dkc, dk);
    }
    if (t0 > 0) {  // dS_n = e^(b_last) dS_{n+1} + (diag(e^b) Q_c)ᵀ dO_c
      const T* qs = scale_rows(qc, m, dk, d.query_scale, d.decayed, s.rows_a.data());
      gemm_tile(true, false, dk, dv, m, qs, dk, doc, dv, t0 + m < p.L ? d.across : T(0), grad_state, dv);
    }
  }
}

// ---- non-causal: one state for the whole sequence ----
// O = Q (Kᵀ V);  dS = Qᵀ dO, dQ = dO Sᵀ, dK = V dSᵀ, dV = K dS.

template <class T>
void full_forward_head(const LinearAttentionProblem& p, const Head<T>& h, T* out, Scratch<T>& s) {
  T* state = s.state.data();
  gemm_tile(true, false, p.dk, p.dv, p.L, h.k, p.dk, h.v, p.dv, T(0), state, p.dv);
  gemm_tile(false, false, p.L, p.dv, p.dk, h.q, p.dk, state, p.dv, T(0), out, p.dv);
}

template <class T>
void full_backward_head(const LinearAttentionProblem& p, const Head<T>& h, const T* grad_out, T* grad_q, T* grad_k,
                        T* grad_v, Scratch<T>& s) {
  const int64_t L = p.L, dk = p.dk, dv = p.dv;
  T* state = s.state.data();
  T* grad_state = s.grad_state.data();
  gemm_tile(true, false, dk, dv, L, h.k, dk, h.v, dv, T(0), state, dv);
  gemm_tile(true, false, dk, dv, L, h.q, dk, grad_out, dv, T(0), grad_state, dv);
  gemm_tile(false, true, L, dk, dv, grad_out, dv, state, dv, T(0), grad_q, dk);
  gemm_tile(false, true, L, dk, dv, h.v, dv, grad_state, dv, T(0), grad_k, dk);
  gemm_tile(false, false, L, dv, dk, h.k, dk, grad_state, dv, T(0), grad_v, dv);
}

// ∂loss/∂log a_r = Σ_{t >= r} (q_t · dq_t - k_t · dk_t): the gradient w.r.t. the cumulative log
// gate c_t is Σ_s P_ts dP_ts - Σ_s P_st dP_st (P_ts = (q_t · k_s) e^(c_t - c_s)), i.e. the row sums
// q_t · dq_t minus the column sums k_t · dk_t, and c is a cumulative sum of the log gates.
template <class T>
void log_gate_gradient(const LinearAttentionProblem& p, const Head<T>& h, const T* grad_q, const T* grad_k,
                       T* grad_log_gates) {
  double running = 0;
  for (int64_t t = p.L - 1; t >= 0; --t) {
    T dc = 0;  // a dk-term dot product in T, as the GEMMs that made dq and dk; the running sum in double
    for (int64_t c = 0; c < p.dk; ++c) dc += h.q[t * p.dk + c] * grad_q[t * p.dk + c] - h.k[t * p.dk + c] * grad_k[t * p.dk + c];
    running += static_cast<double>(dc);
    grad_log_gates[t] = static_cast<T>(running);
  }
}

}  // namespace

template <class T>
void linear_attention_chunked_fwd(const LinearAttentionProblem& p, const T* q, const T* k, const T* v,
                                  const T* log_gates, T* out) {
  for_each_head<T>(p, [&](int64_t bh, Scratch<T>& scratch) {
    const Head<T> h = head_of(p, bh, q, k, v, log_gates);
    T* o = out + bh * p.L * p.dv;
    if (p.causal) {
      causal_forward_head(p, h, o, scratch);
    } else {
      full_forward_head(p, h, o, scratch);
    }
  });
}

template <class T>
void linear_attention_chunked_bwd(const LinearAttentionProblem& p, const T* q, const T* k, const T* v,
                                  const T* log_gates, const T* grad_out, T* grad_q, T* grad_k, T* grad_v,
                                  T* grad_log_gates) {
  for_each_head<T>(p, [&](int64_t bh, Scratch<T>& scratch) {
    const Head<T> h = head_of(p, bh, q, k, v, log_gates);
    const T* g = grad_out + bh * p.L * p.dv;
    T* dq = grad_q + bh * p.L * p.dk;
    T* dk = grad_k + bh * p.L * p.dk;
    T* dv = grad_v + bh * p.L * p.dv;
    if (p.causal) {
      causal_backward_head(p, h, g, dq, dk, dv, scratch);
    } else {
      full_backward_head(p, h, g, dq, dk, dv, scratch);
    }
    if (grad_log_gates != nullptr) log_gate_gradient(p, h, dq, dk, grad_log_gates + bh * p.L);
  });
}

template <class T>
void linear_attention_recurrent_fwd(const LinearAttentionProblem& p, const T* q, const T* k, const T* v,
                                    const T* log_gates, T* out) {
  const int64_t L = p.L, dk = p.dk, dv = p.dv;
  std::vector<T> state(dk * dv);
  auto update = [&](const Head<T>& h, int64_t t) {  // S = a_t S + k_t v_tᵀ
    const T gate = h.log_gates == nullptr ? T(1) : static_cast<T>(std::exp(h.log_gates[t]));
    for (int64_t i = 0; i < dk; ++i) {
      const T key = h.k[t * dk + i];
      T* row = state.data() + i * dv;
      for (int64_t j = 0; j < dv; ++j) row[j] = gate * row[j] + key * h.v[t * dv + j];
    }
  };
  auto read = [&](const Head<T>& h, int64_t t, T* o) {  // o_t = Sᵀ q_t
    std::fill(o, o + dv, T(0));
    for (int64_t i = 0; i < dk; ++i) {
      const T query = h.q[t * dk + i];
      const T* row = state.data() + i * dv;
      for (int64_t j = 0; j < dv; ++j) o[j] += query * row[j];
    }
  };
  for (int64_t bh = 0; bh < p.batch_heads; ++bh) {
    const Head<T> h = head_of(p, bh, q, k, v, log_gates);
    T* o = out + bh * L * dv;
    std::fill(state.begin(), state.end(), T(0));
    if (p.causal) {
      for (int64_t t = 0; t < L; ++t) {
        update(h, t);
        read(h, t, o + t * dv);
      }
    } else {
      for (int64_t t = 0; t < L; ++t) update(h, t);
      for (int64_t t = 0; t < L; ++t) read(h, t, o + t * dv);
    }
  }
}

#define EMBER_LINEAR_ATTENTION_INSTANTIATE(T)                                                                  \
  template void linear_attention_chunked_fwd<T>(const LinearAttentionProblem&, const T*, const T*, const T*,  \
                                                const T*, T*);                                                \
  template void linear_attention_chunked_bwd<T>(const LinearAttentionProblem&, const T*, const T*, const T*,  \
                                                const T*, const T*, T*, T*, T*, T*);                          \
  template void linear_attention_recurrent_fwd<T>(const LinearAttentionProblem&, const T*, const T*, const T*, \
                                                  const T*, T*);
EMBER_LINEAR_ATTENTION_INSTANTIATE(float)
EMBER_LINEAR_ATTENTION_INSTANTIATE(double)
#undef EMBER_LINEAR_ATTENTION_INSTANTIATE

}  // namespace ember::cpu
