// Backend consistency for the library-backed families: matmul / linear (cuBLAS, cuBLASLt) and
// conv (cuDNN), CUDA against the CPU, forward and backward (test/cuda/consistency.h), over awkward
// shapes, views and dtypes. The host-side planning these kernels rest on (cuda/gemm_plan.h,
// cuda/conv_plan.h, cuda/math_mode.h) is pure logic and is checked here in every build by plain
// TEST_CASEs that emulate the libraries' conventions on the CPU.
// Twins: cuda/matmul.cpp, cuda/conv.cpp, ops/matmul.cpp, ops/conv.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/conv_plan.h"
#include "cuda/gemm_plan.h"
#include "cuda/math_mode.h"
#include "ember.h"
#include "helpers.h"
#include "test/cuda/consistency.h"
#include "test/cuda/device_test.h"
#if EMBER_WITH_CUDA
#include "cuda/conv.h"
#endif

using namespace ember;
using ember::test::all_close;
using ember::test::check_cuda_matches_cpu;
using ember::test::values;

// ================================================================ host-only planning (everywhere)
namespace {

using cuda::GemmOperand;
using cuda::GemmPlan;
using cuda::GemmTranspose;

// A row-major (rows, cols) operand stored in `memory` with the given strides.
struct StridedMatrix {
  int64_t rows, cols, row_stride, col_stride;
  std::vector<double> memory;
  double at(int64_t r, int64_t c) const { return memory[static_cast<size_t>(r * row_stride + c * col_stride)]; }
};

// Fills the elements a (rows, cols) view touches with distinct values; the gaps stay NaN so a
// plan that reads outside the view shows up.
StridedMatrix make_matrix(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride, double seed) {
  const int64_t extent = (rows - 1) * row_stride + (cols - 1) * col_stride + 1;
  StridedMatrix m{rows, cols, row_stride, col_stride, std::vector<double>(static_cast<size_t>(extent), NAN)};
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      m.memory[static_cast<size_t>(r * row_stride + c * col_stride)] = seed + 0.37 * r - 0.11 * c + 0.01 * r * c;
  return m;
}

// A dense row-major copy: what cuda/matmul.cpp's packing does for a plan that needs a copy.
StridedMatrix pack(const StridedMatrix& m) {
  StridedMatrix out{m.rows, m.cols, std::max<int64_t>(1, m.cols), 1, std::vector<double>(static_cast<size_t>(m.rows * m.cols))};
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) out.memory[static_cast<size_t>(r * m.cols + c)] = m.at(r, c);
  return out;
}

// cuBLAS's definition of C = op(A)·op(B), column-major, on raw memory: op N reads A[i + l·lda],
// op T reads A[l + i·lda]. Returns C as column-major (m, n) with leading dimension ldc.
std::vector<double> column_major_gemm(const GemmPlan& plan, const std::vector<double>& A,
                                      const std::vector<double>& B) {
  std::vector<double> C(static_cast<size_t>(plan.ldc * plan.n), 0.0);
  for (int64_t i = 0; i < plan.m; ++i) {
    for (int64_t j = 0; j < plan.n; ++j) {
      double sum = 0;
      for (int64_t l = 0; l < plan.k; ++l) {
        const double a = plan.lib_a.op == GemmTranspose::none ? A.at(static_cast<size_t>(i + l * plan.lib_a.ld))
                                                              : A.at(static_cast<size_t>(l + i * plan.lib_a.ld));
        const double b = plan.lib_b.op == GemmTranspose::none ? B.at(static_cast<size_t>(l + j * plan.lib_b.ld))
                                                              : B.at(static_cast<size_t>(j + l * plan.lib_b.ld));
        sum += a * b;
      }
      C[static_cast<size_t>(i + j * plan.ldc)] = sum;
    }
  }
  return C;
}

