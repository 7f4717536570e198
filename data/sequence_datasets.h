// The registry of named sequence tasks (LRA-style, byte-level text, genomes) and the convention
// every one of them follows. Implementation: data/sequence_datasets.cpp; the generators and readers
// behind it: data/listops.h, data/pathfinder.h, data/text.h, data/fasta.h, data/genome.h; the
// metrics to report: experiments/trainer/seq_metrics.h; sources and splits: docs/DATASETS.md.
//
// The convention (what the sequence models and VQDNA code against):
// - Every Example's input is a 1-D int64 tensor of token ids, shape (L) with L = info.max_length
//   for every example of a task (so batches stack to (B, L)). Shorter sequences are padded at the
//   END with info.pad_id. Token ids lie in [0, info.vocab_size); pad_id (and mask_id where there is
//   one) are part of that range, at its top, so that raw values keep their natural ids:
//     listops:        digits 0-9 = ids 0-9, then [MIN [MAX [MED [SM ] (see data/listops.h), PAD
//     pathfinder*, seq_fmnist: pixel value v in 0..255 = id v, PAD = 256 (never occurs: fixed length)
//     text_*:         byte b = id b, PAD = 256
//     genome_*:       A C G T N = ids 0-4, PAD = 5, MASK = 6 (for masked pre-training)
// - Classification (info.kind == classification): target is a 0-d int64 class in
//   [0, info.num_classes). A model pools over the non-PAD positions (input != pad_id).
// - Byte LM (info.kind == language_model): input = bytes [o, o + L) of the corpus and target =
//   bytes [o + 1, o + L + 1), both (L) int64; no padding. num_classes = 256 (next-byte classes).
// - Splits are deterministic: the same (name, split, options) always gives the same examples in
//   the same order. Generated tasks (listops, pathfinder*) derive every example from
//   (seed, split, index) and build it on demand, so their datasets cost no memory up front.
// - Tasks read from files look in options.data_dir, else $EMBER_DATA (default
//   ~/.cache/ember/data, filled by scripts/fetch-data.sh), else the installed Debian paths under
//   /usr/share; a missing file is an ember::Error naming what was looked for and the command to run.
//
//   auto [dataset, info] = data::make_sequence_dataset("listops", data::Split::train, {});
//   // dataset->get(i).input: (info.max_length) int64, .target: 0-d int64
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace ember::data {

enum class Split { train, val, test };
// "train", "val" (or "valid", "validation"), "test"; anything else is an ember::Error.
Split parse_split(const std::string& name);
const char* split_name(Split split);

enum class SequenceTaskKind { classification, language_model };

// What a sequence model needs to know about a task.
struct SequenceTaskInfo {
  std::string name;
  SequenceTaskKind kind = SequenceTaskKind::classification;
  int64_t vocab_size = 0;   // input ids lie in [0, vocab_size), PAD and MASK included
  int64_t pad_id = -1;      // the padding id (always set; top of the range)
  int64_t mask_id = -1;     // genome tasks: the [MASK] id for masked modeling; -1 elsewhere
  int64_t num_classes = 0;  // classification: classes; language_model: 256 (next byte)
  int64_t max_length = 0;   // L: every input is (L)
  std::vector<std::string> class_names;  // classification only, num_classes of them
  std::vector<std::string> token_names;  // vocab_size names ("A", "[MAX", "PAD", "0x41", ...)
  // The metric to report first: "accuracy", "mcc" (genome binary tasks) or "bits_per_byte".
  std::string primary_metric = "accuracy";
};

// Options shared by every task; each task reads the ones it uses (0 / empty = the task's default,
// documented per task in docs/DATASETS.md).
struct SequenceTaskOptions {
  std::string data_dir;     // where fetched/extracted data lives (else $EMBER_DATA, then /usr/share)
  int64_t max_length = 0;   // L; 0 = task default (listops 2000, pathfinder32 1024, pathx128 16384,
                            // seq_fmnist 784, text_langid 512, text_lm 1024, genome_* per task)
  int64_t num_examples = 0; // generated tasks: examples in this split (0 = default per split);
                            // file tasks: cap on examples (0 = all), an evenly spaced subsample of the split
  uint64_t seed = 0;        // generated tasks, promoter negatives, splice decoys (0 = the task's fixed seed)
  // listops
  int64_t min_length = 0;   // listops: kept when tokens > min_length (0 = min(500, max_length / 4))
  int64_t max_depth = 0;    // listops: default 10
  int64_t max_args = 0;     // listops: default 10
  // pathfinder
  int64_t path_length = 0;  // pathfinder: dashes per path (0 = 14, LRA's hardest "contour length 14")
  int64_t distractors = -1; // pathfinder: distractor paths (-1 = 1 at 32x32, 4 at 128x128)
  // text_lm
  int64_t max_corpus_bytes = 0;  // text_lm: read at most this many bytes of the corpus (0 = all)
  std::string text_file;         // text_lm: the corpus (plain or gzip) instead of dict-gcide (empty: gcide)
};

struct SequenceDatasetSplit {
  DatasetPtr dataset;
  SequenceTaskInfo info;
};

// "listops", "pathfinder32", "pathx128", "seq_fmnist", "text_langid", "text_lm",
// "genome_species", "genome_promoter", "genome_splice", in the order error messages list them.
std::vector<std::string> sequence_task_names();
// The metadata of `name` under `options` without loading anything (for text_langid the class list
// is fixed; for genome_species too). Unknown name: ember::Error listing the known ones.
SequenceTaskInfo sequence_task_info(const std::string& name, const SequenceTaskOptions& options = {});
// Builds (or reads) the split. Missing data files: ember::Error naming what was looked for and
// "run scripts/fetch-data.sh".
SequenceDatasetSplit make_sequence_dataset(const std::string& name, Split split,
                                           const SequenceTaskOptions& options = {});
inline SequenceDatasetSplit make_sequence_dataset(const std::string& name, const std::string& split,
                                                  const SequenceTaskOptions& options = {}) {
  return make_sequence_dataset(name, parse_split(split), options);
}

// The data cache: options_dir if non-empty, else $EMBER_DATA, else $HOME/.cache/ember/data.
std::string sequence_data_dir(const std::string& options_dir = "");
// The first existing file among `relative` under the data cache (and its Debian-extracted layout
// <cache>/<path>) and the same path under / (installed packages); ember::Error naming every place
// looked at and the fetch command when none exists. `task` names the caller in the message.
std::string find_data_file(const std::string& task, const std::string& options_dir,
                           const std::vector<std::string>& relative);

// A small deterministic generator for the data generators (SplitMix64): the same numbers on every
// platform and standard library, unlike std::uniform_int_distribution.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n >= 1 (modulo; the bias is below 2^-40 for the n we use).
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)

 private:
  uint64_t state_;
};

// body(i) for i in [0, n), on the OpenMP threads (examples are built independently); the first
// exception thrown by any body is rethrown here, since none may escape an OpenMP region.
void parallel_examples(int64_t n, const std::function<void(int64_t)>& body);

// Examples held as one token matrix (N, L) of uint8/int32/int64 ids plus int64 targets (N) or (N, L);
// batches are gathered and widened to int64 in one pass. The file-backed tasks use it.
class TokenDataset : public Dataset {
 public:
  TokenDataset(Tensor tokens, Tensor targets);
  int64_t size() const override { return tokens_.size(0); }
  Example get(int64_t index) const override;
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  const Tensor& tokens() const { return tokens_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor tokens_, targets_;
};

}  // namespace ember::data
