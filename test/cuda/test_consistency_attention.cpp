// CUDA vs CPU for the attention kernels (cuda/attention.cu, cuda/linear_attention.cu): forward
// and gradients through check_cuda_matches_cpu on awkward lengths (L = 1, 63, 500, 1000: one
// partial tile, several tiles, a ragged last tile), head dims 60, 64 and 128, causal and not,
// masks (bool, float with a gradient, broadcast, fully masked rows), dropout (the same Philox
// stream on both devices), non-contiguous inputs, bfloat16/float16 against the CPU in float32;
// linear attention with every option (feature maps, normalizer, decay per head and per step,
// chunk sizes). The reference ladder: the CUDA kernels against the CPU's naive reference and
// recurrent forms. Every case needs a device (DEVICE_TEST_CASE prints SKIPPED without one).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "ember.h"
#include "helpers.h"
#include "test/cuda/consistency.h"
#include "test/cuda/device_test.h"

using namespace ember;
using ember::test::all_close;
using ember::test::check_cuda_matches_cpu;
using ember::test::ConsistencyOptions;
using ember::test::values;

namespace {

constexpr int64_t kLengths[] = {1, 63, 500, 1000};
constexpr int64_t kHeadDims[] = {60, 64};

std::string label(const char* what, int64_t L, int64_t d, bool causal, DType dtype) {
  return std::string(what) + " L=" + std::to_string(L) + " d=" + std::to_string(d) + (causal ? " causal " : " full ") +
         dtype_name(dtype);
}

// (B, H, L, d) normal inputs times `scale`.
Tensor normal_input(Generator& gen, const Shape& shape, DType dtype, double scale = 1.0) {
  return mul(randn(shape, gen, DType::f64), scale).to(dtype);
}

ConsistencyOptions loose_float32(double grad_scale = 10.0) {
  ConsistencyOptions options;
  options.grad_scale = grad_scale;  // gradients sum over up to 1000 keys in a different order
  return options;
}

// SDPA on CUDA in a 16-bit dtype; on the CPU (no 16-bit kernel) the same rounded inputs in
// float32, the result rounded to the 16-bit dtype: both sides see the same numbers and
// accumulate in fp32. Both return float32 (the harness draws its output gradients with randn,
// which has no 16-bit fill); the input gradients are 16-bit on both sides.
TensorList sdpa_16bit(const TensorList& in, bool causal) {
  const DType dtype = in[0].dtype();
  if (in[0].device().is_cuda()) {
    return {scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), 0.0, causal).to(DType::f32)};
  }
  const Tensor out = scaled_dot_product_attention(in[0].to(DType::f32), in[1].to(DType::f32), in[2].to(DType::f32),
                                                  Tensor(), 0.0, causal);
  return {out.to(dtype).to(DType::f32)};
}

}  // namespace

// ---------------------------------------------------------------- scaled_dot_product_attention

DEVICE_TEST_CASE("cuda sdpa: lengths 1..1000, head dims 60/64, causal and not, float32 and float64") {
  Generator gen(11);
  for (int64_t L : kLengths) {
    for (int64_t d : kHeadDims) {
      for (bool causal : {false, true}) {
        for (DType dtype : {DType::f32, DType::f64}) {
          if (dtype == DType::f64 && L == 1000) continue;  // float32 covers the longest length
          const Shape shape = {1, 2, L, d};
          const TensorList in = {normal_input(gen, shape, dtype), normal_input(gen, shape, dtype),
                                 normal_input(gen, shape, dtype)};
          check_cuda_matches_cpu(label("sdpa", L, d, causal, dtype), in,
                                 [causal](const TensorList& x) {
                                   return TensorList{scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), 0.0,
                                                                                  causal)};
                                 },
                                 dtype == DType::f32 ? loose_float32() : ConsistencyOptions{});
        }
      }
    }
  }
}

DEVICE_TEST_CASE("cuda sdpa: head dim 128, dv != d, S != L, explicit scale") {
  Generator gen(12);
  for (bool causal : {false, true}) {
    const TensorList in = {normal_input(gen, {2, 3, 500, 128}, DType::f32),
                           normal_input(gen, {2, 3, 500, 128}, DType::f32),
                           normal_input(gen, {2, 3, 500, 128}, DType::f32)};
    check_cuda_matches_cpu(label("sdpa", 500, 128, causal, DType::f32), in, [causal](const TensorList& x) {
      return TensorList{scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), 0.0, causal)};
    }, loose_float32());
  }
  // Cross attention: 63 queries, 100 keys of dim 32, values of dim 48; causal is top-left aligned.
  for (bool causal : {false, true}) {
    const TensorList in = {normal_input(gen, {2, 63, 32}, DType::f64), normal_input(gen, {2, 100, 32}, DType::f64),
                           normal_input(gen, {2, 100, 48}, DType::f64)};
    check_cuda_matches_cpu(causal ? "sdpa cross causal" : "sdpa cross", in, [causal](const TensorList& x) {
      return TensorList{scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), 0.0, causal, 0.3)};
    });
  }
  // More queries than keys, causal: rows past S see every key.
  const TensorList in = {normal_input(gen, {1, 70, 8}, DType::f64), normal_input(gen, {1, 33, 8}, DType::f64),
                         normal_input(gen, {1, 33, 8}, DType::f64)};
  check_cuda_matches_cpu("sdpa L > S causal", in, [](const TensorList& x) {
    return TensorList{scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), 0.0, true)};
  });
}

