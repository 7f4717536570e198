// Activations: API, checks, dispatch and backward. Kernels: ops/cpu/activation.cpp.
// Formulas: autograd/derivatives/elementwise.md.
//
// Every activation saves its input and has two backwards that must agree (test_activation.cpp
// checks them against each other): a fused first-order kernel used when the backward itself is
// not recorded, and a composition of differentiable ops used under create_graph, so second
// derivatives (gradgradcheck, Hessian-vector products) work. Composite branches that where()
// discards are kept finite (e.g. exp(min(x, 0)) for elu), because where's double backward
// multiplies them by zero and 0 * inf would be NaN.
#include "ops/activation.h"

#include <functional>
#include <numbers>

#include "autograd/function.h"
#include "cuda/activation.h"
#include "engine/dispatch.h"
#include "engine/factories.h"
#include "ops/compare.h"
#include "ops/cpu/activation.h"
#include "ops/elementwise.h"
#include "ops/flops.h"
#include "ops/unary.h"

namespace ember {

namespace {

// (grad_output, input) -> grad_input, built from differentiable ops.
using CompositeBackward = std::function<Tensor(const Tensor& grad, const Tensor& x)>;

void check_activation_input(const char* name, const Tensor& x) {
  check_defined(name, x, "self");
  // The CUDA kernels also take bfloat16 and float16 (computing in float32).
  const bool half_on_cuda = x.device().is_cuda() && (x.dtype() == DType::bf16 || x.dtype() == DType::f16);
  EMBER_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64 || half_on_cuda,
              "{}: expected a float32 or float64 tensor (or bfloat16/float16 on CUDA), got {}", name, x.describe());
}

Tensor activation(const char* name, const Tensor& x, cpu::Activation kind, const cpu::ActivationParams& params,
                  CompositeBackward composite) {
  EMBER_PROFILE_OP(name, {x}, flops::same_shape(x, 1));
  check_activation_input(name, x);
  Tensor out = empty(x.sizes(), TensorOptions(x.dtype()).device(x.device()));
  if (x.device().is_cuda()) EMBER_CUDA_KERNEL(name, cuda::activation_forward(name, out, x, kind, params));
  else cpu::activation_forward(name, out, x, kind, params);
  record_backward(name, {x}, {out}, {x},
                  [name, kind, params, composite = std::move(composite)](BackwardContext& ctx) -> TensorList {
                    const Tensor& g = ctx.grad(0);
                    const Tensor& input = ctx.saved(0);
                    if (ctx.create_graph()) return {composite(g, input)};
                    EMBER_PROFILE_OP(std::string(name) + "_backward", {g, input}, flops::same_shape(input, 2, {g}));
                    Tensor grad_input = empty(input.sizes(), TensorOptions(input.dtype()).device(input.device()));
                    if (input.device().is_cuda()) {
                      EMBER_CUDA_KERNEL(name, cuda::activation_backward(name, grad_input, g, input, kind, params));
                    } else {
                      cpu::activation_backward(name, grad_input, g, input, kind, params);
                    }
                    return {grad_input};
                  });
  return out;
}

// A 0/1 tensor of x's dtype from a bool condition.
Tensor as_mask(const Tensor& condition, const Tensor& like) { return condition.to(like.dtype()); }

// Gradient of hardtanh(lo, hi): passes strictly inside (lo, hi), as PyTorch.
CompositeBackward hardtanh_composite(double lo, double hi) {
  return [lo, hi](const Tensor& g, const Tensor& x) {
    return mul(g, as_mask(logical_and(gt(x, lo), lt(x, hi)), g));
  };
}

// elu and selu: scale for x > 0, scale * alpha * exp(x) otherwise.
CompositeBackward elu_composite(double alpha, double scale) {
  return [alpha, scale](const Tensor& g, const Tensor& x) {
    return where(gt(x, 0.0), mul(g, scale), mul(g, mul(exp(clamp_max(x, 0.0)), scale * alpha)));
  };
}

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

}  // namespace

Tensor relu(const Tensor& x) {
  return activation("relu", x, cpu::Activation::relu, {}, [](const Tensor& g, const Tensor& input) {
    return mul(g, as_mask(gt(input, 0.0), g));
  });
}

Tensor relu6(const Tensor& x) {
  return activation("relu6", x, cpu::Activation::relu6, {}, hardtanh_composite(0.0, 6.0));
}

Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
  EMBER_CHECK(min_val <= max_val, "hardtanh: min_val {} is greater than max_val {}", min_val, max_val);
  cpu::ActivationParams params;
  params.min_value = min_val;
  params.max_value = max_val;
  return activation("hardtanh", x, cpu::Activation::hardtanh, params, hardtanh_composite(min_val, max_val));
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  cpu::ActivationParams params;
  params.alpha = negative_slope;
  return activation("leaky_relu", x, cpu::Activation::leaky_relu, params,
                    [negative_slope](const Tensor& g, const Tensor& input) {
                      return where(gt(input, 0.0), g, mul(g, negative_slope));
                    });
}

