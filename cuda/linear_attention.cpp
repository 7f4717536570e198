// cuda/linear_attention.h: Tensors -> cuda/linear_attention.cu's launchers.
#include "cuda/linear_attention.h"

#include "cuda/linear_attention_launch.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

LinearAttentionArgs args_of(const cpu::LinearAttentionProblem& p) {
  LinearAttentionArgs a;
  a.batch_heads = p.batch_heads;
  a.L = p.L;
  a.dk = p.dk;
  a.dv = p.dv;
  a.chunk = p.chunk;
  a.causal = p.causal;
  return a;
}

void check_arguments(const char* op, std::initializer_list<const Tensor*> tensors, const Tensor& q) {
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    EMBER_CHECK(t->is_contiguous(), "{}: the CUDA kernel needs contiguous tensors, got {}", op, t->describe());
    EMBER_CHECK(t->dtype() == q.dtype(), "{}: {} must have q's dtype ({})", op, t->describe(), dtype_name(q.dtype()));
  }
  EMBER_CHECK(q.dtype() == DType::f32 || q.dtype() == DType::f64,
              "{}: the CUDA kernel takes float32 or float64, got q {}", op, q.describe());
}

const void* data_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

}  // namespace

void linear_attention_chunked_fwd(const cpu::LinearAttentionProblem& p, const Tensor& q, const Tensor& k,
                                  const Tensor& v, const Tensor& log_gates, const Tensor& out) {
  constexpr const char* op = "linear_attention";
  const int device = common_cuda_device(op, {&q, &k, &v, &log_gates, &out});
  check_arguments(op, {&q, &k, &v, &log_gates, &out}, q);
  DeviceGuard guard(device);
  linear_attention_forward(args_of(p), scalar_type(q.dtype()), q.raw_data(), k.raw_data(), v.raw_data(),
                           data_or_null(log_gates), out.raw_data(), stream_of(q));
}

void linear_attention_chunked_bwd(const cpu::LinearAttentionProblem& p, const Tensor& q, const Tensor& k,
                                  const Tensor& v, const Tensor& log_gates, const Tensor& grad_out,
                                  const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                                  const Tensor& grad_log_gates) {
  constexpr const char* op = "linear_attention_backward";
  const int device =
      common_cuda_device(op, {&q, &k, &v, &log_gates, &grad_out, &grad_q, &grad_k, &grad_v, &grad_log_gates});
  check_arguments(op, {&q, &k, &v, &log_gates, &grad_out, &grad_q, &grad_k, &grad_v, &grad_log_gates}, q);
  DeviceGuard guard(device);
  linear_attention_backward(args_of(p), scalar_type(q.dtype()), q.raw_data(), k.raw_data(), v.raw_data(),
                            data_or_null(log_gates), grad_out.raw_data(), grad_q.raw_data(), grad_k.raw_data(),
                            grad_v.raw_data(), grad_log_gates.defined() ? grad_log_gates.raw_data() : nullptr,
                            stream_of(q));
}

}  // namespace ember::cuda
