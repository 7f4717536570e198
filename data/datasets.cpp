// The named image datasets (interface: data/datasets.h): metadata, folder resolution, loading
// through the IDX and CIFAR readers, and the generated "synthetic" dataset.
#include "data/datasets.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fmt/ranges.h>

#include "data/cifar.h"
#include "data/dataloader.h"
#include "data/idx.h"
#include "engine/factories.h"
#include "engine/random.h"

namespace ember::data {

namespace {

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
const std::vector<std::string> kCifar10Classes = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                  "dog",      "frog",       "horse", "ship", "truck"};
const std::vector<std::string> kCifar100Classes = {
    "apple",      "aquarium_fish", "baby",     "bear",        "beaver",       "bed",        "bee",        "beetle",
    "bicycle",    "bottle",        "bowl",     "boy",         "bridge",       "bus",        "butterfly",  "camel",
    "can",        "castle",        "caterpillar", "cattle",   "chair",        "chimpanzee", "clock",      "cloud",
    "cockroach",  "couch",         "crab",     "crocodile",   "cup",          "dinosaur",   "dolphin",    "elephant",
    "flatfish",   "forest",        "fox",      "girl",        "hamster",      "house",      "kangaroo",   "keyboard",
    "lamp",       "lawn_mower",    "leopard",  "lion",        "lizard",       "lobster",    "man",        "maple_tree",
    "motorcycle", "mountain",      "mouse",    "mushroom",    "oak_tree",     "orange",     "orchid",     "otter",
    "palm_tree",  "pear",          "pickup_truck", "pine_tree", "plain",      "plate",      "poppy",      "porcupine",
    "possum",     "rabbit",        "raccoon",  "ray",         "road",         "rocket",     "rose",       "sea",
    "seal",       "shark",         "shrew",    "skunk",       "skyscraper",   "snail",      "snake",      "spider",
    "squirrel",   "streetcar",     "sunflower", "sweet_pepper", "table",      "tank",       "telephone",  "television",
    "tiger",      "tractor",       "train",    "trout",       "tulip",        "turtle",     "wardrobe",   "whale",
    "willow_tree", "wolf",         "woman",    "worm"};

std::vector<std::string> numbered_classes(int64_t n) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < n; ++i) names.push_back(std::to_string(i));
  return names;
}

// The folder (dir, or one of dir/<subdir>) that holds the IDX training images.
std::string idx_dir(const std::string& name, const std::string& dir, const std::vector<std::string>& subdirs,
                    bool train) {
  const std::string stem = train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte";
  std::vector<std::string> tried;
  std::vector<std::string> candidates = {dir};
  for (const auto& s : subdirs) candidates.push_back(dir + "/" + s);
  for (const auto& c : candidates) {
    for (const std::string& file : {c + "/" + stem + ".gz", c + "/" + stem}) {
      if (std::filesystem::exists(file)) return c;
      tried.push_back(file);
    }
  }
  EMBER_FAIL("{}: no IDX images found; looked for {}{}. Point --data-dir or EMBER_DATA_DIR at the folder holding the "
             "{}-*-ubyte[.gz] files",
             name, fmt::join(tried, ", "),
             name == "fashion_mnist" ? " (Debian: apt install dataset-fashion-mnist)" : "", train ? "train" : "t10k");
}

// Per-channel mean and std of uint8 images (N, C, H, W), in [0, 1] units.
void channel_stats(const Tensor& images, std::vector<double>& mean, std::vector<double>& std) {
  const int64_t n = images.size(0), c = images.size(1), plane = images.size(2) * images.size(3);
  const uint8_t* p = images.data_ptr<uint8_t>();
  mean.assign(static_cast<size_t>(c), 0.0);
  std.assign(static_cast<size_t>(c), 0.0);
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* q = p + (i * c + ch) * plane;
      for (int64_t k = 0; k < plane; ++k) {
        const double v = q[k] / 255.0;
        sum += v;
        sq += v * v;
      }
    }
    const double count = static_cast<double>(n * plane);
    mean[ch] = sum / count;
    std[ch] = std::sqrt(std::max(0.0, sq / count - mean[ch] * mean[ch]));
  }
}

