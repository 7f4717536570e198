// long_conv: hand-worked values, the FFT kernel against the direct loops (forward and gradients,
// causal and centred, awkward lengths, float32 and float64), gradcheck / gradgradcheck, bad input.
// Twins: ops/long_conv.{h,cpp}, ops/cpu/long_conv.cpp.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;

namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::f64) {
  Generator gen(seed);
  return uniform(-1.0, 1.0, shape, gen, dtype).requires_grad_(true);
}

// Gradients of sum(out * weight) (a random weight makes every output count).
TensorList grads_of(const Tensor& out, const TensorList& inputs, uint64_t seed) {
  Tensor weight = random_tensor(out.sizes(), seed, out.dtype()).detach();
  return autograd::grad({sum(mul(out, weight))}, inputs);
}

}  // namespace

TEST_CASE("long_conv matches hand-computed values", "[ops][long_conv]") {
  Tensor x = from_vector<double>({1, 2, 3, 4}, {1, 4, 1});
  // causal, k = [1, 0.5]: y_t = x_t + 0.5 x_{t-1}
  Tensor k2 = from_vector<double>({1, 0.5}, {1, 2});
  REQUIRE(all_close(long_conv(x, k2), {1, 2.5, 4, 5.5}, 1e-12, 1e-12));
  REQUIRE(all_close(detail::long_conv_direct(x, k2), {1, 2.5, 4, 5.5}, 1e-12, 1e-12));
  // centred, k = [1, 2, 3] (c = 1): y_t = 1 x_{t+1} + 2 x_t + 3 x_{t-1}
  Tensor k3 = from_vector<double>({1, 2, 3}, {1, 3});
  REQUIRE(all_close(long_conv(x, k3, false), {4, 10, 16, 17}, 1e-12, 1e-12));
  REQUIRE(all_close(detail::long_conv_direct(x, k3, false), {4, 10, 16, 17}, 1e-12, 1e-12));
  // Two channels use their own kernels: channel 1 is the identity.
  Tensor x2 = from_vector<double>({1, 10, 2, 20, 3, 30}, {1, 3, 2});
  // (Not {1, 1, 1, 0}: GCC 12.2 with AVX-512 folds that constant to {1, 1, 1, 1}.)
  Tensor k22 = from_vector<double>({0.5, 1, 1, 0}, {2, 2});
  REQUIRE(all_close(long_conv(x2, k22), {0.5, 10, 2, 20, 3.5, 30}, 1e-12, 1e-12));
}

TEST_CASE("long_conv FFT kernel matches the direct loops", "[ops][long_conv]") {
  struct Case {
    int64_t L, K;
    bool causal;
  };
  const std::vector<Case> cases = {
      {1, 1, true},     {1, 1, false},    {63, 1, true},    {63, 5, true},      {63, 63, true},  {63, 31, false},
      {63, 125, false}, {500, 17, true},  {500, 500, true}, {500, 999, false},  {1000, 300, true},
      {1000, 1000, true}, {1000, 101, false}, {1000, 1999, false},
  };
  for (size_t index = 0; index < cases.size(); ++index) {
    const Case& c = cases[index];
    INFO("L = " << c.L << ", K = " << c.K << (c.causal ? " causal" : " centred"));
    const uint64_t seed = 100 + index * 10;
    Tensor x = random_tensor({2, c.L, 3}, seed);
    Tensor k = random_tensor({3, c.K}, seed + 1);
    Tensor fast = long_conv(x, k, c.causal);
    Tensor direct = detail::long_conv_direct(x, k, c.causal);
    REQUIRE(all_close(fast, direct, 1e-9, 1e-10));
    TensorList fast_grads = grads_of(fast, {x, k}, seed + 2);
    TensorList direct_grads = grads_of(direct, {x, k}, seed + 2);
    REQUIRE(all_close(fast_grads[0], direct_grads[0], 1e-9, 1e-10));
    REQUIRE(all_close(fast_grads[1], direct_grads[1], 1e-9, 1e-9));
    // float32 FFT against the float64 loops
    Tensor fast32 = long_conv(x.detach().to(DType::f32), k.detach().to(DType::f32), c.causal);
    REQUIRE(fast32.dtype() == DType::f32);
    REQUIRE(all_close(fast32, direct, 1e-3, 1e-4));
  }
}

