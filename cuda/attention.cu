// Fused scaled-dot-product attention on CUDA (launchers declared in cuda/attention_launch.h):
// a FlashAttention-2-style forward (a block per tile of query rows, key/value tiles streamed
// through shared memory, online softmax with running max and sum, logsumexp saved) and a
// recomputing backward (D = rowsum(dO ∘ O) first, then P = exp(S - lse) rebuilt per tile).
// Never an L × S buffer. CPU twin: ops/cpu/attention.cpp (same masks, same dropout stream).
//
// Note [CUDA attention tiles]: a block of 256 threads holds a `tile` × `tile` score tile with
// tile in {64, 32, 16} (the largest whose shared memory fits the device's opt-in limit for the
// head dims), so any d and dv work. Thread t serves tile row r = t / group, lane g = t % group
// of that row (group = 256 / tile threads, a power of two inside one warp): it computes the row's
// scores for columns g, g + group, ..., and its output columns likewise; the row's max and sum
// are reduced with shuffles inside the group. Every operand is staged in shared memory in the
// accumulation type (float for bf16/f16), rows padded by one element against bank conflicts.
// The arithmetic runs on CUDA cores (no tensor cores yet: docs/GPU.md).
//
// The backward runs two kernels instead of FlashAttention-2's one with atomics: grad_query
// (a block per query tile owns its dQ rows) and grad_key_value (a block per key tile owns its
// dK/dV rows, and writes dL/dscores when asked). Each recomputes the scores, so the backward does
// 7 tile products instead of 5, but it is deterministic and needs no float atomics.
#include <mma.h>  // wmma, used by cuda/attention_tensor_cores.cuh

#include <cstdlib>
#include <initializer_list>

#include "cuda/attention_launch.h"
#include "cuda/philox.cuh"
#include "cuda/smem_tiles.cuh"

