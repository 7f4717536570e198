// Counter-based random numbers (Philox 4x32-10). Element i of a tensor drawn at generator offset
// `o` uses Philox block (seed, o + i), so the numbers depend only on (seed, offset, index):
// the same on any thread count, and (with the same indexing) on CUDA.
// Note [Philox stream]: one Philox block per element; uniform uses lanes 0-1 (53-bit for f64),
// normal uses Box-Muller on lanes 0-1 and 2-3. The generator's offset advances by numel per draw.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>

#include "engine/tensor.h"

namespace ember {

struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;
};

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : state_{seed, 0} {}
  void manual_seed(uint64_t seed) { state_ = {seed, 0}; }
  GeneratorState state() const { return state_; }
  void set_state(GeneratorState s) { state_ = s; }
  // Reserves `n` blocks and returns the first block's offset.
  uint64_t advance(uint64_t n) {
    const uint64_t start = state_.offset;
    state_.offset += n;
    return start;
  }
  uint64_t seed() const { return state_.seed; }

 private:
  GeneratorState state_;
};

Generator& default_generator();
void manual_seed(uint64_t seed);  // seeds the default generator

// One Philox-4x32-10 block on a full 128-bit counter and 64-bit key (Random123's philox4x32;
// checked against its known-answer vectors in test/engine/test_views_extra.cpp).
std::array<uint32_t, 4> philox4x32_block(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);
// The engine's stream: the 64-bit counter in lanes 0-1 (low word first), lanes 2-3 zero.
std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t seed);
// The stream's blocks start, start + 1, ..., start + n - 1 at once, lane by lane: lane_k[i] is
// philox4x32(start + i, seed)[k], bit for bit. With AVX-512, 16 counters per register through
// the rounds (about 3 ns a block); elsewhere 256 at a time in separate arrays the compiler
// vectorises (about 5 ns); a philox4x32 call costs 11-15 ns. The kernels that draw one number per
// element use it (dropout, attention dropout, the random factories, trunc_normal_). lane2/lane3
// may be null (not computed).
void philox4x32_blocks(uint64_t start, uint64_t seed, int64_t n, uint32_t* lane0, uint32_t* lane1,
                       uint32_t* lane2 = nullptr, uint32_t* lane3 = nullptr);
// The 53 random bits uniform_from_bits scales to [0, 1).
inline uint64_t bits53_from_lanes(uint32_t hi, uint32_t lo) {
  return ((static_cast<uint64_t>(hi) << 21) ^ static_cast<uint64_t>(lo)) & ((uint64_t{1} << 53) - 1);
}
// Uniform in [0, 1) from two 32-bit lanes (53 bits of randomness).
inline double uniform_from_bits(uint32_t hi, uint32_t lo) {
  return static_cast<double>(bits53_from_lanes(hi, lo)) * (1.0 / 9007199254740992.0);
}
// The smallest 53-bit value whose uniform is >= p (p in [0, 1]): uniform_from_bits(hi, lo) >= p
// exactly when bits53_from_lanes(hi, lo) >= uniform_threshold(p), an integer test that vectorises
// (u = bits / 2^53 exactly, and p · 2^53 is exact in double).
inline uint64_t uniform_threshold(double p) {
  return static_cast<uint64_t>(std::ceil(p * 9007199254740992.0));
}

Tensor rand(const Shape& sizes, TensorOptions options = {});
Tensor rand(const Shape& sizes, Generator& gen, TensorOptions options = {});
Tensor randn(const Shape& sizes, TensorOptions options = {});
Tensor randn(const Shape& sizes, Generator& gen, TensorOptions options = {});
Tensor normal(double mean, double std, const Shape& sizes, TensorOptions options = {});
Tensor normal(double mean, double std, const Shape& sizes, Generator& gen, TensorOptions options = {});
Tensor uniform(double low, double high, const Shape& sizes, Generator& gen, TensorOptions options = {});
// Integers in [low, high); dtype defaults to int64.
Tensor randint(int64_t low, int64_t high, const Shape& sizes, TensorOptions options = TensorOptions(DType::i64));
Tensor randint(int64_t low, int64_t high, const Shape& sizes, Generator& gen,
               TensorOptions options = TensorOptions(DType::i64));
// Draws 1 with probability p (elementwise), in p's dtype.
Tensor bernoulli(const Tensor& p);
Tensor bernoulli(const Tensor& p, Generator& gen);
Tensor bernoulli(const Shape& sizes, double p, Generator& gen, TensorOptions options = {});
// A random permutation of [0, n) (int64).
Tensor randperm(int64_t n, Generator& gen);

}  // namespace ember
