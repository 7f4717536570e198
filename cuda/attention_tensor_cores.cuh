// The tensor-core (wmma) attention kernels, forward and backward: Note [CUDA attention tensor
// cores]. Included by cuda/attention.cu inside its anonymous namespace, after the CUDA-core
// kernels and the helpers they share (arena_as, dropout_factor, the mask readers, kThreads); kept
// apart so each file stays readable. Not a standalone header.
#pragma once

// ---------------------------------------------------------------- forward on tensor cores
// Note [CUDA attention tensor cores]: for bfloat16/float16 with d == dv in {64, 128} the forward
// runs Q Kᵀ and P V on tensor cores (wmma 16 × 16 × 16, fp32 accumulation): a block of 4 warps
// per 64 query rows, each warp owning 16 of them; K/V tiles of 64 keys in shared memory (16-bit,
// rows padded by 8 elements). The scores land in shared memory as fp32, where the warp's lanes
// (two per row) apply scale, masks, dropout and the online softmax, write P in the 16-bit type
// and rescale the fp32 output accumulator, which stays in shared memory: a wmma accumulator's
// element-to-row mapping is opaque, so the per-row rescale cannot be done on fragments. P is
// rounded to 16 bits for the PV product, as FlashAttention does; the row sums use the fp32
// probabilities. Other shapes and the backward use the CUDA-core kernels.
namespace wmma = nvcuda::wmma;

constexpr int kMmaRows = 64, kMmaKeys = 64, kMmaWarps = 4;

// Shared-memory layout of the tensor-core forward for head dim D (byte offsets, 128-aligned,
// so every fragment pointer is 32-byte aligned: row blocks of 16 and column blocks of 16).
template <int D> struct MmaLayout {
  static constexpr int ld_in = D + 8;             // Q, K, V (16-bit; ldm a multiple of 8)
  static constexpr int ld_scores = kMmaKeys + 4;  // fp32 scores (ldm a multiple of 4)
  static constexpr int ld_probs = kMmaKeys + 8;   // 16-bit probabilities
  static constexpr int ld_out = D + 4;            // fp32 output accumulator
  static constexpr size_t round(size_t bytes) { return (bytes + 127) / 128 * 128; }
  static constexpr size_t q = 0;
  static constexpr size_t k = q + round(size_t{kMmaRows} * ld_in * 2);
  static constexpr size_t v = k + round(size_t{kMmaKeys} * ld_in * 2);
  static constexpr size_t scores = v + round(size_t{kMmaKeys} * ld_in * 2);
  static constexpr size_t probs = scores + round(size_t{kMmaRows} * ld_scores * 4);
  static constexpr size_t out = probs + round(size_t{kMmaRows} * ld_probs * 2);
  static constexpr size_t bytes = out + round(size_t{kMmaRows} * ld_out * 4);
};

