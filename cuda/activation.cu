// Activation kernels on the GPU: each activation is a functor with fwd(x) and bwd(grad, saved),
// the formulas and kink conventions of ops/cpu/activation.cpp (relu'(0) = 0, leaky_relu'(0) =
// slope, hardtanh/relu6 pass the gradient only strictly inside (min, max), hardswish'(-3) = -0.5,
// hardswish'(3) = 1.5), with CUDA's exp/tanh/erf in place of the CPU's vectorisable float32
// polynomials (both within a few ulp of the true value). `visit` maps the kind to the functor;
// the forward and backward are two launch_map calls over it (cuda/elementwise_map.cuh).
// Launchers: cuda/activation_launch.h; Tensor level: cuda/activation.cpp.
#include "cuda/activation_launch.h"
#include "cuda/device_math.cuh"
#include "cuda/elementwise_map.cuh"

namespace ember::cuda {

namespace {

// Written as `x < 0 ? 0 : x` (not `x > 0 ? x : 0`) so NaN propagates, as torch.relu does.
template <class A> struct Relu {
  __device__ A fwd(A x) const { return x < A(0) ? A(0) : x; }
  __device__ A bwd(A g, A x) const { return x > A(0) ? g : A(0); }
};

template <class A> struct Hardtanh {  // also relu6 = hardtanh(0, 6)
  A lo, hi;
  __device__ A fwd(A x) const { return x < lo ? lo : (x > hi ? hi : x); }
  __device__ A bwd(A g, A x) const { return (x > lo && x < hi) ? g : A(0); }
};

template <class A> struct LeakyRelu {
  A slope;
  __device__ A fwd(A x) const { return x > A(0) ? x : x * slope; }
  __device__ A bwd(A g, A x) const { return x > A(0) ? g : g * slope; }
};

// elu and selu: scale * (x > 0 ? x : alpha * (exp(x) - 1)).
template <class A> struct Elu {
  A alpha, scale;
  __device__ A fwd(A x) const { return x > A(0) ? scale * x : scale * alpha * math::expm1(x); }
  __device__ A bwd(A g, A x) const { return x > A(0) ? g * scale : g * scale * alpha * math::exp(x); }
};

// gelu(x) = x * Phi(x), Phi the standard normal CDF.
template <class A> struct Gelu {
  static constexpr A kInvSqrt2 = A(0.70710678118654752440);
  static constexpr A kInvSqrt2Pi = A(0.39894228040143267794);
  __device__ A fwd(A x) const { return A(0.5) * x * (A(1) + math::erf(x * kInvSqrt2)); }
  __device__ A bwd(A g, A x) const {
    const A cdf = A(0.5) * (A(1) + math::erf(x * kInvSqrt2));
    const A pdf = kInvSqrt2Pi * math::exp(A(-0.5) * x * x);
    return g * (cdf + x * pdf);
  }
};

// gelu(x, "tanh") = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
template <class A> struct GeluTanh {
  static constexpr A kSqrt2OverPi = A(0.79788456080286535588);
  static constexpr A kCoeff = A(0.044715);
  __device__ A fwd(A x) const { return A(0.5) * x * (A(1) + math::tanh(kSqrt2OverPi * (x + kCoeff * x * x * x))); }
  __device__ A bwd(A g, A x) const {
    const A t = math::tanh(kSqrt2OverPi * (x + kCoeff * x * x * x));
    const A inner_grad = kSqrt2OverPi * (A(1) + A(3) * kCoeff * x * x);
    return g * (A(0.5) * (A(1) + t) + A(0.5) * x * (A(1) - t * t) * inner_grad);
  }
};

template <class A> struct Silu {
  __device__ A fwd(A x) const { return x * math::sigmoid(x); }
  __device__ A bwd(A g, A x) const {
    const A s = math::sigmoid(x);
    return g * s * (A(1) + x * (A(1) - s));
  }
};

// mish(x) = x tanh(softplus(x)), tanh(softplus) in closed form (math::tanh_softplus).
template <class A> struct Mish {
  __device__ A fwd(A x) const { return x * math::tanh_softplus(x); }
  __device__ A bwd(A g, A x) const {
    const A t = math::tanh_softplus(x);
    return g * (t + x * math::sigmoid(x) * (A(1) - t * t));
  }
};

// softplus(x) = log(1 + exp(beta x)) / beta, linear where beta x > threshold (as PyTorch);
// log1p(exp(z)) = max(z, 0) + log1p(exp(-|z|)) never overflows.
template <class A> struct Softplus {
  A beta, threshold;
  __device__ A fwd(A x) const {
    const A z = x * beta;
    return z > threshold ? x : ((z > A(0) ? z : A(0)) + math::log1p_exp_neg_abs(z)) / beta;
  }
  __device__ A bwd(A g, A x) const { return x * beta > threshold ? g : g * math::sigmoid(x * beta); }
};

template <class A> __device__ __forceinline__ A relu6_of_shift(A x) {
  const A shifted = x + A(3);
  return shifted < A(0) ? A(0) : (shifted > A(6) ? A(6) : shifted);
}

template <class A> struct Hardswish {
  __device__ A fwd(A x) const { return x * relu6_of_shift(x) / A(6); }
  __device__ A bwd(A g, A x) const { return x < A(-3) ? A(0) : (x <= A(3) ? g * (x / A(3) + A(0.5)) : g); }
};

template <class A> struct Hardsigmoid {
  __device__ A fwd(A x) const { return relu6_of_shift(x) / A(6); }
  __device__ A bwd(A g, A x) const { return (x > A(-3) && x < A(3)) ? g / A(6) : A(0); }
};

template <class A> struct Softsign {
  __device__ A fwd(A x) const { return x / (A(1) + math::fabs(x)); }
  __device__ A bwd(A g, A x) const {
    const A d = A(1) + math::fabs(x);
    return g / (d * d);
  }
};

// log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): no overflow for either sign.
template <class A> struct Logsigmoid {
  __device__ A fwd(A x) const { return (x < A(0) ? x : A(0)) - math::log1p_exp_neg_abs(x); }
  __device__ A bwd(A g, A x) const { return g * math::sigmoid(-x); }
};

// sigmoid and tanh: backward from the output y.
template <class A> struct Sigmoid {
  __device__ A fwd(A x) const { return math::sigmoid(x); }
  __device__ A bwd(A g, A y) const { return g * y * (A(1) - y); }
};
template <class A> struct Tanh {
  __device__ A fwd(A x) const { return math::tanh(x); }
  __device__ A bwd(A g, A y) const { return g * (A(1) - y * y); }
};

template <class Fn> struct Forward {
  Fn fn;
  template <class A> __device__ A operator()(A x) const { return fn.fwd(x); }
};
template <class Fn> struct Backward {
  Fn fn;
  template <class A> __device__ A operator()(A g, A saved) const { return fn.bwd(g, saved); }
};

// SELU's constants (Klambauer et al. 2017), as in torch.nn.functional.selu and ops/cpu/activation.cpp.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

template <class A, class F> void visit(ActivationKind kind, const ActivationScalars& p, F&& f) {
  switch (kind) {
    case ActivationKind::relu: return f(Relu<A>{});
    case ActivationKind::relu6: return f(Hardtanh<A>{A(0), A(6)});
    case ActivationKind::hardtanh: return f(Hardtanh<A>{A(p.min_value), A(p.max_value)});
    case ActivationKind::leaky_relu: return f(LeakyRelu<A>{A(p.alpha)});
    case ActivationKind::elu: return f(Elu<A>{A(p.alpha), A(1)});
    case ActivationKind::selu: return f(Elu<A>{A(kSeluAlpha), A(kSeluScale)});
    case ActivationKind::gelu: return f(Gelu<A>{});
    case ActivationKind::gelu_tanh: return f(GeluTanh<A>{});
    case ActivationKind::silu: return f(Silu<A>{});
    case ActivationKind::mish: return f(Mish<A>{});
    case ActivationKind::softplus: return f(Softplus<A>{A(p.beta), A(p.threshold)});
    case ActivationKind::hardswish: return f(Hardswish<A>{});
    case ActivationKind::hardsigmoid: return f(Hardsigmoid<A>{});
    case ActivationKind::softsign: return f(Softsign<A>{});
    case ActivationKind::logsigmoid: return f(Logsigmoid<A>{});
    case ActivationKind::sigmoid: return f(Sigmoid<A>{});
    case ActivationKind::tanh: return f(Tanh<A>{});
  }
  detail::kernel_error("activation", "unknown activation kind");
}

}  // namespace

void launch_activation_forward(ActivationKind kind, ScalarType type, const Operand& out, const Operand& x,
                               const ActivationScalars& scalars, Stream stream) {
  dispatch_floating_type(type, "activation", [&]<class T>() {
    visit<acc_t<T>>(kind, scalars, [&](auto fn) {
      launch_map<T, T>("activation forward", stream, Forward<decltype(fn)>{fn}, out, {x});
    });
  });
}

void launch_activation_backward(ActivationKind kind, ScalarType type, const Operand& grad_input,
                                const Operand& grad_output, const Operand& saved, const ActivationScalars& scalars,
                                Stream stream) {
  dispatch_floating_type(type, "activation backward", [&]<class T>() {
    visit<acc_t<T>>(kind, scalars, [&](auto fn) {
      launch_map<T, T, T>("activation backward", stream, Backward<decltype(fn)>{fn}, grad_input,
                          {grad_output, saved});
    });
  });
}

}  // namespace ember::cuda
