// MEGA's damped EMA (Ma et al. 2023, "Mega: Moving Average Equipped Gated Attention", §3.1) as
// differentiable ops on the (D, N) parameters, one fused node for the kernel (Note [EMA
// Vandermonde]) and long_conv. Formulas: autograd/derivatives/sequence.md. CUDA: the node's
// kernels are in cuda/damped_ema.{cpp,cu}; the rest is ops (sigmoid, mul, pad, long_conv, ...).
//
// MEGA's EMA h_t = α ⊙ u_t + (1 - α ⊙ δ) ⊙ h_{t-1}, expanded per channel into N dims by β and
// projected back by γ, is a linear time-invariant filter: y_t = Σ_j k_j x_{t-j} with
//   k[d, j] = Σ_n γ[d, n] α[d, n] β[d, n] q[d, n]^j,  q = 1 - α δ,
// which damped_ema_kernel materialises for j < L (as MEGA's _compute_kernel does, without its
// extra 1/sqrt(N) scale, which a caller folds into γ) and damped_ema applies by FFT.
//
// Note [EMA Vandermonde]: the sum over n of w q^j is one fused node (ema_vandermonde): MEGA's
// composite holds a (D, N, L) tensor of powers (268 MB in float32 for D = 256, N = 16,
// L = 16384), the node only its (D, L) output. Powers come from repeated multiplication in
// double (error ~ j · 1e-16, where float32 would drift by j · 6e-8); its first-order backward
//   gw[d, n] = Σ_j g[d, j] q^j,   gq[d, n] = w Σ_j g[d, j] j q^(j-1)
// is one more such pass. With create_graph the backward is the same sums by differentiable ops
// (pow on (D, N, L)), so double backward works.
#include "ops/damped_ema.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/function.h"
#include "cuda/damped_ema.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "engine/parallel.h"
#include "ops/elementwise.h"
#include "ops/flops.h"
#include "ops/long_conv.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/unary.h"

namespace ember {

namespace {

void check_parameters(const char* op, const Tensor& alpha_logit, const Tensor& delta_logit, const Tensor& beta,
                      const Tensor& gamma) {
  check_defined(op, alpha_logit, "alpha_logit");
  check_defined(op, delta_logit, "delta_logit");
  check_defined(op, beta, "beta");
  check_defined(op, gamma, "gamma");
  check_same_device(op, {&alpha_logit, &delta_logit, &beta, &gamma});
  EMBER_CHECK(alpha_logit.dim() == 2, "{}: the parameters must be (D, N), got alpha_logit {}", op,
              alpha_logit.describe());
  EMBER_CHECK(alpha_logit.dtype() == DType::f32 || alpha_logit.dtype() == DType::f64,
              "{}: the parameters must be float32 or float64, got alpha_logit {}", op, alpha_logit.describe());
  for (const Tensor* t : {&delta_logit, &beta, &gamma}) {
    EMBER_CHECK(t->sizes() == alpha_logit.sizes() && t->dtype() == alpha_logit.dtype(),
                "{}: alpha_logit, delta_logit, beta and gamma must share one shape (D, N) and dtype, got "
                "alpha_logit {}, delta_logit {}, beta {}, gamma {}",
                op, alpha_logit.describe(), delta_logit.describe(), beta.describe(), gamma.describe());
  }
}

// j = 0..L-1 as (L) of like's dtype on its device, and max(j - 1, 0) (exponents of the
// derivative's powers).
Tensor steps_of(int64_t L, const Tensor& like, int64_t shift = 0) {
  return clamp_min(arange(static_cast<double>(-shift), static_cast<double>(L - shift), 1.0,
                          TensorOptions(like.dtype()).device(like.device())),
                   0.0);
}

// k[d, j] = Σ_n w[d, n] q[d, n]^j by differentiable ops (the create_graph path): (D, N, L) powers.
// pow, not exp(j log q): q may round to 0 in float32 (logits ~ 17), where j log q gives
// 0 · -inf = NaN at j = 0; pow's gradient is 0 for exponent 0.
Tensor vandermonde_composite(const Tensor& weight, const Tensor& decay, const Tensor& g, int64_t L, bool grad_of_w) {
  if (grad_of_w) return sum(mul(g.unsqueeze(1), pow(decay.unsqueeze(-1), steps_of(L, decay))), {-1});
  // Σ_j g j q^(j-1) = Σ_j g j q^max(j-1, 0) (the j = 0 term is 0 either way)
  Tensor powers = pow(decay.unsqueeze(-1), steps_of(L, decay, 1));
  return mul(weight, sum(mul(mul(g.unsqueeze(1), powers), steps_of(L, decay)), {-1}));
}

// Note [Subnormal powers]: q^j decays geometrically and, for a long L, passes through double's
// subnormal range (below 2.2e-308) on its way to 0, where every multiply is a ~100x slower
// microcode assist: the LongVQ / MEGA blocks took 3-4x longer per doubling of L from 2k to 8k, all
// of it in this kernel (EMBER_PROFILE of seq_scaling: 31 ms at L 2048, 7 s at 8192). A power below
// kNegligiblePower is set to 0 instead: what it drops is below 1e-200 of |w|, under double's
// resolution of any sum that matters and far under float32's smallest number.
constexpr double kNegligiblePower = 1e-200;
inline double next_power(double power, double q) { return power < kNegligiblePower ? 0.0 : power * q; }

// Fused loops over (d, n, j) in double. Forward: out (D, L) = Σ_n w q^j. Backward (grad != null):
// grad_w and grad_q (D, N) from grad (D, L). Powers below kNegligiblePower are 0 (Note [Subnormal powers]).
template <class T>
void vandermonde_loops(int64_t D, int64_t N, int64_t L, const T* w, const T* q, const T* grad, T* out, T* grad_w,
                       T* grad_q) {
  parallel_for(D, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, N * L)), [&](int64_t begin, int64_t end) {
    std::vector<double> power(N), previous(N), sum_w(N), sum_q(N);
    for (int64_t d = begin; d < end; ++d) {
      for (int64_t n = 0; n < N; ++n) {
        power[n] = 1.0;
        previous[n] = 0.0;  // q^(j-1), times j = 0 at j = 0
        sum_w[n] = sum_q[n] = 0.0;
      }
      for (int64_t j = 0; j < L; ++j) {
        if (grad == nullptr) {
          double acc = 0.0;
          for (int64_t n = 0; n < N; ++n) {
            acc += static_cast<double>(w[d * N + n]) * power[n];
            power[n] = next_power(power[n], static_cast<double>(q[d * N + n]));
          }
          // The tail of the kernel is flushed too, so that the FFT convolution it feeds never
          // computes on subnormal T either.
          out[d * L + j] = std::fabs(acc) < static_cast<double>(std::numeric_limits<T>::min()) ? T(0) : static_cast<T>(acc);
        } else {
          const double g = static_cast<double>(grad[d * L + j]);
          for (int64_t n = 0; n < N; ++n) {
            sum_w[n] += g * power[n];
            sum_q[n] += g * static_cast<double>(j) * previous[n];
            previous[n] = power[n];
            power[n] = next_power(power[n], static_cast<double>(q[d * N + n]));
          }
        }
      }
      if (grad != nullptr)
        for (int64_t n = 0; n < N; ++n) {
          grad_w[d * N + n] = static_cast<T>(sum_w[n]);
          grad_q[d * N + n] = static_cast<T>(static_cast<double>(w[d * N + n]) * sum_q[n]);
        }
    }
  });
}

