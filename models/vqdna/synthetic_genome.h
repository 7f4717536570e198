// Synthetic genome classification tasks for VQDNA's tests and its offline quick preset: every class
// is an order-2 Markov chain over A, C, G, T (a shared background chain mixed with a class-specific
// one) with class-specific motifs planted at random positions, shared decoy motifs in every class,
// and a few N bases. Deterministic in the seed; no downloaded data. The real genome tasks are in
// data/genome.h (scripts/fetch-data.sh). Twins: models/vqdna/vqdna.h, docs/VQDNA.md.
// Implementation: models/vqdna/synthetic_genome.cpp.
#pragma once
#include <cstdint>
#include <string>

#include "engine/tensor.h"

namespace ember::models::vqdna {

struct SyntheticGenomeOptions {
  int64_t num_classes = 2;
  int64_t length = 128;         // bases per sequence
  int64_t train_size = 2048;
  int64_t test_size = 512;
  double class_signal = 0.3;    // weight of the class-specific chain against the shared one, in [0, 1]
  int64_t motif_length = 8;
  int64_t motifs_per_class = 2;
  double motif_probability = 0.6;  // chance that a sequence carries one of its class's motifs
  int64_t decoy_motifs = 2;        // motifs planted in every class alike (probability 0.5 each)
  double n_rate = 0.002;           // chance of an N at each position
  uint64_t seed = 0;
};

struct GenomeSplit {
  Tensor bases;   // (N, L) int64, A 0, C 1, G 2, T 3, N 4
  Tensor labels;  // (N) int64
};

struct SyntheticGenomeTask {
  GenomeSplit train, test;
  int64_t num_classes = 0;
  std::string description;  // one line for reports
};

SyntheticGenomeTask make_synthetic_genome_task(const SyntheticGenomeOptions& options);

}  // namespace ember::models::vqdna
