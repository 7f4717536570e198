// cuda/short_conv.h: unpacks the tensors for cuda/short_conv.cu (Note [CUDA kernel boundary]).
#include "cuda/short_conv.h"

#include "cuda/short_conv_launch.h"
#include "cuda/tensor_args.h"

namespace ember::cuda {

static_assert(static_cast<int>(cpu::ShortConvActivation::none) == static_cast<int>(ShortConvAct::none) &&
                  static_cast<int>(cpu::ShortConvActivation::silu) == static_cast<int>(ShortConvAct::silu) &&
                  static_cast<int>(cpu::ShortConvActivation::gelu) == static_cast<int>(ShortConvAct::gelu) &&
                  static_cast<int>(cpu::ShortConvActivation::relu) == static_cast<int>(ShortConvAct::relu),
              "cuda::ShortConvAct must number the activations like cpu::ShortConvActivation");

namespace {

ShortConvShape shape_of(const cpu::ShortConvProblem& p) {
  return {p.batch, p.length, p.channels, p.kernel_size, static_cast<ShortConvAct>(static_cast<int>(p.activation))};
}

const void* data_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }
void* mutable_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

}  // namespace

void short_conv_fwd(const cpu::ShortConvProblem& p, const Tensor& x, const Tensor& w, const Tensor& bias,
                    const Tensor& y) {
  const int device = common_cuda_device("short_conv", {&x, &w, &bias, &y});
  DeviceGuard guard(device);
  short_conv_forward(shape_of(p), scalar_type(x.dtype()), x.raw_data(), w.raw_data(), data_or_null(bias), y.raw_data(),
                     stream_of(x));
}

void short_conv_bwd(const cpu::ShortConvProblem& p, const Tensor& x, const Tensor& w, const Tensor& bias,
                    const Tensor& grad_y, const Tensor& grad_x, const Tensor& grad_w, const Tensor& grad_bias) {
  const int device = common_cuda_device("short_conv backward", {&x, &w, &bias, &grad_y, &grad_x, &grad_w, &grad_bias});
  DeviceGuard guard(device);
  const ShortConvShape s = shape_of(p);
  const Tensor gz = make_tensor({p.batch, p.length, p.channels}, x.dtype(), x.device());
  const int64_t chunks = short_conv_reduction_chunks(s);
  const Tensor partials = make_tensor({chunks, p.kernel_size + 1, p.channels}, DType::f64, x.device());
  short_conv_backward(s, scalar_type(x.dtype()), x.raw_data(), w.raw_data(), data_or_null(bias), grad_y.raw_data(),
                      grad_y.stride(0), grad_y.stride(1), grad_y.stride(2), gz.raw_data(),
                      partials.data_ptr<double>(), mutable_or_null(grad_x), mutable_or_null(grad_w),
                      mutable_or_null(grad_bias), stream_of(x));
}

}  // namespace ember::cuda
