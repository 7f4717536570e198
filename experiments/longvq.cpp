// `longvq`: LongVQ (papers.md §5, docs/LONGVQ.md) against the Transformer and MEGA at an equal
// parameter budget, on the sequence classification tasks; the shared comparison is
// experiments/seq_experiment.{h,cpp}.
//
//   build/experiments/longvq --preset quick          # ListOps (L 128) + sequential Fashion-MNIST
//   build/experiments/longvq --preset none --tasks listops --max-length 2000 --d-model 80 --depth 6 --epochs 20
#include "experiments/seq_experiment.h"
#include "experiments/trainer/cli.h"

namespace {

int run(int argc, char** argv) {
  ember::experiments::SeqExperimentSpec spec;
  spec.binary = "longvq";
  spec.method = "longvq";
  spec.description = "LongVQ (MEGA's EMA + attention over vector-quantized keys) vs Transformer and MEGA";
  // LongVQ's numbers could not be read ([NF] in papers.md §5); baselines quoted from memory ([M]).
  spec.paper = {
      {"listops", "transformer", "36.37", "LRA (Tay et al. 2021), ListOps L ≤ 2k [M]"},
      {"listops", "mega", "63.14", "MEGA (Ma et al. 2023), ListOps L ≤ 2k [M]"},
      {"listops", "longvq", "[NF]", "LongVQ (IJCAI'24): table not readable"},
      {"lra_image", "transformer", "42.44", "LRA Image = sequential grey CIFAR-10, L 1024 [M]"},
      {"lra_image", "mega", "90.44", "MEGA, LRA Image [M]"},
      {"lra_image", "longvq", "[NF]", "LongVQ (IJCAI'24): table not readable"},
  };
  spec.paper_note =
      "Paper numbers: [M] = quoted from memory in papers.md, [NF] = not found. Our quick preset trains tiny models "
      "for minutes on short ListOps and sequential Fashion-MNIST, so compare the ranking, not the values.";
  return ember::experiments::run_seq_experiment(argc, argv, spec);
}

}  // namespace

int main(int argc, char** argv) { return ember::experiments::run_main(argc, argv, run); }
