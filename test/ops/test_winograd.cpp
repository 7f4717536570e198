// Tests for ops/cpu/winograd.h (F(4x4, 3x3) float32 convolutions): the forward, input gradient
// and weight gradient kernels, called directly on awkward sizes, against the float64 im2col path
// (ops/conv.h on f64 tensors, itself tested against a six-loop reference in test_conv.cpp); the
// dispatch (conv2d on float32 picks Winograd for ResNet-like layers) with autograd; and which
// geometries qualify.
//
// Tolerance: Winograd's transforms scale values by up to 8 and 1/24, so float32 errors grow
// beyond a direct sum's. Measured max |error| / max |reference| (2026-11-29): forward and input
// gradient ~1e-6 to 4e-6, weight gradient ~1e-6 to 6e-6 (im2col in float32: ~3e-7). The tests
// allow kScaledTolerance = 5e-5 (about 10x the worst seen), far below what a wrong transform
// entry or a misplaced tile gives (errors of order 1).
#include "helpers.h"
#include "ops/cpu/winograd.h"

using namespace ember;

namespace {

constexpr double kScaledTolerance = 5e-5;

// max |actual - expected| / max |expected|
double scaled_error(const Tensor& actual, const Tensor& expected) {
  const std::vector<double> a = test::values(actual), e = test::values(expected);
  REQUIRE(a.size() == e.size());
  double worst = 0.0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(a[i] - e[i]));
    scale = std::max(scale, std::fabs(e[i]));
  }
  if (std::getenv("WINOGRAD_PRINT")) std::printf("scaled error %.3g\n", worst / scale);
  return worst / scale;
}

struct Case {
  int64_t N, C, K, H, W, pad_h, pad_w;
};

cpu::Conv2dGeometry geometry_of(const Case& c) {
  cpu::Conv2dGeometry g;
  g.batch = c.N;
  g.in_channels = c.C;
  g.out_channels = c.K;
  g.patch = {.channels = c.C, .in_h = c.H, .in_w = c.W, .kernel_h = 3, .kernel_w = 3,
             .out_h = c.H + 2 * c.pad_h - 2, .out_w = c.W + 2 * c.pad_w - 2, .stride_h = 1, .stride_w = 1,
             .pad_h = c.pad_h, .pad_w = c.pad_w};
  return g;
}

Tensor random_f64(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen, DType::f64);
}

// Runs the three Winograd kernels on float32 copies of random operands and compares each with the
// float64 im2col result.
void check_case(const Case& c) {
  INFO("N=" << c.N << " C=" << c.C << " K=" << c.K << " H=" << c.H << " W=" << c.W << " pad=(" << c.pad_h << ","
            << c.pad_w << ")");
  const cpu::Conv2dGeometry g = geometry_of(c);
  const int64_t OH = g.patch.out_h, OW = g.patch.out_w;
  const Tensor x = random_f64({c.N, c.C, c.H, c.W}, 1), w = random_f64({c.K, c.C, 3, 3}, 2);
  const Tensor dy = random_f64({c.N, c.K, OH, OW}, 3), bias = random_f64({c.K}, 4), bias_in = random_f64({c.C}, 5);
  const Size2 pad(c.pad_h, c.pad_w);

  const Tensor y_ref = conv2d(x, w, bias, 1, ConvPadding(c.pad_h, c.pad_w));
  const Tensor dx_ref = conv_transpose2d(dy, w, bias_in, 1, pad);
  const Tensor dw_ref = conv2d_weight_backward(x, dy, 3, 1, pad, 1, 1);

  const Tensor x32 = x.to(DType::f32), w32 = w.to(DType::f32), dy32 = dy.to(DType::f32);
  const Tensor bias32 = bias.to(DType::f32), bias_in32 = bias_in.to(DType::f32);
  Tensor y = empty({c.N, c.K, OH, OW}, DType::f32), dx = empty({c.N, c.C, c.H, c.W}, DType::f32);
  Tensor dw = empty({c.K, c.C, 3, 3}, DType::f32);
  cpu::winograd_forward(y.data_ptr<float>(), x32.data_ptr<float>(), w32.data_ptr<float>(), bias32.data_ptr<float>(),
                        g);
  cpu::winograd_input_backward(dx.data_ptr<float>(), dy32.data_ptr<float>(), w32.data_ptr<float>(),
                               bias_in32.data_ptr<float>(), g);
  cpu::winograd_weight_backward(dw.data_ptr<float>(), x32.data_ptr<float>(), dy32.data_ptr<float>(), g);
  CHECK(scaled_error(y, y_ref) < kScaledTolerance);
  CHECK(scaled_error(dx, dx_ref) < kScaledTolerance);
  CHECK(scaled_error(dw, dw_ref) < kScaledTolerance);
}

}  // namespace