template <class T, int D>
__global__ void __launch_bounds__(kMmaWarps * 32)
    forward_mma_kernel(AttentionArgs a, const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                       T* __restrict__ out, float* __restrict__ lse) {
  using Layout = MmaLayout<D>;
  unsigned char* base = arena_as<unsigned char>();
  T* q_tile = reinterpret_cast<T*>(base + Layout::q);  // (64, D)
  T* k_tile = reinterpret_cast<T*>(base + Layout::k);  // (64, D)
  T* v_tile = reinterpret_cast<T*>(base + Layout::v);  // (64, D)
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  // This warp's 16 rows of the scores, probabilities and output accumulator.
  float* scores = reinterpret_cast<float*>(base + Layout::scores) + warp * 16 * Layout::ld_scores;
  T* probs = reinterpret_cast<T*>(base + Layout::probs) + warp * 16 * Layout::ld_probs;
  float* acc = reinterpret_cast<float*>(base + Layout::out) + warp * 16 * Layout::ld_out;
  const int r = lane / 2, half = lane % 2;  // lanes 2r and 2r + 1 serve row r, even and odd columns
  float* s_row = scores + r * Layout::ld_scores;
  T* p_row = probs + r * Layout::ld_probs;
  float* o_row = acc + r * Layout::ld_out;
  const float neg_inf = -infinity_of<float>();
  const int64_t query_blocks = (a.L + kMmaRows - 1) / kMmaRows;
  for (int64_t block = blockIdx.x; block < a.batch_heads * query_blocks; block += gridDim.x) {
    const int64_t bh = block / query_blocks;
    const int64_t i0 = (query_blocks - 1 - block % query_blocks) * kMmaRows;
    const int m = static_cast<int>(min(static_cast<int64_t>(kMmaRows), a.L - i0));
    const bool active = warp * 16 + r < m;
    const int64_t i = i0 + warp * 16 + r;
    const int64_t mask_base = a.mask != nullptr ? mask_batch_offset(a, bh) : 0;
    __syncthreads();  // the previous block's tiles are no longer read
    load_rows(q_tile, Layout::ld_in, q + (bh * a.L + i0) * D, m, kMmaRows, D);
    for (int c = half; c < D; c += 2) o_row[c] = 0.f;
    float row_max = neg_inf, row_sum = 0.f;
    const int64_t key_end = a.causal ? min(a.S, i0 + m) : a.S;
    for (int64_t j0 = 0; j0 < key_end; j0 += kMmaKeys) {
      const int n = static_cast<int>(min(static_cast<int64_t>(kMmaKeys), key_end - j0));
      const int n_row = active ? n : 0;
      __syncthreads();
      load_rows(k_tile, Layout::ld_in, k + (bh * a.S + j0) * D, n, kMmaKeys, D);
      load_rows(v_tile, Layout::ld_in, v + (bh * a.S + j0) * D, n, kMmaKeys, D);
      __syncthreads();
      for (int nb = 0; nb < kMmaKeys / 16; ++nb) {  // S (16 × 64) = Q_w K_jᵀ
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> s_frag;
        wmma::fill_fragment(s_frag, 0.f);
        for (int kk = 0; kk < D / 16; ++kk) {
          wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> q_frag;
          wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> k_frag;  // Kᵀ: K's rows are its columns
          wmma::load_matrix_sync(q_frag, q_tile + warp * 16 * Layout::ld_in + kk * 16, Layout::ld_in);
          wmma::load_matrix_sync(k_frag, k_tile + nb * 16 * Layout::ld_in + kk * 16, Layout::ld_in);
          wmma::mma_sync(s_frag, q_frag, k_frag, s_frag);
        }
        wmma::store_matrix_sync(scores + nb * 16, s_frag, Layout::ld_scores, wmma::mem_row_major);
      }
      __syncwarp();
      float tile_max = neg_inf;
      for (int c = half; c < n_row; c += 2) {
        const float s = apply_masks<T>(a, s_row[c] * static_cast<float>(a.scale), i, j0 + c, mask_base);
        s_row[c] = s;
        tile_max = s > tile_max ? s : tile_max;
      }
      tile_max = group_max(tile_max, 2);
      const float new_max = row_max > tile_max ? row_max : tile_max;
      float tile_sum = 0.f;
      for (int c = half; c < kMmaKeys; c += 2) {  // every column: the padding keys get P = 0
        float prob = 0.f;
        if (c < n_row && new_max != neg_inf) {
          prob = exp_acc(s_row[c] - new_max);
          tile_sum += prob;
          if (a.dropout_p > 0.0) prob *= dropout_factor<float>(a, bh, i, j0 + c);
        }
        p_row[c] = convert<T>(prob);
      }
      tile_sum = group_sum(tile_sum, 2);
      if (new_max != neg_inf) {
        if (new_max != row_max) {
          const float correction = row_max == neg_inf ? 0.f : exp_acc(row_max - new_max);
          row_sum *= correction;
          for (int c = half; c < D; c += 2) o_row[c] *= correction;
          row_max = new_max;
        }
        row_sum += tile_sum;
      }
      __syncwarp();
      for (int ob = 0; ob < D / 16; ++ob) {  // O_w (16 × D) += P_w V_j
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> o_frag;
        wmma::load_matrix_sync(o_frag, acc + ob * 16, Layout::ld_out, wmma::mem_row_major);
        for (int kk = 0; kk < kMmaKeys / 16; ++kk) {
          wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> p_frag;
          wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> v_frag;
          wmma::load_matrix_sync(p_frag, probs + kk * 16, Layout::ld_probs);
          wmma::load_matrix_sync(v_frag, v_tile + kk * 16 * Layout::ld_in + ob * 16, Layout::ld_in);
          wmma::mma_sync(o_frag, p_frag, v_frag, o_frag);
        }
        wmma::store_matrix_sync(acc + ob * 16, o_frag, Layout::ld_out, wmma::mem_row_major);
      }
      __syncwarp();
    }
    if (active) {
      const bool empty_row = row_sum == 0.f;
      const float inverse = empty_row ? 0.f : 1.f / row_sum;
      T* o = out + (bh * a.L + i) * D;
      for (int c = half; c < D; c += 2) o[c] = convert<T>(o_row[c] * inverse);
      if (half == 0) lse[bh * a.L + i] = empty_row ? infinity_of<float>() : row_max + log_acc(row_sum);
    }
  }
}

