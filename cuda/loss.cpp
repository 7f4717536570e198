// cuda/loss.h: checks and unpacks the tensors for the launchers of cuda/loss.cu.
#include "cuda/loss.h"

#include "cuda/loss_launch.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"
#include "engine/factories.h"

namespace ember::cuda {

static_assert(static_cast<int>(LossKind::mse) == static_cast<int>(PointwiseLoss::mse) &&
                  static_cast<int>(LossKind::l1) == static_cast<int>(PointwiseLoss::l1) &&
                  static_cast<int>(LossKind::smooth_l1) == static_cast<int>(PointwiseLoss::smooth_l1) &&
                  static_cast<int>(LossKind::huber) == static_cast<int>(PointwiseLoss::huber) &&
                  static_cast<int>(LossKind::bce) == static_cast<int>(PointwiseLoss::bce) &&
                  static_cast<int>(LossKind::kl_div) == static_cast<int>(PointwiseLoss::kl_div) &&
                  static_cast<int>(LossKind::kl_div_log_target) == static_cast<int>(PointwiseLoss::kl_div_log_target),
              "cuda::LossKind must number the losses like cpu::PointwiseLoss");

namespace {

const int64_t* target_pointer(const char* op, const Tensor& target) {
  EMBER_CHECK(target.dtype() == DType::i64 && target.is_contiguous(), "{}: expected contiguous int64 targets, got {}",
              op, target.describe());
  return static_cast<const int64_t*>(target.raw_data());
}

// Null when undefined; else a contiguous (C) tensor in `dtype`.
const void* weight_pointer(const char* op, const Tensor& weight, DType dtype) {
  if (!weight.defined()) return nullptr;
  EMBER_CHECK(weight.is_contiguous() && weight.dtype() == dtype && weight.dim() == 1,
              "{}: expected a contiguous 1-D {} weight, got {}", op, dtype_name(dtype), weight.describe());
  return weight.raw_data();
}

void check_fresh(const char* op, const Tensor& out, const Tensor& like) {
  EMBER_CHECK(out.is_contiguous() && out.sizes() == like.sizes() && out.dtype() == like.dtype(),
              "{}: expected a contiguous output like {}, got {}", op, like.describe(), out.describe());
}

}  // namespace

void nll_gather(const Tensor& out, const Tensor& x, const Tensor& target, const Tensor& weight, int64_t ignore_index) {
  const char* op = "nll_loss";
  const int device = common_cuda_device(op, {&out, &x, &target, &weight});
  EMBER_CHECK(x.dim() == 3 && out.is_contiguous() && out.numel() == x.size(0) * x.size(2) && target.numel() == out.numel(),
              "{}: expected x (N, C, S), out and target (N, S); got {}, {}, {}", op, x.describe(), out.describe(),
              target.describe());
  const NllDims dims{x.size(0), x.size(1), x.size(2), x.stride(0), x.stride(1), x.stride(2)};
  DeviceGuard guard(device);
  nll_gather(out.raw_data(), x.raw_data(), target_pointer(op, target), weight_pointer(op, weight, x.dtype()),
             scalar_type(x.dtype()), dims, ignore_index, stream_of(x));
}

void nll_scatter(const Tensor& grad_x, const Tensor& grad, const Tensor& target, const Tensor& weight,
                 int64_t ignore_index) {
  const char* op = "nll_loss_backward";
  const int device = common_cuda_device(op, {&grad_x, &grad, &target, &weight});
  EMBER_CHECK(grad_x.dim() == 3 && grad_x.is_contiguous() && grad.dim() == 2 && grad.size(0) == grad_x.size(0) &&
                  grad.size(1) == grad_x.size(2) && target.numel() == grad.numel() && grad.dtype() == grad_x.dtype(),
              "{}: expected grad_x (N, C, S), grad and target (N, S); got {}, {}, {}", op, grad_x.describe(),
              grad.describe(), target.describe());
  const NllDims dims{grad_x.size(0), grad_x.size(1), grad_x.size(2), grad.stride(0), 0, grad.stride(1)};
  DeviceGuard guard(device);
  nll_scatter(grad_x.raw_data(), grad.raw_data(), target_pointer(op, target), weight_pointer(op, weight, grad.dtype()),
              scalar_type(grad.dtype()), dims, ignore_index, stream_of(grad));
}

double nll_total_weight(const Tensor& target, const Tensor& weight, int64_t ignore_index) {
  const char* op = "nll_loss";
  const int device = common_cuda_device(op, {&target, &weight});
  const Tensor total = make_tensor({}, DType::f64, target.device());
  const DType weight_type = weight.defined() ? weight.dtype() : DType::f64;
  {
    DeviceGuard guard(device);
    nll_total_weight(static_cast<double*>(total.raw_data()), target_pointer(op, target), target.numel(),
                     weight_pointer(op, weight, weight_type), scalar_type(weight_type), ignore_index, stream_of(target));
  }
  return total.cpu().data_ptr<double>()[0];
}

void cross_entropy_fwd(const Tensor& out, const Tensor& lse, const Tensor& logits, const Tensor& target,
                       const Tensor& weight, int64_t ignore_index) {
  const char* op = "cross_entropy";
  const int device = common_cuda_device(op, {&out, &lse, &logits, &target, &weight});
  EMBER_CHECK(logits.dim() == 2 && logits.is_contiguous() && out.is_contiguous() && lse.is_contiguous() &&
                  out.numel() == logits.size(0) && lse.numel() == logits.size(0) && target.numel() == logits.size(0),
              "{}: expected contiguous logits (N, C), out, lse and target (N); got {}, {}, {}, {}", op,
              logits.describe(), out.describe(), lse.describe(), target.describe());
  DeviceGuard guard(device);
  cross_entropy_forward(out.raw_data(), lse.raw_data(), logits.raw_data(), target_pointer(op, target),
                        weight_pointer(op, weight, logits.dtype()), scalar_type(logits.dtype()), logits.size(0),
                        logits.size(1), ignore_index, stream_of(logits));
}

void cross_entropy_bwd(const Tensor& grad_logits, const Tensor& grad, const Tensor& logits, const Tensor& lse,
                       const Tensor& target, const Tensor& weight, int64_t ignore_index) {
  const char* op = "cross_entropy_backward";
  const int device = common_cuda_device(op, {&grad_logits, &grad, &logits, &lse, &target, &weight});
  check_fresh(op, grad_logits, logits);
  EMBER_CHECK(logits.dim() == 2 && logits.is_contiguous() && lse.is_contiguous() && grad.dim() <= 1 &&
                  grad.numel() == logits.size(0) && grad.dtype() == logits.dtype(),
              "{}: expected contiguous logits (N, C), lse and grad (N); got {}, {}, {}", op, logits.describe(),
              lse.describe(), grad.describe());
  const int64_t grad_stride = grad.dim() == 0 ? 0 : grad.stride(0);
  DeviceGuard guard(device);
  cross_entropy_backward(grad_logits.raw_data(), grad.raw_data(), grad_stride, logits.raw_data(), lse.raw_data(),
                         target_pointer(op, target), weight_pointer(op, weight, logits.dtype()),
                         scalar_type(logits.dtype()), logits.size(0), logits.size(1), ignore_index, stream_of(logits));
}

void pointwise_loss(const Tensor& out, const Tensor& input, const Tensor& target, PointwiseLoss kind, double param) {
  const char* op = "loss";
  const int device = common_cuda_device(op, {&out, &input, &target});
  check_fresh(op, out, input);
  EMBER_CHECK(target.sizes() == input.sizes() && target.dtype() == input.dtype(),
              "{}: target {} must match input {}", op, target.describe(), input.describe());
  DeviceGuard guard(device);
  pointwise_loss(out.raw_data(), input.raw_data(), layout_of(input, op), target.raw_data(), layout_of(target, op),
                 scalar_type(input.dtype()), static_cast<LossKind>(kind), param, stream_of(input));
}

void bce_with_logits(const Tensor& out, const Tensor& logits, const Tensor& target, const Tensor& pos_weight) {
  const char* op = "binary_cross_entropy_with_logits";
  const int device = common_cuda_device(op, {&out, &logits, &target, &pos_weight});
  check_fresh(op, out, logits);
  EMBER_CHECK(target.sizes() == logits.sizes() && target.dtype() == logits.dtype() &&
                  pos_weight.dtype() == logits.dtype(),
              "{}: target {} and pos_weight {} must match input {}", op, target.describe(), pos_weight.describe(),
              logits.describe());
  const Tensor pw = pos_weight.expand(logits.sizes());
  DeviceGuard guard(device);
  bce_with_logits(out.raw_data(), logits.raw_data(), layout_of(logits, op), target.raw_data(), layout_of(target, op),
                  pw.raw_data(), layout_of(pw, op), scalar_type(logits.dtype()), stream_of(logits));
}

void clamped_log(const Tensor& out, const Tensor& x) {
  const char* op = "loss_log";
  const int device = common_cuda_device(op, {&out, &x});
  check_fresh(op, out, x);
  DeviceGuard guard(device);
  clamped_log(out.raw_data(), x.raw_data(), layout_of(x, op), scalar_type(x.dtype()), stream_of(x));
}

bool all_in_unit_interval(const Tensor& x) {
  const char* op = "binary_cross_entropy";
  const int device = common_cuda_device(op, {&x});
  const Tensor flag = zeros({}, TensorOptions(DType::i32).device(x.device()));
  {
    DeviceGuard guard(device);
    flag_outside_unit_interval(static_cast<int32_t*>(flag.raw_data()), x.raw_data(), layout_of(x, op),
                               scalar_type(x.dtype()), stream_of(x));
  }
  return flag.cpu().data_ptr<int32_t>()[0] == 0;
}

}  // namespace ember::cuda
