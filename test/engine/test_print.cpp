// Tests for engine/print.h. Every expected string was produced by PyTorch 1.13
// (`/usr/bin/python3 -c "import torch; print(repr(str(<expr>)))"`, the expression is in the
// comment above each check) and pasted here. Where PyTorch prints `dtype=torch.float64` or
// `device='cuda:0'`, Ember prints `dtype=float64` / `device=cuda:0` by design (engine/print.h);
// those literals are edited accordingly and marked "(suffix adapted)".
#include <sstream>

#include "engine/print.h"
#include "helpers.h"

using namespace ember;

namespace {

Tensor f32(const std::vector<float>& v, const Shape& shape = {}) {
  return from_vector(v, shape.empty() ? Shape{static_cast<int64_t>(v.size())} : shape);
}
Tensor f64v(const std::vector<double>& v) { return from_vector(v, {static_cast<int64_t>(v.size())}); }

const double nan_v = std::numeric_limits<double>::quiet_NaN();
const double inf_v = std::numeric_limits<double>::infinity();

// Runs `body` with process-wide print options set, restoring the defaults afterwards.
template <class F>
void with_options(const PrintOptions& options, F&& body) {
  const PrintOptions saved = print_options();
  set_print_options(options);
  try {
    body();
  } catch (...) {
    set_print_options(saved);
    throw;
  }
  set_print_options(saved);
}

}  // namespace

TEST_CASE("print: float matrices like PyTorch", "[print]") {
  // torch.tensor([[1.,2.],[3.,4.]])
  CHECK(fmt::format("{}", f32({1, 2, 3, 4}, {2, 2})) == "tensor([[1., 2.],\n        [3., 4.]])");
  // torch.tensor([[1.5,2.25],[-3.125,4.]])
  CHECK(fmt::format("{}", f32({1.5f, 2.25f, -3.125f, 4.f}, {2, 2})) ==
        "tensor([[ 1.5000,  2.2500],\n        [-3.1250,  4.0000]])");
  // torch.tensor([[1.5]])
  CHECK(fmt::format("{}", f32({1.5f}, {1, 1})) == "tensor([[1.5000]])");
  // torch.arange(30.).reshape(2,3,5)
  CHECK(fmt::format("{}", arange(30).reshape({2, 3, 5})) ==
        "tensor([[[ 0.,  1.,  2.,  3.,  4.],\n         [ 5.,  6.,  7.,  8.,  9.],\n         [10., 11., 12., 13., "
        "14.]],\n\n        [[15., 16., 17., 18., 19.],\n         [20., 21., 22., 23., 24.],\n         [25., 26., "
        "27., 28., 29.]]])");
  // torch.ones(2,1,1,2)
  CHECK(fmt::format("{}", ones({2, 1, 1, 2})) == "tensor([[[[1., 1.]]],\n\n\n        [[[1., 1.]]]])");
  // torch.arange(20.).reshape(20,1)*1000.5  (first 4 rows: torch.arange(4.).reshape(4,1)*1000.5)
  CHECK(fmt::format("{}", mul(arange(4).reshape({4, 1}), 1000.5)) ==
        "tensor([[   0.0000],\n        [1000.5000],\n        [2001.0000],\n        [3001.5000]])");
}

TEST_CASE("print: 0-d tensors", "[print]") {
  // torch.tensor(3.5)
  CHECK(fmt::format("{}", scalar_tensor(3.5)) == "tensor(3.5000)");
  // torch.tensor(3)
  CHECK(fmt::format("{}", scalar_tensor(3, DType::i64)) == "tensor(3)");
  // torch.tensor(float('-inf'))
  CHECK(fmt::format("{}", scalar_tensor(-inf_v)) == "tensor(-inf)");
}

