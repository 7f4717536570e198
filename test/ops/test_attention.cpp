// scaled_dot_product_attention: closed-form values, the fused kernel against the composite
// reference (forward and gradients, awkward sizes, masks, causal with L != S, dropout), gradcheck,
// gradgradcheck through the create_graph path, and bad input.
#include <cmath>
#include <limits>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::f64, double low = -1.0,
                     double high = 1.0) {
  Generator gen(seed);
  return uniform(low, high, shape, gen, dtype).requires_grad_(true);
}

Shape rows(Shape batch, int64_t r, int64_t c) {
  batch.push_back(r);
  batch.push_back(c);
  return batch;
}

// Gradients of sum(out * weight) w.r.t. `inputs` (a random weight makes every output count).
TensorList grads_of(const Tensor& out, const TensorList& inputs, uint64_t seed, bool create_graph = false) {
  Tensor weight = random_tensor(out.sizes(), seed, out.dtype()).detach();
  return autograd::grad({sum(out * weight)}, inputs, {}, /*retain_graph=*/create_graph, create_graph);
}

struct Case {
  Shape batch_q, batch_kv;
  int64_t L, S, d, dv;
  bool causal;
  int mask_kind;  // 0 none, 1 bool (L, S) shared, 2 float (1, L, S) requiring grad, 3 bool full,
                  // 4 float (L, S) transposed view of an (S, L) leaf, requiring grad
};

}  // namespace

TEST_CASE("attention forward matches hand-computed values", "[ops][attention]") {
  // One query, two keys, d = 1 (scale 1): scores [0, ln 3] -> weights [1/4, 3/4].
  Tensor q = from_vector<double>({1.0}, {1, 1});
  Tensor k = from_vector<double>({0.0, std::log(3.0)}, {2, 1});
  Tensor v = from_vector<double>({4.0, 1.0, 8.0, -1.0}, {2, 2});  // rows: value of key 0, key 1
  REQUIRE(all_close(scaled_dot_product_attention(q, k, v), {7.0, -0.5}));
  // Explicit scale 2: scores [0, 2 ln 3] -> weights [1/10, 9/10].
  REQUIRE(all_close(scaled_dot_product_attention(q, k, v, Tensor(), 0.0, false, 2.0), {7.6, -0.8}));
  // Causal, L = 3 > S = 2: row 0 sees key 0 only; rows 1 and 2 see both keys.
  Tensor q3 = from_vector<double>({5.0, 1.0, 1.0}, {3, 1});
  Tensor out = scaled_dot_product_attention(q3, k, v, Tensor(), 0.0, true, 1.0);
  REQUIRE(all_close(out, {4.0, 1.0, 7.0, -0.5, 7.0, -0.5}));
  // A bool mask that hides key 1, and an additive mask of ln 3 on key 0 (weights [1/2, 1/2]).
  Tensor hide = from_vector<bool>({true, false}, {1, 2});
  REQUIRE(all_close(scaled_dot_product_attention(q, k, v, hide), {4.0, 1.0}));
  Tensor bias = from_vector<double>({std::log(3.0), 0.0}, {2});
  REQUIRE(all_close(scaled_dot_product_attention(q, k, v, bias), {6.0, 0.0}));
  // Default scale is 1/sqrt(d): d = 4, q·k = 2 ln 3 · 2 -> scaled ln 3 on key 1.
  const double h = std::log(3.0) / 2.0;
  Tensor q4 = full({1, 4}, 1.0, DType::f64);
  Tensor k4 = from_vector<double>({0, 0, 0, 0, h, h, h, h}, {2, 4});
  REQUIRE(all_close(scaled_dot_product_attention(q4, k4, v), {7.0, -0.5}));
}

