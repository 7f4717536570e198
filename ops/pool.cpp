// Pooling ops: API, argument checks, dispatch and backward, side by side.
// Kernels: ops/cpu/pool.cpp. Formulas: autograd/derivatives/norm.md.
//
// Every variant is turned into one PoolWindows table per axis (ops/cpu/pool.h) and runs through
// one of two differentiable cores: `max_pool_core` (backward: max_pool_scatter <-> max_pool_gather)
// and `avg_pool_core` (backward: avg_pool_adjoint_core <-> avg_pool_core). 1d pooling is 2d pooling
// with a trivial height axis, so the kernels only know (B, H, W) planes.
#include "ops/pool.h"

#include <algorithm>
#include <memory>

#include "autograd/function.h"
#include "cuda/pool.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/cpu/pool.h"
#include "ops/flops.h"

namespace ember {

namespace {
using cpu::PoolWindows;

// The two window tables of a pooling op and how many trailing dims form its plane (1 or 2).
struct PoolGeometry {
  PoolWindows rows, cols;
  int64_t plane_dims = 2;

  Shape plane_output_shape() const {
    return plane_dims == 1 ? Shape{cols.output_size()} : Shape{rows.output_size(), cols.output_size()};
  }
};
using GeometryPtr = std::shared_ptr<const PoolGeometry>;

struct Pair {
  int64_t h, w;
};

Pair pair_arg(const char* op, const char* name, const Pool2dArg& arg) {
  EMBER_CHECK(arg.values.size() == 1 || arg.values.size() == 2,
              "{}: {} must be one int or a pair of ints, got {} values", op, name, arg.values.size());
  return arg.values.size() == 1 ? Pair{arg.values[0], arg.values[0]} : Pair{arg.values[0], arg.values[1]};
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Checks an input layout: (N, C, *plane) or unbatched (C, *plane); only N may be 0.
void check_pool_shape(const char* op, const Shape& shape, int64_t plane_dims) {
  const int64_t n = static_cast<int64_t>(shape.size());
  EMBER_CHECK(n == plane_dims + 1 || n == plane_dims + 2,
              "{}: expected a {}-D (unbatched) or {}-D (batched) input, got shape {}", op, plane_dims + 1,
              plane_dims + 2, shape_str(shape));
  for (int64_t d = n == plane_dims + 2 ? 1 : 0; d < n; ++d)
    EMBER_CHECK(shape[d] > 0, "{}: only the batch dim may be empty, got shape {}", op, shape_str(shape));
  EMBER_CHECK(shape.empty() || shape[0] >= 0, "{}: negative size in shape {}", op, shape_str(shape));
}

void check_pool_input(const char* op, const Tensor& x, int64_t plane_dims) {
  check_defined(op, x, "input");  // any device (Note [CUDA dispatch]: cuda/pool.h)
  check_pool_shape(op, x.sizes(), plane_dims);
  EMBER_CHECK(is_floating(x.dtype()), "{}: expected a floating-point input, got {}", op, x.describe());
}

// Output length of one axis, PyTorch's rule: floor (or ceil) of (in + 2p - d(k-1) - 1) / s + 1,
// where in ceil mode the last window must start inside the input or the left padding.
int64_t pooled_size(const char* op, int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  int64_t out = floor_div(in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0), s) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  EMBER_CHECK(out >= 1,
              "{}: input size {} with kernel {}, stride {}, padding {}, dilation {} gives output size {}, which is too "
              "small",
              op, in, k, s, p, d, out);
  return out;
}

void check_window_params(const char* op, int64_t k, int64_t s, int64_t p, int64_t d) {
  EMBER_CHECK(k > 0, "{}: kernel_size must be positive, got {}", op, k);
  EMBER_CHECK(s > 0, "{}: stride must be positive, got {}", op, s);
  EMBER_CHECK(p >= 0, "{}: padding must be non-negative, got {}", op, p);
  EMBER_CHECK(d > 0, "{}: dilation must be positive, got {}", op, d);
  EMBER_CHECK(p <= k / 2, "{}: padding should be at most half of kernel size, got padding {} for kernel {}", op, p,
              k);
}

// Max-pool windows along one axis: positions start0 + j*d (j < k) that land inside [0, in).
PoolWindows max_windows(const char* op, int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  check_window_params(op, k, s, p, d);
  const int64_t out = pooled_size(op, in, k, s, p, d, ceil_mode);
  PoolWindows w;
  w.input_size = in;
  w.step = d;
  w.kernel = k;
  w.stride = s;
  w.padding = p;
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start0 = o * s - p;
    int64_t start = start0;
    if (start < 0) start += ((-start + d - 1) / d) * d;  // first tap at or after 0
    const int64_t end = std::min(start0 + (k - 1) * d + 1, in);
    EMBER_CHECK(start < end,
                "{}: pooling window {} (input size {}, kernel {}, padding {}, dilation {}) lies entirely in the "
                "padding",
                op, o, in, k, p, d);
    w.start.push_back(start);
    w.end.push_back(end);
    w.scale.push_back(1.0);
  }
  return w;
}

// Avg-pool windows along one axis. The divisor of PyTorch's avg_pool factors into one term per
// axis: the padded window length (count_include_pad) or the clipped one, so scale = 1/term.
PoolWindows avg_windows(const char* op, int64_t in, int64_t k, int64_t s, int64_t p, bool ceil_mode,
                        bool count_include_pad) {
  check_window_params(op, k, s, p, 1);
  const int64_t out = pooled_size(op, in, k, s, p, 1, ceil_mode);
  PoolWindows w;
  w.input_size = in;
  w.kernel = k;
  w.stride = s;
  w.padding = p;
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start0 = o * s - p;
    const int64_t end_padded = std::min(start0 + k, in + p);
    const int64_t start = std::max<int64_t>(start0, 0), end = std::min(end_padded, in);
    const int64_t count = count_include_pad ? end_padded - start0 : end - start;
    w.start.push_back(start);
    w.end.push_back(std::max(start, end));
    w.scale.push_back(count > 0 ? 1.0 / static_cast<double>(count) : 0.0);
  }
  return w;
}