namespace ember::cuda {

namespace {

constexpr int kThreads = 256;
constexpr const char* kOp = "scaled_dot_product_attention";

// Dropout uses the engine's Philox stream (Note [CUDA Philox] in cuda/philox.cuh).
// The dropout multiplier (0 or 1/(1-p)) of score element (bh, i, j).
template <class A>
__device__ __forceinline__ A dropout_factor(const AttentionArgs& a, int64_t bh, int64_t i, int64_t j) {
  const uint64_t counter = a.dropout_offset + static_cast<uint64_t>((bh * a.L + i) * a.S + j);
  const Philox4 bits = philox4x32(counter, a.dropout_seed);
  const double kept = a.dropout_p < 1.0 ? 1.0 / (1.0 - a.dropout_p) : 0.0;
  return uniform_from_bits(bits.v[0], bits.v[1]) >= a.dropout_p ? static_cast<A>(kept) : A(0);
}

// Offset of batch index bh in the expanded mask (row-major over its batch dims).
__device__ int64_t mask_batch_offset(const AttentionArgs& a, int64_t bh) {
  int64_t offset = 0, remaining = bh;
  for (int dim = a.mask_layout.ndim - 3; dim >= 0; --dim) {
    offset += (remaining % a.mask_layout.sizes[dim]) * a.mask_layout.strides[dim];
    remaining /= a.mask_layout.sizes[dim];
  }
  return offset;
}

// The causal and user masks on a scaled score s of element (i, j) (masked: -inf).
template <class T, class A>
__device__ __forceinline__ A apply_masks(const AttentionArgs& a, A s, int64_t i, int64_t j, int64_t mask_base) {
  if (a.causal && j > i) return -infinity_of<A>();
  if (a.mask != nullptr) {
    const int64_t rank = a.mask_layout.ndim;
    const int64_t at = mask_base + i * a.mask_layout.strides[rank - 2] + j * a.mask_layout.strides[rank - 1];
    if (a.mask_is_bool) {
      if (!static_cast<const bool*>(a.mask)[at]) s = -infinity_of<A>();
    } else {
      s += convert<A>(static_cast<const T*>(a.mask)[at]);
    }
  }
  return s;
}

// scale · q_i · k_j with the causal and user masks (masked: -inf), from shared-memory rows.
template <class T, class A>
__device__ A masked_score(const AttentionArgs& a, const A* q_row, const A* k_row, int64_t i, int64_t j,
                          int64_t mask_base) {
  if (a.causal && j > i) return -infinity_of<A>();
  A s = 0;
  const int d = static_cast<int>(a.d);
  for (int x = 0; x < d; ++x) s += q_row[x] * k_row[x];
  return apply_masks<T>(a, s * static_cast<A>(a.scale), i, j, mask_base);
}

// Reductions over the `group` lanes serving one tile row (all 32 lanes of the warp must call).
template <class A> __device__ __forceinline__ A group_max(A value, int group) {
  for (int offset = group / 2; offset > 0; offset >>= 1) {
    const A other = __shfl_xor_sync(0xffffffffu, value, offset);
    value = other > value ? other : value;
  }
  return value;
}
template <class A> __device__ __forceinline__ A group_sum(A value, int group) {
  for (int offset = group / 2; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

// ---------------------------------------------------------------- forward
template <class T>
__global__ void __launch_bounds__(kThreads)
    forward_kernel(AttentionArgs a, int tile, const T* __restrict__ q, const T* __restrict__ k,
                   const T* __restrict__ v, T* __restrict__ out, acc_t<T>* __restrict__ lse) {
  using A = acc_t<T>;
  const int d = static_cast<int>(a.d), dv = static_cast<int>(a.dv);
  const int ldq = d + 1, ldv = dv + 1, ldp = tile + 1;
  A* q_tile = arena_as<A>();        // (tile, d)
  A* k_tile = q_tile + tile * ldq;  // (tile, d)
  A* v_tile = k_tile + tile * ldq;  // (tile, dv)
  A* o_tile = v_tile + tile * ldv;  // (tile, dv): the unnormalised output
  A* p_tile = o_tile + tile * ldv;  // (tile, tile): scores, then probabilities
  const int group = blockDim.x / tile;
  const int r = threadIdx.x / group, g = threadIdx.x % group;
  A* p_row = p_tile + r * ldp;
  const A neg_inf = -infinity_of<A>();
  const int64_t query_blocks = (a.L + tile - 1) / tile;
  for (int64_t block = blockIdx.x; block < a.batch_heads * query_blocks; block += gridDim.x) {
    const int64_t bh = block / query_blocks;
    const int64_t i0 = (query_blocks - 1 - block % query_blocks) * tile;  // longest causal rows first
    const int m = static_cast<int>(min(static_cast<int64_t>(tile), a.L - i0));
    const bool active = r < m;
    const int64_t i = i0 + r;
    const int64_t mask_base = a.mask != nullptr ? mask_batch_offset(a, bh) : 0;
    __syncthreads();  // the previous block's tiles are no longer read
    load_rows(q_tile, ldq, q + (bh * a.L + i0) * d, m, tile, d);
    fill_tile(o_tile, tile * ldv, A(0));
    A row_max = neg_inf, row_sum = 0;
    const int64_t key_end = a.causal ? min(a.S, i0 + m) : a.S;
    for (int64_t j0 = 0; j0 < key_end; j0 += tile) {
      const int n = static_cast<int>(min(static_cast<int64_t>(tile), key_end - j0));
      const int n_row = active ? n : 0;
      __syncthreads();
      load_rows(k_tile, ldq, k + (bh * a.S + j0) * d, n, tile, d);
      load_rows(v_tile, ldv, v + (bh * a.S + j0) * dv, n, tile, dv);
      __syncthreads();
      A tile_max = neg_inf;
      for (int c = g; c < n_row; c += group) {
        const A s = masked_score<T>(a, q_tile + r * ldq, k_tile + c * ldq, i, j0 + c, mask_base);
        p_row[c] = s;
        tile_max = s > tile_max ? s : tile_max;
      }
      tile_max = group_max(tile_max, group);
      const A new_max = row_max > tile_max ? row_max : tile_max;
      A tile_sum = 0;
      for (int c = g; c < n_row; c += group) {
        A prob = new_max == neg_inf ? A(0) : exp_acc(p_row[c] - new_max);  // all masked so far: 0
        tile_sum += prob;  // the normaliser counts every key; only the PV product is dropped
        if (a.dropout_p > 0.0) prob *= dropout_factor<A>(a, bh, i, j0 + c);
        p_row[c] = prob;
      }
      tile_sum = group_sum(tile_sum, group);
      if (new_max != neg_inf) {
        if (new_max != row_max) {  // online softmax: rescale what was summed under the old max
          const A correction = row_max == neg_inf ? A(0) : exp_acc(row_max - new_max);
          row_sum *= correction;
          if (active)
            for (int c = g; c < dv; c += group) o_tile[r * ldv + c] *= correction;
          row_max = new_max;
        }
        row_sum += tile_sum;
      }
      __syncthreads();  // the group's probabilities are all written
      if (active) {
        for (int c = g; c < dv; c += group) {
          A acc = 0;
          for (int jj = 0; jj < n; ++jj) acc += p_row[jj] * v_tile[jj * ldv + c];
          o_tile[r * ldv + c] += acc;
        }
      }
    }
    __syncthreads();  // the output tile complete
    if (active) {
      const bool empty_row = row_sum == A(0);  // every key masked: output 0, lse +inf
      const A inverse = empty_row ? A(0) : A(1) / row_sum;
      T* o = out + (bh * a.L + i) * dv;
      for (int c = g; c < dv; c += group) o[c] = convert<T>(o_tile[r * ldv + c] * inverse);
      if (g == 0) lse[bh * a.L + i] = empty_row ? infinity_of<A>() : row_max + log_acc(row_sum);
    }
  }
}

// ---------------------------------------------------------------- backward
// delta[row] = Σ_c dO[row, c] · O[row, c]: one warp per row.
template <class T>
__global__ void delta_kernel(int64_t rows, int dv, const T* __restrict__ out, const T* __restrict__ grad_out,
                             acc_t<T>* __restrict__ delta) {
  using A = acc_t<T>;
  const int lane = threadIdx.x % 32;
  const int64_t warps = global_thread_count() / 32;
  for (int64_t row = global_thread_index() / 32; row < rows; row += warps) {
    A sum = 0;
    for (int c = lane; c < dv; c += 32) sum += convert<A>(out[row * dv + c]) * convert<A>(grad_out[row * dv + c]);
    sum = warp_sum(sum);
    if (lane == 0) delta[row] = sum;
  }
}

// dQ = scale · Σ_j dS K_j with dS = P ∘ (dP∘Z - D), dP = dO Vᵀ: a block per query tile.
template <class T>
__global__ void __launch_bounds__(kThreads)
    grad_query_kernel(AttentionArgs a, int tile, const T* __restrict__ q, const T* __restrict__ k,
                      const T* __restrict__ v, const T* __restrict__ grad_out, const acc_t<T>* __restrict__ lse,
                      const acc_t<T>* __restrict__ delta, T* __restrict__ grad_q) {
  using A = acc_t<T>;
  const int d = static_cast<int>(a.d), dv = static_cast<int>(a.dv);
  const int ldq = d + 1, ldv = dv + 1, ldp = tile + 1;
  A* q_tile = arena_as<A>();         // (tile, d)
  A* do_tile = q_tile + tile * ldq;  // (tile, dv)
  A* dq_tile = do_tile + tile * ldv; // (tile, d)
  A* k_tile = dq_tile + tile * ldq;  // (tile, d)
  A* v_tile = k_tile + tile * ldq;   // (tile, dv)
  A* ds_tile = v_tile + tile * ldv;  // (tile, tile)
  const int group = blockDim.x / tile;
  const int r = threadIdx.x / group, g = threadIdx.x % group;
  A* ds_row = ds_tile + r * ldp;
  const int64_t query_blocks = (a.L + tile - 1) / tile;
  for (int64_t block = blockIdx.x; block < a.batch_heads * query_blocks; block += gridDim.x) {
    const int64_t bh = block / query_blocks;
    const int64_t i0 = (query_blocks - 1 - block % query_blocks) * tile;
    const int m = static_cast<int>(min(static_cast<int64_t>(tile), a.L - i0));
    const bool active = r < m;
    const int64_t i = i0 + r;
    const int64_t mask_base = a.mask != nullptr ? mask_batch_offset(a, bh) : 0;
    const A row_lse = active ? lse[bh * a.L + i] : A(0);
    const A row_delta = active ? delta[bh * a.L + i] : A(0);
    __syncthreads();
    load_rows(q_tile, ldq, q + (bh * a.L + i0) * d, m, tile, d);
    load_rows(do_tile, ldv, grad_out + (bh * a.L + i0) * dv, m, tile, dv);
    fill_tile(dq_tile, tile * ldq, A(0));
    const int64_t key_end = a.causal ? min(a.S, i0 + m) : a.S;
    for (int64_t j0 = 0; j0 < key_end; j0 += tile) {
      const int n = static_cast<int>(min(static_cast<int64_t>(tile), key_end - j0));
      const int n_row = active ? n : 0;
      __syncthreads();
      load_rows(k_tile, ldq, k + (bh * a.S + j0) * d, n, tile, d);
      load_rows(v_tile, ldv, v + (bh * a.S + j0) * dv, n, tile, dv);
      __syncthreads();
      for (int c = g; c < n_row; c += group) {
        const A s = masked_score<T>(a, q_tile + r * ldq, k_tile + c * ldq, i, j0 + c, mask_base);
        const A prob = exp_acc(s - row_lse);  // masked (-inf) and fully masked rows (lse +inf) give 0
        A grad_prob = 0;
        for (int x = 0; x < dv; ++x) grad_prob += do_tile[r * ldv + x] * v_tile[c * ldv + x];
        if (a.dropout_p > 0.0) grad_prob *= dropout_factor<A>(a, bh, i, j0 + c);
        ds_row[c] = prob * (grad_prob - row_delta);
      }
      __syncthreads();
      if (active) {
        for (int x = g; x < d; x += group) {
          A acc = 0;
          for (int c = 0; c < n; ++c) acc += ds_row[c] * k_tile[c * ldq + x];
          dq_tile[r * ldq + x] += acc;
        }
      }
    }
    __syncthreads();  // the dQ tile complete
    if (active) {
      T* dq = grad_q + (bh * a.L + i) * d;
      for (int x = g; x < d; x += group) dq[x] = convert<T>(dq_tile[r * ldq + x] * static_cast<A>(a.scale));
    }
  }
}

// dV = Σ_i (P∘Z)ᵀ dO_i, dK = scale · Σ_i dSᵀ Q_i (and dL/dscores): a block per key tile.
template <class T>
__global__ void __launch_bounds__(kThreads)
    grad_key_value_kernel(AttentionArgs a, int tile, const T* __restrict__ q, const T* __restrict__ k,
                          const T* __restrict__ v, const T* __restrict__ grad_out, const acc_t<T>* __restrict__ lse,
                          const acc_t<T>* __restrict__ delta, T* __restrict__ grad_k, T* __restrict__ grad_v,
                          T* __restrict__ grad_scores) {
  using A = acc_t<T>;
  const int d = static_cast<int>(a.d), dv = static_cast<int>(a.dv);
  const int ldq = d + 1, ldv = dv + 1, ldp = tile + 1;
  A* k_tile = arena_as<A>();           // (tile, d): this block's keys
  A* v_tile = k_tile + tile * ldq;     // (tile, dv)
  A* dk_tile = v_tile + tile * ldv;    // (tile, d)
  A* dv_tile = dk_tile + tile * ldq;   // (tile, dv)
  A* q_tile = dv_tile + tile * ldv;    // (tile, d): the current query tile
  A* do_tile = q_tile + tile * ldq;    // (tile, dv)
  A* pz_tile = do_tile + tile * ldv;   // (tile keys, tile queries): P∘Z, key-major
  A* ds_tile = pz_tile + tile * ldp;   // (tile keys, tile queries): dS, key-major
  A* lse_tile = ds_tile + tile * ldp;  // (tile)
  A* delta_tile = lse_tile + tile;     // (tile)
  const int group = blockDim.x / tile;
  const int r = threadIdx.x / group, g = threadIdx.x % group;  // r: the key row this thread serves
  A* pz_row = pz_tile + r * ldp;
  A* ds_row = ds_tile + r * ldp;
  const int64_t key_blocks = (a.S + tile - 1) / tile;
  for (int64_t block = blockIdx.x; block < a.batch_heads * key_blocks; block += gridDim.x) {
    const int64_t bh = block / key_blocks;
    const int64_t j0 = (block % key_blocks) * tile;  // causal: the first key tiles see the most queries
    const int n = static_cast<int>(min(static_cast<int64_t>(tile), a.S - j0));
    const bool active = r < n;
    const int64_t j = j0 + r;
    const int64_t mask_base = a.mask != nullptr ? mask_batch_offset(a, bh) : 0;
    __syncthreads();
    load_rows(k_tile, ldq, k + (bh * a.S + j0) * d, n, tile, d);
    load_rows(v_tile, ldv, v + (bh * a.S + j0) * dv, n, tile, dv);
    fill_tile(dk_tile, tile * ldq, A(0));
    fill_tile(dv_tile, tile * ldv, A(0));
    const int64_t query_begin = a.causal ? j0 : 0;  // causal: query i sees key j only if j <= i
    for (int64_t i0 = query_begin; i0 < a.L; i0 += tile) {
      const int m = static_cast<int>(min(static_cast<int64_t>(tile), a.L - i0));
      const int m_row = active ? m : 0;
      __syncthreads();
      load_rows(q_tile, ldq, q + (bh * a.L + i0) * d, m, tile, d);
      load_rows(do_tile, ldv, grad_out + (bh * a.L + i0) * dv, m, tile, dv);
      for (int idx = threadIdx.x; idx < tile; idx += blockDim.x) {
        lse_tile[idx] = idx < m ? lse[bh * a.L + i0 + idx] : A(0);
        delta_tile[idx] = idx < m ? delta[bh * a.L + i0 + idx] : A(0);
      }
      __syncthreads();
      for (int rr = g; rr < m_row; rr += group) {
        const int64_t i = i0 + rr;
        const A s = masked_score<T>(a, q_tile + rr * ldq, k_tile + r * ldq, i, j, mask_base);
        const A prob = exp_acc(s - lse_tile[rr]);
        A grad_prob = 0;
        for (int x = 0; x < dv; ++x) grad_prob += do_tile[rr * ldv + x] * v_tile[r * ldv + x];
        const A z = a.dropout_p > 0.0 ? dropout_factor<A>(a, bh, i, j) : A(1);
        const A grad_score = prob * (grad_prob * z - delta_tile[rr]);
        pz_row[rr] = prob * z;
        ds_row[rr] = grad_score;
        if (grad_scores != nullptr) grad_scores[(bh * a.L + i) * a.S + j] = convert<T>(grad_score);
      }
      __syncthreads();
      if (active) {
        for (int c = g; c < dv; c += group) {
          A acc = 0;
          for (int rr = 0; rr < m; ++rr) acc += pz_row[rr] * do_tile[rr * ldv + c];
          dv_tile[r * ldv + c] += acc;
        }
        for (int x = g; x < d; x += group) {
          A acc = 0;
          for (int rr = 0; rr < m; ++rr) acc += ds_row[rr] * q_tile[rr * ldq + x];
          dk_tile[r * ldq + x] += acc;
        }
      }
    }
    __syncthreads();  // dK/dV tiles complete (with no query tile, the zero fill by other threads)
    if (active) {
      T* dk = grad_k + (bh * a.S + j) * d;
      T* dvv = grad_v + (bh * a.S + j) * dv;
      for (int x = g; x < d; x += group) dk[x] = convert<T>(dk_tile[r * ldq + x] * static_cast<A>(a.scale));
      for (int c = g; c < dv; c += group) dvv[c] = convert<T>(dv_tile[r * ldv + c]);
    }
  }
}

#include "cuda/attention_tensor_cores.cuh"  // forward and backward on tensor cores

// ---------------------------------------------------------------- launch plans
// Shared memory of a kernel holding `q_rows` tiles d wide, `v_rows` tiles dv wide, `p_tiles`
// (tile × tile) tiles and `vectors` tile-long vectors, in the accumulation type.
struct TileShape {
  int q_rows, v_rows, p_tiles, vectors;
};

size_t shared_bytes(const AttentionArgs& a, int tile, TileShape shape, size_t element) {
  const size_t t = static_cast<size_t>(tile);
  const size_t elements = t * (static_cast<size_t>(shape.q_rows) * static_cast<size_t>(a.d + 1) +
                               static_cast<size_t>(shape.v_rows) * static_cast<size_t>(a.dv + 1) +
                               static_cast<size_t>(shape.p_tiles) * (t + 1)) +
                          static_cast<size_t>(shape.vectors) * t;
  return elements * element;
}

struct Plan {
  int tile = 0;
  size_t bytes = 0;
};

// The largest tile (Note [CUDA attention tiles]) whose shared memory fits the device.
Plan plan_for(const AttentionArgs& a, TileShape shape, size_t element) {
  const size_t limit = max_shared_memory_optin();
  for (int tile : {64, 32, 16}) {
    const size_t bytes = shared_bytes(a, tile, shape, element);
    if (bytes <= limit) return {tile, bytes};
  }
  detail::kernel_error(kOp, "head dims too large for the fused kernel's shared-memory tiles (d and dv up to "
                            "about 800 in float32, 400 in float64)");
}

unsigned grid_of(int64_t blocks) {
  constexpr int64_t kMaxBlocks = int64_t{1} << 24;  // the kernels loop over the rest
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks < kMaxBlocks ? blocks : kMaxBlocks));
}

constexpr TileShape kForwardShape{2, 2, 1, 0};

// EMBER_CUDA_ATTENTION_TENSOR_CORES=0 sends 16-bit inputs to the CUDA-core kernels (to compare).
bool tensor_cores_enabled() {
  static const bool enabled = [] {
    const char* value = std::getenv("EMBER_CUDA_ATTENTION_TENSOR_CORES");
    return value == nullptr || value[0] != '0';
  }();
  return enabled;
}

template <class T, int D>
void launch_forward_mma_for(const AttentionArgs& a, const void* q, const void* k, const void* v, void* out, void* lse,
                            Stream stream) {
  constexpr size_t bytes = MmaLayout<D>::bytes;
  allow_shared_memory(forward_mma_kernel<T, D>, bytes);
  const int64_t blocks = a.batch_heads * ((a.L + kMmaRows - 1) / kMmaRows);
  forward_mma_kernel<T, D><<<grid_of(blocks), kMmaWarps * 32, bytes, raw_stream(stream)>>>(
      a, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<T*>(out),
      static_cast<float*>(lse));
}

template <class T, int D>
void launch_backward_mma_for(const AttentionArgs& a, const void* q, const void* k, const void* v, const void* grad_out,
                             const void* lse, const void* delta, void* grad_q, void* grad_k, void* grad_v,
                             void* grad_scores, cudaStream_t stream) {
  constexpr const char* op = "scaled_dot_product_attention_backward";
  constexpr size_t bytes = MmaBackwardLayout<D>::bytes;
  allow_shared_memory(grad_query_mma_kernel<T, D>, bytes);
  grad_query_mma_kernel<T, D><<<grid_of(a.batch_heads * ((a.L + kMmaRows - 1) / kMmaRows)), kMmaWarps * 32, bytes,
                                stream>>>(
      a, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v),
      static_cast<const T*>(grad_out), static_cast<const float*>(lse), static_cast<const float*>(delta),
      static_cast<T*>(grad_q));
  EMBER_CUDA_LAUNCH_CHECK(op);
  allow_shared_memory(grad_key_value_mma_kernel<T, D>, bytes);
  grad_key_value_mma_kernel<T, D><<<grid_of(a.batch_heads * ((a.S + kMmaKeys - 1) / kMmaKeys)), kMmaWarps * 32,
                                    bytes, stream>>>(
      a, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v),
      static_cast<const T*>(grad_out), static_cast<const float*>(lse), static_cast<const float*>(delta),
      static_cast<T*>(grad_k), static_cast<T*>(grad_v), static_cast<T*>(grad_scores));
  EMBER_CUDA_LAUNCH_CHECK(op);
}