TEST_CASE("attention fused kernel matches the composite reference on awkward sizes", "[ops][attention]") {
  const std::vector<Case> cases = {
      {{}, {}, 1, 1, 8, 8, false, 0},            // a single query and key
      {{2}, {2}, 7, 5, 8, 3, true, 0},           // causal with L > S
      {{2, 3}, {2, 3}, 7, 20, 8, 8, true, 0},    // causal with L < S, batch and heads
      {{1}, {1}, 63, 63, 60, 60, true, 0},       // one short of a query block; d not a power of two
      {{1}, {1}, 130, 150, 64, 64, true, 0},     // several blocks, one head: the two-pass backward
      {{2, 3}, {2, 1}, 130, 70, 64, 16, false, 1},  // heads broadcast over key/value, bool (L, S) mask
      {{3}, {3}, 65, 129, 8, 8, false, 2},       // float mask (1, L, S) that gets a gradient
      {{2}, {2}, 33, 17, 8, 5, false, 3},        // full bool mask with some fully masked rows
      {{2}, {2}, 40, 70, 16, 16, false, 4},      // non-contiguous float mask
  };
  for (size_t index = 0; index < cases.size(); ++index) {
    const Case& c = cases[index];
    INFO("case " << index);
    const uint64_t seed = 100 + index * 10;
    Tensor q = random_tensor(rows(c.batch_q, c.L, c.d), seed);
    Tensor k = random_tensor(rows(c.batch_kv, c.S, c.d), seed + 1, DType::f64, -2.0, 2.0);
    Tensor v = random_tensor(rows(c.batch_kv, c.S, c.dv), seed + 2);
    Tensor mask, mask_leaf;
    if (c.mask_kind == 1) {
      Generator gen(seed + 3);
      mask = gt(rand({c.L, c.S}, gen), 0.3);
    }
    if (c.mask_kind == 2) mask = mask_leaf = random_tensor({1, c.L, c.S}, seed + 3, DType::f64, -3.0, 1.0);
    if (c.mask_kind == 4) {
      mask_leaf = random_tensor({c.S, c.L}, seed + 3, DType::f64, -3.0, 1.0);
      mask = mask_leaf.transpose(0, 1);
    }
    if (c.mask_kind == 3) {
      Generator gen(seed + 3);
      mask = gt(rand(rows(c.batch_q, c.L, c.S), gen), 0.8);  // ~0.8^17 of rows see nothing
    }
    Tensor fused = scaled_dot_product_attention(q, k, v, mask, 0.0, c.causal);
    Tensor reference = detail::attention_reference(q, k, v, mask, c.causal);
    REQUIRE(all_close(fused, reference, 1e-9, 1e-11));
    TensorList inputs = {q, k, v};
    if (mask_leaf.defined()) inputs.push_back(mask_leaf);
    TensorList fused_grads = grads_of(fused, inputs, seed + 4);
    TensorList reference_grads = grads_of(reference, inputs, seed + 4);
    for (size_t i = 0; i < inputs.size(); ++i) {
      INFO("gradient " << i);
      REQUIRE(all_close(fused_grads[i], reference_grads[i], 1e-8, 1e-10));
    }
    // float32 runs the vectorised exp: close to the float64 reference.
    Tensor fused32 = scaled_dot_product_attention(q.detach().to(DType::f32), k.detach().to(DType::f32),
                                                  v.detach().to(DType::f32),
                                                  mask_leaf.defined() ? mask.detach().to(DType::f32) : mask, 0.0,
                                                  c.causal);
    REQUIRE(all_close(fused32, reference, 1e-4, 1e-5));
  }
}

TEST_CASE("attention float32 gradients match float64", "[ops][attention]") {
  Tensor q = random_tensor({2, 2, 100, 32}, 1, DType::f32);
  Tensor k = random_tensor({2, 2, 90, 32}, 2, DType::f32);
  Tensor v = random_tensor({2, 2, 90, 24}, 3, DType::f32);
  Tensor out = scaled_dot_product_attention(q, k, v, Tensor(), 0.0, true);
  TensorList g32 = grads_of(out, {q, k, v}, 4);
  Tensor q64 = q.detach().to(DType::f64).requires_grad_(true), k64 = k.detach().to(DType::f64).requires_grad_(true),
         v64 = v.detach().to(DType::f64).requires_grad_(true);
  Tensor out64 = scaled_dot_product_attention(q64, k64, v64, Tensor(), 0.0, true);
  TensorList g64 = autograd::grad({sum(out64 * random_tensor(out.sizes(), 4, DType::f32).detach().to(DType::f64))},
                                  {q64, k64, v64});
  REQUIRE(all_close(out, out64, 1e-4, 1e-5));
  for (size_t i = 0; i < 3; ++i) REQUIRE(all_close(g32[i], g64[i], 1e-3, 1e-4));
}

