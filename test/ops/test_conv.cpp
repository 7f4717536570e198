// Tests for ops/conv.h: forward values against hand-computed numbers and a direct six-loop
// reference, the adjoint identities between conv / conv_transpose / weight gradient, gradcheck and
// gradgradcheck (general, grouped, depthwise, dilated, strided, 'same', transposed), and bad input.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::rand64;
using ember::test::values;

namespace {

struct RefConv {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
};

// Direct definition: y[n, o, oh, ow] = b[o] + Σ_{c in group, ki, kj} x[n, c, ih, iw] · w[o, c', ki, kj].
std::vector<double> reference_conv2d(const Tensor& x, const Tensor& w, const std::vector<double>& bias, RefConv r,
                                     int64_t out_h, int64_t out_w) {
  const std::vector<double> vx = values(x), vw = values(w);
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), Cg = w.size(1), KH = w.size(2), KW = w.size(3), Og = O / r.groups;
  std::vector<double> y(static_cast<size_t>(N * O * out_h * out_w), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oh = 0; oh < out_h; ++oh)
        for (int64_t ow = 0; ow < out_w; ++ow) {
          double acc = bias.empty() ? 0.0 : bias[o];
          for (int64_t cg = 0; cg < Cg; ++cg)
            for (int64_t ki = 0; ki < KH; ++ki)
              for (int64_t kj = 0; kj < KW; ++kj) {
                const int64_t ih = oh * r.stride_h - r.pad_h + ki * r.dil_h;
                const int64_t iw = ow * r.stride_w - r.pad_w + kj * r.dil_w;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const int64_t c = (o / Og) * Cg + cg;
                acc += vx[((n * C + c) * H + ih) * W + iw] * vw[((o * Cg + cg) * KH + ki) * KW + kj];
              }
          y[((n * O + o) * out_h + oh) * out_w + ow] = acc;
        }
  return y;
}

// Scatter definition of the transposed convolution: out[n, c, ih, iw] += x[n, o, oh, ow] · w[o, c', ki, kj].
std::vector<double> reference_conv_transpose2d(const Tensor& x, const Tensor& w, RefConv r, int64_t out_h,
                                               int64_t out_w) {
  const std::vector<double> vx = values(x), vw = values(w);
  const int64_t N = x.size(0), O = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t Cg = w.size(1), KH = w.size(2), KW = w.size(3), Og = O / r.groups, C = Cg * r.groups;
  std::vector<double> out(static_cast<size_t>(N * C * out_h * out_w), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oh = 0; oh < H; ++oh)
        for (int64_t ow = 0; ow < W; ++ow)
          for (int64_t cg = 0; cg < Cg; ++cg)
            for (int64_t ki = 0; ki < KH; ++ki)
              for (int64_t kj = 0; kj < KW; ++kj) {
                const int64_t ih = oh * r.stride_h - r.pad_h + ki * r.dil_h;
                const int64_t iw = ow * r.stride_w - r.pad_w + kj * r.dil_w;
                if (ih < 0 || ih >= out_h || iw < 0 || iw >= out_w) continue;
                const int64_t c = (o / Og) * Cg + cg;
                out[((n * C + c) * out_h + ih) * out_w + iw] +=
                    vx[((n * O + o) * H + oh) * W + ow] * vw[((o * Cg + cg) * KH + ki) * KW + kj];
              }
  return out;
}

double inner(const Tensor& a, const Tensor& b) { return sum(a * b).item<double>(); }

}  // namespace

