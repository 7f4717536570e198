// CIFAR-10 / CIFAR-100 readers for the binary versions (https://www.cs.toronto.edu/~kriz/cifar.html).
// CIFAR-10: data_batch_1.bin .. data_batch_5.bin (train) and test_batch.bin, records of
// [label][3072 pixels]; CIFAR-100: train.bin and test.bin, records of [coarse][fine][3072 pixels].
// Pixels are stored as R plane, G plane, B plane of 32x32, i.e. already (3, 32, 32).
// Implementation: data/cifar.cpp; twin reader for IDX files: data/idx.h.
#pragma once
#include <string>

#include "data/idx.h"
#include "engine/tensor.h"

namespace ember::data {

// One CIFAR binary file: images (N, 3, 32, 32) uint8 and one int64 (N) tensor per label byte.
struct CifarRecords {
  Tensor images;
  std::vector<Tensor> labels;
};
// Throws ember::Error naming the path when it is missing or its size is not a whole number of
// records (e.g. "expected 30730000 bytes (10000 records of 3073)" when `expected_records` is given).
CifarRecords read_cifar_file(const std::string& path, int label_bytes, int64_t expected_records = -1);

// `dir` is the folder holding the .bin files, or its parent holding cifar-10-batches-bin /
// cifar-100-binary (as the archives unpack). Returns images (N, 3, 32, 32) uint8, labels (N) int64.
ImageClassificationSplit load_cifar10(const std::string& dir, bool train);
enum class Cifar100Labels { fine, coarse };
ImageClassificationSplit load_cifar100(const std::string& dir, bool train, Cifar100Labels labels = Cifar100Labels::fine);

}  // namespace ember::data
