// The chunked linear-attention core on CUDA (launchers declared in cuda/linear_attention_launch.h):
// o_t = Σ_s (q_t · k_s) g(t, s) v_s by chunks of C steps, as ops/cpu/linear_attention.cpp:
//   O_c = (Q_c K_cᵀ ⊙ M) V_c + diag(e^b) Q_c S          M[i, j] = e^(b_i - b_j) [j <= i]
//   S  <- e^(b_last) S + (diag(w) K_c)ᵀ V_c              w_j = e^(b_last - b_j)
// with b the chunk-local cumulative log gate (Note [Chunk-local log decay] there: no exponent is
// ever positive). Backward: Note [Linear attention backward] there (a forward sweep recomputing
// S for the inter-chunk part of dQ, then a reverse sweep carrying dS).
//
// Note [CUDA linear attention blocks]: one block of 256 threads scans the chunks of one head in
// order; the chunk's Q, K, V (and dO) rows, the (C × C) score tiles and the state S (dk × dv,
// or the forward's column slice of it) live in shared memory, and every product is a loop of the
// block's threads over the output elements (each thread owns its elements: no atomics, the
// result is deterministic). The forward also splits dv into column slices of up to 32 (the
// output's columns depend only on V's and S's same columns), giving BH · ⌈dv/32⌉ blocks; the
// backward needs all of dv for dQ and dK, so it runs one block per head. C is min(chunk, 64),
// halved until the tiles fit the shared memory (the result depends on C by rounding only).
// float32 and float64 (the CPU's dtypes); arithmetic in the input type.
#include "cuda/linear_attention_launch.h"
#include "cuda/smem_tiles.cuh"

namespace ember::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kMaxChunk = 64;
constexpr int kColumnSlice = 32;
constexpr const char* kOp = "linear_attention";