TEST_CASE("attention gradcheck", "[ops][attention]") {
  Tensor q = random_tensor({2, 3, 4}, 11);
  Tensor k = random_tensor({2, 5, 4}, 12);
  Tensor v = random_tensor({2, 5, 3}, 13);
  Tensor bias = random_tensor({3, 5}, 14);
  auto plain = [](const TensorList& in) -> TensorList {
    return {scaled_dot_product_attention(in[0], in[1], in[2])};
  };
  auto causal = [](const TensorList& in) -> TensorList {
    return {scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), 0.0, true, 0.7)};
  };
  auto masked = [](const TensorList& in) -> TensorList {
    return {scaled_dot_product_attention(in[0], in[1], in[2], in[3])};
  };
  REQUIRE(gradcheck(plain, {q, k, v}));
  REQUIRE(gradcheck(causal, {q, k, v}));
  REQUIRE(gradcheck(masked, {q, k, v, bias}));
  // Non-contiguous and broadcast inputs: transposed query, sliced key, expanded value.
  Tensor q_t = random_tensor({2, 4, 3}, 15).transpose(1, 2);
  Tensor k_sliced = random_tensor({2, 8, 4}, 16).slice(1, 0, 8, 2);
  Tensor v_one = random_tensor({1, 4, 3}, 17);
  REQUIRE(gradcheck(plain, {q_t, k_sliced, v_one}));
  REQUIRE(gradcheck(plain, {q, k, random_tensor({1, 5, 3}, 18).expand({2, 5, 3})}));
}

TEST_CASE("attention gradgradcheck through the create_graph path", "[ops][attention]") {
  Tensor q = random_tensor({2, 3, 3}, 21);
  Tensor k = random_tensor({2, 4, 3}, 22);
  Tensor v = random_tensor({2, 4, 2}, 23);
  Tensor bias = random_tensor({3, 4}, 24);
  Tensor keep = from_vector<bool>({true, false, true, true, true, true, false, true, false, false, false, false},
                                  {3, 4});  // last row fully masked
  auto causal = [](const TensorList& in) -> TensorList {
    return {scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), 0.0, true)};
  };
  auto masked = [](const TensorList& in) -> TensorList {
    return {scaled_dot_product_attention(in[0], in[1], in[2], in[3])};
  };
  auto bool_masked = [keep](const TensorList& in) -> TensorList {
    return {scaled_dot_product_attention(in[0], in[1], in[2], keep)};
  };
  REQUIRE(gradgradcheck(causal, {q, k, v}));
  REQUIRE(gradgradcheck(masked, {q, k, v, bias}));
  REQUIRE(gradcheck(bool_masked, {q, k, v}));
  REQUIRE(gradgradcheck(bool_masked, {q, k, v}));
}

TEST_CASE("attention create_graph gradients equal the fused first-order ones", "[ops][attention]") {
  Tensor q = random_tensor({2, 9, 5}, 31);
  Tensor k = random_tensor({2, 6, 5}, 32);
  Tensor v = random_tensor({2, 6, 4}, 33);
  Tensor bias = random_tensor({9, 6}, 34);
  for (bool causal : {false, true}) {
    Tensor mask = causal ? Tensor() : bias;
    TensorList inputs = {q, k, v};
    if (!causal) inputs.push_back(bias);
    Tensor out = scaled_dot_product_attention(q, k, v, mask, 0.0, causal);
    TensorList first = grads_of(out, inputs, 35, false);
    Tensor out2 = scaled_dot_product_attention(q, k, v, mask, 0.0, causal);
    TensorList second = grads_of(out2, inputs, 35, true);
    for (size_t i = 0; i < inputs.size(); ++i) {
      REQUIRE(second[i].requires_grad());
      REQUIRE(all_close(first[i], second[i], 1e-10, 1e-12));
    }
  }
  // sum(out) hands the node an expanded (stride 0) gradient; the kernel must read it correctly.
  Tensor out = scaled_dot_product_attention(q, k, v, Tensor(), 0.0, true);
  TensorList fused = autograd::grad({sum(out)}, {q, k, v});
  TensorList reference = autograd::grad({sum(detail::attention_reference(q, k, v, Tensor(), true))}, {q, k, v});
  for (size_t i = 0; i < 3; ++i) REQUIRE(all_close(fused[i], reference[i], 1e-10, 1e-12));
}