template <class T>
void launch_forward_mma(const AttentionArgs& a, const void* q, const void* k, const void* v, void* out, void* lse,
                        Stream stream) {
  if (a.d == 64) {
    launch_forward_mma_for<T, 64>(a, q, k, v, out, lse, stream);
  } else {
    launch_forward_mma_for<T, 128>(a, q, k, v, out, lse, stream);
  }
}
constexpr TileShape kGradQueryShape{3, 2, 1, 0};
constexpr TileShape kGradKeyValueShape{3, 3, 2, 2};

}  // namespace

void attention_forward(const AttentionArgs& a, ScalarType type, const void* q, const void* k, const void* v,
                       void* out, void* lse, Stream stream) {
  if (a.batch_heads == 0 || a.L == 0) return;
  dispatch_floating_type(type, kOp, [&]<class T>() {
    using A = acc_t<T>;
    if constexpr (is_half_v<T>) {  // Note [CUDA attention tensor cores]
      if (a.d == a.dv && (a.d == 64 || a.d == 128) && tensor_cores_enabled()) {
        launch_forward_mma<T>(a, q, k, v, out, lse, stream);
        return;
      }
    }
    const Plan plan = plan_for(a, kForwardShape, sizeof(A));
    allow_shared_memory(forward_kernel<T>, plan.bytes);
    const int64_t blocks = a.batch_heads * ((a.L + plan.tile - 1) / plan.tile);
    forward_kernel<T><<<grid_of(blocks), kThreads, plan.bytes, raw_stream(stream)>>>(
        a, plan.tile, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v),
        static_cast<T*>(out), static_cast<A*>(lse));
  });
  EMBER_CUDA_LAUNCH_CHECK(kOp);
}