// Adaptive windows: output o covers [floor(o*in/out), ceil((o+1)*in/out)).
PoolWindows adaptive_windows(const char* op, int64_t in, int64_t out) {
  EMBER_CHECK(out > 0, "{}: output_size must be positive, got {}", op, out);
  PoolWindows w;
  w.input_size = in;
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = (o * in) / out;
    const int64_t end = ((o + 1) * in + out - 1) / out;
    w.start.push_back(start);
    w.end.push_back(end);
    w.scale.push_back(1.0 / static_cast<double>(end - start));
  }
  return w;
}

// The height axis of a 1d op: one row, read once.
PoolWindows trivial_axis() {
  PoolWindows w;
  w.input_size = 1;
  w.start = {0};
  w.end = {1};
  w.scale = {1.0};
  return w;
}

GeometryPtr geometry_1d(PoolWindows cols) {
  return std::make_shared<const PoolGeometry>(PoolGeometry{trivial_axis(), std::move(cols), 1});
}
GeometryPtr geometry_2d(PoolWindows rows, PoolWindows cols) {
  return std::make_shared<const PoolGeometry>(PoolGeometry{std::move(rows), std::move(cols), 2});
}

// `shape` with its trailing `plane_dims` dims replaced by `plane`.
Shape with_plane(const Shape& shape, int64_t plane_dims, const Shape& plane) {
  Shape out(shape.begin(), shape.end() - plane_dims);
  out.insert(out.end(), plane.begin(), plane.end());
  return out;
}

TensorOptions like(const Tensor& t, DType dtype) { return TensorOptions(dtype).device(t.device()); }

int64_t plane_count(const Shape& shape, int64_t plane_dims) {
  return numel_of(Shape(shape.begin(), shape.end() - plane_dims));
}

