// Byte-level text tasks (data/text.h) on small files written by the test: fortune records, the
// hash split, language ID over a fake fortunes tree, byte windows for the LM, gzip'd corpora.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "data/sequence_datasets.h"
#include "data/temp_dir.h"
#include "data/text.h"
#include "helpers.h"

using namespace ember;
using namespace ember::data;

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void write_gzip(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  gzclose(f);
}

// A fortunes tree with `per_language` records for every language of text_langid, each record
// tagged with its language so the test can check the labels.
void write_fake_fortunes(const test::TempDir& dir, int per_language) {
  for (const auto& source : text::language_sources()) {
    for (size_t p = 0; p < source.paths.size(); ++p) {
      std::string records;
      for (int i = 0; i < per_language; ++i) {
        records += fmt::format("{} record {} of file {}\nsecond line\n%\n", source.name, i, p);
      }
      const std::string target = dir.file(source.paths[p]);
      // Folders (de, ru, ...) get one file plus decoys the reader must skip.
      if (source.name != "en" && source.name != "zh" && source.name != "pt") {
        write_text(target + "/quotes", records);
        write_text(target + "/quotes.dat", "binary index");
        write_text(target + "/quotes.u8", "");
        write_text(target + "/asciiart", "not " + source.name + "\n%\n");
        write_text(target + "/off/rude", "not " + source.name + "\n%\n");
      } else {
        write_text(target, records);
      }
    }
  }
}

}  // namespace

TEST_CASE("text: fortune records", "[seqdata][text]") {
  CHECK(text::split_fortune_records("A\nB\n%\n\nC\n%\n%\nD") == std::vector<std::string>{"A\nB", "C", "D"});
  CHECK(text::split_fortune_records("one\r\n%\r\n  two  \r\n") == std::vector<std::string>{"one", "  two"});
  CHECK(text::split_fortune_records("%\n%\n").empty());
  test::TempDir dir("text_records");
  write_gzip(dir.file("f.gz"), "Zitat eins\n%\nZitat \xc3\xa4 zwei\n");
  CHECK(text::read_fortune_file(dir.file("f.gz")) == std::vector<std::string>{"Zitat eins", "Zitat \xc3\xa4 zwei"});
  REQUIRE_THROWS_OP(text::read_fortune_file(dir.file("missing")), "read_fortune_file");
}

TEST_CASE("text: the hash split is deterministic and about 80/10/10", "[seqdata][text]") {
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 3000; ++i) ++counts[static_cast<int>(text::record_split("record " + std::to_string(i)))];
  CHECK(counts[0] > 2250);
  CHECK(counts[0] < 2550);
  CHECK(counts[1] > 200);
  CHECK(counts[2] > 200);
  CHECK(text::record_split("same text") == text::record_split("same text"));
}

TEST_CASE("text: language ID from a fortunes tree", "[seqdata][text]") {
  test::TempDir dir("text_langid");
  write_fake_fortunes(dir, 40);
  const auto& sources = text::language_sources();
  size_t total = 0;
  for (Split split : {Split::train, Split::val, Split::test}) {
    const auto texts = text::load_langid(dir.str(), split);
    REQUIRE(texts.texts.size() == texts.labels.size());
    total += texts.texts.size();
    for (size_t i = 0; i < texts.texts.size(); ++i) {
      const std::string& lang = sources[static_cast<size_t>(texts.labels[i])].name;
      INFO(texts.texts[i]);
      REQUIRE(texts.texts[i].rfind(lang + " record", 0) == 0);  // the label is the folder's language
      REQUIRE(text::record_split(texts.texts[i]) == split);
    }
  }
  // Every record once (zh has three files, the decoys none).
  size_t expected = 0;
  for (const auto& s : sources) expected += 40 * s.paths.size();
  CHECK(total == expected);

  // The registry balances classes and pads bytes to L.
  SequenceTaskOptions o;
  o.data_dir = dir.str();
  o.max_length = 24;
  const auto split = make_sequence_dataset("text_langid", Split::train, o);
  CHECK(split.info.num_classes == static_cast<int64_t>(sources.size()));
  CHECK(split.info.class_names[1] == "de");
  CHECK(split.dataset->size() % static_cast<int64_t>(sources.size()) == 0);
  const Example e = split.dataset->get(0);
  REQUIRE(e.input.sizes() == Shape{24});
  CHECK(e.input.dtype() == DType::i64);
  const auto bytes = test::values(e.input);
  CHECK(bytes[0] == 'e');  // "en record ..." cut to 24 bytes
  CHECK(bytes[1] == 'n');

  test::TempDir empty_dir("text_langid_empty");
  if (!std::filesystem::exists(sequence_data_dir("") + "/usr/share/games/fortunes/eo") &&
      !std::filesystem::exists("/usr/share/games/fortunes/eo")) {
    REQUIRE_THROWS_OP(text::load_langid(empty_dir.str(), Split::train), "fetch-data.sh");
  }
}

