// Backend consistency for the data-movement families (shape, index, pool, sort, interpolate, fold):
// every op with a CUDA kernel (cuda/<family>.h) runs on the CPU and on cuda:0 and must agree,
// forward and gradients of every floating input (test/cuda/consistency.h). Shapes are awkward on
// purpose: odd sizes, several thousand elements (many blocks), non-contiguous inputs (made inside
// the op lambdas, so the GPU kernels see the strides), empty tensors, negative dims and indices,
// duplicate indices (scatters must resolve them like the CPU, deterministically), ties and NaN
// (sort, max pool). float32 and float64 throughout, integer dtypes where the op takes them.
// Without a device every case prints "SKIPPED (no CUDA device)" (test/cuda/device_test.h).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "ember.h"
#include "helpers.h"
#include "test/cuda/consistency.h"
#include "test/cuda/device_test.h"

using namespace ember;
using ember::test::check_cuda_matches_cpu;
using ember::test::ConsistencyOptions;
using ember::test::values;

namespace {

const DType kFloats[] = {DType::f32, DType::f64};

Tensor normal_of(const Shape& shape, uint64_t seed, DType dtype = DType::f32) {
  Generator gen(seed);
  return randn(shape, gen, dtype);
}

// Integers in [low, high) (int64), e.g. indices with repeats and negative entries.
Tensor ints(int64_t low, int64_t high, const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randint(low, high, shape, gen);
}

// Small integers as floats: many exact ties.
Tensor ties(const Shape& shape, uint64_t seed, DType dtype) { return ints(-3, 4, shape, seed).to(dtype); }

ConsistencyOptions forward_only() {
  ConsistencyOptions options;
  options.check_gradients = false;
  return options;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) { return values(a.cpu()) == values(b.cpu()); }

}  // namespace

// ---------------------------------------------------------------- index
DEVICE_TEST_CASE("cuda consistency: gather over odd, large, strided and empty shapes") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    // index may be shorter than x in the other dims and carries negative entries.
    check_cuda_matches_cpu("gather dim 1", {normal_of({7, 33}, 1, dtype), ints(-33, 33, {5, 40}, 2)},
                           [](const TensorList& in) { return TensorList{gather(in[0], 1, in[1])}; });
    check_cuda_matches_cpu("gather dim -3, 3-d", {normal_of({6, 5, 1000}, 3, dtype), ints(-6, 6, {9, 4, 1000}, 4)},
                           [](const TensorList& in) { return TensorList{gather(in[0], -3, in[1])}; });
    check_cuda_matches_cpu("gather transposed x", {normal_of({33, 7}, 5, dtype), ints(0, 33, {7, 50}, 6)},
                           [](const TensorList& in) { return TensorList{gather(in[0].transpose(0, 1), 1, in[1])}; });
    check_cuda_matches_cpu("gather empty index", {normal_of({4, 5}, 7, dtype), ints(0, 4, {0, 5}, 8)},
                           [](const TensorList& in) { return TensorList{gather(in[0], 0, in[1])}; });
  }
  check_cuda_matches_cpu("gather int64", {ints(-100, 100, {9, 17}, 9), ints(0, 17, {9, 30}, 10)},
                         [](const TensorList& in) { return TensorList{gather(in[0], 1, in[1])}; }, forward_only());
}

DEVICE_TEST_CASE("cuda consistency: scatter, scatter_add and scatter fill with duplicate indices") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    // 9 rows written into 5: duplicates along dim 0 (the last one wins / all are summed in order).
    const TensorList inputs{normal_of({5, 37}, 11, dtype), ints(-5, 5, {9, 37}, 12), normal_of({10, 40}, 13, dtype)};
    check_cuda_matches_cpu("scatter", inputs,
                           [](const TensorList& in) { return TensorList{scatter(in[0], 0, in[1], in[2])}; });
    check_cuda_matches_cpu("scatter_add", inputs,
                           [](const TensorList& in) { return TensorList{scatter_add(in[0], 0, in[1], in[2])}; });
    check_cuda_matches_cpu("scatter value", {inputs[0], inputs[1]},
                           [](const TensorList& in) { return TensorList{scatter(in[0], 0, in[1], -2.5)}; });
    check_cuda_matches_cpu("scatter_add dim -1, strided src",
                           {normal_of({3, 4, 7}, 14, dtype), ints(0, 7, {3, 4, 1500}, 15),
                            normal_of({3, 1500, 4}, 16, dtype)},
                           [](const TensorList& in) {
                             return TensorList{scatter_add(in[0], -1, in[1], in[2].transpose(1, 2))};
                           });
  }
  check_cuda_matches_cpu("scatter_add int64", {ints(-9, 9, {4, 6}, 17), ints(0, 4, {8, 6}, 18), ints(-9, 9, {8, 6}, 19)},
                         [](const TensorList& in) { return TensorList{scatter_add(in[0], 0, in[1], in[2])}; },
                         forward_only());
}