// ---------------------------------------------------------------- backward on tensor cores
// Note [CUDA attention tensor cores], backward: the CUDA-core backward's two kernels (a block per
// 64 queries owns dQ, a block per 64 keys owns dK/dV), with the five products on wmma. Each warp
// owns 16 rows: S (or Sᵀ) and dP (or dPᵀ) go to fp32 shared memory, the lanes (two per row) form
// dS = P ∘ (dP∘Z - D) (and P∘Z) and round them to 16 bits, and dQ/dK/dV accumulate in fp32 shared
// memory. dS and P∘Z are rounded to 16 bits for their products, as in FlashAttention-2.
template <int D> struct MmaBackwardLayout {
  static constexpr int ld_in = D + 8, ld_scores = kMmaKeys + 4, ld_probs = kMmaKeys + 8, ld_acc = D + 4;
  static constexpr size_t round(size_t bytes) { return (bytes + 127) / 128 * 128; }
  static constexpr size_t in_tile = round(size_t{64} * ld_in * 2);          // 64 rows of a 16-bit input
  static constexpr size_t scores_tile = round(size_t{64} * ld_scores * 4);  // (64, 64) fp32
  static constexpr size_t probs_tile = round(size_t{64} * ld_probs * 2);    // (64, 64) 16-bit
  static constexpr size_t acc_tile = round(size_t{64} * ld_acc * 4);        // (64, D) fp32
  // Four input tiles, two score tiles, two probability tiles, two accumulators, lse and delta.
  static constexpr size_t scores = 4 * in_tile;
  static constexpr size_t probs = scores + 2 * scores_tile;
  static constexpr size_t acc = probs + 2 * probs_tile;
  static constexpr size_t vectors = acc + 2 * acc_tile;
  static constexpr size_t bytes = vectors + round(2 * 64 * 4);
};

// out (16 × 64, fp32, row stride ld_scores) = A (16 rows of a, D wide) · B (64 rows of b)ᵀ.
template <class T, int D> __device__ void warp_product_abt(float* out, const T* a_rows, const T* b_rows) {
  using Layout = MmaBackwardLayout<D>;
  for (int nb = 0; nb < kMmaKeys / 16; ++nb) {
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> c_frag;
    wmma::fill_fragment(c_frag, 0.f);
    for (int kk = 0; kk < D / 16; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a_frag;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b_frag;
      wmma::load_matrix_sync(a_frag, a_rows + kk * 16, Layout::ld_in);
      wmma::load_matrix_sync(b_frag, b_rows + nb * 16 * Layout::ld_in + kk * 16, Layout::ld_in);
      wmma::mma_sync(c_frag, a_frag, b_frag, c_frag);
    }
    wmma::store_matrix_sync(out + nb * 16, c_frag, Layout::ld_scores, wmma::mem_row_major);
  }
}