// Note [EMA Vandermonde]: weight, decay (D, N) -> (D, L).
Tensor ema_vandermonde(const Tensor& weight, const Tensor& decay, int64_t L) {
  constexpr const char* kOp = "damped_ema_kernel";
  const int64_t D = weight.size(0), N = weight.size(1);
  const double work = 2.0 * static_cast<double>(D * N * L);  // one multiply-add per (d, n, j)
  EMBER_PROFILE_OP(kOp, {weight, decay},
                   profiler::OpCost{work, flops::bytes_of({weight, decay}) + flops::output_bytes({weight}, D * L)});
  const TensorOptions on_device = TensorOptions(weight.dtype()).device(weight.device());
  Tensor out = empty({D, L}, on_device);
  if (weight.device().is_cuda()) {
    EMBER_CUDA_KERNEL(kOp, cuda::ema_vandermonde_fwd(weight.detach().contiguous(), decay.detach().contiguous(), L, out));
  } else {
    const Tensor wc = weight.detach().contiguous(), qc = decay.detach().contiguous();
    dispatch_floating(weight.dtype(), kOp, [&]<class T>() {
      vandermonde_loops<T>(D, N, L, wc.data_ptr<T>(), qc.data_ptr<T>(), nullptr, out.data_ptr<T>(), nullptr, nullptr);
    });
  }
  record_backward(kOp, {weight, decay}, {out}, {weight, decay}, [D, N, L, work](BackwardContext& ctx) -> TensorList {
    const Tensor& g = ctx.grad(0);
    if (!g.defined()) return {Tensor(), Tensor()};
    const Tensor& weight = ctx.saved(0);
    const Tensor& decay = ctx.saved(1);
    if (ctx.create_graph()) {
      return {ctx.needs_grad(0) ? vandermonde_composite(weight, decay, g, L, true) : Tensor(),
              ctx.needs_grad(1) ? vandermonde_composite(weight, decay, g, L, false) : Tensor()};
    }
    EMBER_PROFILE_OP("damped_ema_kernel_backward", {g, weight, decay},
                     profiler::OpCost{2.0 * work, flops::bytes_of({g, weight, decay, weight, decay})});
    const TensorOptions on_device = TensorOptions(weight.dtype()).device(weight.device());
    Tensor grad_w = empty({D, N}, on_device), grad_q = empty({D, N}, on_device);
    const Tensor wc = weight.detach().contiguous(), qc = decay.detach().contiguous(), gc = g.detach().contiguous();
    if (weight.device().is_cuda()) {
      EMBER_CUDA_KERNEL(kOp, cuda::ema_vandermonde_bwd(wc, qc, gc, grad_w, grad_q));
      return {ctx.needs_grad(0) ? grad_w : Tensor(), ctx.needs_grad(1) ? grad_q : Tensor()};
    }
    dispatch_floating(weight.dtype(), kOp, [&]<class T>() {
      vandermonde_loops<T>(D, N, L, wc.data_ptr<T>(), qc.data_ptr<T>(), gc.data_ptr<T>(), nullptr,
                           grad_w.data_ptr<T>(), grad_q.data_ptr<T>());
    });
    return {ctx.needs_grad(0) ? grad_w : Tensor(), ctx.needs_grad(1) ? grad_q : Tensor()};
  });
  return out;
}

