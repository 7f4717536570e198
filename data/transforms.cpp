// Batch transforms (interface and semantics: data/transforms.h). The kernels are plain loops over
// contiguous float32 planes: a Fashion-MNIST batch of 128 is 100k floats, so one thread does a
// crop + flip + normalize in well under a millisecond and the loader never needs OpenMP here.
#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/factories.h"
#include "ops/interpolate.h"

namespace ember::data {

namespace {

// Note [Sample streams]: a random transform reserves one Philox block per sample from the batch
// generator (gen.advance(B)) and turns block (base + b) into a 64-bit key for sample b's private
// stream; the sample then draws philox4x32(0, key), philox4x32(1, key), ... as it needs (a varying
// number for random erasing). Samples never share blocks, and the generator advances by exactly B
// per call whatever the draws, so later transforms see the same state on every run.
class SampleRng {
 public:
  explicit SampleRng(uint64_t key) : key_(key) {}
  double uniform() {  // [0, 1)
    const auto r = philox4x32(counter_++, key_);
    return uniform_from_bits(r[0], r[1]);
  }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  int64_t randint(int64_t low, int64_t high) {  // inclusive of both ends
    const int64_t v = low + static_cast<int64_t>(uniform() * static_cast<double>(high - low + 1));
    return std::min(v, high);
  }
  double normal() {  // Box-Muller
    const auto r = philox4x32(counter_++, key_);
    const double u1 = 1.0 - uniform_from_bits(r[0], r[1]);  // (0, 1]
    const double u2 = uniform_from_bits(r[2], r[3]);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
};

std::vector<SampleRng> sample_streams(Generator& gen, int64_t batch) {
  const uint64_t base = gen.advance(static_cast<uint64_t>(batch));
  std::vector<SampleRng> streams;
  streams.reserve(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    const auto r = philox4x32(base + static_cast<uint64_t>(b), gen.seed());
    streams.emplace_back((static_cast<uint64_t>(r[0]) << 32) | r[1]);
  }
  return streams;
}

struct Dims {
  int64_t batch, channels, height, width;
};
Dims dims_of(const Tensor& x) { return {x.size(0), x.size(1), x.size(2), x.size(3)}; }

// Source index along one axis for output position `o` of a crop starting at `start` in the padded
// image: -1 means "padding, use the fill value".
int64_t padded_source(int64_t o, int64_t start, int64_t padding, int64_t size, PadMode mode) {
  int64_t i = start + o - padding;
  if (i >= 0 && i < size) return i;
  if (mode == PadMode::constant) return -1;
  // Reflection without repeating the edge (numpy "reflect"); padding < size guarantees one bounce.
  if (i < 0) i = -i;
  if (i >= size) i = 2 * (size - 1) - i;
  return i;
}

class Normalize : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std) : mean_(std::move(mean)), std_(std::move(std)) {
    EMBER_CHECK(!mean_.empty() && mean_.size() == std_.size(),
                "normalize: mean ({} values) and std ({} values) must be non-empty and the same length", mean_.size(),
                std_.size());
    for (double s : std_) EMBER_CHECK(s > 0, "normalize: std must be positive, got {}", fmt::join(std_, ", "));
  }
  Tensor apply(const Tensor& x, Generator&) const override {
    const Dims d = dims_of(x);
    EMBER_CHECK(mean_.size() == 1 || static_cast<int64_t>(mean_.size()) == d.channels,
                "normalize: {} mean/std values for a batch with {} channels {}", mean_.size(), d.channels,
                x.describe());
    Tensor out = empty(x.sizes(), DType::f32);
    const float* src = x.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const int64_t plane = d.height * d.width;
    for (int64_t b = 0; b < d.batch; ++b) {
      for (int64_t c = 0; c < d.channels; ++c) {
        const size_t k = mean_.size() == 1 ? 0 : static_cast<size_t>(c);
        const float m = static_cast<float>(mean_[k]);
        const float inv = static_cast<float>(1.0 / std_[k]);
        const int64_t at = (b * d.channels + c) * plane;
        for (int64_t i = 0; i < plane; ++i) dst[at + i] = (src[at + i] - m) * inv;
      }
    }
    return out;
  }
  std::string describe() const override {
    return fmt::format("normalize(mean=[{}], std=[{}])", fmt::join(mean_, ", "), fmt::join(std_, ", "));
  }

