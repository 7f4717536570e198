// Tests for ops/matmul.h: forward values against hand-computed products, gradcheck and
// gradgradcheck (including transposed, sliced and broadcast operands), and bad input.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::rand64;
using ember::test::values;

namespace {
// Reference product of row-major (M, K) and (K, N) value lists.
std::vector<double> naive_mm(const std::vector<double>& a, const std::vector<double>& b, int64_t M, int64_t K,
                             int64_t N) {
  std::vector<double> out(static_cast<size_t>(M * N), 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k) out[i * N + j] += a[i * K + k] * b[k * N + j];
  return out;
}
std::vector<double> slice_values(const std::vector<double>& v, size_t start, size_t count) {
  return {v.begin() + static_cast<std::ptrdiff_t>(start), v.begin() + static_cast<std::ptrdiff_t>(start + count)};
}
}  // namespace

TEST_CASE("matmul forward values for every rank combination", "[ops][matmul]") {
  Tensor a = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector<double>({7, 8, 9, 10, 11, 12}, {3, 2});
  Tensor v3 = from_vector<double>({1, 0, -1});
  Tensor v2 = from_vector<double>({2, -1});
  REQUIRE(values(matmul(a, b)) == std::vector<double>{58, 64, 139, 154});
  REQUIRE(matmul(v3, v3).dim() == 0);
  REQUIRE(matmul(v3, v3).item<double>() == 2.0);
  REQUIRE(values(matmul(a, v3)) == std::vector<double>{-2, -2});
  REQUIRE(values(matmul(v2, a)) == std::vector<double>{-2, -1, 0});
  REQUIRE(dot(v3, from_vector<double>({4, 5, 6})).item<double>() == -2.0);
  REQUIRE(values(outer(v2, v3)) == std::vector<double>{2, 0, -2, -1, 0, 1});
  REQUIRE(values(mm(a, b)) == std::vector<double>{58, 64, 139, 154});
  // Transposed operands (BLAS reads them as transposes): aᵀ·aᵀᵀ = aᵀa.
  REQUIRE(values(matmul(a.t(), a)) == std::vector<double>{17, 22, 27, 22, 29, 36, 27, 36, 45});
  // A column slice is neither row- nor column-contiguous: packed before the GEMM.
  Tensor wide = arange(0, 12, 1, DType::f64).reshape({3, 4});
  REQUIRE(values(matmul(wide.slice(1, 0, 4, 2), v2)) == std::vector<double>{-2, 2, 6});
  // f32 uses sgemm.
  REQUIRE(values(matmul(a.to(DType::f32), b.to(DType::f32))) == std::vector<double>{58, 64, 139, 154});
}

TEST_CASE("batched matmul broadcasts batch dims", "[ops][matmul]") {
  // (2, 1, 2, 3) · (3, 3, 2) -> (2, 3, 2, 2)
  Tensor a = arange(0, 12, 1, DType::f64).reshape({2, 1, 2, 3});
  Tensor b = arange(0, 18, 1, DType::f64).reshape({3, 3, 2}) - 5.0;
  Tensor out = matmul(a, b);
  REQUIRE(out.sizes() == Shape{2, 3, 2, 2});
  const std::vector<double> va = values(a), vb = values(b), vo = values(out);
  for (size_t i = 0; i < 2; ++i)
    for (size_t j = 0; j < 3; ++j)
      REQUIRE(slice_values(vo, (i * 3 + j) * 4, 4) == naive_mm(slice_values(va, i * 6, 6), slice_values(vb, j * 6, 6), 2, 3, 2));
  // N-D · 2-D folds the batch into rows; N-D · 1-D and 1-D · N-D drop the vector dim.
  Tensor w = from_vector<double>({1, -1, 2, 0, 0, 1}, {3, 2});
  REQUIRE(values(matmul(a, w)) == naive_mm(va, values(w), 4, 3, 2));
  REQUIRE(matmul(a, from_vector<double>({1, 1, 1})).sizes() == Shape{2, 1, 2});
  REQUIRE(values(matmul(a, from_vector<double>({1, 1, 1}))) == std::vector<double>{3, 12, 21, 30});
  Tensor left = matmul(from_vector<double>({1, 1, 1}), b);
  REQUIRE(left.sizes() == Shape{3, 2});
  REQUIRE(values(left) == std::vector<double>{-9, -6, 9, 12, 27, 30});
  // bmm, and the same product through einsum.
  Tensor x = arange(0, 12, 1, DType::f64).reshape({2, 2, 3});
  Tensor y = arange(0, 12, 1, DType::f64).reshape({2, 3, 2});
  REQUIRE(values(bmm(x, y)) == values(einsum("bij,bjk->bik", {x, y})));
  const std::vector<double> vx = values(x), vy = values(y), vxy = values(bmm(x, y));
  REQUIRE(slice_values(vxy, 4, 4) == naive_mm(slice_values(vx, 6, 6), slice_values(vy, 6, 6), 2, 3, 2));
}

