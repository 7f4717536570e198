// linear_attention and its reference and recurrent forms: argument checks, feature maps, the
// normalizer, dispatch and the fused op's backward. Kernels: ops/cpu/linear_attention.cpp (CPU),
// cuda/linear_attention.cu (CUDA).
// The math and the choices: docs/LINEAR_ATTENTION.md.
//
// All three forms share one front end (linear_attention_with): feature maps are differentiable
// elementwise ops applied before the core, decay becomes per-step log gates (B, H, L) by
// differentiable ops (log, expand), and the normalizer reuses the core with a ones column
// appended to v (the last output column is then the denominator). Only the unnormalised core
// o_t = Σ_s (q_t · k_s) g(t, s) v_s differs between the forms.
//
// The fused core's first-order backward runs the chunked recomputing kernel; with create_graph
// it is written with differentiable ops instead (the reference's (L, L) matrices), so double
// backward works at the sizes that need it.
#include "ops/linear_attention.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "cuda/linear_attention.h"
#include "engine/copy.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "engine/profiler.h"
#include "ops/activation.h"
#include "ops/compare.h"
#include "ops/cpu/linear_attention.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/sort.h"
#include "ops/unary.h"

namespace ember {

namespace {

constexpr const char* kOp = "linear_attention";
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr int64_t kMaxChunk = 1024;

// ---- checks ----

void check_inputs(const char* op, const Tensor& q, const Tensor& k, const Tensor& v,
                  const LinearAttentionOptions& options, const Tensor& decay) {
  check_defined(op, q, "q");
  check_defined(op, k, "k");
  check_defined(op, v, "v");
  check_same_device(op, {&q, &k, &v, &decay});
  EMBER_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4,
              "{}: q and k (B, H, L, dk) and v (B, H, L, dv) must be 4-D, got q {}, k {}, v {}", op, q.describe(),
              k.describe(), v.describe());
  EMBER_CHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype() &&
                  (q.dtype() == DType::f32 || q.dtype() == DType::f64),
              "{}: q, k and v must share one dtype, float32 or float64, got q {}, k {}, v {}", op, q.describe(),
              k.describe(), v.describe());
  EMBER_CHECK(q.sizes() == k.sizes(), "{}: q {} and k {} must have the same shape (B, H, L, dk)", op, q.describe(),
              k.describe());
  EMBER_CHECK(v.size(0) == q.size(0) && v.size(1) == q.size(1) && v.size(2) == q.size(2),
              "{}: v {} must share (B, H, L) with q {}", op, v.describe(), q.describe());
  EMBER_CHECK(options.feature_map == "identity" || options.feature_map == "elu1" || options.feature_map == "relu",
              "{}: feature_map must be \"identity\", \"elu1\" or \"relu\", got \"{}\"", op, options.feature_map);
  EMBER_CHECK(options.chunk_size > 0, "{}: chunk_size must be positive, got {}", op, options.chunk_size);
  EMBER_CHECK(std::isfinite(options.eps) && options.eps >= 0.0, "{}: eps must be finite and >= 0, got {}", op,
              options.eps);
  if (!decay.defined()) return;
  EMBER_CHECK(options.causal, "{}: decay {} needs causal attention (a decay g(t, s) is defined for s <= t only)", op,
              decay.describe());
  EMBER_CHECK(decay.dtype() == q.dtype(), "{}: decay {} must have q's dtype ({})", op, decay.describe(),
              dtype_name(q.dtype()));
  const int64_t B = q.size(0), H = q.size(1), L = q.size(2);
  const bool per_head = decay.dim() == 1 && decay.size(0) == H;
  const bool per_step = decay.dim() == 3 && decay.size(0) == B && decay.size(1) == H && decay.size(2) == L;
  EMBER_CHECK(per_head || per_step, "{}: decay {} must be (H) = ({}) or (B, H, L) = ({}, {}, {}) for q {}", op,
              decay.describe(), H, B, H, L, q.describe());
  NoGradGuard no_grad;
  const Tensor d = decay.detach();
  EMBER_CHECK(d.numel() == 0 || (read_element(all(gt(d, 0.0)), 0) != 0.0 && read_element(all(le(d, 1.0)), 0) != 0.0),
              "{}: decay {} must lie in (0, 1] (min {}, max {})", op, decay.describe(),
              d.numel() ? read_element(min(d), 0) : 0.0, d.numel() ? read_element(max(d), 0) : 0.0);
}

