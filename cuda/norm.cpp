// cuda/norm.h: checks and unpacks the tensors for the launchers of cuda/norm.cu. Every tensor
// argument arrives contiguous from ops/norm.cpp (the broadcast gradient excepted: only its
// element 0 is read); the checks here make a broken caller fail loudly instead of reading junk.
#include "cuda/norm.h"

#include "cuda/norm_launch.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

// Null for an undefined tensor; else its data, after checking it is contiguous in x's dtype.
template <class P> P pointer(const char* op, const Tensor& t, const Tensor& x, int64_t numel) {
  if (!t.defined()) return nullptr;
  EMBER_CHECK(t.is_contiguous() && t.dtype() == x.dtype() && t.numel() == numel,
              "{}: expected a contiguous {} tensor with {} elements, got {}", op, dtype_name(x.dtype()), numel,
              t.describe());
  return static_cast<P>(t.raw_data());
}

GradPointer grad_pointer(const char* op, const GradInput& grad, const Tensor& x) {
  if (grad.broadcast) {
    EMBER_CHECK(grad.data.numel() > 0 && grad.data.dtype() == x.dtype(), "{}: bad broadcast gradient {}", op,
                grad.data.describe());
    return {grad.data.raw_data(), true};
  }
  return {pointer<const void*>(op, grad.data, x, x.numel()), false};
}

RowNormDims dims_of(const RowNormShape& s) { return {s.rows, s.channels, s.inner, s.groups, s.center}; }
BatchNormDims dims_of(const BatchNormShape& s) { return {s.batch, s.channels, s.inner}; }

}  // namespace

void row_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                      const Tensor& bias, const RowNormShape& shape, double eps) {
  const char* op = "norm forward";
  const int device = common_cuda_device(op, {&y, &mean, &rstd, &x, &weight, &bias});
  const int64_t n = shape.rows * shape.row_numel(), params = shape.groups * shape.channels;
  DeviceGuard guard(device);
  row_norm_forward(pointer<void*>(op, y, x, n), pointer<void*>(op, mean, x, shape.rows),
                   pointer<void*>(op, rstd, x, shape.rows), pointer<const void*>(op, x, x, n),
                   pointer<const void*>(op, weight, x, params), pointer<const void*>(op, bias, x, params),
                   scalar_type(x.dtype()), dims_of(shape), eps, stream_of(x));
}

void row_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                       const GradInput& grad, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                       const Tensor& weight, const RowNormShape& shape) {
  const char* op = "norm backward";
  const int device = common_cuda_device(op, {&grad_x, &grad_weight, &grad_bias, &grad.data, &x, &mean, &rstd, &weight});
  const int64_t n = shape.rows * shape.row_numel(), params = shape.groups * shape.channels;
  DeviceGuard guard(device);
  row_norm_backward(pointer<void*>(op, grad_x, x, n), pointer<void*>(op, grad_weight, x, params),
                    pointer<void*>(op, grad_bias, x, params), grad_pointer(op, grad, x),
                    pointer<const void*>(op, x, x, n), pointer<const void*>(op, mean, x, shape.rows),
                    pointer<const void*>(op, rstd, x, shape.rows), pointer<const void*>(op, weight, x, params),
                    scalar_type(x.dtype()), dims_of(shape), stream_of(x));
}

void batch_norm_stats(const Tensor& mean, const Tensor& var, const Tensor& x, const BatchNormShape& shape) {
  const char* op = "batch_norm";
  const int device = common_cuda_device(op, {&mean, &var, &x});
  const int64_t n = shape.batch * shape.channels * shape.inner;
  DeviceGuard guard(device);
  batch_norm_stats(pointer<void*>(op, mean, x, shape.channels), pointer<void*>(op, var, x, shape.channels),
                   pointer<const void*>(op, x, x, n), scalar_type(x.dtype()), dims_of(shape), stream_of(x));
}

void batch_norm_forward(const Tensor& y, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                        const Tensor& weight, const Tensor& bias, const BatchNormShape& shape) {
  const char* op = "batch_norm";
  const int device = common_cuda_device(op, {&y, &x, &mean, &rstd, &weight, &bias});
  const int64_t n = shape.batch * shape.channels * shape.inner, C = shape.channels;
  DeviceGuard guard(device);
  batch_norm_forward(pointer<void*>(op, y, x, n), pointer<const void*>(op, x, x, n), pointer<const void*>(op, mean, x, C),
                     pointer<const void*>(op, rstd, x, C), pointer<const void*>(op, weight, x, C),
                     pointer<const void*>(op, bias, x, C), scalar_type(x.dtype()), dims_of(shape), stream_of(x));
}

void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                         const GradInput& grad, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                         const Tensor& weight, const BatchNormShape& shape, bool training) {
  const char* op = "batch_norm backward";
  const int device = common_cuda_device(op, {&grad_x, &grad_weight, &grad_bias, &grad.data, &x, &mean, &rstd, &weight});
  const int64_t n = shape.batch * shape.channels * shape.inner, C = shape.channels;
  const Tensor workspace = make_tensor({3 * C}, DType::f64, x.device());
  DeviceGuard guard(device);
  batch_norm_backward(pointer<void*>(op, grad_x, x, n), pointer<void*>(op, grad_weight, x, C),
                      pointer<void*>(op, grad_bias, x, C), static_cast<double*>(workspace.raw_data()),
                      grad_pointer(op, grad, x), pointer<const void*>(op, x, x, n), pointer<const void*>(op, mean, x, C),
                      pointer<const void*>(op, rstd, x, C), pointer<const void*>(op, weight, x, C),
                      scalar_type(x.dtype()), dims_of(shape), training, stream_of(x));
}

}  // namespace ember::cuda