TEST_CASE("conv2d forward values by hand", "[ops][conv]") {
  Tensor x = arange(1, 10, 1, DType::f64).reshape({1, 1, 3, 3});
  Tensor ones_kernel = ones({1, 1, 2, 2}, DType::f64);
  REQUIRE(values(conv2d(x, ones_kernel)) == std::vector<double>{12, 16, 24, 28});
  // padding 1: corners see one pixel each, plus a bias of 0.5.
  Tensor padded = conv2d(x, ones_kernel, from_vector<double>({0.5}), 1, 1);
  REQUIRE(padded.sizes() == Shape{1, 1, 4, 4});
  REQUIRE(values(padded) == std::vector<double>{1.5, 3.5, 5.5, 3.5, 5.5, 12.5, 16.5, 9.5, 11.5, 24.5, 28.5, 15.5,
                                                7.5, 15.5, 17.5, 9.5});
  // stride 2 with a 1x1 kernel picks the corners; dilation 2 with a 2x2 kernel sums the corners.
  REQUIRE(values(conv2d(x, full({1, 1, 1, 1}, 2.0, DType::f64), Tensor(), 2)) == std::vector<double>{2, 6, 14, 18});
  REQUIRE(values(conv2d(x, ones_kernel, Tensor(), 1, 0, 2)) == std::vector<double>{20});
  // groups=2: channel 0 (values 1..9) with a 2x2 ones kernel, channel 1 (all 1) with a 2x2 kernel of 2s.
  std::vector<double> two_channels = values(x);
  two_channels.insert(two_channels.end(), 9, 1.0);
  Tensor grouped_x = from_vector(two_channels, {1, 2, 3, 3});
  Tensor grouped_w = from_vector<double>({1, 1, 1, 1, 2, 2, 2, 2}, {2, 1, 2, 2});
  REQUIRE(values(conv2d(grouped_x, grouped_w, Tensor(), 1, 0, 1, 2)) ==
          std::vector<double>{12, 16, 24, 28, 8, 8, 8, 8});
  // Unbatched input (C, H, W).
  REQUIRE(conv2d(x.squeeze(0), ones_kernel).sizes() == Shape{1, 2, 2});
}

TEST_CASE("conv1d and 'same' / 'valid' padding", "[ops][conv]") {
  Tensor x = from_vector<double>({1, 2, 3, 4}, {1, 1, 4});
  Tensor w = from_vector<double>({1, 0, -1}, {1, 1, 3});
  REQUIRE(values(conv1d(x, w)) == std::vector<double>{-2, -2});
  REQUIRE(values(conv1d(x, w, Tensor(), 1, "valid")) == std::vector<double>{-2, -2});
  REQUIRE(values(conv1d(x, w, Tensor(), 1, "same")) == std::vector<double>{-2, -2, -2, 3});
  REQUIRE(values(conv1d(x, w, Tensor(), 1, 1)) == std::vector<double>{-2, -2, -2, 3});
  REQUIRE(values(conv1d(x, w, from_vector<double>({1}), 2, 1)) == std::vector<double>{-1, -1});
  // Even kernel with 'same': total padding 1 goes to the right (as PyTorch): [x0+x1, ..., x3+0].
  Tensor pair = from_vector<double>({1, 1}, {1, 1, 2});
  REQUIRE(values(conv1d(x, pair, Tensor(), 1, "same")) == std::vector<double>{3, 5, 7, 4});
  // Dilation 2, 'same': y[i] = x[i-2] - x[i+2].
  REQUIRE(values(conv1d(x, w, Tensor(), 1, "same", 2)) == std::vector<double>{-3, -4, 1, 2});
  REQUIRE(conv1d(x.squeeze(0), w).sizes() == Shape{1, 2});
  // conv2d 'same' with an even kernel keeps the size.
  Tensor img = arange(1, 10, 1, DType::f64).reshape({1, 1, 3, 3});
  Tensor same = conv2d(img, ones({1, 1, 2, 2}, DType::f64), Tensor(), 1, "same");
  REQUIRE(values(same) == std::vector<double>{12, 16, 9, 24, 28, 15, 15, 17, 9});
}

