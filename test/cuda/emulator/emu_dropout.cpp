// cuda/dropout.cu in the host emulator (run.sh): the mask must be the engine's Philox stream
// (engine/random.cpp philox4x32, engine/random.h uniform_from_bits: run.sh copies those functions
// verbatim into engine_philox.inc, so the reference is the CPU's own code), for counters that
// cross the 32-bit boundary, seeds with high bits set, keep probabilities 0.7, 1 and 0, sizes over
// several blocks; also checks the copied engine code against Random123's known-answer vector.
#include <array>

#include "emu.h"
#include "dropout_emu.inc"

namespace engine_ref {
#include "engine_philox.inc"
}

using namespace ember::cuda;

template <class T> constexpr ScalarType scalar_type_of() {
  if constexpr (std::is_same_v<T, float>) return ScalarType::f32;
  else if constexpr (std::is_same_v<T, double>) return ScalarType::f64;
  else return ScalarType::bf16;
}

template <class T> void run(int64_t n, double keep_prob, uint64_t seed, uint64_t offset) {
  const double scale = keep_prob > 0 ? 1.0 / keep_prob : 0.0;
  emu::Array<T> x(n), out(n, T(-9.0f)), mask(n, T(-9.0f));
  for (int64_t i = 0; i < n; ++i) x[i] = T(static_cast<float>(0.25 * (i % 17) - 2));
  dropout_forward(out.data(), mask.data(), x.data(), scalar_type_of<T>(), n, keep_prob, scale, seed, offset, Stream{});
  int64_t wrong_mask = 0, wrong_out = 0, kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto r = engine_ref::philox4x32(offset + static_cast<uint64_t>(i), seed);
    const T m = engine_ref::uniform_from_bits(r[0], r[1]) < keep_prob ? T(static_cast<float>(scale)) : T(0.0f);
    const double want_m = emu::to_double(m) != 0 ? emu::to_double(convert<T>(scale)) : 0.0;
    kept += want_m != 0;
    wrong_mask += emu::to_double(mask[i]) != want_m;
    wrong_out += emu::to_double(out[i]) != emu::to_double(T(static_cast<acc_t<T>>(emu::to_double(x[i]) * want_m)));
  }
  char line[200];
  std::snprintf(line, sizeof line, "dropout %s n=%ld keep=%.1f seed=%#llx offset=%#llx: %ld kept, %ld wrong mask, %ld wrong out",
                emu::type_name<T>(), n, keep_prob, static_cast<unsigned long long>(seed), static_cast<unsigned long long>(offset), kept,
                wrong_mask, wrong_out);
  emu::check(wrong_mask == 0 && wrong_out == 0, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  const auto kat = engine_ref::philox4x32_block({0, 0, 0, 0}, {0, 0});  // Random123 kat_vectors, philox4x32 10 rounds
  emu::check(kat[0] == 0x6627e8d5u && kat[1] == 0xe169c58du && kat[2] == 0xbc57ac4cu && kat[3] == 0x9b00dbd8u,
             "engine philox4x32_block known-answer vector (counter 0, key 0)");
  for (auto [n, keep, seed, offset] : {std::tuple{1000L, 0.7, 0x1234abcd9876ull, 0xfffffe00ull}, {7L, 0.7, 42ull, 0ull},
                                       {1L, 0.5, 3ull, 5ull}, {300L, 1.0, 9ull, 77ull}, {300L, 0.0, 9ull, 77ull}}) {
    run<float>(n, keep, seed, offset);
    run<double>(n, keep, seed, offset);
    run<__nv_bfloat16>(n, keep, seed, offset);
  }
  return emu::finish("emu_dropout");
}
