// Pathfinder / Path-X generator (interface and rules: data/pathfinder.h). Paths are traced as
// points every half pixel (dashes and gaps alike, so no other path can slip through a gap); a
// bucket grid finds the points of other paths near a new one, which must keep `clearance` away.
#include "data/pathfinder.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "data/dataloader.h"
#include "data/sequence_datasets.h"
#include "engine/error.h"
#include "engine/factories.h"

namespace ember::data::pathfinder {

namespace {

constexpr double kStep = 0.5;  // pixels between traced points

struct Point {
  double y, x;
};
double distance(Point a, Point b) { return std::hypot(a.y - b.y, a.x - b.x); }

// Distance from p to the segment [a, b].
double segment_distance(Point p, Point a, Point b) {
  const double dy = b.y - a.y, dx = b.x - a.x, len2 = dy * dy + dx * dx;
  double t = len2 > 0 ? ((p.y - a.y) * dy + (p.x - a.x) * dx) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  return distance(p, {a.y + t * dy, a.x + t * dx});
}

struct Resolved {
  int64_t size, path_length, distractors;
  double dash, gap, max_turn, width, dot_radius, clearance, margin;
};

Resolved resolve(const GeneratorOptions& o) {
  EMBER_CHECK(o.size >= 16 && o.size <= 1024, "pathfinder: image size {} outside [16, 1024]", o.size);
  EMBER_CHECK(o.path_length >= 2 && o.path_length <= 64, "pathfinder: path_length {} outside [2, 64]", o.path_length);
  EMBER_CHECK(o.distractors >= 0 && o.distractors <= 32, "pathfinder: distractors {} outside [0, 32]", o.distractors);
  EMBER_CHECK(o.max_turn_degrees >= 0 && o.max_turn_degrees <= 180, "pathfinder: max_turn_degrees {} outside [0, 180]",
              o.max_turn_degrees);
  Resolved r{};
  r.size = o.size;
  r.path_length = o.path_length;
  r.distractors = o.distractors;
  r.dash = o.dash_length > 0 ? o.dash_length : static_cast<double>(o.size) / 16.0;
  r.width = o.line_width > 0 ? o.line_width : std::max(1.0, static_cast<double>(o.size) / 64.0);
  // Gaps under 1.5 strokes vanish in the anti-aliasing at 32x32.
  r.gap = o.gap_length >= 0 ? o.gap_length : std::max(r.dash / 2.0, 1.5 * r.width);
  r.max_turn = o.max_turn_degrees * std::numbers::pi / 180.0;
  r.dot_radius = o.dot_radius > 0 ? o.dot_radius : 1.5 * r.width;
  // Pixels lit at >= half intensity lie within width/2 (dots: radius) of their path; two lit
  // pixels of different paths must not be 8-neighbours (up to sqrt 2 apart), plus a pixel of slack.
  r.clearance = r.dot_radius + r.width / 2.0 + std::numbers::sqrt2 + 0.5;
  r.margin = r.dot_radius + 1.0;
  const double extent = static_cast<double>(r.path_length) * (r.dash + r.gap);
  EMBER_CHECK(extent < 4.0 * static_cast<double>(o.size),
              "pathfinder: paths of {} px (path_length {} x (dash {} + gap {})) do not fit a {}x{} image", extent,
              r.path_length, r.dash, r.gap, o.size, o.size);
  return r;
}

// Traced points of all placed paths, bucketed by a grid of `clearance`-sized cells.
class Occupancy {
 public:
  Occupancy(double size, double cell) : cell_(cell), cells_(static_cast<int64_t>(std::ceil(size / cell)) + 1) {
    buckets_.resize(static_cast<size_t>(cells_ * cells_));
  }
  // Whether p keeps `clearance` from every point of the other paths.
  bool clear(Point p, double clearance) const {
    const int64_t cy = cell_of(p.y), cx = cell_of(p.x);
    for (int64_t y = std::max<int64_t>(0, cy - 1); y <= std::min(cells_ - 1, cy + 1); ++y) {
      for (int64_t x = std::max<int64_t>(0, cx - 1); x <= std::min(cells_ - 1, cx + 1); ++x) {
        for (const Point& q : buckets_[static_cast<size_t>(y * cells_ + x)]) {
          if (distance(p, q) < clearance) return false;
        }
      }
    }
    return true;
  }
  void add(const std::vector<Point>& points) {
    for (const Point& p : points) {
      auto& bucket = buckets_[static_cast<size_t>(cell_of(p.y) * cells_ + cell_of(p.x))];
      if (bucket.empty()) touched_.push_back(&bucket);
      bucket.push_back(p);
    }
  }
  // Empties it, visiting only the buckets in use (it is reused for every path attempt).
  void reset() {
    for (auto* bucket : touched_) bucket->clear();
    touched_.clear();
  }

