// vq_attention: argument checks, the O(L²) composite reference, dispatch to the linear-time CPU
// kernels (ops/cpu/vq_attention.cpp) and the backward node. Twins: ops/vq_attention.h (API and
// semantics), docs/VQ.md.
//
// The fused backward is first order only: a second derivative (create_graph) raises an error that
// points to detail::vq_attention_reference, which is made of differentiable ops.
//
// Note [VQ attention on CUDA]: there is no linear-time CUDA kernel yet. A CUDA call runs the
// composite reference instead (dense (B, H, L, L) scores through matmul/where/softmax, whose
// CUDA kernels exist): the same values and the same gradients (q, v, bias exact; k from the near
// keys only; none for the codebook), but O(L²) time and memory. Its masks and code rows are
// built on the host and moved; the index range check reads the indices back (one copy).
#include "ops/vq_attention.h"

#include <cmath>
#include <limits>

#include "autograd/function.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "engine/profiler.h"
#include "ops/compare.h"
#include "ops/cpu/vq_attention.h"
#include "ops/elementwise.h"
#include "ops/elementwise_util.h"
#include "ops/index.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/softmax.h"

namespace ember {

namespace {

constexpr const char* kOp = "vq_attention";

// Checks every argument; returns the kernel's problem description (batch_heads = B·H).
cpu::VQAttentionProblem check_and_describe(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& indices,
                                           const Tensor& codebook, const VQAttentionOptions& options,
                                           const Tensor& bias) {
  check_defined(kOp, q, "q");
  check_defined(kOp, k, "k");
  check_defined(kOp, v, "v");
  check_defined(kOp, indices, "indices");
  check_defined(kOp, codebook, "codebook");
  check_same_device(kOp, {&q, &k, &v, &indices, &codebook, &bias});
  EMBER_CHECK(q.dim() == 4 && k.sizes() == q.sizes() && v.dim() == 4 && v.size(0) == q.size(0) &&
                  v.size(1) == q.size(1) && v.size(2) == q.size(2),
              "{}: q and k must be (B, H, L, d) and v (B, H, L, dv); got q {}, k {}, v {}", kOp, q.describe(),
              k.describe(), v.describe());
  EMBER_CHECK(is_floating(q.dtype()) && k.dtype() == q.dtype() && v.dtype() == q.dtype() &&
                  codebook.dtype() == q.dtype(),
              "{}: q, k, v and codebook must share one floating dtype; got q {}, k {}, v {}, codebook {}", kOp,
              q.describe(), k.describe(), v.describe(), codebook.describe());
  const int64_t B = q.size(0), H = q.size(1), L = q.size(2), d = q.size(3);
  EMBER_CHECK((codebook.dim() == 2 && codebook.size(1) == d) ||
                  (codebook.dim() == 3 && codebook.size(0) == H && codebook.size(2) == d),
              "{}: codebook must be (H, S, d) = ({}, S, {}) or (S, d); got {}", kOp, H, d, codebook.describe());
  const int64_t S = codebook.size(-2);
  EMBER_CHECK(S >= 1 && d >= 1, "{}: the codebook needs at least one code and d >= 1; got codebook {}", kOp,
              codebook.describe());
  EMBER_CHECK(indices.dtype() == DType::i64 && indices.sizes() == Shape({B, H, L}),
              "{}: indices must be int64 (B, H, L) = ({}, {}, {}); got {}", kOp, B, H, L, indices.describe());
  {
    const Tensor flat = indices.cpu().contiguous();  // Note [VQ attention on CUDA]
    const int64_t* data = flat.data_ptr<int64_t>();
    for (int64_t n = 0; n < flat.numel(); ++n)
      EMBER_CHECK(data[n] >= 0 && data[n] < S, "{}: index {} at position {} is outside the codebook's [0, {})", kOp,
                  data[n], n, S);
  }
  EMBER_CHECK(options.window >= 0, "{}: window must be >= 0, got {}", kOp, options.window);
  EMBER_CHECK(!options.scale || std::isfinite(*options.scale), "{}: scale must be finite, got {}", kOp,
              options.scale.value_or(0.0));
  cpu::VQAttentionProblem p;
  p.batch_heads = B * H;
  p.heads = H;
  p.L = L;
  p.S = S;
  p.d = d;
  p.dv = v.size(3);
  p.window = options.window;
  p.causal = options.causal;
  p.shared_codebook = codebook.dim() == 2;
  p.has_bias = bias.defined();
  p.scale = options.scale ? *options.scale : 1.0 / std::sqrt(static_cast<double>(d));
  if (bias.defined()) {
    EMBER_CHECK(options.window > 0, "{}: a positional bias {} needs a window > 0", kOp, bias.describe());
    EMBER_CHECK(bias.dtype() == q.dtype() && bias.dim() == 2 && bias.size(0) == H && bias.size(1) == p.bias_size(),
                "{}: bias must be ({}, {}) ({} window {}) in q's dtype {}; got {}", kOp, H, p.bias_size(),
                options.causal ? "causal" : "non-causal", options.window, dtype_name(q.dtype()), bias.describe());
  }
  return p;
}

// keep (L, L) bool from a predicate on (i, j), built on the host and moved to `device`.
template <class F>
Tensor pair_mask(int64_t L, Device device, F&& keep) {
  Tensor mask = empty({L, L}, DType::bool_);
  bool* data = mask.data_ptr<bool>();
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) data[i * L + j] = keep(i, j);
  return mask.to(device);
}

Tensor reference_composite(const cpu::VQAttentionProblem& p, const Tensor& q, const Tensor& k, const Tensor& v,
                           const Tensor& indices, const Tensor& codebook, const Tensor& bias);

profiler::OpCost cost_of(const Tensor& q, const Tensor& v, const Tensor& codebook, int64_t window) {
  if (!q.defined() || !v.defined() || !codebook.defined() || q.dim() != 4 || v.dim() != 4 || codebook.dim() < 2)
    return {};
  const double rows = static_cast<double>(q.size(0) * q.size(1) * q.size(2));
  const double per_row = static_cast<double>(codebook.size(-2) + std::max<int64_t>(window, 0)) *
                         2.0 * static_cast<double>(q.size(3) + v.size(3));
  return {rows * per_row, 0.0};
}

}  // namespace