TEST_CASE("attention dropout regenerates one mask in forward and backward", "[ops][attention]") {
  Tensor q = random_tensor({2, 70, 8}, 41);
  Tensor k = random_tensor({2, 90, 8}, 42);
  Tensor v = random_tensor({2, 90, 6}, 43);
  const double p = 0.3;
  Generator gen(1234);
  const GeneratorState state = gen.state();
  Tensor out = scaled_dot_product_attention(q, k, v, Tensor(), p, true, std::nullopt, &gen);
  REQUIRE(gen.state().offset == state.offset + 2 * 70 * 90);
  Tensor factors = detail::attention_dropout_factors({2}, 70, 90, p, state, DType::f64);
  // About 1 - p of the weights are kept, and kept ones are scaled by 1/(1-p).
  const std::vector<double> f = values(factors);
  double kept = 0;
  for (double x : f) {
    REQUIRE((x == 0.0 || std::fabs(x - 1.0 / (1.0 - p)) < 1e-12));
    kept += x != 0.0;
  }
  REQUIRE(kept / static_cast<double>(f.size()) == Approx(1.0 - p).margin(0.02));
  Tensor reference = detail::attention_reference(q, k, v, Tensor(), true, std::nullopt, factors);
  REQUIRE(all_close(out, reference, 1e-9, 1e-11));
  TensorList fused_grads = grads_of(out, {q, k, v}, 44);
  TensorList reference_grads = grads_of(reference, {q, k, v}, 44);
  for (size_t i = 0; i < 3; ++i) REQUIRE(all_close(fused_grads[i], reference_grads[i], 1e-8, 1e-10));
  // The same generator state gives the same output; the advanced one a different one.
  Generator replay(1234);
  REQUIRE(all_close(scaled_dot_product_attention(q, k, v, Tensor(), p, true, std::nullopt, &replay), out, 0, 0));
  REQUIRE(!all_close(scaled_dot_product_attention(q, k, v, Tensor(), p, true, std::nullopt, &gen), out));
  // p = 1 drops everything.
  REQUIRE(values(scaled_dot_product_attention(q, k, v, Tensor(), 1.0)) == std::vector<double>(2 * 70 * 6, 0.0));
  // Double backward with dropout uses the same factors.
  Tensor qs = random_tensor({1, 3, 2}, 45), ks = random_tensor({1, 4, 2}, 46), vs = random_tensor({1, 4, 2}, 47);
  auto dropped = [](const TensorList& in) -> TensorList {
    Generator g(99);
    return {scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), 0.5, false, std::nullopt, &g)};
  };
  REQUIRE(gradcheck(dropped, {qs, ks, vs}));
  REQUIRE(gradgradcheck(dropped, {qs, ks, vs}));
}

TEST_CASE("attention dropout: the fused kernel equals softmax -> dropout -> matmul on the Philox stream",
          "[ops][attention]") {
  // The composite built independently of the kernel: softmax of the scaled scores, the keep mask
  // drawn element by element from philox4x32 as Note [Attention dropout stream] defines it (block
  // offset + (bh L + i) S + j, keep iff u >= p, kept weights scaled by 1/(1-p)), then the PV product.
  // Sizes cross the kernel's 64-wide tiles; both dtypes; no mask, causal, and an additive mask.
  for (const DType dtype : {DType::f64, DType::f32}) {
    for (const int variant : {0, 1, 2}) {
      INFO(dtype_name(dtype) << " variant " << variant);
      const int64_t B = 2, H = 3, L = 70, S = 83, d = 16, dv = 12;
      const double p = 0.2;
      Tensor q = random_tensor({B, H, L, d}, 61, dtype), k = random_tensor({B, H, S, d}, 62, dtype);
      Tensor v = random_tensor({B, H, S, dv}, 63, dtype);
      Tensor mask = variant == 2 ? random_tensor({L, S}, 64, dtype, -2.0, 2.0).detach() : Tensor();
      Generator gen(2024);
      gen.advance(12345);  // a non-zero offset
      const GeneratorState state = gen.state();
      Tensor out = scaled_dot_product_attention(q, k, v, mask, p, variant == 1, std::nullopt, &gen);

      std::vector<double> factors(static_cast<size_t>(B * H * L * S));
      for (int64_t bh = 0; bh < B * H; ++bh)
        for (int64_t i = 0; i < L; ++i)
          for (int64_t j = 0; j < S; ++j) {
            const int64_t e = (bh * L + i) * S + j;
            const auto bits = philox4x32(state.offset + static_cast<uint64_t>(e), state.seed);
            factors[static_cast<size_t>(e)] = uniform_from_bits(bits[0], bits[1]) >= p ? 1.0 / (1.0 - p) : 0.0;
          }
      const Tensor z = from_vector(factors, {B, H, L, S}).to(dtype);
      Tensor scores = matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(d)));
      if (variant == 1) scores = where(tril(ones({L, S}, DType::bool_)), scores, -INFINITY);
      if (variant == 2) scores = scores + mask;
      const Tensor composite = matmul(softmax(scores, -1) * z, v);
      const double tol = dtype == DType::f64 ? 1e-10 : 2e-5;
      REQUIRE(all_close(out, composite, tol, tol));
      const TensorList fused_grads = grads_of(out, {q, k, v}, 65);
      const TensorList composite_grads = grads_of(composite, {q, k, v}, 65);
      for (size_t i = 0; i < 3; ++i) REQUIRE(all_close(fused_grads[i], composite_grads[i], 10 * tol, 10 * tol));
    }
  }
  // float64 gradcheck of the fused path with dropout, keys across two tiles.
  Tensor q = random_tensor({1, 2, 5, 3}, 66), k = random_tensor({1, 2, 70, 3}, 67), v = random_tensor({1, 2, 70, 2}, 68);
  auto dropped = [](const TensorList& in) -> TensorList {
    Generator g(7);
    return {scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), 0.3, false, std::nullopt, &g)};
  };
  GradcheckOptions options;
  options.max_elements = 64;
  REQUIRE(gradcheck(dropped, {q, k, v}, options));
}