template <class A> __device__ __forceinline__ A dot(const A* x, const A* y, int n) {
  A s = 0;
  for (int i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

// The decay of one chunk in shared memory: b (chunk-local cumulative log gates, summed in double
// as on the CPU), e^(b_i), e^(min(b_last - b_i, 0)) and e^(b_last).
template <class A> struct ChunkDecay {
  A* b;
  A* query_scale;
  A* key_scale;
  A* across;  // one element
  bool decayed;
  __device__ A query(int i) const { return decayed ? query_scale[i] : A(1); }
  __device__ A key(int j) const { return decayed ? key_scale[j] : A(1); }
  __device__ A carry() const { return decayed ? *across : A(1); }
  // The intra-chunk mask M[i, j] (0 above the diagonal, selected, not multiplied).
  __device__ A mask(int i, int j) const {
    if (j > i) return A(0);
    if (!decayed) return A(1);
    const A exponent = b[i] - b[j];
    return exp_acc(exponent < A(0) ? exponent : A(0));
  }
};

template <class A> __device__ ChunkDecay<A> decay_in(A* base, int chunk, bool decayed) {
  return {base, base + chunk, base + 2 * chunk, base + 3 * chunk, decayed};
}

// Fills the decay vectors of chunk [t0, t0 + m) (gates points at t0; null: no decay). Ends with
// a block-wide barrier.
template <class A>
__device__ void compute_decay(const ChunkDecay<A>& d, const A* gates, int m) {
  if (d.decayed) {
    if (threadIdx.x == 0) {
      double running = 0;
      for (int i = 0; i < m; ++i) d.b[i] = static_cast<A>(running += static_cast<double>(gates[i]));
    }
    __syncthreads();
    const A last = d.b[m - 1];
    for (int i = threadIdx.x; i < m; i += blockDim.x) {
      d.query_scale[i] = exp_acc(d.b[i]);
      const A to_end = last - d.b[i];
      d.key_scale[i] = exp_acc(to_end < A(0) ? to_end : A(0));
    }
    if (threadIdx.x == 0) *d.across = exp_acc(last);
  }
  __syncthreads();
}

// state[x, c] (dk × width) = carry · state[x, c] + Σ_j key(j) · k[j, x] · v[j, c], or without the
// old state when `fresh` (it may hold anything then). Each thread owns its (x, c) elements.
template <class A>
__device__ void update_state(A* state, int dk, int width, const A* k_tile, int ldk, const A* v_tile, int ldv, int m,
                             const ChunkDecay<A>& d, bool fresh) {
  for (int idx = threadIdx.x; idx < dk * width; idx += blockDim.x) {
    const int x = idx / width, c = idx % width;
    A sum = 0;
    for (int j = 0; j < m; ++j) sum += d.key(j) * k_tile[j * ldk + x] * v_tile[j * ldv + c];
    state[idx] = fresh ? sum : d.carry() * state[idx] + sum;
  }
}

// out[i, c] = Σ_j a_tile[i, j] · b_tile[j, c] for the (m × width) block, into global rows of
// stride `out_stride` (accumulating when `accumulate`); a_tile (m × inner, lda), b_tile (inner × width, ldb).
template <class A, class T>
__device__ void tile_product(T* out, int64_t out_stride, int m, int width, int inner, const A* a_tile, int lda,
                             const A* b_tile, int ldb, bool accumulate) {
  for (int idx = threadIdx.x; idx < m * width; idx += blockDim.x) {
    const int i = idx / width, c = idx % width;
    A sum = 0;
    for (int j = 0; j < inner; ++j) sum += a_tile[i * lda + j] * b_tile[j * ldb + c];
    T* o = out + i * out_stride + c;
    *o = accumulate ? *o + sum : sum;
  }
}

// ---------------------------------------------------------------- forward
// A block per (head, column slice [c0, c0 + width)) of v and out.
template <class T>
__global__ void __launch_bounds__(kThreads)
    forward_kernel(LinearAttentionArgs a, int chunk, int slice, const T* __restrict__ q, const T* __restrict__ k,
                   const T* __restrict__ v, const T* __restrict__ log_gates, T* __restrict__ out) {
  using A = T;
  const int dk = static_cast<int>(a.dk), dv = static_cast<int>(a.dv);
  const int ldk = dk + 1, ldw = slice + 1, ldc = chunk + 1;
  A* q_tile = arena_as<A>();            // (chunk, dk)
  A* k_tile = q_tile + chunk * ldk;     // (chunk, dk)
  A* v_tile = k_tile + chunk * ldk;     // (chunk, slice)
  A* scores = v_tile + chunk * ldw;     // (chunk, chunk)
  A* state = scores + chunk * ldc;      // (dk, width), row stride width
  const ChunkDecay<A> d = decay_in(state + dk * slice, chunk, log_gates != nullptr);
  const int64_t slices = (dv + slice - 1) / slice;
  for (int64_t block = blockIdx.x; block < a.batch_heads * slices; block += gridDim.x) {
    const int64_t bh = block / slices;
    const int c0 = static_cast<int>(block % slices) * slice;
    const int width = min(slice, dv - c0);
    const T* qh = q + bh * a.L * dk;
    const T* kh = k + bh * a.L * dk;
    const T* vh = v + bh * a.L * dv + c0;
    T* oh = out + bh * a.L * dv + c0;
    const T* gates = log_gates != nullptr ? log_gates + bh * a.L : nullptr;
    if (a.causal) {
      for (int64_t t0 = 0; t0 < a.L; t0 += chunk) {
        const int m = static_cast<int>(min(static_cast<int64_t>(chunk), a.L - t0));
        __syncthreads();  // the previous chunk's tiles are no longer read
        load_rows(q_tile, ldk, qh + t0 * dk, m, m, dk);
        load_rows(k_tile, ldk, kh + t0 * dk, m, m, dk);
        load_block(v_tile, ldw, vh + t0 * dv, dv, m, m, width);
        compute_decay(d, gates != nullptr ? gates + t0 : nullptr, m);  // ends with a barrier
        for (int idx = threadIdx.x; idx < m * m; idx += blockDim.x) {  // Q_c K_cᵀ ⊙ M
          const int i = idx / m, j = idx % m;
          scores[i * ldc + j] = j <= i ? dot(q_tile + i * ldk, k_tile + j * ldk, dk) * d.mask(i, j) : A(0);
        }
        __syncthreads();
        for (int idx = threadIdx.x; idx < m * width; idx += blockDim.x) {
          const int i = idx / width, c = idx % width;
          A sum = 0;
          for (int j = 0; j <= i; ++j) sum += scores[i * ldc + j] * v_tile[j * ldw + c];
          if (t0 > 0) {  // + e^(b_i) q_i · S[:, c]
            A from_state = 0;
            for (int x = 0; x < dk; ++x) from_state += q_tile[i * ldk + x] * state[x * width + c];
            sum += d.query(i) * from_state;
          }
          oh[(t0 + i) * dv + c] = sum;
        }
        __syncthreads();  // S is read above, updated below
        if (t0 + m < a.L) update_state(state, dk, width, k_tile, ldk, v_tile, ldw, m, d, t0 == 0);
      }
    } else {  // O = Q (Kᵀ V): the state over the whole sequence, then every row reads it
      for (int64_t t0 = 0; t0 < a.L; t0 += chunk) {
        const int m = static_cast<int>(min(static_cast<int64_t>(chunk), a.L - t0));
        __syncthreads();
        load_rows(k_tile, ldk, kh + t0 * dk, m, m, dk);
        load_block(v_tile, ldw, vh + t0 * dv, dv, m, m, width);
        __syncthreads();
        update_state(state, dk, width, k_tile, ldk, v_tile, ldw, m, d, t0 == 0);
      }
      for (int64_t t0 = 0; t0 < a.L; t0 += chunk) {
        const int m = static_cast<int>(min(static_cast<int64_t>(chunk), a.L - t0));
        __syncthreads();
        load_rows(q_tile, ldk, qh + t0 * dk, m, m, dk);
        __syncthreads();
        tile_product(oh + t0 * dv, dv, m, width, dk, q_tile, ldk, state, width, false);
      }
    }
  }
}

// ---------------------------------------------------------------- backward
// A block per head (Note [CUDA linear attention blocks]).
template <class T>
__global__ void __launch_bounds__(kThreads)
    backward_kernel(LinearAttentionArgs a, int chunk, const T* __restrict__ q, const T* __restrict__ k,
                    const T* __restrict__ v, const T* __restrict__ log_gates, const T* __restrict__ grad_out,
                    T* __restrict__ grad_q, T* __restrict__ grad_k, T* __restrict__ grad_v) {
  using A = T;
  const int dk = static_cast<int>(a.dk), dv = static_cast<int>(a.dv);
  const int ldk = dk + 1, ldv = dv + 1, ldc = chunk + 1;
  A* q_tile = arena_as<A>();              // (chunk, dk)
  A* k_tile = q_tile + chunk * ldk;       // (chunk, dk)
  A* v_tile = k_tile + chunk * ldk;       // (chunk, dv)
  A* do_tile = v_tile + chunk * ldv;      // (chunk, dv)
  A* scores = do_tile + chunk * ldv;      // (chunk, chunk): Q_c K_cᵀ ⊙ M
  A* grad_scores = scores + chunk * ldc;  // (chunk, chunk): dO_c V_cᵀ ⊙ M
  A* state = grad_scores + chunk * ldc;   // (dk, dv): S going forward, dS going backward
  const ChunkDecay<A> d = decay_in(state + dk * dv, chunk, log_gates != nullptr);
  for (int64_t bh = blockIdx.x; bh < a.batch_heads; bh += gridDim.x) {
    const T* qh = q + bh * a.L * dk;
    const T* kh = k + bh * a.L * dk;
    const T* vh = v + bh * a.L * dv;
    const T* gh = grad_out + bh * a.L * dv;
    T* dqh = grad_q + bh * a.L * dk;
    T* dkh = grad_k + bh * a.L * dk;
    T* dvh = grad_v + bh * a.L * dv;
    const T* gates = log_gates != nullptr ? log_gates + bh * a.L : nullptr;
    if (!a.causal) {
      // S = Kᵀ V; dQ = dO Sᵀ; dS = Qᵀ dO; dK = V dSᵀ; dV = K dS (one state buffer, reused).
      for (int64_t t0 = 0; t0 < a.L; t0 += chunk) {
        const int m = static_cast<int>(min(static_cast<int64_t>(chunk), a.L - t0));
        __syncthreads();
        load_rows(k_tile, ldk, kh + t0 * dk, m, m, dk);
        load_rows(v_tile, ldv, vh + t0 * dv, m, m, dv);
        __syncthreads();
        update_state(state, dk, dv, k_tile, ldk, v_tile, ldv, m, d, t0 == 0);
      }
      for (int64_t t0 = 0; t0 < a.L; t0 += chunk) {
        const int m = static_cast<int>(min(static_cast<int64_t>(chunk), a.L - t0));
        __syncthreads();
        load_rows(do_tile, ldv, gh + t0 * dv, m, m, dv);
        __syncthreads();
        for (int idx = threadIdx.x; idx < m * dk; idx += blockDim.x) {  // dq[i, x] = dO_i · S[x, :]
          const int i = idx / dk, x = idx % dk;
          dqh[(t0 + i) * dk + x] = dot(do_tile + i * ldv, state + x * dv, dv);
        }
      }
      for (int64_t t0 = 0; t0 < a.L; t0 += chunk) {  // dS = Qᵀ dO (update_state with k := q, v := dO)
        const int m = static_cast<int>(min(static_cast<int64_t>(chunk), a.L - t0));
        __syncthreads();
        load_rows(q_tile, ldk, qh + t0 * dk, m, m, dk);
        load_rows(do_tile, ldv, gh + t0 * dv, m, m, dv);
        __syncthreads();
        update_state(state, dk, dv, q_tile, ldk, do_tile, ldv, m, d, t0 == 0);
      }
      for (int64_t t0 = 0; t0 < a.L; t0 += chunk) {
        const int m = static_cast<int>(min(static_cast<int64_t>(chunk), a.L - t0));
        __syncthreads();
        load_rows(k_tile, ldk, kh + t0 * dk, m, m, dk);
        load_rows(v_tile, ldv, vh + t0 * dv, m, m, dv);
        __syncthreads();
        for (int idx = threadIdx.x; idx < m * dk; idx += blockDim.x) {  // dk[j, x] = v_j · dS[x, :]
          const int j = idx / dk, x = idx % dk;
          dkh[(t0 + j) * dk + x] = dot(v_tile + j * ldv, state + x * dv, dv);
        }
        tile_product(dvh + t0 * dv, dv, m, dv, dk, k_tile, ldk, state, dv, false);  // dv = K dS
      }
      continue;
    }
    // Sweep 1, forward in time: dQ_c = diag(e^b) dO_c S_nᵀ, S_n recomputed.
    for (int64_t t0 = 0; t0 < a.L; t0 += chunk) {
      const int m = static_cast<int>(min(static_cast<int64_t>(chunk), a.L - t0));
      __syncthreads();
      load_rows(k_tile, ldk, kh + t0 * dk, m, m, dk);
      load_rows(v_tile, ldv, vh + t0 * dv, m, m, dv);
      load_rows(do_tile, ldv, gh + t0 * dv, m, m, dv);
      compute_decay(d, gates != nullptr ? gates + t0 : nullptr, m);
      for (int idx = threadIdx.x; idx < m * dk; idx += blockDim.x) {
        const int i = idx / dk, x = idx % dk;
        dqh[(t0 + i) * dk + x] = t0 > 0 ? d.query(i) * dot(do_tile + i * ldv, state + x * dv, dv) : A(0);
      }
      __syncthreads();
      if (t0 + m < a.L) update_state(state, dk, dv, k_tile, ldk, v_tile, ldv, m, d, t0 == 0);
    }
    // Sweep 2, backward in time, carrying dS (the gradient of the state leaving the chunk).
    __syncthreads();
    fill_tile(state, dk * dv, A(0));
    const int64_t last_t0 = ((a.L - 1) / chunk) * chunk;
    for (int64_t t0 = last_t0; t0 >= 0; t0 -= chunk) {
      const int m = static_cast<int>(min(static_cast<int64_t>(chunk), a.L - t0));
      const bool later = t0 + m < a.L;  // dS_{n+1} is non-zero: this chunk reaches later ones
      __syncthreads();
      load_rows(q_tile, ldk, qh + t0 * dk, m, m, dk);
      load_rows(k_tile, ldk, kh + t0 * dk, m, m, dk);
      load_rows(v_tile, ldv, vh + t0 * dv, m, m, dv);
      load_rows(do_tile, ldv, gh + t0 * dv, m, m, dv);
      compute_decay(d, gates != nullptr ? gates + t0 : nullptr, m);
      for (int idx = threadIdx.x; idx < m * m; idx += blockDim.x) {
        const int i = idx / m, j = idx % m;
        const A factor = d.mask(i, j);
        scores[i * ldc + j] = j <= i ? dot(q_tile + i * ldk, k_tile + j * ldk, dk) * factor : A(0);
        grad_scores[i * ldc + j] = j <= i ? dot(do_tile + i * ldv, v_tile + j * ldv, dv) * factor : A(0);
      }
      __syncthreads();
      // dQ_c += (dO V ⊙ M) K_c (on top of sweep 1's inter-chunk part)
      tile_product(dqh + t0 * dk, dk, m, dk, m, grad_scores, ldc, k_tile, ldk, true);
      for (int idx = threadIdx.x; idx < m * dk; idx += blockDim.x) {  // dK_c = Gᵀ Q_c + diag(w) V_c dSᵀ
        const int j = idx / dk, x = idx % dk;
        A sum = 0;
        for (int i = j; i < m; ++i) sum += grad_scores[i * ldc + j] * q_tile[i * ldk + x];
        if (later) sum += d.key(j) * dot(v_tile + j * ldv, state + x * dv, dv);
        dkh[(t0 + j) * dk + x] = sum;
      }
      for (int idx = threadIdx.x; idx < m * dv; idx += blockDim.x) {  // dV_c = Aᵀ dO_c + diag(w) K_c dS
        const int j = idx / dv, c = idx % dv;
        A sum = 0;
        for (int i = j; i < m; ++i) sum += scores[i * ldc + j] * do_tile[i * ldv + c];
        if (later) {
          A from_state = 0;
          for (int x = 0; x < dk; ++x) from_state += k_tile[j * ldk + x] * state[x * dv + c];
          sum += d.key(j) * from_state;
        }
        dvh[(t0 + j) * dv + c] = sum;
      }
      __syncthreads();  // dS is read above, updated below
      if (t0 > 0) {  // dS_n = e^(b_last) dS_{n+1} + (diag(e^b) Q_c)ᵀ dO_c
        for (int idx = threadIdx.x; idx < dk * dv; idx += blockDim.x) {
          const int x = idx / dv, c = idx % dv;
          A sum = 0;
          for (int i = 0; i < m; ++i) sum += d.query(i) * q_tile[i * ldk + x] * do_tile[i * ldv + c];
          state[idx] = (later ? d.carry() * state[idx] : A(0)) + sum;
        }
      }
    }
  }
}

// ∂loss/∂log a_r = Σ_{t >= r} (q_t · dq_t - k_t · dk_t) (ops/cpu/linear_attention.cpp,
// log_gate_gradient): a block per head; the dot products in parallel, the reverse running sum
// (in double, as on the CPU) by one thread over 256 steps at a time.
template <class T>
__global__ void __launch_bounds__(kThreads)
    log_gate_grad_kernel(LinearAttentionArgs a, const T* __restrict__ q, const T* __restrict__ k,
                         const T* __restrict__ grad_q, const T* __restrict__ grad_k, T* __restrict__ grad_log_gates) {
  __shared__ double partial[kThreads];
  const int dk = static_cast<int>(a.dk);
  for (int64_t bh = blockIdx.x; bh < a.batch_heads; bh += gridDim.x) {
    double running = 0;  // meaningful in thread 0 only
    const int64_t last_t0 = ((a.L - 1) / kThreads) * kThreads;
    for (int64_t t0 = last_t0; t0 >= 0; t0 -= kThreads) {
      const int64_t t = t0 + threadIdx.x;
      T dc = 0;
      if (t < a.L) {
        const int64_t row = (bh * a.L + t) * dk;
        for (int x = 0; x < dk; ++x) dc += q[row + x] * grad_q[row + x] - k[row + x] * grad_k[row + x];
      }
      __syncthreads();  // the previous round's sums are written out
      partial[threadIdx.x] = static_cast<double>(dc);
      __syncthreads();
      if (threadIdx.x == 0) {
        const int count = static_cast<int>(min(static_cast<int64_t>(kThreads), a.L - t0));
        for (int r = count - 1; r >= 0; --r) partial[r] = (running += partial[r]);
      }
      __syncthreads();
      if (t < a.L) grad_log_gates[bh * a.L + t] = static_cast<T>(partial[threadIdx.x]);
    }
  }
}

// ---------------------------------------------------------------- launch plans
size_t forward_bytes(const LinearAttentionArgs& a, int chunk, int slice, size_t element) {
  const size_t c = static_cast<size_t>(chunk), dk = static_cast<size_t>(a.dk);
  return element * (2 * c * (dk + 1) + c * static_cast<size_t>(slice + 1) + c * (c + 1) + dk * static_cast<size_t>(slice) +
                    3 * c + 1);
}
size_t backward_bytes(const LinearAttentionArgs& a, int chunk, size_t element) {
  const size_t c = static_cast<size_t>(chunk), dk = static_cast<size_t>(a.dk), dv = static_cast<size_t>(a.dv);
  return element * (2 * c * (dk + 1) + 2 * c * (dv + 1) + 2 * c * (c + 1) + dk * dv + 3 * c + 1);
}

// The largest chunk <= min(requested, 64) whose tiles fit the shared memory.
template <class Bytes> int chunk_for(const LinearAttentionArgs& a, Bytes bytes_of) {
  const size_t limit = max_shared_memory_optin();
  int chunk = static_cast<int>(a.chunk < kMaxChunk ? (a.chunk < 1 ? 1 : a.chunk) : kMaxChunk);
  for (; chunk >= 1; chunk /= 2) {
    if (bytes_of(chunk) <= limit) return chunk;
  }
  detail::kernel_error(kOp, "head dims too large for the chunked kernel's shared-memory state (dk · dv above the "
                            "device's shared memory)");
}

unsigned grid_of(int64_t blocks) {
  constexpr int64_t kMaxBlocks = int64_t{1} << 24;  // the kernels loop over the rest
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks < kMaxBlocks ? blocks : kMaxBlocks));
}

