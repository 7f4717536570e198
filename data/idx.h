// Readers for the IDX format (MNIST, Fashion-MNIST), gzip'd or plain.
// The full data pipeline (datasets, loaders, transforms) is built on these.
#pragma once
#include <string>

#include "engine/tensor.h"

namespace ember::data {

// Reads an IDX file (unsigned-byte payload) into a uint8 tensor shaped by the file's dims.
// Gzip'd and plain files both work (zlib reads plain files transparently).
// Missing, truncated or malformed files throw ember::Error naming the path and what was expected.
Tensor read_idx(const std::string& path);

struct ImageClassificationSplit {
  Tensor images;  // (N, 28, 28) uint8
  Tensor labels;  // (N) int64
};

// The directory holding the Fashion-MNIST files: `explicit_dir` if non-empty, else $EMBER_DATA_DIR,
// else /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist package).
std::string fashion_mnist_dir(const std::string& explicit_dir = "");
// Loads the train (60000) or test (10000) split.
ImageClassificationSplit load_fashion_mnist(const std::string& dir, bool train);

}  // namespace ember::data
