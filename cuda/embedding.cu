// CUDA embedding kernels (launchers in cuda/embedding_launch.h). Twins: ops/cpu/embedding.cpp,
// cuda/embedding.cpp (Tensor side), ops/embedding.cpp (API, backward).
//
// Forward: one thread per output element (a row gather). Backward (scatter-add), deterministic
// without atomics: the indices are sorted with their positions (CUB's stable radix sort, so equal
// indices keep their original order), then one thread per (run of equal indices, column) adds
// that run's gradient rows in order and writes the weight row once. Each weight element is
// written by exactly one thread and summed in index order, as on the CPU (bit-identical sums).
#include <cub/device/device_radix_sort.cuh>

#include "cuda/embedding_launch.h"
#include "cuda/kernel_util.cuh"

namespace ember::cuda {

namespace {

template <class T>
__global__ void gather_rows(T* out, const T* weight, int64_t row_stride, int64_t col_stride, const int64_t* indices,
                            int64_t n, int64_t D, int64_t zero_row) {
  for (int64_t i = global_thread_index(); i < n * D; i += global_thread_count()) {
    const int64_t row = indices[i / D], d = i % D;
    out[i] = row == zero_row ? T(0) : weight[row * row_stride + d * col_stride];
  }
}

__global__ void iota(int64_t* out, int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += global_thread_count()) out[i] = i;
}

// keys: the sorted indices; positions: where each came from in the input.
template <class T>
__global__ void sum_runs(T* grad_weight, const T* grad, const uint64_t* keys, const int64_t* positions, int64_t n,
                         int64_t D, int64_t skip_row) {
  using A = acc_t<T>;
  for (int64_t i = global_thread_index(); i < n * D; i += global_thread_count()) {
    const int64_t j = i / D, d = i % D;
    if (j > 0 && keys[j] == keys[j - 1]) continue;  // not the start of a run
    const int64_t row = static_cast<int64_t>(keys[j]);
    if (row == skip_row) continue;
    A total = 0;
    for (int64_t k = j; k < n && keys[k] == keys[j]; ++k) total += convert<A>(grad[positions[k] * D + d]);
    grad_weight[row * D + d] = convert<T>(total);
  }
}

// Workspace layout: three int64 arrays of n (positions, sorted keys, sorted positions), then CUB's.
constexpr size_t kAlign = 256;
size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

int key_bits(int64_t V) {  // bits that hold every index in [0, V)
  int bits = 1;
  while (bits < 63 && (int64_t{1} << bits) < V) ++bits;
  return bits;
}

size_t cub_bytes(int64_t n, int64_t V) {
  size_t bytes = 0;
  EMBER_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<const uint64_t*>(nullptr),
                                                   static_cast<uint64_t*>(nullptr), static_cast<const int64_t*>(nullptr),
                                                   static_cast<int64_t*>(nullptr), static_cast<int>(n), 0, key_bits(V)));
  return bytes;
}

}  // namespace

void embedding_forward(void* out, const void* weight, ScalarType type, int64_t row_stride, int64_t col_stride,
                       const int64_t* indices, int64_t n, int64_t D, int64_t zero_row, Stream stream) {
  if (n * D == 0) return;
  dispatch_floating_type(type, "embedding", [&]<class T>() {
    gather_rows<T><<<grid_for(n * D), 256, 0, raw_stream(stream)>>>(static_cast<T*>(out), static_cast<const T*>(weight),
                                                                    row_stride, col_stride, indices, n, D, zero_row);
  });
  EMBER_CUDA_LAUNCH_CHECK("embedding");
}

size_t embedding_backward_workspace_bytes(int64_t n, int64_t V) {
  return 3 * aligned(static_cast<size_t>(n) * sizeof(int64_t)) + aligned(cub_bytes(n, V));
}

void embedding_backward(void* grad_weight, const void* grad, ScalarType type, const int64_t* indices, int64_t n,
                        int64_t V, int64_t D, int64_t skip_row, void* workspace, size_t workspace_bytes, Stream stream) {
  if (n * D == 0) return;
  const cudaStream_t s = raw_stream(stream);
  const size_t array_bytes = aligned(static_cast<size_t>(n) * sizeof(int64_t));
  char* base = static_cast<char*>(workspace);
  int64_t* positions = reinterpret_cast<int64_t*>(base);
  uint64_t* sorted_keys = reinterpret_cast<uint64_t*>(base + array_bytes);
  int64_t* sorted_positions = reinterpret_cast<int64_t*>(base + 2 * array_bytes);
  size_t temp_bytes = cub_bytes(n, V);
  if (workspace_bytes < 3 * array_bytes + temp_bytes) detail::kernel_error("embedding_backward", "workspace too small");
  iota<<<grid_for(n), 256, 0, s>>>(positions, n);
  // Indices are checked to lie in [0, V), so they sort as unsigned keys of key_bits(V) bits.
  EMBER_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(base + 3 * array_bytes, temp_bytes,
                                                   reinterpret_cast<const uint64_t*>(indices), sorted_keys, positions,
                                                   sorted_positions, static_cast<int>(n), 0, key_bits(V), s));
  dispatch_floating_type(type, "embedding_backward", [&]<class T>() {
    sum_runs<T><<<grid_for(n * D), 256, 0, s>>>(static_cast<T*>(grad_weight), static_cast<const T*>(grad), sorted_keys,
                                                 sorted_positions, n, D, skip_row);
  });
  EMBER_CUDA_LAUNCH_CHECK("embedding_backward");
}

}  // namespace ember::cuda
