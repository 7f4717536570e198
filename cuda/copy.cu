// Strided copy with dtype conversion and fill on the GPU (launchers declared in cuda/copy.h).
// One kernel template per (out, in) type pair; contiguous same-type copies are cudaMemcpyAsync.
// CPU twin: engine/copy.cpp (same conversion rules: cuda/kernel_util.cuh convert()).
#include "cuda/copy.h"
#include "cuda/kernel_util.cuh"

namespace ember::cuda {

namespace {

template <class Out, class In>
__global__ void copy_kernel(Out* dst, StridedLayout dst_layout, const In* src, StridedLayout src_layout) {
  for (int64_t i = global_thread_index(); i < dst_layout.numel; i += global_thread_count()) {
    dst[dst_layout.offset_of(i)] = convert<Out>(src[src_layout.offset_of(i)]);
  }
}

template <class T> __global__ void fill_kernel(T* dst, StridedLayout layout, T value) {
  for (int64_t i = global_thread_index(); i < layout.numel; i += global_thread_count()) dst[layout.offset_of(i)] = value;
}

size_t element_size(ScalarType type) {
  switch (type) {
    case ScalarType::f64:
    case ScalarType::i64: return 8;
    case ScalarType::f32:
    case ScalarType::i32: return 4;
    case ScalarType::bf16:
    case ScalarType::f16: return 2;
    case ScalarType::u8:
    case ScalarType::bool_: return 1;
  }
  return 1;
}

}  // namespace

void copy_strided(void* dst, ScalarType dst_type, const StridedLayout& dst_layout, const void* src,
                  ScalarType src_type, const StridedLayout& src_layout, Stream stream) {
  if (dst_layout.numel == 0) return;
  if (dst_type == src_type && dst_layout.contiguous && src_layout.contiguous) {
    EMBER_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(dst_layout.numel) * element_size(dst_type),
                                     cudaMemcpyDeviceToDevice, raw_stream(stream)));
    return;
  }
  dispatch_scalar_type(dst_type, "copy", [&]<class Out>() {
    dispatch_scalar_type(src_type, "copy", [&]<class In>() {
      copy_kernel<Out, In><<<grid_for(dst_layout.numel), 256, 0, raw_stream(stream)>>>(
          static_cast<Out*>(dst), dst_layout, static_cast<const In*>(src), src_layout);
    });
  });
  EMBER_CUDA_LAUNCH_CHECK("copy");
}

void fill_strided(void* dst, ScalarType type, const StridedLayout& layout, double value, Stream stream) {
  if (layout.numel == 0) return;
  dispatch_scalar_type(type, "fill", [&]<class T>() {
    fill_kernel<T><<<grid_for(layout.numel), 256, 0, raw_stream(stream)>>>(static_cast<T*>(dst), layout,
                                                                           convert<T>(value));
  });
  EMBER_CUDA_LAUNCH_CHECK("fill");
}

}  // namespace ember::cuda