// ---------------------------------------------------------------- differentiable cores
std::pair<Tensor, Tensor> max_pool_core(const char* op, const Tensor& x, const GeometryPtr& geometry) {
  EMBER_PROFILE_OP(op, {x}, flops::per_input_element(x, 1, 2.0 * static_cast<double>(numel_of(geometry->plane_output_shape()) * plane_count(x.sizes(), geometry->plane_dims))));
  const Shape out_shape = with_plane(x.sizes(), geometry->plane_dims, geometry->plane_output_shape());
  Tensor out = empty(out_shape, like(x, x.dtype()));
  Tensor indices = empty(out_shape, like(x, DType::i64));
  const Tensor input = x.detach().contiguous();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::max_pool2d(out, indices, input, geometry->rows, geometry->cols)); else cpu::max_pool2d(out, indices, input, geometry->rows, geometry->cols);
  const int64_t plane_dims = geometry->plane_dims;
  record_backward(op, {x}, {out, indices}, {indices}, [plane_dims](BackwardContext& ctx) -> TensorList {
    // d out[q] / d x[p] = [p == indices[q]]: route each gradient to its argmax.
    return {max_pool_scatter(ctx.grad(0), ctx.saved(0), ctx.input_shape(0), plane_dims)};
  });
  return {out, indices};
}

Tensor avg_pool_core(const char* op, const Tensor& x, const GeometryPtr& geometry);

// The adjoint of avg_pool_core: grad (lead, *out_plane) -> (lead, *in_plane).
Tensor avg_pool_adjoint_core(const char* op, const Tensor& grad, const Shape& input_shape,
                             const GeometryPtr& geometry) {
  EMBER_PROFILE_OP(op, {grad}, flops::per_input_element(grad, 1, static_cast<double>(numel_of(input_shape))));
  Tensor grad_input = empty(input_shape, like(grad, grad.dtype()));
  const Tensor g = grad.detach().contiguous();
  if (grad.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::avg_pool2d_adjoint(grad_input, g, geometry->rows, geometry->cols)); else cpu::avg_pool2d_adjoint(grad_input, g, geometry->rows, geometry->cols);
  record_backward(op, {grad}, {grad_input}, {}, [geometry](BackwardContext& ctx) -> TensorList {
    return {avg_pool_core("avg_pool2d", ctx.grad(0), geometry)};  // the adjoint of the adjoint
  });
  return grad_input;
}

Tensor avg_pool_core(const char* op, const Tensor& x, const GeometryPtr& geometry) {
  EMBER_PROFILE_OP(op, {x}, flops::per_input_element(x, 1, static_cast<double>(numel_of(geometry->plane_output_shape()) * plane_count(x.sizes(), geometry->plane_dims))));
  const Shape out_shape = with_plane(x.sizes(), geometry->plane_dims, geometry->plane_output_shape());
  Tensor out = empty(out_shape, like(x, x.dtype()));
  const Tensor input = x.detach().contiguous();
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, cuda::avg_pool2d(out, input, geometry->rows, geometry->cols)); else cpu::avg_pool2d(out, input, geometry->rows, geometry->cols);
  record_backward(op, {x}, {out}, {}, [geometry](BackwardContext& ctx) -> TensorList {
    return {avg_pool_adjoint_core("avg_pool2d_backward", ctx.grad(0), ctx.input_shape(0), geometry)};
  });
  return out;
}

int64_t plane_size(const Tensor& x, int64_t plane_dims, int64_t i) { return x.size(x.dim() - plane_dims + i); }

GeometryPtr max_geometry_2d(const char* op, const Tensor& x, const Pool2dArg& kernel_size, const Pool2dArg& stride,
                            const Pool2dArg& padding, const Pool2dArg& dilation, bool ceil_mode) {
  check_pool_input(op, x, 2);
  const Pair k = pair_arg(op, "kernel_size", kernel_size);
  const Pair s = stride.empty() ? k : pair_arg(op, "stride", stride);
  const Pair p = pair_arg(op, "padding", padding);
  const Pair d = pair_arg(op, "dilation", dilation);
  return geometry_2d(max_windows(op, plane_size(x, 2, 0), k.h, s.h, p.h, d.h, ceil_mode),
                     max_windows(op, plane_size(x, 2, 1), k.w, s.w, p.w, d.w, ceil_mode));
}

