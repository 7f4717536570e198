// The registry of named image-classification datasets: "fashion_mnist" (the default), "mnist",
// "cifar10", "cifar100" and "synthetic" (generated, no files). Implementation: data/datasets.cpp;
// readers: data/idx.h, data/cifar.h.
//
//   auto [dataset, info] = data::make_image_dataset("fashion_mnist", opt.data_dir, /*train=*/true);
//   // dataset: ImageDataset (float32 (B, C, H, W) in [0, 1] per batch, int64 labels)
//   // info: classes, channels, height, width, mean/std for normalize(), class names
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"

namespace ember::data {

struct ImageDatasetSplit {
  DatasetPtr dataset;
  ImageDatasetInfo info;
};

inline constexpr const char* kDefaultImageDataset = "fashion_mnist";

// The known names, in the order error messages list them.
std::vector<std::string> image_dataset_names();
// The metadata of `name` without loading anything (ember::Error listing the known names if unknown).
ImageDatasetInfo image_dataset_info(const std::string& name);
// The folder to read `name` from: `data_dir` if non-empty, else $EMBER_DATA_DIR, else the dataset's
// default (/usr/share/datasets/fashion-mnist for fashion_mnist, Debian's dataset-fashion-mnist;
// /usr/share/datasets/<name> otherwise). The readers also look one level down, in the folder the
// official archive unpacks to (e.g. <dir>/cifar-10-batches-bin, <dir>/fashion-mnist).
std::string image_dataset_dir(const std::string& name, const std::string& data_dir = "");
// Loads the train or test split. Missing or corrupt files: ember::Error naming the path and what
// was expected, and how to point at the data.
ImageDatasetSplit make_image_dataset(const std::string& name, const std::string& data_dir, bool train);

// The usual classifier pipeline for a dataset, in this order: (train and augment) random crop
// with padding + horizontal flip (not for mnist: digits are not mirror-symmetric); resize to
// `size`; normalize with info.mean/std; repeat a single channel to `channels`; (train) random
// erasing with probability `erasing`. Sizes 0 mean the dataset's own.
struct ImageTransformOptions {
  bool train = true;
  bool augment = true;
  int64_t crop_padding = 4;
  PadMode pad_mode = PadMode::constant;
  int64_t size = 0;      // model input height = width
  int64_t channels = 0;  // model input channels (1 -> 3 repeats the grey channel)
  std::string resize_mode = "bilinear";
  double erasing = 0.0;  // random erasing probability (timm's defaults otherwise)
};
TransformPtr image_transforms(const ImageDatasetInfo& info, const ImageTransformOptions& options);

// "synthetic": images whose class is a fixed pattern of a few Gaussian blobs (one pattern per
// class), drawn with a random shift of up to 2 pixels, random contrast and pixel noise. Learnable
// by an MLP or a small CNN in a few epochs; deterministic in (options, train).
struct SyntheticOptions {
  int64_t train_size = 2048;
  int64_t test_size = 512;
  int64_t num_classes = 10;
  int64_t channels = 1;
  int64_t size = 28;  // height = width
  uint64_t seed = 1234;
};
ImageDatasetSplit make_synthetic_dataset(const SyntheticOptions& options, bool train);

}  // namespace ember::data
