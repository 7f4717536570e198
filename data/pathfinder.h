// Pathfinder (Linsley et al. 2018; LRA's "Pathfinder" and "Path-X", Tay et al. 2021): a grey image
// with several curved dashed paths and two dots; the label says whether the two dots lie at the two
// ends of the same path (1) or of different paths (0). Our generator is written from the paper's
// description, not from the original code: each path is a chain of `path_length` dashes whose
// heading turns by a bounded random angle per dash; paths keep a clearance from one another so they
// never touch; dots are discs at path ends. Rendered anti-aliased, then flattened row-major to a
// sequence of pixel values 0..255 (the token ids). Twins: data/sequence_datasets.h ("pathfinder32",
// "pathx128"), test/data/test_pathfinder.cpp; choices: docs/DATASETS.md.
#pragma once
#include <cstdint>
#include <vector>

#include "data/dataset.h"

namespace ember::data::pathfinder {

struct GeneratorOptions {
  int64_t size = 32;          // height = width
  int64_t path_length = 14;   // dashes per path (LRA's hardest 32x32 set: contour length 14)
  int64_t distractors = 2;    // paths besides the two that carry the dots' ends
  double dash_length = 0;     // pixels; 0 = size / 16 (2 px at 32, 8 at 128)
  double gap_length = -1;     // pixels between dashes; -1 = max(dash / 2, 1.5 line widths); 0 = solid
  double max_turn_degrees = 30;  // heading change between consecutive dashes
  double line_width = 0;      // 0 = 1 px at 32, 2 px at 128 (size / 64 clamped to >= 1)
  double dot_radius = 0;      // 0 = 1.5 px at 32, 3 px at 128
};

struct Image {
  std::vector<uint8_t> pixels;  // size * size, row-major, 0 = background
  int64_t label = 0;            // 1: the dots are the two ends of one path
  // The dots' centres (row, column), for tests.
  double dot_a[2] = {0, 0}, dot_b[2] = {0, 0};
};

// An image with the given label, deterministic in (options, seed). ember::Error on bad options
// (size < 16, path_length < 2, ...).
Image generate(const GeneratorOptions& options, uint64_t seed, int64_t label);

// Examples generated on demand: example i has label (hash of (seed, i)) & 1 (balanced in
// expectation) and pixels from generate(options, derive_seed(seed, {i}), label). Input (size*size)
// int64 pixel ids, target 0-d int64.
class PathfinderDataset : public Dataset {
 public:
  PathfinderDataset(GeneratorOptions options, int64_t size, uint64_t seed);
  int64_t size() const override { return size_; }
  Example get(int64_t index) const override;
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  Image image(int64_t index) const;

 private:
  GeneratorOptions options_;
  int64_t size_;
  uint64_t seed_;
};

}  // namespace ember::data::pathfinder
