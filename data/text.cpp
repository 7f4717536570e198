// Byte-level text tasks (interface: data/text.h): fortune files -> language-ID examples, and a
// byte corpus -> next-byte windows.
#include "data/text.h"

#include <algorithm>
#include <filesystem>
#include <fmt/ranges.h>

#include "data/fasta.h"
#include "engine/error.h"
#include "engine/factories.h"

namespace ember::data::text {

namespace fs = std::filesystem;

std::vector<std::string> split_fortune_records(const std::string& contents) {
  std::vector<std::string> records;
  std::string current;
  auto flush = [&] {
    // Trim surrounding blank lines (and the trailing newline) but keep inner layout.
    const size_t first = current.find_first_not_of("\r\n");
    const size_t last = current.find_last_not_of(" \t\r\n");
    if (first != std::string::npos && last != std::string::npos && last >= first) {
      records.push_back(current.substr(first, last - first + 1));
    }
    current.clear();
  };
  size_t pos = 0;
  while (pos < contents.size()) {
    size_t end = contents.find('\n', pos);
    if (end == std::string::npos) end = contents.size();
    std::string_view line(contents.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == "%") {
      flush();
    } else {
      current.append(line);
      current += '\n';
    }
    pos = end + 1;
  }
  flush();
  return records;
}

std::vector<std::string> read_fortune_file(const std::string& path) {
  return split_fortune_records(read_maybe_gzip(path, "read_fortune_file"));
}

Split record_split(const std::string& record) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char c : record) h = (h ^ c) * 0x100000001b3ull;
  const uint64_t bucket = h % 10;
  return bucket < 8 ? Split::train : (bucket == 8 ? Split::val : Split::test);
}

const std::vector<LanguageSource>& language_sources() {
  // English: the categories of Debian's `fortunes` package (other packages drop files into the
  // same folder, so list them). Folders hold one language each.
  static const std::vector<LanguageSource> sources = [] {
    std::vector<LanguageSource> s;
    LanguageSource en{"en", "fortunes", {}};
    for (const char* f : {"art", "computers", "cookie", "debian", "definitions", "disclaimer", "drugs",
                          "education", "ethnic", "food", "goedel", "humorists", "kids", "knghtbrd", "law", "linux",
                          "linuxcookie", "love", "magic", "medicine", "men-women", "miscellaneous", "news",
                          "paradoxum", "people", "perl", "pets", "platitudes", "politics", "pratchett", "science",
                          "songs-poems", "sports", "startrek", "tao", "translate-me", "wisdom", "work", "zippy"}) {
      en.paths.push_back(std::string("usr/share/games/fortunes/") + f);
    }
    s.push_back(en);
    for (const char* lang : {"de", "ru", "es", "it", "pl", "cs"}) {
      s.push_back({lang, std::string("fortunes-") + lang, {std::string("usr/share/games/fortunes/") + lang}});
    }
    s.push_back({"zh", "fortunes-zh",
                 {"usr/share/games/fortunes/chinese", "usr/share/games/fortunes/song100",
                  "usr/share/games/fortunes/tang300"}});
    s.push_back({"pt", "fortunes-br", {"usr/share/games/fortunes/brasil"}});
    s.push_back({"eo", "fortunes-eo", {"usr/share/games/fortunes/eo"}});
    return s;
  }();
  return sources;
}

namespace {

// The fortune files of a folder: regular files without the .dat (strfile index) and .u8
// (encoding marker) companions; sub-folders (offensive sets), symlinks and ASCII-art collections
// (pictures, not language) are skipped.
std::vector<std::string> fortune_files(const fs::path& folder) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const auto ext = entry.path().extension().string();
    const auto stem = entry.path().filename().string();
    if (entry.is_symlink() || !entry.is_regular_file() || ext == ".dat" || ext == ".u8") continue;
    if (stem == "asciiart" || stem == "ascii-art") continue;
    files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());  // directory order is not deterministic
  return files;
}

// Where a package path is: data_dir/<path>, <cache>/<path>, /<path> (the first that exists).
std::string locate(const std::string& data_dir, const std::string& relative) {
  for (const std::string& root : {data_dir, sequence_data_dir(""), std::string("/")}) {
    if (root.empty()) continue;
    const fs::path candidate = fs::path(root) / relative;
    if (fs::exists(candidate)) return candidate.string();
  }
  return {};
}

}  // namespace

