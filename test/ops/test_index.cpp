// Tests for ops/index.h (gather, scatter, scatter_add, index_select, index_add, masked_fill,
// masked_select, one_hot): forward values against hand-computed numbers, float64 gradcheck /
// gradgradcheck, thread-count determinism of the accumulating ops, and bad input.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::rand64;
using ember::test::values;
using V = std::vector<double>;

namespace {
Tensor idx(const std::vector<int64_t>& v, const Shape& shape = {}) {
  return from_vector<int64_t>(v, shape.empty() ? Shape{static_cast<int64_t>(v.size())} : shape);
}
Tensor ar(const Shape& shape) { return arange(0, static_cast<double>(numel_of(shape)), 1, DType::f64).reshape(shape); }
}  // namespace

TEST_CASE("gather picks along a dim", "[ops][index]") {
  Tensor x = from_vector<double>({1, 2, 3, 4}, {2, 2});
  REQUIRE(values(gather(x, 1, idx({0, 0, 1, 0}, {2, 2}))) == V{1, 1, 4, 3});
  Tensor y = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  REQUIRE(values(gather(y, 0, idx({1, 0, 1}, {1, 3}))) == V{4, 2, 6});
  REQUIRE(values(gather(y, -1, idx({-1, 0}, {1, 2}))) == V{3, 1});  // negative index counts from the end
  // int32 index; index smaller than x in the other dim; x transposed.
  Tensor i32 = from_vector<int32_t>({2, 1}, {1, 2});
  REQUIRE(values(gather(y, 1, i32)) == V{3, 2});
  REQUIRE(values(gather(y.t(), 0, idx({1, 0}, {1, 2}))) == V{2, 4});  // y.t() = [[1,4],[2,5],[3,6]]
  REQUIRE(values(gather(from_vector<int64_t>({7, 8, 9}), 0, idx({2, 2}))) == V{9, 9});
  REQUIRE(gather(y, 1, idx({}, {2, 0})).sizes() == Shape{2, 0});

  Tensor a = rand64({4, 4}, 21);
  Tensor index = idx({0, 3, 3, 1, 2, 2, 0, 0}, {2, 4});  // duplicates on purpose
  auto f = [index](const TensorList& in) -> TensorList {
    return {gather(in[0], 0, index), gather(in[0].t(), 1, index.t()), gather(in[0], 1, index.slice(1, 0, 2)),
            gather(in[0].slice(0, 1, 2).expand({3, 4}), 1, index)};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("scatter and scatter_add write into a copy", "[ops][index]") {
  Tensor x = zeros({2, 3}, DType::f64);
  Tensor src = from_vector<double>({1, 2, 9, 3, 4, 9}, {2, 3});  // larger than index: the 9s are unused
  Tensor out = scatter(x, 1, idx({2, 0, 1, 1}, {2, 2}), src);
  REQUIRE(values(out) == V{2, 0, 1, 0, 4, 0});  // row 1: index 1 twice, the last (4) wins
  REQUIRE(values(x) == V(6, 0.0));               // x itself untouched
  REQUIRE(values(scatter(x, 1, idx({0, 2}, {2, 1}), 5.0)) == V{5, 0, 0, 0, 0, 5});
  REQUIRE(values(scatter_add(zeros({3}, DType::f64), 0, idx({0, 1, 0, 2, 0}), from_vector<double>({1, 2, 3, 4, 5}))) ==
          V{9, 2, 4});
  REQUIRE(values(scatter_add(ones({2, 2}, DType::f64), 0, idx({1, 0, 1, -1}, {2, 2}),
                             from_vector<double>({1, 2, 3, 4}, {2, 2}))) == V{1, 3, 5, 5});
  REQUIRE(values(scatter_add(zeros({3}, DType::i64), 0, idx({2, 2}), from_vector<int64_t>({4, 5}))) == V{0, 0, 9});

  Tensor a = rand64({3, 4}, 22);
  Tensor s = rand64({3, 3}, 23);
  Tensor unique = idx({3, 0, 1, 2, 0, 3}, {3, 2});  // no duplicate within a row
  Tensor dup = idx({3, 3, 1, 1, 0, 3}, {3, 2});
  auto f = [unique, dup](const TensorList& in) -> TensorList {
    return {scatter(in[0], 1, unique, in[1]), scatter(in[0].t().t(), 1, unique, 2.0),
            scatter_add(in[0], 1, dup, in[1]), scatter_add(in[0].t(), 0, dup.t(), in[1].t())};
  };
  REQUIRE(gradcheck(f, {a, s}));
  REQUIRE(gradgradcheck(f, {a, s}));
}

TEST_CASE("scatter's gradient: zeros where overwritten for x, gathered for src", "[ops][index]") {
  Tensor x = ember::test::f64({1, 2, 3}, {3});
  Tensor src = ember::test::f64({7, 8}, {2});
  Tensor out = scatter(x, 0, idx({2, 0}), src);
  REQUIRE(values(out) == V{8, 2, 7});
  sum(out * from_vector<double>({10, 20, 30})).backward();
  REQUIRE(values(x.grad()) == V{0, 20, 0});
  REQUIRE(values(src.grad()) == V{30, 10});
}

TEST_CASE("index_select and index_add", "[ops][index]") {
  Tensor x = ar({3, 2});  // [[0,1],[2,3],[4,5]]
  REQUIRE(values(index_select(x, 0, idx({2, 0, 2}))) == V{4, 5, 0, 1, 4, 5});
  REQUIRE(values(index_select(x, 1, idx({1}))) == V{1, 3, 5});
  REQUIRE(values(index_select(x, 0, idx({-1}))) == V{4, 5});
  REQUIRE(index_select(x, 0, scalar_tensor(1, DType::i64)).sizes() == Shape{1, 2});
  REQUIRE(values(index_select(x.t(), 1, from_vector<int32_t>({0, 2}))) == V{0, 4, 1, 5});
  REQUIRE(values(index_select(from_vector<bool>({true, false}), 0, idx({1, 0, 0}))) == V{0, 1, 1});
  Tensor added = index_add(ones({3, 2}, DType::f64), 0, idx({0, 2, 0}), from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2}), 2.0);
  REQUIRE(values(added) == V{13, 17, 1, 1, 7, 9});
  REQUIRE(values(index_add(zeros({2, 3}, DType::i64), 1, idx({2, 2}), from_vector<int64_t>({1, 2, 3, 4}, {2, 2}))) ==
          V{0, 0, 3, 0, 0, 7});

  Tensor a = rand64({4, 3}, 24);
  Tensor s = rand64({3, 3}, 25);
  Tensor index = idx({3, 0, 3});
  auto f = [index](const TensorList& in) -> TensorList {
    return {index_select(in[0], 0, index), index_select(in[0].t(), 1, index),
            index_add(in[0], 0, index, in[1], 0.5), index_add(in[0].t(), 1, index, in[1].t()),
            index_select(in[0].slice(1, 0, 1).expand({4, 3}), 0, index)};
  };
  REQUIRE(gradcheck(f, {a, s}));
  REQUIRE(gradgradcheck(f, {a, s}));
}

