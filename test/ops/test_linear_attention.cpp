// linear_attention: hand-computed values, the chunked kernel against the recurrent form and the
// O(L²) reference on awkward sizes (L = 1, 63, 500, 1000; dk 60, 64; chunks 16, 64 and ones that do
// not divide L) for every feature map, normalizer on/off, both decay kinds and causal/non-causal;
// gradients of the fused op against the reference's; float64 gradcheck and gradgradcheck; bad input.
#include <cmath>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;

namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::f64, double low = -1.0,
                     double high = 1.0) {
  Generator gen(seed);
  return uniform(low, high, shape, gen, dtype).requires_grad_(true);
}

enum class Decay { none, per_head, per_step };

struct Case {
  int64_t B = 1, H = 2, L = 63, dk = 64, dv = 64, chunk = 16;
  bool causal = true;
  std::string feature_map = "identity";
  bool normalize = false;
  Decay decay = Decay::none;
  double gate_low = 0.8;  // gates / gammas are drawn from [gate_low, 1)
};

std::string describe(const Case& c) {
  return "B" + std::to_string(c.B) + " H" + std::to_string(c.H) + " L" + std::to_string(c.L) + " dk" +
         std::to_string(c.dk) + " dv" + std::to_string(c.dv) + " chunk" + std::to_string(c.chunk) +
         (c.causal ? " causal " : " full ") + c.feature_map + (c.normalize ? " normalized" : "") +
         (c.decay == Decay::per_head ? " gamma" : c.decay == Decay::per_step ? " gates" : "");
}

struct Inputs {
  Tensor q, k, v, decay;
  LinearAttentionOptions options;
  TensorList leaves() const {
    return decay.defined() ? TensorList{q, k, v, decay} : TensorList{q, k, v};
  }
};

Inputs make_inputs(const Case& c, uint64_t seed, DType dtype = DType::f64) {
  Inputs in;
  // With the identity map the normalizer's denominator q·Σk must stay away from 0: positive q, k.
  const double low = c.normalize && c.feature_map == "identity" ? 0.05 : -1.0;
  in.q = random_tensor({c.B, c.H, c.L, c.dk}, seed, dtype, low, 1.0);
  in.k = random_tensor({c.B, c.H, c.L, c.dk}, seed + 1, dtype, low, 1.0);
  in.v = random_tensor({c.B, c.H, c.L, c.dv}, seed + 2, dtype);
  if (c.decay == Decay::per_head) in.decay = random_tensor({c.H}, seed + 3, dtype, c.gate_low, 1.0);
  if (c.decay == Decay::per_step) in.decay = random_tensor({c.B, c.H, c.L}, seed + 3, dtype, c.gate_low, 1.0);
  in.options.causal = c.causal;
  in.options.feature_map = c.feature_map;
  in.options.normalize = c.normalize;
  in.options.chunk_size = c.chunk;
  return in;
}

Tensor fused(const Inputs& in) { return linear_attention(in.q, in.k, in.v, in.options, in.decay); }
Tensor reference(const Inputs& in) { return detail::linear_attention_reference(in.q, in.k, in.v, in.options, in.decay); }
Tensor recurrent(const Inputs& in) {
  NoGradGuard no_grad;
  return detail::linear_attention_recurrent(in.q, in.k, in.v, in.options, in.decay);
}

// Gradients of sum(out * weight) w.r.t. `inputs` (a random weight makes every output count).
TensorList grads_of(const Tensor& out, const TensorList& inputs, uint64_t seed) {
  Tensor weight = random_tensor(out.sizes(), seed, out.dtype()).detach();
  return autograd::grad({sum(out * weight)}, inputs);
}

// The three forms' forward outputs agree (float64: to rounding).
void check_forms_agree(const Case& c, uint64_t seed) {
  INFO(describe(c));
  const Inputs in = make_inputs(c, seed);
  const Tensor expected = reference(in);
  REQUIRE(all_close(fused(in), expected, 1e-9, 1e-9));
  REQUIRE(all_close(recurrent(in), expected, 1e-9, 1e-9));
}

}  // namespace