// Plans a (M, K) · b (K, N), packs what the plan says to, runs the emulated library call and
// compares the row-major result with the naive product. Returns whether anything was packed.
bool check_planned_product(const StridedMatrix& a_in, const StridedMatrix& b_in) {
  const int64_t M = a_in.rows, K = a_in.cols, N = b_in.cols;
  StridedMatrix a = a_in, b = b_in;
  GemmPlan plan = cuda::plan_row_major_gemm(M, N, K, a.row_stride, a.col_stride, b.row_stride, b.col_stride);
  const bool packed = plan.lib_a.needs_copy || plan.lib_b.needs_copy;
  if (plan.lib_b.needs_copy) a = pack(a);
  if (plan.lib_a.needs_copy) b = pack(b);
  plan = cuda::plan_row_major_gemm(M, N, K, a.row_stride, a.col_stride, b.row_stride, b.col_stride);
  REQUIRE_FALSE(plan.lib_a.needs_copy);
  REQUIRE_FALSE(plan.lib_b.needs_copy);
  // The library's A is b and its B is a (Note [Row-major GEMM on column-major BLAS]).
  const std::vector<double> C = column_major_gemm(plan, b.memory, a.memory);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double expected = 0;
      for (int64_t l = 0; l < K; ++l) expected += a_in.at(i, l) * b_in.at(l, j);
      INFO("M " << M << " N " << N << " K " << K << " at (" << i << ", " << j << ")");
      REQUIRE(C[static_cast<size_t>(i * N + j)] == Approx(expected).epsilon(1e-12));  // row-major (M, N), ld N
    }
  }
  return packed;
}

}  // namespace

TEST_CASE("gemm plan: hand-worked layouts", "[cuda][matmul]") {
  // Dense (4, 3): rows contiguous -> op N with ld = row stride.
  CHECK(cuda::plan_gemm_operand(4, 3, 3, 1) == GemmOperand{false, GemmTranspose::none, 3});
  // The transpose of a dense (3, 4) matrix, strides (1, 4): op T with ld = column stride.
  CHECK(cuda::plan_gemm_operand(4, 3, 1, 4) == GemmOperand{false, GemmTranspose::transpose, 4});
  // Every other row of a (8, 3) matrix: rows still contiguous, ld = 6.
  CHECK(cuda::plan_gemm_operand(4, 3, 6, 1) == GemmOperand{false, GemmTranspose::none, 6});
  // Every other column: neither layout -> copy (then dense, ld = cols).
  CHECK(cuda::plan_gemm_operand(4, 3, 6, 2) == GemmOperand{true, GemmTranspose::none, 3});
  // An expanded (broadcast) row dim has stride 0: copy.
  CHECK(cuda::plan_gemm_operand(4, 3, 0, 1).needs_copy);
  // Size-1 dims carry any stride: a (1, 5) row with row stride 99 and a (5, 1) column with
  // column stride 0 both pass.
  CHECK(cuda::plan_gemm_operand(1, 5, 99, 1) == GemmOperand{false, GemmTranspose::none, 5});
  CHECK(cuda::plan_gemm_operand(5, 1, 1, 0) == GemmOperand{false, GemmTranspose::none, 1});
  // A leading dimension beyond cuBLAS's int is not passed as is.
  CHECK(cuda::plan_gemm_operand(2, 3, int64_t{1} << 33, 1).needs_copy);

  // linear: x (M, K) dense, Wᵀ with W (N, K) dense, i.e. b = (K, N) with strides (1, K).
  const GemmPlan plan = cuda::plan_row_major_gemm(/*M=*/5, /*N=*/7, /*K=*/3, 3, 1, 1, 3);
  CHECK(plan.m == 7);
  CHECK(plan.n == 5);
  CHECK(plan.k == 3);
  CHECK(plan.lib_a == GemmOperand{false, GemmTranspose::transpose, 3});  // W read in place
  CHECK(plan.lib_b == GemmOperand{false, GemmTranspose::none, 3});
  CHECK(plan.ldc == 7);
}