// Uniform noise in [-0.15, 0.15] from a SplitMix64 hash of (seed, pixel): as deterministic as
// Philox and ten times cheaper, which matters for a dataset generated on every start.
double pixel_noise(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return 0.3 * (static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0) - 0.5);
}

// images (N, C, size, size) uint8 and labels (N), both deterministic in (options, train).
std::pair<Tensor, Tensor> synthetic_images(const SyntheticOptions& o, bool train) {
  const int64_t n = train ? o.train_size : o.test_size, s = o.size, margin = 2, grid = o.size + 2 * margin;
  constexpr int kBlobs = 3;
  // One template per (class, channel) on a grid with a 2-pixel margin, so shifted reads stay inside.
  Generator pattern_gen(derive_seed(o.seed, {0}));
  const Tensor blob_params = rand({o.num_classes, kBlobs, 4}, pattern_gen, DType::f64);
  const Tensor channel_weights = uniform(0.4, 1.0, {o.num_classes, o.channels}, pattern_gen, DType::f64);
  const double* bp = blob_params.data_ptr<double>();
  const double* cw = channel_weights.data_ptr<double>();
  std::vector<float> templates(static_cast<size_t>(o.num_classes * o.channels * grid * grid));
  for (int64_t k = 0; k < o.num_classes; ++k) {
    for (int64_t y = 0; y < grid; ++y) {
      for (int64_t x = 0; x < grid; ++x) {
        double v = 0;
        for (int b = 0; b < kBlobs; ++b) {
          const double* q = bp + (k * kBlobs + b) * 4;
          const double cy = margin + 3 + q[0] * static_cast<double>(s - 6), cx = margin + 3 + q[1] * static_cast<double>(s - 6);
          const double sigma = 1.5 + 2.5 * q[2], amplitude = 0.5 + 0.5 * q[3];
          v += amplitude * std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * sigma * sigma));
        }
        for (int64_t c = 0; c < o.channels; ++c) {
          templates[static_cast<size_t>(((k * o.channels + c) * grid + y) * grid + x)] =
              static_cast<float>(std::min(1.0, v) * cw[k * o.channels + c]);
        }
      }
    }
  }
  Generator sample_gen(derive_seed(o.seed, {train ? 1u : 2u}));
  const Tensor draws = rand({n, 3}, sample_gen, DType::f64);  // shift y, shift x, contrast
  const double* d = draws.data_ptr<double>();
  const uint64_t noise_seed = derive_seed(o.seed, {train ? 3u : 4u});
  Tensor images = empty({n, o.channels, s, s}, DType::u8);
  Tensor labels = empty({n}, DType::i64);
  uint8_t* out = images.data_ptr<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = i % o.num_classes;
    labels.data_ptr<int64_t>()[i] = k;
    const int64_t dy = static_cast<int64_t>(d[i * 3] * 5), dx = static_cast<int64_t>(d[i * 3 + 1] * 5);  // 0..4
    const double contrast = 0.6 + 0.4 * d[i * 3 + 2];
    for (int64_t c = 0; c < o.channels; ++c) {
      const float* t = templates.data() + (k * o.channels + c) * grid * grid;
      for (int64_t y = 0; y < s; ++y) {
        for (int64_t x = 0; x < s; ++x) {
          const int64_t at = ((i * o.channels + c) * s + y) * s + x;
          const double v = contrast * t[(y + dy) * grid + (x + dx)] + pixel_noise(noise_seed, static_cast<uint64_t>(at));
          out[at] = static_cast<uint8_t>(std::lround(255.0 * std::clamp(v, 0.0, 1.0)));
        }
      }
    }
  }
  return {images, labels};
}

}  // namespace

std::vector<std::string> image_dataset_names() { return {"fashion_mnist", "mnist", "cifar10", "cifar100", "synthetic"}; }

