#include "engine/random.h"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/dispatch.h"
#include "engine/factories.h"
#include "engine/parallel.h"

namespace ember {

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

std::array<uint32_t, 4> philox4x32_block(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key) {
  constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  auto [c0, c1, c2, c3] = counter;
  auto [k0, k1] = key;
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
  return {c0, c1, c2, c3};
}

std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t seed) {
  return philox4x32_block({static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0u, 0u},
                          {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
}

void philox4x32_blocks(uint64_t start, uint64_t seed, int64_t n, uint32_t* lane0, uint32_t* lane1, uint32_t* lane2,
                       uint32_t* lane3) {
  // The rounds of philox4x32_block on up to kChunk counters side by side (structure of arrays).
  // The inner loops' trip count is a run-time value on purpose: GCC would fully unroll a loop of a
  // small constant count, and the straight-line code left is only vectorised by the SLP pass this
  // build turns off (Note [No SLP vectorizer] in meson.build); the loop vectoriser takes this one.
  constexpr int64_t kChunk = 256;
  constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  int64_t base = 0;
#ifdef __AVX512F__
// GCC 12's avx512fintrin.h builds the shift and multiply intrinsics on _mm512_undefined_epi32(),
// which -Wmaybe-uninitialized reports at -O3 (GCC bug 105593): a false positive, silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
  // 16 counters per 512-bit register. The compiler vectorises the loop below with 64-bit
  // multiplies (vpmullq, 3 uops); the rounds need only 32 x 32 -> 64 products, which vpmuludq gives
  // for the even 32-bit lanes, so the odd lanes are shifted down, multiplied, and merged back.
  {
    const __m512i m0 = _mm512_set1_epi64(M0), m1 = _mm512_set1_epi64(M1);
    const __m512i lane_index = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    constexpr __mmask16 kOdd = 0xAAAA;
    for (; base + 16 <= n; base += 16) {
      // counters start + base + i, i = 0..15: low words in c0, high words in c1 (lane i).
      const __m512i first = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(start + static_cast<uint64_t>(base))), lane_index);
      const __m512i second = _mm512_add_epi64(first, _mm512_set1_epi64(8));
      // 64-bit counters (8 per register) -> 32-bit words in lane order 0..15.
      const __m512i words_low = _mm512_permutex2var_epi32(
          first, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), second);
      const __m512i words_high = _mm512_permutex2var_epi32(
          first, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), second);
      __m512i c0 = words_low, c1 = words_high, c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
      uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
      for (int round = 0; round < 10; ++round) {
        // p = M · c per 32-bit lane as hi:lo words.
        const __m512i p0_even = _mm512_mul_epu32(c0, m0), p0_odd = _mm512_mul_epu32(_mm512_srli_epi64(c0, 32), m0);
        const __m512i p1_even = _mm512_mul_epu32(c2, m1), p1_odd = _mm512_mul_epu32(_mm512_srli_epi64(c2, 32), m1);
        const __m512i hi0 = _mm512_mask_mov_epi32(_mm512_srli_epi64(p0_even, 32), kOdd, p0_odd);
        const __m512i lo0 = _mm512_mask_mov_epi32(p0_even, kOdd, _mm512_slli_epi64(p0_odd, 32));
        const __m512i hi1 = _mm512_mask_mov_epi32(_mm512_srli_epi64(p1_even, 32), kOdd, p1_odd);
        const __m512i lo1 = _mm512_mask_mov_epi32(p1_even, kOdd, _mm512_slli_epi64(p1_odd, 32));
        c0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), _mm512_set1_epi32(static_cast<int>(k0)));
        c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), _mm512_set1_epi32(static_cast<int>(k1)));
        c1 = lo1;
        c3 = lo0;
        k0 += W0;
        k1 += W1;
      }
      _mm512_storeu_si512(lane0 + base, c0);
      _mm512_storeu_si512(lane1 + base, c1);
      if (lane2 != nullptr) _mm512_storeu_si512(lane2 + base, c2);
      if (lane3 != nullptr) _mm512_storeu_si512(lane3 + base, c3);
    }
  }