TEST_CASE("gemm plan: the emulated column-major call gives the row-major product for every stride pattern",
          "[cuda][matmul]") {
  struct Layout {
    const char* name;
    std::function<StridedMatrix(int64_t rows, int64_t cols, double seed)> make;
  };
  const std::vector<Layout> layouts = {
      {"dense", [](int64_t r, int64_t c, double s) { return make_matrix(r, c, std::max<int64_t>(1, c), 1, s); }},
      {"transposed", [](int64_t r, int64_t c, double s) { return make_matrix(r, c, 1, std::max<int64_t>(1, r), s); }},
      {"row gaps", [](int64_t r, int64_t c, double s) { return make_matrix(r, c, c + 3, 1, s); }},
      {"column gaps", [](int64_t r, int64_t c, double s) { return make_matrix(r, c, 1, r + 2, s); }},
      {"every other column", [](int64_t r, int64_t c, double s) { return make_matrix(r, c, 2 * c, 2, s); }},
      {"odd strides", [](int64_t r, int64_t c, double s) { return make_matrix(r, c, 3 * c + 1, 3, s); }},
  };
  const int64_t shapes[][3] = {{1, 1, 1}, {7, 5, 33}, {1, 5, 33}, {7, 1, 33}, {3, 4, 1}, {6, 9, 2}};
  int packed = 0, total = 0;
  for (const auto& shape : shapes) {
    const int64_t M = shape[0], N = shape[1], K = shape[2];
    for (const Layout& la : layouts) {
      for (const Layout& lb : layouts) {
        INFO("a " << la.name << ", b " << lb.name);
        packed += check_planned_product(la.make(M, K, 0.5), lb.make(K, N, -0.25)) ? 1 : 0;
        ++total;
      }
    }
  }
  // Only the layouts with strided rows and columns are copied: a sanity check that the planner
  // does not copy everything (which would pass the comparison too).
  CHECK(packed > 0);
  CHECK(packed < total);
}

TEST_CASE("conv plan: cuDNN's symmetric padding or an explicit buffer gives the geometry's output",
          "[cuda][conv]") {
  // conv2d, 3x3, pad 1: (in + 2 - 3) / 1 + 1 = in.
  CHECK(cuda::plan_conv_axis({.in = 9, .out = 9, .kernel = 3, .stride = 1, .pad = 1, .dilation = 1}) ==
        cuda::ConvAxisPlan{true, 1, 9, 0, 9});
  // padding="same" with kernel 4: pad 1 before, 2 after; cuDNN alone would give 8, not 9, so the
  // input goes into a zeroed buffer of (9 - 1) + 4 = 12 elements at offset 1.
  CHECK(cuda::plan_conv_axis({.in = 9, .out = 9, .kernel = 4, .stride = 1, .pad = 1, .dilation = 1}) ==
        cuda::ConvAxisPlan{false, 0, 12, 1, 9});
  // conv_transpose2d stride 1, dilation 2, output_padding 1: the convolution's input (the
  // transposed conv's output) has a last row that no output reads; the buffer leaves it out.
  // in = (out - 1) - 2·pad + span + 1 with out 5, pad 1, span 5 -> 8; buffer (5 - 1) + 5 = 9,
  // input at offset 1, so 8 rows are copied.
  CHECK(cuda::plan_conv_axis({.in = 8, .out = 5, .kernel = 3, .stride = 1, .pad = 1, .dilation = 2}) ==
        cuda::ConvAxisPlan{false, 0, 9, 1, 8});

  // Emulation: the 1-D convolution y[o] = Σ_j x[o·s − pad + j·d] (zero outside [0, in)) against
  // cuDNN's definition on the planned input, over strides, dilations, paddings and every output
  // length the geometry can name (the natural one, 'same' with one more, output_padding).
  int explicit_axes = 0;
  for (int64_t in = 1; in <= 9; ++in)
    for (int64_t kernel = 1; kernel <= 4; ++kernel)
      for (int64_t stride = 1; stride <= 3; ++stride)
        for (int64_t dilation = 1; dilation <= 2; ++dilation)
          for (int64_t pad = 0; pad <= 3; ++pad) {
            const int64_t span = dilation * (kernel - 1) + 1;
            const int64_t natural = cuda::symmetric_conv_out(in, pad, span, stride);
            for (int64_t out = std::max<int64_t>(1, natural - 1); out <= natural + 1; ++out) {
              const cuda::ConvAxis axis{in, out, kernel, stride, pad, dilation};
              const cuda::ConvAxisPlan plan = cuda::plan_conv_axis(axis);
              INFO("in " << in << " out " << out << " kernel " << kernel << " stride " << stride << " dilation "
                         << dilation << " pad " << pad);
              REQUIRE(cuda::symmetric_conv_out(plan.library_in, plan.library_pad, span, stride) == out);
              explicit_axes += plan.direct ? 0 : 1;
              std::vector<double> x(static_cast<size_t>(in));
              for (int64_t i = 0; i < in; ++i) x[static_cast<size_t>(i)] = 1.0 + i * i;  // distinct values
              std::vector<double> library_x(static_cast<size_t>(plan.library_in), 0.0);
              if (plan.direct) {
                library_x = x;
              } else {
                for (int64_t i = 0; i < plan.copied; ++i) library_x[static_cast<size_t>(i + plan.offset)] = x[static_cast<size_t>(i)];
              }
              for (int64_t o = 0; o < out; ++o) {
                double expected = 0, library = 0;
                for (int64_t j = 0; j < kernel; ++j) {
                  const int64_t i = o * stride - pad + j * dilation;
                  if (i >= 0 && i < in) expected += x[static_cast<size_t>(i)] * (j + 1);
                  const int64_t li = o * stride - plan.library_pad + j * dilation;
                  if (li >= 0 && li < plan.library_in) library += library_x[static_cast<size_t>(li)] * (j + 1);
                }
                REQUIRE(library == expected);
              }
            }
          }
  CHECK(explicit_axes > 0);
}