GeometryPtr avg_geometry_2d(const char* op, const Shape& input_shape, const Pool2dArg& kernel_size,
                            const Pool2dArg& stride, const Pool2dArg& padding, bool ceil_mode, bool count_include_pad,
                            std::optional<int64_t> divisor_override) {
  const Pair k = pair_arg(op, "kernel_size", kernel_size);
  const Pair s = stride.empty() ? k : pair_arg(op, "stride", stride);
  const Pair p = pair_arg(op, "padding", padding);
  const int64_t n = static_cast<int64_t>(input_shape.size());
  PoolWindows rows = avg_windows(op, input_shape[n - 2], k.h, s.h, p.h, ceil_mode, count_include_pad);
  PoolWindows cols = avg_windows(op, input_shape[n - 1], k.w, s.w, p.w, ceil_mode, count_include_pad);
  if (divisor_override) {  // a fixed divisor goes entirely on the row axis
    EMBER_CHECK(*divisor_override != 0, "{}: divisor_override must be non-zero", op);
    std::fill(rows.scale.begin(), rows.scale.end(), 1.0 / static_cast<double>(*divisor_override));
    std::fill(cols.scale.begin(), cols.scale.end(), 1.0);
  }
  return geometry_2d(std::move(rows), std::move(cols));
}

int64_t stride_1d(int64_t kernel_size, std::optional<int64_t> stride) {
  return stride ? *stride : kernel_size;
}

// Checks a (grad or x, indices) pair of max_pool_scatter / max_pool_gather.
void check_plane_indices(const char* op, const Tensor& values, const Tensor& indices, const Shape& other_shape,
                         int64_t plane_dims) {
  check_defined(op, values, "input");
  check_defined(op, indices, "indices");
  check_same_device(op, {&values, &indices});
  EMBER_CHECK(is_floating(values.dtype()), "{}: expected a floating-point tensor, got {}", op, values.describe());
  EMBER_CHECK(indices.dtype() == DType::i64, "{}: indices must be int64, got {}", op, indices.describe());
  EMBER_CHECK(plane_dims >= 1 && plane_dims <= indices.dim() && plane_dims <= static_cast<int64_t>(other_shape.size()),
              "{}: plane_dims {} does not fit indices {} and shape {}", op, plane_dims, indices.describe(),
              shape_str(other_shape));
  const Shape lead_a(indices.sizes().begin(), indices.sizes().end() - plane_dims);
  const Shape lead_b(other_shape.begin(), other_shape.end() - plane_dims);
  EMBER_CHECK(lead_a == lead_b, "{}: the dims before the plane differ: indices {} vs shape {}", op,
              indices.describe(), shape_str(other_shape));
}
}  // namespace

// ---------------------------------------------------------------- max pooling
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Pool2dArg kernel_size, Pool2dArg stride,
                                                  Pool2dArg padding, Pool2dArg dilation, bool ceil_mode) {
  const char* op = "max_pool2d";
  return max_pool_core(op, x, max_geometry_2d(op, x, kernel_size, stride, padding, dilation, ceil_mode));
}

Tensor max_pool2d(const Tensor& x, Pool2dArg kernel_size, Pool2dArg stride, Pool2dArg padding, Pool2dArg dilation,
                  bool ceil_mode) {
  return max_pool2d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode).first;
}

std::pair<Tensor, Tensor> max_pool1d_with_indices(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride,
                                                  int64_t padding, int64_t dilation, bool ceil_mode) {
  const char* op = "max_pool1d";
  check_pool_input(op, x, 1);
  const int64_t s = stride_1d(kernel_size, stride);
  return max_pool_core(op, x, geometry_1d(max_windows(op, x.size(-1), kernel_size, s, padding, dilation, ceil_mode)));
}

Tensor max_pool1d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding,
                  int64_t dilation, bool ceil_mode) {
  return max_pool1d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode).first;
}

