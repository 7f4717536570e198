// cuda/activation.h: Tensors -> launchers of cuda/activation.cu. CPU twin: ops/cpu/activation.cpp.
#include "cuda/activation.h"

#include "cuda/activation_launch.h"
#include "cuda/elementwise.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

// ActivationKind numbers the kinds like cpu::Activation, so a cast converts them.
#define EMBER_SAME_ACTIVATION(name) \
  static_assert(static_cast<int>(Activation::name) == static_cast<int>(ActivationKind::name));
EMBER_SAME_ACTIVATION(relu) EMBER_SAME_ACTIVATION(relu6) EMBER_SAME_ACTIVATION(leaky_relu) EMBER_SAME_ACTIVATION(elu)
EMBER_SAME_ACTIVATION(selu) EMBER_SAME_ACTIVATION(gelu) EMBER_SAME_ACTIVATION(gelu_tanh) EMBER_SAME_ACTIVATION(silu)
EMBER_SAME_ACTIVATION(mish) EMBER_SAME_ACTIVATION(softplus) EMBER_SAME_ACTIVATION(hardswish)
EMBER_SAME_ACTIVATION(hardsigmoid) EMBER_SAME_ACTIVATION(hardtanh) EMBER_SAME_ACTIVATION(softsign)
EMBER_SAME_ACTIVATION(logsigmoid) EMBER_SAME_ACTIVATION(sigmoid) EMBER_SAME_ACTIVATION(tanh)
#undef EMBER_SAME_ACTIVATION

ActivationScalars scalars_of(const ActivationParams& p) {
  return {p.alpha, p.beta, p.threshold, p.min_value, p.max_value};
}

void check_floating(const char* op, const Tensor& t) {
  EMBER_CHECK(is_floating(t.dtype()), "{}: expected a floating tensor (float32, float64, bfloat16, float16), got {}",
              op, t.describe());
}

}  // namespace

void activation_forward(const char* op, const Tensor& out, const Tensor& x, Activation kind,
                        const ActivationParams& params) {
  DeviceGuard guard(common_cuda_device(op, {&out, &x}));
  check_floating(op, out);
  check_dtype(op, out.dtype(), {&x});
  launch_activation_forward(static_cast<ActivationKind>(kind), scalar_type(out.dtype()), operand_of(out, out.sizes(), op),
                            operand_of(x, out.sizes(), op), scalars_of(params), stream_of(out));
}

void activation_backward(const char* op, const Tensor& grad_input, const Tensor& grad_output, const Tensor& saved,
                         Activation kind, const ActivationParams& params) {
  DeviceGuard guard(common_cuda_device(op, {&grad_input, &grad_output, &saved}));
  check_floating(op, grad_input);
  check_dtype(op, grad_input.dtype(), {&grad_output, &saved});
  const Shape& shape = grad_input.sizes();
  launch_activation_backward(static_cast<ActivationKind>(kind), scalar_type(grad_input.dtype()),
                             operand_of(grad_input, shape, op), operand_of(grad_output, shape, op),
                             operand_of(saved, shape, op), scalars_of(params), stream_of(grad_input));
}

}  // namespace ember::cuda
