// cuda/attention.h: Tensors -> cuda/attention.cu's launchers (checks, raw pointers, device guard).
#include "cuda/attention.h"

#include "cuda/attention_launch.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"
#include "engine/factories.h"

namespace ember::cuda {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

void check_dense(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    if (t->defined()) EMBER_CHECK(t->is_contiguous(), "{}: the CUDA kernel needs contiguous tensors, got {}", op, t->describe());
  }
}

AttentionArgs args_of(const cpu::AttentionProblem& p, const Tensor& mask) {
  AttentionArgs a;
  a.batch_heads = p.batch_heads;
  a.L = p.L;
  a.S = p.S;
  a.d = p.d;
  a.dv = p.dv;
  a.causal = p.causal;
  a.scale = p.scale;
  if (mask.defined()) {
    EMBER_CHECK(mask.dim() >= 2 && mask.size(-2) == p.L && mask.size(-1) == p.S,
                "{}: the CUDA kernel needs the mask expanded to (..., L, S) = (..., {}, {}), got {}", kOp, p.L, p.S,
                mask.describe());
    a.mask = mask.raw_data();
    a.mask_is_bool = mask.dtype() == DType::bool_;
    a.mask_layout = layout_of(mask, kOp);
  }
  a.dropout_p = p.dropout.p;
  a.dropout_seed = p.dropout.seed;
  a.dropout_offset = p.dropout.offset;
  return a;
}

}  // namespace

DType attention_lse_dtype(DType dtype) {
  return dtype == DType::bf16 || dtype == DType::f16 ? DType::f32 : dtype;
}

void attention_fwd(const cpu::AttentionProblem& p, const Tensor& q, const Tensor& k, const Tensor& v,
                   const Tensor& mask, const Tensor& out, const Tensor& lse) {
  const int device = common_cuda_device(kOp, {&q, &k, &v, &mask, &out, &lse});
  check_dense(kOp, {&q, &k, &v, &out, &lse});
  EMBER_CHECK(lse.dtype() == attention_lse_dtype(q.dtype()), "{}: lse {} must be {} for inputs {}", kOp,
              lse.describe(), dtype_name(attention_lse_dtype(q.dtype())), q.describe());
  DeviceGuard guard(device);
  attention_forward(args_of(p, mask), scalar_type(q.dtype()), q.raw_data(), k.raw_data(), v.raw_data(),
                    out.raw_data(), lse.raw_data(), stream_of(q));
}

void attention_bwd(const cpu::AttentionProblem& p, const Tensor& q, const Tensor& k, const Tensor& v,
                   const Tensor& mask, const Tensor& out, const Tensor& grad_out, const Tensor& lse,
                   const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v, const Tensor& grad_scores) {
  constexpr const char* op = "scaled_dot_product_attention_backward";
  const int device = common_cuda_device(op, {&q, &k, &v, &mask, &out, &grad_out, &lse, &grad_q, &grad_k, &grad_v,
                                             &grad_scores});
  check_dense(op, {&q, &k, &v, &out, &grad_out, &lse, &grad_q, &grad_k, &grad_v, &grad_scores});
  DeviceGuard guard(device);
  // rowsum(dO ∘ O) per query row, in the accumulation type (the dtype of lse).
  const Tensor delta = make_tensor({p.batch_heads * p.L}, lse.dtype(), q.device());
  attention_backward(args_of(p, mask), scalar_type(q.dtype()), q.raw_data(), k.raw_data(), v.raw_data(),
                     out.raw_data(), grad_out.raw_data(), lse.raw_data(), delta.raw_data(), grad_q.raw_data(),
                     grad_k.raw_data(), grad_v.raw_data(), grad_scores.defined() ? grad_scores.raw_data() : nullptr,
                     stream_of(q));
}

}  // namespace ember::cuda
