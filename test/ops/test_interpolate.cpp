// Tests for ops/interpolate.h. Reference numbers were computed once with PyTorch 1.13
// (F.interpolate, float64, same arguments) and written here as literals; pixel_shuffle is
// checked against its index formula.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {
// (1, 1, 3, 4)
Tensor image() {
  return from_vector<double>({1, 4, 2, 0, 3, 5, -1, 2, 0.5, 1.5, 6, -2}, {1, 1, 3, 4});
}
Tensor signal() { return from_vector<double>({1, 3, -2, 0.5, 4}, {1, 1, 5}); }
}  // namespace

TEST_CASE("interpolate nearest matches PyTorch", "[ops][nn][interpolate]") {
  Tensor x = image();
  Tensor out = interpolate(x, Shape{5, 3});
  REQUIRE(out.sizes() == Shape{1, 1, 5, 3});
  REQUIRE(values(out) == std::vector<double>{1, 4, 2, 1, 4, 2, 3, 5, -1, 3, 5, -1, 0.5, 1.5, 6});
  Tensor scaled = interpolate(x, 1.7);
  REQUIRE(scaled.sizes() == Shape{1, 1, 5, 6});
  REQUIRE(values(scaled) == std::vector<double>{1, 1, 4, 4, 2, 2, 1, 1, 4, 4, 2, 2, 3, 3, 5, 5, -1, -1,
                                                3, 3, 5, 5, -1, -1, 0.5, 0.5, 1.5, 1.5, 6, 6});
  Tensor l = interpolate(signal(), 1.5);
  REQUIRE(values(l) == std::vector<double>{1, 1, 3, -2, -2, 0.5, 4});
  // By hand: 2x nearest upsampling repeats each pixel in a 2x2 block; float32 keeps its dtype.
  Tensor small = from_vector<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor up = interpolate(small, 2.0);
  REQUIRE(up.dtype() == DType::f32);
  REQUIRE(values(up) == std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
}

TEST_CASE("interpolate linear / bilinear / bicubic match PyTorch", "[ops][nn][interpolate]") {
  Tensor x = image();
  REQUIRE(all_close(interpolate(x, Shape{5, 3}, "bilinear"),
                    {1.5, 3.0, 0.333333333333334, 2.233333333333333, 2.6, 0.8, 3.333333333333333, 2.0, 1.499999999999999,
                     1.733333333333334, 3.05, 0.200000000000001, 0.666666666666667, 3.75, -0.666666666666664},
                    1e-12, 1e-12));
  REQUIRE(all_close(interpolate(x, Shape{5, 3}, "bilinear", true),
                    {1.0, 3.0, 0.0, 2.0, 2.5, 1.0, 3.0, 2.0, 2.0, 1.75, 2.875, 0.0, 0.5, 3.75, -2.0}, 1e-12, 1e-12));
  Tensor by_scale = interpolate(x, std::vector<double>{2.5, 0.6}, "bilinear");
  REQUIRE(by_scale.sizes() == Shape{1, 1, 7, 2});
  REQUIRE(all_close(by_scale, {2.0, 2.0, 2.166666666666667, 1.7, 2.833333333333333, 0.5, 3.5, -0.7, 2.816666666666666,
                               1.1, 1.683333333333333, 3.900000000000001, 0.833333333333333, 6.0},
                    1e-12, 1e-12));
  REQUIRE(all_close(interpolate(x, Shape{4, 6}, "bicubic"),
                    {0.589797973632813, 2.55291748046875,   3.989991364655671, 2.719257496021413,  0.87530517578125,
                     -0.348319159613716, 2.339526706271703, 4.324577331542969, 4.377014160156249, -0.034220377604166,
                     -0.020133972167969, 1.92766825358073,  2.186053805881077, 3.332717895507812, 3.607472737630207,
                     1.636566162109375,  0.736618041992188, 0.742335001627604, 0.239981757269966, 0.292137145996094,
                     2.235948350694443,  6.527540418836805, 2.600196838378906, -3.050091213650176},
                    1e-12, 1e-12));
  REQUIRE(all_close(interpolate(x, Shape{4, 6}, "bicubic", true),
                    {1.0, 3.051999999999999, 3.984, 2.616000000000001, 1.008, 0.0, 2.648148148148148, 4.770814814814813,
                     4.203703703703702, 0.010370370370372, -0.443851851851854, 1.814814814814815, 2.435185185185186,
                     3.737518518518517, 3.605703703703704, 1.451703703703707, 0.567296296296296, 0.962962962962963, 0.5,
                     0.625999999999999, 2.580000000000001, 6.000000000000001, 3.382000000000002, -2.0},
                    1e-12, 1e-12));
  REQUIRE(all_close(interpolate(signal(), Shape{7}, "linear"),
                    {1.0, 2.142857142857143, 1.571428571428571, -2.0, -0.214285714285714, 2.000000000000001, 4.0}, 1e-12,
                    1e-12));
  REQUIRE(all_close(interpolate(signal(), Shape{3}, "linear", true), {1.0, -2.0, 4.0}, 1e-12, 1e-12));
  // Same size without align_corners is the identity for every mode.
  for (std::string mode : {"nearest", "bilinear", "bicubic"}) REQUIRE(all_close(interpolate(x, Shape{3, 4}, mode), image(), 1e-14, 1e-14));
}

TEST_CASE("interpolate batches planes and accepts non-contiguous input", "[ops][nn][interpolate]") {
  Generator gen(4);
  Tensor x = randn({2, 3, 5, 4}, gen, DType::f64);
  Tensor out = interpolate(x, Shape{7, 9}, "bicubic");
  REQUIRE(out.sizes() == Shape{2, 3, 7, 9});
  // Each (n, c) plane alone gives the same result.
  Tensor plane = interpolate(x.narrow(0, 1, 1).narrow(1, 2, 1), Shape{7, 9}, "bicubic");
  REQUIRE(all_close(out.narrow(0, 1, 1).narrow(1, 2, 1).contiguous(), plane, 1e-14, 1e-14));
  // A transposed input equals its contiguous copy.
  Tensor xt = x.transpose(2, 3);
  REQUIRE(all_close(interpolate(xt, Shape{6, 3}, "bilinear"), interpolate(xt.contiguous(), Shape{6, 3}, "bilinear"), 1e-14,
                    1e-14));
}

TEST_CASE("interpolate gradcheck and gradgradcheck (the adjoint op)", "[ops][nn][interpolate]") {
  Tensor x = ember::test::rand64({1, 2, 3, 4}, 81);
  for (std::string mode : {"nearest", "bilinear", "bicubic"}) {
    for (bool align : {false, true}) {
      if (mode == "nearest" && align) continue;
      std::optional<bool> ac = mode == "nearest" ? std::nullopt : std::optional<bool>(align);
      auto f = [&](const TensorList& in) -> TensorList {
        return {interpolate(in[0], Shape{5, 3}, mode, ac), interpolate(in[0], std::vector<double>{1.5, 0.75}, mode, ac),
                interpolate(in[0], Shape{1, 6}, mode, ac)};  // H 3 -> 1: rows that no output reads
      };
      REQUIRE(gradcheck(f, {x}));
      REQUIRE(gradcheck(f, {x.transpose(2, 3).contiguous().transpose(2, 3)}));  // non-contiguous
      REQUIRE(gradgradcheck(f, {x}));
    }
  }
  Tensor s = ember::test::rand64({2, 1, 5}, 82);
  auto f1 = [](const TensorList& in) -> TensorList {
    return {interpolate(in[0], Shape{8}, "linear"), interpolate(in[0], Shape{3}, "linear", true), interpolate(in[0], 1.5)};
  };
  REQUIRE(gradcheck(f1, {s}));
  REQUIRE(gradgradcheck(f1, {s}));
  // By hand: 2x nearest upsampling sends each input pixel the sum of its 2x2 block.
  Tensor leaf = zeros({1, 1, 1, 2}, TensorOptions(DType::f64).requires_grad(true));
  interpolate(leaf, 2.0).backward(from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 2, 4}));
  REQUIRE(values(leaf.grad()) == std::vector<double>{1 + 2 + 5 + 6, 3 + 4 + 7 + 8});
}

