// Pathfinder / Path-X (data/pathfinder.h): the label against an independent flood fill on
// solid-line images, both classes present, determinism, the dataset's shape and bad options.
#include <catch2/catch.hpp>
#include <cmath>
#include <queue>

#include "data/pathfinder.h"
#include "data/sequence_datasets.h"
#include "helpers.h"

using namespace ember;
using namespace ember::data;

namespace {

// Whether the lit pixels (>= 128) join the two dots, by an 8-connected flood fill from dot a.
bool dots_connected(const pathfinder::Image& im, int64_t size) {
  auto lit = [&](int64_t y, int64_t x) { return im.pixels[static_cast<size_t>(y * size + x)] >= 128; };
  const auto ay = std::lround(im.dot_a[0]), ax = std::lround(im.dot_a[1]);
  const auto by = std::lround(im.dot_b[0]), bx = std::lround(im.dot_b[1]);
  REQUIRE(lit(ay, ax));
  REQUIRE(lit(by, bx));
  std::vector<char> seen(static_cast<size_t>(size * size), 0);
  std::queue<std::pair<int64_t, int64_t>> frontier;
  frontier.push({ay, ax});
  seen[static_cast<size_t>(ay * size + ax)] = 1;
  while (!frontier.empty()) {
    const auto [y, x] = frontier.front();
    frontier.pop();
    if (y == by && x == bx) return true;
    for (int64_t dy = -1; dy <= 1; ++dy) {
      for (int64_t dx = -1; dx <= 1; ++dx) {
        const int64_t ny = y + dy, nx = x + dx;
        if (ny < 0 || nx < 0 || ny >= size || nx >= size || !lit(ny, nx)) continue;
        if (seen[static_cast<size_t>(ny * size + nx)]++) continue;
        frontier.push({ny, nx});
      }
    }
  }
  return false;
}

}  // namespace

TEST_CASE("pathfinder: the label is the connectivity of the dots (solid lines)", "[seqdata][pathfinder]") {
  for (int64_t size : {32, 64}) {
    pathfinder::GeneratorOptions o;
    o.size = size;
    o.gap_length = 0;  // solid paths: connectivity is visible to a flood fill
    o.distractors = 2;
    for (uint64_t seed = 0; seed < 12; ++seed) {
      for (int64_t label : {0, 1}) {
        INFO("size " << size << " seed " << seed << " label " << label);
        const auto im = pathfinder::generate(o, seed, label);
        REQUIRE(im.pixels.size() == static_cast<size_t>(size * size));
        REQUIRE(im.label == label);
        CHECK(dots_connected(im, size) == (label == 1));
      }
    }
  }
}

TEST_CASE("pathfinder: dashed images, determinism and bad options", "[seqdata][pathfinder]") {
  pathfinder::GeneratorOptions o;  // 32x32, 14 dashes, gaps of half a dash
  const auto a = pathfinder::generate(o, 7, 1), b = pathfinder::generate(o, 7, 1), c = pathfinder::generate(o, 8, 1);
  CHECK(a.pixels == b.pixels);
  CHECK(a.pixels != c.pixels);
  // Dots are full-intensity discs; the background is mostly empty.
  CHECK(a.pixels[static_cast<size_t>(std::lround(a.dot_a[0]) * 32 + std::lround(a.dot_a[1]))] == 255);
  const auto dark = std::count(a.pixels.begin(), a.pixels.end(), uint8_t{0});
  CHECK(dark > 32 * 32 / 2);
  // The positive's dots are a path length apart at least (one dash), never on top of each other.
  CHECK(std::hypot(a.dot_a[0] - a.dot_b[0], a.dot_a[1] - a.dot_b[1]) > 2.0);
  pathfinder::GeneratorOptions bad;
  bad.size = 8;
  REQUIRE_THROWS_OP(pathfinder::generate(bad, 0, 0), "pathfinder");
  bad = {};
  bad.path_length = 200;
  REQUIRE_THROWS_OP(pathfinder::generate(bad, 0, 0), "path_length");
  REQUIRE_THROWS_OP(pathfinder::generate({}, 0, 2), "label");
}

TEST_CASE("pathfinder: Path-X 128x128 image", "[seqdata][pathfinder]") {
  pathfinder::GeneratorOptions o;
  o.size = 128;
  o.gap_length = 0;
  o.distractors = 2;
  for (int64_t label : {0, 1}) {
    const auto im = pathfinder::generate(o, 3, label);
    CHECK(dots_connected(im, 128) == (label == 1));
  }
}

TEST_CASE("pathfinder dataset: both classes, shapes, registry", "[seqdata][pathfinder]") {
  const pathfinder::PathfinderDataset ds({}, 64, 11);
  std::vector<int64_t> all(64);
  for (int64_t i = 0; i < 64; ++i) all[static_cast<size_t>(i)] = i;
  const Batch batch = ds.get_batch(all);
  REQUIRE(batch.input.sizes() == Shape{64, 1024});
  REQUIRE(batch.input.dtype() == DType::i64);
  const auto labels = test::values(batch.target);
  const auto positives = std::count(labels.begin(), labels.end(), 1.0);
  CHECK(positives >= 16);
  CHECK(positives <= 48);
  for (double v : test::values(batch.input)) REQUIRE((v >= 0 && v <= 255));
  CHECK(test::values(ds.get(5).input) == test::values(ds.get_batch({5}).input));
  CHECK(ds.image(5).label == static_cast<int64_t>(labels[5]));
  REQUIRE_THROWS_OP(ds.get(64), "PathfinderDataset");

  SequenceTaskOptions so;
  so.num_examples = 8;
  const auto split = make_sequence_dataset("pathfinder32", Split::val, so);
  CHECK(split.dataset->size() == 8);
  CHECK(split.info.max_length == 1024);
  CHECK(split.info.num_classes == 2);
  CHECK(split.info.vocab_size == 257);
  CHECK(split.dataset->get(0).input.sizes() == Shape{1024});
  // Splits draw from different seeds.
  CHECK(test::values(split.dataset->get(0).input) !=
        test::values(make_sequence_dataset("pathfinder32", Split::test, so).dataset->get(0).input));
  CHECK(sequence_task_info("pathx128").max_length == 16384);
  so.max_length = 100;
  REQUIRE_THROWS_OP(sequence_task_info("pathfinder32", so), "1024");
}
