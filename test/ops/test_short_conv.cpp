// short_conv: hand-worked values, the fused kernels against a conv1d composite (every activation,
// with and without bias, awkward sizes, float32 and float64), gradcheck, gradgradcheck through
// the create_graph path, bad input. Twins: ops/short_conv.{h,cpp}, ops/cpu/short_conv.cpp.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;

namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::f64) {
  Generator gen(seed);
  return uniform(-1.0, 1.0, shape, gen, dtype).requires_grad_(true);
}

Tensor activate(const Tensor& z, const std::string& activation) {
  if (activation == "silu") return silu(z);
  if (activation == "gelu") return gelu(z);
  if (activation == "relu") return relu(z);
  return z;
}

// The same op from library pieces: a grouped conv1d (cross-correlation, hence the flipped taps)
// over the left-padded (B, D, L) sequence.
Tensor short_conv_composite(const Tensor& x, const Tensor& w, const Tensor& bias, const std::string& activation) {
  const int64_t D = x.size(2), K = w.size(1);
  Tensor padded = pad(x.transpose(1, 2), {K - 1, 0});                            // (B, D, L + K - 1)
  Tensor z = conv1d(padded, flip(w, {1}).unsqueeze(1), bias, 1, 0, 1, D);      // (B, D, L)
  return activate(z.transpose(1, 2), activation);
}

TensorList grads_of(const Tensor& out, const TensorList& inputs, uint64_t seed) {
  Tensor weight = random_tensor(out.sizes(), seed, out.dtype()).detach();
  return autograd::grad({sum(mul(out, weight))}, inputs);
}

const std::vector<std::string> kActivations = {"none", "silu", "gelu", "relu"};

}  // namespace

TEST_CASE("short_conv matches hand-computed values", "[ops][short_conv]") {
  // x = [1, 2, 3], w = [2, 1] (y_t = 2 x_t + x_{t-1} + bias), bias = 0.5
  Tensor x = from_vector<double>({1, 2, 3}, {1, 3, 1});
  Tensor w = from_vector<double>({2, 1}, {1, 2});
  Tensor bias = from_vector<double>({0.5}, {1});
  REQUIRE(all_close(short_conv(x, w, bias), {2.5, 5.5, 8.5}, 1e-12, 1e-12));
  REQUIRE(all_close(short_conv(x, w), {2, 5, 8}, 1e-12, 1e-12));
  // relu with bias -5.5: [0, 0, 2.5]
  REQUIRE(all_close(short_conv(x, w, from_vector<double>({-5.5}, {1}), "relu"), {0, 0, 2.5}, 1e-12, 1e-12));
  // silu(z) = z / (1 + e^-z) at z = 2, 5, 8
  REQUIRE(all_close(short_conv(x, w, Tensor(), "silu"),
                    {2 / (1 + std::exp(-2.0)), 5 / (1 + std::exp(-5.0)), 8 / (1 + std::exp(-8.0))}, 1e-12, 1e-12));
}

