// Sort, top-k and scans (launchers declared in cuda/sort_launch.h). CPU twin: ops/cpu/sort.cpp.
//
// Sorting maps each value to an unsigned key whose order is the CPU's order (NaN the largest,
// every NaN one key, -0 == +0; descending flips the bits), lays the lines out one after the other
// and sorts (key, position) pairs per line with CUB's *stable* segmented sort: ties keep their
// index order in both directions, exactly as the CPU's comparator (value, then index). Top-k sorts
// the whole line and keeps the first k. Scans run one thread per line, sequentially (the CPU's
// order, bitwise equal): fine for many lines, slow for a few very long ones.
#include <cub/device/device_segmented_sort.cuh>

#include "cuda/movement.cuh"
#include "cuda/sort_launch.h"

namespace ember::cuda {

namespace {

template <class T> struct SortKey { using type = uint32_t; };
template <> struct SortKey<double> { using type = uint64_t; };
template <> struct SortKey<int64_t> { using type = uint64_t; };

__device__ __forceinline__ uint32_t ordered_key(float v) {
  if (isnan(v)) return 0xFFFFFFFFu;
  const uint32_t u = __float_as_uint(v == 0.0f ? 0.0f : v);  // -0 -> +0
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ uint64_t ordered_key(double v) {
  if (isnan(v)) return ~uint64_t{0};
  const auto u = static_cast<uint64_t>(__double_as_longlong(v == 0.0 ? 0.0 : v));
  constexpr uint64_t sign = uint64_t{1} << 63;
  return (u & sign) ? ~u : (u | sign);
}
__device__ __forceinline__ uint64_t ordered_key(int64_t v) { return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63); }
__device__ __forceinline__ uint32_t ordered_key(int32_t v) { return static_cast<uint32_t>(v) ^ 0x80000000u; }
__device__ __forceinline__ uint32_t ordered_key(uint8_t v) { return v; }
__device__ __forceinline__ uint32_t ordered_key(bool v) { return v ? 1u : 0u; }

// keys[l * n + j] = key of x[o, j, i] for line l = o * inner + i; positions = j.
template <class T, class K>
__global__ void make_keys_kernel(const T* x, int64_t outer, int64_t n, int64_t inner, bool descending, K* keys,
                                 int64_t* positions) {
  const int64_t total = outer * inner * n;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    const int64_t l = t / n, j = t % n, o = l / inner, i = l % inner;
    const K key = ordered_key(x[(o * n + j) * inner + i]);
    keys[t] = descending ? static_cast<K>(~key) : key;
    positions[t] = j;
  }
}

__global__ void line_offsets_kernel(int* offsets, int64_t lines, int64_t n) {
  for (int64_t l = global_thread_index(); l <= lines; l += global_thread_count()) offsets[l] = static_cast<int>(l * n);
}

template <class T>
__global__ void write_sorted_kernel(const T* x, const int64_t* sorted_positions, T* values, int64_t* indices,
                                    int64_t outer, int64_t n, int64_t inner, int64_t k) {
  const int64_t total = outer * inner * k;
  for (int64_t t = global_thread_index(); t < total; t += global_thread_count()) {
    const int64_t l = t / k, j = t % k, o = l / inner, i = l % inner;
    const int64_t source = sorted_positions[l * n + j];
    const int64_t dst = (o * k + j) * inner + i;
    values[dst] = x[(o * n + source) * inner + i];
    indices[dst] = source;
  }
}

template <class T, class Out, class Acc>
__global__ void scan_kernel(Out* out, const T* x, int64_t outer, int64_t n, int64_t inner, bool product, bool reverse) {
  const int64_t lines = outer * inner;
  for (int64_t l = global_thread_index(); l < lines; l += global_thread_count()) {
    const int64_t o = l / inner, i = l % inner;
    Acc acc = product ? Acc{1} : Acc{0};
    for (int64_t step = 0; step < n; ++step) {
      const int64_t j = reverse ? n - 1 - step : step;
      const int64_t offset = (o * n + j) * inner + i;
      acc = product ? acc * static_cast<Acc>(x[offset]) : acc + static_cast<Acc>(x[offset]);
      out[offset] = static_cast<Out>(acc);
    }
  }
}

constexpr size_t kAlign = 256;
size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// The sort workspace: keys in/out, positions in/out, line offsets, then CUB's temporary storage.
struct SortWorkspace {
  size_t keys, positions, offsets, cub;
  size_t total() const { return 2 * keys + 2 * positions + offsets + cub; }
};

SortWorkspace sort_workspace(int key_bytes, int64_t lines, int64_t n) {
  const int64_t items = lines * n;
  return {aligned(static_cast<size_t>(items) * key_bytes), aligned(static_cast<size_t>(items) * sizeof(int64_t)),
          aligned(static_cast<size_t>(lines + 1) * sizeof(int)), aligned(segmented_sort_bytes(key_bytes, items, lines))};
}

template <class K>
cudaError_t run_segmented_sort(void* temp, size_t& temp_bytes, const void* keys_in, void* keys_out,
                               const int64_t* values_in, int64_t* values_out, int64_t items, int64_t segments,
                               const int* offsets, cudaStream_t stream) {
  return cub::DeviceSegmentedSort::StableSortPairs(temp, temp_bytes, static_cast<const K*>(keys_in),
                                                   static_cast<K*>(keys_out), values_in, values_out,
                                                   static_cast<int>(items), static_cast<int>(segments), offsets,
                                                   offsets + 1, stream);
}

}  // namespace

