// ops/vq_attention.h: the linear-time kernel against the O(L²) composite reference (forward and
// every gradient) on L = 1, 63, 130, 200, 500 (windows narrower and wider than the kernel's
// 64-query chunks), causal and not, with and without window / bias, shared and
// per-head codebooks, f32 and f64; the reference against plain softmax attention over k̂ (no
// window); float64 gradcheck of the kernel; bad input.
#include <cmath>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::f64, double scale = 1.0) {
  Generator gen(seed);
  return uniform(-scale, scale, shape, gen, dtype).requires_grad_(true);
}

struct Problem {
  Tensor q, k, v, indices, codebook, bias;
  VQAttentionOptions options;
};

Problem make_problem(int64_t B, int64_t H, int64_t L, int64_t S, int64_t d, int64_t dv, bool causal,
                     int64_t window, bool with_bias, bool shared_codebook, DType dtype, uint64_t seed) {
  Problem p;
  p.options.causal = causal;
  p.options.window = window;
  p.q = random_tensor({B, H, L, d}, seed, dtype, 2.0);
  p.k = random_tensor({B, H, L, d}, seed + 1, dtype);
  p.v = random_tensor({B, H, L, dv}, seed + 2, dtype);
  p.codebook = random_tensor(shared_codebook ? Shape{S, d} : Shape{H, S, d}, seed + 3, dtype).detach();
  Generator gen(seed + 4);
  p.indices = randint(0, S, {B, H, L}, gen);
  if (with_bias) {
    const int64_t size = causal ? window : 2 * window - 1;
    p.bias = random_tensor({H, size}, seed + 5, dtype);
  }
  return p;
}

TensorList inputs_of(const Problem& p) {
  TensorList inputs = {p.q, p.k, p.v};
  if (p.bias.defined()) inputs.push_back(p.bias);
  return inputs;
}

Tensor run(const Problem& p, bool reference) {
  return reference ? detail::vq_attention_reference(p.q, p.k, p.v, p.indices, p.codebook, p.options, p.bias)
                   : vq_attention(p.q, p.k, p.v, p.indices, p.codebook, p.options, p.bias);
}

}  // namespace

TEST_CASE("vq_attention: the linear-time kernel equals the reference, values and gradients", "[vq_attention]") {
  struct Case {
    int64_t B, H, L, S, d, dv, window;
    bool causal, bias, shared;
  };
  const std::vector<Case> cases = {
      {1, 1, 1, 3, 4, 2, 4, true, true, false},     {2, 1, 1, 1, 3, 3, 1, false, true, true},
      {1, 2, 63, 5, 6, 4, 8, true, true, false},    {2, 1, 63, 7, 5, 3, 8, false, true, true},
      {1, 2, 63, 4, 4, 5, 0, true, false, false},   {1, 1, 63, 4, 4, 5, 0, false, false, true},
      {1, 1, 63, 9, 3, 2, 100, false, true, false}, {1, 2, 500, 16, 8, 8, 32, true, true, false},
      {1, 1, 500, 16, 8, 6, 17, false, true, true}, {1, 1, 63, 4, 4, 5, 1, false, false, false},
      // Several 64-query chunks with a window wider than a chunk, and without a window.
      {1, 1, 500, 16, 8, 8, 100, true, true, false}, {1, 1, 500, 12, 4, 4, 70, false, true, true},
      {1, 1, 200, 5, 4, 3, 0, false, false, true},   {1, 1, 130, 5, 4, 3, 0, true, false, false},
  };
  for (DType dtype : {DType::f64, DType::f32}) {
    for (const Case& c : cases) {
      INFO("B=" << c.B << " H=" << c.H << " L=" << c.L << " S=" << c.S << " d=" << c.d << " dv=" << c.dv
                << " W=" << c.window << " causal=" << c.causal << " bias=" << c.bias << " shared=" << c.shared << " "
                << dtype_name(dtype));
      const Problem p = make_problem(c.B, c.H, c.L, c.S, c.d, c.dv, c.causal, c.window, c.bias, c.shared, dtype,
                                     c.L * 10 + c.window);
      const Tensor fast = run(p, false), slow = run(p, true);
      const double tol = dtype == DType::f64 ? 1e-10 : 2e-5;
      REQUIRE(all_close(fast, slow, tol, tol));
      const Tensor weight = random_tensor(fast.sizes(), 77, dtype).detach();
      const TensorList g_fast = autograd::grad({sum(fast * weight)}, inputs_of(p));
      const TensorList g_slow = autograd::grad({sum(slow * weight)}, inputs_of(p));
      for (size_t n = 0; n < g_fast.size(); ++n) {
        INFO("gradient of input " << n);
        CHECK(all_close(g_fast[n], g_slow[n], dtype == DType::f64 ? 1e-9 : 1e-4, dtype == DType::f64 ? 1e-9 : 1e-4));
      }
    }
  }
}

TEST_CASE("vq_attention without a window is softmax attention over the quantized keys", "[vq_attention]") {
  for (bool causal : {true, false}) {
    const Problem p = make_problem(2, 2, 37, 6, 5, 3, causal, 0, false, false, DType::f64, 9);
    // k̂ by hand: codebook[h][indices[b, h, l]].
    const std::vector<double> cb = values(p.codebook), idx = values(p.indices);
    std::vector<double> k_hat;
    for (int64_t n = 0; n < 2 * 2 * 37; ++n) {
      const int64_t h = n / 37 % 2, code = static_cast<int64_t>(idx[n]);
      for (int64_t c = 0; c < 5; ++c) k_hat.push_back(cb[(h * 6 + code) * 5 + c]);
    }
    const Tensor expected = scaled_dot_product_attention(p.q.detach(), from_vector(k_hat, {2, 2, 37, 5}),
                                                         p.v.detach(), Tensor(), 0.0, causal);
    CHECK(all_close(vq_attention(p.q, p.k, p.v, p.indices, p.codebook, p.options), expected, 1e-12, 1e-12));
  }
}

