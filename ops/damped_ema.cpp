// MEGA's damped EMA (Ma et al. 2023, "Mega: Moving Average Equipped Gated Attention", §3.1) as
// a composite of differentiable ops and long_conv. Formulas: autograd/derivatives/sequence.md
// (no node of its own: autograd differentiates the composite).
//
// MEGA's EMA h_t = α ⊙ u_t + (1 - α ⊙ δ) ⊙ h_{t-1}, expanded per channel into N dims by β and
// projected back by γ, is a linear time-invariant filter: y_t = Σ_j k_j x_{t-j} with
//   k[d, j] = Σ_n γ[d, n] α[d, n] β[d, n] q[d, n]^j,  q = 1 - α δ,
// which damped_ema_kernel materialises for j < L (as MEGA's _compute_kernel does, without its
// extra 1/sqrt(N) scale, which a caller folds into γ) and damped_ema applies by FFT.
#include "ops/damped_ema.h"

#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/elementwise.h"
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
  check_cpu(op, {&alpha_logit, &delta_logit, &beta, &gamma});
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

// The kernel without checks: (D, N) parameters -> (D, L).
Tensor ema_kernel(const Tensor& alpha_logit, const Tensor& delta_logit, const Tensor& beta, const Tensor& gamma,
                  int64_t L) {
  Tensor alpha = sigmoid(alpha_logit);
  Tensor decay = rsub(mul(alpha, sigmoid(delta_logit)), 1.0);       // q = 1 - α δ, in (0, 1)
  Tensor weight = mul(mul(gamma, alpha), beta);                       // (D, N)
  Tensor steps = arange(static_cast<double>(L), TensorOptions(alpha_logit.dtype()));  // (L)
  // q^j by pow, not exp(j log q): q may round to 0 in float32 (logits ~ 17), where j log q gives
  // 0 · -inf = NaN at j = 0; pow's gradient is 0 for exponent 0.
  Tensor powers = pow(decay.unsqueeze(-1), steps);                    // (D, N, L)
  return sum(mul(weight.unsqueeze(-1), powers), {1});                // (D, L)
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
  check_cpu(kOp, {&x, &omega});
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