DEVICE_TEST_CASE("cuda consistency: scatter_add with many duplicates is deterministic") {
  // 20000 float32 values summed into 3 slots: atomics would change the rounding from run to run.
  const Tensor src = normal_of({20000, 5}, 21).cuda();
  const Tensor index = ints(0, 3, {20000, 5}, 22).cuda();
  const Tensor x = zeros({3, 5}, Device::cuda());
  const Tensor first = scatter_add(x, 0, index, src), second = scatter_add(x, 0, index, src);
  CHECK(bitwise_equal(first, second));
  // The CPU sums in the same order, so the two agree to the last bit too.
  CHECK(bitwise_equal(first, scatter_add(x.cpu(), 0, index.cpu(), src.cpu())));
  const Tensor rows = ints(0, 3, {20000}, 23).cuda();
  const Tensor added = index_add(x, 0, rows, src), again = index_add(x, 0, rows, src);
  CHECK(bitwise_equal(added, again));
  CHECK(bitwise_equal(added, index_add(x.cpu(), 0, rows.cpu(), src.cpu())));
}

DEVICE_TEST_CASE("cuda consistency: index_select and index_add") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    const Tensor index = ints(-17, 17, {50}, 31);  // repeats and negative entries
    check_cuda_matches_cpu("index_select dim 0", {normal_of({17, 130}, 32, dtype), index},
                           [](const TensorList& in) { return TensorList{index_select(in[0], 0, in[1])}; });
    check_cuda_matches_cpu("index_select dim -1, transposed x", {normal_of({17, 9, 3}, 33, dtype), index},
                           [](const TensorList& in) {
                             return TensorList{index_select(in[0].transpose(0, 2), -1, in[1])};
                           });
    check_cuda_matches_cpu("index_select empty index", {normal_of({17, 4}, 34, dtype), ints(0, 17, {0}, 35)},
                           [](const TensorList& in) { return TensorList{index_select(in[0], 0, in[1])}; });
    check_cuda_matches_cpu("index_select 0-d index", {normal_of({17, 4}, 36, dtype), scalar_tensor(3, DType::i64)},
                           [](const TensorList& in) { return TensorList{index_select(in[0], 0, in[1])}; });
    // self (6, 5, 17) and source (6, 5, 50), both transposed views; rows added along dim 2.
    check_cuda_matches_cpu("index_add alpha 0.5", {normal_of({17, 5, 6}, 37, dtype), index, normal_of({50, 5, 6}, 38, dtype)},
                           [](const TensorList& in) {
                             return TensorList{index_add(in[0].transpose(0, 2), 2, in[1], in[2].transpose(0, 2), 0.5)};
                           });
  }
  check_cuda_matches_cpu("index_select int32 index on int64",
                         {ints(-50, 50, {11, 13}, 39), ints(0, 13, {20}, 40).to(DType::i32)},
                         [](const TensorList& in) { return TensorList{index_select(in[0], 1, in[1])}; },
                         forward_only());
}

