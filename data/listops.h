// ListOps (Nangia & Bowman 2018, as generated for the Long Range Arena, Tay et al. 2021): nested
// prefix expressions over the digits 0-9 with the operators MAX, MIN, MED (median, rounded down)
// and SM (sum mod 10); the label is the expression's value (10 classes). The generator follows
// LRA's lra_benchmarks/data/listops.py: a node at depth < max_depth is an operator with
// probability 0.25 (else a digit), an operator takes 2..max_args arguments, and a tree is kept when
// min_length < tokens < max_length. Twins: data/sequence_datasets.h (the "listops" task),
// test/data/test_listops.cpp.
//
// Tokens (LRA's text with the parentheses dropped, as every LRA model sees it):
//   ids 0-9 = digits, 10 = "[MIN", 11 = "[MAX", 12 = "[MED", 13 = "[SM", 14 = "]", 15 = PAD.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace ember::data::listops {

inline constexpr int64_t kMin = 10, kMax = 11, kMed = 12, kSumMod = 13, kClose = 14, kPad = 15;
inline constexpr int64_t kVocabSize = 16;
inline constexpr int64_t kNumClasses = 10;

struct GeneratorOptions {
  int64_t max_depth = 10;
  int64_t max_args = 10;
  int64_t min_length = 500;   // kept when min_length < tokens < max_length (LRA's strict bounds)
  int64_t max_length = 2000;
};

// One expression as token ids (no padding).
struct Expression {
  std::vector<int64_t> tokens;
  int64_t value = 0;  // 0..9
};

// A tree drawn with a generator seeded by `seed`, redrawn until its length fits. Deterministic in
// (options, seed). ember::Error if options are inconsistent (max_args < 2, min_length >= max_length - 1...).
Expression generate(const GeneratorOptions& options, uint64_t seed);

// "[MAX 2 9 [MIN 4 7 ] 0 ]" <-> ids; the text may also hold LRA's "(" and ")" (dropped) and any
// whitespace. Unknown words: ember::Error naming the word and its position.
std::vector<int64_t> tokenize(const std::string& text);
std::string detokenize(const std::vector<int64_t>& tokens);

// The value of a token sequence; ember::Error on malformed input (unbalanced, empty operator,
// trailing tokens, PAD inside). Trailing PADs are allowed and ignored.
int64_t evaluate(const std::vector<int64_t>& tokens);

// A split generated on demand: example i is generate(options, derive_seed(seed, {split, i})),
// padded with kPad to `padded_length` (>= options.max_length - 1). Input (padded_length) int64,
// target 0-d int64.
class ListOpsDataset : public Dataset {
 public:
  ListOpsDataset(GeneratorOptions options, int64_t size, uint64_t seed, int64_t padded_length);
  int64_t size() const override { return size_; }
  Example get(int64_t index) const override;
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  Expression expression(int64_t index) const;

 private:
  GeneratorOptions options_;
  int64_t size_;
  uint64_t seed_;
  int64_t padded_length_;
};

}  // namespace ember::data::listops