TEST_CASE("matmul of large f32 matrices matches a double loop", "[ops][matmul]") {
  Generator gen(3);
  Tensor a = randn({70, 130}, gen);
  Tensor b = randn({90, 130}, gen).t();  // (130, 90), column-contiguous
  const std::vector<double> expected = naive_mm(values(a), values(b), 70, 130, 90);
  REQUIRE(all_close(matmul(a, b), expected, 1e-4, 1e-4));
  // Many small products run one per thread.
  Tensor x = randn({64, 5, 7}, gen), y = randn({64, 7, 3}, gen);
  const std::vector<double> vx = values(x), vy = values(y), vo = values(bmm(x, y));
  for (size_t i = 0; i < 64; i += 9)
    REQUIRE(all_close(slice_values(vo, i * 15, 15), naive_mm(slice_values(vx, i * 35, 35), slice_values(vy, i * 21, 21), 5, 7, 3), 1e-5, 1e-5));
}

TEST_CASE("large products split over threads match a double loop", "[ops][matmul]") {
  // Products of 64^3 multiply-adds and more run as one BLAS call per thread on slices of the
  // output (ops/cpu/matmul.cpp, Note [Split GEMM]): column slices when N >= M, row slices
  // otherwise, with sizes that are not multiples of the 16-wide slices, transposed operands, an
  // accumulated bias (linear), and three threads so the slices are uneven.
  const int saved_threads = num_threads();
  set_num_threads(3);
  Generator gen(4);
  struct Case {
    int64_t M, K, N;
    bool a_transposed, b_transposed;
  };
  for (const Case& c : {Case{37, 70, 129, false, false}, Case{37, 70, 129, true, true},
                        Case{131, 65, 33, false, true}, Case{131, 65, 33, true, false}}) {
    Tensor a = c.a_transposed ? randn({c.K, c.M}, gen, DType::f64).t() : randn({c.M, c.K}, gen, DType::f64);
    Tensor b = c.b_transposed ? randn({c.N, c.K}, gen, DType::f64).t() : randn({c.K, c.N}, gen, DType::f64);
    REQUIRE(all_close(matmul(a, b), naive_mm(values(a), values(b), c.M, c.K, c.N), 1e-10, 1e-10));
    Tensor bias = randn({c.N}, gen, DType::f64);
    std::vector<double> expected = naive_mm(values(a), values(b), c.M, c.K, c.N);
    const std::vector<double> vbias = values(bias);
    for (size_t i = 0; i < expected.size(); ++i) expected[i] += vbias[i % static_cast<size_t>(c.N)];
    REQUIRE(all_close(linear(a, b.t(), bias), expected, 1e-10, 1e-10));
  }
  set_num_threads(saved_threads);
}

TEST_CASE("integer matmul uses the loop kernel", "[ops][matmul]") {
  Tensor a = from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector<int64_t>({7, 8, 9, 10, 11, 12}, {3, 2});
  REQUIRE(matmul(a, b).dtype() == DType::i64);
  REQUIRE(values(matmul(a, b)) == std::vector<double>{58, 64, 139, 154});
  REQUIRE(values(matmul(b.t(), a.t())) == std::vector<double>{58, 139, 64, 154});
  REQUIRE(values(matmul(a.to(DType::i32), from_vector<int32_t>({1, 1, 1}))) == std::vector<double>{6, 15});
}