TEST_CASE("conv2d matches the direct loop across geometries", "[ops][conv]") {
  struct Case {
    Shape x, w;
    RefConv r;
    bool same;
  };
  const std::vector<Case> cases = {
      {{3, 4, 7, 6}, {6, 4, 3, 3}, {1, 1, 1, 1, 1, 1, 1}, false},     // general 3x3, batch over threads
      {{1, 4, 7, 6}, {6, 2, 3, 2}, {2, 1, 0, 1, 1, 2, 2}, false},     // grouped, strided, dilated, one image
      {{2, 6, 9, 8}, {6, 1, 3, 3}, {1, 1, 2, 2, 2, 2, 6}, false},     // depthwise dilated
      {{2, 4, 11, 9}, {4, 1, 7, 7}, {1, 2, 3, 3, 1, 1, 4}, false},    // depthwise 7x7, stride (1, 2)
      {{2, 5, 4, 5}, {3, 5, 1, 1}, {1, 1, 0, 0, 1, 1, 1}, false},     // pointwise 1x1 (no im2col)
      {{2, 3, 5, 6}, {4, 3, 4, 2}, {1, 1, 1, 0, 1, 1, 1}, true},      // 'same' with even kernels
      {{2, 4, 9, 9}, {4, 1, 5, 5}, {1, 1, 4, 4, 2, 2, 4}, true},      // depthwise 'same' dilated
  };
  Generator gen(21);
  for (const Case& c : cases) {
    for (DType dtype : {DType::f64, DType::f32}) {
      Tensor x = randn(c.x, gen, dtype), w = randn(c.w, gen, dtype), b = randn({c.w[0]}, gen, dtype);
      Tensor y = c.same ? conv2d(x, w, b, 1, "same", Size2(c.r.dil_h, c.r.dil_w), c.r.groups)
                        : conv2d(x, w, b, Size2(c.r.stride_h, c.r.stride_w), ConvPadding(c.r.pad_h, c.r.pad_w),
                                 Size2(c.r.dil_h, c.r.dil_w), c.r.groups);
      RefConv r = c.r;
      int64_t out_h = y.size(2), out_w = y.size(3);
      if (c.same) {
        REQUIRE((out_h == c.x[2] && out_w == c.x[3]));
        r.pad_h = r.dil_h * (c.w[2] - 1) / 2;
        r.pad_w = r.dil_w * (c.w[3] - 1) / 2;
      } else {
        REQUIRE(out_h == (c.x[2] + 2 * r.pad_h - r.dil_h * (c.w[2] - 1) - 1) / r.stride_h + 1);
        REQUIRE(out_w == (c.x[3] + 2 * r.pad_w - r.dil_w * (c.w[3] - 1) - 1) / r.stride_w + 1);
      }
      const double tol = dtype == DType::f32 ? 1e-4 : 1e-10;
      REQUIRE(all_close(y, reference_conv2d(x, w, values(b), r, out_h, out_w), tol, tol));
    }
  }
}

namespace {

struct GeometryCase {
  Shape x, w;
  RefConv r;
};

// Forward, input and weight gradients of one geometry in f64 against the direct loops (the weight
// gradient through <dw, v> = <dy, conv(x, v)>).
void check_against_direct_loops(const GeometryCase& c, Generator& gen) {
  const RefConv& r = c.r;
  Tensor x = randn(c.x, gen, DType::f64), w = randn(c.w, gen, DType::f64);
  Tensor y = conv2d(x, w, Tensor(), Size2(r.stride_h, r.stride_w), ConvPadding(r.pad_h, r.pad_w),
                    Size2(r.dil_h, r.dil_w), r.groups);
  REQUIRE(all_close(y, reference_conv2d(x, w, {}, r, y.size(2), y.size(3)), 1e-10, 1e-10));
  Tensor dy = randn(y.sizes(), gen, DType::f64);
  // output_padding: the input rows / columns a strided conv leaves unread.
  const Size2 out_pad(x.size(2) - ((y.size(2) - 1) * r.stride_h - 2 * r.pad_h + r.dil_h * (c.w[2] - 1) + 1),
                      x.size(3) - ((y.size(3) - 1) * r.stride_w - 2 * r.pad_w + r.dil_w * (c.w[3] - 1) + 1));
  Tensor dx = conv_transpose2d(dy, w, Tensor(), Size2(r.stride_h, r.stride_w), Size2(r.pad_h, r.pad_w), out_pad,
                               r.groups, Size2(r.dil_h, r.dil_w));
  REQUIRE(dx.sizes() == x.sizes());
  REQUIRE(all_close(dx, reference_conv_transpose2d(dy, w, r, x.size(2), x.size(3)), 1e-10, 1e-10));
  Tensor v = randn(c.w, gen, DType::f64);
  Tensor dw = conv2d_weight_backward(x, dy, Size2(c.w[2], c.w[3]), Size2(r.stride_h, r.stride_w),
                                     Size2(r.pad_h, r.pad_w), Size2(r.dil_h, r.dil_w), r.groups);
  const std::vector<double> conv_v = reference_conv2d(x, v, {}, r, y.size(2), y.size(3)), vdy = values(dy);
  double expected = 0;
  for (size_t i = 0; i < vdy.size(); ++i) expected += vdy[i] * conv_v[i];
  REQUIRE(inner(dw, v) == Approx(expected).epsilon(1e-10));
}

}  // namespace