TEST_CASE("linear_attention forward matches hand-computed values", "[ops][linear_attention]") {
  // dk = dv = 1, L = 2: q = [1, 2], k = [3, 4], v = [5, 6].
  //   causal: o_0 = (1·3)·5 = 15, o_1 = (2·3)·5 + (2·4)·6 = 78
  //   non-causal: o_0 = 3·5 + 4·6 = 39, o_1 = 78
  //   gamma 0.5: o_1 = 0.5·30 + 48 = 63; gates [0.9, 0.25]: o_1 = 0.25·30 + 48 = 55.5 (a_0 never used)
  //   normalized: o_0 = 15 / 3 = 5, o_1 = 78 / (6 + 8) = 39/7
  const Tensor q = from_vector<double>({1, 2}, {1, 1, 2, 1});
  const Tensor k = from_vector<double>({3, 4}, {1, 1, 2, 1});
  const Tensor v = from_vector<double>({5, 6}, {1, 1, 2, 1});
  const Tensor gamma = from_vector<double>({0.5}, {1});
  const Tensor gates = from_vector<double>({0.9, 0.25}, {1, 1, 2});
  LinearAttentionOptions full;
  full.causal = false;
  LinearAttentionOptions normalized;
  normalized.normalize = true;
  normalized.eps = 0.0;
  for (const int64_t chunk : {1, 2, 64}) {
    LinearAttentionOptions causal;
    causal.chunk_size = chunk;
    normalized.chunk_size = chunk;
    REQUIRE(all_close(linear_attention(q, k, v, causal), {15, 78}));
    REQUIRE(all_close(linear_attention(q, k, v, causal, gamma), {15, 63}));
    REQUIRE(all_close(linear_attention(q, k, v, causal, gates), {15, 55.5}));
    REQUIRE(all_close(linear_attention(q, k, v, normalized), {5, 39.0 / 7.0}));
  }
  REQUIRE(all_close(linear_attention(q, k, v, full), {39, 78}));
  REQUIRE(all_close(detail::linear_attention_reference(q, k, v, {}, gates), {15, 55.5}));
  REQUIRE(all_close(detail::linear_attention_recurrent(q, k, v, {}, gates), {15, 55.5}));
  REQUIRE(all_close(detail::linear_attention_recurrent(q, k, v, full), {39, 78}));
}

TEST_CASE("linear_attention: chunked, recurrent and reference agree on awkward sizes", "[ops][linear_attention]") {
  uint64_t seed = 100;
  // Lengths and head dims of the issue, chunks that divide L, do not, or exceed it.
  for (const int64_t L : {1, 63, 500, 1000}) {
    for (const int64_t d : {60, 64}) {
      for (const int64_t chunk : {16, 64, 48}) {
        if (L == 1000 && chunk != 48) continue;  // the largest length once (48 does not divide 1000)
        Case c;
        c.L = L;
        c.dk = d;
        c.dv = d;
        c.chunk = chunk;
        c.H = L >= 500 ? 1 : 2;
        c.decay = chunk == 16 ? Decay::per_step : chunk == 64 ? Decay::per_head : Decay::none;
        check_forms_agree(c, seed += 10);
      }
    }
  }
}

TEST_CASE("linear_attention: every option combination agrees with the reference", "[ops][linear_attention]") {
  uint64_t seed = 300;
  for (const bool causal : {true, false}) {
    for (const std::string map : {"identity", "elu1", "relu"}) {
      for (const bool normalize : {false, true}) {
        for (const Decay decay : {Decay::none, Decay::per_head, Decay::per_step}) {
          if (!causal && decay != Decay::none) continue;
          Case c;
          c.B = 2;
          c.L = 37;
          c.dk = 12;
          c.dv = 9;
          c.chunk = 8;
          c.causal = causal;
          c.feature_map = map;
          c.normalize = normalize;
          c.decay = decay;
          check_forms_agree(c, seed += 10);
        }
      }
    }
  }
}

TEST_CASE("linear_attention: small gates stay finite in float32 (log-space decay)", "[ops][linear_attention]") {
  // Gates down to 0.01 over chunks of 64: a factorised e^(c_t) · e^(-c_s) would overflow float32.
  Case c;
  c.L = 300;
  c.chunk = 64;
  c.decay = Decay::per_step;
  c.gate_low = 0.01;
  const Inputs in64 = make_inputs(c, 7);
  Inputs in32 = in64;
  in32.q = in64.q.detach().to(DType::f32).requires_grad_(true);
  in32.k = in64.k.detach().to(DType::f32).requires_grad_(true);
  in32.v = in64.v.detach().to(DType::f32).requires_grad_(true);
  in32.decay = in64.decay.detach().to(DType::f32).requires_grad_(true);
  const Tensor out = fused(in32);
  REQUIRE(all_close(out, reference(in64), 1e-4, 1e-4));
  const TensorList g32 = grads_of(out, in32.leaves(), 8);
  const TensorList g64 = grads_of(reference(in64), in64.leaves(), 8);
  for (size_t i = 0; i < g32.size(); ++i) {
    INFO("input " << i);
    REQUIRE(all_close(g32[i], g64[i], 1e-3, 1e-3));
  }
}

