// Vector-quantization layers: nn::VectorQuantizer (VQ-VAE's bottleneck: nearest codeword,
// straight-through estimator, commitment loss, codebook learned by the codebook loss or by EMA
// k-means updates, dead-code restart) and nn::HierarchicalResidualQuantizer (VQDNA's HRQ,
// papers.md §4.1). Built on ops/vq.h. Implementation: models/nn/vq.cpp; tests: test/nn/test_vq.cpp;
// the math and the choices: docs/VQ.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/random.h"
#include "models/nn/module.h"

namespace ember::nn {

struct VectorQuantizerOptions {
  int64_t num_codes = 512;  // K
  int64_t dim = 64;         // D
  double commitment = 0.25;  // β: loss term β·||z - sg(e)||²
  // How the codebook learns: true = EMA k-means updates (VQ-VAE-2 / VQDNA; no codebook parameter,
  // the codebook is a buffer), false = the codebook loss ||sg(z) - e||² on a trained parameter.
  bool ema = true;
  double decay = 0.99;  // EMA decay γ
  double eps = 1e-5;    // Laplace smoothing of the EMA cluster sizes
  // Dead-code restart (training only; both 0 = off): a code unused for `dead_code_steps`
  // consecutive training steps, or (EMA mode) whose EMA cluster size falls below
  // `dead_code_threshold`, is reset to a random encoder output of the current batch.
  int64_t dead_code_steps = 0;
  double dead_code_threshold = 0.0;
  uint64_t seed = 0;  // the restart draws' generator (its state is a buffer: resume is exact)
};

struct VQResult {
  Tensor quantized;  // z's shape: e(indices) forward, straight-through gradient to z
  Tensor indices;    // z's shape without the last dim, int64
  Tensor loss;       // 0-d: β·commitment (+ codebook loss when not EMA); mean squared errors
  double perplexity = 0.0;  // exp(entropy) of this batch's code distribution
  double usage = 0.0;       // fraction of the K codes used in this batch
};

// z: (..., D). In training mode the call also updates the EMA codebook and restarts dead codes
// (no autograd through those updates); in eval mode it only quantizes.
class VectorQuantizer : public Module {
 public:
  explicit VectorQuantizer(const VectorQuantizerOptions& options);
  VQResult quantize(const Tensor& z);
  Tensor forward(const Tensor& z) override;  // quantize(z).quantized (the loss is dropped)
  std::string extra_repr() const override;

  // Codeword rows for indices (any shape) -> indices.shape + (D); no gradient.
  Tensor lookup(const Tensor& indices) const;
  void reset_parameters();  // codebook ~ U(-1/K, 1/K) as VQ-VAE; EMA state to match

  VectorQuantizerOptions options;
  // "embedding" (K, D): a parameter (loss mode) or a buffer (EMA mode); always the codebook in use.
  Tensor embedding;
  // EMA mode buffers: "cluster_size" (K) and "embed_avg" (K, D) as in VQ-VAE-2's reference code.
  Tensor cluster_size, embed_avg;
  // "steps_unused" (K) int64: consecutive training steps without use; "rng_state" (2) int64: the
  // restart generator's (seed, offset).
  Tensor steps_unused, rng_state;

 private:
  void ema_update(const Tensor& flat_z, const Tensor& indices, const Tensor& counts);
  void restart_dead_codes(const Tensor& flat_z, const Tensor& counts);
};

struct HierarchicalResidualQuantizerOptions {
  int64_t dim = 64;
  // Codebook size of each level (levels = its length). VQDNA writes "2^n·K" for level n; we read
  // it as K, 2K, 4K, ... (its reimplementation's K and 2K for two levels).
  std::vector<int64_t> num_codes = {512, 1024};
  // Everything else (β, EMA, restarts) shared by the levels; its num_codes and dim are ignored.
  VectorQuantizerOptions level;
};

struct HRQResult {
  Tensor quantized;               // Ẑ = (1/N) Σ_n Ĥ⁽ⁿ⁾ (straight-through), the taps' shape
  std::vector<Tensor> levels;     // Ĥ⁽ⁿ⁾ = e(M⁽ⁿ⁾), each straight-through
  std::vector<Tensor> indices;    // M⁽ⁿ⁾ per level
  Tensor loss;                    // Σ_n of the levels' losses
  std::vector<double> perplexity; // per level
  std::vector<double> usage;      // per level
};

// VQDNA's Hierarchical Residual Quantization over N encoder taps Z⁽¹⁾..Z⁽ᴺ⁾ (shallow to deep, same
// shape (..., D)): level 1 quantizes H⁽¹⁾ = Z⁽¹⁾; level n > 1 quantizes H⁽ⁿ⁾ = 2·Z⁽ⁿ⁾ - e(M⁽ⁿ⁻¹⁾)
// against its own codebook, where e(M⁽ⁿ⁻¹⁾) is the previous level's codeword, entering as a
// constant (docs/VQ.md, "HRQ choices"); the token embedding is the average of the levels'
// straight-through outputs. The levels are VectorQuantizers
// in the ModuleList child "levels" (state_dict keys "levels.0.embedding", ...).
class HierarchicalResidualQuantizer : public Module {
 public:
  explicit HierarchicalResidualQuantizer(const HierarchicalResidualQuantizerOptions& options);
  HRQResult quantize(const std::vector<Tensor>& taps);
  std::string extra_repr() const override;
  int64_t num_levels() const { return static_cast<int64_t>(levels.size()); }

  HierarchicalResidualQuantizerOptions options;
  std::vector<std::shared_ptr<VectorQuantizer>> levels;
};

}  // namespace ember::nn