TEST_CASE("pixel_shuffle / pixel_unshuffle permute as the index formula says", "[ops][nn][interpolate]") {
  const int64_t r = 2, C = 3, H = 2, W = 3;
  Tensor x = arange(0, 2 * C * r * r * H * W, 1, DType::f64).reshape({2, C * r * r, H, W});
  Tensor y = pixel_shuffle(x, r);
  REQUIRE(y.sizes() == Shape{2, C, H * r, W * r});
  std::vector<double> vx = values(x), vy = values(y);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H * r; ++h)
        for (int64_t w = 0; w < W * r; ++w) {
          // out[n, c, h, w] = x[n, c r^2 + (h % r) r + (w % r), h / r, w / r]
          const int64_t src = ((n * C * r * r + c * r * r + (h % r) * r + (w % r)) * H + h / r) * W + w / r;
          REQUIRE(vy[((n * C + c) * H * r + h) * W * r + w] == vx[src]);
        }
  REQUIRE(values(pixel_unshuffle(y, r)) == vx);
  REQUIRE(pixel_shuffle(zeros({4, 2, 3}), 2).sizes() == Shape{1, 4, 6});                // no batch dim
  REQUIRE(pixel_unshuffle(zeros({2, 5, 1, 6, 4}), 2).sizes() == Shape{2, 5, 4, 3, 2});  // two batch dims
  Tensor g = ember::test::rand64({1, 4, 4, 2}, 83);
  auto f = [](const TensorList& in) -> TensorList { return {pixel_shuffle(in[0], 2), pixel_unshuffle(in[0], 2)}; };
  REQUIRE(gradcheck(f, {g.narrow(2, 0, 2)}));
  REQUIRE(gradcheck([](const TensorList& in) -> TensorList { return {pixel_unshuffle(in[0].transpose(2, 3), 2)}; },
                    {ember::test::rand64({1, 2, 4, 2}, 84)}));
  REQUIRE(gradgradcheck(f, {g.narrow(2, 0, 2)}));
}

