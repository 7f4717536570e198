// Backend consistency for the sequence and VQ kernels (cuda/fft, long_conv, short_conv,
// damped_ema, vq, vq_attention's composite path): every op on CUDA against the same op on the CPU, forward and gradients
// (check_cuda_matches_cpu), over awkward sizes: L = 1, 63, 500, 1000, 4097 (several tiles,
// FFT sizes with factors 3 and 5, padding and truncation), odd channel counts, codebooks of 1, 7
// and 512 codes, D = 3, 60, 64, float32 and float64, strided inputs. VQ indices must be equal
// exactly, ties included (integer-valued data makes every score exact, so ties are real).
// DEVICE_TEST_CASEs: skipped visibly without a GPU.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "cuda/consistency.h"
#include "cuda/device_test.h"
#include "ember_config.h"
#if EMBER_WITH_CUDA
#include "cuda/cufft_plan.h"  // EMBER_CUFFT_CHECK, run_real_fft
#endif

using namespace ember;
using ember::test::all_close;
using ember::test::check_cuda_matches_cpu;
using ember::test::ConsistencyOptions;
using ember::test::Tolerance;
using ember::test::values;

namespace {

constexpr DType kDtypes[] = {DType::f32, DType::f64};
constexpr int64_t kLengths[] = {1, 63, 500, 1000, 4097};

// "op dtype a b c" (the INFO line of a case); fmt, not string +, which trips g++ 12's -Wrestrict.
std::string label(const std::string& op, DType dtype, int64_t a, int64_t b = -1, int64_t c = -1) {
  return fmt::format("{} {} {} {} {}", op, dtype_name(dtype), a, b, c);
}

Tensor random(const Shape& shape, uint64_t seed, DType dtype) {
  Generator gen(seed);
  return randn(shape, gen, dtype);
}

// FFT results of unit-size inputs are ~magnitude (sqrt(L) for sums of ~L terms, 1/sqrt(n) for
// irfft's normalised ones): float32 agrees to a few 1e-6 of it, float64 to ~1e-14.
ConsistencyOptions fft_options_at(DType dtype, double magnitude) {
  ConsistencyOptions options;
  options.tolerance = dtype == DType::f32 ? Tolerance{1e-4, 2e-5 * magnitude} : Tolerance{1e-9, 1e-12 * magnitude};
  options.grad_scale = 2.0;
  return options;
}

// Sums of ~L unit terms.
ConsistencyOptions fft_options(DType dtype, int64_t L) {
  return fft_options_at(dtype, std::sqrt(static_cast<double>(std::max<int64_t>(L, 1))));
}

}  // namespace

// ---- fft ----

DEVICE_TEST_CASE("cuda rfft matches the CPU (any length, padding, truncation, strided input)") {
  for (DType dtype : kDtypes)
    for (int64_t L : kLengths)
      for (int64_t n : {int64_t{-1}, L + 5, std::max<int64_t>(1, L / 2)}) {
        // x built as (L, 3) and transposed inside: the op sees a strided (3, L) view.
        check_cuda_matches_cpu(label("rfft", dtype, L, n + 1), {random({L, 3}, 1, dtype)},
                               [n](const TensorList& in) { return TensorList{rfft(in[0].transpose(0, 1), n)}; },
                               fft_options(dtype, std::max(L, n)));
      }
}

DEVICE_TEST_CASE("cuda irfft matches the CPU (even and odd n, bins padded and truncated)") {
  for (DType dtype : kDtypes)
    for (int64_t L : kLengths) {
      const int64_t bins = L / 2 + 1;
      for (int64_t n : {L, L + 1, 2 * L + 3, std::max<int64_t>(1, L / 3)}) {
        check_cuda_matches_cpu(label("irfft", dtype, L, n), {random({2, 3, bins, 2}, 2, dtype)},
                               [n](const TensorList& in) { return TensorList{irfft(in[0], n)}; },
                               fft_options_at(dtype, 1.0 / std::sqrt(static_cast<double>(n))));
      }
    }
}