// ---- the shared front end ----

Tensor feature_map(const Tensor& x, const std::string& name) {
  if (name == "elu1") return add(elu(x), 1.0);
  if (name == "relu") return relu(x);
  return x;
}

// log a_t as (B, H, L) from decay (H) or (B, H, L), by differentiable ops; undefined without decay.
Tensor log_gates_of(const Tensor& decay, int64_t B, int64_t H, int64_t L) {
  if (!decay.defined()) return Tensor();
  Tensor logs = log(decay);
  return decay.dim() == 1 ? logs.reshape({1, H, 1}).expand({B, H, L}) : logs;
}

// The unnormalised core o_t = Σ_s (q_t · k_s) g(t, s) v_s of one form, on mapped q and k.
using Core = std::function<Tensor(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& log_gates)>;

Tensor linear_attention_with(const char* op, const Tensor& q, const Tensor& k, const Tensor& v,
                             const LinearAttentionOptions& options, const Tensor& decay, const Core& core) {
  check_inputs(op, q, k, v, options, decay);
  const int64_t B = q.size(0), H = q.size(1), L = q.size(2), dv = v.size(3);
  const Tensor qf = feature_map(q, options.feature_map);
  const Tensor kf = feature_map(k, options.feature_map);
  const Tensor log_gates = log_gates_of(decay, B, H, L);
  if (!options.normalize) return core(qf, kf, v, log_gates);
  // The ones column makes the core's last column the denominator Σ_s (q_t · k_s) g(t, s).
  const Tensor both = core(qf, kf, cat({v, ones({B, H, L, 1}, TensorOptions(v.dtype()).device(v.device()))}, -1),
                           log_gates);
  return div(both.narrow(-1, 0, dv), add(both.narrow(-1, dv, 1), options.eps));
}

// ---- the reference core, from differentiable ops ----

// keep[t, s] = s <= t, shape (L, L).
Tensor causal_keep(int64_t L) {
  Tensor keep = empty({L, L}, DType::bool_);
  bool* data = keep.data_ptr<bool>();
  for (int64_t t = 0; t < L; ++t)
    for (int64_t s = 0; s < L; ++s) data[t * L + s] = s <= t;
  return keep;
}

// x (B, H, L, L) ⊙ g: the causal mask, times e^(c_t - c_s) with c the cumulative log gates.
// The exponent is masked before exp (not after), so no e^(positive) is formed and the masked
// entries get exactly zero gradient.
Tensor apply_decay_mask(const Tensor& x, bool causal, const Tensor& log_gates) {
  if (!causal) return x;
  const int64_t L = x.size(-1);
  const Tensor keep = causal_keep(L).to(x.device());
  if (!log_gates.defined()) return where(keep, x, 0.0);
  const Tensor c = cumsum(log_gates, -1);                   // (B, H, L)
  const Tensor exponent = sub(c.unsqueeze(-1), c.unsqueeze(-2));  // (B, H, L, L): c_t - c_s
  return mul(x, exp(where(keep, exponent, kNegInf)));
}

Tensor reference_core(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& log_gates, bool causal) {
  const Tensor weights = apply_decay_mask(matmul(q, k.transpose(-2, -1)), causal, log_gates);  // (B, H, L, L)
  return matmul(weights, v);
}

// The core's gradients from differentiable ops (the create_graph path), with W = (Q Kᵀ) ⊙ G:
//   dV = Wᵀ dO, dQ = ((dO Vᵀ) ⊙ G) K, dK = ((dO Vᵀ) ⊙ G)ᵀ Q,
//   d log a_r = Σ_{t >= r} (q_t · dq_t - k_t · dk_t)   (ops/cpu/linear_attention.cpp, log_gate_gradient)
TensorList reference_core_backward(const BackwardContext& ctx, const Tensor& grad_out, bool causal) {
  const Tensor& q = ctx.saved(0);
  const Tensor& k = ctx.saved(1);
  const Tensor& v = ctx.saved(2);
  const Tensor& log_gates = ctx.saved(3);
  TensorList grads(4);
  if (ctx.needs_grad(2)) {
    grads[2] = matmul(apply_decay_mask(matmul(q, k.transpose(-2, -1)), causal, log_gates).transpose(-2, -1), grad_out);
  }
  const bool gates = ctx.needs_grad(3);
  if (!ctx.needs_grad(0) && !ctx.needs_grad(1) && !gates) return grads;
  const Tensor grad_weights = apply_decay_mask(matmul(grad_out, v.transpose(-2, -1)), causal, log_gates);
  if (ctx.needs_grad(0) || gates) grads[0] = matmul(grad_weights, k);
  if (ctx.needs_grad(1) || gates) grads[1] = matmul(grad_weights.transpose(-2, -1), q);
  if (gates) {
    const Tensor dc = sub(sum(mul(q, grads[0]), {-1}), sum(mul(k, grads[1]), {-1}));  // (B, H, L)
    grads[3] = flip(cumsum(flip(dc, {-1}), -1), {-1});
  }
  return grads;
}

