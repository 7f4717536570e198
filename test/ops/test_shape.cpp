// Tests for ops/shape.h (cat, stack, split, chunk, unbind, pad, flip, roll, repeat, tile, tril,
// triu, movedim) and a few of the view ops of ops/view.cpp: forward values against hand-computed
// numbers, float64 gradcheck / gradgradcheck, and bad input.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::rand64;
using ember::test::values;
using V = std::vector<double>;

namespace {
Tensor ar(const Shape& shape, DType dtype = DType::f64) {
  return arange(0, static_cast<double>(numel_of(shape)), 1, dtype).reshape(shape);
}
}  // namespace

TEST_CASE("cat joins along a dim, promotes dtypes, and reads strided inputs", "[ops][shape]") {
  Tensor a = ar({2, 2});             // [[0,1],[2,3]]
  Tensor b = ar({2, 1}) + 10.0;      // [[10],[11]]
  REQUIRE(values(cat({a, b}, 1)) == V{0, 1, 10, 2, 3, 11});
  REQUIRE(values(cat({a, b.t()}, 0)) == V{0, 1, 2, 3, 10, 11});
  REQUIRE(cat({a, b}, -1).sizes() == Shape{2, 3});
  REQUIRE(values(cat({a.t(), a}, 0)) == V{0, 2, 1, 3, 0, 1, 2, 3});
  // int64 + float32 -> float32; bool + int32 -> int32
  Tensor i = from_vector<int64_t>({1, 2});
  Tensor f = from_vector<float>({0.5f});
  REQUIRE(cat({i, f}).dtype() == DType::f32);
  REQUIRE(values(cat({i, f})) == V{1, 2, 0.5});
  REQUIRE(cat({from_vector<bool>({true}), from_vector<int32_t>({7})}).dtype() == DType::i32);
  // An empty piece is fine.
  REQUIRE(values(cat({a, zeros({2, 0}, DType::f64), b}, 1)) == V{0, 1, 10, 2, 3, 11});
}

TEST_CASE("cat and stack gradients", "[ops][shape]") {
  Tensor a = rand64({2, 3}, 1);
  Tensor b = rand64({3, 4}, 2);  // used transposed: (4, 3)
  Tensor c = rand64({1, 3}, 3);
  auto f = [](const TensorList& in) -> TensorList {
    // Outputs are scaled so gradgradcheck's first derivatives (narrow views of its upstream
    // gradient) do not alias that gradient, which gradcheck perturbs in place.
    return {cat({in[0], in[1].t(), in[2]}, 0) * 1.0, cat({in[0], in[2].expand({2, 3})}, 1) * 1.0};
  };
  REQUIRE(gradcheck(f, {a, b, c}));
  REQUIRE(gradgradcheck(f, {a, b, c}));
  Tensor x = rand64({2, 3}, 4), y = rand64({3, 2}, 5);
  auto g = [](const TensorList& in) -> TensorList {
    return {stack({in[0], in[1].t()}, 0) * 1.0, stack({in[0], in[1].t()}, 2) * 1.0, stack({in[0]}, -1) * 1.0};
  };
  REQUIRE(gradcheck(g, {x, y}));
  REQUIRE(gradgradcheck(g, {x, y}));
  // A float32 input joined into a float64 result gets a float32 gradient.
  Tensor p = ones({2}, TensorOptions(DType::f32).requires_grad());
  Tensor q = ones({1}, TensorOptions(DType::f64).requires_grad());
  sum(cat({p, q}) * from_vector<double>({1, 2, 3})).backward();
  REQUIRE(p.grad().dtype() == DType::f32);
  REQUIRE(values(p.grad()) == V{1, 2});
  REQUIRE(values(q.grad()) == V{3});
}

TEST_CASE("stack inserts a new dim", "[ops][shape]") {
  Tensor a = from_vector<double>({1, 2}), b = from_vector<double>({3, 4});
  REQUIRE(stack({a, b}).sizes() == Shape{2, 2});
  REQUIRE(values(stack({a, b})) == V{1, 2, 3, 4});
  REQUIRE(values(stack({a, b}, 1)) == V{1, 3, 2, 4});
  REQUIRE(stack({a, b}, -1).sizes() == Shape{2, 2});
  REQUIRE(stack({scalar_tensor(1), scalar_tensor(2)}).sizes() == Shape{2});
}

