// Launchers of cuda/loss.cu: nll gather/scatter, the fused cross_entropy, the elementwise losses
// and BCE's helpers. Raw pointers and StridedLayouts only (Note [CUDA kernel boundary] in
// cuda/layout.h); Tensor side: cuda/loss.cpp. Targets are contiguous int64, already checked.
#pragma once
#include <cstdint>

#include "cuda/layout.h"
#include "cuda/runtime.h"

namespace ember::cuda {

// x viewed as (N, C, S) with element strides; targets (N, S) contiguous.
struct NllDims {
  int64_t N = 1, C = 1, S = 1;
  int64_t stride_n = 0, stride_c = 0, stride_s = 0;  // of x (gather) or of grad (scatter; stride_c unused)
};

// out (N, S) contiguous: out[n, s] = -w[t] x[n, t, s], 0 where t == ignore_index.
void nll_gather(void* out, const void* x, const int64_t* target, const void* weight, ScalarType type, NllDims dims,
                int64_t ignore_index, Stream stream);
// grad_x (N, C, S) contiguous zeros on entry: grad_x[n, t, s] = -w[t] grad[n, s].
void nll_scatter(void* grad_x, const void* grad, const int64_t* target, const void* weight, ScalarType type,
                 NllDims dims, int64_t ignore_index, Stream stream);
// *total = sum of w[t] (or 1) over the n targets != ignore_index, in double (one block, fixed order).
void nll_total_weight(double* total, const int64_t* target, int64_t n, const void* weight, ScalarType weight_type,
                      int64_t ignore_index, Stream stream);

// logits (N, C) contiguous -> out (N), lse (N); grad_logits (N, C) from grad (N, stride grad_stride).
void cross_entropy_forward(void* out, void* lse, const void* logits, const int64_t* target, const void* weight,
                           ScalarType type, int64_t N, int64_t C, int64_t ignore_index, Stream stream);
void cross_entropy_backward(void* grad_logits, const void* grad, int64_t grad_stride, const void* logits,
                            const void* lse, const int64_t* target, const void* weight, ScalarType type, int64_t N,
                            int64_t C, int64_t ignore_index, Stream stream);

// The numbering of cpu::PointwiseLoss (static_assert in cuda/loss.cpp).
enum class LossKind : uint8_t { mse, l1, smooth_l1, huber, bce, kl_div, kl_div_log_target };

// out (contiguous, a.numel elements) = loss(input, target) elementwise; a and b: same shape.
void pointwise_loss(void* out, const void* input, const StridedLayout& input_layout, const void* target,
                    const StridedLayout& target_layout, ScalarType type, LossKind kind, double param, Stream stream);
// out = BCE on logits; pos_weight already expanded to the shape (stride-0 dims).
void bce_with_logits(void* out, const void* logits, const StridedLayout& logits_layout, const void* target,
                     const StridedLayout& target_layout, const void* pos_weight, const StridedLayout& pos_weight_layout,
                     ScalarType type, Stream stream);
// out (contiguous) = max(log x, -100).
void clamped_log(void* out, const void* x, const StridedLayout& x_layout, ScalarType type, Stream stream);
// *flag (int32, zero on entry) = 1 if some element is not in [0, 1] (NaN included).
void flag_outside_unit_interval(int32_t* flag, const void* x, const StridedLayout& x_layout, ScalarType type,
                                Stream stream);

}  // namespace ember::cuda