DEVICE_TEST_CASE("cuda consistency: masked_fill, masked_select, one_hot") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    const Tensor mask = gt(normal_of({7, 1, 33}, 41), 0.3);  // broadcast along dim 1
    check_cuda_matches_cpu("masked_fill", {normal_of({7, 5, 33}, 42, dtype), mask},
                           [](const TensorList& in) { return TensorList{masked_fill(in[0], in[1], 1.5)}; });
    check_cuda_matches_cpu("masked_select", {normal_of({7, 5, 33}, 43, dtype), mask},
                           [](const TensorList& in) { return TensorList{masked_select(in[0], in[1])}; });
  }
  check_cuda_matches_cpu("one_hot", {ints(0, 9, {4, 77}, 44)},
                         [](const TensorList& in) { return TensorList{one_hot(in[0], 11)}; }, forward_only());
  check_cuda_matches_cpu("one_hot inferred", {ints(0, 9, {1000}, 45)},
                         [](const TensorList& in) { return TensorList{one_hot(in[0])}; }, forward_only());
}

DEVICE_TEST_CASE("cuda index ops: bad indices and mixed devices are clear errors") {
  const Tensor x = normal_of({4, 6}, 51).cuda();
  CHECK_THROWS_WITH(gather(x, 1, full({4, 2}, 6, TensorOptions(DType::i64).device(Device::cuda()))),
                    Catch::Contains("gather: index 6 is out of bounds for dim 1 with size 6"));
  CHECK_THROWS_WITH(index_select(x, 0, from_vector<int64_t>({0, -5}, {2}).cuda()),
                    Catch::Contains("index -5 is out of bounds for dim 0 with size 4"));
  CHECK_THROWS_WITH(one_hot(from_vector<int64_t>({1, 7}, {2}).cuda(), 3), Catch::Contains("class index 7"));
  CHECK_THROWS_WITH(gather(x, 1, zeros({4, 2}, DType::i64)), Catch::Contains("expected all tensors on one device"));
  CHECK_THROWS_WITH(cat({x, normal_of({4, 6}, 52)}, 0), Catch::Contains("on cuda:0") && Catch::Contains("on cpu"));
  CHECK_THROWS_WITH(index_add(x, 0, from_vector<int64_t>({0}, {1}).cuda(), normal_of({1, 6}, 53)),
                    Catch::Contains("one device"));
}

// ---------------------------------------------------------------- shape
DEVICE_TEST_CASE("cuda consistency: cat, stack, split and unbind gradients") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    const TensorList parts{normal_of({3, 7, 5}, 61, dtype), normal_of({3, 0, 5}, 62, dtype),
                           normal_of({5, 11, 3}, 63, dtype)};
    check_cuda_matches_cpu("cat dim 1 with an empty and a permuted part", parts, [](const TensorList& in) {
      return TensorList{cat({in[0], in[1], in[2].permute({2, 1, 0}).narrow(1, 1, 5)}, 1)};
    });
    check_cuda_matches_cpu("cat dim -1", {normal_of({4, 1}, 64, dtype), normal_of({4, 999}, 65, dtype)},
                           [](const TensorList& in) { return TensorList{cat({in[0], in[1]}, -1)}; });
    check_cuda_matches_cpu("stack dim -1", {normal_of({3, 33}, 66, dtype), normal_of({33, 3}, 67, dtype)},
                           [](const TensorList& in) { return TensorList{stack({in[0], in[1].transpose(0, 1)}, -1)}; });
    // Only one piece used: the others' gradients are zeros made on the right device.
    check_cuda_matches_cpu("chunk piece", {normal_of({5, 12}, 68, dtype)},
                           [](const TensorList& in) { return TensorList{chunk(in[0], 3, 1)[1]}; });
    check_cuda_matches_cpu("unbind piece", {normal_of({4, 7}, 69, dtype)},
                           [](const TensorList& in) { return TensorList{unbind(in[0], 1)[6]}; });
  }
  check_cuda_matches_cpu("cat promotes int64 and float32", {ints(-5, 5, {2, 3}, 70), normal_of({2, 4}, 71)},
                         [](const TensorList& in) { return TensorList{cat({in[0], in[1]}, 1)}; }, forward_only());
}