TEST_CASE("vq_attention: a far key's code counts once per key (hand example)", "[vq_attention]") {
  // L = 3, one head, d = 1, codes {0: 1.0, 1: -1.0}, keys' codes (0, 0, 1), q = (0, 0, 2), W = 1
  // causal, scale 1, no bias. Query 2 sees key 2 near (score 2·(-1) = -2) and keys 0, 1 through
  // code 0 (count 2, score 2): out_2 = (2e² · mean(v0, v1) + e⁻² v2) / (2e² + e⁻²).
  const Tensor q = from_vector<double>({0, 0, 2}, {1, 1, 3, 1});
  const Tensor v = from_vector<double>({1, 3, 10}, {1, 1, 3, 1});
  const Tensor codebook = from_vector<double>({1, -1}, {2, 1});
  const Tensor indices = from_vector<int64_t>({0, 0, 1}, {1, 1, 3});
  VQAttentionOptions options;
  options.window = 1;
  options.scale = 1.0;
  const Tensor out = vq_attention(q, zeros({1, 1, 3, 1}, DType::f64), v, indices, codebook, options);
  const double e2 = std::exp(2.0), em2 = std::exp(-2.0);
  CHECK(all_close(out, {1.0, 2.0, (e2 * 4.0 + em2 * 10.0) / (2 * e2 + em2)}, 1e-14, 1e-14));
}

TEST_CASE("vq_attention gradcheck (float64)", "[vq_attention]") {
  for (bool causal : {true, false}) {
    const Problem p = make_problem(1, 2, 11, 4, 3, 2, causal, 3, true, false, DType::f64, 3);
    // k's gradient is a straight-through surrogate (finite differences of the forward, which reads
    // only the codes, are 0): it is checked against the reference above; here q, v and the bias.
    const Tensor k = p.k.detach();
    CHECK(gradcheck(
        [&](const TensorList& in) {
          return TensorList{vq_attention(in[0], k, in[1], p.indices, p.codebook, p.options, in[2])};
        },
        {p.q, p.v, p.bias}));
  }
}

TEST_CASE("vq_attention rejects bad input", "[vq_attention]") {
  const Problem p = make_problem(1, 2, 5, 3, 4, 2, true, 2, true, false, DType::f64, 1);
  auto call = [&](const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& idx, const Tensor& cb,
                  VQAttentionOptions o, const Tensor& bias) { return vq_attention(q, k, v, idx, cb, o, bias); };
  REQUIRE_THROWS_OP(call(p.q, p.k.detach().reshape({1, 2, 5, 2, 2}), p.v, p.indices, p.codebook, p.options, p.bias),
                    "vq_attention");
  REQUIRE_THROWS_OP(call(p.q, p.k, zeros({1, 2, 4, 2}, DType::f64), p.indices, p.codebook, p.options, p.bias),
                    "vq_attention");
  REQUIRE_THROWS_OP(call(p.q, p.k, p.v.detach().to(DType::f32), p.indices, p.codebook, p.options, p.bias),
                    "vq_attention");
  REQUIRE_THROWS_OP(call(p.q, p.k, p.v, full({1, 2, 5}, 3.0, DType::i64), p.codebook, p.options, p.bias),
                    "vq_attention");
  REQUIRE_THROWS_OP(call(p.q, p.k, p.v, zeros({1, 2, 5}, DType::i32), p.codebook, p.options, p.bias),
                    "vq_attention");
  REQUIRE_THROWS_OP(call(p.q, p.k, p.v, zeros({1, 2, 4}, DType::i64), p.codebook, p.options, p.bias),
                    "vq_attention");
  REQUIRE_THROWS_OP(call(p.q, p.k, p.v, p.indices, zeros({3, 3, 4}, DType::f64), p.options, p.bias), "vq_attention");
  REQUIRE_THROWS_OP(call(p.q, p.k, p.v, p.indices, zeros({3, 5}, DType::f64), p.options, p.bias), "vq_attention");
  REQUIRE_THROWS_OP(call(p.q, p.k, p.v, p.indices, zeros({2, 0, 4}, DType::f64), p.options, p.bias), "vq_attention");
  REQUIRE_THROWS_OP(call(p.q, p.k, p.v, p.indices, p.codebook, p.options, zeros({2, 3}, DType::f64)),
                    "vq_attention");  // causal W = 2 needs (2, 2)
  VQAttentionOptions no_window = p.options;
  no_window.window = 0;
  REQUIRE_THROWS_OP(call(p.q, p.k, p.v, p.indices, p.codebook, no_window, p.bias), "vq_attention");
  VQAttentionOptions negative = p.options;
  negative.window = -1;
  REQUIRE_THROWS_OP(call(p.q, p.k, p.v, p.indices, p.codebook, negative, Tensor()), "vq_attention");
  // Double backward goes through the reference, not the fused kernel.
  const Tensor out = call(p.q, p.k, p.v, p.indices, p.codebook, p.options, p.bias);
  REQUIRE_THROWS_OP(autograd::grad({sum(out)}, {p.q}, {}, true, /*create_graph=*/true), "vq_attention");
}