TEST_CASE("linear = x·Wᵀ + b", "[ops][matmul]") {
  Tensor x = from_vector<double>({1, 2, 3, 4}, {2, 2});
  Tensor w = from_vector<double>({1, 0, 1, 1, 0, -1}, {3, 2});
  Tensor bias = from_vector<double>({10, 20, 30});
  REQUIRE(values(linear(x, w, bias)) == std::vector<double>{11, 23, 28, 13, 27, 26});
  REQUIRE(values(linear(x, w)) == std::vector<double>{1, 3, -2, 3, 7, -4});
  Tensor x3 = x.reshape({2, 1, 2});
  REQUIRE(linear(x3, w, bias).sizes() == Shape{2, 1, 3});
  REQUIRE(values(linear(from_vector<double>({1, 2}), w, bias)) == std::vector<double>{11, 23, 28});
}

TEST_CASE("einsum patterns", "[ops][matmul]") {
  Tensor a = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector<double>({7, 8, 9, 10, 11, 12}, {3, 2});
  REQUIRE(values(einsum("ij,jk->ik", {a, b})) == std::vector<double>{58, 64, 139, 154});
  REQUIRE(values(einsum("ij,jk", {a, b})) == std::vector<double>{58, 64, 139, 154});  // implicit output
  REQUIRE(values(einsum("ij->ji", {a})) == std::vector<double>{1, 4, 2, 5, 3, 6});
  REQUIRE(values(einsum("i,j->ij", {from_vector<double>({1, 2}), from_vector<double>({3, 4, 5})})) ==
          std::vector<double>{3, 4, 5, 6, 8, 10});
  REQUIRE(einsum("ii->", {from_vector<double>({1, 2, 3, 4}, {2, 2})}).item<double>() == 5.0);
  REQUIRE(values(einsum("ii->i", {from_vector<double>({1, 2, 3, 4}, {2, 2})})) == std::vector<double>{1, 4});
  REQUIRE(values(einsum("ij->j", {a})) == std::vector<double>{5, 7, 9});
  REQUIRE(values(einsum("ij,ij->i", {a, a})) == std::vector<double>{14, 77});
  Tensor x = arange(0, 12, 1, DType::f64).reshape({2, 2, 3});
  REQUIRE(values(einsum("bij->bji", {x})) == values(x.transpose(1, 2).contiguous()));
  // Attention scores: q (1, 2, 2, 3), k (1, 2, 2, 3) -> (1, 2, 2, 2) = q·kᵀ per head.
  Tensor q = x.reshape({1, 2, 2, 3});
  Tensor k = q - 1.0;
  Tensor scores = einsum("bhid,bhjd->bhij", {q, k});
  REQUIRE(scores.sizes() == Shape{1, 2, 2, 2});
  REQUIRE(values(scores) == values(matmul(q, k.transpose(2, 3))));
  // head 0: rows (0,1,2),(3,4,5) against (-1,0,1),(2,3,4)
  REQUIRE(slice_values(values(scores), 0, 4) == std::vector<double>{2, 11, 2, 38});
}

TEST_CASE("matmul family gradients", "[ops][matmul]") {
  Tensor a = rand64({3, 4}, 1), b = rand64({4, 2}, 2), v = rand64({4}, 3), w = rand64({3}, 4);
  auto two_d = [](const TensorList& in) -> TensorList {
    return {matmul(in[0], in[1]), matmul(in[0], in[2]), matmul(in[3], in[0]), dot(in[2], in[2]), outer(in[3], in[2])};
  };
  REQUIRE(gradcheck(two_d, {a, b, v, w}));
  REQUIRE(gradgradcheck(two_d, {a, b, v, w}));
  // Transposed, sliced and expanded operands.
  Tensor at = rand64({4, 3}, 5), wide = rand64({4, 4}, 6);
  auto strided = [](const TensorList& in) -> TensorList {
    return {mm(in[0].t(), in[1].slice(1, 0, 4, 2)), matmul(in[0].t(), in[0])};
  };
  REQUIRE(gradcheck(strided, {at, wide}));
  REQUIRE(gradgradcheck(strided, {at, wide}));
  Tensor row = rand64({1, 4}, 7);
  auto expanded = [](const TensorList& in) -> TensorList { return {matmul(in[0].expand({3, 4}), in[1])}; };
  REQUIRE(gradcheck(expanded, {row, b}));
}