DEVICE_TEST_CASE("cuda consistency: pad in every mode, flip, roll, repeat, tile") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    const Tensor x = normal_of({2, 3, 7, 33}, 81, dtype);
    check_cuda_matches_cpu("pad constant (negative pads crop)", {x}, [](const TensorList& in) {
      return TensorList{pad(in[0], {2, -3, 1, 4}, "constant", 0.5)};
    });
    for (const char* mode : {"reflect", "replicate", "circular"}) {
      INFO(mode);
      check_cuda_matches_cpu(std::string("pad ") + mode, {x}, [mode](const TensorList& in) {
        return TensorList{pad(in[0], {5, 6, 3, 2}, mode)};
      });
      check_cuda_matches_cpu(std::string("pad transposed ") + mode, {x}, [mode](const TensorList& in) {
        return TensorList{pad(in[0].transpose(2, 3), {1, 2}, mode)};
      });
    }
    check_cuda_matches_cpu("flip", {x}, [](const TensorList& in) { return TensorList{flip(in[0], {0, -1})}; });
    check_cuda_matches_cpu("roll", {x}, [](const TensorList& in) { return TensorList{roll(in[0], {5, -2}, {3, 1})}; });
    check_cuda_matches_cpu("roll flattened", {x}, [](const TensorList& in) { return TensorList{roll(in[0], {100})}; });
    check_cuda_matches_cpu("repeat", {normal_of({3, 5}, 82, dtype)},
                           [](const TensorList& in) { return TensorList{repeat(in[0].transpose(0, 1), {2, 1, 3})}; });
    check_cuda_matches_cpu("tile", {normal_of({3, 5}, 83, dtype)},
                           [](const TensorList& in) { return TensorList{tile(in[0], {4})}; });
    check_cuda_matches_cpu("flip empty", {normal_of({0, 4}, 84, dtype)},
                           [](const TensorList& in) { return TensorList{flip(in[0], {0, 1})}; });
  }
  check_cuda_matches_cpu("pad bool", {gt(normal_of({3, 4}, 85), 0.0)},
                         [](const TensorList& in) { return TensorList{pad(in[0], {1, 1}, "constant", 1.0)}; },
                         forward_only());
}

DEVICE_TEST_CASE("cuda consistency: tril and triu") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    for (int64_t diagonal : {-2, 0, 3}) {
      INFO("diagonal " << diagonal);
      check_cuda_matches_cpu("tril", {normal_of({3, 7, 33}, 91, dtype)},
                             [diagonal](const TensorList& in) { return TensorList{tril(in[0], diagonal)}; });
      check_cuda_matches_cpu("triu transposed", {normal_of({33, 7}, 92, dtype)}, [diagonal](const TensorList& in) {
        return TensorList{triu(in[0].transpose(0, 1), diagonal)};
      });
    }
  }
  check_cuda_matches_cpu("tril int64", {ints(-9, 9, {5, 5}, 93)},
                         [](const TensorList& in) { return TensorList{tril(in[0], -1)}; }, forward_only());
}

// ---------------------------------------------------------------- pool
DEVICE_TEST_CASE("cuda consistency: max pooling values, indices (ties, NaN) and gradients") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    const auto with_indices = [](const std::pair<Tensor, Tensor>& p) { return TensorList{p.first, p.second}; };
    check_cuda_matches_cpu("max_pool2d 3/2/1 with ties", {ties({2, 3, 17, 33}, 101, dtype)},
                           [&](const TensorList& in) { return with_indices(max_pool2d_with_indices(in[0], 3, 2, 1)); });
    check_cuda_matches_cpu("max_pool2d ceil, dilation 2, transposed", {normal_of({2, 3, 19, 12}, 102, dtype)},
                           [&](const TensorList& in) {
                             return with_indices(
                                 max_pool2d_with_indices(in[0].transpose(2, 3), {3, 2}, {2, 3}, {1, 1}, 2, true));
                           });
    check_cuda_matches_cpu("max_pool2d ResNet stem", {normal_of({4, 64, 56, 56}, 103, dtype)},
                           [&](const TensorList& in) { return with_indices(max_pool2d_with_indices(in[0], 3, 2, 1)); });
    check_cuda_matches_cpu("max_pool1d", {normal_of({3, 5, 101}, 104, dtype)},
                           [&](const TensorList& in) { return with_indices(max_pool1d_with_indices(in[0], 4, 3, 2)); });
    check_cuda_matches_cpu("adaptive_max_pool2d", {normal_of({2, 3, 17, 33}, 105, dtype)},
                           [&](const TensorList& in) { return with_indices(adaptive_max_pool2d_with_indices(in[0], {5, 7})); });
    check_cuda_matches_cpu("max_pool2d empty batch", {normal_of({0, 3, 8, 8}, 106, dtype)},
                           [](const TensorList& in) { return TensorList{max_pool2d(in[0], 2)}; });
    // NaN wins its windows (PyTorch's rule); forward only (NaN gradients compare as NaN anyway).
    Tensor x = normal_of({1, 2, 6, 6}, 107, dtype);
    std::vector<double> v = values(x);
    v[7] = std::numeric_limits<double>::quiet_NaN();
    v[50] = std::numeric_limits<double>::quiet_NaN();
    check_cuda_matches_cpu("max_pool2d NaN", {from_vector(v, x.sizes()).to(dtype)},
                           [&](const TensorList& in) { return with_indices(max_pool2d_with_indices(in[0], 2, 1)); },
                           forward_only());
  }
}