TEST_CASE("text: byte classification tensors", "[seqdata][text]") {
  text::LabeledTexts t;
  t.texts = {"ab", "\xc3\xa4xyz"};
  t.labels = {3, 1};
  const auto ds = text::byte_classification_dataset(t, 3);
  const Batch b = ds->get_batch({0, 1});
  CHECK(test::values(b.input) == std::vector<double>{'a', 'b', text::kPad, 0xc3, 0xa4, 'x'});
  CHECK(test::values(b.target) == std::vector<double>{3, 1});
  t.labels.pop_back();
  REQUIRE_THROWS_OP(text::byte_classification_dataset(t, 3), "byte_classification_dataset");
}

TEST_CASE("text: byte LM windows and splits", "[seqdata][text]") {
  std::string corpus;
  for (int i = 0; i < 1000; ++i) corpus += static_cast<char>('a' + i % 26);
  test::TempDir dir("text_lm");
  write_gzip(dir.file("usr/share/dictd/gcide.dict.dz"), corpus);
  CHECK(text::read_corpus(dir.file("usr/share/dictd/gcide.dict.dz")) == corpus);
  CHECK(text::read_corpus(dir.file("usr/share/dictd/gcide.dict.dz"), 10) == corpus.substr(0, 10));

  CHECK(text::lm_split_range(1000, Split::train) == std::pair<int64_t, int64_t>{0, 900});
  CHECK(text::lm_split_range(1000, Split::val) == std::pair<int64_t, int64_t>{900, 950});
  CHECK(text::lm_split_range(1000, Split::test) == std::pair<int64_t, int64_t>{950, 1000});

  auto shared = std::make_shared<const std::string>(corpus);
  const text::ByteLMDataset ds(shared, 900, 950, 16);
  CHECK(ds.size() == 3);  // 49 usable bytes: windows at 900, 916, 932 (the last target is byte 948)
  const Example e = ds.get(1);
  REQUIRE(e.input.sizes() == Shape{16});
  REQUIRE(e.target.sizes() == Shape{16});
  for (int j = 0; j < 16; ++j) {
    CHECK(test::values(e.input)[j] == static_cast<unsigned char>(corpus[916 + j]));
    CHECK(test::values(e.target)[j] == static_cast<unsigned char>(corpus[917 + j]));
  }
  REQUIRE_THROWS_OP(ds.get(3), "ByteLMDataset");
  REQUIRE_THROWS_OP(text::ByteLMDataset(shared, 0, 10, 16), "no window");

  SequenceTaskOptions o;
  o.data_dir = dir.str();
  o.max_length = 8;
  const auto split = make_sequence_dataset("text_lm", Split::test, o);
  CHECK(split.info.kind == SequenceTaskKind::language_model);
  CHECK(split.info.primary_metric == "bits_per_byte");
  CHECK(split.dataset->size() == 6);  // 50 bytes: (50 - 1) / 8
  CHECK(test::values(split.dataset->get(0).input)[0] == static_cast<unsigned char>(corpus[950]));
}