LabeledTexts load_langid(const std::string& data_dir, Split split, int64_t per_class_cap) {
  const auto& sources = language_sources();
  std::vector<std::vector<std::string>> per_class(sources.size());
  for (size_t c = 0; c < sources.size(); ++c) {
    const auto& source = sources[c];
    for (const auto& relative : source.paths) {
      const std::string found = locate(data_dir, relative);
      EMBER_CHECK(!found.empty(),
                  "text_langid: {} (Debian package {}) not found under {}, {} or /; run scripts/fetch-data.sh text "
                  "(or apt install {})",
                  relative, source.package, data_dir.empty() ? "<no --data-dir>" : data_dir, sequence_data_dir(""),
                  source.package);
      const auto files = fs::is_directory(found) ? fortune_files(found) : std::vector<std::string>{found};
      for (const auto& file : files) {
        for (auto& record : read_fortune_file(file)) {
          if (record_split(record) == split) per_class[c].push_back(std::move(record));
        }
      }
    }
    // The same fortune can sit in several files of one language: keep it once.
    auto& records = per_class[c];
    std::vector<size_t> order(records.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return records[a] < records[b]; });
    std::vector<bool> keep(records.size(), true);
    for (size_t i = 1; i < order.size(); ++i) keep[order[i]] = records[order[i]] != records[order[i - 1]];
    std::vector<std::string> unique;
    for (size_t i = 0; i < records.size(); ++i) {
      if (keep[i]) unique.push_back(std::move(records[i]));
    }
    records = std::move(unique);
  }
  LabeledTexts out;
  for (size_t c = 0; c < per_class.size(); ++c) {
    const auto n = per_class_cap > 0 ? std::min<size_t>(per_class[c].size(), static_cast<size_t>(per_class_cap))
                                     : per_class[c].size();
    for (size_t i = 0; i < n; ++i) {
      out.texts.push_back(std::move(per_class[c][i]));
      out.labels.push_back(static_cast<int64_t>(c));
    }
  }
  return out;
}

DatasetPtr byte_classification_dataset(const LabeledTexts& texts, int64_t max_length) {
  EMBER_CHECK(texts.texts.size() == texts.labels.size(), "byte_classification_dataset: {} texts but {} labels",
              texts.texts.size(), texts.labels.size());
  EMBER_CHECK(max_length >= 1, "byte_classification_dataset: max_length {} < 1", max_length);
  const auto n = static_cast<int64_t>(texts.texts.size());
  // int32: uint8 cannot hold PAD = 256.
  Tensor tokens = full({n, max_length}, static_cast<double>(kPad), TensorOptions(DType::i32));
  Tensor labels = empty({n}, TensorOptions(DType::i64));
  auto* t = tokens.data_ptr<int32_t>();
  auto* l = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const std::string& s = texts.texts[static_cast<size_t>(i)];
    const int64_t len = std::min<int64_t>(max_length, static_cast<int64_t>(s.size()));
    for (int64_t j = 0; j < len; ++j) t[i * max_length + j] = static_cast<unsigned char>(s[static_cast<size_t>(j)]);
    l[i] = texts.labels[static_cast<size_t>(i)];
  }
  return std::make_shared<TokenDataset>(tokens, labels);
}

std::string read_corpus(const std::string& path, int64_t max_bytes) {
  return read_maybe_gzip(path, "read_corpus", max_bytes);
}

std::pair<int64_t, int64_t> lm_split_range(int64_t corpus_size, Split split) {
  const int64_t train_end = corpus_size * 90 / 100, val_end = corpus_size * 95 / 100;
  switch (split) {
    case Split::train: return {0, train_end};
    case Split::val: return {train_end, val_end};
    case Split::test: return {val_end, corpus_size};
  }
  return {0, 0};
}

ByteLMDataset::ByteLMDataset(std::shared_ptr<const std::string> corpus, int64_t begin, int64_t end, int64_t length)
    : corpus_(std::move(corpus)), begin_(begin), length_(length) {
  EMBER_CHECK(corpus_ != nullptr, "ByteLMDataset: no corpus");
  EMBER_CHECK(length >= 1, "ByteLMDataset: window length {} < 1", length);
  EMBER_CHECK(0 <= begin && begin <= end && end <= static_cast<int64_t>(corpus_->size()),
              "ByteLMDataset: range [{}, {}) outside the corpus of {} bytes", begin, end, corpus_->size());
  // A window needs L + 1 bytes (the last target); windows do not overlap.
  size_ = end - begin > length ? (end - begin - 1) / length : 0;
  EMBER_CHECK(size_ > 0, "ByteLMDataset: range [{}, {}) holds no window of {} + 1 bytes", begin, end, length);
}

Example ByteLMDataset::get(int64_t index) const {
  Batch b = get_batch({index});
  return {b.input.select(0, 0), b.target.select(0, 0)};
}

Batch ByteLMDataset::get_batch(const std::vector<int64_t>& indices) const {
  const auto n = static_cast<int64_t>(indices.size());
  Tensor input = empty({n, length_}, TensorOptions(DType::i64));
  Tensor target = empty({n, length_}, TensorOptions(DType::i64));
  auto* in = input.data_ptr<int64_t>();
  auto* tg = target.data_ptr<int64_t>();
  const auto* bytes = reinterpret_cast<const unsigned char*>(corpus_->data());
  for (int64_t i = 0; i < n; ++i) {
    const int64_t index = indices[static_cast<size_t>(i)];
    EMBER_CHECK(index >= 0 && index < size_, "ByteLMDataset: index {} out of range [0, {})", index, size_);
    const unsigned char* window = bytes + begin_ + index * length_;
    for (int64_t j = 0; j < length_; ++j) {
      in[i * length_ + j] = window[j];
      tg[i * length_ + j] = window[j + 1];
    }
  }
  return {input, target};
}

}  // namespace ember::data::text