DEVICE_TEST_CASE("cuda consistency: max pooling backward is deterministic") {
  const Tensor x = ties({2, 8, 40, 40}, 111, DType::f32).cuda().requires_grad_(true);
  const Tensor g = normal_of({2, 8, 20, 20}, 112).cuda();
  const auto grad_of = [&]() { return autograd::grad({max_pool2d(x, 3, 2, 1)}, {x}, {g})[0]; };
  const Tensor first = grad_of(), second = grad_of();
  CHECK(bitwise_equal(first, second));
  const Tensor host_x = x.detach().cpu().requires_grad_(true);
  CHECK(bitwise_equal(first, autograd::grad({max_pool2d(host_x, 3, 2, 1)}, {host_x}, {g.cpu()})[0]));
}

DEVICE_TEST_CASE("cuda consistency: average and adaptive average pooling") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    const Tensor x = normal_of({2, 3, 17, 33}, 121, dtype);
    check_cuda_matches_cpu("avg_pool2d 3/2/1 count_include_pad", {x},
                           [](const TensorList& in) { return TensorList{avg_pool2d(in[0], 3, 2, 1)}; });
    check_cuda_matches_cpu("avg_pool2d ceil, exclude pad", {x}, [](const TensorList& in) {
      return TensorList{avg_pool2d(in[0], {4, 3}, {3, 2}, {2, 1}, true, false)};
    });
    check_cuda_matches_cpu("avg_pool2d divisor_override, transposed", {x}, [](const TensorList& in) {
      return TensorList{avg_pool2d(in[0].transpose(2, 3), 2, 2, 0, false, true, 3)};
    });
    check_cuda_matches_cpu("avg_pool1d", {normal_of({4, 101}, 122, dtype)},
                           [](const TensorList& in) { return TensorList{avg_pool1d(in[0], 5, 2, 2)}; });
    check_cuda_matches_cpu("adaptive_avg_pool2d (5, 7)", {x},
                           [](const TensorList& in) { return TensorList{adaptive_avg_pool2d(in[0], {5, 7})}; });
    check_cuda_matches_cpu("global average pool (ResNet head)", {normal_of({8, 512, 7, 7}, 123, dtype)},
                           [](const TensorList& in) { return TensorList{adaptive_avg_pool2d(in[0], 1)}; });
    check_cuda_matches_cpu("adaptive_avg_pool1d upsampling", {normal_of({2, 3, 5}, 124, dtype)},
                           [](const TensorList& in) { return TensorList{adaptive_avg_pool1d(in[0], 9)}; });
  }
}