size_t segmented_sort_bytes(int key_bytes, int64_t items, int64_t segments) {
  size_t bytes = 0;
  if (items == 0) return 0;
  if (key_bytes == 8) {
    EMBER_CUDA_CHECK(run_segmented_sort<uint64_t>(nullptr, bytes, nullptr, nullptr, nullptr, nullptr, items, segments,
                                                  nullptr, nullptr));
  } else {
    EMBER_CUDA_CHECK(run_segmented_sort<uint32_t>(nullptr, bytes, nullptr, nullptr, nullptr, nullptr, items, segments,
                                                  nullptr, nullptr));
  }
  return bytes;
}

void segmented_stable_sort(int key_bytes, const void* keys_in, void* keys_out, const int64_t* values_in,
                           int64_t* values_out, int64_t items, int64_t segments, const int* offsets, void* temp,
                           size_t temp_bytes, Stream stream) {
  if (items == 0) return;
  if (key_bytes == 8) {
    EMBER_CUDA_CHECK(run_segmented_sort<uint64_t>(temp, temp_bytes, keys_in, keys_out, values_in, values_out, items,
                                                  segments, offsets, raw_stream(stream)));
  } else {
    EMBER_CUDA_CHECK(run_segmented_sort<uint32_t>(temp, temp_bytes, keys_in, keys_out, values_in, values_out, items,
                                                  segments, offsets, raw_stream(stream)));
  }
  EMBER_CUDA_LAUNCH_CHECK("segmented sort");
}

size_t sort_workspace_bytes(ScalarType type, int64_t outer, int64_t n, int64_t inner) {
  const int key_bytes = element_size_of(type) == 8 ? 8 : 4;
  return sort_workspace(key_bytes, outer * inner, n).total();
}

void sort_lines(void* values, int64_t* indices, const void* x, ScalarType type, int64_t outer, int64_t n, int64_t inner,
                int64_t k, bool descending, void* workspace, size_t workspace_bytes, Stream stream) {
  const int64_t lines = outer * inner;
  if (lines * k == 0) return;
  const cudaStream_t s = raw_stream(stream);
  dispatch_cpu_type(type, "sort", [&]<class T>() {
    using K = typename SortKey<T>::type;
    const SortWorkspace w = sort_workspace(sizeof(K), lines, n);
    if (workspace_bytes < w.total()) detail::kernel_error("sort", "workspace too small");
    char* p = static_cast<char*>(workspace);
    K* keys_in = reinterpret_cast<K*>(p);
    K* keys_out = reinterpret_cast<K*>(p + w.keys);
    auto* positions_in = reinterpret_cast<int64_t*>(p + 2 * w.keys);
    auto* positions_out = reinterpret_cast<int64_t*>(p + 2 * w.keys + w.positions);
    int* offsets = reinterpret_cast<int*>(p + 2 * w.keys + 2 * w.positions);
    void* temp = p + 2 * w.keys + 2 * w.positions + w.offsets;
    make_keys_kernel<T, K><<<grid_for(lines * n), 256, 0, s>>>(static_cast<const T*>(x), outer, n, inner, descending,
                                                               keys_in, positions_in);
    EMBER_CUDA_LAUNCH_CHECK("sort");
    line_offsets_kernel<<<grid_for(lines + 1), 256, 0, s>>>(offsets, lines, n);
    EMBER_CUDA_LAUNCH_CHECK("sort");
    segmented_stable_sort(sizeof(K), keys_in, keys_out, positions_in, positions_out, lines * n, lines, offsets, temp,
                          w.cub, stream);
    write_sorted_kernel<T><<<grid_for(lines * k), 256, 0, s>>>(static_cast<const T*>(x), positions_out,
                                                               static_cast<T*>(values), indices, outer, n, inner, k);
    EMBER_CUDA_LAUNCH_CHECK("sort");
  });
}

void scan_lines(void* out, const void* x, ScalarType type, int64_t outer, int64_t n, int64_t inner, bool product,
                bool reverse, Stream stream) {
  const int64_t lines = outer * inner;
  if (lines * n == 0) return;
  dispatch_cpu_type(type, product ? "cumprod" : "cumsum", [&]<class T>() {
    constexpr bool floating = std::is_floating_point_v<T>;
    using Acc = std::conditional_t<floating, double, int64_t>;
    using Out = std::conditional_t<floating, T, int64_t>;
    scan_kernel<T, Out, Acc><<<grid_for(lines), 256, 0, raw_stream(stream)>>>(
        static_cast<Out*>(out), static_cast<const T*>(x), outer, n, inner, product, reverse);
  });
  EMBER_CUDA_LAUNCH_CHECK(product ? "cumprod" : "cumsum");
}

}  // namespace ember::cuda