TEST_CASE("print: scientific notation when PyTorch uses it", "[print]") {
  // torch.tensor([1e-5, 1.0])
  CHECK(fmt::format("{}", f32({1e-5f, 1.f})) == "tensor([1.0000e-05, 1.0000e+00])");
  // torch.tensor([1e9, 1.0])
  CHECK(fmt::format("{}", f32({1e9f, 1.f})) == "tensor([1.0000e+09, 1.0000e+00])");
  // torch.tensor([1.5e10, 2e10])
  CHECK(fmt::format("{}", f32({1.5e10f, 2e10f})) == "tensor([1.5000e+10, 2.0000e+10])");
  // torch.tensor([0.001, 1.5, 1234.5678])
  CHECK(fmt::format("{}", f32({0.001f, 1.5f, 1234.5678f})) == "tensor([1.0000e-03, 1.5000e+00, 1.2346e+03])");
  // torch.tensor([0.00012345, 0.5])
  CHECK(fmt::format("{}", f32({0.00012345f, 0.5f})) == "tensor([1.2345e-04, 5.0000e-01])");
  // torch.tensor([123456789.0, 1.5])
  CHECK(fmt::format("{}", f32({123456789.f, 1.5f})) == "tensor([1.2346e+08, 1.5000e+00])");
  // torch.tensor([-1e-5, 1e5])
  CHECK(fmt::format("{}", f32({-1e-5f, 1e5f})) == "tensor([-1.0000e-05,  1.0000e+05])");
  // torch.tensor([100., 1e9])  (integers, but max > 1e8)
  CHECK(fmt::format("{}", f32({100.f, 1e9f})) == "tensor([1.0000e+02, 1.0000e+09])");
  // torch.tensor([1., 1001.]) vs torch.tensor([1., 1000.]): the ratio 1000 is the boundary
  CHECK(fmt::format("{}", f32({1.f, 1001.f})) == "tensor([1.0000e+00, 1.0010e+03])");
  CHECK(fmt::format("{}", f32({1.f, 1000.f})) == "tensor([   1., 1000.])");
  // torch.tensor([1e100, -1e-100], dtype=torch.float64)  (suffix adapted)
  CHECK(fmt::format("{}", f64v({1e100, -1e-100})) == "tensor([ 1.0000e+100, -1.0000e-100], dtype=float64)");
  // torch.tensor([[1e-8, 1.0],[2.0,3.0]], dtype=torch.float64)  (suffix adapted)
  CHECK(fmt::format("{}", from_vector<double>({1e-8, 1, 2, 3}, {2, 2})) ==
        "tensor([[1.0000e-08, 1.0000e+00],\n        [2.0000e+00, 3.0000e+00]], dtype=float64)");
}

TEST_CASE("print: integers, bools, nan and inf", "[print]") {
  // torch.tensor([1, 2000, -3])
  CHECK(fmt::format("{}", from_vector<int64_t>({1, 2000, -3})) == "tensor([   1, 2000,   -3])");
  // torch.tensor([2**62, -5])
  CHECK(fmt::format("{}", from_vector<int64_t>({int64_t{1} << 62, -5})) ==
        "tensor([4611686018427387904,                  -5])");
  // torch.tensor([True, False, True])
  CHECK(fmt::format("{}", from_vector<bool>({true, false, true})) == "tensor([ True, False,  True])");
  // torch.tensor([1, 2], dtype=torch.int32)  (suffix adapted)
  CHECK(fmt::format("{}", from_vector<int32_t>({1, 2})) == "tensor([1, 2], dtype=int32)");
  // torch.tensor([1, -2], dtype=torch.int32)*1000000000  (suffix adapted)
  CHECK(fmt::format("{}", from_vector<int32_t>({1000000000, -2000000000})) ==
        "tensor([ 1000000000, -2000000000], dtype=int32)");
  // torch.tensor([1, 255], dtype=torch.uint8)  (suffix adapted)
  CHECK(fmt::format("{}", from_vector<uint8_t>({1, 255})) == "tensor([  1, 255], dtype=uint8)");
  // torch.tensor([float('nan'), float('inf'), -float('inf'), 1.5])
  CHECK(fmt::format("{}", f32({float(nan_v), float(inf_v), -float(inf_v), 1.5f})) ==
        "tensor([   nan,    inf,   -inf, 1.5000])");
  // torch.tensor([float('nan'), 1.0, -2.0])
  CHECK(fmt::format("{}", f32({float(nan_v), 1.f, -2.f})) == "tensor([nan,  1., -2.])");
  // torch.tensor([float('nan')]); a negative NaN prints the same
  CHECK(fmt::format("{}", f32({float(nan_v)})) == "tensor([nan])");
  CHECK(fmt::format("{}", f32({-float(nan_v)})) == "tensor([nan])");
  // torch.tensor([0., 0.]) and torch.tensor([0., float('nan')])
  CHECK(fmt::format("{}", zeros({2})) == "tensor([0., 0.])");
  CHECK(fmt::format("{}", f32({0.f, float(nan_v)})) == "tensor([0., nan])");
  // torch.tensor([-0.0, 1.0])
  CHECK(fmt::format("{}", f32({-0.f, 1.f})) == "tensor([-0., 1.])");
}