TEST_CASE("linear_attention: float32 kernel matches the float64 reference at L = 1000", "[ops][linear_attention]") {
  Case c;
  c.L = 1000;
  c.H = 1;
  c.chunk = 64;
  c.decay = Decay::per_head;
  const Inputs in64 = make_inputs(c, 9);
  Inputs in32 = in64;
  in32.q = in64.q.detach().to(DType::f32);
  in32.k = in64.k.detach().to(DType::f32);
  in32.v = in64.v.detach().to(DType::f32);
  in32.decay = in64.decay.detach().to(DType::f32);
  REQUIRE(all_close(fused(in32), reference(in64), 1e-3, 1e-3));
}

TEST_CASE("linear_attention: gradients of the fused op match the reference's", "[ops][linear_attention]") {
  uint64_t seed = 500;
  std::vector<Case> cases;
  for (const Decay decay : {Decay::none, Decay::per_head, Decay::per_step}) {
    for (const int64_t chunk : {16, 64, 24}) {
      Case c;
      c.L = 100;
      c.dk = 60;
      c.dv = 64;
      c.chunk = chunk;
      c.decay = decay;
      cases.push_back(c);
    }
  }
  Case full;
  full.causal = false;
  full.L = 100;
  cases.push_back(full);
  Case normalized;
  normalized.feature_map = "elu1";
  normalized.normalize = true;
  normalized.decay = Decay::per_step;
  cases.push_back(normalized);
  normalized.causal = false;
  normalized.decay = Decay::none;
  normalized.feature_map = "relu";
  cases.push_back(normalized);
  Case single;
  single.L = 1;
  single.decay = Decay::per_step;
  cases.push_back(single);
  for (const Case& c : cases) {
    INFO(describe(c));
    const Inputs in = make_inputs(c, seed += 10);
    const TensorList expected = grads_of(reference(in), in.leaves(), seed + 5);
    const TensorList actual = grads_of(fused(in), in.leaves(), seed + 5);
    for (size_t i = 0; i < expected.size(); ++i) {
      INFO("input " << i);
      REQUIRE(all_close(actual[i], expected[i], 1e-8, 1e-9));
    }
  }
}

TEST_CASE("linear_attention gradcheck (float64)", "[ops][linear_attention]") {
  uint64_t seed = 700;
  for (const Decay decay : {Decay::none, Decay::per_head, Decay::per_step}) {
    for (const bool causal : {true, false}) {
      if (!causal && decay != Decay::none) continue;
      Case c;
      c.L = 7;
      c.dk = 3;
      c.dv = 2;
      c.chunk = 3;
      c.causal = causal;
      c.decay = decay;
      c.gate_low = 0.5;
      for (const bool normalize : {false, true}) {
        c.normalize = normalize;
        c.feature_map = normalize ? "elu1" : "identity";
        INFO(describe(c));
        const Inputs in = make_inputs(c, seed += 10);
        auto f = [&](const TensorList& x) {
          return TensorList{linear_attention(x[0], x[1], x[2], in.options, x.size() > 3 ? x[3] : Tensor())};
        };
        REQUIRE(gradcheck(f, in.leaves()));
      }
    }
  }
}

TEST_CASE("linear_attention gradgradcheck through the create_graph path", "[ops][linear_attention]") {
  uint64_t seed = 900;
  for (const Decay decay : {Decay::none, Decay::per_step}) {
    Case c;
    c.L = 5;
    c.dk = 2;
    c.dv = 2;
    c.chunk = 2;
    c.decay = decay;
    c.gate_low = 0.5;
    INFO(describe(c));
    const Inputs in = make_inputs(c, seed += 10);
    auto f = [&](const TensorList& x) {
      return TensorList{linear_attention(x[0], x[1], x[2], in.options, x.size() > 3 ? x[3] : Tensor())};
    };
    REQUIRE(gradgradcheck(f, in.leaves()));
  }
}