DEVICE_TEST_CASE("cuda sdpa: bool and float masks, broadcast, fully masked rows, mask gradient") {
  Generator gen(13);
  const int64_t L = 63, S = 70, d = 16;
  const Tensor q = normal_input(gen, {2, 3, L, d}, DType::f64);
  const Tensor k = normal_input(gen, {2, 3, S, d}, DType::f64);
  const Tensor v = normal_input(gen, {2, 3, S, d}, DType::f64);
  // A (L, S) bool mask shared by every batch and head, with row 5 fully masked (its output is 0).
  const Tensor row_is_kept = ne(arange(0, L, 1, DType::f64).reshape({L, 1}), 5.0).to(DType::f64);  // 0 on row 5
  const Tensor keep = gt(mul(rand({L, S}, gen, DType::f64), row_is_kept), 0.3);
  check_cuda_matches_cpu("sdpa bool mask", {q, k, v, keep}, [](const TensorList& x) {
    return TensorList{scaled_dot_product_attention(x[0], x[1], x[2], x[3])};
  });
  // A float mask per batch, broadcast over heads: (2, 1, L, S); its gradient is summed over heads.
  const Tensor bias = normal_input(gen, {2, 1, L, S}, DType::f64);
  check_cuda_matches_cpu("sdpa float mask (grad)", {q, k, v, bias}, [](const TensorList& x) {
    return TensorList{scaled_dot_product_attention(x[0], x[1], x[2], x[3])};
  });
  // Float mask in float32 with -inf entries.
  const Tensor neg = where(gt(rand({L, S}, gen, DType::f64), 0.8), full({L, S}, -INFINITY, DType::f64), 0.0).to(DType::f32);
  check_cuda_matches_cpu("sdpa -inf float mask", {q.to(DType::f32), k.to(DType::f32), v.to(DType::f32), neg},
                         [](const TensorList& x) {
                           return TensorList{scaled_dot_product_attention(x[0], x[1], x[2], x[3])};
                         }, loose_float32());
}

DEVICE_TEST_CASE("cuda sdpa: non-contiguous and broadcast inputs") {
  Generator gen(14);
  // (B, L, H, d) transposed to (B, H, L, d): a view, not contiguous.
  const Tensor q = normal_input(gen, {2, 500, 3, 64}, DType::f32);
  const Tensor k = normal_input(gen, {2, 500, 3, 64}, DType::f32);
  const Tensor v = normal_input(gen, {2, 500, 3, 64}, DType::f32);
  check_cuda_matches_cpu("sdpa transposed", {q, k, v}, [](const TensorList& x) {
    return TensorList{scaled_dot_product_attention(x[0].transpose(1, 2), x[1].transpose(1, 2), x[2].transpose(1, 2),
                                                   Tensor(), 0.0, true)};
  }, loose_float32());
  // Keys and values shared by every head: (B, 1, S, d) against queries (B, H, L, d).
  const Tensor qh = normal_input(gen, {2, 4, 33, 64}, DType::f64);
  const Tensor k1 = normal_input(gen, {2, 1, 40, 64}, DType::f64);
  const Tensor v1 = normal_input(gen, {2, 1, 40, 64}, DType::f64);
  check_cuda_matches_cpu("sdpa broadcast kv", {qh, k1, v1}, [](const TensorList& x) {
    return TensorList{scaled_dot_product_attention(x[0], x[1], x[2])};
  });
}

DEVICE_TEST_CASE("cuda sdpa: dropout draws the CPU's Philox stream") {
  Generator gen(15);
  const TensorList in = {normal_input(gen, {2, 2, 63, 64}, DType::f64), normal_input(gen, {2, 2, 63, 64}, DType::f64),
                         normal_input(gen, {2, 2, 63, 64}, DType::f64)};
  for (bool causal : {false, true}) {
    check_cuda_matches_cpu(causal ? "sdpa dropout causal" : "sdpa dropout", in, [causal](const TensorList& x) {
      Generator dropout_gen(99);  // the same generator state on both devices
      return TensorList{scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), 0.3, causal, std::nullopt,
                                                     &dropout_gen)};
    });
  }
}