TEST_CASE("conv plan: the algorithm-cache key tells every field apart, and the cache chooses once per key",
          "[cuda][conv]") {
  const cuda::ConvKey base{cuda::ConvDirection::forward, 0, 0, false, 8, 3, 16, 1, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1};
  std::vector<cuda::ConvKey> variants;
  auto vary = [&](auto mutate) {
    cuda::ConvKey k = base;
    mutate(k);
    variants.push_back(k);
  };
  vary([](cuda::ConvKey& k) { k.direction = cuda::ConvDirection::backward_data; });
  vary([](cuda::ConvKey& k) { k.direction = cuda::ConvDirection::backward_filter; });
  vary([](cuda::ConvKey& k) { k.device = 1; });
  vary([](cuda::ConvKey& k) { k.dtype = 1; });
  vary([](cuda::ConvKey& k) { k.allow_tf32 = true; });
  vary([](cuda::ConvKey& k) { k.batch = 9; });
  vary([](cuda::ConvKey& k) { k.in_channels = 4; });
  vary([](cuda::ConvKey& k) { k.out_channels = 17; });
  vary([](cuda::ConvKey& k) { k.groups = 3; });
  vary([](cuda::ConvKey& k) { k.in_h = 31; });
  vary([](cuda::ConvKey& k) { k.in_w = 31; });
  vary([](cuda::ConvKey& k) { k.out_h = 30; });
  vary([](cuda::ConvKey& k) { k.out_w = 30; });
  vary([](cuda::ConvKey& k) { k.kernel_h = 5; });
  vary([](cuda::ConvKey& k) { k.kernel_w = 5; });
  vary([](cuda::ConvKey& k) { k.pad_h = 0; });
  vary([](cuda::ConvKey& k) { k.pad_w = 0; });
  vary([](cuda::ConvKey& k) { k.stride_h = 2; });
  vary([](cuda::ConvKey& k) { k.stride_w = 2; });
  vary([](cuda::ConvKey& k) { k.dilation_h = 2; });
  vary([](cuda::ConvKey& k) { k.dilation_w = 2; });
  const cuda::ConvKeyHash hash;
  for (size_t i = 0; i < variants.size(); ++i) {
    INFO("variant " << i << ": " << variants[i].str());
    CHECK_FALSE(variants[i] == base);
    CHECK(hash(variants[i]) != hash(base));
  }
  cuda::ConvKey same = base;
  CHECK(same == base);
  CHECK(hash(same) == hash(base));
  CHECK_THAT(base.str(), Catch::Contains("forward") && Catch::Contains("x(8, 3, 32, 32)"));

  cuda::ConvAlgoCache<int> cache;
  int choices = 0;
  auto choose = [&] { return ++choices * 10; };
  CHECK(cache.get_or_choose(base, choose) == 10);
  CHECK(cache.get_or_choose(same, choose) == 10);  // cached: not chosen again
  CHECK(cache.get_or_choose(variants[0], choose) == 20);
  CHECK(choices == 2);
  CHECK(cache.size() == 2);
  // A failing choice caches nothing.
  CHECK_THROWS(cache.get_or_choose(variants[1], []() -> int { throw std::runtime_error("no algorithm"); }));
  CHECK(cache.size() == 2);
}

TEST_CASE("TF32 is off by default and switchable", "[cuda]") {
  CHECK_FALSE(cuda::allow_tf32());
  cuda::set_allow_tf32(true);
  CHECK(cuda::allow_tf32());
  cuda::set_allow_tf32(false);
  CHECK_FALSE(cuda::allow_tf32());
}