// The kernel without checks: (D, N) parameters -> (D, L).
Tensor ema_kernel(const Tensor& alpha_logit, const Tensor& delta_logit, const Tensor& beta, const Tensor& gamma,
                  int64_t L) {
  Tensor alpha = sigmoid(alpha_logit);
  Tensor decay = rsub(mul(alpha, sigmoid(delta_logit)), 1.0);  // q = 1 - α δ, in [0, 1)
  Tensor weight = mul(mul(gamma, alpha), beta);                  // (D, N)
  return ema_vandermonde(weight, decay, L);
}

}  // namespace

Tensor damped_ema_kernel(const Tensor& alpha_logit, const Tensor& delta_logit, const Tensor& beta,
                         const Tensor& gamma, int64_t L) {
  constexpr const char* kOp = "damped_ema_kernel";
  check_parameters(kOp, alpha_logit, delta_logit, beta, gamma);
  EMBER_CHECK(L >= 1, "{}: the kernel length L must be >= 1, got {}", kOp, L);
  return ema_kernel(alpha_logit, delta_logit, beta, gamma, L);
}

Tensor damped_ema(const Tensor& x, const Tensor& alpha_logit, const Tensor& delta_logit, const Tensor& beta,
                  const Tensor& gamma, const Tensor& omega, bool bidirectional) {
  constexpr const char* kOp = "damped_ema";
  check_parameters(kOp, alpha_logit, delta_logit, beta, gamma);
  check_defined(kOp, x, "x");
  check_defined(kOp, omega, "omega");
  check_same_device(kOp, {&x, &alpha_logit, &omega});
  EMBER_CHECK(x.dim() == 3 && x.size(1) >= 1, "{}: x must be (B, L, D) with L >= 1, got {}", kOp, x.describe());
  const int64_t L = x.size(1), D = x.size(2), N = alpha_logit.size(1);
  EMBER_CHECK(alpha_logit.size(0) == D && x.dtype() == alpha_logit.dtype(),
              "{}: the parameters {} need D = {} rows and x's dtype (x {})", kOp, alpha_logit.describe(), D,
              x.describe());
  EMBER_CHECK(omega.dim() == 1 && omega.size(0) == D && omega.dtype() == x.dtype(),
              "{}: omega must be ({}) of x's dtype, got {} (x {})", kOp, D, omega.describe(), x.describe());
  Tensor y;
  if (!bidirectional) {
    y = long_conv(x, ema_kernel(alpha_logit, delta_logit, beta, gamma, L), /*causal=*/true);
  } else {
    EMBER_CHECK(N % 2 == 0, "{}: bidirectional needs an even N (one half per direction), got parameters {}", kOp,
                alpha_logit.describe());
    const int64_t half = N / 2;
    auto part = [half](const Tensor& t, int64_t start) { return t.narrow(1, start, half); };
    Tensor forward = ema_kernel(part(alpha_logit, 0), part(delta_logit, 0), part(beta, 0), part(gamma, 0), L);
    Tensor backward =
        ema_kernel(part(alpha_logit, half), part(delta_logit, half), part(beta, half), part(gamma, half), L);
    // One centred kernel of length 2L - 1 (centre c = L - 1), as MEGA builds it: tap c + j is
    // forward[j] (looks j steps back), tap c - j is backward[j] (j steps ahead); both hit c.
    Tensor centred = add(pad(forward, {L - 1, 0}), pad(flip(backward, {1}), {0, L - 1}));  // (D, 2L - 1)
    y = long_conv(x, centred, /*causal=*/false);
  }
  return add(y, mul(x, omega));
}

}  // namespace ember
