// cuda/optim.cu in the host emulator (run.sh): one fused_optimizer_step call updates 20 parameters
// (two launches of 16 + 4: the multi-tensor batching) of sizes 0..300 (several blocks along x, one
// block row per tensor), each with its own hyperparameters and flags, for three steps; compared
// with the per-element formulas of optim/sgd.cpp, optim/adamw.cpp and optim/lion.cpp (repeated
// here operation for operation, in the parameter's type).
#include "emu.h"
#include "optim_emu.inc"

using namespace ember::cuda;

constexpr int kParams = 20;
const int64_t kSizes[kParams] = {1, 7, 33, 255, 256, 257, 300, 0, 2, 100, 31, 32, 129, 64, 5, 299, 17, 1, 200, 77};

// What optim/<name>.cpp puts in the record for parameter p at step t (1-based); varied per p.
FusedHyper hyper_for(FusedOptimizer kind, int p, int t) {
  FusedHyper h;
  const double lr = 0.01 * (1 + p % 3), wd = (p % 4 == 1) ? 0.05 : 0.0;
  const double sign = (p % 5 == 2) ? -1.0 : 1.0;
  if (kind == FusedOptimizer::sgd) {
    const double momentum = (p % 3 == 0) ? 0.0 : 0.9;
    const bool nesterov = momentum > 0 && p % 2 == 0;
    const double dampening = nesterov ? 0.0 : (p % 7 == 1 ? 0.3 : 0.0);
    h.lr = lr, h.beta1 = momentum, h.keep = 1.0 - dampening, h.weight_decay = wd, h.sign = sign;
    h.flags = (momentum != 0.0 ? kFusedMomentum : 0u) | (nesterov ? kFusedNesterov : 0u) | (t == 1 ? kFusedFirstStep : 0u);
  } else if (kind == FusedOptimizer::adam) {
    const bool decoupled = p % 2 == 1, amsgrad = p % 3 == 2;
    const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    h.beta1 = beta1, h.beta2 = beta2, h.eps = eps, h.sign = sign;
    h.weight_decay = decoupled ? 0.0 : wd;
    h.shrink = decoupled ? 1.0 - lr * (wd + 0.01) : 1.0;
    h.step_size = lr / (1.0 - std::pow(beta1, t));
    h.correction2_sqrt = std::sqrt(1.0 - std::pow(beta2, t));
    h.flags = amsgrad ? kFusedAmsgrad : 0u;
  } else {
    h.lr = lr, h.beta1 = 0.9, h.beta2 = 0.99, h.shrink = 1.0 - lr * wd;
  }
  return h;
}

// optim/<name>.cpp's CPU loop bodies.
template <class T> void reference(FusedOptimizer kind, const FusedHyper& hp, int64_t n, T* w, const T* g, T* b0, T* b1, T* b2) {
  for (int64_t i = 0; i < n; ++i) {
    if (kind == FusedOptimizer::sgd) {
      const double lr = hp.lr, wd = hp.weight_decay, sign = hp.sign, momentum = hp.beta1, keep = hp.keep;
      const bool first = hp.flags & kFusedFirstStep, nesterov = hp.flags & kFusedNesterov;
      if (!(hp.flags & kFusedMomentum)) {
        const T d = T(sign) * g[i] + T(wd) * w[i];
        w[i] -= T(lr) * d;
        continue;
      }
      T* b = b0;
      const T d = T(sign) * g[i] + T(wd) * w[i];
      b[i] = first ? d : T(momentum) * b[i] + T(keep) * d;
      w[i] -= T(lr) * (nesterov ? d + T(momentum) * b[i] : b[i]);
    } else if (kind == FusedOptimizer::adam) {
      T *m = b0, *v = b1, *vmax = (hp.flags & kFusedAmsgrad) ? b2 : nullptr;
      const double beta1 = hp.beta1, beta2 = hp.beta2, eps = hp.eps, shrink = hp.shrink;
      const T grad = T(hp.sign) * g[i] + T(hp.weight_decay) * w[i];
      if (shrink != 1.0) w[i] *= T(shrink);
      m[i] = T(beta1) * m[i] + T(1.0 - beta1) * grad;
      v[i] = T(beta2) * v[i] + T(1.0 - beta2) * grad * grad;
      T second = v[i];
      if (vmax) second = vmax[i] = std::max(vmax[i], v[i]);
      const T denom = std::sqrt(second) / T(hp.correction2_sqrt) + T(eps);
      w[i] -= T(hp.step_size) * m[i] / denom;
    } else {
      T* m = b0;
      const double beta1 = hp.beta1, beta2 = hp.beta2, shrink = hp.shrink, lr = hp.lr;
      const T c = T(beta1) * m[i] + T(1.0 - beta1) * g[i];
      const T sign = c > T(0) ? T(1) : (c < T(0) ? T(-1) : T(0));
      w[i] = w[i] * T(shrink) - T(lr) * sign;
      m[i] = T(beta2) * m[i] + T(1.0 - beta2) * g[i];
    }
  }
}

