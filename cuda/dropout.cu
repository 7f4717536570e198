// CUDA dropout (launcher in cuda/dropout_launch.h): the mask is drawn and applied in one pass.
// Twins: ops/cpu/dropout.cpp (CPU), engine/random.cpp (philox4x32, uniform_from_bits: ported
// in cuda/philox.cuh bit for bit, so a seed gives the same mask on both devices), ops/dropout.cpp (API).
#include "cuda/dropout_launch.h"
#include "cuda/kernel_util.cuh"
#include "cuda/philox.cuh"

namespace ember::cuda {

namespace {

template <class T>
__global__ void dropout_kernel(T* out, T* mask, const T* x, int64_t n, double keep_prob, T kept, uint64_t seed,
                               uint64_t offset) {
  for (int64_t i = global_thread_index(); i < n; i += global_thread_count()) {
    const Philox4 r = philox4x32(offset + static_cast<uint64_t>(i), seed);
    const T m = uniform_from_bits(r.v[0], r.v[1]) < keep_prob ? kept : convert<T>(0.0);
    mask[i] = m;
    out[i] = convert<T>(convert<acc_t<T>>(x[i]) * convert<acc_t<T>>(m));
  }
}

}  // namespace

void dropout_forward(void* out, void* mask, const void* x, ScalarType type, int64_t n, double keep_prob, double scale,
                     uint64_t seed, uint64_t offset, Stream stream) {
  if (n == 0) return;
  dispatch_floating_type(type, "dropout", [&]<class T>() {
    dropout_kernel<T><<<grid_for(n), 256, 0, raw_stream(stream)>>>(static_cast<T*>(out), static_cast<T*>(mask),
                                                                   static_cast<const T*>(x), n, keep_prob,
                                                                   convert<T>(scale), seed, offset);
  });
  EMBER_CUDA_LAUNCH_CHECK("dropout");
}

}  // namespace ember::cuda
