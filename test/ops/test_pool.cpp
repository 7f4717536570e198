// Tests for ops/pool.h: forward values against hand-computed windows, gradients by gradcheck /
// gradgradcheck (float64, small tensors), the scatter/gather helpers, and bad input.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::f64;
using ember::test::rand64;
using ember::test::values;

namespace {
// A 4x4 plane with a scattered maximum pattern (row-major):
//   1 9 2 0 / 3 4 8 7 / 6 5 1 2 / 0 3 4 11
const std::vector<double> kPlane{1, 9, 2, 0, 3, 4, 8, 7, 6, 5, 1, 2, 0, 3, 4, 11};
}  // namespace

TEST_CASE("max_pool2d values and indices, with padding and stride", "[ops][pool]") {
  Tensor x = f64(kPlane, {1, 1, 4, 4}, false);
  auto [v, i] = max_pool2d_with_indices(x, 2);
  REQUIRE(v.sizes() == Shape{1, 1, 2, 2});
  REQUIRE(values(v) == std::vector<double>{9, 8, 6, 11});
  REQUIRE(i.dtype() == DType::i64);
  REQUIRE(values(i) == std::vector<double>{1, 6, 8, 15});
  // kernel 3, stride 2, padding 1: windows rows/cols {0,1} and {1,2,3}.
  auto [v2, i2] = max_pool2d_with_indices(x, 3, 2, 1);
  REQUIRE(values(v2) == std::vector<double>{9, 9, 6, 11});
  REQUIRE(values(i2) == std::vector<double>{1, 1, 8, 15});
  // Rectangular kernel {1, 4}: the max of each row.
  REQUIRE(values(max_pool2d(x, {1, 4})) == std::vector<double>{9, 8, 6, 11});
  // Unbatched (C, H, W) input gives the batched result without the batch dim.
  Tensor unbatched = max_pool2d(x[0], 3, 2, 1);
  REQUIRE(unbatched.sizes() == Shape{1, 2, 2});
  REQUIRE(values(unbatched) == std::vector<double>{9, 9, 6, 11});
}

TEST_CASE("max_pool2d backward routes gradients to the argmax; double backward", "[ops][pool]") {
  Tensor x = f64(kPlane, {1, 1, 4, 4});
  sum(max_pool2d(x, 3, 2, 1)).backward();
  std::vector<double> expected(16, 0.0);
  expected[1] = 2;  // the 9 wins two windows
  expected[8] = 1;
  expected[15] = 1;
  REQUIRE(values(x.grad()) == expected);

  Tensor a = rand64({2, 3, 5, 6}, 1);
  auto f = [](const TensorList& in) -> TensorList {
    return {max_pool2d(in[0], {2, 3}, {2, 1}, {1, 1}), max_pool2d(in[0], 3, 2, 1, 2, true)};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradcheck(f, {rand64({2, 3, 6, 5}, 2).transpose(2, 3)}));  // non-contiguous
  REQUIRE(gradcheck(f, {rand64({1, 1, 5, 6}, 19).expand({2, 3, 5, 6})}));  // expanded: planes share memory
  REQUIRE(gradgradcheck(f, {rand64({1, 2, 5, 6}, 3)}));
}