Tensor vq_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& indices, const Tensor& codebook,
                    const VQAttentionOptions& options, const Tensor& bias) {
  EMBER_PROFILE_OP(kOp, {q, k, v, codebook}, cost_of(q, v, codebook, options.window));
  const cpu::VQAttentionProblem problem = check_and_describe(q, k, v, indices, codebook, options, bias);
  if (problem.batch_heads == 0 || problem.L == 0 || problem.dv == 0) {
    return zeros({q.size(0), q.size(1), q.size(2), v.size(3)}, TensorOptions(q.dtype()).device(q.device()));
  }
  if (q.device().is_cuda()) return reference_composite(problem, q, k, v, indices, codebook, bias);
  const Tensor qc = q.detach().contiguous(), vc = v.detach().contiguous();
  // Copies (small: L and S·d), kept for the backward: an EMA quantizer updates its codebook in
  // place on its next training call, which may come before this node's backward.
  const Tensor ic = indices.clone(), cc = codebook.detach().clone();
  const Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor out = empty({q.size(0), q.size(1), q.size(2), v.size(3)}, q.dtype());
  Tensor lse = empty({problem.batch_heads, problem.L}, q.dtype());
  dispatch_floating(q.dtype(), kOp, [&]<class T>() {
    cpu::vq_attention_fwd<T>(problem, qc.data_ptr<T>(), vc.data_ptr<T>(), ic.data_ptr<int64_t>(), cc.data_ptr<T>(),
                             bc.defined() ? bc.data_ptr<T>() : nullptr, out.data_ptr<T>(), lse.data_ptr<T>());
  });
  TensorList inputs = {q, k, v};
  if (bias.defined()) inputs.push_back(bias);
  record_backward(kOp, inputs, {out}, {qc, vc, out, lse}, [problem, ic, cc, bc](BackwardContext& ctx) -> TensorList {
    TensorList grads(problem.has_bias ? 4 : 3);
    const Tensor& grad_out = ctx.grad(0);
    if (!grad_out.defined()) return grads;
    EMBER_CHECK(!ctx.create_graph(),
                "{}: the fused backward is first order only; for higher derivatives use "
                "detail::vq_attention_reference", kOp);
    EMBER_PROFILE_OP("vq_attention_backward", {grad_out, ctx.saved(0), ctx.saved(1)},
                     profiler::OpCost{2.5 * cost_of(ctx.saved(0), ctx.saved(1), cc, problem.window).flops, 0.0});
    const Tensor& qs = ctx.saved(0);
    const Tensor& vs = ctx.saved(1);
    const Tensor os = ctx.saved(2).detach().contiguous();
    const Tensor& lse_saved = ctx.saved(3);
    const Tensor gc = grad_out.detach().contiguous();
    Tensor grad_q = empty(qs.sizes(), qs.dtype()), grad_k = empty(qs.sizes(), qs.dtype());
    Tensor grad_v = empty(vs.sizes(), vs.dtype());
    Tensor grad_bias_per_head;
    if (problem.has_bias) grad_bias_per_head = empty({qs.size(0), qs.size(1), problem.bias_size()}, qs.dtype());
    dispatch_floating(qs.dtype(), kOp, [&]<class T>() {
      cpu::vq_attention_bwd<T>(problem, qs.data_ptr<T>(), vs.data_ptr<T>(), ic.data_ptr<int64_t>(), cc.data_ptr<T>(),
                               bc.defined() ? bc.data_ptr<T>() : nullptr, os.data_ptr<T>(), gc.data_ptr<T>(),
                               lse_saved.data_ptr<T>(), grad_q.data_ptr<T>(), grad_k.data_ptr<T>(),
                               grad_v.data_ptr<T>(),
                               grad_bias_per_head.defined() ? grad_bias_per_head.data_ptr<T>() : nullptr);
    });
    if (ctx.needs_grad(0)) grads[0] = grad_q;
    if (ctx.needs_grad(1)) grads[1] = grad_k;
    if (ctx.needs_grad(2)) grads[2] = grad_v;
    if (problem.has_bias && ctx.needs_grad(3)) grads[3] = sum(grad_bias_per_head, {0});
    return grads;
  });
  return out;
}

