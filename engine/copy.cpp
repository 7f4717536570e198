#include "engine/copy.h"

#include "engine/dispatch.h"
#include "engine/strided_loop.h"
#include "ember_config.h"
#if EMBER_WITH_CUDA
#include "cuda/tensor_copy.h"
#endif

namespace ember {

static Shape byte_strides(const Tensor& t) {
  Shape s = t.strides();
  for (auto& v : s) v *= static_cast<int64_t>(t.element_size());
  return s;
}

void copy_data(const Tensor& dst, const Tensor& src) {
#if EMBER_WITH_CUDA
  if (!dst.device().is_cpu() || !src.device().is_cpu()) return cuda::copy_tensor(dst, src);
#endif
  check_cpu("copy", {&dst, &src});
  EMBER_CHECK(dst.sizes() == src.sizes(), "copy: destination shape {} differs from source shape {}",
              shape_str(dst.sizes()), shape_str(src.sizes()));
  StridedOperands<2> ops{{static_cast<char*>(dst.raw_data()), static_cast<char*>(src.raw_data())},
                         {byte_strides(dst), byte_strides(src)}};
  dispatch_with_half(dst.dtype(), "copy", [&]<class Out>() {
    dispatch_with_half(src.dtype(), "copy", [&]<class In>() {
      if constexpr (std::is_same_v<Out, bool> && (std::is_same_v<In, bfloat16> || std::is_same_v<In, float16>)) {
        map_kernel<Out, In>(dst.sizes(), ops, [](In v) { return static_cast<float>(v) != 0.0f; });
      } else if constexpr (std::is_same_v<Out, bool>) {
        // Compare in the source type: a tiny double like 1e-60 is nonzero but underflows float.
        map_kernel<Out, In>(dst.sizes(), ops, [](In v) { return v != static_cast<In>(0); });
      } else if constexpr (std::is_same_v<Out, bfloat16> || std::is_same_v<Out, float16>) {
        map_kernel<Out, In>(dst.sizes(), ops, [](In v) { return Out(static_cast<float>(v)); });
      } else if constexpr (std::is_same_v<In, bfloat16> || std::is_same_v<In, float16>) {
        map_kernel<Out, In>(dst.sizes(), ops, [](In v) { return static_cast<Out>(static_cast<float>(v)); });
      } else {
        map_kernel<Out, In>(dst.sizes(), ops, [](In v) { return static_cast<Out>(v); });
      }
    });
  });
}

double read_element(const Tensor& t, int64_t linear_index) {
#if EMBER_WITH_CUDA
  if (t.device().is_cuda()) return cuda::read_tensor_element(t, linear_index);
#endif
  check_cpu("read_element", {&t});
  int64_t offset = 0;
  int64_t rem = linear_index;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    offset += (rem % t.size(d)) * t.stride(d);
    rem /= t.size(d);
  }
  return dispatch_with_half(t.dtype(), "read_element", [&]<class T>() -> double {
    return static_cast<double>(static_cast<const T*>(t.raw_data())[offset]);
  });
}

void fill_data(const Tensor& dst, double value) {
#if EMBER_WITH_CUDA
  if (dst.device().is_cuda()) return cuda::fill_tensor(dst, value);
#endif
  check_cpu("fill", {&dst});
  StridedOperands<1> ops{{static_cast<char*>(dst.raw_data())}, {byte_strides(dst)}};
  dispatch_with_half(dst.dtype(), "fill", [&]<class T>() {
    T v;
    if constexpr (std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>) {
      v = T(static_cast<float>(value));
    } else {
      v = static_cast<T>(value);
    }
    map_kernel<T>(dst.sizes(), ops, [v]() { return v; });
  });
}

}  // namespace ember
