// Transforms: hand-worked values (normalize, resize against PyTorch), crop and flip invariants
// checked against the engine's pad / flip ops, random erasing geometry, channel repeat, Compose,
// reproducibility from the generator state, and input errors. Code under test: data/transforms.h.
#include <algorithm>
#include <cmath>
#include <set>

#include "data/datasets.h"
#include "data/transforms.h"
#include "helpers.h"

using namespace ember;
using namespace ember::data;
using ember::test::all_close;
using ember::test::values;

namespace {

// (B, C, H, W) float32 with distinct values 0, 1, 2, ...
Tensor ramp(int64_t b, int64_t c, int64_t h, int64_t w) {
  return arange(0.0, static_cast<double>(b * c * h * w), 1.0).reshape({b, c, h, w});
}

// Exactly equal shapes and values (read through f64 copies: faster than element-wise reads).
bool same(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  const Tensor x = a.to(DType::f64).contiguous(), y = b.to(DType::f64).contiguous();
  return std::equal(x.data_ptr<double>(), x.data_ptr<double>() + x.numel(), y.data_ptr<double>());
}

}  // namespace

TEST_CASE("normalize: per-channel (x - mean) / std", "[data][transforms]") {
  Generator gen(0);
  const Tensor x = from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7}, {1, 2, 2, 2});
  const Tensor y = (*normalize({1.0, 4.0}, {2.0, 0.5}))(x, gen);
  REQUIRE(all_close(y, {-0.5, 0, 0.5, 1, 0, 2, 4, 6}));
  const Tensor one = (*normalize({0.5}, {0.25}))(x, gen);  // one value for every channel
  REQUIRE(all_close(one, {-2, 2, 6, 10, 14, 18, 22, 26}));
  REQUIRE(gen.state().offset == 0);  // deterministic transforms draw nothing
  REQUIRE_THROWS_WITH((*normalize({0, 0, 0}, {1, 1, 1}))(x, gen), Catch::Contains("3 mean/std values") &&
                                                                       Catch::Contains("2 channels"));
  REQUIRE_THROWS_WITH(normalize({0}, {0}), Catch::Contains("std must be positive"));
}

TEST_CASE("random_crop: each sample is a window of the padded image", "[data][transforms]") {
  const Tensor x = ramp(40, 2, 5, 6);
  for (PadMode mode : {PadMode::constant, PadMode::reflect}) {
    Generator gen(21);
    const Tensor y = (*random_crop(4, 5, 2, mode, -1.0))(x, gen);
    REQUIRE(y.sizes() == Shape{40, 2, 4, 5});
    REQUIRE(gen.state().offset == 40);  // one Philox block per sample
    // The reference: F.pad by 2 (the engine's pad, tested against PyTorch), then every window.
    const Tensor padded = mode == PadMode::reflect ? pad(x, {2, 2, 2, 2}, "reflect") : pad(x, {2, 2, 2, 2}, "constant", -1.0);
    std::set<std::pair<int64_t, int64_t>> offsets;
    for (int64_t b = 0; b < 40; ++b) {
      bool found = false;
      for (int64_t top = 0; top <= 9 - 4 && !found; ++top) {
        for (int64_t left = 0; left <= 10 - 5 && !found; ++left) {
          if (same(y[b], padded[b].slice(1, top, top + 4).slice(2, left, left + 5))) {
            found = true;
            offsets.insert({top, left});
          }
        }
      }
      INFO("sample " << b);
      REQUIRE(found);
    }
    REQUIRE(offsets.size() > 10);  // 30 possible windows: the draws spread
  }
  Generator gen(0);
  REQUIRE(same((*random_crop(5, 6, 0))(x, gen), x));  // no padding, full size: identity
  REQUIRE_THROWS_WITH((*random_crop(10, 1))(x, gen), Catch::Contains("does not fit"));
  REQUIRE_THROWS_WITH((*random_crop(5, 5, PadMode::reflect))(x, gen), Catch::Contains("reflect padding 5"));
}