#pragma GCC diagnostic pop
#endif
  alignas(64) uint32_t c0[kChunk], c1[kChunk], c2[kChunk], c3[kChunk];
  for (; base < n; base += kChunk) {
    const int64_t m = std::min(kChunk, n - base);
    for (int64_t j = 0; j < m; ++j) {
      const uint64_t counter = start + static_cast<uint64_t>(base + j);
      c0[j] = static_cast<uint32_t>(counter);
      c1[j] = static_cast<uint32_t>(counter >> 32);
      c2[j] = 0u;
      c3[j] = 0u;
    }
    uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
    for (int round = 0; round < 10; ++round) {
      for (int64_t j = 0; j < m; ++j) {
        const uint64_t p0 = static_cast<uint64_t>(M0) * c0[j];
        const uint64_t p1 = static_cast<uint64_t>(M1) * c2[j];
        const uint32_t next0 = static_cast<uint32_t>(p1 >> 32) ^ c1[j] ^ k0;
        const uint32_t next2 = static_cast<uint32_t>(p0 >> 32) ^ c3[j] ^ k1;
        c1[j] = static_cast<uint32_t>(p1);
        c3[j] = static_cast<uint32_t>(p0);
        c0[j] = next0;
        c2[j] = next2;
      }
      k0 += W0;
      k1 += W1;
    }
    std::copy(c0, c0 + m, lane0 + base);
    std::copy(c1, c1 + m, lane1 + base);
    if (lane2 != nullptr) std::copy(c2, c2 + m, lane2 + base);
    if (lane3 != nullptr) std::copy(c3, c3 + m, lane3 + base);
  }
}

namespace {

// Fills a fresh contiguous tensor with value_of(block) for block = start + i, in parallel.
template <class F>
Tensor fill_random(const Shape& sizes, Generator& gen, const TensorOptions& options, const char* op, F value_of) {
  // Drawn on the CPU and moved in one copy: the same seed gives the same numbers on every device.
  Tensor out = make_tensor(sizes, options.dtype_, Device::cpu());
  const int64_t n = out.numel();
  const uint64_t start = gen.advance(static_cast<uint64_t>(n));
  const uint64_t seed = gen.seed();
  dispatch_all(options.dtype_, op, [&]<class T>() {
    T* p = out.data_ptr<T>();
    parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
      // The blocks a chunk at a time from the vectorised generator; the same numbers as
      // value_of(philox4x32(start + i, seed)) element by element.
      constexpr int64_t kChunk = 256;
      uint32_t l0[kChunk], l1[kChunk], l2[kChunk], l3[kChunk];
      for (int64_t chunk = begin; chunk < end; chunk += kChunk) {
        const int64_t count = std::min(kChunk, end - chunk);
        philox4x32_blocks(start + static_cast<uint64_t>(chunk), seed, count, l0, l1, l2, l3);
        for (int64_t j = 0; j < count; ++j)
          p[chunk + j] = static_cast<T>(value_of(std::array<uint32_t, 4>{l0[j], l1[j], l2[j], l3[j]}));
      }
    });
  });
  if (!options.device_.is_cpu()) out = out.to(options.device_);
  if (options.requires_grad_) out.requires_grad_(true);
  return out;
}