TEST_CASE("max_pool1d: ceil_mode, dilation, NaN", "[ops][pool]") {
  Tensor x = f64({1, 3, 2, 5, 4}, {1, 1, 5}, false);
  REQUIRE(values(max_pool1d(x, 2)) == std::vector<double>{3, 5});
  auto [v, i] = max_pool1d_with_indices(x, 2, 2, 0, 1, /*ceil_mode=*/true);
  REQUIRE(values(v) == std::vector<double>{3, 5, 4});
  REQUIRE(values(i) == std::vector<double>{1, 3, 4});
  // kernel 3, dilation 2, stride 1: taps {0,2,4}, {1,3,5}, {2,4,6}.
  auto [vd, id] = max_pool1d_with_indices(f64({1, 3, 2, 5, 4, 0, 7}, {1, 7}, false), 3, 1, 0, 2);
  REQUIRE(vd.sizes() == Shape{1, 3});
  REQUIRE(values(vd) == std::vector<double>{4, 5, 7});
  REQUIRE(values(id) == std::vector<double>{4, 3, 6});
  // A NaN wins its window, as in PyTorch.
  std::vector<double> out = values(max_pool1d(f64({1, NAN, 3, 2}, {1, 4}, false), 2));
  REQUIRE(std::isnan(out[0]));
  REQUIRE(out[1] == 3);
  // float32 works too
  REQUIRE(values(max_pool1d(x.to(DType::f32), 3, 1, 1)) == std::vector<double>{3, 3, 5, 5, 5});

  Tensor a = rand64({2, 3, 9}, 4);
  auto f = [](const TensorList& in) -> TensorList {
    return {max_pool1d(in[0], 3, 2, 1), max_pool1d(in[0], 2, 3, 0, 3, true)};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradcheck(f, {rand64({9, 3, 2}, 5).permute({2, 1, 0})}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("avg_pool2d: padding, count_include_pad, ceil_mode, divisor_override", "[ops][pool]") {
  Tensor x = arange(0, 16, 1, DType::f64).reshape({1, 1, 4, 4});
  REQUIRE(values(avg_pool2d(x, 2)) == std::vector<double>{2.5, 4.5, 10.5, 12.5});
  // kernel 3, stride 2, padding 1: window rows/cols {0,1} and {1,2,3}.
  // sums: [0+1+4+5, 1+2+3+5+6+7, 4+5+8+9+12+13, 5+6+7+9+10+11+13+14+15] = [10, 24, 51, 90]
  REQUIRE(all_close(avg_pool2d(x, 3, 2, 1), {10.0 / 9, 24.0 / 9, 51.0 / 9, 90.0 / 9}));
  REQUIRE(all_close(avg_pool2d(x, 3, 2, 1, false, /*count_include_pad=*/false), {10.0 / 4, 24.0 / 6, 51.0 / 6, 10}));
  REQUIRE(all_close(avg_pool2d(x, 2, {}, 0, false, true, /*divisor_override=*/2), {5, 9, 21, 25}));
  REQUIRE(avg_pool2d(x[0], 2).sizes() == Shape{1, 2, 2});

  Tensor a = rand64({2, 2, 5, 6}, 6);
  auto f = [](const TensorList& in) -> TensorList {
    return {avg_pool2d(in[0], {3, 2}, {2, 1}, {1, 1}), avg_pool2d(in[0], 3, 2, 1, true, false),
            avg_pool2d(in[0], 2, 1, 0, false, true, 3)};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradcheck(f, {rand64({2, 2, 6, 5}, 7).transpose(2, 3)}));
  REQUIRE(gradcheck(f, {rand64({2, 1, 5, 1}, 20).expand({2, 2, 5, 6})}));  // broadcast along W
  REQUIRE(gradgradcheck(f, {rand64({1, 2, 5, 6}, 8)}));
}

TEST_CASE("avg_pool1d with ceil_mode and padding", "[ops][pool]") {
  Tensor x = f64({1, 2, 3, 4, 5}, {1, 5}, false);
  REQUIRE(all_close(avg_pool1d(x, 2, 2, 0, true), {1.5, 3.5, 5.0}));
  // padding 1, ceil: windows [-1,1), [1,3), [3,5)
  REQUIRE(all_close(avg_pool1d(x, 2, 2, 1, true, true), {0.5, 2.5, 4.5}));
  REQUIRE(all_close(avg_pool1d(x, 2, 2, 1, true, false), {1.0, 2.5, 4.5}));
  REQUIRE(all_close(avg_pool1d(x, 3, 1), {2, 3, 4}));
  Tensor a = rand64({2, 2, 7}, 9);
  auto f = [](const TensorList& in) -> TensorList {
    return {avg_pool1d(in[0], 3, 2, 1, true, false), avg_pool1d(in[0].slice(2, 0, 7, 2), 2, 1)};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("adaptive pooling windows", "[ops][pool]") {
  Tensor x = f64({1, 2, 3, 4, 5}, {1, 1, 5}, false);
  // windows [0,2), [1,4), [3,5)
  REQUIRE(all_close(adaptive_avg_pool1d(x, 3), {1.5, 3.0, 4.5}));
  REQUIRE(all_close(adaptive_avg_pool1d(x, 1), {3.0}));
  Tensor plane = f64(kPlane, {1, 4, 4}, false);
  REQUIRE(all_close(adaptive_avg_pool2d(plane, 1), {66.0 / 16}));
  auto [v, i] = adaptive_max_pool2d_with_indices(plane, 2);
  REQUIRE(values(v) == std::vector<double>{9, 8, 6, 11});
  REQUIRE(values(i) == std::vector<double>{1, 6, 8, 15});
  // 4 -> 3 along both axes: overlapping windows [0,2), [1,3), [2,4).
  REQUIRE(values(adaptive_max_pool2d(plane, 3)) == std::vector<double>{9, 9, 8, 6, 8, 8, 6, 5, 11});
  REQUIRE(values(adaptive_max_pool1d(x, 2)) == std::vector<double>{3, 5});
  // output larger than the input repeats elements
  REQUIRE(all_close(adaptive_avg_pool1d(f64({1, 2}, {1, 2}, false), 4), {1, 1, 2, 2}));

  Tensor a = rand64({2, 3, 5, 7}, 10);
  auto f = [](const TensorList& in) -> TensorList {
    return {adaptive_avg_pool2d(in[0], {3, 2}), adaptive_max_pool2d(in[0], {2, 3}),
            adaptive_avg_pool1d(in[0].select(2, 1), 4), adaptive_max_pool1d(in[0].select(3, 0), 2)};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradcheck(f, {rand64({2, 3, 7, 5}, 11).transpose(2, 3)}));
  REQUIRE(gradgradcheck(f, {rand64({1, 2, 5, 7}, 12)}));
}

TEST_CASE("pool backward helpers are differentiable adjoints", "[ops][pool]") {
  Tensor indices = from_vector<int64_t>({3, 0, 3, 1, 2, 2}, {2, 3});
  Tensor g = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor scattered = max_pool_scatter(g, indices, {2, 4}, 1);
  REQUIRE(values(scattered) == std::vector<double>{2, 0, 0, 4, 0, 4, 11, 0});
  REQUIRE(values(max_pool_gather(scattered, indices, 1)) == std::vector<double>{4, 2, 4, 4, 11, 11});
  auto f = [indices](const TensorList& in) -> TensorList {
    return {max_pool_scatter(in[0], indices, {2, 4}, 1), max_pool_gather(in[1], indices, 1)};
  };
  REQUIRE(gradcheck(f, {rand64({2, 3}, 13), rand64({2, 4}, 14)}));
  REQUIRE(gradgradcheck(f, {rand64({2, 3}, 13), rand64({2, 4}, 14)}));
  // avg_pool2d_backward is the adjoint of avg_pool2d: <avg(x), y> == <x, avg_backward(y)>.
  Tensor x = rand64({1, 2, 5, 4}, 15);
  Tensor y = rand64({1, 2, 3, 3}, 16);  // ceil_mode adds a third column
  const double lhs = sum(avg_pool2d(x, 3, 2, 1, true, false) * y).item<double>();
  const double rhs = sum(x * avg_pool2d_backward(y, x.sizes(), 3, 2, 1, true, false)).item<double>();
  REQUIRE(lhs == Approx(rhs).epsilon(1e-12));
  Tensor ya = rand64({1, 2, 2, 3}, 17);
  REQUIRE(sum(adaptive_avg_pool2d(x, {2, 3}) * ya).item<double>() ==
          Approx(sum(x * adaptive_avg_pool2d_backward(ya, x.sizes())).item<double>()).epsilon(1e-12));
  auto h = [](const TensorList& in) -> TensorList {
    return {avg_pool2d_backward(in[0], {1, 2, 5, 4}, 3, 2, 1), adaptive_avg_pool2d_backward(in[1], {1, 2, 5, 4})};
  };
  Tensor y2 = rand64({1, 2, 3, 2}, 18);
  REQUIRE(gradcheck(h, {y2, ya}));
  REQUIRE(gradgradcheck(h, {y2, ya}));
}

TEST_CASE("pooling on a larger float32 batch matches a direct loop", "[ops][pool]") {
  // Enough planes to take the parallel path; compares against a straightforward scalar loop.
  Generator gen(21);
  Tensor x = randn({8, 16, 20, 18}, gen);
  auto [v, i] = max_pool2d_with_indices(x, 3, 2, 1);
  Tensor a = avg_pool2d(x, 3, 2, 1, false, false);
  REQUIRE(v.sizes() == Shape{8, 16, 10, 9});
  std::vector<double> xv = values(x), vv = values(v), iv = values(i), av = values(a);
  for (int64_t b = 0; b < 8 * 16; b += 7) {
    for (int64_t oh = 0; oh < 10; ++oh) {
      for (int64_t ow = 0; ow < 9; ++ow) {
        double best = -INFINITY, total = 0;
        int64_t arg = -1, count = 0;
        for (int64_t h = oh * 2 - 1; h <= oh * 2 + 1; ++h)
          for (int64_t w = ow * 2 - 1; w <= ow * 2 + 1; ++w) {
            if (h < 0 || h >= 20 || w < 0 || w >= 18) continue;
            const double val = xv[b * 360 + h * 18 + w];
            total += val;
            ++count;
            if (val > best) best = val, arg = h * 18 + w;
          }
        const int64_t k = (b * 10 + oh) * 9 + ow;
        REQUIRE(vv[k] == best);
        REQUIRE(iv[k] == arg);
        REQUIRE(av[k] == Approx(total / count).epsilon(1e-5).margin(1e-6));
      }
    }
  }
}

TEST_CASE("pooling bad input", "[ops][pool][errors]") {
  Tensor x = zeros({1, 2, 4, 4});
  REQUIRE_THROWS_OP(max_pool2d(zeros({4, 4}), 2), "max_pool2d");
  REQUIRE_THROWS_OP(max_pool2d(zeros({1, 1, 1, 4, 4}), 2), "max_pool2d");
  REQUIRE_THROWS_OP(max_pool2d(x, 0), "max_pool2d");
  REQUIRE_THROWS_OP(max_pool2d(x, 2, 0), "max_pool2d");
  REQUIRE_THROWS_OP(max_pool2d(x, 2, 1, -1), "max_pool2d");
  REQUIRE_THROWS_OP(max_pool2d(x, 2, 1, 2), "max_pool2d");  // padding > kernel / 2
  REQUIRE_THROWS_OP(max_pool2d(x, 2, 1, 0, 0), "max_pool2d");
  REQUIRE_THROWS_OP(max_pool2d(x, 5), "max_pool2d");  // output too small
  REQUIRE_THROWS_OP(max_pool2d(x, {2, 2, 2}), "max_pool2d");
  REQUIRE_THROWS_OP(max_pool2d(zeros({1, 2, 4, 4}, DType::i64), 2), "max_pool2d");
  REQUIRE_THROWS_OP(max_pool2d(zeros({1, 0, 4, 4}), 2), "max_pool2d");
  REQUIRE_THROWS_OP(max_pool2d(Tensor(), 2), "max_pool2d");
  REQUIRE(max_pool2d(zeros({0, 2, 4, 4}), 2).sizes() == Shape{0, 2, 2, 2});  // empty batch is fine
  REQUIRE_THROWS_OP(max_pool1d(zeros({2, 3, 4, 4}), 2), "max_pool1d");
  REQUIRE_THROWS_OP(max_pool1d(zeros({1, 2, 1}), 2, 2, 1, 2), "max_pool1d");  // a window only in padding
  REQUIRE_THROWS_OP(avg_pool1d(zeros({1, 2, 3}), 4), "avg_pool1d");
  REQUIRE_THROWS_OP(avg_pool2d(x, 3, 1, 2), "avg_pool2d");
  REQUIRE_THROWS_OP(avg_pool2d(x, 2, {}, 0, false, true, 0), "avg_pool2d");
  REQUIRE_THROWS_OP(avg_pool2d(zeros({4}), 2), "avg_pool2d");
  REQUIRE_THROWS_OP(adaptive_avg_pool2d(x, 0), "adaptive_avg_pool2d");
  REQUIRE_THROWS_OP(adaptive_avg_pool2d(x, {1, 2, 3}), "adaptive_avg_pool2d");
  REQUIRE_THROWS_OP(adaptive_max_pool2d(zeros({2, 3}), 2), "adaptive_max_pool2d");
  REQUIRE_THROWS_OP(adaptive_avg_pool1d(zeros({2, 3}), -1), "adaptive_avg_pool1d");
  REQUIRE_THROWS_OP(adaptive_max_pool1d(zeros({2, 3}, DType::i32), 2), "adaptive_max_pool1d");
  Tensor idx = from_vector<int64_t>({0, 5}, {1, 2});
  REQUIRE_THROWS_OP(max_pool_scatter(zeros({1, 2}), idx, {1, 4}, 1), "max_pool_scatter");  // index 5 >= 4
  REQUIRE_THROWS_OP(max_pool_scatter(zeros({1, 3}), idx, {1, 4}, 1), "max_pool_scatter");
  REQUIRE_THROWS_OP(max_pool_scatter(zeros({1, 2}), idx.to(DType::i32), {1, 8}, 1), "max_pool_scatter");
  REQUIRE_THROWS_OP(max_pool_scatter(zeros({1, 2}), idx, {2, 8}, 1), "max_pool_scatter");
  REQUIRE_THROWS_OP(max_pool_scatter(zeros({1, 2}), idx, {1, 8}, 3), "max_pool_scatter");
  REQUIRE_THROWS_OP(max_pool_gather(zeros({1, 4}), idx, 1), "max_pool_gather");
  REQUIRE_THROWS_OP(max_pool_gather(zeros({2, 8}), idx, 1), "max_pool_gather");
  REQUIRE_THROWS_OP(avg_pool2d_backward(zeros({1, 1, 3, 3}), {1, 1, 4, 4}, 2), "avg_pool2d_backward");
  REQUIRE_THROWS_OP(adaptive_avg_pool2d_backward(zeros({1, 2, 2}), {1, 1, 4, 4}), "adaptive_avg_pool2d_backward");
}