DEVICE_TEST_CASE("cuda sdpa: bfloat16 and float16 against the CPU in float32 (tensor-core and CUDA-core forwards)") {
  Generator gen(16);
  for (DType dtype : {DType::bf16, DType::f16}) {
    for (int64_t d : {60, 64, 128}) {  // 64 and 128: the tensor-core forward; 60: the CUDA-core one
      for (bool causal : {false, true}) {
        const Shape shape = {1, 2, 1000, d};
        const TensorList in = {normal_input(gen, shape, dtype), normal_input(gen, shape, dtype),
                               normal_input(gen, shape, dtype)};
        ConsistencyOptions options;
        // About two units in the last place of the 16-bit outputs (the GPU's dO ∘ O uses the
        // rounded O); the gradients twice that.
        options.tolerance = dtype == DType::bf16 ? ember::test::Tolerance{4e-2, 4e-2} : ember::test::Tolerance{1e-2, 1e-2};
        options.grad_scale = 2.0;
        check_cuda_matches_cpu(label("sdpa", 1000, d, causal, dtype), in,
                               [causal](const TensorList& x) { return sdpa_16bit(x, causal); }, options);
      }
    }
  }
}

DEVICE_TEST_CASE("cuda sdpa: the fused kernel matches the CPU's naive reference (float64)") {
  Generator gen(17);
  for (bool causal : {false, true}) {
    const Tensor q = normal_input(gen, {2, 2, 500, 60}, DType::f64);
    const Tensor k = normal_input(gen, {2, 2, 500, 60}, DType::f64);
    const Tensor v = normal_input(gen, {2, 2, 500, 60}, DType::f64);
    const Tensor fused = scaled_dot_product_attention(q.cuda(), k.cuda(), v.cuda(), Tensor(), 0.0, causal).cpu();
    const Tensor reference = detail::attention_reference(q, k, v, Tensor(), causal);
    CHECK(all_close(fused, reference, 1e-10, 1e-12));
  }
}

DEVICE_TEST_CASE("cuda sdpa: tensors on two devices are an error naming both") {
  const Tensor q = ones({1, 4, 8}).cuda();
  const Tensor k = ones({1, 4, 8});
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, k), Catch::Contains("cuda:0") && Catch::Contains("cpu"));
}

// ---------------------------------------------------------------- linear_attention

namespace {

struct LinearCase {
  std::string name;
  LinearAttentionOptions options;
  int decay = 0;  // 0: none, 1: per head (H), 2: per step (B, H, L)
};

std::vector<LinearCase> linear_cases() {
  std::vector<LinearCase> cases;
  for (const char* map : {"identity", "elu1", "relu"}) {
    LinearAttentionOptions causal;
    causal.feature_map = map;
    cases.push_back({std::string("causal ") + map, causal, 0});
    LinearAttentionOptions full = causal;
    full.causal = false;
    cases.push_back({std::string("full ") + map, full, 0});
  }
  LinearAttentionOptions normalized;
  normalized.feature_map = "elu1";
  normalized.normalize = true;
  cases.push_back({"causal elu1 normalized", normalized, 0});
  LinearAttentionOptions normalized_full = normalized;
  normalized_full.causal = false;
  cases.push_back({"full elu1 normalized", normalized_full, 0});
  LinearAttentionOptions chunk64;
  chunk64.chunk_size = 64;
  cases.push_back({"causal decay (H) chunk 64", chunk64, 1});
  LinearAttentionOptions chunk100;
  chunk100.chunk_size = 100;  // above the GPU's 64: it uses 64, the CPU 100
  cases.push_back({"causal decay (B, H, L) chunk 100", chunk100, 2});
  LinearAttentionOptions gated_normalized = normalized;
  gated_normalized.chunk_size = 32;
  cases.push_back({"causal elu1 normalized decay (B, H, L) chunk 32", gated_normalized, 2});
  return cases;
}

// The decay input of a case: (H) constants in [0.5, 1) or (B, H, L) gates in [0.7, 1).
Tensor decay_input(Generator& gen, int kind, int64_t B, int64_t H, int64_t L, DType dtype) {
  if (kind == 1) return add(mul(rand({H}, gen, DType::f64), 0.5), 0.5).to(dtype);
  if (kind == 2) return add(mul(rand({B, H, L}, gen, DType::f64), 0.3), 0.7).to(dtype);
  return Tensor();
}

TensorList run_linear(const TensorList& x, const LinearAttentionOptions& options) {
  return {linear_attention(x[0], x[1], x[2], options, x.size() > 3 ? x[3] : Tensor())};
}

}  // namespace