TEST_CASE("conv row bands and padded depthwise planes match the direct loops", "[ops][conv]") {
  // Column matrices over the 512 KB band budget (ops/cpu/conv.cpp, Note [Row bands]): the images
  // run in bands of output rows with uneven last bands. Stride-1 depthwise convolutions run on
  // padded planes (Note [Padded depthwise planes]), including padding wider than the kernel's
  // reach (negative padding for the flipped input-gradient stencil).
  const std::vector<GeometryCase> cases = {
      {{2, 8, 32, 32}, {4, 8, 3, 3}, {1, 1, 1, 1, 1, 1, 1}},    // 72 x 1024 f64: bands of 28 + 4 rows
      {{1, 32, 64, 61}, {4, 16, 3, 3}, {2, 2, 2, 2, 2, 1, 2}},  // strided, dilated, grouped: 14 + 14 + 4
      {{2, 3, 9, 8}, {3, 1, 3, 3}, {1, 1, 3, 1, 1, 1, 3}},      // depthwise, pad 3 > kernel reach 2
      {{1, 4, 10, 12}, {4, 1, 7, 5}, {1, 1, 3, 4, 1, 2, 4}},    // depthwise 7x5, dilated columns
  };
  Generator gen(33);
  for (const GeometryCase& c : cases) check_against_direct_loops(c, gen);
}

TEST_CASE("conv image groups match the direct loops", "[ops][conv]") {
  // Images with fewer than 256 output locations share one GEMM in groups (Note [Image groups]):
  // uneven last groups, conv groups inside image groups, strided 1x1 (the ResNet downsample), and
  // a batch big enough to be split over threads (each thread forms its own groups).
  const std::vector<GeometryCase> cases = {
      {{7, 4, 9, 7}, {6, 4, 3, 3}, {1, 1, 1, 1, 1, 1, 1}},   // L = 63: groups of 5 + 2
      {{5, 6, 7, 8}, {4, 3, 3, 2}, {2, 1, 1, 0, 1, 2, 2}},   // conv groups, stride 2, dilation 2
      {{6, 8, 8, 8}, {16, 8, 1, 1}, {2, 2, 0, 0, 1, 1, 1}},  // 1x1 stride 2 downsample, L = 16
      {{9, 32, 6, 6}, {32, 32, 3, 3}, {1, 1, 1, 1, 1, 1, 1}}, // over threads: 5 + 4 images
  };
  Generator gen(34);
  for (const GeometryCase& c : cases) check_against_direct_loops(c, gen);
}