// ---- the fused (chunked) core ----

cpu::LinearAttentionProblem problem_of(const Tensor& q, const Tensor& v, bool causal, int64_t chunk) {
  cpu::LinearAttentionProblem p;
  p.batch_heads = q.size(0) * q.size(1);
  p.L = q.size(2);
  p.dk = q.size(3);
  p.dv = v.size(3);
  // The chunk never exceeds L, nor kMaxChunk: each thread holds a few C × C tiles, and the result
  // does not depend on C beyond rounding.
  p.chunk = std::min({chunk, std::max<int64_t>(p.L, 1), kMaxChunk});
  p.causal = causal;
  return p;
}

bool is_empty(const cpu::LinearAttentionProblem& p) { return p.batch_heads == 0 || p.L == 0 || p.dk == 0 || p.dv == 0; }

// Chunked cost: per head, the intra-chunk products 2·L·C·(dk + dv) (full tiles) and the state
// read and update 4·L·dk·dv; non-causal only the latter. Backward: 2.5x, as for attention.
profiler::OpCost core_cost(const Tensor& q, const Tensor& v, bool causal, int64_t chunk) {
  if (q.dim() != 4 || v.dim() != 4) return {};
  const double bh = static_cast<double>(q.size(0) * q.size(1)), L = static_cast<double>(q.size(2));
  const double dk = static_cast<double>(q.size(3)), dv = static_cast<double>(v.size(3));
  const double C = causal ? std::min(static_cast<double>(chunk), L) : 0.0;
  const double bytes = static_cast<double>((2 * q.numel() + 2 * v.numel()) * static_cast<int64_t>(q.element_size()));
  return {bh * (2 * L * C * (dk + dv) + 4 * L * dk * dv), bytes};
}

Tensor fused_core(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& log_gates, bool causal,
                  int64_t chunk) {
  EMBER_PROFILE_OP(kOp, {q, k, v, log_gates}, core_cost(q, v, causal, chunk));
  const cpu::LinearAttentionProblem problem = problem_of(q, v, causal, chunk);
  if (is_empty(problem)) return reference_core(q, k, v, log_gates, causal);
  Tensor out = make_tensor({q.size(0), q.size(1), q.size(2), v.size(3)}, q.dtype(), q.device());
  {
    const Tensor qc = q.detach().contiguous(), kc = k.detach().contiguous(), vc = v.detach().contiguous();
    const Tensor gc = log_gates.defined() ? log_gates.detach().contiguous() : Tensor();
    if (q.device().is_cuda()) {
      EMBER_CUDA_KERNEL(kOp, cuda::linear_attention_chunked_fwd(problem, qc, kc, vc, gc, out));
    } else {
      dispatch_floating(q.dtype(), kOp, [&]<class T>() {
        cpu::linear_attention_chunked_fwd<T>(problem, qc.data_ptr<T>(), kc.data_ptr<T>(), vc.data_ptr<T>(),
                                             gc.defined() ? gc.data_ptr<T>() : nullptr, out.data_ptr<T>());
      });
    }
  }
  record_backward(kOp, {q, k, v, log_gates}, {out}, {q, k, v, log_gates},
                  [problem](BackwardContext& ctx) -> TensorList {
    const Tensor& grad_out = ctx.grad(0);
    if (!grad_out.defined()) return {Tensor(), Tensor(), Tensor(), Tensor()};
    if (ctx.create_graph()) return reference_core_backward(ctx, grad_out, problem.causal);
    const Tensor& q = ctx.saved(0);
    const Tensor& v = ctx.saved(2);
    const Tensor& gates = ctx.saved(3);
    EMBER_PROFILE_OP("linear_attention_backward", {grad_out, q, ctx.saved(1), v},
                     [&] {
                       profiler::OpCost cost = core_cost(q, v, problem.causal, problem.chunk);
                       cost.flops *= 2.5;
                       return cost;
                     }());
    const Tensor qc = q.detach().contiguous(), kc = ctx.saved(1).detach().contiguous(),
                 vc = v.detach().contiguous(), gc = gates.defined() ? gates.detach().contiguous() : Tensor(),
                 doc = grad_out.detach().contiguous();
    const Device device = q.device();
    Tensor grad_q = make_tensor(q.sizes(), q.dtype(), device), grad_k = make_tensor(q.sizes(), q.dtype(), device),
           grad_v = make_tensor(v.sizes(), q.dtype(), device);
    Tensor grad_gates = ctx.needs_grad(3) ? make_tensor(gates.sizes(), q.dtype(), device) : Tensor();
    if (device.is_cuda()) {
      EMBER_CUDA_KERNEL("linear_attention_backward",
                        cuda::linear_attention_chunked_bwd(problem, qc, kc, vc, gc, doc, grad_q, grad_k, grad_v,
                                                           grad_gates));
    } else {
      dispatch_floating(q.dtype(), kOp, [&]<class T>() {
        cpu::linear_attention_chunked_bwd<T>(problem, qc.data_ptr<T>(), kc.data_ptr<T>(), vc.data_ptr<T>(),
                                             gc.defined() ? gc.data_ptr<T>() : nullptr, doc.data_ptr<T>(),
                                             grad_q.data_ptr<T>(), grad_k.data_ptr<T>(), grad_v.data_ptr<T>(),
                                             grad_gates.defined() ? grad_gates.data_ptr<T>() : nullptr);
      });
    }
    return {ctx.needs_grad(0) ? grad_q : Tensor(), ctx.needs_grad(1) ? grad_k : Tensor(),
            ctx.needs_grad(2) ? grad_v : Tensor(), grad_gates};
  });
  return out;
}

