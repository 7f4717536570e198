// Backend consistency for the elementwise families (ops/{elementwise,unary,activation,compare,
// inplace}.cpp; kernels cuda/{elementwise,unary,activation,compare}.cu): every op on CUDA must give
// what it gives on the CPU, forward and input gradients (test/cuda/consistency.h), over
//  - shapes (0), (1), (7, 33) and (4099) (several blocks, and a tail after the 16-byte vectors),
//  - non-contiguous inputs (a transpose, a slice with step 2) made inside the graph,
//  - broadcasting (3, 1, 5) x (4, 5) and a 0-d operand,
//  - float32 and float64, integer dtypes where the CPU op takes them, and bf16/f16 forward
//    (CPU reference: the op in float32 on the same rounded inputs, rounded once).
// Plus in-place ops on CUDA views (values and version counter) and mixed-device errors.
// Without a GPU every DEVICE_TEST_CASE prints SKIPPED; the plain TEST_CASEs run everywhere.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "cuda/map_layout.h"
#include "ember.h"
#include "helpers.h"
#include "test/cuda/consistency.h"
#include "test/cuda/device_test.h"

using namespace ember;
using ember::test::check_cuda_matches_cpu;
using ember::test::ConsistencyOptions;
using ember::test::tolerance_for;
using ember::test::values;

namespace {

using UnaryFn = std::function<Tensor(const Tensor&)>;
using BinaryFn = std::function<Tensor(const Tensor&, const Tensor&)>;

// The domain an op's inputs are drawn from (log needs x > 0, erfinv |x| < 1, ...).
enum class Domain { real, positive, unit };

Tensor sample(const Shape& shape, DType dtype, Domain domain, uint64_t seed) {
  Generator gen(seed);
  Tensor x = mul(randn(shape, gen, DType::f64), 2.0);
  if (domain == Domain::positive) x = add(abs(x), 0.1);
  if (domain == Domain::unit) x = mul(tanh(x), 0.95);
  return x.to(dtype);
}

// Small integers (as `dtype`): exact in every dtype, and ties for comparisons, min and max.
Tensor sample_integers(const Shape& shape, DType dtype, int64_t low, int64_t high, uint64_t seed) {
  Generator gen(seed);
  return randint(low, high, shape, gen).to(dtype);
}

const std::vector<Shape> kShapes = {{0}, {1}, {7, 33}, {4099}};
const DType kFloatTypes[] = {DType::f32, DType::f64};
const DType kHalfTypes[] = {DType::bf16, DType::f16};

std::string label(const std::string& name, const Shape& shape, DType dtype) {
  return name + " " + shape_str(shape) + " " + dtype_name(dtype);
}

ConsistencyOptions no_gradients() {
  ConsistencyOptions options;
  options.check_gradients = false;
  return options;
}

// |actual - expected| <= atol + rtol |expected|, where equal values (the same infinity: a float16
// result can overflow on both sides) and two NaNs also pass.
bool close_or_equal(const std::vector<double>& actual, const std::vector<double>& expected, double rtol, double atol) {
  if (actual.size() != expected.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    if (a == e || (std::isnan(a) && std::isnan(e))) continue;
    if (!(std::fabs(a - e) <= atol + rtol * std::fabs(e))) {
      UNSCOPED_INFO("element " << i << ": " << a << " vs expected " << e);
      return false;
    }
  }
  return true;
}

// bf16/f16 forward: f on CUDA tensors of `dtype` against f in float32 on the CPU over the same
// (rounded) values, its result rounded to the CUDA output's dtype.
void check_half_forward(const std::string& name, const TensorList& f32_inputs,
                        const std::function<TensorList(const TensorList&)>& f) {
  for (DType dtype : kHalfTypes) {
    INFO("op " << name << " " << dtype_name(dtype));
    TensorList host, device;
    for (const Tensor& t : f32_inputs) {
      const Tensor rounded = is_floating(t.dtype()) ? t.to(dtype) : t;
      host.push_back(is_floating(t.dtype()) ? rounded.to(DType::f32) : rounded);
      device.push_back(rounded.cuda());
    }
    const TensorList host_out = f(host), device_out = f(device);
    REQUIRE(host_out.size() == device_out.size());
    for (size_t i = 0; i < host_out.size(); ++i) {
      REQUIRE(device_out[i].device().is_cuda());
      REQUIRE(device_out[i].sizes() == host_out[i].sizes());
      const DType out_dtype = device_out[i].dtype();
      CHECK((out_dtype == dtype || out_dtype == DType::bool_));
      const auto tol = tolerance_for(out_dtype);
      CHECK(close_or_equal(values(device_out[i].cpu()), values(host_out[i].to(out_dtype)), tol.rtol, tol.atol));
    }
  }
}

// Every shape x {f32, f64}, a transposed and a strided-slice input, and bf16/f16 forward.
void check_unary_op(const std::string& name, const UnaryFn& f, Domain domain, bool differentiable = true,
                    bool half = true) {
  const ConsistencyOptions options = differentiable ? ConsistencyOptions{} : no_gradients();
  auto wrap = [&f](const TensorList& in) { return TensorList{f(in[0])}; };
  for (DType dtype : kFloatTypes) {
    uint64_t seed = 1;
    for (const Shape& shape : kShapes) {
      check_cuda_matches_cpu(label(name, shape, dtype), {sample(shape, dtype, domain, seed++)}, wrap, options);
    }
    check_cuda_matches_cpu(label(name + " of a transpose", {33, 7}, dtype), {sample({33, 7}, dtype, domain, 11)},
                           [&f](const TensorList& in) { return TensorList{f(in[0].transpose(0, 1))}; }, options);
    check_cuda_matches_cpu(label(name + " of a step-2 slice", {7, 66}, dtype), {sample({7, 66}, dtype, domain, 12)},
                           [&f](const TensorList& in) { return TensorList{f(in[0].slice(1, 1, 66, 2))}; }, options);
  }
  if (half) check_half_forward(name, {sample({7, 33}, DType::f32, domain, 13)}, wrap);
}

// Same shapes, broadcasting (3, 1, 5) x (4, 5), a 0-d right operand, non-contiguous operands.
void check_binary_op(const std::string& name, const BinaryFn& f, Domain domain_a, Domain domain_b,
                     bool differentiable = true, bool half = true) {
  const ConsistencyOptions options = differentiable ? ConsistencyOptions{} : no_gradients();
  auto wrap = [&f](const TensorList& in) { return TensorList{f(in[0], in[1])}; };
  for (DType dtype : kFloatTypes) {
    uint64_t seed = 21;
    for (const Shape& shape : kShapes) {
      check_cuda_matches_cpu(label(name, shape, dtype),
                             {sample(shape, dtype, domain_a, seed), sample(shape, dtype, domain_b, seed + 100)}, wrap,
                             options);
      ++seed;
    }
    check_cuda_matches_cpu(label(name + " broadcast (3,1,5) x (4,5)", {3, 4, 5}, dtype),
                           {sample({3, 1, 5}, dtype, domain_a, 31), sample({4, 5}, dtype, domain_b, 32)}, wrap,
                           options);
    check_cuda_matches_cpu(label(name + " with a 0-d operand", {7, 33}, dtype),
                           {sample({7, 33}, dtype, domain_a, 33), sample({}, dtype, domain_b, 34)}, wrap, options);
    check_cuda_matches_cpu(label(name + " of a transpose and a step-2 slice", {7, 33}, dtype),
                           {sample({33, 7}, dtype, domain_a, 35), sample({7, 66}, dtype, domain_b, 36)},
                           [&f](const TensorList& in) {
                             return TensorList{f(in[0].transpose(0, 1), in[1].slice(1, 0, 66, 2))};
                           },
                           options);
  }
  if (half) {
    check_half_forward(name, {sample({7, 33}, DType::f32, domain_a, 37), sample({7, 33}, DType::f32, domain_b, 38)},
                       wrap);
    check_half_forward(name + " broadcast",
                       {sample({3, 1, 5}, DType::f32, domain_a, 39), sample({4, 5}, DType::f32, domain_b, 40)}, wrap);
  }
}

// Integer dtypes: exact results, no gradients.
void check_integer_binary_op(const std::string& name, const BinaryFn& f, int64_t low_b = -5, int64_t high_b = 6) {
  auto wrap = [&f](const TensorList& in) { return TensorList{f(in[0], in[1])}; };
  for (DType dtype : {DType::i64, DType::i32}) {
    check_cuda_matches_cpu(label(name, {7, 33}, dtype),
                           {sample_integers({7, 33}, dtype, -9, 10, 41), sample_integers({7, 33}, dtype, low_b, high_b, 42)},
                           wrap, no_gradients());
    check_cuda_matches_cpu(label(name + " broadcast", {3, 4, 5}, dtype),
                           {sample_integers({3, 1, 5}, dtype, -9, 10, 43), sample_integers({4, 5}, dtype, low_b, high_b, 44)},
                           wrap, no_gradients());
  }
}

}  // namespace