TEST_CASE("conv_transpose2d values and the adjoint identities", "[ops][conv]") {
  Tensor x = from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2});
  REQUIRE(values(conv_transpose2d(x, ones({1, 1, 2, 2}, DType::f64))) ==
          std::vector<double>{1, 3, 2, 4, 10, 6, 3, 7, 4});
  // stride 2 places the blocks side by side; output_padding adds a zero row and column.
  Tensor strided = conv_transpose2d(x, ones({1, 1, 2, 2}, DType::f64), from_vector<double>({1}), 2, 0, 1);
  REQUIRE(strided.sizes() == Shape{1, 1, 5, 5});
  REQUIRE(values(strided) == std::vector<double>{2, 2, 3, 3, 1, 2, 2, 3, 3, 1, 4, 4, 5, 5, 1, 4, 4, 5, 5, 1, 1, 1, 1, 1, 1});
  Generator gen(7);
  struct Case {
    Shape x, w;
    RefConv r;
    int64_t out_pad;
    bool standard_size;  // output_padding < stride: conv2d maps the output back to the input's size
  };
  const std::vector<Case> cases = {
      {{2, 4, 3, 4}, {4, 3, 3, 3}, {2, 2, 1, 1, 1, 1, 1}, 1, true},
      {{1, 4, 4, 3}, {4, 2, 2, 3}, {1, 2, 0, 1, 2, 1, 2}, 1, false},  // output_padding < dilation only
      {{2, 3, 5, 5}, {3, 1, 3, 3}, {1, 1, 1, 1, 2, 2, 3}, 0, true},  // depthwise
  };
  for (const Case& c : cases) {
    Tensor in = randn(c.x, gen, DType::f64), w = randn(c.w, gen, DType::f64);
    const RefConv& r = c.r;
    Tensor y = conv_transpose2d(in, w, Tensor(), Size2(r.stride_h, r.stride_w), Size2(r.pad_h, r.pad_w),
                                c.out_pad, r.groups, Size2(r.dil_h, r.dil_w));
    REQUIRE(y.size(2) == (c.x[2] - 1) * r.stride_h - 2 * r.pad_h + r.dil_h * (c.w[2] - 1) + c.out_pad + 1);
    REQUIRE(all_close(y, reference_conv_transpose2d(in, w, r, y.size(2), y.size(3)), 1e-10, 1e-10));
    if (!c.standard_size) continue;
    // <y', convᵀ(in, w)> = <conv(y', w), in> and <conv(y', w), in> = <weight_backward(y', in), w>
    Tensor probe = randn(y.sizes(), gen, DType::f64);
    Tensor forward = conv2d(probe, w, Tensor(), Size2(r.stride_h, r.stride_w), ConvPadding(r.pad_h, r.pad_w),
                            Size2(r.dil_h, r.dil_w), r.groups);
    REQUIRE(forward.sizes() == in.sizes());
    REQUIRE(inner(probe, y) == Approx(inner(forward, in)).epsilon(1e-10));
    Tensor dw = conv2d_weight_backward(probe, in, Size2(c.w[2], c.w[3]), Size2(r.stride_h, r.stride_w),
                                       Size2(r.pad_h, r.pad_w), Size2(r.dil_h, r.dil_w), r.groups);
    REQUIRE(inner(dw, w) == Approx(inner(forward, in)).epsilon(1e-10));
  }
}

