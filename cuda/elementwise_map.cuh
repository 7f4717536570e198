// launch_map: the one kernel template behind every elementwise family on the GPU
// (cuda/{elementwise,unary,activation,compare}.cu). Included only by .cu files.
//
//   launch_map<float, float, float>("add", stream, AddOp<float>{alpha}, out, {a, b});
//
// runs out[i] = f(a[i], b[i]) over the output's shape. Types: Out (stored output), In... (stored
// inputs); f receives each input converted to acc_t<In> (float for bf16/f16) and its result is
// converted to Out, so 16-bit types compute in float as on the CPU's conversions.
// Two kernels serve every functor:
//  - the strided kernel: any layout. Every operand's strides are given in the output's shape
//    (stride 0 = broadcast), so the host first coalesces dims that are contiguous for ALL operands
//    and drops size-1 dims, and the kernel decomposes each linear index once for all operands;
//  - the vectorized kernel: when that coalescing leaves one dim, unit-stride for the output and
//    unit-stride or broadcast (stride 0: a scalar operand, `x * 2.0`) for each input, and every
//    unit-stride pointer is aligned to its vector, each thread loads and stores kVec elements at
//    once (16 bytes for the widest operand; a broadcast input is read once and repeated), then a
//    scalar loop does the tail.
// The coalescing is cuda/map_layout.h (plain C++, tested without a GPU).
// Both are grid-stride loops (cuda/kernel_util.cuh grid_for), so any size runs with one launch;
// each element is read and written by the same thread, so out may alias an input exactly (the
// in-place add_ of ops/inplace.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "cuda/elementwise_launch.h"
#include "cuda/kernel_util.cuh"
#include "cuda/map_layout.h"

