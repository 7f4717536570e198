// The sequence-task registry (interface and conventions: data/sequence_datasets.h): defaults per
// task, split seeds, where the files are, and the TokenDataset the file-backed tasks use.
#include "data/sequence_datasets.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fmt/ranges.h>
#include <map>
#include <mutex>

#include "data/dataloader.h"
#include "data/fasta.h"
#include "data/genome.h"
#include "data/idx.h"
#include "data/listops.h"
#include "data/pathfinder.h"
#include "data/text.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "engine/parallel.h"

namespace ember::data {

namespace fs = std::filesystem;

Split parse_split(const std::string& name) {
  if (name == "train") return Split::train;
  if (name == "val" || name == "valid" || name == "validation") return Split::val;
  if (name == "test") return Split::test;
  EMBER_FAIL("parse_split: unknown split \"{}\" (expected train, val or test)", name);
}

const char* split_name(Split split) {
  switch (split) {
    case Split::train: return "train";
    case Split::val: return "val";
    case Split::test: return "test";
  }
  return "?";
}

std::string sequence_data_dir(const std::string& options_dir) {
  if (!options_dir.empty()) return options_dir;
  if (const char* env = std::getenv("EMBER_DATA"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/ember/data";
}

std::string find_data_file(const std::string& task, const std::string& options_dir,
                           const std::vector<std::string>& relative) {
  std::vector<std::string> tried;
  std::vector<std::string> roots;
  if (!options_dir.empty()) roots.push_back(options_dir);
  roots.push_back(sequence_data_dir(""));
  roots.push_back("/");
  for (const auto& rel : relative) {
    for (const auto& root : roots) {
      const fs::path candidate = fs::path(root) / rel;
      if (fs::exists(candidate)) return candidate.string();
      tried.push_back(candidate.string());
    }
  }
  EMBER_FAIL("{}: data not found; looked for {}. Run scripts/fetch-data.sh (it fills $EMBER_DATA, default "
             "~/.cache/ember/data) or pass --data-dir",
             task, fmt::join(tried, ", "));
}

void parallel_examples(int64_t n, const std::function<void(int64_t)>& body) {
  std::exception_ptr error;
  std::mutex error_mutex;
  parallel_for(n, 2, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      try {
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        return;
      }
    }
  });
  if (error) std::rethrow_exception(error);
}

// ---- TokenDataset ----

TokenDataset::TokenDataset(Tensor tokens, Tensor targets) : tokens_(std::move(tokens)), targets_(std::move(targets)) {
  EMBER_CHECK(tokens_.dim() == 2, "TokenDataset: tokens must be (N, L), got {}", shape_str(tokens_.sizes()));
  EMBER_CHECK(tokens_.dtype() == DType::u8 || tokens_.dtype() == DType::i32 || tokens_.dtype() == DType::i64,
              "TokenDataset: tokens must be u8, i32 or i64, got {}", dtype_name(tokens_.dtype()));
  EMBER_CHECK(targets_.dtype() == DType::i64 && targets_.dim() >= 1 && targets_.size(0) == tokens_.size(0),
              "TokenDataset: targets must be int64 with {} rows, got {} {}", tokens_.size(0),
              dtype_name(targets_.dtype()), shape_str(targets_.sizes()));
  tokens_ = tokens_.contiguous();
  targets_ = targets_.contiguous();
}

Example TokenDataset::get(int64_t index) const {
  Batch b = get_batch({index});
  return {b.input.select(0, 0), b.target.select(0, 0)};
}

Batch TokenDataset::get_batch(const std::vector<int64_t>& indices) const {
  const auto n = static_cast<int64_t>(indices.size());
  const int64_t L = tokens_.size(1), row = targets_.numel() / std::max<int64_t>(1, targets_.size(0));
  Shape target_shape = targets_.sizes();
  target_shape[0] = n;
  Tensor input = empty({n, L}, TensorOptions(DType::i64));
  Tensor target = empty(target_shape, TensorOptions(DType::i64));
  int64_t* in = input.data_ptr<int64_t>();
  int64_t* tg = target.data_ptr<int64_t>();
  const int64_t* src_target = targets_.data_ptr<int64_t>();
  auto widen = [&](const auto* src) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = indices[static_cast<size_t>(i)];
      EMBER_CHECK(r >= 0 && r < size(), "TokenDataset: index {} out of range [0, {})", r, size());
      std::copy(src + r * L, src + (r + 1) * L, in + i * L);
      std::copy(src_target + r * row, src_target + (r + 1) * row, tg + i * row);
    }
  };
  switch (tokens_.dtype()) {
    case DType::u8: widen(tokens_.data_ptr<uint8_t>()); break;
    case DType::i32: widen(tokens_.data_ptr<int32_t>()); break;
    default: widen(tokens_.data_ptr<int64_t>()); break;
  }
  return {input, target};
}