DEVICE_TEST_CASE("cuda irfft(rfft(x)) round-trips on the device") {
  for (DType dtype : kDtypes) {
    const Tensor x = random({5, 1000}, 3, dtype).cuda();
    const Tensor back = irfft(rfft(x), 1000);
    REQUIRE(back.device().is_cuda());
    CHECK(all_close(values(back.cpu()), values(x.cpu()), dtype == DType::f32 ? 1e-4 : 1e-10, 1e-5));
  }
}

// ---- long_conv ----

DEVICE_TEST_CASE("cuda long_conv (causal) matches the CPU, gradients in x and k") {
  for (DType dtype : kDtypes)
    for (int64_t L : kLengths) {
      const int64_t B = L > 1000 ? 1 : 2, D = L > 1000 ? 3 : 33;
      for (int64_t K : {int64_t{1}, (L + 1) / 2, L}) {
        // x built as (B, D, L) and transposed: strided channels, as a transposed activation.
        check_cuda_matches_cpu(label("long_conv causal", dtype, L, K),
                               {random({B, D, L}, 4, dtype), mul(random({D, K}, 5, dtype), 0.1)},
                               [](const TensorList& in) {
                                 return TensorList{long_conv(in[0].transpose(1, 2), in[1], /*causal=*/true)};
                               },
                               fft_options(dtype, L));
      }
    }
}

DEVICE_TEST_CASE("cuda long_conv (centred) matches the CPU, gradients in x and k") {
  for (DType dtype : kDtypes)
    for (int64_t L : {int64_t{1}, int64_t{63}, int64_t{500}, int64_t{1000}}) {
      for (int64_t K : {int64_t{1}, L | 1, 2 * L - 1}) {
        check_cuda_matches_cpu(label("long_conv centred", dtype, L, K),
                               {random({2, L, 7}, 6, dtype), mul(random({7, K}, 7, dtype), 0.1)},
                               [](const TensorList& in) {
                                 return TensorList{long_conv(in[0], in[1], /*causal=*/false)};
                               },
                               fft_options(dtype, 2 * L));
      }
    }
}

DEVICE_TEST_CASE("cuda long_conv second-order gradients match the CPU") {
  // The backward cores run the same kernels; a double backward goes through all three.
  const Tensor x = random({2, 63, 5}, 8, DType::f64), k = mul(random({5, 63}, 9, DType::f64), 0.1);
  auto grad_norm = [](const TensorList& in) {
    TensorList g = autograd::grad({sum(square(long_conv(in[0], in[1], true)))}, {in[0], in[1]}, {}, true, true);
    return TensorList{add(sum(square(g[0])), sum(square(g[1])))};
  };
  check_cuda_matches_cpu("long_conv double backward", {x, k}, grad_norm, fft_options(DType::f64, int64_t{63}));
}

// ---- short_conv ----

DEVICE_TEST_CASE("cuda short_conv matches the CPU (activations, bias, K, odd D)") {
  for (DType dtype : kDtypes)
    for (const char* activation : {"none", "silu", "gelu", "relu"})
      for (int64_t L : {int64_t{1}, int64_t{63}, int64_t{1000}})
        for (int64_t K : {int64_t{1}, int64_t{3}, int64_t{4}, int64_t{8}})
          for (bool with_bias : {false, true}) {
            const int64_t D = L == 1000 ? 33 : 7;
            ConsistencyOptions options;
            options.grad_scale = dtype == DType::f32 ? 10.0 : 1.0;  // grad_w sums B·L terms
            check_cuda_matches_cpu(label(std::string("short_conv ") + activation, dtype, L, K, with_bias),
                                   {random({2, L, D}, 10, dtype), random({D, K}, 11, dtype),
                                    with_bias ? random({D}, 12, dtype) : Tensor()},
                                   [activation](const TensorList& in) {
                                     return TensorList{short_conv(in[0], in[1], in[2], activation)};
                                   },
                                   options);
          }
}

DEVICE_TEST_CASE("cuda short_conv reads a strided grad_y (the expanded gradient of sum)") {
  for (DType dtype : kDtypes) {
    check_cuda_matches_cpu(label("short_conv sum", dtype, 500),
                           {random({3, 500, 9}, 13, dtype), random({9, 4}, 14, dtype), random({9}, 15, dtype)},
                           [](const TensorList& in) {
                             return TensorList{sum(short_conv(in[0], in[1], in[2], "gelu"))};
                           },
                           ConsistencyOptions{true, {}, 10.0});
  }
}

