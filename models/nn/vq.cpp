// nn::VectorQuantizer and nn::HierarchicalResidualQuantizer (models/nn/vq.h). The search and the
// straight-through estimator are ops (ops/vq.h); the EMA codebook update and the dead-code restart
// are plain loops on the buffers under no-grad (they are state updates, not differentiable).
// Tests: test/nn/test_vq.cpp; the math and the choices: docs/VQ.md.
#include "models/nn/vq.h"

#include <cmath>
#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "engine/dispatch.h"
#include "engine/copy.h"
#include "engine/factories.h"
#include "models/nn/container.h"
#include "models/nn/init.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/reduce.h"
#include "ops/unary.h"
#include "ops/vq.h"

namespace ember::nn {

namespace {

void check_options(const VectorQuantizerOptions& o) {
  EMBER_CHECK(o.num_codes >= 1 && o.dim >= 1, "VectorQuantizer: num_codes and dim must be >= 1, got {} and {}",
              o.num_codes, o.dim);
  EMBER_CHECK(o.commitment >= 0.0, "VectorQuantizer: commitment must be >= 0, got {}", o.commitment);
  EMBER_CHECK(o.decay >= 0.0 && o.decay < 1.0, "VectorQuantizer: decay must be in [0, 1), got {}", o.decay);
  EMBER_CHECK(o.eps > 0.0, "VectorQuantizer: eps must be > 0, got {}", o.eps);
  EMBER_CHECK(o.dead_code_steps >= 0 && o.dead_code_threshold >= 0.0,
              "VectorQuantizer: dead_code_steps and dead_code_threshold must be >= 0, got {} and {}",
              o.dead_code_steps, o.dead_code_threshold);
}

}  // namespace

VectorQuantizer::VectorQuantizer(const VectorQuantizerOptions& opts) : Module("VectorQuantizer"), options(opts) {
  check_options(options);
  const int64_t K = options.num_codes, D = options.dim;
  embedding = options.ema ? register_buffer("embedding", zeros({K, D})) : register_parameter("embedding", zeros({K, D}));
  if (options.ema) {
    cluster_size = register_buffer("cluster_size", zeros({K}));
    embed_avg = register_buffer("embed_avg", zeros({K, D}));
  }
  steps_unused = register_buffer("steps_unused", zeros({K}, DType::i64));
  rng_state = register_buffer("rng_state", zeros({2}, DType::i64));
  reset_parameters();
}

void VectorQuantizer::reset_parameters() {
  NoGradGuard no_grad;
  const double bound = 1.0 / static_cast<double>(options.num_codes);
  init::uniform_(embedding, -bound, bound);
  if (options.ema) {
    // Every code starts as one point at its initial position (cluster size 1, sum = the code):
    // an unused code's sum and size then decay together and it stays where it is, where a zero
    // size would send it to embed_avg / eps (docs/VQ.md, "EMA choices").
    cluster_size.fill_(1.0);
    embed_avg.copy_(embedding);
  }
  steps_unused.fill_(0.0);
  int64_t* state = rng_state.data_ptr<int64_t>();
  state[0] = static_cast<int64_t>(options.seed);
  state[1] = 0;
}

std::string VectorQuantizer::extra_repr() const {
  std::string repr = fmt::format("num_codes={}, dim={}, commitment={}, ema={}", options.num_codes, options.dim,
                                 options.commitment, repr_bool(options.ema));
  if (options.ema) repr += fmt::format(", decay={}, eps={}", options.decay, options.eps);
  if (options.dead_code_steps > 0) repr += fmt::format(", dead_code_steps={}", options.dead_code_steps);
  if (options.dead_code_threshold > 0) repr += fmt::format(", dead_code_threshold={}", options.dead_code_threshold);
  return repr;
}

Tensor VectorQuantizer::lookup(const Tensor& indices) const {
  EMBER_CHECK(indices.defined() && indices.dtype() == DType::i64,
              "VectorQuantizer.lookup: indices must be int64, got {}", indices.describe());
  Shape out_shape = indices.sizes();
  out_shape.push_back(options.dim);
  NoGradGuard no_grad;
  const Tensor flat = indices.reshape({-1});
  // vq_quantize_st checks the range; with z = the rows themselves it is a plain lookup.
  return vq_quantize_st(zeros({flat.numel(), options.dim}, embedding.dtype()), embedding.detach(), flat)
      .reshape(out_shape);
}

VQResult VectorQuantizer::quantize(const Tensor& z) {
  const int64_t K = options.num_codes, D = options.dim;
  EMBER_CHECK(z.defined() && z.dim() >= 1 && z.size(-1) == D && z.dtype() == embedding.dtype(),
              "VectorQuantizer: z must be (..., {}) in the codebook's dtype {}, got {}", D,
              dtype_name(embedding.dtype()), z.describe());
  const Tensor flat = z.reshape({-1, D});  // (N, D)
  Tensor indices;
  {
    NoGradGuard no_grad;
    indices = vq_nearest(flat.detach(), embedding.detach()).indices;
  }
  VQResult result;
  const Tensor quantized = vq_quantize_st(flat, embedding, indices);  // (N, D), gradient straight to z
  // β·||z - sg(e)||² (+ ||sg(z) - e||² for the loss-trained codebook), means over the elements.
  result.loss = mul(mean(square(sub(flat, quantized.detach()))), options.commitment);
  if (!options.ema) result.loss = add(result.loss, mean(square(sub(index_select(embedding, 0, indices), flat.detach()))));
  const Tensor counts = vq_code_counts(indices, K);
  if (flat.size(0) > 0) {
    result.perplexity = vq_perplexity(counts);
    const int64_t* c = counts.data_ptr<int64_t>();
    int64_t used = 0;
    for (int64_t k = 0; k < K; ++k) used += c[k] > 0;
    result.usage = static_cast<double>(used) / static_cast<double>(K);
  }
  if (is_training() && flat.size(0) > 0) {
    NoGradGuard no_grad;
    const Tensor flat_z = flat.detach().contiguous();
    if (options.ema) ema_update(flat_z, indices, counts);
    restart_dead_codes(flat_z, counts);
  }
  result.quantized = quantized.reshape(z.sizes());
  Shape index_shape(z.sizes().begin(), z.sizes().end() - 1);
  result.indices = indices.reshape(index_shape);
  return result;
}

Tensor VectorQuantizer::forward(const Tensor& z) { return quantize(z).quantized; }

// Note [EMA codebook]: with n_k this batch's count of code k and s_k the sum of its rows,
//   N_k <- γ N_k + (1 - γ) n_k,   m_k <- γ m_k + (1 - γ) s_k,
//   e_k = m_k / Ñ_k,  Ñ_k = (N_k + ε) / (Σ N + K ε) · Σ N   (Laplace smoothing: no division by 0)
// as VQ-VAE's appendix and VQ-VAE-2's reference code.
void VectorQuantizer::ema_update(const Tensor& flat_z, const Tensor& indices, const Tensor& counts) {
  const int64_t K = options.num_codes, D = options.dim, N = flat_z.size(0);
  const int64_t* idx = indices.data_ptr<int64_t>();
  const int64_t* n = counts.data_ptr<int64_t>();
  dispatch_floating(embedding.dtype(), "VectorQuantizer", [&]<class T>() {
    const T decay = static_cast<T>(options.decay), eps = static_cast<T>(options.eps);
    const T* z = flat_z.data_ptr<T>();
    T* size = cluster_size.data_ptr<T>();
    T* avg = embed_avg.data_ptr<T>();
    T* e = embedding.data_ptr<T>();
    std::vector<T> sums(K * D, T(0));
    for (int64_t r = 0; r < N; ++r)
      for (int64_t c = 0; c < D; ++c) sums[idx[r] * D + c] += z[r * D + c];
    T total = T(0);
    for (int64_t k = 0; k < K; ++k) {
      size[k] = decay * size[k] + (T(1) - decay) * static_cast<T>(n[k]);
      total += size[k];
    }
    for (int64_t k = 0; k < K; ++k) {
      const T smoothed = (size[k] + eps) / (total + static_cast<T>(K) * eps) * total;
      for (int64_t c = 0; c < D; ++c) {
        avg[k * D + c] = decay * avg[k * D + c] + (T(1) - decay) * sums[k * D + c];
        e[k * D + c] = avg[k * D + c] / smoothed;
      }
    }
  });
}

void VectorQuantizer::restart_dead_codes(const Tensor& flat_z, const Tensor& counts) {
  const int64_t K = options.num_codes, D = options.dim, N = flat_z.size(0);
  const int64_t* n = counts.data_ptr<int64_t>();
  int64_t* unused = steps_unused.data_ptr<int64_t>();
  for (int64_t k = 0; k < K; ++k) unused[k] = n[k] > 0 ? 0 : unused[k] + 1;
  if (options.dead_code_steps == 0 && options.dead_code_threshold == 0.0) return;
  std::vector<int64_t> dead;
  for (int64_t k = 0; k < K; ++k) {
    const bool idle = options.dead_code_steps > 0 && unused[k] >= options.dead_code_steps;
    const bool faded = options.ema && options.dead_code_threshold > 0.0 &&
                       read_element(cluster_size, k) < options.dead_code_threshold;
    if (idle || faded) dead.push_back(k);
  }
  if (dead.empty()) return;
  // The replacement rows, drawn from the module's own generator (its state is the rng_state buffer).
  int64_t* state = rng_state.data_ptr<int64_t>();
  Generator gen(static_cast<uint64_t>(state[0]));
  gen.set_state({static_cast<uint64_t>(state[0]), static_cast<uint64_t>(state[1])});
  const Tensor rows = randint(0, N, {static_cast<int64_t>(dead.size())}, gen);
  state[1] = static_cast<int64_t>(gen.state().offset);
  const int64_t* row = rows.data_ptr<int64_t>();
  dispatch_floating(embedding.dtype(), "VectorQuantizer", [&]<class T>() {
    const T* z = flat_z.data_ptr<T>();
    T* e = embedding.data_ptr<T>();
    for (size_t i = 0; i < dead.size(); ++i) {
      const int64_t k = dead[i];
      std::copy(z + row[i] * D, z + (row[i] + 1) * D, e + k * D);
      if (options.ema) {
        // A fresh one-point cluster at the new position.
        cluster_size.data_ptr<T>()[k] = T(1);
        std::copy(z + row[i] * D, z + (row[i] + 1) * D, embed_avg.data_ptr<T>() + k * D);
      }
      unused[k] = 0;
    }
  });
}

HierarchicalResidualQuantizer::HierarchicalResidualQuantizer(const HierarchicalResidualQuantizerOptions& opts)
    : Module("HierarchicalResidualQuantizer"), options(opts) {
  EMBER_CHECK(!options.num_codes.empty(), "HierarchicalResidualQuantizer: num_codes must list at least one level");
  auto list = register_module("levels", std::make_shared<ModuleList>());
  for (size_t n = 0; n < options.num_codes.size(); ++n) {
    VectorQuantizerOptions level = options.level;
    level.num_codes = options.num_codes[n];
    level.dim = options.dim;
    level.seed = options.level.seed + n;  // independent restart streams
    levels.push_back(std::make_shared<VectorQuantizer>(level));
    list->push_back(levels.back());
  }
}

std::string HierarchicalResidualQuantizer::extra_repr() const {
  return fmt::format("levels={}, dim={}, num_codes=[{}]", levels.size(), options.dim,
                     fmt::join(options.num_codes, ", "));
}

HRQResult HierarchicalResidualQuantizer::quantize(const std::vector<Tensor>& taps) {
  EMBER_CHECK(taps.size() == levels.size(), "HierarchicalResidualQuantizer: expected {} encoder taps (one per level), got {}",
              levels.size(), taps.size());
  for (size_t n = 0; n < taps.size(); ++n) {
    EMBER_CHECK(taps[n].defined() && taps[n].sizes() == taps[0].sizes(),
                "HierarchicalResidualQuantizer: tap {} is {}, expected tap 0's shape {}", n, taps[n].describe(),
                taps[0].defined() ? shape_str(taps[0].sizes()) : std::string("(undefined)"));
  }
  HRQResult result;
  Tensor previous_code;  // e(M⁽ⁿ⁻¹⁾), a constant
  for (size_t n = 0; n < levels.size(); ++n) {
    // H⁽¹⁾ = Z⁽¹⁾, H⁽ⁿ⁾ = 2·Z⁽ⁿ⁾ - e(M⁽ⁿ⁻¹⁾)
    const Tensor h = n == 0 ? taps[0] : sub(mul(taps[n], 2.0), previous_code);
    VQResult level = levels[n]->quantize(h);
    previous_code = level.quantized.detach();
    result.quantized = n == 0 ? level.quantized : add(result.quantized, level.quantized);
    result.loss = n == 0 ? level.loss : add(result.loss, level.loss);
    result.levels.push_back(level.quantized);
    result.indices.push_back(level.indices);
    result.perplexity.push_back(level.perplexity);
    result.usage.push_back(level.usage);
  }
  result.quantized = div(result.quantized, static_cast<double>(levels.size()));
  return result;
}

}  // namespace ember::nn
