// CIFAR-10 / CIFAR-100 binary readers (interface and file layout: data/cifar.h).
#include "data/cifar.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/factories.h"
#include "ops/shape.h"

namespace ember::data {

namespace {

constexpr int64_t kPixels = 3 * 32 * 32;
constexpr int64_t kRecordsPerFile = 10000;

// The folder that holds `probe`: dir itself or dir/<subdir>.
std::string files_dir(const std::string& dir, const std::string& subdir, const std::string& probe, const char* who) {
  for (const std::string& candidate : {dir, dir + "/" + subdir}) {
    if (std::filesystem::exists(candidate + "/" + probe)) return candidate;
  }
  EMBER_FAIL("{}: neither {}/{} nor {}/{}/{} exists (download the binary version from "
             "https://www.cs.toronto.edu/~kriz/cifar.html, unpack it, and point --data-dir / EMBER_DATA_DIR at it)",
             who, dir, probe, dir, subdir, probe);
}

ImageClassificationSplit join(const std::vector<CifarRecords>& parts, size_t label_column) {
  TensorList images, labels;
  for (const auto& p : parts) {
    images.push_back(p.images);
    labels.push_back(p.labels[label_column]);
  }
  if (parts.size() == 1) return {images[0], labels[0]};
  return {cat(images, 0), cat(labels, 0)};
}

}  // namespace

CifarRecords read_cifar_file(const std::string& path, int label_bytes, int64_t expected_records) {
  EMBER_CHECK(std::filesystem::is_regular_file(path), "read_cifar_file: file {} does not exist", path);
  const int64_t record = label_bytes + kPixels;
  const auto size = static_cast<int64_t>(std::filesystem::file_size(path));
  if (expected_records >= 0) {
    EMBER_CHECK(size == expected_records * record,
                "read_cifar_file: {} has {} bytes, expected {} bytes ({} records of {}); the file is truncated or "
                "not a CIFAR binary file",
                path, size, expected_records * record, expected_records, record);
  } else {
    EMBER_CHECK(size > 0 && size % record == 0,
                "read_cifar_file: {} has {} bytes, expected a positive multiple of the {}-byte record", path, size,
                record);
  }
  const int64_t n = size / record;
  std::vector<unsigned char> raw(static_cast<size_t>(size));
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(raw.data()), size);
  EMBER_CHECK(in.gcount() == size, "read_cifar_file: read {} of {} bytes from {}", in.gcount(), size, path);

  CifarRecords out;
  out.images = empty({n, 3, 32, 32}, DType::u8);
  uint8_t* images = out.images.data_ptr<uint8_t>();
  std::vector<int64_t*> labels;
  for (int k = 0; k < label_bytes; ++k) {
    out.labels.push_back(empty({n}, DType::i64));
    labels.push_back(out.labels.back().data_ptr<int64_t>());
  }
  for (int64_t i = 0; i < n; ++i) {
    const unsigned char* r = raw.data() + i * record;
    for (int k = 0; k < label_bytes; ++k) labels[k][i] = r[k];
    std::memcpy(images + i * kPixels, r + label_bytes, kPixels);
  }
  return out;
}

ImageClassificationSplit load_cifar10(const std::string& dir, bool train) {
  const std::string root = files_dir(dir, "cifar-10-batches-bin", train ? "data_batch_1.bin" : "test_batch.bin",
                                     "load_cifar10");
  std::vector<CifarRecords> parts;
  if (train) {
    for (int k = 1; k <= 5; ++k) {
      parts.push_back(read_cifar_file(fmt::format("{}/data_batch_{}.bin", root, k), 1, kRecordsPerFile));
    }
  } else {
    parts.push_back(read_cifar_file(root + "/test_batch.bin", 1, kRecordsPerFile));
  }
  ImageClassificationSplit split = join(parts, 0);
  const int64_t* l = split.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < split.labels.numel(); ++i) {
    EMBER_CHECK(l[i] < 10, "load_cifar10: record {} in {} has label {} (expected 0..9); is this CIFAR-100?", i, root,
                l[i]);
  }
  return split;
}

ImageClassificationSplit load_cifar100(const std::string& dir, bool train, Cifar100Labels labels) {
  const std::string file = train ? "train.bin" : "test.bin";
  const std::string root = files_dir(dir, "cifar-100-binary", file, "load_cifar100");
  ImageClassificationSplit split =
      join({read_cifar_file(root + "/" + file, 2, train ? 5 * kRecordsPerFile : kRecordsPerFile)},
           labels == Cifar100Labels::coarse ? 0 : 1);
  const int64_t classes = labels == Cifar100Labels::coarse ? 20 : 100;
  const int64_t* l = split.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < split.labels.numel(); ++i) {
    EMBER_CHECK(l[i] < classes, "load_cifar100: record {} in {}/{} has label {} (expected 0..{})", i, root, file, l[i],
                classes - 1);
  }
  return split;
}

}  // namespace ember::data