Tensor elu(const Tensor& x, double alpha) {
  cpu::ActivationParams params;
  params.alpha = alpha;
  return activation("elu", x, cpu::Activation::elu, params, elu_composite(alpha, 1.0));
}

Tensor selu(const Tensor& x) {
  return activation("selu", x, cpu::Activation::selu, {}, elu_composite(kSeluAlpha, kSeluScale));
}

Tensor gelu(const Tensor& x, const std::string& approximate) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh",
              "gelu: approximate must be \"none\" or \"tanh\", got \"{}\"", approximate);
  if (approximate == "none") {
    // d/dx x Phi(x) = Phi(x) + x phi(x)
    return activation("gelu", x, cpu::Activation::gelu, {}, [](const Tensor& g, const Tensor& input) {
      Tensor cdf = mul(add(erf(mul(input, 1.0 / std::numbers::sqrt2)), 1.0), 0.5);
      Tensor pdf = mul(exp(mul(square(input), -0.5)), 0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
      return mul(g, add(cdf, mul(input, pdf)));
    });
  }
  // y = x/2 (1 + t), t = tanh(c (x + k x^3)): dy = (1 + t)/2 + x/2 (1 - t^2) c (1 + 3 k x^2)
  return activation("gelu", x, cpu::Activation::gelu_tanh, {}, [](const Tensor& g, const Tensor& input) {
    const double c = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;
    const double k = 0.044715;
    Tensor t = tanh(mul(add(input, mul(pow(input, 3.0), k)), c));
    Tensor inner_grad = mul(add(mul(square(input), 3.0 * k), 1.0), c);
    Tensor outer = mul(mul(input, 0.5), rsub(square(t), 1.0));
    return mul(g, add(mul(add(t, 1.0), 0.5), mul(outer, inner_grad)));
  });
}

Tensor silu(const Tensor& x) {
  // d/dx x s(x) = s (1 + x (1 - s))
  return activation("silu", x, cpu::Activation::silu, {}, [](const Tensor& g, const Tensor& input) {
    Tensor s = sigmoid(input);
    return mul(g, mul(s, add(mul(input, rsub(s, 1.0)), 1.0)));
  });
}

Tensor mish(const Tensor& x) {
  // d/dx x tanh(sp(x)) = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)
  return activation("mish", x, cpu::Activation::mish, {}, [](const Tensor& g, const Tensor& input) {
    Tensor t = tanh(softplus(input));
    return mul(g, add(t, mul(mul(input, sigmoid(input)), rsub(square(t), 1.0))));
  });
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  EMBER_CHECK(beta != 0.0, "softplus: beta must be nonzero (input {})", x.defined() ? x.describe() : "undefined");
  cpu::ActivationParams params;
  params.beta = beta;
  params.threshold = threshold;
  return activation("softplus", x, cpu::Activation::softplus, params,
                    [beta, threshold](const Tensor& g, const Tensor& input) {
                      Tensor scaled = mul(input, beta);
                      return where(gt(scaled, threshold), g, mul(g, sigmoid(scaled)));
                    });
}

Tensor hardswish(const Tensor& x) {
  // 0 below -3, x/3 + 1/2 on [-3, 3], 1 above (PyTorch's closed/open ends).
  return activation("hardswish", x, cpu::Activation::hardswish, {}, [](const Tensor& g, const Tensor& input) {
    Tensor middle = mul(g, add(div(input, 3.0), 0.5));
    return where(lt(input, -3.0), 0.0, where(le(input, 3.0), middle, g));
  });
}

Tensor hardsigmoid(const Tensor& x) {
  return activation("hardsigmoid", x, cpu::Activation::hardsigmoid, {}, [](const Tensor& g, const Tensor& input) {
    return mul(g, mul(as_mask(logical_and(gt(input, -3.0), lt(input, 3.0)), g), 1.0 / 6.0));
  });
}

Tensor softsign(const Tensor& x) {
  return activation("softsign", x, cpu::Activation::softsign, {}, [](const Tensor& g, const Tensor& input) {
    return div(g, square(add(abs(input), 1.0)));  // 1 / (1 + |x|)^2
  });
}

Tensor logsigmoid(const Tensor& x) {
  return activation("logsigmoid", x, cpu::Activation::logsigmoid, {}, [](const Tensor& g, const Tensor& input) {
    return mul(g, sigmoid(neg(input)));  // 1 - sigmoid(x)
  });
}

Tensor glu(const Tensor& x, int64_t dim) {
  check_activation_input("glu", x);
  EMBER_CHECK(x.dim() > 0, "glu: cannot halve a 0-d tensor {}", x.describe());
  const int64_t d = wrap_dim(dim, x.dim(), "glu");
  EMBER_CHECK(x.size(d) % 2 == 0, "glu: dimension {} of {} must have an even size to be halved", dim,
              x.describe());
  // Views plus two differentiable ops: the backward comes from narrow, sigmoid and mul.
  const int64_t half = x.size(d) / 2;
  return mul(x.narrow(d, 0, half), sigmoid(x.narrow(d, half, half)));
}

}  // namespace ember
