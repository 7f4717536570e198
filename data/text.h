// Byte-level text tasks on real Debian text: language identification over the fortunes-*
// packages ("text_langid") and a byte-level language model over the GNU Collaborative
// International Dictionary of English, dict-gcide ("text_lm"). Twins: data/sequence_datasets.h
// (the registry), experiments/trainer/seq_metrics.h (bits per byte), test/data/test_text.cpp;
// sources and splits: docs/DATASETS.md.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/sequence_datasets.h"

namespace ember::data::text {

inline constexpr int64_t kPad = 256;        // byte b is id b; PAD after them
inline constexpr int64_t kVocabSize = 257;

// The records of a fortune file: text between lines holding only "%", trimmed of surrounding
// blank lines, empty records dropped. ember::Error if the file cannot be read.
std::vector<std::string> read_fortune_file(const std::string& path);
std::vector<std::string> split_fortune_records(const std::string& contents);

// Which split a record belongs to: a hash of its bytes (FNV-1a) -> train 80 % / val 10 % / test
// 10 %, so identical records (fortunes repeat across files) always land in the same split.
Split record_split(const std::string& record);

// The languages of text_langid, in class order, and where each one's fortunes live (folders or
// files relative to the filesystem root, as the Debian packages install them).
struct LanguageSource {
  std::string name;                 // class name, e.g. "de"
  std::string package;              // Debian package, e.g. "fortunes-de"
  std::vector<std::string> paths;   // "usr/share/games/fortunes/de" (folder: every file without
                                    // extension, skipping .dat/.u8 indexes, symlinks and ASCII art)
};
const std::vector<LanguageSource>& language_sources();

// Records as (bytes, label); a record is cut to `max_length` bytes, or padded with kPad.
// per_class_cap > 0 keeps at most that many records per class (the first ones in file order).
struct LabeledTexts {
  std::vector<std::string> texts;
  std::vector<int64_t> labels;
};
// Reads every language's records (from data_dir, the data cache and the installed paths) and keeps
// those of `split`. Missing language folder: ember::Error naming the package and the fetch command.
LabeledTexts load_langid(const std::string& data_dir, Split split, int64_t per_class_cap = 0);
// texts -> (N, max_length) int32 tokens (bytes 0..255, PAD = 256) as a TokenDataset.
DatasetPtr byte_classification_dataset(const LabeledTexts& texts, int64_t max_length);

// The byte-LM corpus: bytes of a plain or gzip/dictzip file (zlib reads both), at most max_bytes
// (0 = all). The gcide dictionary file: usr/share/dictd/gcide.dict.dz.
std::string read_corpus(const std::string& path, int64_t max_bytes = 0);
// The contiguous byte range of a split: train = the first 90 %, val = the next 5 %, test = the
// last 5 % (the enwik8 convention).
std::pair<int64_t, int64_t> lm_split_range(int64_t corpus_size, Split split);

// Non-overlapping windows of one byte range: example i has input bytes [b + i L, b + i L + L) and
// target the same shifted by one, both (L) int64.
class ByteLMDataset : public Dataset {
 public:
  ByteLMDataset(std::shared_ptr<const std::string> corpus, int64_t begin, int64_t end, int64_t length);
  int64_t size() const override { return size_; }
  Example get(int64_t index) const override;
  Batch get_batch(const std::vector<int64_t>& indices) const override;

 private:
  std::shared_ptr<const std::string> corpus_;
  int64_t begin_, length_, size_;
};

}  // namespace ember::data::text