// ---- the registry ----

namespace {

const std::vector<std::string> kTaskNames = {"listops",     "pathfinder32",    "pathx128",
                                             "seq_fmnist",  "text_langid",     "text_lm",
                                             "genome_species", "genome_promoter", "genome_splice"};

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct SpeciesStrain {
  const char* species;
  const char* folder;
  const char* strain;
};
// ragout-examples' complete genomes; the last strain of each species is the held-out test strain.
const SpeciesStrain kSpeciesStrains[] = {
    {"E. coli", "E.Coli", "DH1"},          {"E. coli", "E.Coli", "MG1655-K12"},
    {"H. pylori", "H.Pylori", "ELS37"},    {"H. pylori", "H.Pylori", "G27"},
    {"H. pylori", "H.Pylori", "Gambia94_24"}, {"H. pylori", "H.Pylori", "Puno120"},
    {"H. pylori", "H.Pylori", "SJM180"},   {"S. aureus", "S.Aureus", "COL"},
    {"S. aureus", "S.Aureus", "JKD6008"},  {"S. aureus", "S.Aureus", "N315"},
    {"S. aureus", "S.Aureus", "RF122"},    {"S. aureus", "S.Aureus", "USA300_FPR3757"},
    {"V. cholerae", "V.Cholerae", "H1"},   {"V. cholerae", "V.Cholerae", "O1_Inaba"},
    {"V. cholerae", "V.Cholerae", "O1_biovar"}, {"V. cholerae", "V.Cholerae", "O395"},
};
const std::vector<std::string> kSpeciesTestStrains = {"MG1655-K12", "SJM180", "USA300_FPR3757", "O395"};
const std::vector<std::string> kSpeciesNames = {"E. coli", "H. pylori", "S. aureus", "V. cholerae"};

int64_t or_default(int64_t value, int64_t fallback) { return value > 0 ? value : fallback; }

std::vector<std::string> numbered(int64_t n) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < n; ++i) names.push_back(std::to_string(i));
  return names;
}

std::vector<std::string> byte_token_names() {
  std::vector<std::string> names;
  for (int b = 0; b < 256; ++b) names.push_back(fmt::format("0x{:02x}", b));
  names.push_back("PAD");
  return names;
}

std::vector<std::string> pixel_token_names() {
  auto names = numbered(256);
  names.push_back("PAD");
  return names;
}

void check_fixed_length(const std::string& task, int64_t requested, int64_t fixed) {
  EMBER_CHECK(requested == 0 || requested == fixed, "{}: sequences are {} long; max_length {} cannot change that", task,
              fixed, requested);
}

uint64_t task_seed(const SequenceTaskOptions& o, uint64_t fallback) { return o.seed != 0 ? o.seed : fallback; }

listops::GeneratorOptions listops_options(const SequenceTaskOptions& o) {
  listops::GeneratorOptions g;
  g.max_length = or_default(o.max_length, 2000);
  g.min_length = o.min_length > 0 ? o.min_length : std::min<int64_t>(500, g.max_length / 4);
  g.max_depth = or_default(o.max_depth, 10);
  g.max_args = or_default(o.max_args, 10);
  return g;
}