void attention_backward(const AttentionArgs& a, ScalarType type, const void* q, const void* k, const void* v,
                        const void* out, const void* grad_out, const void* lse, void* delta, void* grad_q,
                        void* grad_k, void* grad_v, void* grad_scores, Stream stream) {
  if (a.batch_heads == 0 || a.L == 0 || a.S == 0) return;
  constexpr const char* op = "scaled_dot_product_attention_backward";
  dispatch_floating_type(type, op, [&]<class T>() {
    using A = acc_t<T>;
    const cudaStream_t s = raw_stream(stream);
    const int64_t rows = a.batch_heads * a.L;
    delta_kernel<T><<<grid_for(rows * 32), 256, 0, s>>>(rows, static_cast<int>(a.dv), static_cast<const T*>(out),
                                                        static_cast<const T*>(grad_out), static_cast<A*>(delta));
    EMBER_CUDA_LAUNCH_CHECK(op);
    if (grad_scores != nullptr) {  // entries no kernel visits (causal) stay 0
      EMBER_CUDA_CHECK(cudaMemsetAsync(grad_scores, 0, static_cast<size_t>(rows * a.S) * sizeof(T), s));
    }
    if constexpr (is_half_v<T>) {  // Note [CUDA attention tensor cores]
      if (a.d == a.dv && (a.d == 64 || a.d == 128) && tensor_cores_enabled()) {
        if (a.d == 64) {
          launch_backward_mma_for<T, 64>(a, q, k, v, grad_out, lse, delta, grad_q, grad_k, grad_v, grad_scores, s);
        } else {
          launch_backward_mma_for<T, 128>(a, q, k, v, grad_out, lse, delta, grad_q, grad_k, grad_v, grad_scores, s);
        }
        return;
      }
    }
    const Plan query_plan = plan_for(a, kGradQueryShape, sizeof(A));
    allow_shared_memory(grad_query_kernel<T>, query_plan.bytes);
    grad_query_kernel<T><<<grid_of(a.batch_heads * ((a.L + query_plan.tile - 1) / query_plan.tile)), kThreads,
                           query_plan.bytes, s>>>(
        a, query_plan.tile, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v),
        static_cast<const T*>(grad_out), static_cast<const A*>(lse), static_cast<const A*>(delta),
        static_cast<T*>(grad_q));
    EMBER_CUDA_LAUNCH_CHECK(op);
    const Plan key_plan = plan_for(a, kGradKeyValueShape, sizeof(A));
    allow_shared_memory(grad_key_value_kernel<T>, key_plan.bytes);
    grad_key_value_kernel<T><<<grid_of(a.batch_heads * ((a.S + key_plan.tile - 1) / key_plan.tile)), kThreads,
                               key_plan.bytes, s>>>(
        a, key_plan.tile, static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v),
        static_cast<const T*>(grad_out), static_cast<const A*>(lse), static_cast<const A*>(delta),
        static_cast<T*>(grad_k), static_cast<T*>(grad_v), static_cast<T*>(grad_scores));
    EMBER_CUDA_LAUNCH_CHECK(op);
  });
}

}  // namespace ember::cuda
