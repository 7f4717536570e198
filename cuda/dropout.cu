// CUDA dropout (launcher in cuda/dropout_launch.h): the mask is drawn and applied in one pass.
// Twins: ops/cpu/dropout.cpp (CPU), engine/random.cpp (philox4x32, uniform_from_bits: ported
// here bit for bit, so a seed gives the same mask on both devices), ops/dropout.cpp (API).
#include "cuda/dropout_launch.h"
#include "cuda/kernel_util.cuh"

namespace ember::cuda {

namespace {

struct Philox4 {
  uint32_t v[4];
};

// Philox-4x32-10 of engine/random.cpp philox4x32_block / philox4x32(counter, seed): the counter's
// low and high words are lanes 0 and 1 (lanes 2, 3 zero), the key is the seed's two words.
__device__ __forceinline__ Philox4 philox4x32(uint64_t counter, uint64_t seed) {
  constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0u, c3 = 0u;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(M0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(M1) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += W0;
    k1 += W1;
  }
  return {{c0, c1, c2, c3}};
}

// engine/random.h uniform_from_bits: 53 bits of (hi << 21) ^ lo, scaled into [0, 1).
__device__ __forceinline__ double uniform_from_bits(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ static_cast<uint64_t>(lo);
  return static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

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