 private:
  std::vector<double> mean_, std_;
};

class RandomCrop : public Transform {
 public:
  RandomCrop(int64_t height, int64_t width, int64_t padding, PadMode mode, double fill)
      : height_(height), width_(width), padding_(padding), mode_(mode), fill_(fill) {
    EMBER_CHECK(height > 0 && width > 0 && padding >= 0,
                "random_crop: size ({}, {}) must be positive and padding {} non-negative", height, width, padding);
  }
  Tensor apply(const Tensor& x, Generator& gen) const override {
    const Dims d = dims_of(x);
    EMBER_CHECK(height_ <= d.height + 2 * padding_ && width_ <= d.width + 2 * padding_,
                "random_crop: a ({}, {}) crop does not fit a {}x{} image padded by {}", height_, width_, d.height,
                d.width, padding_);
    EMBER_CHECK(mode_ == PadMode::constant || (padding_ < d.height && padding_ < d.width),
                "random_crop: reflect padding {} must be smaller than the image ({}x{})", padding_, d.height, d.width);
    Tensor out = empty({d.batch, d.channels, height_, width_}, DType::f32);
    const float* src = x.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const float fill = static_cast<float>(fill_);
    std::vector<SampleRng> rng = sample_streams(gen, d.batch);
    std::vector<int64_t> rows(static_cast<size_t>(height_)), cols(static_cast<size_t>(width_));
    for (int64_t b = 0; b < d.batch; ++b) {
      const int64_t top = rng[b].randint(0, d.height + 2 * padding_ - height_);
      const int64_t left = rng[b].randint(0, d.width + 2 * padding_ - width_);
      for (int64_t o = 0; o < height_; ++o) rows[o] = padded_source(o, top, padding_, d.height, mode_);
      for (int64_t o = 0; o < width_; ++o) cols[o] = padded_source(o, left, padding_, d.width, mode_);
      // The window's columns [first, last) read the source without padding: a contiguous copy.
      const int64_t first = std::clamp<int64_t>(padding_ - left, 0, width_);
      const int64_t last = std::clamp<int64_t>(padding_ + d.width - left, first, width_);
      for (int64_t c = 0; c < d.channels; ++c) {
        const float* plane = src + (b * d.channels + c) * d.height * d.width;
        float* out_plane = dst + (b * d.channels + c) * height_ * width_;
        for (int64_t oy = 0; oy < height_; ++oy) {
          float* o = out_plane + oy * width_;
          if (rows[oy] < 0) {
            std::fill(o, o + width_, fill);
            continue;
          }
          const float* row = plane + rows[oy] * d.width;
          for (int64_t ox = 0; ox < first; ++ox) o[ox] = cols[ox] < 0 ? fill : row[cols[ox]];
          if (last > first) std::memcpy(o + first, row + cols[first], static_cast<size_t>(last - first) * 4);
          for (int64_t ox = last; ox < width_; ++ox) o[ox] = cols[ox] < 0 ? fill : row[cols[ox]];
        }
      }
    }
    return out;
  }
  std::string describe() const override {
    return fmt::format("random_crop({}x{}, padding={}, {})", height_, width_, padding_,
                       mode_ == PadMode::reflect ? "reflect" : fmt::format("constant {}", fill_));
  }

 private:
  int64_t height_, width_, padding_;
  PadMode mode_;
  double fill_;
};

class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double p) : p_(p) {
    EMBER_CHECK(p >= 0.0 && p <= 1.0, "random_horizontal_flip: p must be in [0, 1], got {}", p);
  }
  Tensor apply(const Tensor& x, Generator& gen) const override {
    const Dims d = dims_of(x);
    Tensor out = empty(x.sizes(), DType::f32);
    const float* src = x.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const int64_t sample = d.channels * d.height * d.width;
    std::vector<SampleRng> rng = sample_streams(gen, d.batch);
    for (int64_t b = 0; b < d.batch; ++b) {
      const float* s = src + b * sample;
      float* o = dst + b * sample;
      if (rng[b].uniform() >= p_) {
        std::memcpy(o, s, static_cast<size_t>(sample) * 4);
        continue;
      }
      for (int64_t r = 0; r < d.channels * d.height; ++r) {
        std::reverse_copy(s + r * d.width, s + (r + 1) * d.width, o + r * d.width);
      }
    }
    return out;
  }
  std::string describe() const override { return fmt::format("random_horizontal_flip(p={})", p_); }

 private:
  double p_;
};