// float32 and float64 only (the op's dtypes): no 16-bit instantiations.
template <class F> void dispatch_linear_attention(ScalarType type, F&& f) {
  switch (type) {
    case ScalarType::f32: return f.template operator()<float>();
    case ScalarType::f64: return f.template operator()<double>();
    default: break;
  }
  detail::kernel_error(kOp, "the CUDA kernel takes float32 or float64");
}

}  // namespace

void linear_attention_forward(const LinearAttentionArgs& a, ScalarType type, const void* q, const void* k,
                              const void* v, const void* log_gates, void* out, Stream stream) {
  if (a.batch_heads == 0 || a.L == 0 || a.dk == 0 || a.dv == 0) return;
  dispatch_linear_attention(type, [&]<class T>() {
    const int slice = static_cast<int>(a.dv < kColumnSlice ? a.dv : kColumnSlice);
    const int chunk = chunk_for(a, [&](int c) { return forward_bytes(a, c, slice, sizeof(T)); });
    const size_t bytes = forward_bytes(a, chunk, slice, sizeof(T));
    allow_shared_memory(forward_kernel<T>, bytes);
    const int64_t blocks = a.batch_heads * ((a.dv + slice - 1) / slice);
    forward_kernel<T><<<grid_of(blocks), kThreads, bytes, raw_stream(stream)>>>(
        a, chunk, slice, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v),
        static_cast<const T*>(log_gates), static_cast<T*>(out));
  });
  EMBER_CUDA_LAUNCH_CHECK(kOp);
}