// ---- the recurrent core (forward only) ----

Tensor recurrent_core(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& log_gates, bool causal) {
  constexpr const char* op = "linear_attention_recurrent";
  EMBER_CHECK(!any_requires_grad({q, k, v, log_gates}),
              "{}: the recurrent form has no backward (it serves step-by-step inference and tests); call it under "
              "NoGradGuard, or use linear_attention for gradients (q {}, k {}, v {})", op, q.describe(), k.describe(),
              v.describe());
  check_cpu(op, {&q, &k, &v, &log_gates});  // the recurrent form is a CPU reference (no CUDA kernel)
  const cpu::LinearAttentionProblem problem = problem_of(q, v, causal, 1);
  Tensor out = zeros({q.size(0), q.size(1), q.size(2), v.size(3)}, TensorOptions(q.dtype()));
  if (is_empty(problem)) return out;
  const Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
  const Tensor gc = log_gates.defined() ? log_gates.contiguous() : Tensor();
  dispatch_floating(q.dtype(), op, [&]<class T>() {
    cpu::linear_attention_recurrent_fwd<T>(problem, qc.data_ptr<T>(), kc.data_ptr<T>(), vc.data_ptr<T>(),
                                           gc.defined() ? gc.data_ptr<T>() : nullptr, out.data_ptr<T>());
  });
  return out;
}

}  // namespace

Tensor linear_attention(const Tensor& q, const Tensor& k, const Tensor& v, const LinearAttentionOptions& options,
                        const Tensor& decay) {
  return linear_attention_with(kOp, q, k, v, options, decay,
                               [&](const Tensor& qf, const Tensor& kf, const Tensor& vx, const Tensor& gates) {
                                 return fused_core(qf, kf, vx, gates, options.causal, options.chunk_size);
                               });
}

namespace detail {

Tensor linear_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const LinearAttentionOptions& options, const Tensor& decay) {
  return linear_attention_with("linear_attention_reference", q, k, v, options, decay,
                               [&](const Tensor& qf, const Tensor& kf, const Tensor& vx, const Tensor& gates) {
                                 return reference_core(qf, kf, vx, gates, options.causal);
                               });
}

Tensor linear_attention_recurrent(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const LinearAttentionOptions& options, const Tensor& decay) {
  return linear_attention_with("linear_attention_recurrent", q, k, v, options, decay,
                               [&](const Tensor& qf, const Tensor& kf, const Tensor& vx, const Tensor& gates) {
                                 return recurrent_core(qf, kf, vx, gates, options.causal);
                               });
}

}  // namespace detail
}  // namespace ember