TEST_CASE("long_conv takes many channels and non-contiguous inputs", "[ops][long_conv]") {
  // D = 21: two full channel blocks and a partial one; x a transposed view, k a slice.
  Tensor x = random_tensor({21, 40, 3}, 1).permute({2, 1, 0});  // (3, 40, 21)
  Tensor k = random_tensor({21, 80}, 2).slice(1, 0, 80, 2);    // (21, 40), strided
  for (bool causal : {true, false}) {
    Tensor kk = causal ? k : k.narrow(1, 0, 39);
    Tensor fast = long_conv(x, kk, causal);
    Tensor direct = detail::long_conv_direct(x, kk, causal);
    REQUIRE(all_close(fast, direct, 1e-9, 1e-10));
    TensorList a = grads_of(fast, {x, k}, 3), b = grads_of(direct, {x, k}, 3);
    REQUIRE(all_close(a[0], b[0], 1e-9, 1e-10));
    REQUIRE(all_close(a[1], b[1], 1e-9, 1e-10));
    // sum(y) hands the backward an expanded (all strides 0) gradient; the kernel reads it in place.
    TensorList c = autograd::grad({sum(long_conv(x, kk, causal))}, {x, k});
    TensorList d = autograd::grad({sum(detail::long_conv_direct(x, kk, causal))}, {x, k});
    REQUIRE(all_close(c[0], d[0], 1e-9, 1e-10));
    REQUIRE(all_close(c[1], d[1], 1e-9, 1e-10));
  }
}

TEST_CASE("long_conv gradcheck and gradgradcheck", "[ops][long_conv]") {
  Tensor x = random_tensor({2, 6, 3}, 11);
  Tensor k_causal = random_tensor({3, 4}, 12);
  Tensor k_centred = random_tensor({3, 5}, 13);
  auto causal = [](const TensorList& in) -> TensorList { return {long_conv(in[0], in[1], true)}; };
  auto centred = [](const TensorList& in) -> TensorList { return {long_conv(in[0], in[1], false)}; };
  auto direct = [](const TensorList& in) -> TensorList { return {detail::long_conv_direct(in[0], in[1], true)}; };
  REQUIRE(gradcheck(causal, {x, k_causal}));
  REQUIRE(gradcheck(centred, {x, k_centred}));
  REQUIRE(gradcheck(direct, {x, k_causal}));
  REQUIRE(gradgradcheck(causal, {x, k_causal}));
  REQUIRE(gradgradcheck(centred, {x, k_centred}));
  // K = L causal and K = 2L - 1 centred: the longest kernels.
  REQUIRE(gradcheck(causal, {x, random_tensor({3, 6}, 14)}));
  REQUIRE(gradcheck(centred, {x, random_tensor({3, 11}, 15)}));
}

TEST_CASE("long_conv rejects bad input", "[ops][long_conv]") {
  Tensor x = zeros({2, 8, 3}, DType::f64);
  REQUIRE_THROWS_OP(long_conv(zeros({8, 3}, DType::f64), zeros({3, 4}, DType::f64)), "long_conv");  // rank
  REQUIRE_THROWS_OP(long_conv(x, zeros({3, 4, 1}, DType::f64)), "long_conv");                      // rank
  REQUIRE_THROWS_OP(long_conv(x, zeros({4, 4}, DType::f64)), "long_conv");                         // D mismatch
  REQUIRE_THROWS_OP(long_conv(x, zeros({3, 9}, DType::f64)), "long_conv");                         // K > L
  REQUIRE_THROWS_OP(long_conv(x, zeros({3, 0}, DType::f64)), "long_conv");                         // K = 0
  REQUIRE_THROWS_OP(long_conv(x, zeros({3, 4}, DType::f64), false), "long_conv");                  // even K
  REQUIRE_THROWS_OP(long_conv(x, zeros({3, 17}, DType::f64), false), "long_conv");                 // K > 2L - 1
  REQUIRE_THROWS_OP(long_conv(x, zeros({3, 4}, DType::f32)), "long_conv");                         // dtype mismatch
  REQUIRE_THROWS_OP(long_conv(zeros({2, 8, 3}, DType::i64), zeros({3, 4}, DType::i64)), "long_conv");
  REQUIRE_THROWS_OP(detail::long_conv_direct(x, zeros({3, 9}, DType::f64)), "long_conv_direct");
}