// ================================================================ CUDA vs CPU (with a device)
namespace {

TensorList one(const Tensor& t) { return TensorList{t}; }

Tensor rnd(const Shape& shape, uint64_t seed, DType dtype = DType::f32) {
  Generator gen(seed);
  return randn(shape, gen, dtype);
}

const DType float_types[] = {DType::f32, DType::f64};

// A 16-bit product on CUDA against the float32 CPU result on the same (rounded) inputs. The
// CUDA side accumulates in float32 and rounds its output once, so it agrees to a few units in
// the output's last place (relative 2^-8 for bfloat16, 2^-11 for float16) plus the sum's size.
void check_half_matches_float(const std::string& name, DType dtype, const TensorList& inputs,
                              const std::function<Tensor(const TensorList&)>& f) {
  INFO(name << " in " << dtype_name(dtype));
  TensorList rounded, device;
  for (const Tensor& t : inputs) {
    rounded.push_back(t.defined() ? t.to(dtype).to(DType::f32) : t);
    device.push_back(t.defined() ? t.to(dtype).cuda() : t);
  }
  const Tensor expected = f(rounded);
  const Tensor actual = f(device);
  REQUIRE(actual.dtype() == dtype);
  REQUIRE(actual.device().is_cuda());
  const double rel = dtype == DType::bf16 ? 1.0 / 128 : 1.0 / 1024;
  double scale = 0;
  for (double v : values(expected)) scale = std::max(scale, std::fabs(v));
  CHECK(all_close(values(actual.cpu().to(DType::f64)), values(expected), 2 * rel, 2 * rel * scale + 1e-3));
}

}  // namespace

DEVICE_TEST_CASE("cuda matmul: 1-D, 2-D and batched shapes with broadcasting match the CPU") {
  struct Case {
    Shape a, b;
  };
  const std::vector<Case> cases = {
      {{1, 1}, {1, 1}},          {{7, 33}, {33, 5}},        {{33}, {33, 5}},        {{7, 33}, {33}},
      {{1000}, {1000}},          {{4, 7, 33}, {33, 5}},     {{33}, {2, 33, 5}},     {{2, 1, 7, 33}, {3, 33, 5}},
      {{3, 7, 33}, {3, 33, 1}},  {{5, 1, 33}, {1, 33, 6}},  {{130, 1025}, {1025, 70}}, {{2, 3, 4, 9}, {2, 3, 9, 8}},
      {{0, 5}, {5, 3}},          {{3, 0}, {0, 4}},          {{2, 0, 4}, {2, 4, 3}},
  };
  for (DType dtype : float_types) {
    for (const Case& c : cases) {
      INFO(shape_str(c.a) << " @ " << shape_str(c.b));
      check_cuda_matches_cpu("matmul", {rnd(c.a, 1, dtype), rnd(c.b, 2, dtype)},
                             [](const TensorList& in) { return one(matmul(in[0], in[1])); });
    }
  }
}

DEVICE_TEST_CASE("cuda matmul: transposed, sliced and expanded operands (read in place or packed)") {
  for (DType dtype : float_types) {
    INFO(dtype_name(dtype));
    // a stored (33, 7) and used transposed; b stored (5, 33) and used transposed.
    check_cuda_matches_cpu("matmul transposed", {rnd({33, 7}, 3, dtype), rnd({5, 33}, 4, dtype)},
                           [](const TensorList& in) { return one(matmul(in[0].t(), in[1].t())); });
    // every other column of a (7, 66) (packed), every other row of b (66, 5) (read in place).
    check_cuda_matches_cpu("matmul sliced", {rnd({7, 66}, 5, dtype), rnd({66, 5}, 6, dtype)},
                           [](const TensorList& in) {
                             return one(matmul(in[0].slice(1, 0, 66, 2), in[1].slice(0, 1, 66, 2)));
                           });
    // batched with the batch dim permuted to the middle, and an expanded (stride-0) matrix.
    check_cuda_matches_cpu("bmm permuted", {rnd({7, 4, 33}, 7, dtype), rnd({4, 33, 5}, 8, dtype)},
                           [](const TensorList& in) { return one(bmm(in[0].transpose(0, 1), in[1])); });
    check_cuda_matches_cpu("matmul expanded", {rnd({1, 33}, 9, dtype), rnd({33, 5}, 10, dtype)},
                           [](const TensorList& in) { return one(matmul(in[0].expand({7, 33}), in[1])); });
    check_cuda_matches_cpu("mm, dot, outer", {rnd({6, 9}, 11, dtype), rnd({9, 6}, 12, dtype), rnd({9}, 13, dtype)},
                           [](const TensorList& in) {
                             return TensorList{mm(in[0], in[1]), dot(in[2], in[2]), outer(in[2], in[2])};
                           });
    check_cuda_matches_cpu("einsum", {rnd({2, 3, 5, 4}, 14, dtype), rnd({2, 3, 6, 4}, 15, dtype)},
                           [](const TensorList& in) { return one(einsum("bhid,bhjd->bhij", {in[0], in[1]})); });
  }
}