// ---------------------------------------------------------------- runs everywhere

namespace {

// The operand cuda::operand_of builds: t's strides in `shape` (0 on broadcast and missing dims).
cuda::Operand operand_in(const Tensor& t, const Shape& shape) {
  cuda::Operand operand;
  const int64_t lead = static_cast<int64_t>(shape.size()) - t.dim();
  operand.layout.ndim = static_cast<int>(shape.size());
  operand.layout.numel = numel_of(shape);
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    operand.layout.sizes[d] = shape[d];
    operand.layout.strides[d] = d < lead || t.size(d - lead) == 1 ? 0 : t.stride(d - lead);
  }
  return operand;
}

// The coalesced walk (cuda::map_offsets) must reach, for every linear index of the output, the
// offsets a plain row-major walk over the original dims reaches. Returns the coalesced layout.
template <int N> cuda::MapLayout<N> check_coalesced_walk(const Shape& shape, const std::array<Tensor, N>& tensors) {
  std::array<cuda::Operand, N> operands;
  const cuda::Operand* pointers[N];
  for (int k = 0; k < N; ++k) {
    operands[k] = operand_in(tensors[k], shape);
    pointers[k] = &operands[k];
  }
  const cuda::MapLayout<N> layout = cuda::coalesce(pointers);
  for (int64_t i = 0; i < numel_of(shape); ++i) {
    int64_t offsets[N];
    cuda::map_offsets(layout, i, offsets);
    for (int k = 0; k < N; ++k) {
      int64_t expected = 0, rest = i;
      for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        expected += (rest % shape[d]) * operands[k].layout.strides[d];
        rest /= shape[d];
      }
      if (offsets[k] != expected) {
        FAIL("operand " << k << " at index " << i << ": offset " << offsets[k] << ", expected " << expected);
      }
    }
  }
  return layout;
}

}  // namespace

TEST_CASE("cuda elementwise: the coalesced index walk reaches every operand's elements", "[cuda]") {
  const Tensor a = zeros({7, 33}), b = zeros({33, 7}), c = zeros({7, 66}), base = zeros({3, 4, 5});
  // Dense operands merge to one unit-stride dim (the vectorized kernel's condition).
  auto dense = check_coalesced_walk<3>({7, 33}, {a, a, a});
  CHECK(dense.ndim == 1);
  CHECK(dense.sizes[0] == 231);
  CHECK((dense.strides[0][0] == 1 && dense.strides[1][0] == 1 && dense.strides[2][0] == 1));
  // A 0-d operand: still one dim, that operand with stride 0 (the broadcast vectorized path).
  auto scalar = check_coalesced_walk<3>({7, 33}, {a, a, zeros({})});
  CHECK(scalar.ndim == 1);
  CHECK(scalar.strides[2][0] == 0);
  // Size-1 dims are dropped; a 0-d output has no dims left.
  CHECK(check_coalesced_walk<2>({1, 7, 1, 33}, {zeros({1, 7, 1, 33}), zeros({7, 1, 33})}).ndim == 1);
  CHECK(check_coalesced_walk<2>({}, {zeros({}), zeros({})}).ndim == 0);
  // Transposes, step slices, broadcasting: walked correctly, and not merged where they differ.
  CHECK(check_coalesced_walk<3>({7, 33}, {a, b.transpose(0, 1), c.slice(1, 1, 66, 2)}).ndim == 2);
  check_coalesced_walk<3>({3, 4, 5}, {base, zeros({3, 1, 5}), zeros({4, 5})});
  check_coalesced_walk<4>({3, 4, 5}, {base, zeros({4, 1}), zeros({1, 4, 1}).expand({3, 4, 5}), zeros({5})});
  check_coalesced_walk<2>({4, 5, 6}, {zeros({4, 5, 6}), zeros({6, 5, 4}).permute({2, 1, 0})});
  check_coalesced_walk<2>({5, 6}, {zeros({5, 6}), zeros({10, 12}).slice(0, 0, 10, 2).slice(1, 3, 9)});
}