TEST_CASE("random_horizontal_flip: each sample kept or mirrored, with probability p", "[data][transforms]") {
  const Tensor x = ramp(300, 2, 3, 4);
  const Tensor mirrored = flip(x, {3});
  Generator gen(5);
  const Tensor y = (*random_horizontal_flip(0.5))(x, gen);
  int flipped = 0;
  for (int64_t b = 0; b < 300; ++b) {
    const bool is_flipped = same(y[b], mirrored[b]);
    REQUIRE((is_flipped || same(y[b], x[b])));
    flipped += is_flipped;
  }
  REQUIRE(flipped > 110);  // Binomial(300, 0.5): 150 +- 8.7, so this band is about 4.5 sigma wide
  REQUIRE(flipped < 190);
  REQUIRE(same((*random_horizontal_flip(0.0))(x, gen), x));
  REQUIRE(same((*random_horizontal_flip(1.0))(x, gen), mirrored));
}

TEST_CASE("random transforms are reproducible from the generator state", "[data][transforms]") {
  const Tensor x = ramp(16, 3, 8, 8);
  const auto t = compose({random_crop(8, 2, PadMode::reflect), random_horizontal_flip(), random_erasing({.probability = 1})});
  Generator a(77), b(77), c(78);
  const Tensor ya = (*t)(x, a);
  REQUIRE(same((*t)(x, b), ya));
  REQUIRE_FALSE(same((*t)(x, c), ya));
  REQUIRE(a.state().offset == 3 * 16);  // every random transform reserves B blocks
  // Compose equals applying the parts in turn with the same generator.
  Generator d(77);
  Tensor step = (*random_crop(8, 2, PadMode::reflect))(x, d);
  step = (*random_horizontal_flip())(step, d);
  step = (*random_erasing({.probability = 1}))(step, d);
  REQUIRE(same(step, ya));
  // A single image (C, H, W) goes through as a batch of one.
  Generator e(77), f(77);
  REQUIRE(same((*t)(x[0], e), (*t)(x.slice(0, 0, 1), f)[0]));
}

TEST_CASE("resize: bilinear and bicubic match PyTorch", "[data][transforms]") {
  Generator gen(0);
  const Tensor x = from_vector<float>({0, 1, 2, 3}, {1, 1, 2, 2});
  // torch.nn.functional.interpolate(x, size=(4, 4), mode='bilinear', align_corners=False) (PyTorch 1.13)
  REQUIRE(all_close((*resize(4, 4))(x, gen), {0.0, 0.25, 0.75, 1.0, 0.5, 0.75, 1.25, 1.5,  //
                                              1.5, 1.75, 2.25, 2.5, 2.0, 2.25, 2.75, 3.0}));
  // The same with mode='bicubic', size=(3, 3) (PyTorch 1.13, printed to 4 decimals).
  REQUIRE(all_close((*resize(3, 3, "bicubic"))(x, gen),
                    {-0.2604, 0.3264, 0.9132, 0.9132, 1.5, 2.0868, 2.0868, 2.6736, 3.2604}, 0, 1e-4));
  REQUIRE_THROWS_WITH(resize(4, 4, "area"), Catch::Contains("mode 'area'"));
}