double standard_normal(const std::array<uint32_t, 4>& r) {
  // Box-Muller; 1 - u keeps the log argument in (0, 1].
  const double u1 = 1.0 - uniform_from_bits(r[0], r[1]);
  const double u2 = uniform_from_bits(r[2], r[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace

Tensor uniform(double low, double high, const Shape& sizes, Generator& gen, TensorOptions options) {
  EMBER_CHECK(is_floating(options.dtype_), "uniform: dtype must be floating, got {}", dtype_name(options.dtype_));
  EMBER_CHECK(low <= high, "uniform: low {} is greater than high {}", low, high);
  const bool is_float = options.dtype_ == DType::f32;
  return fill_random(sizes, gen, options, "uniform", [=](const std::array<uint32_t, 4>& r) {
    double v = low + (high - low) * uniform_from_bits(r[0], r[1]);
    // Rounding to float32 can land on `high`; keep the interval half-open.
    if (is_float && static_cast<float>(v) >= static_cast<float>(high) && high > low) v = std::nextafter(static_cast<float>(high), -INFINITY);
    return v;
  });
}

Tensor rand(const Shape& sizes, Generator& gen, TensorOptions options) { return uniform(0.0, 1.0, sizes, gen, options); }
Tensor rand(const Shape& sizes, TensorOptions options) { return rand(sizes, default_generator(), options); }

Tensor normal(double mean, double std, const Shape& sizes, Generator& gen, TensorOptions options) {
  EMBER_CHECK(is_floating(options.dtype_), "normal: dtype must be floating, got {}", dtype_name(options.dtype_));
  EMBER_CHECK(std >= 0.0, "normal: std must be non-negative, got {}", std);
  return fill_random(sizes, gen, options, "normal",
                     [=](const std::array<uint32_t, 4>& r) { return mean + std * standard_normal(r); });
}
Tensor normal(double mean, double std, const Shape& sizes, TensorOptions options) {
  return normal(mean, std, sizes, default_generator(), options);
}
Tensor randn(const Shape& sizes, Generator& gen, TensorOptions options) { return normal(0.0, 1.0, sizes, gen, options); }
Tensor randn(const Shape& sizes, TensorOptions options) { return randn(sizes, default_generator(), options); }

Tensor randint(int64_t low, int64_t high, const Shape& sizes, Generator& gen, TensorOptions options) {
  EMBER_CHECK(low < high, "randint: low {} must be less than high {}", low, high);
  const uint64_t range = static_cast<uint64_t>(high - low);
  return fill_random(sizes, gen, options, "randint", [=](const std::array<uint32_t, 4>& r) {
    const uint64_t bits = (static_cast<uint64_t>(r[0]) << 32) | r[1];
    return static_cast<double>(low + static_cast<int64_t>(bits % range));
  });
}
Tensor randint(int64_t low, int64_t high, const Shape& sizes, TensorOptions options) {
  return randint(low, high, sizes, default_generator(), options);
}

Tensor bernoulli(const Shape& sizes, double p, Generator& gen, TensorOptions options) {
  EMBER_CHECK(p >= 0.0 && p <= 1.0, "bernoulli: probability {} is outside [0, 1]", p);
  return fill_random(sizes, gen, options, "bernoulli",
                     [=](const std::array<uint32_t, 4>& r) { return uniform_from_bits(r[0], r[1]) < p ? 1.0 : 0.0; });
}

Tensor bernoulli(const Tensor& p, Generator& gen) {
  check_cpu("bernoulli", {&p});
  EMBER_CHECK(is_floating(p.dtype()), "bernoulli: probabilities must be floating, got {}", p.describe());
  Tensor probs = p.contiguous().to(DType::f64);
  const double* pp = probs.data_ptr<double>();
  for (int64_t i = 0; i < probs.numel(); ++i)
    EMBER_CHECK(pp[i] >= 0.0 && pp[i] <= 1.0, "bernoulli: probability {} at index {} is outside [0, 1]", pp[i], i);
  Tensor u = rand(p.sizes(), gen, DType::f64);
  const double* up = u.data_ptr<double>();
  Tensor out = make_tensor(p.sizes(), DType::f64);
  double* op = out.data_ptr<double>();
  for (int64_t i = 0; i < probs.numel(); ++i) op[i] = up[i] < pp[i] ? 1.0 : 0.0;
  return out.to(p.dtype());
}
Tensor bernoulli(const Tensor& p) { return bernoulli(p, default_generator()); }

Tensor randperm(int64_t n, Generator& gen) {
  EMBER_CHECK(n >= 0, "randperm: n must be non-negative, got {}", n);
  Tensor out = arange(0.0, static_cast<double>(n), 1.0, DType::i64);
  int64_t* p = out.data_ptr<int64_t>();
  const uint64_t start = gen.advance(static_cast<uint64_t>(n));
  // Fisher-Yates with one Philox block per step.
  for (int64_t i = n - 1; i > 0; --i) {
    auto r = philox4x32(start + static_cast<uint64_t>(i), gen.seed());
    const uint64_t bits = (static_cast<uint64_t>(r[0]) << 32) | r[1];
    std::swap(p[i], p[bits % static_cast<uint64_t>(i + 1)]);
  }
  return out;
}

}  // namespace ember