DEVICE_TEST_CASE("cuda linear: with and without bias, batched input, non-contiguous bias") {
  for (DType dtype : float_types) {
    INFO(dtype_name(dtype));
    check_cuda_matches_cpu("linear", {rnd({7, 33}, 20, dtype), rnd({5, 33}, 21, dtype)},
                           [](const TensorList& in) { return one(linear(in[0], in[1])); });
    check_cuda_matches_cpu("linear bias", {rnd({7, 33}, 22, dtype), rnd({5, 33}, 23, dtype), rnd({5}, 24, dtype)},
                           [](const TensorList& in) { return one(linear(in[0], in[1], in[2])); });
    check_cuda_matches_cpu("linear 3-D", {rnd({2, 9, 130}, 25, dtype), rnd({1001, 130}, 26, dtype),
                                          rnd({1001}, 27, dtype)},
                           [](const TensorList& in) { return one(linear(in[0], in[1], in[2])); });
    // A strided bias (every other element) takes the copy-and-accumulate path.
    check_cuda_matches_cpu("linear strided bias", {rnd({7, 33}, 28, dtype), rnd({5, 33}, 29, dtype),
                                                   rnd({10}, 30, dtype)},
                           [](const TensorList& in) { return one(linear(in[0], in[1], in[2].slice(0, 0, 10, 2))); });
    check_cuda_matches_cpu("linear 1-D input", {rnd({33}, 31, dtype), rnd({1, 33}, 32, dtype), rnd({1}, 33, dtype)},
                           [](const TensorList& in) { return one(linear(in[0], in[1], in[2])); });
  }
}

DEVICE_TEST_CASE("cuda matmul/linear: bfloat16 and float16 accumulate in float32") {
  for (DType dtype : {DType::bf16, DType::f16}) {
    check_half_matches_float("matmul", dtype, {rnd({7, 33}, 40), rnd({33, 1001}, 41)},
                             [](const TensorList& in) { return matmul(in[0], in[1]); });
    check_half_matches_float("bmm transposed", dtype, {rnd({3, 33, 7}, 42), rnd({3, 5, 33}, 43)},
                             [](const TensorList& in) { return bmm(in[0].transpose(1, 2), in[1].transpose(1, 2)); });
    check_half_matches_float("linear bias", dtype, {rnd({64, 256}, 44), rnd({72, 256}, 45), rnd({72}, 46)},
                             [](const TensorList& in) { return linear(in[0], in[1], in[2]); });
  }
}

DEVICE_TEST_CASE("cuda matmul: TF32 when allowed stays close; integers and mixed devices are clear errors") {
  const Tensor a = rnd({64, 512}, 50), b = rnd({512, 48}, 51);
  const Tensor expected = matmul(a, b);
  cuda::set_allow_tf32(true);
  const Tensor tf32 = matmul(a.cuda(), b.cuda()).cpu();
  cuda::set_allow_tf32(false);
  // TF32 rounds inputs to 10 mantissa bits: each product is off by ~4e-4 relative, a sum of 512
  // by ~1e-2 (std), so 0.15 is over 10 standard deviations; without TF32 it is float32-close.
  CHECK(all_close(values(tf32), values(expected), 1e-2, 0.15));
  CHECK(all_close(values(matmul(a.cuda(), b.cuda()).cpu()), values(expected), 1e-4, 1e-4));

  const Tensor ints = arange(0, 6, 1, DType::i64).reshape({2, 3});
  CHECK_THROWS_WITH(matmul(ints.cuda(), ints.t().cuda()), Catch::Contains("matmul") && Catch::Contains("int64"));
  CHECK_THROWS_WITH(matmul(a, b.cuda()), Catch::Contains("cpu") && Catch::Contains("cuda:0"));
  CHECK_THROWS_WITH(linear(a.cuda(), rnd({3, 512}, 52)), Catch::Contains("linear"));
}