class Resize : public Transform {
 public:
  Resize(int64_t height, int64_t width, std::string mode) : height_(height), width_(width), mode_(std::move(mode)) {
    EMBER_CHECK(height > 0 && width > 0, "resize: size ({}, {}) must be positive", height, width);
    EMBER_CHECK(mode_ == "bilinear" || mode_ == "bicubic" || mode_ == "nearest",
                "resize: mode '{}' is not one of bilinear, bicubic, nearest", mode_);
  }
  Tensor apply(const Tensor& x, Generator&) const override {
    if (x.size(2) == height_ && x.size(3) == width_) return x;
    return interpolate(x, Shape{height_, width_}, mode_);
  }
  std::string describe() const override { return fmt::format("resize({}x{}, {})", height_, width_, mode_); }

 private:
  int64_t height_, width_;
  std::string mode_;
};

class RandomErasing : public Transform {
 public:
  explicit RandomErasing(RandomErasingOptions o) : o_(std::move(o)) {
    if (o_.max_aspect <= 0) o_.max_aspect = 1.0 / o_.min_aspect;
    EMBER_CHECK(o_.probability >= 0 && o_.probability <= 1, "random_erasing: probability must be in [0, 1], got {}",
                o_.probability);
    EMBER_CHECK(0 < o_.min_area && o_.min_area <= o_.max_area && o_.max_area <= 1,
                "random_erasing: need 0 < min_area <= max_area <= 1, got {} and {}", o_.min_area, o_.max_area);
    EMBER_CHECK(0 < o_.min_aspect && o_.min_aspect <= o_.max_aspect,
                "random_erasing: need 0 < min_aspect <= max_aspect, got {} and {}", o_.min_aspect, o_.max_aspect);
    EMBER_CHECK(o_.mode == "const" || o_.mode == "rand" || o_.mode == "pixel",
                "random_erasing: mode '{}' is not one of const, rand, pixel", o_.mode);
    EMBER_CHECK(o_.count >= 1, "random_erasing: count must be at least 1, got {}", o_.count);
  }
  Tensor apply(const Tensor& x, Generator& gen) const override {
    const Dims d = dims_of(x);
    Tensor out = x.clone();
    float* dst = out.data_ptr<float>();
    const double area = static_cast<double>(d.height * d.width);
    const double log_min = std::log(o_.min_aspect), log_max = std::log(o_.max_aspect);
    std::vector<SampleRng> rng = sample_streams(gen, d.batch);
    for (int64_t b = 0; b < d.batch; ++b) {
      SampleRng& r = rng[b];
      if (r.uniform() >= o_.probability) continue;
      for (int64_t n = 0; n < o_.count; ++n) {
        for (int attempt = 0; attempt < 10; ++attempt) {
          const double target = r.uniform(o_.min_area, o_.max_area) * area / static_cast<double>(o_.count);
          const double aspect = std::exp(r.uniform(log_min, log_max));
          const auto h = static_cast<int64_t>(std::lround(std::sqrt(target * aspect)));
          const auto w = static_cast<int64_t>(std::lround(std::sqrt(target / aspect)));
          if (w < d.width && h < d.height) {
            const int64_t top = r.randint(0, d.height - h);
            const int64_t left = r.randint(0, d.width - w);
            erase(dst + b * d.channels * d.height * d.width, d, top, left, h, w, r);
            break;
          }
        }
      }
    }
    return out;
  }
  std::string describe() const override {
    return fmt::format("random_erasing(p={}, area=[{}, {}], aspect=[{}, {}], mode={}, count={})", o_.probability,
                       o_.min_area, o_.max_area, o_.min_aspect, o_.max_aspect, o_.mode, o_.count);
  }

 private:
  // sample: one (C, H, W) image.
  void erase(float* sample, const Dims& d, int64_t top, int64_t left, int64_t h, int64_t w, SampleRng& r) const {
    for (int64_t c = 0; c < d.channels; ++c) {
      const float channel_value = o_.mode == "rand" ? static_cast<float>(r.normal()) : 0.0f;
      for (int64_t y = top; y < top + h; ++y) {
        float* row = sample + (c * d.height + y) * d.width;
        for (int64_t xx = left; xx < left + w; ++xx) {
          row[xx] = o_.mode == "pixel" ? static_cast<float>(r.normal()) : channel_value;
        }
      }
    }
  }
  RandomErasingOptions o_;
};