TEST_CASE("random_erasing: one rectangle per erased sample, within timm's ranges", "[data][transforms]") {
  const int64_t h = 20, w = 24;
  const Tensor x = ones({64, 3, h, w});
  Generator gen(3);
  const Tensor y = (*random_erasing({.probability = 1.0}))(x, gen);
  const float* all = y.data_ptr<float>();
  int erased = 0;
  for (int64_t b = 0; b < 64; ++b) {
    // The zeros of channel 0 form one rectangle, the same in every channel.
    const float* v = all + b * 3 * h * w;
    int64_t top = h, bottom = -1, left = w, right = -1, zeros = 0;
    for (int64_t r = 0; r < h; ++r) {
      for (int64_t c = 0; c < w; ++c) {
        if (v[r * w + c] != 0) continue;
        ++zeros;
        top = std::min(top, r), bottom = std::max(bottom, r), left = std::min(left, c), right = std::max(right, c);
      }
    }
    INFO("sample " << b);
    if (zeros == 0) continue;  // all 10 attempts may miss (rare for these sizes)
    ++erased;
    const int64_t rh = bottom - top + 1, rw = right - left + 1;
    REQUIRE(zeros == rh * rw);
    REQUIRE(rh < h);
    REQUIRE(rw < w);
    // area = round(sqrt(A a)) * round(sqrt(A / a)) with A in [0.02, 1/3] of 480 and a in [0.3, 3.33].
    REQUIRE(rh * rw >= 4);
    REQUIRE(rh * rw <= 0.34 * h * w + rh + rw + 1);
    for (int64_t c = 1; c < 3; ++c) REQUIRE(std::equal(v, v + h * w, v + c * h * w));
  }
  REQUIRE(erased > 55);
  REQUIRE(same((*random_erasing({.probability = 0.0}))(x, gen), x));
  // "pixel" fills with normal draws, "rand" with one draw per channel.
  Generator p(4);
  const auto pixel = values((*random_erasing({.probability = 1.0, .mode = "pixel"}))(x, p)[0][0]);
  std::set<double> distinct(pixel.begin(), pixel.end());
  REQUIRE(distinct.size() > 3);
  Generator r(4);
  const auto rand_fill = values((*random_erasing({.probability = 1.0, .mode = "rand"}))(x, r)[0][0]);
  std::set<double> channel(rand_fill.begin(), rand_fill.end());
  REQUIRE(channel.size() <= 2);  // 1 outside, one value inside
  REQUIRE_THROWS_WITH(random_erasing({.mode = "noise"}), Catch::Contains("mode 'noise'"));
}

TEST_CASE("repeat_channels: 1 -> 3 channels, 3 channels pass", "[data][transforms]") {
  Generator gen(0);
  const Tensor x = ramp(2, 1, 2, 2);
  const Tensor y = (*repeat_channels(3))(x, gen);
  REQUIRE(y.sizes() == Shape{2, 3, 2, 2});
  REQUIRE(same(y.select(1, 2), x.select(1, 0)));
  REQUIRE(same(y.select(1, 0), x.select(1, 0)));
  const Tensor rgb = ramp(2, 3, 2, 2);
  REQUIRE(same((*repeat_channels(3))(rgb, gen), rgb));
  REQUIRE_THROWS_WITH((*repeat_channels(3))(ramp(1, 2, 2, 2), gen), Catch::Contains("single channel"));
}

TEST_CASE("transforms reject inputs that are not float32 image batches", "[data][transforms][errors]") {
  Generator gen(0);
  REQUIRE_THROWS_WITH((*random_horizontal_flip())(zeros({2, 3}), gen),
                      Catch::Contains("random_horizontal_flip") && Catch::Contains("(B, C, H, W)"));
  REQUIRE_THROWS_WITH((*normalize({0}, {1}))(zeros({1, 1, 2, 2}, DType::f64), gen), Catch::Contains("float64"));
  // describe() names each part, for config.json.
  REQUIRE(compose({random_crop(32, 4, PadMode::reflect), normalize({0.5}, {0.25})})->describe() ==
          "compose(random_crop(32x32, padding=4, reflect), normalize(mean=[0.5], std=[0.25]))");
}

TEST_CASE("image_transforms builds the usual classifier pipeline", "[data][transforms]") {
  ImageDatasetInfo fmnist{"fashion_mnist", 10, 1, 28, 28, {0.25}, {0.5}, {}};
  REQUIRE(image_transforms(fmnist, {.train = true, .size = 32, .channels = 3})->describe() ==
          "compose(random_crop(28x28, padding=4, constant 0), random_horizontal_flip(p=0.5), resize(32x32, bilinear), "
          "normalize(mean=[0.25], std=[0.5]), repeat_channels(3))");
  REQUIRE(image_transforms(fmnist, {.train = false})->describe() == "compose(normalize(mean=[0.25], std=[0.5]))");
  Generator gen(0);
  const Tensor y = (*image_transforms(fmnist, {.train = false, .channels = 3}))(full({2, 1, 28, 28}, 0.75), gen);
  REQUIRE(y.sizes() == Shape{2, 3, 28, 28});
  REQUIRE(read_element(y, 5) == 1.0);
  ImageDatasetInfo cifar{"cifar10", 10, 3, 32, 32, {0, 0, 0}, {1, 1, 1}, {}};
  REQUIRE_THROWS_WITH(image_transforms(cifar, {.channels = 1}), Catch::Contains("3 channels"));
}