TEST_CASE("interpolate / pixel_shuffle bad input", "[ops][nn][interpolate][errors]") {
  Tensor x = zeros({1, 1, 3, 4});
  REQUIRE_THROWS_OP(interpolate(x, Shape{2, 2}, "trilinear"), "interpolate");
  REQUIRE_THROWS_OP(interpolate(x, Shape{2, 2}, "linear"), "interpolate");
  REQUIRE_THROWS_OP(interpolate(zeros({1, 1, 4}), Shape{2}, "bilinear"), "interpolate");
  REQUIRE_THROWS_OP(interpolate(x, Shape{2, 2}, "nearest", true), "interpolate");
  REQUIRE_THROWS_OP(interpolate(x, Shape{2, 2, 2}), "interpolate");
  REQUIRE_THROWS_OP(interpolate(x, Shape{0, 2}), "interpolate");
  REQUIRE_THROWS_OP(interpolate(x, Shape{-1, 2}), "interpolate");
  REQUIRE_THROWS_OP(interpolate(x, 0.1), "interpolate");  // floor(3 * 0.1) = 0 rows
  REQUIRE_THROWS_OP(interpolate(x, -2.0), "interpolate");
  REQUIRE_THROWS_OP(interpolate(zeros({3, 4}), 2.0), "interpolate");
  REQUIRE_THROWS_OP(interpolate(zeros({1, 1, 2, 2}, DType::i64), 2.0), "interpolate");
  REQUIRE_THROWS_OP(interpolate(zeros({1, 1, 0, 2}), Shape{2, 2}), "interpolate");
  REQUIRE_THROWS_OP(pixel_shuffle(zeros({1, 3, 2, 2}), 2), "pixel_shuffle");
  REQUIRE_THROWS_OP(pixel_shuffle(zeros({4, 2}), 2), "pixel_shuffle");
  REQUIRE_THROWS_OP(pixel_shuffle(zeros({1, 4, 2, 2}), 0), "pixel_shuffle");
  REQUIRE_THROWS_OP(pixel_unshuffle(zeros({1, 1, 3, 4}), 2), "pixel_unshuffle");
}