TEST_CASE("print: dtype suffix and 16-bit floats", "[print]") {
  // torch.tensor([1.25, 2.5], dtype=torch.float64)  (suffix adapted)
  CHECK(fmt::format("{}", f64v({1.25, 2.5})) == "tensor([1.2500, 2.5000], dtype=float64)");
  // torch.tensor([1.1, 2.2], dtype=torch.bfloat16)  (suffix adapted)
  CHECK(fmt::format("{}", f32({1.1f, 2.2f}).to(DType::bf16)) == "tensor([1.1016, 2.2031], dtype=bfloat16)");
  // torch.tensor([1.1, 2.2], dtype=torch.float16)  (suffix adapted)
  CHECK(fmt::format("{}", f32({1.1f, 2.2f}).to(DType::f16)) == "tensor([1.0996, 2.1992], dtype=float16)");
  // torch.tensor([1.1e-3, 2.2e8, 3.3], dtype=torch.float16)  (2.2e8 overflows to inf; suffix adapted)
  CHECK(fmt::format("{}", f32({1.1e-3f, 2.2e8f, 3.3f}).to(DType::f16)) ==
        "tensor([1.0996e-03,        inf, 3.3008e+00], dtype=float16)");
  // torch.tensor([65504., -1.], dtype=torch.float16)  (suffix adapted)
  CHECK(fmt::format("{}", f32({65504.f, -1.f}).to(DType::f16)) ==
        "tensor([ 6.5504e+04, -1.0000e+00], dtype=float16)");
  // torch.tensor([[1.1, 2.2],[3.3,4.4]], dtype=torch.bfloat16).t()  (suffix adapted)
  CHECK(fmt::format("{}", f32({1.1f, 2.2f, 3.3f, 4.4f}, {2, 2}).to(DType::bf16).t()) ==
        "tensor([[1.1016, 3.2969],\n        [2.2031, 4.4062]], dtype=bfloat16)");
  // torch.arange(8, dtype=torch.float64)/7: the suffix does not fit and goes on its own line
  // (suffix adapted; the shorter Ember suffix still does not fit)
  CHECK(fmt::format("{}", div(arange(0, 8, 1, DType::f64), 7.0)) ==
        "tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000],\n       dtype=float64)");
}

TEST_CASE("print: empty tensors", "[print]") {
  // torch.zeros(0, 3)
  CHECK(fmt::format("{}", zeros({0, 3})) == "tensor([], size=(0, 3))");
  // torch.zeros(0)
  CHECK(fmt::format("{}", zeros({0})) == "tensor([])");
  // torch.zeros(0, dtype=torch.int64): no values to tell the dtype, so even int64 is named (suffix adapted)
  CHECK(fmt::format("{}", zeros({0}, DType::i64)) == "tensor([], dtype=int64)");
  // torch.zeros(2, 0, dtype=torch.float64)  (suffix adapted)
  CHECK(fmt::format("{}", zeros({2, 0}, DType::f64)) == "tensor([], size=(2, 0), dtype=float64)");
}

TEST_CASE("print: rows wrap at linewidth", "[print]") {
  // torch.arange(40.) / 7
  CHECK(fmt::format("{}", div(arange(40), 7.0)) ==
        "tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n        1.2857, 1.4286, "
        "1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,\n        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, "
        "3.2857, 3.4286, 3.5714, 3.7143,\n        3.8571, 4.0000, 4.1429, 4.2857, 4.4286, 4.5714, 4.7143, 4.8571, "
        "5.0000,\n        5.1429, 5.2857, 5.4286, 5.5714])");
  // torch.set_printoptions(linewidth=30); torch.arange(20)
  PrintOptions narrow;
  narrow.linewidth = 30;
  CHECK(to_string(arange(20, DType::i64), narrow) ==
        "tensor([ 0,  1,  2,  3,  4,\n         5,  6,  7,  8,  9,\n        10, 11, 12, 13, 14,\n        15, 16, "
        "17, 18, 19])");
}