// ---------------------------------------------------------------- sort
DEVICE_TEST_CASE("cuda consistency: sort and argsort are stable (ties in index order, NaN largest)") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    const auto pair = [](const ValuesIndices& r) { return TensorList{r.values, r.indices}; };
    for (bool descending : {false, true}) {
      INFO("descending " << descending);
      check_cuda_matches_cpu("sort rows with ties", {ties({7, 1000}, 131, dtype)},
                             [&](const TensorList& in) { return pair(sort(in[0], -1, descending)); });
      check_cuda_matches_cpu("sort dim 0, transposed", {ties({33, 5}, 132, dtype)},
                             [&](const TensorList& in) { return pair(sort(in[0].transpose(0, 1), 1, descending)); });
      check_cuda_matches_cpu("sort middle dim", {normal_of({3, 40, 5}, 133, dtype)},
                             [&](const TensorList& in) { return pair(sort(in[0], 1, descending)); });
      std::vector<double> v{2, std::nan(""), -0.0, 1, 0.0, std::nan(""), -1, 2, -std::numeric_limits<double>::infinity()};
      check_cuda_matches_cpu("sort NaN, +-0, -inf", {from_vector(v, {9}).to(dtype)},
                             [&](const TensorList& in) { return pair(sort(in[0], 0, descending)); }, forward_only());
      check_cuda_matches_cpu("argsort", {ties({4, 17}, 134, dtype)},
                             [&](const TensorList& in) { return TensorList{argsort(in[0], -1, descending)}; },
                             forward_only());
    }
    check_cuda_matches_cpu("sort 0-d", {scalar_tensor(1.5, dtype)},
                           [&](const TensorList& in) { return pair(sort(in[0], 0)); });
    check_cuda_matches_cpu("sort empty", {normal_of({3, 0}, 135, dtype)},
                           [&](const TensorList& in) { return pair(sort(in[0], -1)); });
    check_cuda_matches_cpu("sort long line", {normal_of({100000}, 136, dtype)},
                           [&](const TensorList& in) { return pair(sort(in[0], 0, true)); });
  }
  for (DType dtype : {DType::i64, DType::i32, DType::bool_}) {
    INFO(dtype_name(dtype));
    check_cuda_matches_cpu("sort integers", {ints(-5, 5, {6, 50}, 137).to(dtype)},
                           [](const TensorList& in) {
                             const ValuesIndices r = sort(in[0], 1, true);
                             return TensorList{r.values, r.indices};
                           },
                           forward_only());
  }
}

DEVICE_TEST_CASE("cuda consistency: topk") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    for (bool largest : {true, false}) {
      check_cuda_matches_cpu("topk 5 with ties", {ties({9, 301}, 141, dtype)}, [largest](const TensorList& in) {
        const ValuesIndices r = topk(in[0], 5, -1, largest);
        return TensorList{r.values, r.indices};
      });
      check_cuda_matches_cpu("topk dim 0", {normal_of({40, 6}, 142, dtype)}, [largest](const TensorList& in) {
        const ValuesIndices r = topk(in[0], 40, 0, largest);
        return TensorList{r.values, r.indices};
      });
      check_cuda_matches_cpu("topk 0", {normal_of({4, 6}, 143, dtype)}, [largest](const TensorList& in) {
        const ValuesIndices r = topk(in[0], 0, 1, largest);
        return TensorList{r.values, r.indices};
      });
    }
  }
}

DEVICE_TEST_CASE("cuda consistency: cumsum and cumprod") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    for (int64_t dim : {0, 1, -1}) {
      INFO("dim " << dim);
      check_cuda_matches_cpu("cumsum", {normal_of({7, 33, 5}, 151, dtype)},
                             [dim](const TensorList& in) { return TensorList{cumsum(in[0], dim)}; });
      // Values near 1 keep the products in range; one zero exercises the zero-aware backward.
      check_cuda_matches_cpu("cumprod", {add(mul(normal_of({5, 9, 4}, 152, dtype), 0.1), 1.0)},
                             [dim](const TensorList& in) { return TensorList{cumprod(in[0], dim)}; });
    }
    check_cuda_matches_cpu("cumsum long line, transposed", {normal_of({3000, 2}, 153, dtype)},
                           [](const TensorList& in) { return TensorList{cumsum(in[0].transpose(0, 1), 1)}; });
    check_cuda_matches_cpu("cumprod with a zero", {from_vector<double>({1.5, 2, 0, 3, -1, 0.5}, {2, 3}).to(dtype)},
                           [](const TensorList& in) { return TensorList{cumprod(in[0], 1)}; });
    check_cuda_matches_cpu("cumsum empty", {normal_of({0, 3}, 154, dtype)},
                           [](const TensorList& in) { return TensorList{cumsum(in[0], 0)}; });
  }
  check_cuda_matches_cpu("cumsum int32 -> int64", {ints(-9, 9, {4, 25}, 155).to(DType::i32)},
                         [](const TensorList& in) { return TensorList{cumsum(in[0], 1)}; }, forward_only());
  check_cuda_matches_cpu("cumsum bool", {gt(normal_of({4, 25}, 156), 0.0)},
                         [](const TensorList& in) { return TensorList{cumsum(in[0], 1)}; }, forward_only());
}