// acc (16 × D, fp32, row stride ld_acc) += P (16 × 64, 16-bit, ld_probs) · B (64 rows of b, D wide).
template <class T, int D> __device__ void warp_accumulate_pb(float* acc, const T* p, const T* b_rows) {
  using Layout = MmaBackwardLayout<D>;
  for (int ob = 0; ob < D / 16; ++ob) {
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> c_frag;
    wmma::load_matrix_sync(c_frag, acc + ob * 16, Layout::ld_acc, wmma::mem_row_major);
    for (int kk = 0; kk < kMmaKeys / 16; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a_frag;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> b_frag;
      wmma::load_matrix_sync(a_frag, p + kk * 16, Layout::ld_probs);
      wmma::load_matrix_sync(b_frag, b_rows + kk * 16 * Layout::ld_in + ob * 16, Layout::ld_in);
      wmma::mma_sync(c_frag, a_frag, b_frag, c_frag);
    }
    wmma::store_matrix_sync(acc + ob * 16, c_frag, Layout::ld_acc, wmma::mem_row_major);
  }
}

template <class T, int D>
__global__ void __launch_bounds__(kMmaWarps * 32)
    grad_query_mma_kernel(AttentionArgs a, const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                          const T* __restrict__ grad_out, const float* __restrict__ lse,
                          const float* __restrict__ delta, T* __restrict__ grad_q) {
  using Layout = MmaBackwardLayout<D>;
  unsigned char* base = arena_as<unsigned char>();
  T* q_tile = reinterpret_cast<T*>(base);
  T* do_tile = reinterpret_cast<T*>(base + Layout::in_tile);
  T* k_tile = reinterpret_cast<T*>(base + 2 * Layout::in_tile);
  T* v_tile = reinterpret_cast<T*>(base + 3 * Layout::in_tile);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  float* scores = reinterpret_cast<float*>(base + Layout::scores) + warp * 16 * Layout::ld_scores;
  float* grad_probs = reinterpret_cast<float*>(base + Layout::scores + Layout::scores_tile) + warp * 16 * Layout::ld_scores;
  T* grad_scores = reinterpret_cast<T*>(base + Layout::probs) + warp * 16 * Layout::ld_probs;
  float* acc = reinterpret_cast<float*>(base + Layout::acc) + warp * 16 * Layout::ld_acc;
  const int r = lane / 2, half = lane % 2;
  const int64_t query_blocks = (a.L + kMmaRows - 1) / kMmaRows;
  for (int64_t block = blockIdx.x; block < a.batch_heads * query_blocks; block += gridDim.x) {
    const int64_t bh = block / query_blocks;
    const int64_t i0 = (query_blocks - 1 - block % query_blocks) * kMmaRows;
    const int m = static_cast<int>(min(static_cast<int64_t>(kMmaRows), a.L - i0));
    const bool active = warp * 16 + r < m;
    const int64_t i = i0 + warp * 16 + r;
    const int64_t mask_base = a.mask != nullptr ? mask_batch_offset(a, bh) : 0;
    const float row_lse = active ? lse[bh * a.L + i] : 0.f;
    const float row_delta = active ? delta[bh * a.L + i] : 0.f;
    __syncthreads();
    load_rows(q_tile, Layout::ld_in, q + (bh * a.L + i0) * D, m, kMmaRows, D);
    load_rows(do_tile, Layout::ld_in, grad_out + (bh * a.L + i0) * D, m, kMmaRows, D);
    for (int c = half; c < D; c += 2) acc[r * Layout::ld_acc + c] = 0.f;
    const int64_t key_end = a.causal ? min(a.S, i0 + m) : a.S;
    for (int64_t j0 = 0; j0 < key_end; j0 += kMmaKeys) {
      const int n = static_cast<int>(min(static_cast<int64_t>(kMmaKeys), key_end - j0));
      const int n_row = active ? n : 0;
      __syncthreads();
      load_rows(k_tile, Layout::ld_in, k + (bh * a.S + j0) * D, n, kMmaKeys, D);
      load_rows(v_tile, Layout::ld_in, v + (bh * a.S + j0) * D, n, kMmaKeys, D);
      __syncthreads();
      warp_product_abt<T, D>(scores, q_tile + warp * 16 * Layout::ld_in, k_tile);       // S = Q Kᵀ
      warp_product_abt<T, D>(grad_probs, do_tile + warp * 16 * Layout::ld_in, v_tile);  // dP = dO Vᵀ
      __syncwarp();
      for (int c = half; c < kMmaKeys; c += 2) {
        float grad_score = 0.f;
        if (c < n_row) {
          const float s = apply_masks<T>(a, scores[r * Layout::ld_scores + c] * static_cast<float>(a.scale), i, j0 + c,
                                         mask_base);
          const float prob = exp_acc(s - row_lse);
          float grad_prob = grad_probs[r * Layout::ld_scores + c];
          if (a.dropout_p > 0.0) grad_prob *= dropout_factor<float>(a, bh, i, j0 + c);
          grad_score = prob * (grad_prob - row_delta);
        }
        grad_scores[r * Layout::ld_probs + c] = convert<T>(grad_score);
      }
      __syncwarp();
      warp_accumulate_pb<T, D>(acc, grad_scores, k_tile);  // dQ += dS K
      __syncwarp();
    }
    if (active) {
      T* dq = grad_q + (bh * a.L + i) * D;
      for (int c = half; c < D; c += 2) dq[c] = convert<T>(acc[r * Layout::ld_acc + c] * static_cast<float>(a.scale));
    }
  }
}