pathfinder::GeneratorOptions pathfinder_options(const std::string& name, const SequenceTaskOptions& o) {
  pathfinder::GeneratorOptions g;
  g.size = name == "pathx128" ? 128 : 32;
  g.path_length = or_default(o.path_length, 14);
  g.distractors = o.distractors >= 0 ? o.distractors : (g.size == 128 ? 4 : 1);
  return g;
}

// The evenly spaced `cap` examples of a file-backed split (all of them when cap <= 0).
DatasetPtr capped(DatasetPtr dataset, int64_t cap) {
  const int64_t n = dataset->size();
  if (cap <= 0 || cap >= n) return dataset;
  std::vector<int64_t> picks;
  for (int64_t i = 0; i < cap; ++i) picks.push_back(i * n / cap);
  return std::make_shared<Subset>(std::move(dataset), std::move(picks));
}

// Generated tasks: examples per split when options.num_examples is 0 (LRA's split sizes).
int64_t generated_size(const std::string& name, Split split, const SequenceTaskOptions& o) {
  if (o.num_examples > 0) return o.num_examples;
  if (name == "listops") return split == Split::train ? 96000 : 2000;
  return split == Split::train ? 160000 : 20000;  // Pathfinder: 200k images, 80/10/10
}

// One corpus in memory however many splits use it.
std::shared_ptr<const std::string> shared_corpus(const std::string& path, int64_t max_bytes) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, int64_t>, std::weak_ptr<const std::string>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[{path, max_bytes}];
  if (auto existing = slot.lock()) return existing;
  auto corpus = std::make_shared<const std::string>(text::read_corpus(path, max_bytes));
  slot = corpus;
  return corpus;
}

DatasetPtr load_seq_fmnist(const SequenceTaskOptions& o, Split split) {
  // The IDX files: --data-dir if it holds them, else the cache's or the system's Debian path.
  std::string dir;
  const std::string debian_path = "/usr/share/datasets/fashion-mnist";
  for (const std::string& candidate : {o.data_dir, o.data_dir.empty() ? std::string() : o.data_dir + debian_path,
                                       sequence_data_dir("") + debian_path, fashion_mnist_dir("")}) {
    if (!candidate.empty() && (fs::exists(candidate + "/train-images-idx3-ubyte.gz") ||
                               fs::exists(candidate + "/train-images-idx3-ubyte"))) {
      dir = candidate;
      break;
    }
  }
  EMBER_CHECK(!dir.empty(),
              "seq_fmnist: no Fashion-MNIST IDX files in {}, {} or {}; run scripts/fetch-data.sh images (or apt "
              "install dataset-fashion-mnist)",
              o.data_dir.empty() ? "<no --data-dir>" : o.data_dir, sequence_data_dir("") + "/usr/share/datasets/fashion-mnist",
              fashion_mnist_dir(""));
  const auto data = load_fashion_mnist(dir, split != Split::test);
  const int64_t n = data.images.size(0);
  // The last 6000 training images are the validation split (LRA has one; Fashion-MNIST does not).
  const int64_t val = 6000;
  int64_t begin = 0, count = n;
  if (split == Split::train) count = n - val;
  if (split == Split::val) begin = n - val, count = val;
  Tensor tokens = data.images.reshape({n, 784}).narrow(0, begin, count).contiguous();
  Tensor labels = data.labels.narrow(0, begin, count).contiguous();
  return std::make_shared<TokenDataset>(tokens, labels);
}

DatasetPtr load_langid(const SequenceTaskOptions& o, Split split, int64_t length) {
  auto texts = text::load_langid(o.data_dir, split);
  // Balance the classes: every class keeps as many records as the smallest one has in this split,
  // evenly spaced over its records (which are in file order, so every file contributes).
  const size_t classes = text::language_sources().size();
  std::vector<std::vector<size_t>> members(classes);
  for (size_t i = 0; i < texts.labels.size(); ++i) members[static_cast<size_t>(texts.labels[i])].push_back(i);
  size_t keep = SIZE_MAX;
  for (const auto& m : members) keep = std::min(keep, m.size());
  text::LabeledTexts balanced;
  for (size_t c = 0; c < classes; ++c) {
    for (size_t k = 0; k < keep; ++k) {
      const size_t i = members[c][k * members[c].size() / keep];
      balanced.texts.push_back(std::move(texts.texts[i]));
      balanced.labels.push_back(static_cast<int64_t>(c));
    }
  }
  return text::byte_classification_dataset(balanced, length);
}

