// Synthetic genome tasks. See models/vqdna/synthetic_genome.h.
#include "models/vqdna/synthetic_genome.h"

#include <array>
#include <cmath>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "engine/error.h"
#include "engine/factories.h"

namespace ember::models::vqdna {

namespace {

// Uniform in [0, 1) from the raw 64-bit output (std's distributions differ between libraries).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Order-2 chain: probabilities of the next base given the previous two (16 contexts x 4).
using Chain = std::array<std::array<double, 4>, 16>;

Chain random_chain(std::mt19937_64& rng, double concentration) {
  Chain chain{};
  for (auto& row : chain) {
    double total = 0.0;
    for (double& p : row) {
      // A gamma-like draw without std::gamma_distribution: -log(u) is Exp(1) = Gamma(1); raising it
      // to 1/concentration sharpens (concentration < 1) or flattens the rows.
      p = std::pow(-std::log(1.0 - uniform01(rng)), 1.0 / concentration) + 1e-3;
      total += p;
    }
    for (double& p : row) p /= total;
  }
  return chain;
}

int64_t draw(const std::array<double, 4>& probabilities, double u) {
  double cumulative = 0.0;
  for (int64_t b = 0; b < 3; ++b) {
    cumulative += probabilities[static_cast<size_t>(b)];
    if (u < cumulative) return b;
  }
  return 3;
}

std::vector<int64_t> random_motif(std::mt19937_64& rng, int64_t length) {
  std::vector<int64_t> motif(static_cast<size_t>(length));
  for (int64_t& base : motif) base = static_cast<int64_t>(rng() % 4);
  return motif;
}

void plant(std::vector<int64_t>& sequence, const std::vector<int64_t>& motif, std::mt19937_64& rng) {
  if (motif.size() > sequence.size()) return;
  const size_t start = rng() % (sequence.size() - motif.size() + 1);
  std::copy(motif.begin(), motif.end(), sequence.begin() + static_cast<std::ptrdiff_t>(start));
}

}  // namespace

SyntheticGenomeTask make_synthetic_genome_task(const SyntheticGenomeOptions& o) {
  EMBER_CHECK(o.num_classes >= 2 && o.length >= 3 && o.train_size > 0 && o.test_size > 0 && o.motif_length > 0 &&
                  o.motifs_per_class >= 0 && o.decoy_motifs >= 0,
              "make_synthetic_genome_task: need num_classes >= 2 ({}), length >= 3 ({}), positive split sizes ({}, {}) "
              "and motif_length ({})", o.num_classes, o.length, o.train_size, o.test_size, o.motif_length);
  EMBER_CHECK(o.class_signal >= 0.0 && o.class_signal <= 1.0 && o.motif_probability >= 0.0 &&
                  o.motif_probability <= 1.0 && o.n_rate >= 0.0 && o.n_rate < 1.0,
              "make_synthetic_genome_task: class_signal ({}), motif_probability ({}) and n_rate ({}) must be in [0, 1]",
              o.class_signal, o.motif_probability, o.n_rate);
  std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ULL + 12345);
  const Chain shared = random_chain(rng, 1.0);
  std::vector<Chain> chains;
  std::vector<std::vector<std::vector<int64_t>>> motifs;
  for (int64_t c = 0; c < o.num_classes; ++c) {
    Chain own = random_chain(rng, 0.5);
    for (size_t context = 0; context < own.size(); ++context)
      for (size_t b = 0; b < 4; ++b)
        own[context][b] = (1.0 - o.class_signal) * shared[context][b] + o.class_signal * own[context][b];
    chains.push_back(own);
    std::vector<std::vector<int64_t>> class_motifs;
    for (int64_t m = 0; m < o.motifs_per_class; ++m) class_motifs.push_back(random_motif(rng, o.motif_length));
    motifs.push_back(std::move(class_motifs));
  }
  std::vector<std::vector<int64_t>> decoys;
  for (int64_t m = 0; m < o.decoy_motifs; ++m) decoys.push_back(random_motif(rng, o.motif_length));

  auto make_split = [&](int64_t size) {
    GenomeSplit split;
    split.bases = empty({size, o.length}, TensorOptions(DType::i64));
    split.labels = empty({size}, TensorOptions(DType::i64));
    int64_t* bases = split.bases.data_ptr<int64_t>();
    int64_t* labels = split.labels.data_ptr<int64_t>();
    std::vector<int64_t> sequence(static_cast<size_t>(o.length));
    for (int64_t n = 0; n < size; ++n) {
      const int64_t label = static_cast<int64_t>(rng() % static_cast<uint64_t>(o.num_classes));
      const Chain& chain = chains[static_cast<size_t>(label)];
      sequence[0] = static_cast<int64_t>(rng() % 4);
      sequence[1] = static_cast<int64_t>(rng() % 4);
      for (size_t i = 2; i < sequence.size(); ++i)
        sequence[i] = draw(chain[static_cast<size_t>(sequence[i - 2] * 4 + sequence[i - 1])], uniform01(rng));
      for (const auto& decoy : decoys)
        if (uniform01(rng) < 0.5) plant(sequence, decoy, rng);
      const auto& class_motifs = motifs[static_cast<size_t>(label)];
      if (!class_motifs.empty() && uniform01(rng) < o.motif_probability)
        plant(sequence, class_motifs[rng() % class_motifs.size()], rng);
      for (int64_t& base : sequence)
        if (uniform01(rng) < o.n_rate) base = 4;
      std::copy(sequence.begin(), sequence.end(), bases + n * o.length);
      labels[n] = label;
    }
    return split;
  };
  SyntheticGenomeTask task;
  task.train = make_split(o.train_size);
  task.test = make_split(o.test_size);
  task.num_classes = o.num_classes;
  task.description = fmt::format(
      "synthetic genome ({} classes, {} bases, order-2 Markov chains with class signal {:g}, {} motifs of {} bases "
      "per class at p {:g}, {} decoys, N rate {:g}, seed {})",
      o.num_classes, o.length, o.class_signal, o.motifs_per_class, o.motif_length, o.motif_probability, o.decoy_motifs,
      o.n_rate, o.seed);
  return task;
}

}  // namespace ember::models::vqdna