TEST_CASE("short_conv fused kernels match the conv1d composite", "[ops][short_conv]") {
  struct Case {
    int64_t B, L, D, K;
    bool bias;
  };
  const std::vector<Case> cases = {
      {1, 1, 1, 1, true}, {2, 3, 5, 4, true},  {2, 17, 40, 2, false}, {1, 5, 33, 8, true},
      {3, 9, 7, 3, true}, {2, 300, 100, 4, true},  // large enough for the threaded paths
  };
  for (size_t index = 0; index < cases.size(); ++index) {
    const Case& c = cases[index];
    for (const std::string& activation : kActivations) {
      INFO("case " << index << ", " << activation);
      const uint64_t seed = 200 + index * 10;
      Tensor x = random_tensor({c.B, c.L, c.D}, seed);
      Tensor w = random_tensor({c.D, c.K}, seed + 1);
      Tensor bias = c.bias ? random_tensor({c.D}, seed + 2) : Tensor();
      Tensor fused = short_conv(x, w, bias, activation);
      Tensor reference = short_conv_composite(x, w, bias, activation);
      REQUIRE(all_close(fused, reference, 1e-10, 1e-12));
      TensorList inputs = {x, w};
      if (c.bias) inputs.push_back(bias);
      TensorList fused_grads = grads_of(fused, inputs, seed + 3);
      TensorList reference_grads = grads_of(reference, inputs, seed + 3);
      for (size_t i = 0; i < inputs.size(); ++i) {
        INFO("gradient " << i);
        REQUIRE(all_close(fused_grads[i], reference_grads[i], 1e-9, 1e-10));
      }
      // sum(y) hands the backward an expanded (all strides 0) gradient, read in place.
      TensorList fused_sum = autograd::grad({sum(short_conv(x, w, bias, activation))}, inputs);
      TensorList reference_sum = autograd::grad({sum(short_conv_composite(x, w, bias, activation))}, inputs);
      for (size_t i = 0; i < inputs.size(); ++i) REQUIRE(all_close(fused_sum[i], reference_sum[i], 1e-9, 1e-10));
      // float32 (vectorised exp / erf) against the float64 reference
      Tensor fused32 = short_conv(x.detach().to(DType::f32), w.detach().to(DType::f32),
                                  c.bias ? bias.detach().to(DType::f32) : Tensor(), activation);
      REQUIRE(all_close(fused32, reference, 1e-4, 1e-5));
    }
  }
}

TEST_CASE("short_conv gradcheck and gradgradcheck", "[ops][short_conv]") {
  Tensor x = random_tensor({2, 5, 3}, 11);
  Tensor w = random_tensor({3, 3}, 12);
  Tensor bias = random_tensor({3}, 13);
  for (const std::string& activation : kActivations) {
    INFO(activation);
    auto with_bias = [activation](const TensorList& in) -> TensorList {
      return {short_conv(in[0], in[1], in[2], activation)};
    };
    auto without_bias = [activation](const TensorList& in) -> TensorList {
      return {short_conv(in[0], in[1], Tensor(), activation)};
    };
    REQUIRE(gradcheck(with_bias, {x, w, bias}));
    REQUIRE(gradcheck(without_bias, {x, w}));
    if (activation != "relu") REQUIRE(gradgradcheck(with_bias, {x, w, bias}));  // relu'' is 0 a.e., kink at 0
  }
  // Non-contiguous input: a transposed view.
  Tensor xt = random_tensor({2, 3, 5}, 14);
  auto transposed = [](const TensorList& in) -> TensorList {
    return {short_conv(in[0].transpose(1, 2), in[1], in[2], "silu")};
  };
  REQUIRE(gradcheck(transposed, {xt, w, bias}));
}

TEST_CASE("short_conv rejects bad input", "[ops][short_conv]") {
  Tensor x = zeros({2, 8, 3}, DType::f64);
  Tensor w = zeros({3, 4}, DType::f64);
  REQUIRE_THROWS_OP(short_conv(zeros({8, 3}, DType::f64), w), "short_conv");
  REQUIRE_THROWS_OP(short_conv(x, zeros({3, 4, 1}, DType::f64)), "short_conv");
  REQUIRE_THROWS_OP(short_conv(x, zeros({4, 4}, DType::f64)), "short_conv");
  REQUIRE_THROWS_OP(short_conv(x, zeros({3, 0}, DType::f64)), "short_conv");
  REQUIRE_THROWS_OP(short_conv(x, zeros({3, 4}, DType::f32)), "short_conv");
  REQUIRE_THROWS_OP(short_conv(x, w, zeros({4}, DType::f64)), "short_conv");
  REQUIRE_THROWS_OP(short_conv(x, w, zeros({3}, DType::f32)), "short_conv");
  REQUIRE_THROWS_OP(short_conv(x, w, Tensor(), "tanh"), "short_conv");
  REQUIRE_THROWS_OP(short_conv(zeros({2, 8, 3}, DType::i64), zeros({3, 4}, DType::i64)), "short_conv");
}