TEST_CASE("conv gradients: gradcheck and gradgradcheck", "[ops][conv]") {
  Tensor x = rand64({2, 4, 4, 3}, 31), w = rand64({4, 2, 3, 2}, 32), b = rand64({4}, 33);
  auto grouped = [](const TensorList& in) -> TensorList {
    return {conv2d(in[0], in[1], in[2], Size2(2, 1), ConvPadding(1, 0), Size2(1, 2), 2)};
  };
  REQUIRE(gradcheck(grouped, {x, w, b}));
  REQUIRE(gradgradcheck(grouped, {x, w, b}));
  // Depthwise, dilated, 'same' (asymmetric for the even width), on a transposed (non-contiguous) input.
  Tensor xt = rand64({1, 3, 4, 5}, 34), dw = rand64({3, 1, 3, 2}, 35);
  auto depthwise = [](const TensorList& in) -> TensorList {
    return {conv2d(in[0].transpose(2, 3), in[1], in[2], 1, "same", 2, 3)};
  };
  REQUIRE(gradcheck(depthwise, {xt, dw, rand64({3}, 36)}));
  REQUIRE(gradgradcheck(depthwise, {xt, dw, rand64({3}, 36)}));
  Tensor x1 = rand64({1, 2, 6}, 37), w1 = rand64({3, 2, 3}, 38);
  auto one_d = [](const TensorList& in) -> TensorList {
    return {conv1d(in[0], in[1], Tensor(), 2, 1), conv1d(in[0], in[1], Tensor(), 1, "same", 2)};
  };
  REQUIRE(gradcheck(one_d, {x1, w1}));
  REQUIRE(gradgradcheck(one_d, {x1, w1}));
  Tensor xT = rand64({1, 4, 3, 2}, 39), wT = rand64({4, 1, 2, 3}, 40), bT = rand64({2}, 41);
  auto transposed = [](const TensorList& in) -> TensorList {
    return {conv_transpose2d(in[0], in[1], in[2], 2, Size2(0, 1), 1, 2, Size2(1, 2))};
  };
  REQUIRE(gradcheck(transposed, {xT, wT, bT}));
  REQUIRE(gradgradcheck(transposed, {xT, wT, bT}));
  Tensor xw = rand64({1, 2, 4, 3}, 42), gw = rand64({1, 3, 2, 2}, 43);
  auto weight_grad = [](const TensorList& in) -> TensorList {
    return {conv2d_weight_backward(in[0], in[1], Size2(3, 2), 1, 0, 1, 1)};
  };
  REQUIRE(gradcheck(weight_grad, {xw, gw}));
  REQUIRE(gradgradcheck(weight_grad, {xw, gw}));
}

TEST_CASE("conv over threads agrees with one image at a time", "[ops][conv]") {
  // Big enough that the images run over threads (single-threaded BLAS, per-thread weight-gradient
  // buffers); compared with the same conv run image by image (the sequential path), in f32.
  // 12 channels keep it on im2col (16 and more would go to Winograd: test_winograd.cpp).
  Generator gen(50);
  Tensor x = randn({4, 12, 24, 24}, gen).requires_grad_(true);
  Tensor w = randn({12, 12, 3, 3}, gen).requires_grad_(true);
  Tensor probe = randn({4, 12, 24, 24}, gen);
  Tensor y = conv2d(x, w, Tensor(), 1, 1);
  sum(y * probe).backward();
  Tensor w_grad_sum = zeros({12, 12, 3, 3});
  for (int64_t n = 0; n < 4; ++n) {
    Tensor xn = x.detach().narrow(0, n, 1).contiguous().requires_grad_(true);
    Tensor wn = w.detach().clone().requires_grad_(true);
    Tensor yn = conv2d(xn, wn, Tensor(), 1, 1);
    REQUIRE(all_close(yn, values(y.narrow(0, n, 1)), 1e-5, 1e-5));
    sum(yn * probe.narrow(0, n, 1)).backward();
    REQUIRE(all_close(xn.grad(), values(x.grad().narrow(0, n, 1)), 1e-5, 1e-5));
    w_grad_sum = w_grad_sum + wn.grad();
  }
  REQUIRE(all_close(w.grad(), w_grad_sum, 1e-4, 1e-4));
}

TEST_CASE("empty batches and empty inner dims", "[ops][conv][matmul]") {
  REQUIRE(conv2d(zeros({0, 1, 3, 3}), ones({2, 1, 2, 2})).sizes() == Shape{0, 2, 2, 2});
  REQUIRE(conv_transpose2d(zeros({0, 1, 3, 3}), ones({1, 2, 2, 2})).sizes() == Shape{0, 2, 4, 4});
  Tensor product = matmul(ones({2, 0}), ones({0, 3}));
  REQUIRE(product.sizes() == Shape{2, 3});
  REQUIRE(values(product) == std::vector<double>(6, 0.0));
  REQUIRE(bmm(ones({0, 2, 3}), ones({0, 3, 4})).sizes() == Shape{0, 2, 4});
  REQUIRE(values(linear(ones({2, 0}), ones({3, 0}), full({3}, 2.0))) == std::vector<double>(6, 2.0));
  REQUIRE(matmul(ones({2, 2, 0}), ones({0, 3})).sizes() == Shape{2, 2, 3});
}

