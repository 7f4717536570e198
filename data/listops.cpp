// ListOps: the LRA generator, the tokenizer and an independent stack evaluator (interface and
// token ids: data/listops.h).
#include "data/listops.h"

#include <algorithm>
#include <sstream>

#include "data/dataloader.h"
#include "data/sequence_datasets.h"
#include "engine/error.h"
#include "engine/factories.h"

namespace ember::data::listops {

namespace {

constexpr double kValueProbability = 0.25;  // LRA's VALUE_P: a node below max_depth is an operator w.p. 0.25
constexpr int64_t kOperators[] = {kMin, kMax, kMed, kSumMod};
const char* const kWords[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "[MIN", "[MAX", "[MED", "[SM", "]", "PAD"};

int64_t apply(int64_t op, std::vector<int64_t> args) {
  switch (op) {
    case kMin: return *std::min_element(args.begin(), args.end());
    case kMax: return *std::max_element(args.begin(), args.end());
    case kMed: {
      // int(np.median(args)): the mean of the two middle values, rounded down (values >= 0).
      std::sort(args.begin(), args.end());
      const size_t n = args.size();
      return n % 2 == 1 ? args[n / 2] : (args[n / 2 - 1] + args[n / 2]) / 2;
    }
    case kSumMod: {
      int64_t sum = 0;
      for (int64_t a : args) sum += a;
      return sum % 10;
    }
    default: EMBER_FAIL("listops: {} is not an operator token", op);
  }
}

// LRA's generate_tree, writing tokens as it goes. Returns false (abandon) once the tree reaches
// max_length tokens: it would be rejected anyway, and stopping early keeps rejection cheap.
struct TreeWriter {
  const GeneratorOptions& options;
  SplitMix64& rng;
  std::vector<int64_t>& tokens;