TEST_CASE("masked_fill and masked_select", "[ops][index]") {
  Tensor x = from_vector<double>({1, 2, 3, 4}, {2, 2});
  Tensor diagonal = from_vector<bool>({true, false, false, true}, {2, 2});
  REQUIRE(values(masked_fill(x, diagonal, -1)) == V{-1, 2, 3, -1});
  REQUIRE(values(masked_fill(x, from_vector<bool>({false, true}), 0)) == V{1, 0, 3, 0});
  REQUIRE(values(masked_select(x, diagonal)) == V{1, 4});
  REQUIRE(values(masked_select(x, from_vector<bool>({false, true}))) == V{2, 4});
  REQUIRE(values(masked_select(from_vector<double>({1, 2}), from_vector<bool>({true, true, false, true}, {2, 2}))) ==
          V{1, 2, 2});
  REQUIRE(masked_select(x, zeros({2, 2}, DType::bool_)).sizes() == Shape{0});
  // Gradient flows back to the selected (and broadcast) positions.
  Tensor r = ember::test::f64({1, 2}, {2});
  sum(masked_select(r, from_vector<bool>({true, true, false, true}, {2, 2})) * from_vector<double>({1, 2, 3})).backward();
  REQUIRE(values(r.grad()) == V{1, 5});
  Tensor a = rand64({3, 4}, 26);
  Tensor mask = from_vector<bool>({true, false, false, true, true, false, true, false, false, false, true, true}, {3, 4});
  auto f = [mask](const TensorList& in) -> TensorList {
    return {masked_select(in[0], mask), masked_select(in[0].t(), mask.t()), masked_fill(in[0], mask, 2.0)};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("one_hot", "[ops][index]") {
  Tensor h = one_hot(idx({0, 2, 1}));
  REQUIRE(h.dtype() == DType::i64);
  REQUIRE(h.sizes() == Shape{3, 3});
  REQUIRE(values(h) == V{1, 0, 0, 0, 0, 1, 0, 1, 0});
  REQUIRE(one_hot(idx({1, 0, 3, 2}, {2, 2}), 5).sizes() == Shape{2, 2, 5});
  REQUIRE(values(one_hot(from_vector<int32_t>({1}), 2)) == V{0, 1});
  REQUIRE(one_hot(idx({}), 4).sizes() == Shape{0, 4});
}

TEST_CASE("scatter_add and index_add do not depend on the thread count", "[ops][index]") {
  // float32 sums of many duplicates: any change in accumulation order would show in the bits.
  Generator gen(27);
  Tensor src_rows = randn({3000, 48}, gen);
  Tensor src_cols = randn({48, 3000}, gen);
  Tensor targets = from_vector<int64_t>([] {
    std::vector<int64_t> v(3000);
    for (int64_t i = 0; i < 3000; ++i) v[i] = (i * 7) % 5;
    return v;
  }());
  auto run = [&]() {
    return TensorList{scatter_add(zeros({5, 48}), 0, targets.unsqueeze(1).expand({3000, 48}).contiguous(), src_rows),
                      scatter_add(zeros({48, 5}), 1, targets.unsqueeze(0).expand({48, 3000}), src_cols),
                      index_add(zeros({5, 48}), 0, targets, src_rows), index_add(zeros({48, 5}), 1, targets, src_cols)};
  };
  const int saved_threads = num_threads();
  set_num_threads(1);
  TensorList serial = run();
  set_num_threads(4);
  TensorList parallel = run();
  set_num_threads(saved_threads);
  for (size_t k = 0; k < serial.size(); ++k) REQUIRE(values(serial[k]) == values(parallel[k]));
  // And they are the sums: row 0 of the first collects rows i with 7i % 5 == 0.
  double expected = 0;
  for (int64_t i = 0; i < 3000; i += 5) expected += read_element(src_rows, i * 48 + 3);
  REQUIRE(read_element(serial[0], 3) == Approx(expected).epsilon(1e-4));
  REQUIRE(values(serial[0]) == values(serial[2]));
}

TEST_CASE("index ops reject bad input", "[ops][index][errors]") {
  Tensor x = ar({2, 3});
  REQUIRE_THROWS_WITH(gather(x, 1, idx({5}, {1, 1})),
                      Catch::Matchers::Contains("gather") && Catch::Matchers::Contains("index 5") &&
                          Catch::Matchers::Contains("size 3"));
  REQUIRE_THROWS_WITH(gather(x, 1, idx({-4}, {1, 1})), Catch::Matchers::Contains("index -4"));
  REQUIRE_THROWS_OP(gather(x, 1, from_vector<double>({0}, {1, 1})), "gather");
  REQUIRE_THROWS_OP(gather(x, 1, idx({0})), "gather");
  REQUIRE_THROWS_OP(gather(x, 1, idx({0, 0, 0}, {3, 1})), "gather");
  REQUIRE_THROWS_OP(gather(x, 2, idx({0}, {1, 1})), "gather");
  REQUIRE_THROWS_OP(scatter(x, 1, idx({3}, {1, 1}), x), "scatter");
  REQUIRE_THROWS_OP(scatter(x, 1, idx({0}, {1, 1}), x.to(DType::f32)), "scatter");
  REQUIRE_THROWS_OP(scatter(x, 0, idx({0, 0}, {2, 1}), ar({1, 1})), "scatter");
  REQUIRE_THROWS_OP(scatter(x, 0, idx({2}, {1, 1}), 1.0), "scatter");
  REQUIRE_THROWS_WITH(scatter_add(x, 0, idx({-3}, {1, 1}), x),
                      Catch::Matchers::Contains("scatter_add") && Catch::Matchers::Contains("-3"));
  REQUIRE_THROWS_OP(index_select(x, 0, idx({0, 1}, {1, 2})), "index_select");
  REQUIRE_THROWS_WITH(index_select(x, 1, idx({0, 3})),
                      Catch::Matchers::Contains("index_select") && Catch::Matchers::Contains("index 3") &&
                          Catch::Matchers::Contains("size 3"));
  REQUIRE_THROWS_OP(index_select(x, 0, from_vector<float>({0})), "index_select");
  REQUIRE_THROWS_OP(index_select(scalar_tensor(1), 0, idx({0})), "index_select");
  REQUIRE_THROWS_OP(index_add(x, 0, idx({0}), ar({2, 3})), "index_add");
  REQUIRE_THROWS_OP(index_add(x, 0, idx({0}), ar({1, 3}).to(DType::f32)), "index_add");
  REQUIRE_THROWS_OP(index_add(x, 0, idx({2}), ar({1, 3})), "index_add");
  REQUIRE_THROWS_OP(one_hot(idx({-1, 0})), "one_hot");
  REQUIRE_THROWS_OP(one_hot(idx({3}), 3), "one_hot");
  REQUIRE_THROWS_OP(one_hot(idx({}), -1), "one_hot");
  REQUIRE_THROWS_OP(one_hot(from_vector<double>({1})), "one_hot");
  REQUIRE_THROWS_OP(masked_select(x, ones({2, 3})), "masked_select");
  REQUIRE_THROWS_OP(masked_select(x, ones({4}, DType::bool_)), "masked_select");
  REQUIRE_THROWS_OP(masked_fill(x, ones({2, 3}), 1.0), "masked_fill");
}

TEST_CASE("index ops on empty and 0-d tensors", "[ops][index]") {
  Tensor x = ar({2, 3});
  REQUIRE(index_select(x, 1, idx({})).sizes() == Shape{2, 0});
  REQUIRE(index_select(x.t(), 0, idx({})).sizes() == Shape{0, 2});
  REQUIRE(values(index_add(x, 0, idx({}), zeros({0, 3}, DType::f64))) == values(x));
  REQUIRE(values(scatter_add(x, 1, idx({}, {2, 0}), x)) == values(x));
  Tensor s = scalar_tensor(5.0, DType::f64);
  REQUIRE(gather(s, 0, scalar_tensor(0, DType::i64)).item<double>() == 5.0);
  REQUIRE(scatter(s, 0, scalar_tensor(-1, DType::i64), 2.0).item<double>() == 2.0);
  REQUIRE_THROWS_OP(gather(zeros({0}), 0, idx({0})), "gather");
}

TEST_CASE("gather along a long indexed dim splits it across threads", "[ops][index]") {
  // (40000, 2) index into a (7, 2) input: the other dims give too little work, so `dim` is split.
  const int64_t n = 40000;
  std::vector<int64_t> rows(2 * n);
  for (int64_t i = 0; i < 2 * n; ++i) rows[i] = (i * 5 + i / 2) % 7;
  Tensor x = arange(0, 14, 1, DType::f64).reshape({7, 2});
  const int saved_threads = num_threads();
  set_num_threads(4);
  std::vector<double> out = values(gather(x, 0, from_vector<int64_t>(rows, {n, 2})));
  set_num_threads(saved_threads);
  bool ok = true;
  for (int64_t i = 0; i < 2 * n && ok; ++i) ok = out[i] == static_cast<double>(rows[i] * 2 + i % 2);
  REQUIRE(ok);
}