// ---- damped EMA ----

DEVICE_TEST_CASE("cuda damped_ema_kernel matches the CPU, gradients in all four parameters") {
  for (DType dtype : kDtypes)
    for (int64_t L : {int64_t{1}, int64_t{63}, int64_t{500}}) {
      check_cuda_matches_cpu(label("damped_ema_kernel", dtype, L),
                             {random({5, 4}, 16, dtype), random({5, 4}, 17, dtype), random({5, 4}, 18, dtype),
                              random({5, 4}, 19, dtype)},
                             [L](const TensorList& in) {
                               return TensorList{damped_ema_kernel(in[0], in[1], in[2], in[3], L)};
                             },
                             fft_options(dtype, L));
    }
}

DEVICE_TEST_CASE("cuda damped_ema matches the CPU (causal and bidirectional)") {
  for (DType dtype : kDtypes)
    for (int64_t L : {int64_t{1}, int64_t{63}, int64_t{500}})
      for (bool bidirectional : {false, true}) {
        check_cuda_matches_cpu(label("damped_ema", dtype, L, bidirectional),
                               {random({2, L, 5}, 20, dtype), random({5, 4}, 21, dtype), random({5, 4}, 22, dtype),
                                random({5, 4}, 23, dtype), random({5, 4}, 24, dtype), random({5}, 25, dtype)},
                               [bidirectional](const TensorList& in) {
                                 return TensorList{damped_ema(in[0], in[1], in[2], in[3], in[4], in[5], bidirectional)};
                               },
                               fft_options(dtype, 2 * L));
      }
}

// ---- vq ----

namespace {

ConsistencyOptions no_gradients() {
  ConsistencyOptions options;
  options.check_gradients = false;
  return options;
}

TensorList nearest(const TensorList& in) {
  NearestCodes codes = vq_nearest(in[0], in[1]);
  return {codes.indices, codes.distances};
}

// Integer values in [-3, 3]: every product and sum is exact in float32, so equal scores are
// exactly equal on both backends and the tie-break (lowest code) is what is compared.
Tensor small_integers(const Shape& shape, uint64_t seed, DType dtype) {
  Generator gen(seed);
  return randint(-3, 4, shape, gen).to(dtype);
}

}  // namespace

DEVICE_TEST_CASE("cuda vq_nearest gives the CPU's indices exactly (float64, random)") {
  for (int64_t N : {int64_t{1}, int64_t{33}, int64_t{1000}})
    for (int64_t K : {int64_t{1}, int64_t{7}, int64_t{512}})
      for (int64_t D : {int64_t{3}, int64_t{60}, int64_t{64}}) {
        check_cuda_matches_cpu(label("vq_nearest", DType::f64, N, K, D),
                               {random({N, D}, 30, DType::f64), random({K, D}, 31, DType::f64)}, nearest,
                               no_gradients());
      }
}

DEVICE_TEST_CASE("cuda vq_nearest breaks ties like the CPU (integer data, duplicate codes)") {
  for (DType dtype : kDtypes)
    for (int64_t K : {int64_t{1}, int64_t{7}, int64_t{512}})
      for (int64_t D : {int64_t{3}, int64_t{60}, int64_t{64}}) {
        Tensor codebook = small_integers({K, D}, 32, dtype);
        if (K > 1) {  // every code of the second half repeats one of the first: exact ties
          const int64_t half = K / 2;
          codebook = cat({codebook.narrow(0, 0, K - half), codebook.narrow(0, 0, half)}, 0);
        }
        check_cuda_matches_cpu(label("vq_nearest ties", dtype, K, D), {small_integers({1000, D}, 33, dtype), codebook},
                               nearest, no_gradients());
      }
}