TEST_CASE("print: large tensors are summarised", "[print]") {
  // torch.arange(10000)
  CHECK(fmt::format("{}", arange(10000, DType::i64)) == "tensor([   0,    1,    2,  ..., 9997, 9998, 9999])");
  // torch.arange(1001.)
  CHECK(fmt::format("{}", arange(1001)) == "tensor([   0.,    1.,    2.,  ...,  998.,  999., 1000.])");
  // torch.arange(2000.).reshape(40, 50)
  CHECK(fmt::format("{}", arange(2000).reshape({40, 50})) ==
        "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n         4.9000e+01],\n    "
        "    [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n         9.9000e+01],\n        "
        "[1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,\n         1.4900e+02],\n        ...,\n "
        "       [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,\n         1.8990e+03],\n        "
        "[1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,\n         1.9490e+03],\n        "
        "[1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,\n         1.9990e+03]])");
  // torch.arange(1200.).reshape(2,3,200): only the last dim is long enough to elide
  CHECK(fmt::format("{}", arange(1200).reshape({2, 3, 200})) ==
        "tensor([[[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9700e+02,\n          1.9800e+02, 1.9900e+02],\n      "
        "   [2.0000e+02, 2.0100e+02, 2.0200e+02,  ..., 3.9700e+02,\n          3.9800e+02, 3.9900e+02],\n         "
        "[4.0000e+02, 4.0100e+02, 4.0200e+02,  ..., 5.9700e+02,\n          5.9800e+02, 5.9900e+02]],\n\n        "
        "[[6.0000e+02, 6.0100e+02, 6.0200e+02,  ..., 7.9700e+02,\n          7.9800e+02, 7.9900e+02],\n         "
        "[8.0000e+02, 8.0100e+02, 8.0200e+02,  ..., 9.9700e+02,\n          9.9800e+02, 9.9900e+02],\n         "
        "[1.0000e+03, 1.0010e+03, 1.0020e+03,  ..., 1.1970e+03,\n          1.1980e+03, 1.1990e+03]]])");
  // torch.arange(3000).reshape(10,300).t(): summarised and non-contiguous
  CHECK(fmt::format("{}", arange(3000, DType::i64).reshape({10, 300}).t()) ==
        "tensor([[   0,  300,  600,  ..., 2100, 2400, 2700],\n        [   1,  301,  601,  ..., 2101, 2401, 2701],\n "
        "       [   2,  302,  602,  ..., 2102, 2402, 2702],\n        ...,\n        [ 297,  597,  897,  ..., 2397, "
        "2697, 2997],\n        [ 298,  598,  898,  ..., 2398, 2698, 2998],\n        [ 299,  599,  899,  ..., 2399, "
        "2699, 2999]])");
}

TEST_CASE("print: threshold, edgeitems, precision and sci_mode options", "[print]") {
  PrintOptions o;
  o.threshold = 5;
  // torch.set_printoptions(threshold=5); torch.arange(10)
  CHECK(to_string(arange(10, DType::i64), o) == "tensor([0, 1, 2,  ..., 7, 8, 9])");
  // torch.set_printoptions(threshold=5, edgeitems=2); torch.arange(10)
  o.edgeitems = 2;
  CHECK(to_string(arange(10, DType::i64), o) == "tensor([0, 1,  ..., 8, 9])");

  o = PrintOptions();
  o.threshold = 10;
  // torch.set_printoptions(threshold=10); torch.arange(64).reshape(8,8)
  CHECK(to_string(arange(64, DType::i64).reshape({8, 8}), o) ==
        "tensor([[ 0,  1,  2,  ...,  5,  6,  7],\n        [ 8,  9, 10,  ..., 13, 14, 15],\n        [16, 17, 18,  "
        "..., 21, 22, 23],\n        ...,\n        [40, 41, 42,  ..., 45, 46, 47],\n        [48, 49, 50,  ..., 53, "
        "54, 55],\n        [56, 57, 58,  ..., 61, 62, 63]])");

  o = PrintOptions();
  o.precision = 2;
  // torch.set_printoptions(precision=2); torch.tensor([0.125, 0.375, 2.675], dtype=torch.float64)
  // (ties round to even on the exact binary value, like Python)  (suffix adapted)
  CHECK(to_string(f64v({0.125, 0.375, 2.675}), o) == "tensor([0.12, 0.38, 2.67], dtype=float64)");
  // torch.set_printoptions(precision=6); torch.tensor([3.14159], dtype=torch.float64)  (suffix adapted)
  o.precision = 6;
  CHECK(to_string(f64v({3.14159}), o) == "tensor([3.141590], dtype=float64)");

  o = PrintOptions();
  o.sci_mode = true;
  // torch.set_printoptions(sci_mode=True); torch.tensor([1.5, 2.5]) / torch.tensor([1., 2.])
  CHECK(to_string(f32({1.5f, 2.5f}), o) == "tensor([1.5000e+00, 2.5000e+00])");
  CHECK(to_string(f32({1.f, 2.f}), o) == "tensor([1.0000e+00, 2.0000e+00])");
  // torch.set_printoptions(sci_mode=False); torch.tensor([1e-5, 2.5]): the width is measured in sci mode
  o.sci_mode = false;
  CHECK(to_string(f32({1e-5f, 2.5f}), o) == "tensor([    0.0000,     2.5000])");

  // The process-wide options drive fmt and <<, and a format spec overrides precision / mode.
  with_options(o, [] { CHECK(fmt::format("{}", f32({1e-5f, 2.5f})) == "tensor([    0.0000,     2.5000])"); });
  CHECK(fmt::format("{:.2}", f32({1.5f, 2.25f})) == "tensor([1.50, 2.25])");
  CHECK(fmt::format("{:.1e}", f32({1.5f, 2.25f})) == "tensor([1.5e+00, 2.2e+00])");
  std::ostringstream os;
  os << f32({1, 2});
  CHECK(os.str() == "tensor([1., 2.])");
}

