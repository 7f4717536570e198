// Note [CUDA Philox]: the engine's counter-based random stream on the GPU. philox4x32 and
// uniform_from_bits repeat engine/random.cpp philox4x32(counter, seed) and engine/random.h
// uniform_from_bits bit for bit (the counter's low and high words in lanes 0 and 1, lanes 2 and 3
// zero, the seed's two words as the key), so a seed gives the same dropout mask on both devices.
// Used by cuda/dropout.cu and cuda/attention.cu; checked against the CPU by the emulator
// (test/cuda/emulator/emu_dropout.cpp) and the dropout consistency cases.
#pragma once
#include <cstdint>

namespace ember::cuda {

struct Philox4 {
  uint32_t v[4];
};

// Philox-4x32-10.
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

// 53 bits of (hi << 21) ^ lo, scaled into [0, 1).
__device__ __forceinline__ double uniform_from_bits(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ static_cast<uint64_t>(lo);
  return static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

}  // namespace ember::cuda