namespace detail {

Tensor vq_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& indices,
                              const Tensor& codebook, const VQAttentionOptions& options, const Tensor& bias) {
  return reference_composite(check_and_describe(q, k, v, indices, codebook, options, bias), q, k, v, indices,
                             codebook, bias);
}

}  // namespace detail

namespace {

// The body of detail::vq_attention_reference, for checked arguments (any device).
Tensor reference_composite(const cpu::VQAttentionProblem& p, const Tensor& q, const Tensor& k, const Tensor& v,
                           const Tensor& indices, const Tensor& codebook, const Tensor& bias) {
  const int64_t B = q.size(0), H = q.size(1), L = p.L, S = p.S, d = p.d;
  // k̂ = codebook[h][indices] (B, H, L, d), a constant: row h·S + index of the (H·S, d) codebook.
  const Tensor codes = (p.shared_codebook ? codebook.detach().unsqueeze(0).expand({H, S, d}) : codebook.detach())
                           .contiguous()
                           .reshape({H * S, d});
  Tensor rows = empty({B, H, L}, DType::i64);
  {
    const Tensor ic = indices.cpu().contiguous();
    const int64_t* in = ic.data_ptr<int64_t>();
    int64_t* out = rows.data_ptr<int64_t>();
    for (int64_t n = 0; n < B * H * L; ++n) out[n] = (n / L) % H * S + in[n];
  }
  const Tensor k_hat = index_select(codes, 0, rows.reshape({-1}).to(q.device())).reshape({B, H, L, d});
  // Near keys score with the straight-through keys (value k̂, gradient to k) plus the bias; far
  // keys with the constant k̂.
  const Tensor k_straight = add(k, sub(k_hat, k).detach());
  const int64_t W = p.window;
  const Tensor near = pair_mask(L, q.device(), [&](int64_t i, int64_t j) {
    return W > 0 && (p.causal ? (i - j >= 0 && i - j < W) : std::abs(i - j) < W);
  });
  Tensor near_scores = mul(matmul(q, k_straight.transpose(-2, -1)), p.scale);  // (B, H, L, L)
  const Tensor far_scores = mul(matmul(q, k_hat.transpose(-2, -1)), p.scale);
  if (bias.defined()) {
    // offsets (L·L) into the bias row, clamped for the pairs outside the window (masked below).
    Tensor offsets = empty({L * L}, DType::i64);
    int64_t* data = offsets.data_ptr<int64_t>();
    for (int64_t i = 0; i < L; ++i)
      for (int64_t j = 0; j < L; ++j) {
        const int64_t offset = p.causal ? i - j : i - j + W - 1;
        data[i * L + j] = std::clamp<int64_t>(offset, 0, p.bias_size() - 1);
      }
    const Tensor bias_matrix = index_select(bias, 1, offsets.to(q.device())).reshape({H, L, L});
    near_scores = add(near_scores, bias_matrix);
  }
  Tensor scores = where(near, near_scores, far_scores);
  if (p.causal) scores = where(pair_mask(L, q.device(), [](int64_t i, int64_t j) { return j <= i; }), scores,
                               -std::numeric_limits<double>::infinity());
  return matmul(softmax(scores, -1), v);  // (B, H, L, dv)
}

}  // namespace
}  // namespace ember