DEVICE_TEST_CASE("cuda vq_nearest: a point halfway between two codes takes the lower one") {
  // codes: (2, 0), (-2, 0), (0, 5); z = 0 is at distance 4 from codes 0 and 1.
  for (DType dtype : kDtypes) {
    const Tensor codebook = from_vector(std::vector<double>{2, 0, -2, 0, 0, 5}, {3, 2}).to(dtype).cuda();
    const Tensor reversed = from_vector(std::vector<double>{0, 5, -2, 0, 2, 0}, {3, 2}).to(dtype).cuda();
    const Tensor z = zeros({4, 2}, TensorOptions(dtype).device(Device::cuda(0)));
    CHECK(values(vq_nearest(z, codebook).indices.cpu()) == std::vector<double>{0, 0, 0, 0});
    CHECK(values(vq_nearest(z, reversed).indices.cpu()) == std::vector<double>{1, 1, 1, 1});
    CHECK(values(vq_nearest(z, codebook).distances.cpu()) == std::vector<double>{4, 4, 4, 4});
  }
}

DEVICE_TEST_CASE("cuda vq_nearest float32 random: the chosen distance is the CPU's minimum") {
  // Rounding may swap two codes whose distances differ by ~1e-7 relative; the distance may not.
  for (int64_t K : {int64_t{7}, int64_t{512}}) {
    const Tensor z = random({1000, 60}, 34, DType::f32), codebook = random({K, 60}, 35, DType::f32);
    const NearestCodes host = vq_nearest(z, codebook), device = vq_nearest(z.cuda(), codebook.cuda());
    CHECK(all_close(values(device.distances.cpu()), values(host.distances), 1e-4, 1e-4));
  }
}

DEVICE_TEST_CASE("cuda vq_quantize_st matches the CPU, straight-through gradient") {
  for (DType dtype : kDtypes)
    for (int64_t K : {int64_t{1}, int64_t{7}, int64_t{512}}) {
      Generator gen(36);
      const Tensor indices = randint(0, K, {2, 3, 5}, gen);
      check_cuda_matches_cpu(label("vq_quantize_st", dtype, K),
                             {random({2, 3, 5, 60}, 37, dtype), random({K, 60}, 38, dtype), indices},
                             [](const TensorList& in) { return TensorList{vq_quantize_st(in[0], in[1], in[2])}; });
    }
}

DEVICE_TEST_CASE("cuda vq_code_counts and vq_perplexity match the CPU exactly") {
  for (int64_t K : {int64_t{1}, int64_t{7}, int64_t{512}}) {
    Generator gen(39);
    const Tensor indices = randint(0, K, {4097}, gen);
    const Tensor host = vq_code_counts(indices, K), device = vq_code_counts(indices.cuda(), K);
    REQUIRE(device.device().is_cuda());
    CHECK(values(device.cpu()) == values(host));
    CHECK(vq_perplexity(device) == vq_perplexity(host));
  }
}

DEVICE_TEST_CASE("cuda vq ops reject an out-of-range index like the CPU") {
  const Tensor codebook = random({7, 3}, 40, DType::f32).cuda();
  const Tensor z = random({4, 3}, 41, DType::f32).cuda();
  const Tensor bad = from_vector(std::vector<int64_t>{0, 6, 7, -1}, {4}).cuda();
  CHECK_THROWS_WITH(vq_quantize_st(z, codebook, bad), Catch::Contains("index 7 at position 2"));
  CHECK_THROWS_WITH(vq_code_counts(bad, 7), Catch::Contains("index 7 at position 2"));
  // The device stays usable after the error.
  CHECK(values(vq_code_counts(bad.narrow(0, 0, 2), 7).cpu()) == std::vector<double>{1, 0, 0, 0, 0, 0, 1});
}

// ---- devices ----

DEVICE_TEST_CASE("cuda sequence ops name both devices when given a CPU and a CUDA tensor") {
  const Tensor x = random({2, 8, 3}, 42, DType::f32);
  const Tensor k = random({3, 4}, 43, DType::f32);
  CHECK_THROWS_WITH(long_conv(x.cuda(), k), Catch::Contains("cuda:0") && Catch::Contains("cpu"));
  CHECK_THROWS_WITH(short_conv(x, k.cuda()), Catch::Contains("cuda:0") && Catch::Contains("cpu"));
  CHECK_THROWS_WITH(vq_nearest(x.select(0, 0).cuda(), k.narrow(1, 0, 3)),
                    Catch::Contains("cuda:0") && Catch::Contains("cpu"));
}