TEST_CASE("print: non-contiguous tensors are read through their strides", "[print]") {
  // torch.arange(12.).reshape(3,4).t()
  CHECK(fmt::format("{}", arange(12).reshape({3, 4}).t()) ==
        "tensor([[ 0.,  4.,  8.],\n        [ 1.,  5.,  9.],\n        [ 2.,  6., 10.],\n        [ 3.,  7., 11.]])");
  // torch.arange(20.).reshape(4,5)[1:, ::2]
  CHECK(fmt::format("{}", arange(20).reshape({4, 5}).slice(0, 1, 4).slice(1, 0, 5, 2)) ==
        "tensor([[ 5.,  7.,  9.],\n        [10., 12., 14.],\n        [15., 17., 19.]])");
  // torch.arange(24.).reshape(2,3,4).permute(2,0,1)[:, 1]
  CHECK(fmt::format("{}", arange(24).reshape({2, 3, 4}).permute({2, 0, 1}).select(1, 1)) ==
        "tensor([[12., 16., 20.],\n        [13., 17., 21.],\n        [14., 18., 22.],\n        [15., 19., 23.]])");
  // torch.arange(6.).expand(2,6)  (stride 0)
  CHECK(fmt::format("{}", arange(6).expand({2, 6})) ==
        "tensor([[0., 1., 2., 3., 4., 5.],\n        [0., 1., 2., 3., 4., 5.]])");
}

TEST_CASE("print: autograd and device suffixes, header", "[print]") {
  // torch.tensor([1.,2.], requires_grad=True)
  Tensor leaf = from_vector<float>({1, 2}, {2}, TensorOptions().requires_grad(true));
  CHECK(fmt::format("{}", leaf) == "tensor([1., 2.], requires_grad=True)");
  // torch.tensor([1.,2.], requires_grad=True) * 2 -> "grad_fn=<MulBackward0>"; Ember names the node MulBackward
  CHECK(fmt::format("{}", mul(leaf, 2.0)) == "tensor([2., 4.], grad_fn=<MulBackward>)");

  // torch.zeros(0, 3, device='cuda') -> "tensor([], device='cuda:0', size=(0, 3))" (suffix adapted).
  // An empty tensor has no data to copy, so a CUDA storage can be faked without a GPU.
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(nullptr, 0, Device::cuda(0), [](void*) {});
  impl->sizes = {0, 3};
  impl->strides = {3, 1};
  CHECK(fmt::format("{}", Tensor(impl)) == "tensor([], device=cuda:0, size=(0, 3))");

  PrintOptions with_header;
  with_header.header = true;
  CHECK(to_string(f64v({1, 2}), with_header) == "float64[2] on cpu\ntensor([1., 2.], dtype=float64)");
  CHECK(fmt::format("{}", Tensor()) == "tensor(undefined)");
}

TEST_CASE("print: bad options are rejected", "[print][errors]") {
  PrintOptions o;
  o.precision = -1;
  REQUIRE_THROWS_OP(to_string(zeros({1}), o), "print");
  o = PrintOptions();
  o.linewidth = 0;
  REQUIRE_THROWS_OP(set_print_options(o), "print");
  o = PrintOptions();
  o.edgeitems = 0;
  REQUIRE_THROWS_OP(to_string(zeros({1}), o), "print");
}
