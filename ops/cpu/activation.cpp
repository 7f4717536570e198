// CPU kernels for the activations. Twin: ops/activation.cpp (API, checks, backward).
// Each activation is a small functor with fwd(x) and bwd(grad, saved); `visit` maps the enum to
// the functor once, and the forward and backward kernels are two generic loops over it.
// Kink conventions follow PyTorch: relu'(0) = 0, leaky_relu'(0) = slope, hardtanh and relu6 pass
// the gradient only strictly inside (min, max), hardswish'(-3) = -0.5 and hardswish'(3) = 1.5.
#include "ops/cpu/activation.h"

#include <cmath>

#include "engine/dispatch.h"
#include "ops/cpu/loops.h"
#include "ops/cpu/math.h"

namespace ember::cpu {

namespace {

// Written as `x < 0 ? 0 : x` (not `x > 0 ? x : 0`) so NaN propagates, as torch.relu does.
template <class T> struct Relu {
  EMBER_ALWAYS_INLINE T fwd(T x) const { return x < T(0) ? T(0) : x; }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const { return x > T(0) ? g : T(0); }
};

template <class T> struct Hardtanh {  // also relu6 = hardtanh(0, 6)
  T lo, hi;
  EMBER_ALWAYS_INLINE T fwd(T x) const { return x < lo ? lo : (x > hi ? hi : x); }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const { return (x > lo && x < hi) ? g : T(0); }
};

template <class T> struct LeakyRelu {
  T slope;
  EMBER_ALWAYS_INLINE T fwd(T x) const { return x > T(0) ? x : x * slope; }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const { return x > T(0) ? g : g * slope; }
};

// elu and selu: scale * (x > 0 ? x : alpha * (exp(x) - 1)).
template <class T> struct Elu {
  T alpha, scale;
  EMBER_ALWAYS_INLINE T fwd(T x) const { return x > T(0) ? scale * x : scale * alpha * math::fast_expm1(x); }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const { return x > T(0) ? g * scale : g * scale * alpha * math::fast_exp(x); }
};

// gelu(x) = x * Phi(x), Phi the standard normal CDF.
template <class T> struct Gelu {
  static constexpr T kInvSqrt2 = T(0.70710678118654752440);
  static constexpr T kInvSqrt2Pi = T(0.39894228040143267794);
  EMBER_ALWAYS_INLINE T fwd(T x) const { return T(0.5) * x * (T(1) + math::fast_erf(x * kInvSqrt2)); }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const {
    const T cdf = T(0.5) * (T(1) + math::fast_erf(x * kInvSqrt2));
    const T pdf = kInvSqrt2Pi * math::fast_exp(T(-0.5) * x * x);
    return g * (cdf + x * pdf);
  }
};

// gelu(x, "tanh") = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
template <class T> struct GeluTanh {
  static constexpr T kSqrt2OverPi = T(0.79788456080286535588);
  static constexpr T kCoeff = T(0.044715);
  EMBER_ALWAYS_INLINE T fwd(T x) const {
    return T(0.5) * x * (T(1) + math::fast_tanh(kSqrt2OverPi * (x + kCoeff * x * x * x)));
  }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const {
    const T t = math::fast_tanh(kSqrt2OverPi * (x + kCoeff * x * x * x));
    const T inner_grad = kSqrt2OverPi * (T(1) + T(3) * kCoeff * x * x);
    return g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * inner_grad);
  }
};

template <class T> struct Silu {
  EMBER_ALWAYS_INLINE T fwd(T x) const { return x * math::fast_sigmoid(x); }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const {
    const T s = math::fast_sigmoid(x);
    return g * s * (T(1) + x * (T(1) - s));
  }
};

// mish(x) = x tanh(softplus(x)), with tanh(softplus) in closed form (math::tanh_softplus).
template <class T> struct Mish {
  EMBER_ALWAYS_INLINE T fwd(T x) const { return x * math::tanh_softplus(x); }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const {
    const T t = math::tanh_softplus(x);
    return g * (t + x * math::fast_sigmoid(x) * (T(1) - t * t));
  }
};

// softplus(x) = log(1 + exp(beta x)) / beta, linear where beta x > threshold (as PyTorch).
template <class T> struct Softplus {
  T beta, threshold;
  // log1p(exp(z)) = max(z, 0) + log1p(exp(-|z|)): no overflow, vectorisable.
  EMBER_ALWAYS_INLINE T fwd(T x) const {
    const T z = x * beta;
    const T smooth = ((z > T(0) ? z : T(0)) + math::log1p_exp_neg_abs(z)) / beta;  // unconditional: no branch
    return z > threshold ? x : smooth;
  }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const { return x * beta > threshold ? g : g * math::fast_sigmoid(x * beta); }
};

template <class T> struct Hardswish {
  EMBER_ALWAYS_INLINE T fwd(T x) const {
    const T r6 = x + T(3) < T(0) ? T(0) : (x + T(3) > T(6) ? T(6) : x + T(3));
    return x * r6 / T(6);
  }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const { return x < T(-3) ? T(0) : (x <= T(3) ? g * (x / T(3) + T(0.5)) : g); }
};

template <class T> struct Hardsigmoid {
  EMBER_ALWAYS_INLINE T fwd(T x) const {
    const T r6 = x + T(3) < T(0) ? T(0) : (x + T(3) > T(6) ? T(6) : x + T(3));
    return r6 / T(6);
  }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const { return (x > T(-3) && x < T(3)) ? g / T(6) : T(0); }
};

template <class T> struct Softsign {
  EMBER_ALWAYS_INLINE T fwd(T x) const { return x / (T(1) + std::fabs(x)); }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const {
    const T d = T(1) + std::fabs(x);
    return g / (d * d);
  }
};

// log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): no overflow for either sign.
template <class T> struct Logsigmoid {
  EMBER_ALWAYS_INLINE T fwd(T x) const { return (x < T(0) ? x : T(0)) - math::log1p_exp_neg_abs(x); }
  EMBER_ALWAYS_INLINE T bwd(T g, T x) const { return g * math::fast_sigmoid(-x); }
};

// sigmoid and tanh: backward from the output y.
template <class T> struct Sigmoid {
  EMBER_ALWAYS_INLINE T fwd(T x) const { return math::fast_sigmoid(x); }
  EMBER_ALWAYS_INLINE T bwd(T g, T y) const { return g * y * (T(1) - y); }
};
template <class T> struct Tanh {
  EMBER_ALWAYS_INLINE T fwd(T x) const { return math::fast_tanh(x); }
  EMBER_ALWAYS_INLINE T bwd(T g, T y) const { return g * (T(1) - y * y); }
};

// SELU's constants (Klambauer et al. 2017), as in torch.nn.functional.selu.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

template <class T, class F> void visit(Activation kind, const ActivationParams& p, F&& f) {
  switch (kind) {
    case Activation::relu: return f(Relu<T>{});
    case Activation::relu6: return f(Hardtanh<T>{T(0), T(6)});
    case Activation::hardtanh: return f(Hardtanh<T>{T(p.min_value), T(p.max_value)});
    case Activation::leaky_relu: return f(LeakyRelu<T>{T(p.alpha)});
    case Activation::elu: return f(Elu<T>{T(p.alpha), T(1)});
    case Activation::selu: return f(Elu<T>{T(kSeluAlpha), T(kSeluScale)});
    case Activation::gelu: return f(Gelu<T>{});
    case Activation::gelu_tanh: return f(GeluTanh<T>{});
    case Activation::silu: return f(Silu<T>{});
    case Activation::mish: return f(Mish<T>{});
    case Activation::softplus: return f(Softplus<T>{T(p.beta), T(p.threshold)});
    case Activation::hardswish: return f(Hardswish<T>{});
    case Activation::hardsigmoid: return f(Hardsigmoid<T>{});
    case Activation::softsign: return f(Softsign<T>{});
    case Activation::logsigmoid: return f(Logsigmoid<T>{});
    case Activation::sigmoid: return f(Sigmoid<T>{});
    case Activation::tanh: return f(Tanh<T>{});
  }
}

}  // namespace

bool backward_uses_output(Activation kind) { return kind == Activation::sigmoid || kind == Activation::tanh; }

void activation_forward(const char* op, const Tensor& out, const Tensor& x, Activation kind,
                        const ActivationParams& params) {
  dispatch_floating(out.dtype(), op, [&]<class T>() {
    visit<T>(kind, params, [&](auto fn) { unary_kernel<T>(out, x, [fn](T v) EMBER_ALWAYS_INLINE { return fn.fwd(v); }); });
  });
}

void activation_backward(const char* op, const Tensor& grad_input, const Tensor& grad_output, const Tensor& saved,
                         Activation kind, const ActivationParams& params) {
  dispatch_floating(grad_input.dtype(), op, [&]<class T>() {
    visit<T>(kind, params, [&](auto fn) {
      binary_kernel<T>(grad_input, grad_output, saved, [fn](T g, T v) EMBER_ALWAYS_INLINE { return fn.bwd(g, v); });
    });
  });
}

}  // namespace ember::cpu