TEST_CASE("winograd: forward, input and weight gradients match float64 im2col on awkward sizes", "[winograd]") {
  const Case cases[] = {
      {1, 16, 16, 8, 8, 1, 1},    // one image, tiles fit exactly
      {2, 3, 5, 7, 5, 1, 1},      // odd sizes, channels below one lane block, tiles stick out
      {1, 17, 20, 1, 1, 1, 1},    // 1x1 image: one tile, mostly padding
      {3, 20, 33, 9, 6, 0, 0},    // no padding (output 7x4)
      {2, 18, 7, 5, 6, 2, 2},     // padding 2: the input gradient runs unpadded
      {1, 9, 12, 6, 10, 0, 2},    // different padding per side
      {3, 32, 32, 20, 20, 1, 1},  // 75 tiles: more than one block, blocks spread over threads
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("winograd: ResNet-like layers through conv2d's float32 dispatch, with autograd", "[winograd]") {
  // (4, 32, 8, 8) -> 48 channels, padding 1, bias: qualifies for Winograd; compared with float64
  Generator gen(7);
  const Tensor x64 = randn({4, 32, 8, 8}, gen, DType::f64), w64 = randn({48, 32, 3, 3}, gen, DType::f64) * 0.1;
  const Tensor b64 = randn({48}, gen, DType::f64), g64 = randn({4, 48, 8, 8}, gen, DType::f64);
  REQUIRE(cpu::winograd_applies(geometry_of({4, 32, 48, 8, 8, 1, 1})));

  auto run = [&](DType dtype) {
    Tensor x = x64.to(dtype).detach().requires_grad_(true), w = w64.to(dtype).detach().requires_grad_(true);
    Tensor b = b64.to(dtype).detach().requires_grad_(true);
    const Tensor y = conv2d(x, w, b, 1, 1);
    sum(y * g64.to(dtype)).backward();
    return std::vector<Tensor>{y.detach(), x.grad(), w.grad(), b.grad()};
  };
  const std::vector<Tensor> expected = run(DType::f64), actual = run(DType::f32);
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("output " << i << " (y, dx, dw, db)");
    CHECK(scaled_error(actual[i], expected[i]) < kScaledTolerance);
  }
}

TEST_CASE("winograd: which convolutions qualify", "[winograd]") {
  CHECK(cpu::winograd_applies(geometry_of({32, 64, 64, 32, 32, 1, 1})));  // ResNet layer1
  CHECK(cpu::winograd_applies(geometry_of({32, 512, 512, 4, 4, 1, 1})));  // ResNet layer4
  CHECK_FALSE(cpu::winograd_applies(geometry_of({32, 3, 64, 32, 32, 1, 1})));  // stem: 3 input channels
  CHECK_FALSE(cpu::winograd_applies(geometry_of({32, 64, 64, 2, 2, 1, 1})));   // 2x2 output: 3/4 of a tile wasted
  cpu::Conv2dGeometry strided = geometry_of({32, 64, 128, 32, 32, 1, 1});
  strided.patch.stride_h = strided.patch.stride_w = 2;
  strided.patch.out_h = strided.patch.out_w = 16;
  CHECK_FALSE(cpu::winograd_applies(strided));
  cpu::Conv2dGeometry grouped = geometry_of({32, 64, 64, 32, 32, 1, 1});
  grouped.groups = 2;
  grouped.patch.channels = 32;
  CHECK_FALSE(cpu::winograd_applies(grouped));
  cpu::Conv2dGeometry dilated = geometry_of({32, 64, 64, 32, 32, 2, 2});
  dilated.patch.dilation_h = dilated.patch.dilation_w = 2;
  CHECK_FALSE(cpu::winograd_applies(dilated));
}