// ---------------------------------------------------------------- average pooling
Tensor avg_pool2d(const Tensor& x, Pool2dArg kernel_size, Pool2dArg stride, Pool2dArg padding, bool ceil_mode,
                  bool count_include_pad, std::optional<int64_t> divisor_override) {
  const char* op = "avg_pool2d";
  check_pool_input(op, x, 2);
  return avg_pool_core(op, x,
                       avg_geometry_2d(op, x.sizes(), kernel_size, stride, padding, ceil_mode, count_include_pad,
                                       divisor_override));
}

Tensor avg_pool1d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding, bool ceil_mode,
                  bool count_include_pad) {
  const char* op = "avg_pool1d";
  check_pool_input(op, x, 1);
  const int64_t s = stride_1d(kernel_size, stride);
  return avg_pool_core(
      op, x, geometry_1d(avg_windows(op, x.size(-1), kernel_size, s, padding, ceil_mode, count_include_pad)));
}

Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, Pool2dArg kernel_size, Pool2dArg stride,
                           Pool2dArg padding, bool ceil_mode, bool count_include_pad,
                           std::optional<int64_t> divisor_override) {
  const char* op = "avg_pool2d_backward";
  check_pool_input(op, grad, 2);
  check_pool_shape(op, input_shape, 2);
  GeometryPtr geometry = avg_geometry_2d(op, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                         divisor_override);
  const Shape expected = with_plane(input_shape, 2, geometry->plane_output_shape());
  EMBER_CHECK(grad.sizes() == expected, "{}: grad {} does not match the pooled shape {} of input shape {}", op,
              grad.describe(), shape_str(expected), shape_str(input_shape));
  return avg_pool_adjoint_core(op, grad, input_shape, geometry);
}

// ---------------------------------------------------------------- adaptive pooling
Tensor adaptive_avg_pool2d(const Tensor& x, Pool2dArg output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_pool_input(op, x, 2);
  const Pair o = pair_arg(op, "output_size", output_size);
  return avg_pool_core(op, x,
                       geometry_2d(adaptive_windows(op, x.size(-2), o.h), adaptive_windows(op, x.size(-1), o.w)));
}

Tensor adaptive_avg_pool1d(const Tensor& x, int64_t output_size) {
  const char* op = "adaptive_avg_pool1d";
  check_pool_input(op, x, 1);
  return avg_pool_core(op, x, geometry_1d(adaptive_windows(op, x.size(-1), output_size)));
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad, const Shape& input_shape) {
  const char* op = "adaptive_avg_pool2d_backward";
  check_pool_input(op, grad, 2);
  check_pool_shape(op, input_shape, 2);
  EMBER_CHECK(grad.dim() == static_cast<int64_t>(input_shape.size()),
              "{}: grad {} and input shape {} differ in rank", op, grad.describe(), shape_str(input_shape));
  GeometryPtr geometry = geometry_2d(adaptive_windows(op, input_shape[input_shape.size() - 2], grad.size(-2)),
                                     adaptive_windows(op, input_shape.back(), grad.size(-1)));
  const Shape expected = with_plane(input_shape, 2, geometry->plane_output_shape());
  EMBER_CHECK(grad.sizes() == expected, "{}: grad {} does not match input shape {}", op, grad.describe(),
              shape_str(input_shape));
  return avg_pool_adjoint_core(op, grad, input_shape, geometry);
}

std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& x, Pool2dArg output_size) {
  const char* op = "adaptive_max_pool2d";
  check_pool_input(op, x, 2);
  const Pair o = pair_arg(op, "output_size", output_size);
  return max_pool_core(op, x,
                       geometry_2d(adaptive_windows(op, x.size(-2), o.h), adaptive_windows(op, x.size(-1), o.w)));
}

Tensor adaptive_max_pool2d(const Tensor& x, Pool2dArg output_size) {
  return adaptive_max_pool2d_with_indices(x, output_size).first;
}