void linear_attention_backward(const LinearAttentionArgs& a, ScalarType type, const void* q, const void* k,
                               const void* v, const void* log_gates, const void* grad_out, void* grad_q, void* grad_k,
                               void* grad_v, void* grad_log_gates, Stream stream) {
  if (a.batch_heads == 0 || a.L == 0 || a.dk == 0 || a.dv == 0) return;
  constexpr const char* op = "linear_attention_backward";
  dispatch_linear_attention(type, [&]<class T>() {
    const cudaStream_t s = raw_stream(stream);
    const int chunk = chunk_for(a, [&](int c) { return backward_bytes(a, c, sizeof(T)); });
    const size_t bytes = backward_bytes(a, chunk, sizeof(T));
    allow_shared_memory(backward_kernel<T>, bytes);
    backward_kernel<T><<<grid_of(a.batch_heads), kThreads, bytes, s>>>(
        a, chunk, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v),
        static_cast<const T*>(log_gates), static_cast<const T*>(grad_out), static_cast<T*>(grad_q),
        static_cast<T*>(grad_k), static_cast<T*>(grad_v));
    EMBER_CUDA_LAUNCH_CHECK(op);
    if (grad_log_gates != nullptr) {
      log_gate_grad_kernel<T><<<grid_of(a.batch_heads), kThreads, 0, s>>>(
          a, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(grad_q),
          static_cast<const T*>(grad_k), static_cast<T*>(grad_log_gates));
      EMBER_CUDA_LAUNCH_CHECK(op);
    }
  });
}

}  // namespace ember::cuda