template <class T> void run(FusedOptimizer kind, const char* name) {
  srand(7);
  auto rnd = [] { return (rand() / (double)RAND_MAX) * 2 - 1; };
  // per parameter: w, g, 3 slots; the kernel's copy and the reference's copy
  std::vector<std::vector<T>> w(kParams), g(kParams), s(kParams * 3), rw, rs;
  for (int p = 0; p < kParams; ++p) {
    w[p].resize(kSizes[p]);
    g[p].resize(kSizes[p]);
    for (auto& x : w[p]) x = T(rnd());
    for (int k = 0; k < 3; ++k) s[p * 3 + k].assign(kSizes[p], T(0));
  }
  rw = w, rs = s;
  bool ok = true;
  double worst = 0;
  for (int t = 1; t <= 3; ++t) {
    std::vector<FusedTensor> records(kParams);
    for (int p = 0; p < kParams; ++p) {
      for (auto& x : g[p]) x = T(rnd());
      if (kSizes[p] > 3) g[p][3] = T(0);  // lion's sign(0) = 0
      FusedTensor& r = records[p];
      r.param = w[p].data(), r.grad = g[p].data(), r.numel = kSizes[p];
      r.hyper = hyper_for(kind, p, t);
      const bool slots = kind == FusedOptimizer::adam || (r.hyper.flags & kFusedMomentum) || kind == FusedOptimizer::lion;
      for (int k = 0; k < 3; ++k) r.state[k] = slots ? s[p * 3 + k].data() : nullptr;
      if (kind == FusedOptimizer::adam && !(r.hyper.flags & kFusedAmsgrad)) r.state[2] = nullptr;
      reference<T>(kind, r.hyper, kSizes[p], rw[p].data(), g[p].data(), rs[p * 3].data(), rs[p * 3 + 1].data(), rs[p * 3 + 2].data());
    }
    fused_optimizer_step(kind, std::is_same_v<T, float> ? ScalarType::f32 : ScalarType::f64, records.data(), kParams, Stream{});
    for (int p = 0; p < kParams; ++p) {
      for (int64_t i = 0; i < kSizes[p]; ++i) {
        const double e = std::abs(double(w[p][i]) - double(rw[p][i])) / std::max(1e-3, std::abs(double(rw[p][i])));
        worst = std::max(worst, e);
        for (int k = 0; k < 3; ++k) worst = std::max(worst, std::abs(double(s[p * 3 + k][i]) - double(rs[p * 3 + k][i])));
      }
    }
  }
  ok = worst <= (std::is_same_v<T, float> ? 1e-6 : 1e-14);
  emu::check(ok, std::string(name) + " " + emu::type_name<T>() + " 20 parameters x 3 steps: worst error " + std::to_string(worst));
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  for (auto [kind, name] : {std::pair{FusedOptimizer::sgd, "sgd"}, {FusedOptimizer::adam, "adam"}, {FusedOptimizer::lion, "lion"}}) {
    run<float>(kind, name);
    run<double>(kind, name);
  }
  return emu::finish("emu_optim");
}
