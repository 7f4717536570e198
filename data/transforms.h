// Batch transforms for image data: normalize, random crop with padding, horizontal flip, resize,
// random erasing, channel repeat, and Compose. Implementation: data/transforms.cpp; the DataLoader
// (data/dataloader.h) runs them in its worker threads with a per-batch Generator.
//
// Every transform takes a float32 batch x: (B, C, H, W) (a single image (C, H, W) also works) and
// returns a new tensor; x is never written. Random transforms give each sample its own draws:
// a call reserves B Philox blocks from `gen` (Note [Sample streams] in transforms.cpp), so the
// result depends only on the generator's state, not on the thread that runs it, and the same
// generator state reproduces the same batch. Transforms hold no mutable state: one instance may run
// in several loader workers at once.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "engine/random.h"
#include "engine/tensor.h"

namespace ember::data {

class Transform {
 public:
  virtual ~Transform() = default;
  // x: (B, C, H, W) float32 -> the transformed batch.
  virtual Tensor apply(const Tensor& x, Generator& gen) const = 0;
  // What the loader calls: transforms the inputs and keeps the targets. Transforms that mix
  // labels (mixup, cutmix) override this.
  virtual Batch apply_batch(Batch batch, Generator& gen) const;
  // A short description for logs and config.json, e.g. "random_crop(32, padding=4, reflect)".
  virtual std::string describe() const = 0;
  // apply() that also takes a single image (C, H, W), and checks the input.
  Tensor operator()(const Tensor& x, Generator& gen) const;
};
using TransformPtr = std::shared_ptr<const Transform>;

enum class PadMode { constant, reflect };

// (x - mean[c]) / std[c]; mean and std have C entries (or one for every channel).
TransformPtr normalize(std::vector<double> mean, std::vector<double> std);
// torchvision RandomCrop(size, padding, padding_mode): pads every side by `padding` (with `fill`,
// or by reflection without repeating the edge), then cuts a (height, width) window at a uniformly
// drawn position (top in [0, H + 2 padding - height], likewise left).
TransformPtr random_crop(int64_t height, int64_t width, int64_t padding, PadMode mode = PadMode::constant,
                         double fill = 0.0);
inline TransformPtr random_crop(int64_t size, int64_t padding, PadMode mode = PadMode::constant, double fill = 0.0) {
  return random_crop(size, size, padding, mode, fill);
}
// Mirrors each sample left-right with probability p.
TransformPtr random_horizontal_flip(double p = 0.5);
// F.interpolate to (height, width): mode "bilinear" | "bicubic" | "nearest" (no antialiasing).
TransformPtr resize(int64_t height, int64_t width, const std::string& mode = "bilinear");

// timm's RandomErasing (defaults as in timm.data.random_erasing.RandomErasing): with probability
// `probability` a sample gets `count` rectangles of area in [min_area, max_area] of the image
// (divided by count) and log-uniform aspect ratio in [min_aspect, max_aspect] (max_aspect 0 means
// 1 / min_aspect), each placed after up to 10 tries, filled with 0 ("const"), one normal draw per
// channel ("rand") or per pixel ("pixel"). Applied after normalize, so 0 is the mean colour.
struct RandomErasingOptions {
  double probability = 0.5;
  double min_area = 0.02;
  double max_area = 1.0 / 3.0;
  double min_aspect = 0.3;
  double max_aspect = 0.0;
  std::string mode = "const";  // "const" | "rand" | "pixel"
  int64_t count = 1;
};
TransformPtr random_erasing(RandomErasingOptions options = {});

// (B, 1, H, W) -> (B, channels, H, W) by repeating the one channel (so grayscale data feeds
// models built for RGB); a batch that already has `channels` channels passes unchanged.
TransformPtr repeat_channels(int64_t channels = 3);

// Applies the transforms in order (null entries are skipped).
TransformPtr compose(std::vector<TransformPtr> transforms);

// A user function as a transform (tests, quick experiments); the loader passes it any input.
TransformPtr lambda_transform(std::string description, std::function<Tensor(const Tensor&, Generator&)> fn);

}  // namespace ember::data
