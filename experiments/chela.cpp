// `chela`: CHELA (papers.md §3, docs/CHELA.md) against the Transformer and MEGA at an equal
// parameter budget, on the sequence classification tasks and byte-level LM; the shared comparison is
// experiments/seq_experiment.{h,cpp}.
//
//   build/experiments/chela --preset quick           # ListOps (L 128) + sequential Fashion-MNIST
//   build/experiments/chela --preset quick_lm        # byte-level LM on dict-gcide (bits per byte)
//   build/experiments/chela --preset none --tasks listops --max-length 2000 --d-model 80 --depth 6 --epochs 20
#include "experiments/seq_experiment.h"
#include "experiments/trainer/cli.h"

namespace {

int run(int argc, char** argv) {
  const auto spec = ember::experiments::paper_experiment_spec(
      "chela", "CHELA (short-long convolutions + chunked linear attention) vs Transformer and MEGA", "CHELA (ICML'24)");
  return ember::experiments::run_seq_experiment(argc, argv, spec);
}

}  // namespace

int main(int argc, char** argv) { return ember::experiments::run_main(argc, argv, run); }