template <class T, int D>
__global__ void __launch_bounds__(kMmaWarps * 32)
    grad_key_value_mma_kernel(AttentionArgs a, const T* __restrict__ q, const T* __restrict__ k,
                              const T* __restrict__ v, const T* __restrict__ grad_out, const float* __restrict__ lse,
                              const float* __restrict__ delta, T* __restrict__ grad_k, T* __restrict__ grad_v,
                              T* __restrict__ grad_scores_out) {
  using Layout = MmaBackwardLayout<D>;
  unsigned char* base = arena_as<unsigned char>();
  T* k_tile = reinterpret_cast<T*>(base);
  T* v_tile = reinterpret_cast<T*>(base + Layout::in_tile);
  T* q_tile = reinterpret_cast<T*>(base + 2 * Layout::in_tile);
  T* do_tile = reinterpret_cast<T*>(base + 3 * Layout::in_tile);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  // Key-major tiles of this warp's 16 keys against the 64 queries of the current query tile.
  float* scores_t = reinterpret_cast<float*>(base + Layout::scores) + warp * 16 * Layout::ld_scores;
  float* grad_probs_t =
      reinterpret_cast<float*>(base + Layout::scores + Layout::scores_tile) + warp * 16 * Layout::ld_scores;
  T* kept_probs_t = reinterpret_cast<T*>(base + Layout::probs) + warp * 16 * Layout::ld_probs;
  T* grad_scores_t = reinterpret_cast<T*>(base + Layout::probs + Layout::probs_tile) + warp * 16 * Layout::ld_probs;
  float* dk_acc = reinterpret_cast<float*>(base + Layout::acc) + warp * 16 * Layout::ld_acc;
  float* dv_acc = reinterpret_cast<float*>(base + Layout::acc + Layout::acc_tile) + warp * 16 * Layout::ld_acc;
  float* lse_tile = reinterpret_cast<float*>(base + Layout::vectors);
  float* delta_tile = lse_tile + 64;
  const int r = lane / 2, half = lane % 2;  // r: the key row this lane pair serves
  const int64_t key_blocks = (a.S + kMmaKeys - 1) / kMmaKeys;
  for (int64_t block = blockIdx.x; block < a.batch_heads * key_blocks; block += gridDim.x) {
    const int64_t bh = block / key_blocks;
    const int64_t j0 = (block % key_blocks) * kMmaKeys;
    const int n = static_cast<int>(min(static_cast<int64_t>(kMmaKeys), a.S - j0));
    const bool active = warp * 16 + r < n;
    const int64_t j = j0 + warp * 16 + r;
    const int64_t mask_base = a.mask != nullptr ? mask_batch_offset(a, bh) : 0;
    __syncthreads();
    load_rows(k_tile, Layout::ld_in, k + (bh * a.S + j0) * D, n, kMmaKeys, D);
    load_rows(v_tile, Layout::ld_in, v + (bh * a.S + j0) * D, n, kMmaKeys, D);
    for (int c = half; c < D; c += 2) {
      dk_acc[r * Layout::ld_acc + c] = 0.f;
      dv_acc[r * Layout::ld_acc + c] = 0.f;
    }
    const int64_t query_begin = a.causal ? j0 : 0;
    for (int64_t i0 = query_begin; i0 < a.L; i0 += kMmaRows) {
      const int m = static_cast<int>(min(static_cast<int64_t>(kMmaRows), a.L - i0));
      const int m_row = active ? m : 0;
      __syncthreads();
      load_rows(q_tile, Layout::ld_in, q + (bh * a.L + i0) * D, m, kMmaRows, D);
      load_rows(do_tile, Layout::ld_in, grad_out + (bh * a.L + i0) * D, m, kMmaRows, D);
      for (int idx = threadIdx.x; idx < kMmaRows; idx += blockDim.x) {
        lse_tile[idx] = idx < m ? lse[bh * a.L + i0 + idx] : 0.f;
        delta_tile[idx] = idx < m ? delta[bh * a.L + i0 + idx] : 0.f;
      }
      __syncthreads();
      warp_product_abt<T, D>(scores_t, k_tile + warp * 16 * Layout::ld_in, q_tile);       // Sᵀ = K Qᵀ
      warp_product_abt<T, D>(grad_probs_t, v_tile + warp * 16 * Layout::ld_in, do_tile);  // dPᵀ = V dOᵀ
      __syncwarp();
      for (int c = half; c < kMmaRows; c += 2) {  // c: the query within the tile
        float kept = 0.f, grad_score = 0.f;
        if (c < m_row) {
          const int64_t i = i0 + c;
          const float s = apply_masks<T>(a, scores_t[r * Layout::ld_scores + c] * static_cast<float>(a.scale), i, j,
                                         mask_base);
          const float prob = exp_acc(s - lse_tile[c]);
          const float z = a.dropout_p > 0.0 ? dropout_factor<float>(a, bh, i, j) : 1.f;
          kept = prob * z;
          grad_score = prob * (grad_probs_t[r * Layout::ld_scores + c] * z - delta_tile[c]);
          if (grad_scores_out != nullptr) grad_scores_out[(bh * a.L + i) * a.S + j] = convert<T>(grad_score);
        }
        kept_probs_t[r * Layout::ld_probs + c] = convert<T>(kept);
        grad_scores_t[r * Layout::ld_probs + c] = convert<T>(grad_score);
      }
      __syncwarp();
      warp_accumulate_pb<T, D>(dv_acc, kept_probs_t, do_tile);  // dV += (P∘Z)ᵀ dO
      warp_accumulate_pb<T, D>(dk_acc, grad_scores_t, q_tile);  // dK += dSᵀ Q
      __syncwarp();
    }
    if (active) {
      T* dk = grad_k + (bh * a.S + j) * D;
      T* dvv = grad_v + (bh * a.S + j) * D;
      for (int c = half; c < D; c += 2) {
        dk[c] = convert<T>(dk_acc[r * Layout::ld_acc + c] * static_cast<float>(a.scale));
        dvv[c] = convert<T>(dv_acc[r * Layout::ld_acc + c]);
      }
    }
  }
}
