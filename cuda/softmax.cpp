// cuda/softmax.h: checks and unpacks the tensors for the launchers of cuda/softmax.cu.
#include "cuda/softmax.h"

#include "cuda/softmax_launch.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

void check_dense(const char* op, const Tensor& t, const Tensor& like) {
  EMBER_CHECK(t.is_contiguous() && t.sizes() == like.sizes() && t.dtype() == like.dtype(),
              "{}: expected a contiguous {} tensor of shape {}, got {}", op, dtype_name(like.dtype()),
              shape_str(like.sizes()), t.describe());
}

SoftmaxDims dims_of(SoftmaxLayout layout) { return {layout.outer, layout.size, layout.inner}; }

}  // namespace

void softmax_fwd(const Tensor& out, const Tensor& x, SoftmaxLayout layout, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  const int device = common_cuda_device(op, {&out, &x});
  check_dense(op, x, x);
  check_dense(op, out, x);
  DeviceGuard guard(device);
  softmax_forward(out.raw_data(), x.raw_data(), scalar_type(x.dtype()), dims_of(layout), log, stream_of(x));
}

void softmax_bwd(const Tensor& grad_in, const Tensor& grad_out, const Tensor& y, SoftmaxLayout layout, bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  const int device = common_cuda_device(op, {&grad_in, &grad_out, &y});
  check_dense(op, y, y);
  check_dense(op, grad_in, y);
  check_dense(op, grad_out, y);
  DeviceGuard guard(device);
  softmax_backward(grad_in.raw_data(), grad_out.raw_data(), y.raw_data(), scalar_type(y.dtype()), dims_of(layout), log,
                   stream_of(y));
}

}  // namespace ember::cuda
