// cuda/damped_ema.h: unpacks the tensors for cuda/damped_ema.cu (Note [CUDA kernel boundary]).
#include "cuda/damped_ema.h"

#include "cuda/damped_ema_launch.h"
#include "cuda/tensor_args.h"

namespace ember::cuda {

void ema_vandermonde_fwd(const Tensor& weight, const Tensor& decay, int64_t L, const Tensor& out) {
  const int device = common_cuda_device("damped_ema_kernel", {&weight, &decay, &out});
  DeviceGuard guard(device);
  ema_vandermonde_forward(scalar_type(weight.dtype()), weight.size(0), weight.size(1), L, weight.raw_data(),
                          decay.raw_data(), out.raw_data(), stream_of(weight));
}

void ema_vandermonde_bwd(const Tensor& weight, const Tensor& decay, const Tensor& grad, const Tensor& grad_weight,
                         const Tensor& grad_decay) {
  const int device =
      common_cuda_device("damped_ema_kernel backward", {&weight, &decay, &grad, &grad_weight, &grad_decay});
  DeviceGuard guard(device);
  ema_vandermonde_backward(scalar_type(weight.dtype()), weight.size(0), weight.size(1), grad.size(1),
                           weight.raw_data(), decay.raw_data(), grad.raw_data(), grad_weight.raw_data(),
                           grad_decay.raw_data(), stream_of(weight));
}

}  // namespace ember::cuda