std::pair<Tensor, Tensor> adaptive_max_pool1d_with_indices(const Tensor& x, int64_t output_size) {
  const char* op = "adaptive_max_pool1d";
  check_pool_input(op, x, 1);
  return max_pool_core(op, x, geometry_1d(adaptive_windows(op, x.size(-1), output_size)));
}

Tensor adaptive_max_pool1d(const Tensor& x, int64_t output_size) {
  return adaptive_max_pool1d_with_indices(x, output_size).first;
}

// ---------------------------------------------------------------- scatter / gather helpers
Tensor max_pool_scatter(const Tensor& grad, const Tensor& indices, const Shape& input_shape, int64_t plane_dims) {
  EMBER_PROFILE_OP("max_pool_scatter", {grad, indices}, flops::movement({grad, indices}, static_cast<double>(numel_of(input_shape))));
  const char* op = "max_pool_scatter";
  check_plane_indices(op, grad, indices, input_shape, plane_dims);
  EMBER_CHECK(grad.sizes() == indices.sizes(), "{}: grad {} and indices {} differ in shape", op, grad.describe(),
              indices.describe());
  for (int64_t size : input_shape) EMBER_CHECK(size >= 0, "{}: negative size in shape {}", op, shape_str(input_shape));
  const int64_t planes = plane_count(input_shape, plane_dims);
  const int64_t plane_in = numel_of(Shape(input_shape.end() - plane_dims, input_shape.end()));
  const int64_t plane_out = numel_of(Shape(indices.sizes().end() - plane_dims, indices.sizes().end()));
  Tensor out = empty(input_shape, like(grad, grad.dtype()));
  const Tensor out_planes = out.view({planes, plane_in});
  const Tensor grad_planes = grad.detach().contiguous().view({planes, plane_out});
  const Tensor index_planes = indices.contiguous().view({planes, plane_out});
  bool valid = false;
  if (grad.device().is_cuda()) EMBER_CUDA_KERNEL(op, valid = cuda::plane_scatter_add(out_planes, grad_planes, index_planes)); else valid = cpu::plane_scatter_add(out_planes, grad_planes, index_planes);
  EMBER_CHECK(valid, "{}: an index in {} lies outside the plane of {} elements (input shape {})", op,
              indices.describe(), plane_in, shape_str(input_shape));
  record_backward(op, {grad}, {out}, {indices}, [plane_dims](BackwardContext& ctx) -> TensorList {
    return {max_pool_gather(ctx.grad(0), ctx.saved(0), plane_dims)};
  });
  return out;
}

Tensor max_pool_gather(const Tensor& x, const Tensor& indices, int64_t plane_dims) {
  EMBER_PROFILE_OP("max_pool_gather", {x, indices}, flops::movement({x, indices}, flops::numel(indices)));
  const char* op = "max_pool_gather";
  check_defined(op, x, "input");
  check_plane_indices(op, x, indices, x.sizes(), plane_dims);
  const int64_t planes = plane_count(x.sizes(), plane_dims);
  const int64_t plane_in = numel_of(Shape(x.sizes().end() - plane_dims, x.sizes().end()));
  const int64_t plane_out = numel_of(Shape(indices.sizes().end() - plane_dims, indices.sizes().end()));
  Tensor out = empty(indices.sizes(), like(x, x.dtype()));
  const Tensor out_planes = out.view({planes, plane_out});
  const Tensor x_planes = x.detach().contiguous().view({planes, plane_in});
  const Tensor index_planes = indices.contiguous().view({planes, plane_out});
  bool valid = false;
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(op, valid = cuda::plane_gather(out_planes, x_planes, index_planes)); else valid = cpu::plane_gather(out_planes, x_planes, index_planes);
  EMBER_CHECK(valid, "{}: an index in {} lies outside the plane of {} elements (input {})", op, indices.describe(),
              plane_in, x.describe());
  record_backward(op, {x}, {out}, {indices}, [plane_dims](BackwardContext& ctx) -> TensorList {
    return {max_pool_scatter(ctx.grad(0), ctx.saved(0), ctx.input_shape(0), plane_dims)};
  });
  return out;
}

}  // namespace ember
