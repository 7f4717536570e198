// cuda/dropout.h: checks and unpacks the tensors for the launcher of cuda/dropout.cu.
#include "cuda/dropout.h"

#include "cuda/dropout_launch.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"

namespace ember::cuda {

void dropout_fwd(const Tensor& out, const Tensor& mask, const Tensor& x, double keep_prob, double scale,
                 uint64_t seed, uint64_t offset) {
  const char* op = "dropout";
  const int device = common_cuda_device(op, {&out, &mask, &x});
  for (const Tensor* t : {&out, &mask, &x})
    EMBER_CHECK(t->is_contiguous() && t->sizes() == x.sizes() && t->dtype() == x.dtype(),
                "{}: expected contiguous tensors like {}, got {}", op, x.describe(), t->describe());
  DeviceGuard guard(device);
  dropout_forward(out.raw_data(), mask.raw_data(), x.raw_data(), scalar_type(x.dtype()), x.numel(), keep_prob, scale,
                  seed, offset, stream_of(x));
}

}  // namespace ember::cuda