// ---------------------------------------------------------------- interpolate
DEVICE_TEST_CASE("cuda consistency: interpolate (nearest, linear, bilinear, bicubic) and pixel shuffle") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    const Tensor image = normal_of({2, 3, 9, 13}, 161, dtype);
    check_cuda_matches_cpu("nearest x2", {image},
                           [](const TensorList& in) { return TensorList{interpolate(in[0], 2.0, "nearest")}; });
    check_cuda_matches_cpu("nearest to (5, 30), transposed", {image}, [](const TensorList& in) {
      return TensorList{interpolate(in[0].transpose(2, 3), Shape{5, 30}, "nearest")};
    });
    for (bool align : {false, true}) {
      INFO("align_corners " << align);
      check_cuda_matches_cpu("bilinear to (17, 7)", {image}, [align](const TensorList& in) {
        return TensorList{interpolate(in[0], Shape{17, 7}, "bilinear", align)};
      });
      check_cuda_matches_cpu("bicubic x1.7", {image}, [align](const TensorList& in) {
        return TensorList{interpolate(in[0], 1.7, "bicubic", align)};
      });
      check_cuda_matches_cpu("linear 1-d", {normal_of({2, 3, 40}, 162, dtype)}, [align](const TensorList& in) {
        return TensorList{interpolate(in[0], Shape{101}, "linear", align)};
      });
    }
    check_cuda_matches_cpu("bilinear large", {normal_of({2, 16, 56, 56}, 163, dtype)},
                           [](const TensorList& in) { return TensorList{interpolate(in[0], 2.0, "bilinear", false)}; });
    check_cuda_matches_cpu("pixel_shuffle / unshuffle", {normal_of({2, 12, 5, 7}, 164, dtype)},
                           [](const TensorList& in) {
                             const Tensor up = pixel_shuffle(in[0], 2);
                             return TensorList{up, pixel_unshuffle(mul(up, up), 2)};
                           });
  }
}

// ---------------------------------------------------------------- fold
DEVICE_TEST_CASE("cuda consistency: unfold and fold") {
  for (DType dtype : kFloats) {
    INFO(dtype_name(dtype));
    check_cuda_matches_cpu("unfold 3x3, dilation 2, padding 1, stride 2", {normal_of({2, 3, 17, 13}, 171, dtype)},
                           [](const TensorList& in) { return TensorList{unfold(in[0], 3, 2, 1, 2)}; });
    check_cuda_matches_cpu("unfold (2, 3) unbatched, transposed", {normal_of({4, 9, 11}, 172, dtype)},
                           [](const TensorList& in) {
                             return TensorList{unfold(in[0].transpose(1, 2), Size2(2, 3), 1, Size2(1, 0), 1)};
                           });
    // fold sums overlapping blocks (stride 1 < kernel 3): 9 contributions per interior pixel.
    check_cuda_matches_cpu("fold overlapping", {normal_of({2, 2 * 9, 15 * 11}, 173, dtype)},
                           [](const TensorList& in) { return TensorList{fold(in[0], Size2(17, 13), 3, 1, 0, 1)}; });
    check_cuda_matches_cpu("fold stride 2, dilation 2, padding 2", {normal_of({3, 4 * 4, 81}, 174, dtype)},
                           [](const TensorList& in) { return TensorList{fold(in[0], Size2(16, 16), 2, 2, 2, 2)}; });
  }
}
