// cuda/activation.cu in the host emulator (run.sh): every activation's forward against a double
// formula, and its fused backward against central differences of the kernel's own float64
// forward (so the derivative is checked independently of how it is written), over a transposed
// input (launch_map's strided kernel) and a dense one (vectorized), avoiding the kinks.
#include "emu.h"
#include "activation_emu.inc"

using namespace ember::cuda;

double reference(ActivationKind k, double x, const ActivationScalars& s) {
  const double sp = std::log1p(std::exp(-std::abs(x))) + std::max(x, 0.0);  // softplus
  switch (k) {
    case ActivationKind::relu: return std::max(x, 0.0);
    case ActivationKind::relu6: return std::min(std::max(x, 0.0), 6.0);
    case ActivationKind::leaky_relu: return x > 0 ? x : s.alpha * x;
    case ActivationKind::elu: return x > 0 ? x : s.alpha * std::expm1(x);
    case ActivationKind::selu: return 1.0507009873554804934193349852946 * (x > 0 ? x : 1.6732632423543772848170429916717 * std::expm1(x));
    case ActivationKind::gelu: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case ActivationKind::gelu_tanh: return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case ActivationKind::silu: return x / (1 + std::exp(-x));
    case ActivationKind::mish: return x * std::tanh(sp);
    case ActivationKind::softplus: return s.beta * x > s.threshold ? x : std::log1p(std::exp(s.beta * x)) / s.beta;
    case ActivationKind::hardswish: return x * std::min(std::max(x + 3, 0.0), 6.0) / 6;
    case ActivationKind::hardsigmoid: return std::min(std::max(x + 3, 0.0), 6.0) / 6;
    case ActivationKind::hardtanh: return std::min(std::max(x, s.min_value), s.max_value);
    case ActivationKind::softsign: return x / (1 + std::abs(x));
    case ActivationKind::logsigmoid: return -(std::log1p(std::exp(-std::abs(x))) + std::max(-x, 0.0));
    case ActivationKind::sigmoid: return 1 / (1 + std::exp(-x));
    case ActivationKind::tanh: return std::tanh(x);
  }
  return 0;
}

const char* names[] = {"relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "gelu_tanh", "silu", "mish", "softplus",
                       "hardswish", "hardsigmoid", "hardtanh", "softsign", "logsigmoid", "sigmoid", "tanh"};

StridedLayout plain(int64_t R, int64_t C, bool transposed) {
  StridedLayout l;
  l.ndim = 2, l.numel = R * C, l.sizes[0] = R, l.sizes[1] = C;
  l.strides[0] = transposed ? 1 : C, l.strides[1] = transposed ? R : 1, l.contiguous = !transposed;
  return l;
}

template <class T> void run(ActivationKind k, bool transposed) {
  const int64_t R = 7, C = 41, n = R * C;
  ActivationScalars s;
  s.alpha = 0.1, s.beta = 1.5, s.threshold = 4.0, s.min_value = -0.7, s.max_value = 1.3;
  std::vector<T> x(n), y(n, T(-9)), g(n), gi(n, T(-9));
  for (int64_t i = 0; i < n; ++i) {
    double v = (i * 37 % 401 - 200) / 25.0 + 0.0123;  // in (-8, 8), off the integer kinks
    for (double kink : {-3.0, 0.0, 3.0, 6.0, -0.7, 1.3})
      if (std::abs(v - kink) < 1e-3) v += 0.01;
    x[i] = T(v);
    g[i] = T(((i * 13) % 7) * 0.25 - 0.5);
  }
  const ScalarType type = sizeof(T) == 4 ? ScalarType::f32 : ScalarType::f64;
  const Operand ox{x.data(), plain(R, C, transposed)}, oy{y.data(), plain(R, C, false)};
  launch_activation_forward(k, type, oy, ox, s, Stream{});
  const bool saved_output = k == ActivationKind::sigmoid || k == ActivationKind::tanh;
  launch_activation_backward(k, type, Operand{gi.data(), plain(R, C, false)}, Operand{g.data(), plain(R, C, false)},
                             saved_output ? oy : ox, s, Stream{});
  // central differences of the kernel's own forward in double, all points in one launch
  std::vector<double> pts(2 * n), vals(2 * n);
  for (int64_t i = 0; i < n; ++i) pts[2 * i] = double(x[ox.layout.offset_of(i)]) - 1e-6, pts[2 * i + 1] = pts[2 * i] + 2e-6;
  launch_activation_forward(k, ScalarType::f64, Operand{vals.data(), plain(n, 2, false)}, Operand{pts.data(), plain(n, 2, false)}, s,
                            Stream{});
  std::vector<double> want(n), got(n), want_grad(n), got_grad(n);
  for (int64_t i = 0; i < n; ++i) {
    want[i] = reference(k, double(x[ox.layout.offset_of(i)]), s), got[i] = double(y[i]);
    want_grad[i] = double(g[i]) * (vals[2 * i + 1] - vals[2 * i]) / 2e-6, got_grad[i] = double(gi[i]);
  }
  double e1, e2;
  const bool ok = emu::close(got, want, emu::tolerance<T>() * 10, 1e-3, &e1) && emu::close(got_grad, want_grad, std::max(emu::tolerance<T>() * 10, 1e-6), 1e-3, &e2);
  char line[200];
  std::snprintf(line, sizeof line, "%s %s (7, 41)%s: forward %.1e backward %.1e", names[static_cast<int>(k)], emu::type_name<T>(),
                transposed ? " transposed" : "", e1, e2);
  emu::check(ok, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (int k = 0; k < 17; ++k)
    for (bool transposed : {false, true}) {
      run<float>(static_cast<ActivationKind>(k), transposed);
      run<double>(static_cast<ActivationKind>(k), transposed);
    }
  return emu::finish("emu_activation");
}