DEVICE_TEST_CASE("cuda linear attention: every option, lengths 1..1000, head dims 60/64 (float64)") {
  Generator gen(21);
  const int64_t B = 1, H = 2;
  for (const LinearCase& c : linear_cases()) {
    for (int64_t L : kLengths) {
      for (int64_t d : kHeadDims) {
        INFO(c.name << " L=" << L << " d=" << d);
        TensorList in = {normal_input(gen, {B, H, L, d}, DType::f64, 0.3), normal_input(gen, {B, H, L, d}, DType::f64, 0.3),
                         normal_input(gen, {B, H, L, d}, DType::f64)};
        if (c.decay != 0) in.push_back(decay_input(gen, c.decay, B, H, L, DType::f64));
        ConsistencyOptions tolerance;
        tolerance.tolerance = {1e-9, 1e-9};  // sums of up to 1000 terms of size ~1
        check_cuda_matches_cpu("linear_attention " + c.name, in,
                               [&c](const TensorList& x) { return run_linear(x, c.options); }, tolerance);
      }
    }
  }
}

DEVICE_TEST_CASE("cuda linear attention: float32, head dim 128, dv != dk, non-contiguous") {
  Generator gen(22);
  ConsistencyOptions tolerance;
  tolerance.tolerance = {1e-3, 1e-3};  // float32 sums of 1000 terms of size ~1, in a different order
  LinearAttentionOptions options;
  options.chunk_size = 64;
  for (int64_t d : {64, 128}) {
    const TensorList in = {normal_input(gen, {2, 2, 1000, d}, DType::f32, 0.3),
                           normal_input(gen, {2, 2, 1000, d}, DType::f32, 0.3),
                           normal_input(gen, {2, 2, 1000, d}, DType::f32),
                           decay_input(gen, 2, 2, 2, 1000, DType::f32)};
    check_cuda_matches_cpu("linear_attention f32 d=" + std::to_string(d), in,
                           [&](const TensorList& x) { return run_linear(x, options); }, tolerance);
  }
  // dk = 60, dv = 100 (four column slices, the last one ragged), queries transposed from (B, L, H, d).
  const TensorList in = {normal_input(gen, {1, 500, 2, 60}, DType::f64, 0.3),
                         normal_input(gen, {1, 2, 500, 60}, DType::f64, 0.3), normal_input(gen, {1, 2, 500, 100}, DType::f64)};
  for (bool causal : {false, true}) {
    LinearAttentionOptions o;
    o.causal = causal;
    ConsistencyOptions f64;
    f64.tolerance = {1e-9, 1e-9};
    check_cuda_matches_cpu(causal ? "linear_attention dv=100 causal" : "linear_attention dv=100 full", in,
                           [o](const TensorList& x) {
                             return TensorList{linear_attention(x[0].transpose(1, 2), x[1], x[2], o)};
                           }, f64);
  }
}

DEVICE_TEST_CASE("cuda linear attention: the chunked kernel matches the CPU's reference and recurrent forms") {
  Generator gen(23);
  for (int decay : {0, 1, 2}) {
    for (int64_t L : {63, 500}) {
      INFO("decay " << decay << " L=" << L);
      const Tensor q = normal_input(gen, {2, 2, L, 64}, DType::f64, 0.3);
      const Tensor k = normal_input(gen, {2, 2, L, 64}, DType::f64, 0.3);
      const Tensor v = normal_input(gen, {2, 2, L, 64}, DType::f64);
      const Tensor gates = decay_input(gen, decay, 2, 2, L, DType::f64);
      LinearAttentionOptions options;
      options.chunk_size = 16;
      const Tensor fused =
          linear_attention(q.cuda(), k.cuda(), v.cuda(), options, gates.defined() ? gates.cuda() : Tensor()).cpu();
      NoGradGuard no_grad;
      CHECK(all_close(fused, detail::linear_attention_reference(q, k, v, options, gates), 1e-9, 1e-9));
      CHECK(all_close(fused, detail::linear_attention_recurrent(q, k, v, options, gates), 1e-9, 1e-9));
    }
  }
}

DEVICE_TEST_CASE("cuda linear attention: tensors on two devices are an error; the recurrent form is CPU-only") {
  const Tensor q = ones({1, 1, 4, 8}).cuda();
  const Tensor k = ones({1, 1, 4, 8});
  CHECK_THROWS_WITH(linear_attention(q, k, k), Catch::Contains("cuda:0") && Catch::Contains("cpu"));
  NoGradGuard no_grad;
  CHECK_THROWS_WITH(detail::linear_attention_recurrent(q, q, q), Catch::Contains("linear_attention_recurrent"));
}
