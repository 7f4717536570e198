// Tests for ops/fold.h: unfold / fold values by hand, their adjointness, gradcheck and
// gradgradcheck, and bad input.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::rand64;
using ember::test::values;

TEST_CASE("unfold and fold values by hand", "[ops][fold]") {
  Tensor x = arange(1, 10, 1, DType::f64).reshape({1, 1, 3, 3});
  Tensor cols = unfold(x, 2);
  REQUIRE(cols.sizes() == Shape{1, 4, 4});
  // rows: tap (0,0), (0,1), (1,0), (1,1); columns: the four 2x2 blocks.
  REQUIRE(values(cols) == std::vector<double>{1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9});
  // Stride 2 with padding 1: blocks at (-1,-1), (-1,1), (1,-1), (1,1); taps off the image read 0.
  REQUIRE(values(unfold(x, 2, 1, 1, 2)) == std::vector<double>{0, 0, 0, 5, 0, 0, 4, 6, 0, 2, 0, 8, 1, 3, 7, 9});
  // Dilation 2 on a 3x3 image: one block, the four corners.
  REQUIRE(values(unfold(x, 2, 2)) == std::vector<double>{1, 3, 7, 9});
  // fold sums overlapping blocks: fold(unfold(x)) = x times how many blocks cover each pixel.
  REQUIRE(values(fold(cols, 3, 2)) == std::vector<double>{1, 4, 3, 8, 20, 12, 7, 16, 9});
  // Non-overlapping blocks (stride = kernel): fold inverts unfold.
  Tensor image = arange(0, 32, 1, DType::f64).reshape({1, 2, 4, 4});
  REQUIRE(values(fold(unfold(image, 2, 1, 0, 2), 4, 2, 1, 0, 2)) == values(image));
  // Unbatched forms and a rectangular kernel.
  REQUIRE(unfold(x.squeeze(0), Size2(1, 3)).sizes() == Shape{3, 3});
  REQUIRE(values(unfold(x.squeeze(0), Size2(1, 3))) == std::vector<double>{1, 4, 7, 2, 5, 8, 3, 6, 9});
  REQUIRE(fold(unfold(x.squeeze(0), Size2(1, 3)), 3, Size2(1, 3)).sizes() == Shape{1, 3, 3});
}

TEST_CASE("fold is the adjoint of unfold", "[ops][fold]") {
  Generator gen(4);
  Tensor x = randn({2, 3, 7, 6}, gen, DType::f64);
  Tensor cols = unfold(x, Size2(3, 2), Size2(2, 1), Size2(1, 2), Size2(2, 3));
  Tensor probe = randn(cols.sizes(), gen, DType::f64);
  Tensor back = fold(probe, Size2(7, 6), Size2(3, 2), Size2(2, 1), Size2(1, 2), Size2(2, 3));
  REQUIRE(sum(cols * probe).item<double>() == Approx(sum(x * back).item<double>()).epsilon(1e-12));
  // f32 agrees with f64.
  Tensor cols32 = unfold(x.to(DType::f32), Size2(3, 2), Size2(2, 1), Size2(1, 2), Size2(2, 3));
  REQUIRE(all_close(cols32, values(cols), 1e-6, 1e-6));
}

TEST_CASE("unfold / fold gradients", "[ops][fold]") {
  Tensor x = rand64({1, 2, 4, 3}, 5);
  Tensor c = rand64({1, 8, 6}, 6);
  auto f = [](const TensorList& in) -> TensorList {
    return {unfold(in[0].transpose(2, 3), 2, 1, 1, Size2(2, 1)), fold(in[1], Size2(4, 3), 2, 1, 0, 1)};
  };
  REQUIRE(gradcheck(f, {x, c}));
  REQUIRE(gradgradcheck(f, {x, c}));
}

TEST_CASE("unfold / fold reject bad input", "[ops][fold][errors]") {
  Tensor x = zeros({1, 2, 4, 4});
  REQUIRE_THROWS_OP(unfold(zeros({4, 4}), 2), "unfold");
  REQUIRE_THROWS_OP(unfold(x, 0), "unfold");
  REQUIRE_THROWS_OP(unfold(x, 2, 0), "unfold");
  REQUIRE_THROWS_OP(unfold(x, 2, 1, -1), "unfold");
  REQUIRE_THROWS_OP(unfold(x, 2, 1, 0, 0), "unfold");
  REQUIRE_THROWS_OP(unfold(x, 5), "unfold");
  REQUIRE_THROWS_OP(unfold(zeros({1, 2, 4, 4}, DType::i64), 2), "unfold");
  REQUIRE_THROWS_OP(unfold(Tensor(), 2), "unfold");
  REQUIRE_THROWS_OP(fold(zeros({1, 7, 9}), 4, 2), "fold");   // 7 rows not divisible by 4
  REQUIRE_THROWS_OP(fold(zeros({1, 8, 8}), 4, 2), "fold");   // 8 blocks vs 9
  REQUIRE_THROWS_OP(fold(zeros({8}), 4, 2), "fold");
  REQUIRE_THROWS_OP(fold(zeros({1, 8, 9}), 0, 2), "fold");
  REQUIRE_THROWS_OP(fold(zeros({1, 8, 9}), 1, 2), "fold");   // output smaller than the kernel
}