TEST_CASE("split, chunk and unbind return views with one backward", "[ops][shape]") {
  Tensor x = ar({5, 2});
  TensorList pieces = split(x, 2);
  REQUIRE(pieces.size() == 3);
  REQUIRE(pieces[2].sizes() == Shape{1, 2});
  REQUIRE(values(pieces[1]) == V{4, 5, 6, 7});
  REQUIRE(pieces[1].storage() == x.storage());  // a view
  TensorList sized = split(x, std::vector<int64_t>{1, 0, 4}, 0);
  REQUIRE(sized.size() == 3);
  REQUIRE(sized[1].numel() == 0);
  REQUIRE(values(sized[2]) == V{2, 3, 4, 5, 6, 7, 8, 9});
  TensorList columns = split(x, 1, 1);
  REQUIRE(values(columns[1]) == V{1, 3, 5, 7, 9});
  TensorList chunks = chunk(ar({7}), 3);  // sizes 3, 3, 1
  REQUIRE(chunks.size() == 3);
  REQUIRE(values(chunks[2]) == V{6});
  REQUIRE(chunk(ar({6}), 4).size() == 3);  // ceil(6/4) = 2 per chunk, as in PyTorch
  TensorList rows = unbind(ar({2, 3}), 1);
  REQUIRE(rows.size() == 3);
  REQUIRE(values(rows[2]) == V{2, 5});
  REQUIRE(rows[0].sizes() == Shape{2});

  Tensor a = rand64({4, 3}, 6);
  auto f = [](const TensorList& in) -> TensorList {
    TensorList s = split(in[0], 3, 0);               // pieces (3, 3) and (1, 3)
    TensorList c = chunk(in[0].t(), 2, 0);           // (2, 4), (1, 4)
    TensorList u = unbind(in[0], 1);                 // only u[1] is used
    TensorList w = split(in[0], std::vector<int64_t>{1, 2}, 1);
    // Views are scaled: gradcheck perturbs inputs in place, which would move a view's values.
    return {s[1] * 2.0, c[0] * 1.0, u[1] * 1.0, w[1] * w[1]};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("constant pad: values, negative pads crop, gradients", "[ops][shape]") {
  Tensor x = from_vector<double>({1, 2, 3, 4}, {2, 2});
  // (left 1, right 0) on the last dim, (top 0, bottom 1) on the first.
  REQUIRE(pad(x, {1, 0, 0, 1}).sizes() == Shape{3, 3});
  REQUIRE(values(pad(x, {1, 0, 0, 1}, "constant", -1)) == V{-1, 1, 2, -1, 3, 4, -1, -1, -1});
  REQUIRE(values(pad(ar({2, 4}), {-1, -2})) == V{1, 5});
  REQUIRE(values(pad(ar({3}), {-1, 2}, "constant", 9)) == V{1, 2, 9, 9});
  REQUIRE(values(pad(from_vector<int64_t>({5}), {1, 1}, "constant", 7)) == V{7, 5, 7});
  Tensor a = rand64({3, 4, 2}, 7);
  auto f = [](const TensorList& in) -> TensorList {
    return {pad(in[0], {1, 2}), pad(in[0].transpose(0, 2), {2, 0, -1, 1, 1, 1}, "constant", 0.5),
            pad(in[0], {-1, 0, -1, -2})};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("reflect, replicate and circular pad values", "[ops][shape]") {
  Tensor x = from_vector<double>({1, 2, 3, 4});
  REQUIRE(values(pad(x, {2, 1}, "reflect")) == V{3, 2, 1, 2, 3, 4, 3});
  REQUIRE(values(pad(x, {2, 1}, "replicate")) == V{1, 1, 1, 2, 3, 4, 4});
  REQUIRE(values(pad(x, {2, 1}, "circular")) == V{3, 4, 1, 2, 3, 4, 1});
  REQUIRE(values(pad(x, {4, 0}, "circular")) == V{1, 2, 3, 4, 1, 2, 3, 4});
  // 2-d reflect of [[1,2,3],[4,5,6]] by (1, 1) on both dims.
  Tensor m = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  REQUIRE(values(pad(m, {1, 1, 1, 1}, "reflect")) ==
          V{5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2});
  REQUIRE(values(pad(m, {0, 1, 1, 0}, "replicate")) == V{1, 2, 3, 3, 1, 2, 3, 3, 4, 5, 6, 6});
  // Batch dims before the padded ones are carried along.
  REQUIRE(values(pad(ar({2, 1, 2}), {1, 0}, "circular")) == V{1, 0, 1, 3, 2, 3});
}

TEST_CASE("reflect/replicate/circular pad backward accumulates into the borders", "[ops][shape]") {
  // reflect (2, 1) of 4 elements reads x2, x1, x0, x1, x2, x3, x2: counts 1, 2, 3, 1.
  Tensor x = ember::test::f64({1, 2, 3, 4}, {4});
  sum(pad(x, {2, 1}, "reflect")).backward();
  REQUIRE(values(x.grad()) == V{1, 2, 3, 1});
  x.zero_grad();
  sum(pad(x, {2, 1}, "replicate") * from_vector<double>({1, 2, 3, 4, 5, 6, 7})).backward();
  REQUIRE(values(x.grad()) == V{6, 4, 5, 13});
  x.zero_grad();
  sum(pad(x, {2, 1}, "circular")).backward();
  REQUIRE(values(x.grad()) == V{2, 1, 2, 2});

  Tensor a = rand64({2, 3, 4}, 8);
  for (const char* mode : {"reflect", "replicate", "circular"}) {
    INFO(mode);
    auto f = [mode](const TensorList& in) -> TensorList {
      return {pad(in[0], {2, 1, 1, 2}, mode), pad(in[0].transpose(1, 2), {1, 1}, mode),
              pad(in[0].slice(0, 0, 1).slice(2, 0, 1).expand({2, 3, 3}), {1, 2}, mode)};
    };
    REQUIRE(gradcheck(f, {a}));
    REQUIRE(gradgradcheck(f, {a}));
  }
}

TEST_CASE("flip and roll", "[ops][shape]") {
  Tensor x = ar({2, 3});  // [[0,1,2],[3,4,5]]
  REQUIRE(values(flip(x, {1})) == V{2, 1, 0, 5, 4, 3});
  REQUIRE(values(flip(x, {0, 1})) == V{5, 4, 3, 2, 1, 0});
  REQUIRE(values(flip(x, {-2})) == V{3, 4, 5, 0, 1, 2});
  REQUIRE(values(flip(x.t(), {1})) == V{3, 0, 4, 1, 5, 2});
  REQUIRE(values(roll(x, 1, 1)) == V{2, 0, 1, 5, 3, 4});
  REQUIRE(values(roll(x, -1, 1)) == V{1, 2, 0, 4, 5, 3});
  REQUIRE(values(roll(x, {1})) == V{5, 0, 1, 2, 3, 4});  // flattened
  REQUIRE(values(roll(x, {1, 4}, {0, 1})) == V{5, 3, 4, 2, 0, 1});  // rows swap, then roll 4 = 1
  REQUIRE(values(roll(x, {7}, {1})) == V{2, 0, 1, 5, 3, 4});
  REQUIRE(roll(x, {1}).sizes() == Shape{2, 3});
  Tensor a = rand64({3, 4}, 9);
  auto f = [](const TensorList& in) -> TensorList {
    return {flip(in[0], {0}), flip(in[0].t(), {0, 1}), roll(in[0], {1, -2}, {0, 1}), roll(in[0].t(), {5}),
            flip(in[0].select(0, 1).expand({2, 4}), {1}), roll(in[0].slice(1, 0, 1).expand({3, 3}), {1}, {0})};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("repeat and tile", "[ops][shape]") {
  Tensor x = from_vector<double>({1, 2});
  REQUIRE(values(repeat(x, {3})) == V{1, 2, 1, 2, 1, 2});
  REQUIRE(repeat(x, {2, 2}).sizes() == Shape{2, 4});
  REQUIRE(values(repeat(x, {2, 2})) == V{1, 2, 1, 2, 1, 2, 1, 2});
  Tensor m = from_vector<double>({1, 2, 3, 4}, {2, 2});
  REQUIRE(values(repeat(m, {2, 1})) == V{1, 2, 3, 4, 1, 2, 3, 4});
  REQUIRE(values(repeat(m.t(), {1, 2})) == V{1, 3, 1, 3, 2, 4, 2, 4});
  REQUIRE(repeat(m, {0, 1}).sizes() == Shape{0, 2});
  REQUIRE(values(tile(m, {2})) == V{1, 2, 1, 2, 3, 4, 3, 4});  // reps padded to (1, 2)
  REQUIRE(tile(x, {2, 1, 1}).sizes() == Shape{2, 1, 2});
  // Backward sums over the tiles.
  Tensor y = ember::test::f64({1, 2}, {2});
  sum(repeat(y, {3, 2}) * arange(0, 12, 1, DType::f64).reshape({3, 4})).backward();
  // positions holding y0: columns 0 and 2 -> sum of 0,2,4,6,8,10 = 30; y1: 1,3,...,11 = 36
  REQUIRE(values(y.grad()) == V{30, 36});
  Tensor a = rand64({2, 3}, 10);
  auto f = [](const TensorList& in) -> TensorList {
    return {repeat(in[0], {2, 1, 2}), tile(in[0].t(), {2}), repeat(in[0].select(0, 1), {3}),
            repeat(in[0].slice(0, 0, 1).expand({3, 3}), {1, 2})};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("tril and triu", "[ops][shape]") {
  Tensor x = ar({3, 3}) + 1.0;  // 1..9
  REQUIRE(values(tril(x)) == V{1, 0, 0, 4, 5, 0, 7, 8, 9});
  REQUIRE(values(triu(x)) == V{1, 2, 3, 0, 5, 6, 0, 0, 9});
  REQUIRE(values(tril(x, 1)) == V{1, 2, 0, 4, 5, 6, 7, 8, 9});
  REQUIRE(values(triu(x, -1)) == V{1, 2, 3, 4, 5, 6, 0, 8, 9});
  REQUIRE(values(tril(x, -5)) == V(9, 0));
  REQUIRE(values(triu(ar({2, 3}), 1)) == V{0, 1, 2, 0, 0, 5});
  REQUIRE(values(tril(x.t())) == V{1, 0, 0, 2, 5, 0, 3, 6, 9});
  REQUIRE(values(tril(ones({2, 2, 2}, DType::bool_))) == V{1, 0, 1, 1, 1, 0, 1, 1});
  Tensor a = rand64({2, 3, 4}, 11);
  auto f = [](const TensorList& in) -> TensorList {
    return {tril(in[0]), triu(in[0], 1), tril(in[0].transpose(1, 2), -1), triu(in[0].select(0, 0).expand({2, 3, 4}))};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("movedim and the view ops", "[ops][shape]") {
  Tensor x = ar({2, 3, 4});
  REQUIRE(movedim(x, 0, 2).sizes() == Shape{3, 4, 2});
  REQUIRE(movedim(x, -1, 0).sizes() == Shape{4, 2, 3});
  REQUIRE(movedim(x, {0, 1}, {2, 0}).sizes() == Shape{3, 4, 2});
  // element [i][j][k] of movedim(x, 0, 2) is x[k][i][j] = 12k + 4i + j
  REQUIRE(values(movedim(x, 0, 2).select(0, 1).select(0, 2)) == V{6, 18});
  REQUIRE(movedim(x, 0, 2).storage() == x.storage());
  Tensor a = rand64({2, 3, 4}, 12);
  auto f = [](const TensorList& in) -> TensorList {
    return {movedim(in[0], {0, 2}, {1, 0}) * 1.0, in[0].slice(2, 1, 4, 2).narrow(1, 1, 2) * 1.0,
            in[0].select(1, -1).unsqueeze(0).flatten() * 1.0};
  };
  REQUIRE(gradcheck(f, {a}));
  REQUIRE(gradgradcheck(f, {a}));
}

TEST_CASE("large contiguous copies: cat, pad, roll, repeat match index formulas", "[ops][shape]") {
  // Big enough that the kernels run rows in parallel and take the memcpy paths.
  const int64_t R = 300, C = 257;
  Tensor x = ar({R, C}, DType::f32);
  Tensor y = ar({R, 3}, DType::f32);
  std::vector<double> joined = values(cat({x, y}, 1));
  std::vector<double> padded = values(pad(x, {2, 3, 1, 0}, "reflect"));
  std::vector<double> rolled = values(roll(x, {5}, {1}));
  std::vector<double> tiled = values(repeat(x, {1, 2}));
  bool ok = true;
  for (int64_t r = 0; r < R && ok; ++r) {
    for (int64_t c = 0; c < C + 3; ++c)
      ok = ok && joined[r * (C + 3) + c] == (c < C ? static_cast<double>(r * C + c) : static_cast<double>(r * 3 + c - C));
    for (int64_t c = 0; c < C; ++c) {
      ok = ok && rolled[r * C + c] == static_cast<double>(r * C + (c - 5 + C) % C);
      ok = ok && tiled[r * 2 * C + c] == static_cast<double>(r * C + c) && tiled[r * 2 * C + C + c] == tiled[r * 2 * C + c];
    }
    // padded row r + 1 (top pad 1) reads x row r; columns reflect around 0 and C-1.
    for (int64_t c = 0; c < C + 5; ++c) {
      int64_t j = c - 2;
      if (j < 0) j = -j;
      if (j >= C) j = 2 * (C - 1) - j;
      ok = ok && padded[(r + 1) * (C + 5) + c] == static_cast<double>(r * C + j);
    }
  }
  REQUIRE(ok);
}

TEST_CASE("shape ops reject bad input", "[ops][shape][errors]") {
  Tensor x = ar({2, 3});
  REQUIRE_THROWS_OP(cat({}), "cat");
  REQUIRE_THROWS_OP(cat({x, ar({2, 2})}, 0), "cat");
  REQUIRE_THROWS_OP(cat({x, ar({3})}), "cat");
  REQUIRE_THROWS_OP(cat({scalar_tensor(1), scalar_tensor(2)}), "cat");
  REQUIRE_THROWS_OP(cat({x}, 2), "cat");
  REQUIRE_THROWS_OP(cat({x, Tensor()}), "cat");
  REQUIRE_THROWS_OP(stack({x, ar({3, 2})}), "stack");
  REQUIRE_THROWS_OP(stack({}), "stack");
  REQUIRE_THROWS_OP(split(x, 0), "split");
  REQUIRE_THROWS_OP(split(x, -1, 1), "split");
  REQUIRE_THROWS_OP(split(x, std::vector<int64_t>{1, 1}, 1), "split");
  REQUIRE_THROWS_OP(split(x, std::vector<int64_t>{3, -1}, 1), "split");
  REQUIRE_THROWS_OP(split(scalar_tensor(1), 1), "split");
  REQUIRE_THROWS_OP(chunk(x, 0), "chunk");
  REQUIRE_THROWS_OP(unbind(x, 2), "unbind");
  REQUIRE_THROWS_OP(pad(x, {1}), "pad");
  REQUIRE_THROWS_OP(pad(x, {1, 1, 1, 1, 1, 1}), "pad");
  REQUIRE_THROWS_OP(pad(x, {1, 1}, "mirror"), "pad");
  REQUIRE_THROWS_OP(pad(x, {3, 0}, "reflect"), "pad");
  REQUIRE_THROWS_OP(pad(x, {0, 4}, "circular"), "pad");
  REQUIRE_THROWS_OP(pad(zeros({2, 0}), {1, 0}, "replicate"), "pad");
  REQUIRE_THROWS_OP(pad(x, {-2, -2}), "pad");
  REQUIRE_THROWS_OP(pad(x, {1, 1}, "reflect", 2.0), "pad");
  REQUIRE_THROWS_OP(flip(x, {0, 0}), "flip");
  REQUIRE_THROWS_OP(flip(x, {2}), "flip");
  REQUIRE_THROWS_OP(roll(x, {1, 2}, {0}), "roll");
  REQUIRE_THROWS_OP(roll(x, {1, 2}), "roll");
  REQUIRE_THROWS_OP(roll(x, 1, 3), "roll");
  REQUIRE_THROWS_OP(repeat(x, {2}), "repeat");
  REQUIRE_THROWS_OP(repeat(x, {2, -1}), "repeat");
  REQUIRE_THROWS_OP(tril(ar({3})), "tril");
  REQUIRE_THROWS_OP(triu(scalar_tensor(1)), "triu");
  REQUIRE_THROWS_OP(movedim(x, {0, 0}, {0, 1}), "movedim");
  REQUIRE_THROWS_OP(movedim(x, {0}, {0, 1}), "movedim");
  REQUIRE_THROWS_OP(movedim(x, 0, 2), "movedim");
}

TEST_CASE("shape ops on empty and 0-d tensors", "[ops][shape]") {
  Tensor empty_rows = zeros({0, 3}, DType::f64);
  REQUIRE(cat({empty_rows, empty_rows}).sizes() == Shape{0, 3});
  REQUIRE(values(cat({empty_rows, ar({1, 3})})) == V{0, 1, 2});
  REQUIRE(pad(empty_rows, {1, 1}).sizes() == Shape{0, 5});
  REQUIRE(values(pad(zeros({0}, DType::f64), {1, 2}, "constant", 3)) == V{3, 3, 3});
  REQUIRE(flip(empty_rows, {0, 1}).sizes() == Shape{0, 3});
  REQUIRE(roll(empty_rows, 2, 0).sizes() == Shape{0, 3});
  REQUIRE(repeat(empty_rows, {2, 2}).sizes() == Shape{0, 6});
  REQUIRE(tril(empty_rows).sizes() == Shape{0, 3});
  REQUIRE(split(empty_rows, 2).size() == 1);
  REQUIRE(unbind(empty_rows).empty());
  Tensor s = scalar_tensor(4.0, DType::f64);
  REQUIRE(flip(s, {}).item<double>() == 4.0);
  REQUIRE(pad(s, {}).item<double>() == 4.0);
  REQUIRE(values(repeat(s, {3})) == V{4, 4, 4});
  REQUIRE(repeat(s, {}).dim() == 0);
  REQUIRE(values(roll(s, {1})) == V{4});
  Tensor a = rand64({}, 31);
  auto f = [](const TensorList& in) -> TensorList { return {repeat(in[0], {2, 2}), flip(in[0], {}), pad(in[0], {})}; };
  REQUIRE(gradcheck(f, {a}));
}

TEST_CASE("a long 1-d signal is split across threads: pad, flip and the pad adjoint", "[ops][shape]") {
  const int64_t n = 100003;
  const int saved_threads = num_threads();
  set_num_threads(4);
  Tensor x = arange(0, static_cast<double>(n), 1, DType::f64).requires_grad_(true);
  std::vector<double> padded = values(pad(x, {5, 7}, "reflect"));
  std::vector<double> flipped = values(flip(x, {0}));
  Tensor weights = arange(0, static_cast<double>(n + 12), 1, DType::f64);
  sum(pad(x, {5, 7}, "reflect") * weights).backward();
  set_num_threads(saved_threads);
  bool ok = padded.size() == static_cast<size_t>(n + 12);
  for (int64_t i = 0; i < n + 12 && ok; ++i) {
    int64_t j = i - 5;
    if (j < 0) j = -j;
    if (j >= n) j = 2 * (n - 1) - j;
    ok = padded[i] == static_cast<double>(j);
  }
  for (int64_t i = 0; i < n && ok; ++i) ok = flipped[i] == static_cast<double>(n - 1 - i);
  REQUIRE(ok);
  // x[j] collects the weights of every output position that reads it: 5 + j itself, the left
  // mirror 5 - j for 1 <= j <= 5, and the right mirror for j >= n - 8.
  std::vector<double> g = values(x.grad());
  REQUIRE(g[0] == 5);
  REQUIRE(g[3] == (5 + 3) + (5 - 3));
  REQUIRE(g[50000] == 50005);
  REQUIRE(g[n - 2] == static_cast<double>((n - 2 + 5) + (n - 1 + 5 + 1)));
  REQUIRE(g[n - 1] == static_cast<double>(n - 1 + 5));
}
