// The comparison both sequence-model binaries run (experiments/chela.cpp, experiments/longvq.cpp):
// a method and its baselines (Transformer, MEGA) trained on the same sequence classification tasks
// and on byte-level language modelling (task text_lm: causal models, next-byte cross-entropy, bits per
// byte on the held-out test split; dict-gcide or --text-file) (data/sequence_datasets.h) at an equal
// parameter budget (models/seq/seq_zoo.h,
// match_parameter_budget), with the shared Trainer (experiments/trainer/trainer.h); the run folder
// gets config.json, <task>/<model>/metrics.jsonl + checkpoints, <task>/compare_*.png
// (scripts/plot_compare.py) and results.md: our table beside the paper's numbers.
//
//   build/experiments/chela --preset quick      # ListOps (short) + sequential Fashion-MNIST, small models
//   build/experiments/longvq --preset quick --tasks listops --epochs 2
//   build/experiments/chela --preset quick_lm                  # byte LM on dict-gcide, L 256, a few minutes
//   build/experiments/longvq --preset quick_lm --text-file book.txt.gz
//
// Implementation: experiments/seq_experiment.cpp.
#pragma once
#include <string>
#include <vector>

namespace ember::experiments {

// A number a paper (or the baseline literature) reports, printed beside ours.
struct PaperNumber {
  std::string task;    // our task name (listops, seq_fmnist, ...)
  std::string model;   // our model name
  std::string value;   // as printed, e.g. "63.14"
  std::string source;  // e.g. "MEGA (Ma et al. 2023) Table 2 [M]"
};

struct SeqExperimentSpec {
  std::string binary;                 // "chela" / "longvq": the experiment name and run folder
  std::string method;                 // the model under test (models/seq names)
  std::vector<std::string> baselines = {"transformer", "mega"};
  std::string description;            // one line for --help and results.md
  std::vector<PaperNumber> paper;     // the paper-side table
  std::string paper_note;             // what is and is not known about the paper's numbers
};

// The spec of a paper's binary: its method against the Transformer and MEGA, with the baselines'
// LRA numbers (quoted from memory in papers.md, [M]) and the method's own rows marked not found
// ([NF]: neither CHELA's nor LongVQ's tables could be read), `method_paper` naming the paper.
SeqExperimentSpec paper_experiment_spec(const std::string& method, const std::string& description,
                                        const std::string& method_paper);

// main() body of a sequence-model binary.
int run_seq_experiment(int argc, char** argv, const SeqExperimentSpec& spec);

}  // namespace ember::experiments