DatasetPtr load_genome_species(const SequenceTaskOptions& o, Split split, int64_t length) {
  std::vector<genome::LabeledGenome> genomes;
  for (const auto& s : kSpeciesStrains) {
    const bool test_strain = std::find(kSpeciesTestStrains.begin(), kSpeciesTestStrains.end(), s.strain) !=
                             kSpeciesTestStrains.end();
    genome::LabeledGenome g{s.species, s.strain, {}};
    // Only the strains this split uses are read; the others stay empty (no windows).
    if (test_strain == (split == Split::test)) {
      const std::string rel = fmt::format("usr/share/doc/ragout/examples/{}/references/{}.fasta", s.folder, s.strain);
      for (auto& r : read_fasta(find_data_file("genome_species (ragout-examples)", o.data_dir, {rel + ".gz", rel}))) {
        g.sequences.push_back(std::move(r.sequence));
      }
    }
    genomes.push_back(std::move(g));
  }
  genome::SpeciesSplitOptions so;
  so.length = length;
  return genome::windows_dataset(genome::species_windows(genomes, kSpeciesTestStrains, split, so), length);
}

DatasetPtr load_genome_promoter(const SequenceTaskOptions& o, Split split, int64_t length) {
  const auto upstream = read_fasta(find_data_file(
      "genome_promoter (r-bioc-biostrings)", o.data_dir,
      {"usr/lib/R/site-library/Biostrings/extdata/dm3_upstream2000.fa.gz", "usr/lib/R/site-library/Biostrings/extdata/dm3_upstream2000.fa"}));
  const auto chromosome = read_fasta(find_data_file(
      "genome_promoter (augustus-doc)", o.data_dir,
      {"usr/share/doc/augustus/tutorial/data/chr2R.fa", "usr/share/doc/augustus/tutorial/data/chr2R.fa.gz"}));
  EMBER_CHECK(chromosome.size() == 1, "genome_promoter: chr2R.fa holds {} records, expected 1", chromosome.size());
  genome::PromoterOptions po;
  po.length = length;
  po.seed = task_seed(o, 1);
  return genome::windows_dataset(genome::promoter_windows(upstream, "chr2R", chromosome[0].sequence, split, po), length);
}

DatasetPtr load_genome_splice(const SequenceTaskOptions& o, Split split, int64_t length) {
  const std::string stem = std::string("usr/share/doc/augustus/tutorial/results/genes.gb.") +
                           (split == Split::test ? "test" : "train");
  const auto records = read_genbank(find_data_file("genome_splice (augustus-doc)", o.data_dir, {stem, stem + ".gz"}));
  genome::SpliceOptions so;
  so.length = length;
  so.seed = task_seed(o, 1);
  return genome::windows_dataset(genome::splice_windows(records, split, so), length);
}

}  // namespace

std::vector<std::string> sequence_task_names() { return kTaskNames; }