ImageDatasetInfo image_dataset_info(const std::string& name) {
  ImageDatasetInfo info;
  info.name = name;
  if (name == "fashion_mnist") {
    // mean/std: numpy over the 60000 training images (test/data/test_readers.cpp rechecks them).
    info = {name, 10, 1, 28, 28, {0.2860406}, {0.3530242}, kFashionClasses};
  } else if (name == "mnist") {
    info = {name, 10, 1, 28, 28, {0.1307}, {0.3081}, numbered_classes(10)};
  } else if (name == "cifar10") {
    info = {name, 10, 3, 32, 32, {0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}, kCifar10Classes};
  } else if (name == "cifar100") {
    info = {name, 100, 3, 32, 32, {0.5071, 0.4865, 0.4409}, {0.2673, 0.2564, 0.2762}, kCifar100Classes};
  } else if (name == "synthetic") {
    static const ImageDatasetInfo synthetic = make_synthetic_dataset(SyntheticOptions{}, true).info;  // computed once
    info = synthetic;
  } else {
    EMBER_FAIL("dataset: unknown name '{}' (known: {})", name, fmt::join(image_dataset_names(), ", "));
  }
  return info;
}

std::string image_dataset_dir(const std::string& name, const std::string& data_dir) {
  if (!data_dir.empty()) return data_dir;
  if (const char* env = std::getenv("EMBER_DATA_DIR"); env && *env) return env;
  if (name == "fashion_mnist") return fashion_mnist_dir();
  return "/usr/share/datasets/" + name;
}

ImageDatasetSplit make_image_dataset(const std::string& name, const std::string& data_dir, bool train) {
  ImageDatasetInfo info = image_dataset_info(name);  // rejects unknown names first
  if (name == "synthetic") return {make_synthetic_dataset(SyntheticOptions{}, train).dataset, info};
  const std::string dir = image_dataset_dir(name, data_dir);
  ImageClassificationSplit split;
  if (name == "fashion_mnist") {
    split = load_fashion_mnist(idx_dir(name, dir, {"fashion-mnist", "fashion_mnist", "FashionMNIST/raw"}, train), train);
  } else if (name == "mnist") {
    split = load_fashion_mnist(idx_dir(name, dir, {"mnist", "MNIST/raw"}, train), train);
  } else if (name == "cifar10") {
    split = load_cifar10(dir, train);
  } else {
    split = load_cifar100(dir, train);
  }
  auto dataset = std::make_shared<ImageDataset>(split.images, split.labels);
  const Tensor& images = dataset->images();
  EMBER_CHECK(images.size(1) == info.channels && images.size(2) == info.height && images.size(3) == info.width,
              "{}: images in {} have shape {}, expected (N, {}, {}, {})", name, dir, shape_str(images.sizes()),
              info.channels, info.height, info.width);
  return {dataset, info};
}

TransformPtr image_transforms(const ImageDatasetInfo& info, const ImageTransformOptions& o) {
  EMBER_CHECK(o.channels == 0 || o.channels == info.channels || info.channels == 1,
              "image_transforms: {} has {} channels; a model taking {} cannot be fed (only 1 -> N is repeated)",
              info.name, info.channels, o.channels);
  std::vector<TransformPtr> steps;
  const bool augment = o.train && o.augment;
  if (augment && o.crop_padding > 0) steps.push_back(random_crop(info.height, info.width, o.crop_padding, o.pad_mode));
  if (augment && info.name != "mnist") steps.push_back(random_horizontal_flip(0.5));
  if (o.size > 0 && (o.size != info.height || o.size != info.width)) steps.push_back(resize(o.size, o.size, o.resize_mode));
  steps.push_back(normalize(info.mean, info.std));
  if (o.channels > 0 && o.channels != info.channels) steps.push_back(repeat_channels(o.channels));
  if (augment && o.erasing > 0) steps.push_back(random_erasing({.probability = o.erasing}));
  return compose(std::move(steps));
}

ImageDatasetSplit make_synthetic_dataset(const SyntheticOptions& o, bool train) {
  EMBER_CHECK(o.train_size >= 1 && o.test_size >= 1 && o.num_classes >= 2 && o.channels >= 1 && o.size >= 8,
              "make_synthetic_dataset: need sizes >= 1, num_classes >= 2, channels >= 1 and size >= 8");
  ImageDatasetInfo info{"synthetic", o.num_classes, o.channels, o.size, o.size, {}, {}, numbered_classes(o.num_classes)};
  auto [images, labels] = synthetic_images(o, train);
  channel_stats(train ? images : synthetic_images(o, true).first, info.mean, info.std);
  return {std::make_shared<ImageDataset>(images, labels), info};
}

}  // namespace ember::data