namespace ember::cuda {

namespace map_detail {

constexpr int kThreads = 256;

template <class T, int kVec> struct alignas(sizeof(T) * kVec) Vec {
  T v[kVec];
};

template <int N> struct MapPointers {
  void* data[N];
};

template <class F, class Out, class... In> struct StridedMap {
  static constexpr int N = sizeof...(In) + 1;

  template <size_t... K>
  __device__ __forceinline__ static void at(const MapPointers<N>& p, const int64_t (&offsets)[N], const F& f,
                                            std::index_sequence<K...>) {
    static_cast<Out*>(p.data[0])[offsets[0]] =
        convert<Out>(f(convert<acc_t<In>>(static_cast<const In*>(p.data[K + 1])[offsets[K + 1]])...));
  }
};

template <class F, class Out, class... In>
__global__ void map_strided_kernel(MapPointers<sizeof...(In) + 1> pointers, MapLayout<sizeof...(In) + 1> layout,
                                   int64_t n, F f) {
  constexpr int N = sizeof...(In) + 1;
  for (int64_t i = global_thread_index(); i < n; i += global_thread_count()) {
    int64_t offsets[N];
    map_offsets(layout, i, offsets);
    StridedMap<F, Out, In...>::at(pointers, offsets, f, std::index_sequence_for<In...>{});
  }
}

template <int kVec, class F, class Out, class... In>
__device__ __forceinline__ void map_vector(Vec<Out, kVec>& result, const F& f, const Vec<In, kVec>&... inputs) {
#pragma unroll
  for (int j = 0; j < kVec; ++j) result.v[j] = convert<Out>(f(convert<acc_t<In>>(inputs.v[j])...));
}

// Vector v of p, or p[0] repeated when the operand is broadcast.
template <int kVec, class T> __device__ __forceinline__ Vec<T, kVec> load_vector(const T* p, int64_t v, bool broadcast) {
  if (!broadcast) return reinterpret_cast<const Vec<T, kVec>*>(p)[v];
  Vec<T, kVec> repeated;
  const T value = p[0];
#pragma unroll
  for (int j = 0; j < kVec; ++j) repeated.v[j] = value;
  return repeated;
}

// Bit k of `broadcast` set: input k has stride 0.
template <int kVec, class F, class Out, class... In> struct VectorMap {
  template <size_t... K>
  __device__ __forceinline__ static void run(int64_t n, const F& f, Out* out, uint32_t broadcast,
                                             std::index_sequence<K...>, const In*... in) {
    const int64_t vectors = n / kVec;
    for (int64_t v = global_thread_index(); v < vectors; v += global_thread_count()) {
      Vec<Out, kVec> result;
      map_vector<kVec, F, Out, In...>(result, f, load_vector<kVec>(in, v, (broadcast >> K) & 1u)...);
      reinterpret_cast<Vec<Out, kVec>*>(out)[v] = result;
    }
    for (int64_t i = vectors * kVec + global_thread_index(); i < n; i += global_thread_count()) {
      out[i] = convert<Out>(f(convert<acc_t<In>>(in[((broadcast >> K) & 1u) ? 0 : i])...));
    }
  }
};

template <int kVec, class F, class Out, class... In>
__global__ void map_vectorized_kernel(int64_t n, F f, Out* out, uint32_t broadcast, const In*... in) {
  VectorMap<kVec, F, Out, In...>::run(n, f, out, broadcast, std::index_sequence_for<In...>{}, in...);
}

template <class T> constexpr size_t max_size() { return sizeof(T); }
template <class T, class U, class... Rest> constexpr size_t max_size() {
  return sizeof(T) > max_size<U, Rest...>() ? sizeof(T) : max_size<U, Rest...>();
}

inline bool aligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

}  // namespace map_detail

// out = f(ins...) elementwise; see the file comment. Every operand's layout has out's sizes.
template <class Out, class... In, class F>
void launch_map(const char* op, Stream stream, const F& f, const Operand& out,
                const Operand (&ins)[sizeof...(In)]) {
  using namespace map_detail;
  constexpr int N = sizeof...(In) + 1;
  const int64_t n = out.layout.numel;
  if (n == 0) return;
  const Operand* operands[N] = {&out};
  for (int k = 1; k < N; ++k) operands[k] = &ins[k - 1];
  const MapLayout<N> layout = coalesce(operands);
  constexpr int kVec = static_cast<int>(16 / max_size<Out, In...>());
  // One dim left: the output unit-stride, each input unit-stride or broadcast (bit k-1 of `broadcast`).
  uint32_t broadcast = 0;
  bool dense = layout.ndim == 1 && layout.strides[0][0] == 1;
  for (int k = 1; k < N && dense; ++k) {
    dense = layout.strides[k][0] == 1 || layout.strides[k][0] == 0;
    if (layout.strides[k][0] == 0) broadcast |= 1u << (k - 1);
  }
  const bool vectorizable = dense && aligned(out.data, sizeof(Out) * kVec) &&
                            [&]<size_t... K>(std::index_sequence<K...>) {
                              return (((broadcast >> K) & 1u || aligned(ins[K].data, sizeof(In) * kVec)) && ...);
                            }(std::index_sequence_for<In...>{});
  cudaStream_t s = raw_stream(stream);
  if (vectorizable) {
    [&]<size_t... K>(std::index_sequence<K...>) {
      map_vectorized_kernel<kVec, F, Out, In...><<<grid_for(n / kVec + 1, kThreads), kThreads, 0, s>>>(
          n, f, static_cast<Out*>(out.data), broadcast, static_cast<const In*>(ins[K].data)...);
    }(std::index_sequence_for<In...>{});
  } else {
    MapPointers<N> pointers;
    for (int k = 0; k < N; ++k) pointers.data[k] = operands[k]->data;
    map_strided_kernel<F, Out, In...><<<grid_for(n, kThreads), kThreads, 0, s>>>(pointers, layout, n, f);
  }
  EMBER_CUDA_LAUNCH_CHECK(op);
}

}  // namespace ember::cuda