SequenceTaskInfo sequence_task_info(const std::string& name, const SequenceTaskOptions& o) {
  SequenceTaskInfo info;
  info.name = name;
  if (name == "listops") {
    info.vocab_size = listops::kVocabSize;
    info.pad_id = listops::kPad;
    info.num_classes = listops::kNumClasses;
    info.max_length = or_default(o.max_length, 2000);
    info.class_names = numbered(10);
    info.token_names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "[MIN", "[MAX", "[MED", "[SM", "]", "PAD"};
  } else if (name == "pathfinder32" || name == "pathx128") {
    const int64_t size = name == "pathx128" ? 128 : 32;
    check_fixed_length(name, o.max_length, size * size);
    info.vocab_size = 257;
    info.pad_id = 256;
    info.num_classes = 2;
    info.max_length = size * size;
    info.class_names = {"disconnected", "connected"};
    info.token_names = pixel_token_names();
  } else if (name == "seq_fmnist") {
    check_fixed_length(name, o.max_length, 784);
    info.vocab_size = 257;
    info.pad_id = 256;
    info.num_classes = 10;
    info.max_length = 784;
    info.class_names = kFashionClasses;
    info.token_names = pixel_token_names();
  } else if (name == "text_langid" || name == "text_lm") {
    info.vocab_size = text::kVocabSize;
    info.pad_id = text::kPad;
    info.token_names = byte_token_names();
    if (name == "text_langid") {
      info.max_length = or_default(o.max_length, 512);
      for (const auto& s : text::language_sources()) info.class_names.push_back(s.name);
      info.num_classes = static_cast<int64_t>(info.class_names.size());
    } else {
      info.kind = SequenceTaskKind::language_model;
      info.max_length = or_default(o.max_length, 1024);
      info.num_classes = 256;
      info.primary_metric = "bits_per_byte";
    }
  } else if (name == "genome_species" || name == "genome_promoter" || name == "genome_splice") {
    info.vocab_size = genome::kVocabSize;
    info.pad_id = genome::kPad;
    info.mask_id = genome::kMask;
    info.token_names = genome::token_names();
    if (name == "genome_species") {
      info.max_length = or_default(o.max_length, 1024);
      info.class_names = kSpeciesNames;
    } else if (name == "genome_promoter") {
      info.max_length = or_default(o.max_length, 300);
      info.class_names = {"background", "promoter"};
      info.primary_metric = "mcc";
    } else {
      info.max_length = or_default(o.max_length, 400);
      info.class_names = genome::splice_class_names();
      info.primary_metric = "mcc";
    }
    info.num_classes = static_cast<int64_t>(info.class_names.size());
  } else {
    EMBER_FAIL("sequence task \"{}\" is unknown (known: {})", name, fmt::join(kTaskNames, ", "));
  }
  return info;
}

SequenceDatasetSplit make_sequence_dataset(const std::string& name, Split split, const SequenceTaskOptions& o) {
  SequenceDatasetSplit out;
  out.info = sequence_task_info(name, o);
  const int64_t L = out.info.max_length;
  const auto split_index = static_cast<uint64_t>(split);
  if (name == "listops") {
    const uint64_t seed = derive_seed(task_seed(o, 0x4c6973744f7073ull), {split_index});
    out.dataset = std::make_shared<listops::ListOpsDataset>(listops_options(o), generated_size(name, split, o), seed, L);
  } else if (name == "pathfinder32" || name == "pathx128") {
    const uint64_t seed = derive_seed(task_seed(o, 0x5061746846696eull), {split_index});
    out.dataset = std::make_shared<pathfinder::PathfinderDataset>(pathfinder_options(name, o),
                                                                  generated_size(name, split, o), seed);
  } else if (name == "seq_fmnist") {
    out.dataset = capped(load_seq_fmnist(o, split), o.num_examples);
  } else if (name == "text_langid") {
    out.dataset = capped(load_langid(o, split, L), o.num_examples);
  } else if (name == "text_lm") {
    const std::string path = o.text_file.empty() ? find_data_file("text_lm (dict-gcide)", o.data_dir,
                                                                    {"usr/share/dictd/gcide.dict.dz"})
                                                 : o.text_file;
    auto corpus = shared_corpus(path, o.max_corpus_bytes);
    const auto [begin, end] = text::lm_split_range(static_cast<int64_t>(corpus->size()), split);
    EMBER_CHECK(end - begin > L, "text_lm: the {} split of {} ({} bytes) is bytes [{}, {}), too short for one window "
                "of {} + 1 bytes; use a larger corpus or a smaller --max-length", split_name(split), path,
                corpus->size(), begin, end, L);
    out.dataset = capped(std::make_shared<text::ByteLMDataset>(corpus, begin, end, L), o.num_examples);
  } else if (name == "genome_species") {
    out.dataset = capped(load_genome_species(o, split, L), o.num_examples);
  } else if (name == "genome_promoter") {
    out.dataset = capped(load_genome_promoter(o, split, L), o.num_examples);
  } else {
    out.dataset = capped(load_genome_splice(o, split, L), o.num_examples);
  }
  return out;
}

}  // namespace ember::data