TEST_CASE("conv rejects bad input", "[ops][conv][errors]") {
  Tensor x = zeros({1, 4, 5, 5}), w = zeros({2, 4, 3, 3});
  REQUIRE_THROWS_OP(conv2d(zeros({4, 5}), w), "conv2d");
  REQUIRE_THROWS_OP(conv2d(x, zeros({2, 4, 3})), "conv2d");
  REQUIRE_THROWS_OP(conv2d(x, zeros({2, 3, 3, 3})), "conv2d");           // channels
  REQUIRE_THROWS_OP(conv2d(x, zeros({3, 2, 3, 3}), Tensor(), 1, 0, 1, 2), "conv2d");  // C_out % groups
  REQUIRE_THROWS_OP(conv2d(x, w, Tensor(), 1, 0, 1, 0), "conv2d");       // groups 0
  REQUIRE_THROWS_OP(conv2d(x, w, Tensor(), 0), "conv2d");                // stride 0
  REQUIRE_THROWS_OP(conv2d(x, w, Tensor(), 1, -1), "conv2d");            // negative padding
  REQUIRE_THROWS_OP(conv2d(x, w, Tensor(), 1, 0, 0), "conv2d");          // dilation 0
  REQUIRE_THROWS_OP(conv2d(x, w, Tensor(), 2, "same"), "conv2d");        // strided 'same'
  REQUIRE_THROWS_OP(conv2d(x, w, Tensor(), 1, "full"), "conv2d");
  REQUIRE_THROWS_OP(conv2d(x, zeros({2, 4, 7, 7})), "conv2d");           // kernel larger than input
  REQUIRE_THROWS_OP(conv2d(x, w, Tensor(), 1, 0, 3), "conv2d");          // dilated kernel too large
  REQUIRE_THROWS_OP(conv2d(x, w, zeros({3})), "conv2d");                 // bias size
  REQUIRE_THROWS_OP(conv2d(x, zeros({2, 4, 3, 3}, DType::f64)), "conv2d");
  REQUIRE_THROWS_OP(conv2d(zeros({1, 4, 5, 5}, DType::i64), zeros({2, 4, 3, 3}, DType::i64)), "conv2d");
  REQUIRE_THROWS_OP(conv2d(Tensor(), w), "conv2d");
  REQUIRE_THROWS_OP(conv1d(x, zeros({2, 4, 3})), "conv1d");
  REQUIRE_THROWS_OP(conv1d(zeros({1, 4, 5}), zeros({2, 3, 3})), "conv1d");
  REQUIRE_THROWS_OP(conv1d(zeros({1, 4, 2}), zeros({2, 4, 3})), "conv1d");
  REQUIRE_THROWS_OP(conv1d(zeros({1, 4, 5}), zeros({2, 4, 3}), Tensor(), 1, ConvPadding(1, 2)), "conv1d");
  REQUIRE_THROWS_OP(conv_transpose2d(x, zeros({3, 2, 3, 3})), "conv_transpose2d");  // C_in mismatch
  REQUIRE_THROWS_OP(conv_transpose2d(x, zeros({4, 2, 3, 3}), Tensor(), 1, 0, 1), "conv_transpose2d");  // op >= stride
  REQUIRE_THROWS_OP(conv_transpose2d(x, zeros({4, 2, 3, 3}), Tensor(), 1, 4), "conv_transpose2d");  // empty output
  REQUIRE_THROWS_OP(conv_transpose2d(x, zeros({4, 2, 3, 3}), zeros({4})), "conv_transpose2d");
  REQUIRE_THROWS_OP(conv_transpose2d(x, zeros({4, 2, 3, 3}), Tensor(), 1, 0, 0, 3), "conv_transpose2d");
  REQUIRE_THROWS_OP(conv2d_weight_backward(x, zeros({1, 2, 2, 2}), 3, 1, 0, 1, 1), "conv2d_weight_backward");
}