TEST_CASE("cuda elementwise: 16-bit activations stay a clear error on the CPU", "[cuda]") {
  const Tensor x = ones({4}).to(DType::bf16);
  REQUIRE_THROWS_OP(gelu(x), "gelu");
  REQUIRE_THROWS_WITH(relu(x), Catch::Contains("bfloat16/float16 on CUDA"));
}

TEST_CASE("cuda elementwise: the CPU path of scalar ops keeps its results on the CPU", "[cuda]") {
  // wrap_scalar and the backward's zeros now follow the input's device: on the CPU, the CPU.
  const Tensor x = ember::test::f64({1.0, -2.0, 3.0}, {3});
  const Tensor y = where(gt(x, 0.0), add(x, 1.5), 0.0);
  CHECK(y.device().is_cpu());
  CHECK(values(y) == std::vector<double>{2.5, 0.0, 4.5});
  const TensorList g = autograd::grad({sum(floor(mul(x, 2.0)))}, {x});
  CHECK(g[0].device().is_cpu());
  CHECK(values(g[0]) == std::vector<double>{0.0, 0.0, 0.0});
}

// ---------------------------------------------------------------- arithmetic

DEVICE_TEST_CASE("cuda elementwise: add, sub, mul, div match the CPU") {
  check_binary_op("add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, Domain::real, Domain::real);
  check_binary_op("add alpha", [](const Tensor& a, const Tensor& b) { return add(a, b, -2.5); }, Domain::real,
                  Domain::real);
  check_binary_op("sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }, Domain::real, Domain::real);
  check_binary_op("mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, Domain::real, Domain::real);
  check_binary_op("div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, Domain::real, Domain::positive);
  check_integer_binary_op("add", [](const Tensor& a, const Tensor& b) { return add(a, b, 3.0); });
  check_integer_binary_op("sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); });
  check_integer_binary_op("mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); });
  check_integer_binary_op("div (integers give float32)", [](const Tensor& a, const Tensor& b) { return div(a, b); },
                          1, 6);
}

DEVICE_TEST_CASE("cuda elementwise: scalar variants (add, sub, rsub, mul, div, rdiv) match the CPU") {
  check_unary_op("add scalar", [](const Tensor& x) { return add(x, 1.25); }, Domain::real);
  check_unary_op("sub scalar", [](const Tensor& x) { return sub(x, 0.5); }, Domain::real);
  check_unary_op("rsub scalar", [](const Tensor& x) { return rsub(x, 3.0); }, Domain::real);
  check_unary_op("mul scalar", [](const Tensor& x) { return mul(x, -1.5); }, Domain::real);
  check_unary_op("div scalar", [](const Tensor& x) { return div(x, 3.0); }, Domain::real);
  check_unary_op("rdiv scalar", [](const Tensor& x) { return rdiv(x, 2.0); }, Domain::positive);
  check_unary_op("neg", [](const Tensor& x) { return neg(x); }, Domain::real);
  // Integer tensor with a float scalar promotes to float32; with an int scalar it stays integral.
  for (DType dtype : {DType::i64, DType::i32, DType::u8}) {
    const Tensor x = sample_integers({7, 33}, dtype, 0, 9, 51);
    check_cuda_matches_cpu(label("int + 2.5", {7, 33}, dtype), {x},
                           [](const TensorList& in) { return TensorList{add(in[0], 2.5)}; }, no_gradients());
    check_cuda_matches_cpu(label("int * 3", {7, 33}, dtype), {x},
                           [](const TensorList& in) { return TensorList{mul(in[0], 3.0)}; }, no_gradients());
    if (dtype != DType::u8) {
      check_cuda_matches_cpu(label("neg int", {7, 33}, dtype), {x},
                             [](const TensorList& in) { return TensorList{neg(in[0])}; }, no_gradients());
    }
  }
  const Tensor flags = gt(sample({7, 33}, DType::f32, Domain::real, 52), 0.0);
  check_cuda_matches_cpu("bool + bool (logical or), bool * bool (and)", {flags, logical_not(flags).slice(1, 0, 33)},
                         [](const TensorList& in) { return TensorList{add(in[0], in[1]), mul(in[0], in[1])}; },
                         no_gradients());
}

DEVICE_TEST_CASE("cuda elementwise: pow (tensor and scalar exponents) matches the CPU") {
  check_binary_op("pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, Domain::positive, Domain::real);
  for (double e : {2.0, 3.0, 1.0, 0.5, -1.0, -0.5, 1.7, 0.0}) {
    check_unary_op("pow scalar " + std::to_string(e), [e](const Tensor& x) { return pow(x, e); }, Domain::positive);
  }
  check_unary_op("scalar ** tensor", [](const Tensor& x) { return pow(2.5, x); }, Domain::real);
  for (DType dtype : {DType::i64, DType::i32}) {
    check_cuda_matches_cpu(label("int pow", {7, 33}, dtype),
                           {sample_integers({7, 33}, dtype, -4, 5, 61), sample_integers({7, 33}, dtype, -2, 6, 62)},
                           [](const TensorList& in) { return TensorList{pow(in[0], in[1]), pow(in[0], 3.0)}; },
                           no_gradients());
  }
}

DEVICE_TEST_CASE("cuda elementwise: minimum and maximum match the CPU, NaN from either side") {
  check_binary_op("minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, Domain::real,
                  Domain::real);
  check_binary_op("maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, Domain::real,
                  Domain::real);
  check_integer_binary_op("minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); });
  check_integer_binary_op("maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); });
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (DType dtype : kFloatTypes) {
    // NaN on the left, on the right, both, and ties (half the gradient to each side).
    const Tensor a = from_vector<double>({nan, 1.0, nan, 2.0, 3.0, -1.0}, {6}).to(dtype);
    const Tensor b = from_vector<double>({1.0, nan, nan, 2.0, -3.0, 5.0}, {6}).to(dtype);
    check_cuda_matches_cpu(label("minimum/maximum with NaN and ties", {6}, dtype), {a, b},
                           [](const TensorList& in) { return TensorList{minimum(in[0], in[1]), maximum(in[0], in[1])}; });
    check_cuda_matches_cpu(label("minimum/maximum with a scalar", {6}, dtype), {a},
                           [](const TensorList& in) { return TensorList{minimum(in[0], 1.5), maximum(in[0], 1.5)}; });
  }
}

DEVICE_TEST_CASE("cuda elementwise: fmod and remainder match the CPU (signs of both operands)") {
  check_binary_op("fmod", [](const Tensor& a, const Tensor& b) { return fmod(a, b); }, Domain::real, Domain::positive);
  check_binary_op("remainder", [](const Tensor& a, const Tensor& b) { return remainder(a, b); }, Domain::real,
                  Domain::positive);
  check_unary_op("fmod by -1.5", [](const Tensor& x) { return fmod(x, -1.5); }, Domain::real);
  check_unary_op("remainder by -1.5", [](const Tensor& x) { return remainder(x, -1.5); }, Domain::real);
  for (DType dtype : {DType::i64, DType::i32}) {
    // Divisors in {-4..-1, 1..4}: both signs, never zero.
    const Tensor magnitude = sample_integers({7, 33}, dtype, 1, 5, 71);
    const Tensor divisor = mul(magnitude, sub(mul(sample_integers({7, 33}, dtype, 0, 2, 72), 2.0), 1.0));
    check_cuda_matches_cpu(label("int fmod/remainder", {7, 33}, dtype),
                           {sample_integers({7, 33}, dtype, -20, 21, 73), divisor},
                           [](const TensorList& in) { return TensorList{fmod(in[0], in[1]), remainder(in[0], in[1])}; },
                           no_gradients());
  }
}

DEVICE_TEST_CASE("cuda elementwise: lerp, addcmul, addcdiv match the CPU") {
  check_binary_op("lerp weight 0.3", [](const Tensor& a, const Tensor& b) { return lerp(a, b, 0.3); }, Domain::real,
                  Domain::real);
  check_binary_op("lerp weight 0.8", [](const Tensor& a, const Tensor& b) { return lerp(a, b, 0.8); }, Domain::real,
                  Domain::real);
  auto ternary = [](const std::string& name, const std::function<Tensor(const TensorList&)>& f, Domain third) {
    for (DType dtype : kFloatTypes) {
      auto wrap = [&f](const TensorList& in) { return TensorList{f(in)}; };
      for (const Shape& shape : kShapes) {
        check_cuda_matches_cpu(label(name, shape, dtype),
                               {sample(shape, dtype, Domain::real, 81), sample(shape, dtype, Domain::real, 82),
                                sample(shape, dtype, third, 83)},
                               wrap);
      }
      check_cuda_matches_cpu(label(name + " broadcast", {3, 4, 5}, dtype),
                             {sample({4, 5}, dtype, Domain::real, 84), sample({3, 1, 5}, dtype, Domain::real, 85),
                              sample({5}, dtype, third, 86)},
                             wrap);
      check_cuda_matches_cpu(label(name + " non-contiguous", {7, 33}, dtype),
                             {sample({33, 7}, dtype, Domain::real, 87), sample({7, 66}, dtype, Domain::real, 88),
                              sample({7, 33}, dtype, third, 89)},
                             [&f](const TensorList& in) {
                               return TensorList{f({in[0].transpose(0, 1), in[1].slice(1, 1, 66, 2), in[2]})};
                             });
    }
    check_half_forward(name,
                       {sample({7, 33}, DType::f32, Domain::real, 90), sample({7, 33}, DType::f32, Domain::real, 91),
                        sample({7, 33}, DType::f32, third, 92)},
                       [&f](const TensorList& in) { return TensorList{f(in)}; });
  };
  // lerp's weight straddles 0.5 (both formulas) and leaves [0, 1].
  ternary("lerp tensor weight", [](const TensorList& in) { return lerp(in[0], in[1], in[2]); }, Domain::real);
  ternary("addcmul", [](const TensorList& in) { return addcmul(in[0], in[1], in[2], 0.7); }, Domain::real);
  ternary("addcdiv", [](const TensorList& in) { return addcdiv(in[0], in[1], in[2], -1.3); }, Domain::positive);
  check_cuda_matches_cpu("int addcmul", {sample_integers({7, 33}, DType::i64, -9, 10, 93),
                                         sample_integers({7, 33}, DType::i64, -9, 10, 94),
                                         sample_integers({33}, DType::i64, -9, 10, 95)},
                         [](const TensorList& in) { return TensorList{addcmul(in[0], in[1], in[2], 2.0)}; },
                         no_gradients());
}

DEVICE_TEST_CASE("cuda elementwise: a broadcast add over more than one grid of threads matches the CPU") {
  // (4097, 4096) + (4096): 16.8M elements, more than grid_for's 65536 blocks x 256 threads, so the
  // grid-stride loop of the strided kernel (b broadcasts: stride 0) runs a second round.
  Generator gen(5);
  check_cuda_matches_cpu("add (4097, 4096) + (4096)", {randn({4097, 4096}, gen), randn({4096}, gen)},
                         [](const TensorList& in) { return TensorList{add(in[0], in[1])}; }, no_gradients());
}

DEVICE_TEST_CASE("cuda elementwise: a misaligned contiguous view takes the scalar path and matches the CPU") {
  // Offsets of 1 and 3 floats: contiguous, but not 16-byte aligned for the vector loads.
  auto offset_add = [](const TensorList& in) {
    return TensorList{add(in[0].narrow(0, 1, 4099), in[1].narrow(0, 3, 4099))};
  };
  for (DType dtype : kFloatTypes) {
    check_cuda_matches_cpu(label("add of offset views", {4099}, dtype),
                           {sample({4103}, dtype, Domain::real, 96), sample({4103}, dtype, Domain::real, 97)},
                           offset_add);
  }
  check_half_forward("add of offset views",
                     {sample({4103}, DType::f32, Domain::real, 96), sample({4103}, DType::f32, Domain::real, 97)},
                     offset_add);
}

// ---------------------------------------------------------------- unary

DEVICE_TEST_CASE("cuda elementwise: the float unary ops match the CPU") {
  check_unary_op("exp", [](const Tensor& x) { return exp(x); }, Domain::real);
  check_unary_op("expm1", [](const Tensor& x) { return expm1(x); }, Domain::real);
  check_unary_op("log", [](const Tensor& x) { return log(x); }, Domain::positive);
  check_unary_op("log1p", [](const Tensor& x) { return log1p(x); }, Domain::positive);
  check_unary_op("log2", [](const Tensor& x) { return log2(x); }, Domain::positive);
  check_unary_op("sqrt", [](const Tensor& x) { return sqrt(x); }, Domain::positive);
  check_unary_op("rsqrt", [](const Tensor& x) { return rsqrt(x); }, Domain::positive);
  check_unary_op("reciprocal", [](const Tensor& x) { return reciprocal(x); }, Domain::positive);
  check_unary_op("sin", [](const Tensor& x) { return sin(x); }, Domain::real);
  check_unary_op("cos", [](const Tensor& x) { return cos(x); }, Domain::real);
  check_unary_op("tan", [](const Tensor& x) { return tan(x); }, Domain::unit);
  check_unary_op("tanh", [](const Tensor& x) { return tanh(x); }, Domain::real);
  check_unary_op("sigmoid", [](const Tensor& x) { return sigmoid(x); }, Domain::real);
  check_unary_op("erf", [](const Tensor& x) { return erf(x); }, Domain::real);
  check_unary_op("erfinv", [](const Tensor& x) { return erfinv(x); }, Domain::unit);
  // Integer inputs convert to float32 first.
  check_cuda_matches_cpu("exp of int64", {sample_integers({7, 33}, DType::i64, -5, 6, 101)},
                         [](const TensorList& in) { return TensorList{exp(in[0]), sqrt(abs(in[0])), sigmoid(in[0])}; },
                         no_gradients());
  // Edges: log(0) = -inf, log(-1) = NaN, sqrt(-1) = NaN, erfinv(+-1) = +-inf, exp(+-inf). all_close
  // cannot compare infinities (inf - inf is NaN), so each result is compared by its class (NaN,
  // +inf, -inf) and its finite values.
  const double inf = std::numeric_limits<double>::infinity();
  auto by_class = [](const Tensor& y) {
    return TensorList{isnan(y), logical_and(isinf(y), gt(y, 0.0)), logical_and(isinf(y), lt(y, 0.0)),
                      where(isfinite(y), y, 0.0)};
  };
  for (DType dtype : kFloatTypes) {
    const Tensor edges = from_vector<double>({0.0, -1.0, 1.0, -1.0, inf, -inf, 0.5}, {7}).to(dtype);
    check_cuda_matches_cpu(label("unary edges", {7}, dtype), {edges},
                           [&by_class](const TensorList& in) {
                             TensorList out;
                             for (const Tensor& y : {log(in[0]), sqrt(in[0]), erfinv(in[0]), exp(in[0]), tanh(in[0]),
                                                     sigmoid(in[0]), log1p(in[0]), expm1(in[0])}) {
                               for (const Tensor& part : by_class(y)) out.push_back(part);
                             }
                             return out;
                           },
                           no_gradients());
  }
}

DEVICE_TEST_CASE("cuda elementwise: abs, sign, square and rounding match the CPU") {
  check_unary_op("abs", [](const Tensor& x) { return abs(x); }, Domain::real);
  check_unary_op("sign", [](const Tensor& x) { return sign(x); }, Domain::real);
  check_unary_op("square", [](const Tensor& x) { return square(x); }, Domain::real);
  check_unary_op("floor", [](const Tensor& x) { return floor(x); }, Domain::real);
  check_unary_op("ceil", [](const Tensor& x) { return ceil(x); }, Domain::real);
  check_unary_op("round", [](const Tensor& x) { return round(x); }, Domain::real);
  check_unary_op("trunc", [](const Tensor& x) { return trunc(x); }, Domain::real);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (DType dtype : kFloatTypes) {
    // Half-way cases round to even; sign(NaN) = 0; abs(-0.0) = 0.
    const Tensor x = from_vector<double>({0.5, 1.5, 2.5, -0.5, -2.5, nan, -0.0, 0.0}, {8}).to(dtype);
    check_cuda_matches_cpu(label("rounding ties and NaN", {8}, dtype), {x},
                           [](const TensorList& in) {
                             return TensorList{round(in[0]), floor(in[0]), ceil(in[0]), trunc(in[0]), sign(in[0]),
                                               abs(in[0])};
                           },
                           no_gradients());
  }
  for (DType dtype : {DType::i64, DType::i32, DType::u8}) {
    check_cuda_matches_cpu(label("integer keep-dtype ops", {7, 33}, dtype),
                           {sample_integers({7, 33}, dtype, dtype == DType::u8 ? 0 : -9, 10, 111)},
                           [](const TensorList& in) {
                             return TensorList{abs(in[0]), sign(in[0]), square(in[0]), floor(in[0]), round(in[0])};
                           },
                           no_gradients());
  }
}

DEVICE_TEST_CASE("cuda elementwise: clamp and isnan/isinf/isfinite match the CPU") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  check_unary_op("clamp", [](const Tensor& x) { return clamp(x, -0.5, 1.0); }, Domain::real);
  check_unary_op("clamp_min", [](const Tensor& x) { return clamp_min(x, 0.25); }, Domain::real);
  check_unary_op("clamp_max", [](const Tensor& x) { return clamp_max(x, -0.25); }, Domain::real);
  for (DType dtype : kFloatTypes) {
    // Inputs exactly on the bounds (the gradient passes there) and a NaN input (propagates).
    const Tensor x = from_vector<double>({-0.5, 1.0, 2.0, -3.0, 0.25, nan}, {6}).to(dtype);
    check_cuda_matches_cpu(label("clamp at the bounds", {6}, dtype), {x},
                           [](const TensorList& in) { return TensorList{clamp(in[0], -0.5, 1.0)}; });
    const Tensor special = from_vector<double>({nan, inf, -inf, 0.0, -1e300, 1.0}, {6}).to(dtype);
    check_cuda_matches_cpu(label("isnan/isinf/isfinite", {6}, dtype), {special},
                           [](const TensorList& in) {
                             return TensorList{isnan(in[0]), isinf(in[0]), isfinite(in[0])};
                           },
                           no_gradients());
  }
  check_half_forward("isnan/isinf/isfinite", {from_vector<double>({nan, inf, -inf, 0.0, 1e30, 1.0}, {6}).to(DType::f32)},
                     [](const TensorList& in) { return TensorList{isnan(in[0]), isinf(in[0]), isfinite(in[0])}; });
  for (DType dtype : {DType::i64, DType::i32}) {
    check_cuda_matches_cpu(label("integer clamp and isfinite", {7, 33}, dtype),
                           {sample_integers({7, 33}, dtype, -9, 10, 121)},
                           [](const TensorList& in) { return TensorList{clamp(in[0], -3.0, 4.0), isfinite(in[0])}; },
                           no_gradients());
  }
}

// ---------------------------------------------------------------- activations

DEVICE_TEST_CASE("cuda elementwise: every activation matches the CPU, forward and fused backward") {
  const std::vector<std::pair<std::string, UnaryFn>> activations = {
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"relu6", [](const Tensor& x) { return relu6(x); }},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }},
      {"elu", [](const Tensor& x) { return elu(x, 0.7); }},
      {"selu", [](const Tensor& x) { return selu(x); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"gelu tanh", [](const Tensor& x) { return gelu(x, "tanh"); }},
      {"silu", [](const Tensor& x) { return silu(x); }},
      {"mish", [](const Tensor& x) { return mish(x); }},
      {"softplus", [](const Tensor& x) { return softplus(x); }},
      {"softplus beta 2 threshold 3", [](const Tensor& x) { return softplus(x, 2.0, 3.0); }},
      {"hardswish", [](const Tensor& x) { return hardswish(x); }},
      {"hardsigmoid", [](const Tensor& x) { return hardsigmoid(x); }},
      {"hardtanh", [](const Tensor& x) { return hardtanh(x, -0.5, 2.0); }},
      {"softsign", [](const Tensor& x) { return softsign(x); }},
      {"logsigmoid", [](const Tensor& x) { return logsigmoid(x); }},
  };
  for (const auto& [name, f] : activations) check_unary_op(name, f, Domain::real);
  // glu halves a dim (its backward comes from narrow, sigmoid and mul).
  for (DType dtype : kFloatTypes) {
    check_cuda_matches_cpu(label("glu last dim", {7, 34}, dtype), {sample({7, 34}, dtype, Domain::real, 125)},
                           [](const TensorList& in) { return TensorList{glu(in[0])}; });
    check_cuda_matches_cpu(label("glu dim 0 of a transpose", {8, 33}, dtype), {sample({33, 8}, dtype, Domain::real, 126)},
                           [](const TensorList& in) { return TensorList{glu(in[0].transpose(0, 1), 0)}; });
  }
}

DEVICE_TEST_CASE("cuda elementwise: activation kinks follow the CPU's conventions") {
  // Exactly at the kinks: relu'(0) = 0, leaky_relu'(0) = slope, hardtanh/relu6 pass only inside,
  // hardswish'(-3) = -0.5 and hardswish'(3) = 1.5; softplus at its threshold.
  for (DType dtype : kFloatTypes) {
    const Tensor x = from_vector<double>({-3.0, 0.0, 3.0, 6.0, -1.0, 1.0, 20.0, -0.5, 2.0}, {9}).to(dtype);
    check_cuda_matches_cpu(label("activation kinks", {9}, dtype), {x}, [](const TensorList& in) {
      const Tensor& v = in[0];
      return TensorList{relu(v),     leaky_relu(v, 0.1), hardtanh(v, -0.5, 2.0), relu6(v),   hardswish(v),
                        hardsigmoid(v), elu(v),          softplus(v),            softplus(v, 1.0, 6.0)};
    });
  }
}

DEVICE_TEST_CASE("cuda elementwise: double backward through activations matches the CPU") {
  // The first gradient with create_graph goes through the composite (op-built) backward; the
  // harness then differentiates it once more.
  for (const char* name : {"gelu", "silu", "tanh", "sigmoid", "softplus", "elu"}) {
    const std::string op = name;
    check_cuda_matches_cpu(op + " double backward", {sample({7, 33}, DType::f64, Domain::real, 131)},
                           [op](const TensorList& in) {
                             const Tensor& x = in[0];
                             Tensor y = op == "gelu"       ? gelu(x)
                                        : op == "silu"     ? silu(x)
                                        : op == "tanh"     ? tanh(x)
                                        : op == "sigmoid"  ? sigmoid(x)
                                        : op == "softplus" ? softplus(x)
                                                           : elu(x);
                             return TensorList{autograd::grad({sum(mul(y, y))}, {x}, {}, true, true)[0]};
                           });
  }
}

// ---------------------------------------------------------------- comparisons and where

DEVICE_TEST_CASE("cuda elementwise: comparisons and logical ops match the CPU for every dtype") {
  using CompareFn = Tensor (*)(const Tensor&, const Tensor&);
  const std::vector<std::pair<std::string, CompareFn>> ops = {
      {"eq", &eq},        {"ne", &ne},           {"lt", &lt},          {"le", &le},
      {"gt", &gt},        {"ge", &ge},           {"logical_and", &logical_and},
      {"logical_or", &logical_or},               {"logical_xor", &logical_xor}};
  for (const auto& [name, f] : ops) {
    auto wrap = [f = f](const TensorList& in) { return TensorList{f(in[0], in[1])}; };
    for (DType dtype : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8}) {
      // Small integers: many ties and zeros.
      for (const Shape& shape : kShapes) {
        check_cuda_matches_cpu(label(name, shape, dtype),
                               {sample_integers(shape, dtype, 0, 4, 141), sample_integers(shape, dtype, 0, 4, 142)},
                               wrap, no_gradients());
      }
      check_cuda_matches_cpu(label(name + " broadcast", {3, 4, 5}, dtype),
                             {sample_integers({3, 1, 5}, dtype, 0, 4, 143), sample_integers({4, 5}, dtype, 0, 4, 144)},
                             wrap, no_gradients());
      check_cuda_matches_cpu(label(name + " non-contiguous", {7, 33}, dtype),
                             {sample_integers({33, 7}, dtype, 0, 4, 145), sample_integers({7, 66}, dtype, 0, 4, 146)},
                             [f = f](const TensorList& in) {
                               return TensorList{f(in[0].transpose(0, 1), in[1].slice(1, 0, 66, 2))};
                             },
                             no_gradients());
    }
    check_half_forward(name, {sample_integers({7, 33}, DType::f32, 0, 4, 147), sample_integers({7, 33}, DType::f32, 0, 4, 148)},
                       wrap);
    const Tensor flags = gt(sample({7, 33}, DType::f32, Domain::real, 149), 0.0);
    check_cuda_matches_cpu(name + " bool", {flags, gt(sample({7, 33}, DType::f32, Domain::real, 150), 0.0)}, wrap,
                           no_gradients());
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor with_nan = from_vector<double>({nan, 1.0, nan, 0.0}, {4});
  const Tensor other = from_vector<double>({nan, nan, 1.0, 0.0}, {4});
  check_cuda_matches_cpu("comparisons with NaN", {with_nan, other},
                         [](const TensorList& in) {
                           return TensorList{eq(in[0], in[1]), ne(in[0], in[1]), lt(in[0], in[1]), ge(in[0], in[1]),
                                             logical_and(in[0], in[1]), logical_not(in[0])};
                         },
                         no_gradients());
  for (DType dtype : {DType::f32, DType::i64, DType::u8, DType::bool_}) {
    check_cuda_matches_cpu(label("logical_not and scalar comparisons", {7, 33}, dtype),
                           {sample_integers({7, 33}, dtype, 0, 3, 151)},
                           [](const TensorList& in) {
                             return TensorList{logical_not(in[0]), eq(in[0], 1.0), lt(in[0], 1.5), ge(in[0], 2.0)};
                           },
                           no_gradients());
  }
}

DEVICE_TEST_CASE("cuda elementwise: where matches the CPU, forward and gradients to both branches") {
  for (DType dtype : kFloatTypes) {
    for (const Shape& shape : kShapes) {
      const Tensor condition = gt(sample(shape, DType::f32, Domain::real, 161), 0.0);
      check_cuda_matches_cpu(label("where", shape, dtype),
                             {condition, sample(shape, dtype, Domain::real, 162), sample(shape, dtype, Domain::real, 163)},
                             [](const TensorList& in) { return TensorList{where(in[0], in[1], in[2])}; });
    }
    // The condition, a and b broadcast against each other: (4, 1), (3, 1, 5), (5).
    check_cuda_matches_cpu(label("where broadcast", {3, 4, 5}, dtype),
                           {gt(sample({4, 1}, DType::f32, Domain::real, 164), 0.0),
                            sample({3, 1, 5}, dtype, Domain::real, 165), sample({5}, dtype, Domain::real, 166)},
                           [](const TensorList& in) { return TensorList{where(in[0], in[1], in[2])}; });
    check_cuda_matches_cpu(label("where non-contiguous, scalar branches", {7, 33}, dtype),
                           {gt(sample({33, 7}, DType::f32, Domain::real, 167), 0.0),
                            sample({7, 66}, dtype, Domain::real, 168)},
                           [](const TensorList& in) {
                             const Tensor c = in[0].transpose(0, 1);
                             const Tensor a = in[1].slice(1, 1, 66, 2);
                             return TensorList{where(c, a, 0.5), where(c, -2.0, a)};
                           });
  }
  for (DType dtype : {DType::i64, DType::i32, DType::u8, DType::bool_}) {
    check_cuda_matches_cpu(label("where of integers", {7, 33}, dtype),
                           {gt(sample({7, 33}, DType::f32, Domain::real, 169), 0.0),
                            sample_integers({7, 33}, dtype, 0, 2, 170), sample_integers({33}, dtype, 0, 2, 171)},
                           [](const TensorList& in) { return TensorList{where(in[0], in[1], in[2])}; }, no_gradients());
  }
  check_half_forward("where", {gt(sample({7, 33}, DType::f32, Domain::real, 172), 0.0),
                               sample({7, 33}, DType::f32, Domain::real, 173), sample({33}, DType::f32, Domain::real, 174)},
                     [](const TensorList& in) { return TensorList{where(in[0], in[1], in[2])}; });
}

// ---------------------------------------------------------------- in-place ops

namespace {

// Runs `update` on a CUDA copy and on the CPU tensor (both as (7, 33) f32 from the same values),
// through the view `view_of` of each, and checks the whole base and the version counter.
void check_inplace(const std::string& name, const std::function<Tensor(const Tensor&)>& view_of,
                   const std::function<void(Tensor&)>& update) {
  INFO("in-place " << name);
  const Tensor host = sample({7, 33}, DType::f32, Domain::positive, 181);
  const Tensor device = host.cuda();
  Tensor host_view = view_of(host), device_view = view_of(device);
  const uint32_t version = device.version();
  update(host_view);
  update(device_view);
  CHECK(device.version() > version);  // the base shares the view's counter
  CHECK(device_view.version() == device.version());
  REQUIRE(device.device().is_cuda());
  CHECK(ember::test::all_close(values(device.cpu()), values(host), 1e-5, 1e-6));
}

}  // namespace

DEVICE_TEST_CASE("cuda elementwise: in-place ops on CUDA tensors and views match the CPU") {
  const std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> views = {
      {"whole", [](const Tensor& t) { return t; }},
      {"transpose", [](const Tensor& t) { return t.transpose(0, 1); }},
      {"step-2 slice", [](const Tensor& t) { return t.slice(1, 1, 33, 2); }},
  };
  for (const auto& [view_name, view_of] : views) {
    auto other_like = [](const Tensor& self) {  // a same-shape operand on self's device
      return add(mul(ones_like(self), 0.5), 0.25);
    };
    check_inplace(view_name + " add_", view_of, [&](Tensor& t) { t.add_(other_like(t), 2.0); });
    check_inplace(view_name + " add_ scalar", view_of, [](Tensor& t) { t.add_(1.5); });
    check_inplace(view_name + " sub_", view_of, [&](Tensor& t) { t.sub_(other_like(t)); });
    check_inplace(view_name + " sub_ scalar", view_of, [](Tensor& t) { t.sub_(0.5); });
    check_inplace(view_name + " mul_", view_of, [&](Tensor& t) { t.mul_(other_like(t)); });
    check_inplace(view_name + " mul_ scalar", view_of, [](Tensor& t) { t.mul_(-3.0); });
    check_inplace(view_name + " div_", view_of, [&](Tensor& t) { t.div_(other_like(t)); });
    check_inplace(view_name + " div_ scalar", view_of, [](Tensor& t) { t.div_(4.0); });
    check_inplace(view_name + " zero_", view_of, [](Tensor& t) { t.zero_(); });
    check_inplace(view_name + " fill_", view_of, [](Tensor& t) { t.fill_(-2.5); });
    check_inplace(view_name + " clamp_", view_of, [](Tensor& t) { t.clamp_(0.5, 1.5); });
    check_inplace(view_name + " clamp_min_", view_of, [](Tensor& t) { t.clamp_min_(1.0); });
    check_inplace(view_name + " clamp_max_", view_of, [](Tensor& t) { t.clamp_max_(1.0); });
    check_inplace(view_name + " neg_", view_of, [](Tensor& t) { t.neg_(); });
    check_inplace(view_name + " exp_", view_of, [](Tensor& t) { t.exp_(); });
    check_inplace(view_name + " sqrt_", view_of, [](Tensor& t) { t.sqrt_(); });
    check_inplace(view_name + " copy_", view_of, [](Tensor& t) { t.copy_(mul(ones_like(t), 7.0)); });
  }
  // Broadcast operands: a row added into every row, a 0-d tensor, a float64 source into float32.
  check_inplace("add_ of a broadcast row", views[0].second, [](Tensor& t) {
    t.add_(arange(0, 33, 1, TensorOptions(DType::f32).device(t.device())));
  });
  check_inplace("mul_ by a 0-d tensor", views[0].second,
                [](Tensor& t) { t.mul_(scalar_tensor(3.0, TensorOptions(DType::f32).device(t.device()))); });
  check_inplace("copy_ of a float64 row", views[0].second, [](Tensor& t) {
    t.copy_(arange(0, 33, 1, TensorOptions(DType::f64).device(t.device())));
  });
  // Under NoGradGuard (an optimizer's update): the direct kernel path with self as output and input.
  check_inplace("direct add_/mul_ under NoGradGuard", views[0].second, [](Tensor& t) {
    NoGradGuard no_grad;
    t.add_(mul(ones_like(t), 2.0), -0.5);
    t.mul_(1.5);
    t.sub_(0.25);
  });
}

DEVICE_TEST_CASE("cuda elementwise: in-place ops inside a graph give the CPU's gradients") {
  Generator gen(191);
  check_cuda_matches_cpu("in-place add_/mul_/clamp_ on a non-leaf", {randn({7, 33}, gen, DType::f64), randn({33}, gen, DType::f64)},
                         [](const TensorList& in) {
                           Tensor y = mul(in[0], 2.0);
                           y.add_(in[1], 0.5);
                           y.mul_(in[1]);
                           y.clamp_(-1.0, 1.0);
                           y.exp_();
                           return TensorList{y};
                         });
  // A version bump makes a node that saved the old value refuse to run, on CUDA as on the CPU.
  const Tensor x = randn({7, 33}, gen, DType::f32).cuda().requires_grad_(true);
  Tensor y = exp(x);  // saves its output
  y.add_(1.0);
  REQUIRE_THROWS_WITH(autograd::grad({sum(y)}, {x}), Catch::Contains("version"));
}

// ---------------------------------------------------------------- devices

DEVICE_TEST_CASE("cuda elementwise: mixing CPU and CUDA tensors is an error naming both devices") {
  const Tensor host = ones({7, 33});
  const Tensor device = ones({7, 33}, Device::cuda());
  for (const auto& call : std::vector<std::function<Tensor()>>{
           [&] { return add(host, device); }, [&] { return add(device, host); }, [&] { return mul(device, host); },
           [&] { return maximum(host, device); }, [&] { return lt(device, host); },
           [&] { return where(gt(device, 0.0), device, host); }, [&] { return addcmul(device, host, device); }}) {
    try {
      call();
      FAIL("expected an ember::Error");
    } catch (const Error& e) {
      const std::string message = e.what();
      CHECK_THAT(message, Catch::Contains("cpu") && Catch::Contains("cuda:0"));
    }
  }
  Tensor target = ones({7, 33}, Device::cuda());
  REQUIRE_THROWS_WITH(target.add_(host), Catch::Contains("cpu") && Catch::Contains("cuda:0"));
  // A scalar stays on the tensor's device: no error, and the result is on CUDA.
  CHECK(add(device, 2.0).device().is_cuda());
  CHECK(where(gt(device, 0.0), 1.0, device).device().is_cuda());
}