DEVICE_TEST_CASE("cuda vq_attention (the composite path) matches the CPU's linear-time kernel") {
  // Note [VQ attention on CUDA]: same values and gradients (q, v, bias exact; k from near keys).
  for (DType dtype : kDtypes)
    for (int64_t L : {int64_t{1}, int64_t{63}, int64_t{200}})
      for (int64_t S : {int64_t{1}, int64_t{7}})
        for (int64_t window : {int64_t{0}, int64_t{4}})
          for (bool causal : {true, false})
            for (bool shared : {false, true}) {
              const int64_t B = 2, H = 3, d = 8, dv = 5;
              VQAttentionOptions options;
              options.causal = causal;
              options.window = window;
              Generator gen(50);
              const Tensor indices = randint(0, S, {B, H, L}, gen);
              const Tensor codebook = shared ? random({S, d}, 51, dtype) : random({H, S, d}, 51, dtype);
              const Tensor bias = window > 0 ? random({H, causal ? window : 2 * window - 1}, 52, dtype) : Tensor();
              ConsistencyOptions consistency;
              consistency.grad_scale = 10.0;
              check_cuda_matches_cpu(
                  fmt::format("vq_attention {} L {} S {} W {} causal {} shared {}", dtype_name(dtype), L, S, window,
                              causal, shared),
                  {random({B, H, L, d}, 53, dtype), random({B, H, L, d}, 54, dtype), random({B, H, L, dv}, 55, dtype),
                   indices, codebook, bias},
                  [options](const TensorList& in) {
                    return TensorList{vq_attention(in[0], in[1], in[2], in[3], in[4], options, in[5])};
                  },
                  consistency);
            }
}

DEVICE_TEST_CASE("cuda vq_attention rejects an out-of-range index") {
  const Tensor q = random({1, 1, 4, 2}, 44, DType::f32).cuda();
  const Tensor indices = from_vector(std::vector<int64_t>{0, 1, 3, 2}, {1, 1, 4}).cuda();
  const Tensor codebook = random({3, 2}, 45, DType::f32).cuda();
  VQAttentionOptions options;
  options.window = 0;
  CHECK_THROWS_WITH(vq_attention(q, q, q, indices, codebook, options), Catch::Contains("index 3 at position 2"));
}

// Runs everywhere: the device-aware allocation in the op front ends keeps CPU results on the CPU.
TEST_CASE("sequence ops keep CPU outputs on the CPU", "[cuda]") {
  const Tensor x = random({2, 16, 3}, 46, DType::f32);
  CHECK(rfft(x).device().is_cpu());
  CHECK(long_conv(x, random({3, 5}, 47, DType::f32)).device().is_cpu());
  CHECK(short_conv(x, random({3, 4}, 48, DType::f32), Tensor(), "silu").device().is_cpu());
  const NearestCodes codes = vq_nearest(x.select(0, 0), random({7, 3}, 49, DType::f32));
  CHECK(codes.indices.device().is_cpu());
  CHECK(vq_code_counts(codes.indices, 7).device().is_cpu());
}

#if EMBER_WITH_CUDA
// Run in every CUDA build (no device needed: nothing reaches the driver).
TEST_CASE("EMBER_CUFFT_CHECK names the call, cuFFT's error and file:line", "[cuda]") {
  const auto fails = [] { EMBER_CUFFT_CHECK(CUFFT_INVALID_SIZE); };
  CHECK_THROWS_WITH(fails(), Catch::Contains("cufft: CUFFT_INVALID_SIZE failed: CUFFT_INVALID_SIZE (8)") &&
                                 Catch::Contains("test_consistency_sequence.cpp:"));
}

TEST_CASE("cuda real FFTs reject a size outside [1, 2^30] before touching the device", "[cuda]") {
  CHECK_THROWS_WITH(cuda::run_real_fft(cuda::FftDirection::forward, cuda::ScalarType::f32, 0, 1, nullptr, nullptr,
                                       cuda::Stream{}),
                    Catch::Contains("transform size 0 is out of range"));
}
#endif