 private:
  int64_t cell_of(double v) const { return std::clamp<int64_t>(static_cast<int64_t>(v / cell_), 0, cells_ - 1); }
  double cell_;
  int64_t cells_;
  std::vector<std::vector<Point>> buckets_;
  std::vector<std::vector<Point>*> touched_;
};

struct Path {
  std::vector<Point> trace;                  // every half pixel, dashes and gaps
  std::vector<std::pair<Point, Point>> dashes;
  Point start() const { return trace.front(); }
  Point end() const { return dashes.back().second; }
};

// One attempt at a path that stays inside the margins and clear of `occupied`; false if it fails.
// `own` is scratch space for the path's own points (emptied here).
bool trace_path(const Resolved& r, SplitMix64& rng, const Occupancy& occupied, Occupancy& own, Path& path) {
  const double lo = r.margin, hi = static_cast<double>(r.size) - 1.0 - r.margin;
  Point p{lo + rng.uniform() * (hi - lo), lo + rng.uniform() * (hi - lo)};
  double heading = rng.uniform() * 2.0 * std::numbers::pi;
  path = {};
  const double self_clearance = r.width + 1.0;
  const auto recent = static_cast<size_t>(2.0 * self_clearance / kStep) + 2;
  own.reset();
  size_t own_count = 0;  // trace[0, own_count) is in `own`
  auto walk = [&](double length, bool dash) {
    const int64_t steps = std::max<int64_t>(1, static_cast<int64_t>(std::round(length / kStep)));
    const double step = length / static_cast<double>(steps);
    const Point from = p;
    for (int64_t s = 0; s < steps; ++s) {
      p = {p.y + step * std::sin(heading), p.x + step * std::cos(heading)};
      if (p.y < lo || p.y > hi || p.x < lo || p.x > hi || !occupied.clear(p, r.clearance)) return false;
      // Nor may it run into itself (its recent points, within one stroke of here, excepted): the
      // points of earlier dashes are in `own`, the few since then are checked one by one.
      if (!own.clear(p, self_clearance)) return false;
      for (size_t i = own_count; i + recent < path.trace.size(); ++i) {
        if (distance(p, path.trace[i]) < self_clearance) return false;
      }
      path.trace.push_back(p);
    }
    if (dash) path.dashes.emplace_back(from, p);
    return true;
  };
  if (!occupied.clear(p, r.clearance)) return false;
  path.trace.push_back(p);
  // Each dash turns by a random angle; a dash that would leave the image or touch another path is
  // redrawn with a new angle a few times (steering, so long paths fit small images) before the
  // whole path is given up.
  constexpr int kTurnTries = 12;
  for (int64_t d = 0; d < r.path_length; ++d) {
    // Points far enough behind the path's end never roll back: file them in `own`.
    if (path.trace.size() > own_count + recent) {
      own.add({path.trace.begin() + static_cast<std::ptrdiff_t>(own_count), path.trace.end() - static_cast<std::ptrdiff_t>(recent)});
      own_count = path.trace.size() - recent;
    }
    const Point saved = p;
    const size_t saved_trace = path.trace.size();
    const double saved_heading = heading;
    bool placed = false;
    for (int t = 0; t < kTurnTries && !placed; ++t) {
      p = saved;
      path.trace.resize(saved_trace);
      // Later tries may turn up to 3x sharper: a path heading into a wall needs it.
      const double range = r.max_turn * std::min(3.0, 1.0 + t / 4.0);
      heading = saved_heading + (d > 0 ? (2.0 * rng.uniform() - 1.0) * range : 0.0);
      placed = (d == 0 || r.gap <= 0 || walk(r.gap, false)) && walk(r.dash, true);
      if (d == 0 && !placed) return false;  // the first dash has no angle to vary
    }
    if (!placed) return false;
  }
  return true;
}

void render(const Resolved& r, const std::vector<Path>& paths, Point dot_a, Point dot_b, std::vector<uint8_t>& pixels) {
  std::vector<double> ink(static_cast<size_t>(r.size * r.size), 0.0);
  // Coverage of a disc/stroke of half-width h at distance d from the pixel centre: 1 inside,
  // falling linearly to 0 over one pixel (a cheap anti-aliasing).
  auto stamp = [&](Point a, Point b, double half_width) {
    const double reach = half_width + 1.0;
    const auto y0 = static_cast<int64_t>(std::floor(std::min(a.y, b.y) - reach));
    const auto y1 = static_cast<int64_t>(std::ceil(std::max(a.y, b.y) + reach));
    const auto x0 = static_cast<int64_t>(std::floor(std::min(a.x, b.x) - reach));
    const auto x1 = static_cast<int64_t>(std::ceil(std::max(a.x, b.x) + reach));
    for (int64_t y = std::max<int64_t>(0, y0); y <= std::min(r.size - 1, y1); ++y) {
      for (int64_t x = std::max<int64_t>(0, x0); x <= std::min(r.size - 1, x1); ++x) {
        const double d = segment_distance({static_cast<double>(y), static_cast<double>(x)}, a, b);
        const double v = std::clamp(half_width + 0.5 - d, 0.0, 1.0);
        double& cell = ink[static_cast<size_t>(y * r.size + x)];
        cell = std::max(cell, v);
      }
    }
  };
  for (const Path& path : paths) {
    for (const auto& [a, b] : path.dashes) stamp(a, b, r.width / 2.0);
  }
  stamp(dot_a, dot_a, r.dot_radius);
  stamp(dot_b, dot_b, r.dot_radius);
  pixels.resize(ink.size());
  for (size_t i = 0; i < ink.size(); ++i) pixels[i] = static_cast<uint8_t>(std::lround(255.0 * ink[i]));
}

}  // namespace

Image generate(const GeneratorOptions& options, uint64_t seed, int64_t label) {
  EMBER_CHECK(label == 0 || label == 1, "pathfinder: label {} is not 0 or 1", label);
  const Resolved r = resolve(options);
  SplitMix64 rng(seed);
  // Distractors get fewer attempts: one that finds no room is left out rather than searched for.
  constexpr int kImageAttempts = 2000, kPathAttempts = 100, kDistractorAttempts = 20;
  Occupancy own(static_cast<double>(r.size), r.width + 1.0);
  for (int image_attempt = 0; image_attempt < kImageAttempts; ++image_attempt) {
    Occupancy occupied(static_cast<double>(r.size), r.clearance);
    std::vector<Path> paths;
    bool ok = true;
    // Paths 0 and 1 carry the dots; distractors that find no room are left out.
    for (int64_t k = 0; k < 2 + r.distractors && ok; ++k) {
      Path path;
      bool placed = false;
      const int attempts = k < 2 ? kPathAttempts : kDistractorAttempts;
      for (int a = 0; a < attempts && !placed; ++a) placed = trace_path(r, rng, occupied, own, path);
      if (placed) {
        occupied.add(path.trace);
        paths.push_back(std::move(path));
      } else if (k < 2) {
        ok = false;
      }
    }
    if (!ok) continue;
    Image image;
    image.label = label;
    const bool flip_a = rng.next() & 1, flip_b = rng.next() & 1;
    const Point a = flip_a ? paths[0].end() : paths[0].start();
    const Point b = label == 1 ? (flip_a ? paths[0].start() : paths[0].end())
                               : (flip_b ? paths[1].end() : paths[1].start());
    image.dot_a[0] = a.y, image.dot_a[1] = a.x;
    image.dot_b[0] = b.y, image.dot_b[1] = b.x;
    render(r, paths, a, b, image.pixels);
    return image;
  }
  EMBER_FAIL("pathfinder: could not place two paths of {} dashes in a {}x{} image after {} attempts", r.path_length,
             r.size, r.size, kImageAttempts);
}

PathfinderDataset::PathfinderDataset(GeneratorOptions options, int64_t size, uint64_t seed)
    : options_(options), size_(size), seed_(seed) {
  resolve(options_);  // checks the options now rather than inside a batch
  EMBER_CHECK(size >= 0, "PathfinderDataset: size {} < 0", size);
}

Image PathfinderDataset::image(int64_t index) const {
  EMBER_CHECK(index >= 0 && index < size_, "PathfinderDataset: index {} out of range [0, {})", index, size_);
  const auto i = static_cast<uint64_t>(index);
  const int64_t label = static_cast<int64_t>(derive_seed(seed_, {i, 1}) & 1);
  return generate(options_, derive_seed(seed_, {i}), label);
}

Example PathfinderDataset::get(int64_t index) const {
  Batch b = get_batch({index});
  return {b.input.select(0, 0), b.target.select(0, 0)};
}

Batch PathfinderDataset::get_batch(const std::vector<int64_t>& indices) const {
  const int64_t n = static_cast<int64_t>(indices.size()), length = options_.size * options_.size;
  Tensor input = empty({n, length}, TensorOptions(DType::i64));
  Tensor target = empty({n}, TensorOptions(DType::i64));
  int64_t* in = input.data_ptr<int64_t>();
  int64_t* tg = target.data_ptr<int64_t>();
  parallel_examples(n, [&](int64_t i) {
    const Image im = image(indices[static_cast<size_t>(i)]);
    std::copy(im.pixels.begin(), im.pixels.end(), in + i * length);
    tg[i] = im.label;
  });
  return {input, target};
}

}  // namespace ember::data::pathfinder