  bool write(int64_t depth, int64_t& value) {
    const double r = depth < options.max_depth ? rng.uniform() : 1.0;
    if (r > kValueProbability) {
      value = rng.below(10);
      tokens.push_back(value);
      return true;
    }
    const int64_t num_args = 2 + rng.below(options.max_args - 1);  // randint(2, max_args), inclusive
    const size_t op_position = tokens.size();
    tokens.push_back(kPad);  // the operator is drawn after its arguments, as in LRA
    std::vector<int64_t> args(static_cast<size_t>(num_args));
    for (auto& a : args) {
      if (!write(depth + 1, a) || static_cast<int64_t>(tokens.size()) >= options.max_length) return false;
    }
    const int64_t op = kOperators[rng.below(4)];
    tokens[op_position] = op;
    tokens.push_back(kClose);
    value = apply(op, std::move(args));
    return true;
  }
};

void check_options(const GeneratorOptions& o) {
  EMBER_CHECK(o.max_depth >= 1 && o.max_args >= 2 && o.min_length >= 0 && o.max_length >= 2 &&
                  o.min_length + 1 < o.max_length,
              "listops: bad generator options (max_depth {}, max_args {}, min_length {}, max_length {}); need "
              "max_depth >= 1, max_args >= 2, 0 <= min_length < max_length - 1",
              o.max_depth, o.max_args, o.min_length, o.max_length);
  // A tree of depth d has at most (max_args^d - 1) / (max_args - 1) operators: make sure min_length is reachable.
  double most = 1, level = 1;
  for (int64_t d = 1; d < o.max_depth && most < 1e9; ++d) {
    level *= static_cast<double>(o.max_args);
    most += level;
  }
  EMBER_CHECK(most * 2 > static_cast<double>(o.min_length),
              "listops: min_length {} is out of reach with max_depth {} and max_args {}", o.min_length, o.max_depth,
              o.max_args);
}

}  // namespace

Expression generate(const GeneratorOptions& options, uint64_t seed) {
  check_options(options);
  SplitMix64 rng(seed);
  Expression e;
  for (int64_t attempt = 0;; ++attempt) {
    EMBER_CHECK(attempt < 10'000'000, "listops: no tree with {} < length < {} after 10^7 draws (max_depth {}, max_args {})",
                options.min_length, options.max_length, options.max_depth, options.max_args);
    e.tokens.clear();
    TreeWriter writer{options, rng, e.tokens};
    const auto length = [&] { return static_cast<int64_t>(e.tokens.size()); };
    if (writer.write(1, e.value) && length() > options.min_length && length() < options.max_length) return e;
  }
}

std::vector<int64_t> tokenize(const std::string& text) {
  std::vector<int64_t> ids;
  std::istringstream in(text);
  std::string word;
  for (int64_t position = 0; in >> word; ++position) {
    // LRA's source text writes "(" and ")" around every sub-tree; models never see them.
    word.erase(std::remove_if(word.begin(), word.end(), [](char c) { return c == '(' || c == ')'; }), word.end());
    if (word.empty()) continue;
    const auto* found = std::find(std::begin(kWords), std::end(kWords), word);
    EMBER_CHECK(found != std::end(kWords) && found != std::end(kWords) - 1,
                "listops::tokenize: unknown word \"{}\" at word {} (expected 0-9, [MIN, [MAX, [MED, [SM or ])", word,
                position);
    ids.push_back(found - std::begin(kWords));
  }
  return ids;
}

std::string detokenize(const std::vector<int64_t>& tokens) {
  std::string out;
  for (int64_t t : tokens) {
    EMBER_CHECK(t >= 0 && t < kVocabSize, "listops::detokenize: id {} is outside [0, {})", t, kVocabSize);
    if (!out.empty()) out += ' ';
    out += kWords[t];
  }
  return out;
}

int64_t evaluate(const std::vector<int64_t>& tokens) {
  // A stack of open operators, each with the values of its arguments so far.
  struct Frame {
    int64_t op;
    std::vector<int64_t> args;
  };
  std::vector<Frame> stack;
  int64_t result = -1;
  size_t end = tokens.size();
  while (end > 0 && tokens[end - 1] == kPad) --end;
  for (size_t i = 0; i < end; ++i) {
    const int64_t t = tokens[i];
    EMBER_CHECK(t >= 0 && t < kPad, "listops::evaluate: token {} at position {} is not a digit, operator or ]", t, i);
    EMBER_CHECK(result < 0, "listops::evaluate: token {} at position {} follows a complete expression", t, i);
    int64_t value = -1;
    if (t >= kMin && t <= kSumMod) {
      stack.push_back({t, {}});
      continue;
    }
    if (t == kClose) {
      EMBER_CHECK(!stack.empty(), "listops::evaluate: ] at position {} closes nothing", i);
      EMBER_CHECK(!stack.back().args.empty(), "listops::evaluate: operator closed with no arguments at position {}", i);
      value = apply(stack.back().op, std::move(stack.back().args));
      stack.pop_back();
    } else {
      value = t;
    }
    if (stack.empty()) {
      result = value;
    } else {
      stack.back().args.push_back(value);
    }
  }
  EMBER_CHECK(stack.empty(), "listops::evaluate: {} operator(s) left open at the end", stack.size());
  EMBER_CHECK(result >= 0, "listops::evaluate: empty expression");
  return result;
}

ListOpsDataset::ListOpsDataset(GeneratorOptions options, int64_t size, uint64_t seed, int64_t padded_length)
    : options_(options), size_(size), seed_(seed), padded_length_(padded_length) {
  check_options(options_);
  EMBER_CHECK(size >= 0, "ListOpsDataset: size {} < 0", size);
  EMBER_CHECK(padded_length >= options.max_length - 1,
              "ListOpsDataset: padded length {} is shorter than the longest tree ({} tokens)", padded_length,
              options.max_length - 1);
}

Expression ListOpsDataset::expression(int64_t index) const {
  EMBER_CHECK(index >= 0 && index < size_, "ListOpsDataset: index {} out of range [0, {})", index, size_);
  return generate(options_, derive_seed(seed_, {static_cast<uint64_t>(index)}));
}

Example ListOpsDataset::get(int64_t index) const {
  Batch b = get_batch({index});
  return {b.input.select(0, 0), b.target.select(0, 0)};
}

Batch ListOpsDataset::get_batch(const std::vector<int64_t>& indices) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  Tensor input = full({n, padded_length_}, static_cast<double>(kPad), TensorOptions(DType::i64));
  Tensor target = empty({n}, TensorOptions(DType::i64));
  int64_t* in = input.data_ptr<int64_t>();
  int64_t* tg = target.data_ptr<int64_t>();
  // One tree per example is ~50 us of work: worth threads from a few examples on.
  parallel_examples(n, [&](int64_t i) {
    const Expression e = expression(indices[static_cast<size_t>(i)]);
    std::copy(e.tokens.begin(), e.tokens.end(), in + i * padded_length_);
    tg[i] = e.value;
  });
  return {input, target};
}

}  // namespace ember::data::listops