namespace {

struct ConvCase {
  Shape x, w;
  Size2 stride = 1;
  ConvPadding padding = 0;
  Size2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

std::string describe(const ConvCase& c) {
  return "x " + shape_str(c.x) + " w " + shape_str(c.w) + " stride (" + std::to_string(c.stride.h) + ", " +
         std::to_string(c.stride.w) + ") padding " + (c.padding.mode.empty() ? std::to_string(c.padding.size.h) + ", " + std::to_string(c.padding.size.w) : c.padding.mode) +
         " dilation (" + std::to_string(c.dilation.h) + ", " + std::to_string(c.dilation.w) + ") groups " +
         std::to_string(c.groups);
}

}  // namespace

DEVICE_TEST_CASE("cuda conv2d: strides, paddings, dilations, groups, depthwise, forward and gradients") {
  const std::vector<ConvCase> cases = {
      {{2, 3, 9, 9}, {4, 3, 3, 3}, 1, 1},                       // plain 3x3
      {{2, 3, 11, 7}, {5, 3, 3, 3}, 2, 1},                      // stride 2, odd non-square sizes
      {{1, 4, 10, 13}, {6, 4, 3, 5}, Size2(2, 3), ConvPadding(2, 1)},  // rectangular everything
      {{2, 3, 12, 12}, {4, 3, 3, 3}, 1, 2, 2},                  // dilation 2
      {{2, 6, 9, 9}, {9, 2, 3, 3}, 1, 1, 1, 3},                 // groups 3
      {{2, 8, 15, 15}, {8, 1, 7, 7}, 1, 3, 1, 8},               // depthwise 7x7
      {{2, 8, 16, 16}, {8, 1, 3, 3}, 2, 1, 1, 8},               // depthwise strided
      {{3, 16, 7, 7}, {33, 16, 1, 1}, 1, 0, 1, 1, false},       // 1x1, no bias
      {{1, 1, 1, 1}, {1, 1, 1, 1}},                             // 1x1x1x1
      {{2, 3, 9, 8}, {4, 3, 4, 2}, 1, "same"},                  // even kernel: explicit padding
      {{2, 3, 9, 8}, {4, 3, 3, 3}, 1, "same", 2},               // same + dilation
      {{1, 2, 5, 5}, {3, 2, 5, 5}, 1, "valid"},                 // kernel = image
      {{2, 64, 33, 33}, {64, 64, 3, 3}, 1, 1},                  // enough channels for tensor-core paths
  };
  for (DType dtype : float_types) {
    for (const ConvCase& c : cases) {
      INFO(describe(c) << " " << dtype_name(dtype));
      TensorList inputs = {rnd(c.x, 60, dtype), rnd(c.w, 61, dtype), c.bias ? rnd({c.w[0]}, 62, dtype) : Tensor()};
      check_cuda_matches_cpu("conv2d", inputs, [&c](const TensorList& in) {
        return one(conv2d(in[0], in[1], in[2], c.stride, c.padding, c.dilation, c.groups));
      });
    }
  }
}

DEVICE_TEST_CASE("cuda conv1d, conv_transpose2d (output_padding) and non-contiguous inputs") {
  for (DType dtype : float_types) {
    INFO(dtype_name(dtype));
    check_cuda_matches_cpu("conv1d", {rnd({2, 4, 1001}, 70, dtype), rnd({6, 2, 5}, 71, dtype), rnd({6}, 72, dtype)},
                           [](const TensorList& in) { return one(conv1d(in[0], in[1], in[2], 2, 3, 2, 2)); });
    check_cuda_matches_cpu("conv_transpose2d", {rnd({2, 4, 5, 6}, 73, dtype), rnd({4, 3, 3, 3}, 74, dtype),
                                                rnd({3}, 75, dtype)},
                           [](const TensorList& in) {
                             return one(conv_transpose2d(in[0], in[1], in[2], 2, 1, 1));
                           });
    // output_padding 1 >= stride 1 (allowed by dilation 2): the explicit-buffer path on cuDNN.
    check_cuda_matches_cpu("conv_transpose2d dilated", {rnd({2, 4, 5, 5}, 76, dtype), rnd({4, 6, 3, 3}, 77, dtype)},
                           [](const TensorList& in) {
                             return one(conv_transpose2d(in[0], in[1], Tensor(), 1, 1, 1, 2, 2));
                           });
    // channels-last storage viewed as NCHW: ops/conv.cpp packs it before cuDNN.
    check_cuda_matches_cpu("conv2d permuted input", {rnd({2, 9, 9, 3}, 78, dtype), rnd({4, 3, 3, 3}, 79, dtype)},
                           [](const TensorList& in) {
                             return one(conv2d(in[0].permute({0, 3, 1, 2}), in[1], Tensor(), 1, 1));
                           });
    check_cuda_matches_cpu("conv2d empty batch", {rnd({0, 3, 5, 5}, 80, dtype), rnd({4, 3, 3, 3}, 81, dtype)},
                           [](const TensorList& in) { return one(conv2d(in[0], in[1], Tensor(), 1, 1)); });
  }
}

DEVICE_TEST_CASE("cuda conv2d: double backward through the convolution triangle") {
  // The gradient of a gradient runs conv2d, conv_transpose2d and the weight gradient on CUDA.
  const Tensor x = rnd({2, 3, 7, 7}, 90, DType::f64), w = rnd({4, 3, 3, 3}, 91, DType::f64);
  auto grad_norm = [](const Tensor& xin, const Tensor& win) {
    const Tensor y = conv2d(xin, win, Tensor(), 2, 1);
    const TensorList g = autograd::grad({sum(mul(y, y))}, {xin, win}, {}, true, true);
    return sum(mul(g[0], g[0])) + sum(mul(g[1], g[1]));
  };
  const Tensor xh = x.clone().requires_grad_(), wh = w.clone().requires_grad_();
  const Tensor xd = x.cuda().requires_grad_(), wd = w.cuda().requires_grad_();
  const TensorList host = autograd::grad({grad_norm(xh, wh)}, {xh, wh});
  const TensorList device = autograd::grad({grad_norm(xd, wd)}, {xd, wd});
  CHECK(all_close(values(device[0].cpu()), values(host[0]), 1e-9, 1e-9));
  CHECK(all_close(values(device[1].cpu()), values(host[1]), 1e-9, 1e-9));
}

DEVICE_TEST_CASE("cuda conv2d: bfloat16/float16 and the algorithm cache") {
  for (DType dtype : {DType::bf16, DType::f16}) {
    check_half_matches_float("conv2d", dtype, {rnd({2, 16, 13, 13}, 100), rnd({32, 16, 3, 3}, 101), rnd({32}, 102)},
                             [](const TensorList& in) { return conv2d(in[0], in[1], in[2], 1, 1); });
    check_half_matches_float("depthwise", dtype, {rnd({2, 16, 13, 13}, 103), rnd({16, 1, 7, 7}, 104)},
                             [](const TensorList& in) { return conv2d(in[0], in[1], Tensor(), 1, 3, 1, 16); });
  }
#if EMBER_WITH_CUDA
  // A new shape adds one entry per direction used; repeating it adds none.
  const Tensor x = rnd({1, 5, 17, 19}, 105).cuda(), w = rnd({7, 5, 3, 3}, 106).cuda();
  const size_t before = cuda::conv_algorithm_cache_size();
  (void)conv2d(x, w, Tensor(), 1, 1);
  const size_t after_first = cuda::conv_algorithm_cache_size();
  (void)conv2d(x, w, Tensor(), 1, 1);
  CHECK(after_first == before + 1);
  CHECK(cuda::conv_algorithm_cache_size() == after_first);
#endif
}

DEVICE_TEST_CASE("cuda conv2d: mixed devices and integer inputs are clear errors") {
  const Tensor x = rnd({1, 3, 5, 5}, 110), w = rnd({2, 3, 3, 3}, 111);
  CHECK_THROWS_WITH(conv2d(x.cuda(), w), Catch::Contains("conv2d") && Catch::Contains("cuda:0"));
  CHECK_THROWS_WITH(conv2d(x.cuda(), w.cuda(), rnd({2}, 112)), Catch::Contains("conv2d"));
}