TEST_CASE("batched matmul, linear and einsum gradients", "[ops][matmul]") {
  Tensor a = rand64({2, 1, 2, 3}, 8), b = rand64({3, 3, 2}, 9), v = rand64({3}, 10);
  auto batched = [](const TensorList& in) -> TensorList {
    return {matmul(in[0], in[1]), matmul(in[0], in[2]), matmul(in[2], in[1]),
            bmm(in[1], in[1].transpose(1, 2))};
  };
  REQUIRE(gradcheck(batched, {a, b, v}));
  REQUIRE(gradgradcheck(batched, {a, b, v}));
  Tensor x = rand64({2, 2, 3}, 11), weight = rand64({4, 3}, 12), bias = rand64({4}, 13);
  auto lin = [](const TensorList& in) -> TensorList {
    return {linear(in[0], in[1], in[2]), linear(in[0].select(1, 1), in[1].t().t())};
  };
  REQUIRE(gradcheck(lin, {x, weight, bias}));
  REQUIRE(gradgradcheck(lin, {x, weight, bias}));
  Tensor q = rand64({1, 2, 2, 3}, 14), k = rand64({1, 2, 3, 3}, 15), sq = rand64({3, 3}, 16);
  auto ein = [](const TensorList& in) -> TensorList {
    return {einsum("bhid,bhjd->bhij", {in[0], in[1]}), einsum("ii->", {in[2]}), einsum("ij,jk->ik", {in[2], in[2]}),
            einsum("bhid->bhdi", {in[0]}) * 1.0};  // a pure view: copy it so finite differences see it
  };
  REQUIRE(gradcheck(ein, {q, k, sq}));
  REQUIRE(gradgradcheck(ein, {q, k, sq}));
}

TEST_CASE("matmul family rejects bad input", "[ops][matmul][errors]") {
  Tensor a = zeros({2, 3}, DType::f64), b = zeros({4, 2}, DType::f64);
  REQUIRE_THROWS_OP(matmul(a, b), "matmul");
  REQUIRE_THROWS_OP(matmul(a, zeros({3, 2})), "matmul");  // f64 vs f32
  REQUIRE_THROWS_OP(matmul(scalar_tensor(1.0), a), "matmul");
  REQUIRE_THROWS_OP(matmul(zeros({2, 2, 3}), zeros({3, 3, 2})), "matmul");  // batch 2 vs 3
  REQUIRE_THROWS_OP(matmul(from_vector<bool>({true}), from_vector<bool>({true})), "matmul");
  REQUIRE_THROWS_OP(mm(zeros({2, 3, 1}), zeros({1, 2})), "mm");
  REQUIRE_THROWS_OP(mm(a, a), "mm");
  REQUIRE_THROWS_OP(bmm(zeros({2, 2, 3}), zeros({3, 3, 2})), "bmm");
  REQUIRE_THROWS_OP(bmm(a, a), "bmm");
  REQUIRE_THROWS_OP(dot(zeros({3}), zeros({4})), "dot");
  REQUIRE_THROWS_OP(dot(a, a), "dot");
  REQUIRE_THROWS_OP(outer(a, zeros({2}, DType::f64)), "outer");
  REQUIRE_THROWS_OP(linear(a, zeros({4, 2}, DType::f64)), "linear");
  REQUIRE_THROWS_OP(linear(a, zeros({4, 3}, DType::f64), zeros({3}, DType::f64)), "linear");
  REQUIRE_THROWS_OP(linear(a, zeros({3}, DType::f64)), "linear");
  REQUIRE_THROWS_OP(matmul(Tensor(), a), "matmul");
  REQUIRE_THROWS_OP(einsum("ij,jk->ik", {a}), "einsum");
  REQUIRE_THROWS_OP(einsum("ij,jk->ik", {a, a}), "einsum");     // j: 3 vs 2
  REQUIRE_THROWS_OP(einsum("ijk,jk->ik", {a, b}), "einsum");    // rank mismatch
  REQUIRE_THROWS_OP(einsum("ij->iz", {a}), "einsum");
  REQUIRE_THROWS_OP(einsum("ij->ii", {a}), "einsum");
  REQUIRE_THROWS_OP(einsum("...j->j", {a}), "einsum");
  REQUIRE_THROWS_OP(einsum("i1->i", {a}), "einsum");
}