class RepeatChannels : public Transform {
 public:
  explicit RepeatChannels(int64_t channels) : channels_(channels) {
    EMBER_CHECK(channels >= 1, "repeat_channels: channels must be positive, got {}", channels);
  }
  Tensor apply(const Tensor& x, Generator&) const override {
    if (x.size(1) == channels_) return x;
    EMBER_CHECK(x.size(1) == 1, "repeat_channels: can only repeat a single channel to {}, got {}", channels_,
                x.describe());
    return x.expand({-1, channels_, -1, -1}).contiguous();
  }
  std::string describe() const override { return fmt::format("repeat_channels({})", channels_); }

 private:
  int64_t channels_;
};

class Compose : public Transform {
 public:
  explicit Compose(std::vector<TransformPtr> transforms) {
    for (auto& t : transforms) {
      if (t) transforms_.push_back(std::move(t));
    }
  }
  Tensor apply(const Tensor& x, Generator& gen) const override {
    Tensor y = x;
    for (const auto& t : transforms_) y = (*t)(y, gen);  // checks what a lambda returned
    return y;
  }
  Batch apply_batch(Batch batch, Generator& gen) const override {
    for (const auto& t : transforms_) batch = t->apply_batch(std::move(batch), gen);
    return batch;
  }
  std::string describe() const override {
    std::vector<std::string> parts;
    for (const auto& t : transforms_) parts.push_back(t->describe());
    return fmt::format("compose({})", fmt::join(parts, ", "));
  }

 private:
  std::vector<TransformPtr> transforms_;
};

class Lambda : public Transform {
 public:
  Lambda(std::string description, std::function<Tensor(const Tensor&, Generator&)> fn)
      : description_(std::move(description)), fn_(std::move(fn)) {}
  Tensor apply(const Tensor& x, Generator& gen) const override { return fn_(x, gen); }
  // Any input the function accepts (no image-batch check).
  Batch apply_batch(Batch batch, Generator& gen) const override {
    batch.input = fn_(batch.input, gen);
    return batch;
  }
  std::string describe() const override { return description_; }

 private:
  std::string description_;
  std::function<Tensor(const Tensor&, Generator&)> fn_;
};

}  // namespace

Batch Transform::apply_batch(Batch batch, Generator& gen) const {
  batch.input = (*this)(batch.input, gen);
  return batch;
}

Tensor Transform::operator()(const Tensor& x, Generator& gen) const {
  EMBER_CHECK(x.defined() && x.dtype() == DType::f32 && (x.dim() == 3 || x.dim() == 4),
              "{}: expects a float32 batch (B, C, H, W) or image (C, H, W), got {}", describe(),
              x.defined() ? x.describe() : "an undefined tensor");
  if (x.dim() == 3) return apply(x.unsqueeze(0).contiguous(), gen).squeeze(0);
  return apply(x.contiguous(), gen);
}

TransformPtr normalize(std::vector<double> mean, std::vector<double> std) {
  return std::make_shared<Normalize>(std::move(mean), std::move(std));
}
TransformPtr random_crop(int64_t height, int64_t width, int64_t padding, PadMode mode, double fill) {
  return std::make_shared<RandomCrop>(height, width, padding, mode, fill);
}
TransformPtr random_horizontal_flip(double p) { return std::make_shared<RandomHorizontalFlip>(p); }
TransformPtr resize(int64_t height, int64_t width, const std::string& mode) {
  return std::make_shared<Resize>(height, width, mode);
}
TransformPtr random_erasing(RandomErasingOptions options) { return std::make_shared<RandomErasing>(std::move(options)); }
TransformPtr repeat_channels(int64_t channels) { return std::make_shared<RepeatChannels>(channels); }
TransformPtr compose(std::vector<TransformPtr> transforms) { return std::make_shared<Compose>(std::move(transforms)); }
TransformPtr lambda_transform(std::string description, std::function<Tensor(const Tensor&, Generator&)> fn) {
  return std::make_shared<Lambda>(std::move(description), std::move(fn));
}

}  // namespace ember::data