TEST_CASE("attention fully masked rows and empty sizes give zeros", "[ops][attention]") {
  Tensor q = random_tensor({2, 3, 4}, 51);
  Tensor k = random_tensor({2, 5, 4}, 52);
  Tensor v = random_tensor({2, 5, 3}, 53);
  Tensor keep = from_vector<bool>({true, true, false, false, false, false, false, false, false, false}, {2, 1, 5});
  Tensor out = scaled_dot_product_attention(q, k, v, keep);
  const std::vector<double> o = values(out);
  for (size_t i = 9; i < o.size(); ++i) REQUIRE(o[i] == 0.0);  // batch 1 sees no key
  TensorList g = grads_of(out, {q, k, v}, 54);
  for (const Tensor& grad : g)
    for (double x : values(grad)) REQUIRE(std::isfinite(x));
  Tensor minus_inf = full({5}, -std::numeric_limits<double>::infinity(), DType::f64);
  REQUIRE(values(scaled_dot_product_attention(q, k, v, minus_inf)) == std::vector<double>(18, 0.0));
  // S = 0: no keys -> zeros (as PyTorch); L = 0: empty output.
  Tensor none = scaled_dot_product_attention(q, zeros({2, 0, 4}, DType::f64), zeros({2, 0, 3}, DType::f64));
  REQUIRE(none.sizes() == Shape{2, 3, 3});
  REQUIRE(values(none) == std::vector<double>(18, 0.0));
  REQUIRE(scaled_dot_product_attention(zeros({2, 0, 4}, DType::f64), k, v).sizes() == Shape{2, 0, 3});
}

TEST_CASE("attention rejects bad input", "[ops][attention][errors]") {
  const char* op = "scaled_dot_product_attention";
  Tensor q = zeros({2, 3, 4}), k = zeros({2, 5, 4}), v = zeros({2, 5, 6});
  REQUIRE_THROWS_OP(scaled_dot_product_attention(zeros({4}), k, v), op);                 // too few dims
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, zeros({2, 5, 3}), v), op);          // d mismatch
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, k, zeros({2, 4, 6})), op);          // S mismatch
  REQUIRE_THROWS_OP(scaled_dot_product_attention(zeros({3, 3, 4}), k, v), op);          // batch mismatch
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, k.to(DType::f64), v), op);          // dtype mismatch
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q.to(DType::i64), k.to(DType::i64), v.to(DType::i64)), op);
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, k, v, zeros({3, 4})), op);          // mask not (L, S)
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, k, v, zeros({1, 2, 3, 5})), op);    // mask with more dims
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, k, v, zeros({3, 5}, DType::i64)), op);  // mask dtype
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, k, v, zeros({3, 5}, DType::f64)), op);  // mask dtype
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, k, v, ones({3, 5}, DType::bool_), 0.0, true), op);
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, k, v, Tensor(), -0.1), op);
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, k, v, Tensor(), 1.5), op);
  REQUIRE_THROWS_OP(scaled_dot_product_attention(q, k, v, Tensor(), 0.0, false, std::nan("")), op);
  REQUIRE_THROWS_OP(scaled_dot_product_attention(Tensor(), k, v), op);
}