TEST_CASE("linear_attention on non-contiguous inputs and empty sizes", "[ops][linear_attention]") {
  // q, k, v as (B, L, H, d) transposed views, the models' layout before the heads are split off.
  const Tensor q = random_tensor({2, 20, 3, 8}, 1).transpose(1, 2);
  const Tensor k = random_tensor({2, 20, 3, 8}, 2).transpose(1, 2);
  const Tensor v = random_tensor({2, 20, 3, 5}, 3).transpose(1, 2);
  LinearAttentionOptions options;
  options.chunk_size = 6;
  REQUIRE(all_close(linear_attention(q, k, v, options), detail::linear_attention_reference(q, k, v, options), 1e-10,
                    1e-10));
  const Tensor empty_q = zeros({1, 2, 0, 4}, TensorOptions(DType::f64));
  const Tensor empty_v = zeros({1, 2, 0, 3}, TensorOptions(DType::f64));
  REQUIRE(linear_attention(empty_q, empty_q, empty_v).sizes() == Shape{1, 2, 0, 3});
}

TEST_CASE("linear_attention rejects bad input", "[ops][linear_attention]") {
  const Tensor q = random_tensor({1, 2, 5, 4}, 1);
  const Tensor k = random_tensor({1, 2, 5, 4}, 2);
  const Tensor v = random_tensor({1, 2, 5, 3}, 3);
  const Tensor gamma = full({2}, 0.9, TensorOptions(DType::f64));
  LinearAttentionOptions options;
  // shape mismatches
  REQUIRE_THROWS_OP(linear_attention(q, random_tensor({1, 2, 5, 3}, 4), v), "linear_attention");
  REQUIRE_THROWS_OP(linear_attention(q, k, random_tensor({1, 2, 6, 3}, 4)), "linear_attention");
  REQUIRE_THROWS_OP(linear_attention(q.reshape({2, 5, 4}), k.reshape({2, 5, 4}), v.reshape({2, 5, 3})),
                    "linear_attention");
  REQUIRE_THROWS_OP(linear_attention(q, k, v, options, full({3}, 0.9, TensorOptions(DType::f64))), "decay");
  REQUIRE_THROWS_OP(linear_attention(q, k, v, options, full({1, 2, 4}, 0.9, TensorOptions(DType::f64))), "decay");
  // decay with non-causal attention, and out of (0, 1]
  LinearAttentionOptions full_attention;
  full_attention.causal = false;
  REQUIRE_THROWS_OP(linear_attention(q, k, v, full_attention, gamma), "causal");
  REQUIRE_THROWS_OP(linear_attention(q, k, v, options, full({2}, 0.0, TensorOptions(DType::f64))), "(0, 1]");
  REQUIRE_THROWS_OP(linear_attention(q, k, v, options, full({2}, 1.5, TensorOptions(DType::f64))), "(0, 1]");
  REQUIRE_THROWS_OP(linear_attention(q, k, v, options, full({2}, std::nan(""), TensorOptions(DType::f64))), "(0, 1]");
  // dtypes: integers, mixed floats, a decay of another dtype
  const Tensor qi = zeros({1, 2, 5, 4}, TensorOptions(DType::i64));
  REQUIRE_THROWS_OP(linear_attention(qi, qi, zeros({1, 2, 5, 3}, TensorOptions(DType::i64))), "float32 or float64");
  REQUIRE_THROWS_OP(linear_attention(q.detach().to(DType::f32), k, v), "linear_attention");
  REQUIRE_THROWS_OP(linear_attention(q, k, v, options, full({2}, 0.9, TensorOptions(DType::f32))), "dtype");
  // options
  LinearAttentionOptions bad_chunk;
  bad_chunk.chunk_size = 0;
  REQUIRE_THROWS_OP(linear_attention(q, k, v, bad_chunk), "chunk_size");
  bad_chunk.chunk_size = -4;
  REQUIRE_THROWS_OP(linear_attention(q, k, v, bad_chunk), "chunk_size");
  LinearAttentionOptions bad_map;
  bad_map.feature_map = "softmax";
  REQUIRE_THROWS_OP(linear_attention(q, k, v, bad_map), "feature_map");
  REQUIRE_THROWS_OP(linear_attention(Tensor(), k, v), "linear_attention");
  // the reference and recurrent forms check the same way; the recurrent one has no backward
  REQUIRE_THROWS_OP(detail::linear_attention_reference(q, k, v, full_attention, gamma), "linear_attention_reference");
  REQUIRE_THROWS_OP(detail::linear_attention_recurrent(q, k, v), "no backward");
}
