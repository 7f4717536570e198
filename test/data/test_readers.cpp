// Readers: .npy round trips and byte layout, CIFAR binary files, IDX through the dataset registry,
// the synthetic dataset, and error messages for missing or corrupt files. Every file is written to
// a temp dir here; the real Fashion-MNIST is read only when installed (skipped with a WARN).
// Code under test: data/npy.h, data/cifar.h, data/idx.h, data/datasets.h.
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "data/cifar.h"
#include "data/datasets.h"
#include "data/idx.h"
#include "data/npy.h"
#include "helpers.h"
#include "test/data/temp_dir.h"

using namespace ember;
using namespace ember::data;
using ember::test::read_bytes;
using ember::test::TempDir;
using ember::test::values;
using ember::test::write_bytes;

namespace {

// A .npy file built by hand from the format description: magic, version 1.0, header padded to 64.
std::vector<unsigned char> npy_bytes(const std::string& dict, const std::vector<unsigned char>& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header;
  std::vector<unsigned char> out(bytes.begin(), bytes.end());
  for (unsigned char d : data) out.push_back(d);
  return out;
}

std::vector<unsigned char> float_bytes(const std::vector<float>& v) {
  std::vector<unsigned char> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// An IDX file of unsigned bytes with the given dims (big-endian sizes), gzip'd or plain.
void write_idx(const std::string& path, const std::vector<int>& dims, const std::vector<unsigned char>& payload,
               bool gzip) {
  std::vector<unsigned char> bytes = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (int d : dims) {
    for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<unsigned char>((d >> shift) & 0xff));
  }
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  if (!gzip) return write_bytes(path, bytes);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  gzclose(f);
}

// n images of 28x28 where image i is filled with the value i and labeled i % 10.
void write_fake_mnist(const std::string& dir, const std::string& prefix, int n, bool gzip) {
  std::vector<unsigned char> pixels, labels;
  for (int i = 0; i < n; ++i) {
    pixels.insert(pixels.end(), 28 * 28, static_cast<unsigned char>(i));
    labels.push_back(static_cast<unsigned char>(i % 10));
  }
  const std::string ext = gzip ? ".gz" : "";
  write_idx(dir + "/" + prefix + "-images-idx3-ubyte" + ext, {n, 28, 28}, pixels, gzip);
  write_idx(dir + "/" + prefix + "-labels-idx1-ubyte" + ext, {n}, labels, gzip);
}

// CIFAR records: record i has label bytes (i % 10 [, i % 100]) and pixel k = (i + k) % 256.
std::vector<unsigned char> cifar_bytes(int64_t records, int label_bytes) {
  const int64_t record = label_bytes + 3072;
  std::vector<unsigned char> out(static_cast<size_t>(records * record));
  for (int64_t i = 0; i < records; ++i) {
    unsigned char* r = out.data() + i * record;
    r[0] = static_cast<unsigned char>(i % 10);
    if (label_bytes == 2) r[1] = static_cast<unsigned char>(i % 100);
    for (int64_t k = 0; k < 3072; ++k) r[label_bytes + k] = static_cast<unsigned char>((i + k) % 256);
  }
  return out;
}

}  // namespace

TEST_CASE("write_npy writes numpy's exact bytes and read_npy reads them back", "[data][npy]") {
  TempDir dir("npy_layout");
  const Tensor t = from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  write_npy(dir.file("a.npy"), t);
  // The header np.save(io.BytesIO(), np.zeros((2, 3), np.float32)) writes (numpy 1.24): 128 bytes.
  const auto bytes = read_bytes(dir.file("a.npy"));
  REQUIRE(bytes.size() == 128 + 24);
  REQUIRE(bytes == npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                             float_bytes({0, 1, 2, 3, 4, 5})));
  REQUIRE_FALSE(std::filesystem::exists(dir.file("a.npy") + ".tmp." + std::to_string(::getpid())));
  const Tensor back = read_npy(dir.file("a.npy"));
  REQUIRE(back.dtype() == DType::f32);
  REQUIRE(back.sizes() == Shape{2, 3});
  REQUIRE(values(back) == values(t));
}

TEST_CASE("npy round trip for every supported dtype and shape", "[data][npy]") {
  TempDir dir("npy_roundtrip");
  const std::vector<std::pair<DType, Shape>> cases = {
      {DType::f32, {4, 1, 3}}, {DType::f64, {5}}, {DType::i64, {2, 2}}, {DType::i32, {3}},
      {DType::u8, {}},         {DType::bool_, {6}}, {DType::f32, {0, 3}}};
  for (const auto& [dtype, shape] : cases) {
    Tensor t = arange(0.0, static_cast<double>(numel_of(shape)), 1.0, DType::f64);
    t = (dtype == DType::bool_ ? remainder(t, 2.0) : mul(t, dtype == DType::f32 || dtype == DType::f64 ? -0.5 : 3.0))
            .to(dtype)
            .reshape(shape);
    const std::string path = dir.file("x.npy");
    write_npy(path, t);
    const Tensor back = read_npy(path);
    INFO(dtype_name(dtype) << " " << shape_str(shape));
    REQUIRE(back.dtype() == dtype);
    REQUIRE(back.sizes() == shape);
    REQUIRE(values(back) == values(t));
  }
  // A non-contiguous tensor is written in C order.
  const Tensor m = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  write_npy(dir.file("t.npy"), m.t());
  REQUIRE(values(read_npy(dir.file("t.npy"))) == std::vector<double>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("read_npy reads a hand-built version 1.0 file", "[data][npy]") {
  TempDir dir("npy_hand");
  write_bytes(dir.file("h.npy"),
              npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", float_bytes({1.5f, -2, 7})));
  const Tensor t = read_npy(dir.file("h.npy"));
  REQUIRE(t.sizes() == Shape{3});
  REQUIRE(values(t) == std::vector<double>{1.5, -2, 7});
}

TEST_CASE("read_npy errors name the path and the problem", "[data][npy][errors]") {
  TempDir dir("npy_errors");
  const std::string p = dir.file("bad.npy");
  REQUIRE_THROWS_WITH(read_npy(dir.file("missing.npy")), Catch::Contains("missing.npy") && Catch::Contains("does not exist"));

  write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", float_bytes({1, 2, 3, 4})));
  REQUIRE_THROWS_WITH(read_npy(p), Catch::Contains(p) && Catch::Contains("Fortran"));

  write_bytes(p, npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", float_bytes({1})));
  REQUIRE_THROWS_WITH(read_npy(p), Catch::Contains(p) && Catch::Contains("unsupported dtype '>f4'"));
  write_bytes(p, npy_bytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", float_bytes({1})));
  REQUIRE_THROWS_WITH(read_npy(p), Catch::Contains("unsupported dtype '<f2'"));

  write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", float_bytes({1, 2, 3})));
  REQUIRE_THROWS_WITH(read_npy(p), Catch::Contains(p) && Catch::Contains("expected 24 bytes") &&
                                       Catch::Contains("found 12") && Catch::Contains("truncated"));

  write_bytes(p, {'n', 'o', 't', ' ', 'n', 'p', 'y', '!', '!', '!'});
  REQUIRE_THROWS_WITH(read_npy(p), Catch::Contains("is not a .npy file"));

  auto cut = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", float_bytes({1}));
  cut.resize(40);
  write_bytes(p, cut);
  REQUIRE_THROWS_WITH(read_npy(p), Catch::Contains("truncated"));

  REQUIRE_THROWS_WITH(write_npy(p, zeros({2}, DType::f16)), Catch::Contains("write_npy") && Catch::Contains("float16"));
  REQUIRE_THROWS_WITH(write_npy(dir.file("no/such/dir/x.npy"), zeros({2})), Catch::Contains("cannot open"));
}

TEST_CASE("read_cifar_file splits records into labels and (3, 32, 32) planes", "[data][cifar]") {
  TempDir dir("cifar_file");
  write_bytes(dir.file("r.bin"), cifar_bytes(3, 2));
  const CifarRecords r = read_cifar_file(dir.file("r.bin"), 2);
  REQUIRE(r.images.sizes() == Shape{3, 3, 32, 32});
  REQUIRE(r.labels.size() == 2);
  REQUIRE(values(r.labels[0]) == std::vector<double>{0, 1, 2});
  REQUIRE(values(r.labels[1]) == std::vector<double>{0, 1, 2});
  // Record 2, channel 1 (G), row 3, column 4 is pixel byte k = 1024 + 3 * 32 + 4 = 1124.
  REQUIRE(read_element(r.images, ((2 * 3 + 1) * 32 + 3) * 32 + 4) == (2 + 1124) % 256);

  write_bytes(dir.file("odd.bin"), std::vector<unsigned char>(3073 * 2 + 5));
  REQUIRE_THROWS_WITH(read_cifar_file(dir.file("odd.bin"), 1),
                      Catch::Contains("odd.bin") && Catch::Contains("multiple of the 3073-byte record"));
}

TEST_CASE("CIFAR-10 and CIFAR-100 test splits load, and a truncated file says what was expected", "[data][cifar]") {
  TempDir dir("cifar_load");
  write_bytes(dir.file("cifar-10-batches-bin/test_batch.bin"), cifar_bytes(10000, 1));
  const auto c10 = load_cifar10(dir.str(), /*train=*/false);  // finds the archive's subfolder
  REQUIRE(c10.images.sizes() == Shape{10000, 3, 32, 32});
  REQUIRE(c10.labels.dtype() == DType::i64);
  REQUIRE(read_element(c10.labels, 1234) == 4);
  REQUIRE(read_element(c10.images, 1234 * 3072 + 7) == (1234 + 7) % 256);

  write_bytes(dir.file("cifar-100-binary/test.bin"), cifar_bytes(10000, 2));
  const auto fine = load_cifar100(dir.file("cifar-100-binary"), false);  // or the folder itself
  const auto coarse = load_cifar100(dir.str(), false, Cifar100Labels::coarse);
  REQUIRE(read_element(fine.labels, 1234) == 34);
  REQUIRE(read_element(coarse.labels, 1234) == 4);
  REQUIRE(read_element(fine.images, 99 * 3072 + 3071) == (99 + 3071) % 256);

  // The registry serves the same data with its metadata.
  auto [dataset, info] = make_image_dataset("cifar10", dir.str(), false);
  REQUIRE(dataset->size() == 10000);
  REQUIRE(info.channels == 3);
  REQUIRE(info.class_names.size() == 10);
  REQUIRE(image_dataset_info("cifar100").class_names.size() == 100);

  write_bytes(dir.file("cifar-10-batches-bin/data_batch_1.bin"), cifar_bytes(10, 1));
  REQUIRE_THROWS_WITH(load_cifar10(dir.str(), true),
                      Catch::Contains("data_batch_1.bin") && Catch::Contains("expected 30730000 bytes (10000 records of 3073)"));
  REQUIRE_THROWS_WITH(load_cifar100(dir.file("nowhere"), true),
                      Catch::Contains("nowhere/train.bin") && Catch::Contains("--data-dir"));
}

TEST_CASE("fashion_mnist and mnist load IDX files (gzip'd or plain) through the registry", "[data][idx]") {
  TempDir dir("idx");
  write_fake_mnist(dir.str(), "train", 30, /*gzip=*/true);
  write_fake_mnist(dir.file("mnist"), "t10k", 12, /*gzip=*/false);
  auto [train, info] = make_image_dataset("fashion_mnist", dir.str(), true);
  REQUIRE(train->size() == 30);
  REQUIRE(info.num_classes == 10);
  REQUIRE(info.class_names[9] == "Ankle boot");
  const Batch b = train->get_batch({7, 25});
  REQUIRE(b.input.sizes() == Shape{2, 1, 28, 28});
  REQUIRE(b.input.dtype() == DType::f32);
  REQUIRE(read_element(b.input, 0) == Approx(7 / 255.0));
  REQUIRE(read_element(b.input, 28 * 28 + 100) == Approx(25 / 255.0));
  REQUIRE(values(b.target) == std::vector<double>{7, 5});

  auto [test, mnist_info] = make_image_dataset("mnist", dir.str(), false);  // found in dir/mnist
  REQUIRE(test->size() == 12);
  REQUIRE(mnist_info.mean[0] == Approx(0.1307));

  REQUIRE_THROWS_WITH(make_image_dataset("fashion_mnist", dir.str(), false),
                      Catch::Contains("t10k-images-idx3-ubyte.gz") && Catch::Contains(dir.str()) &&
                          Catch::Contains("EMBER_DATA_DIR"));
}

TEST_CASE("dataset registry: names, folders, unknown names", "[data][registry]") {
  REQUIRE_THROWS_WITH(make_image_dataset("imagenet", "", true),
                      Catch::Contains("'imagenet'") && Catch::Contains("fashion_mnist, mnist, cifar10, cifar100, synthetic"));
  REQUIRE(image_dataset_dir("cifar10", "/some/where") == "/some/where");
  ::setenv("EMBER_DATA_DIR", "/from/env", 1);
  REQUIRE(image_dataset_dir("fashion_mnist") == "/from/env");
  REQUIRE(image_dataset_dir("fashion_mnist", "/flag") == "/flag");
  ::unsetenv("EMBER_DATA_DIR");
  REQUIRE(image_dataset_dir("fashion_mnist") == "/usr/share/datasets/fashion-mnist");
  REQUIRE(std::string(kDefaultImageDataset) == "fashion_mnist");
}

TEST_CASE("synthetic dataset: deterministic, balanced, with its own statistics", "[data][registry]") {
  auto [train, info] = make_image_dataset("synthetic", "", true);
  auto [test, test_info] = make_image_dataset("synthetic", "", false);
  REQUIRE(train->size() == 2048);
  REQUIRE(test->size() == 512);
  REQUIRE(info.mean == test_info.mean);
  const Batch all = train->get_batch([&] {
    std::vector<int64_t> idx(2048);
    for (int64_t i = 0; i < 2048; ++i) idx[i] = i;
    return idx;
  }());
  // mean/std in info are the training split's (recomputed here in double from the float batch).
  const float* v = all.input.data_ptr<float>();
  const int64_t count = all.input.numel();
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < count; ++i) sum += v[i], sq += double{v[i]} * v[i];
  const double mean = sum / static_cast<double>(count);
  REQUIRE(info.mean[0] == Approx(mean).epsilon(1e-6));
  REQUIRE(info.std[0] == Approx(std::sqrt(sq / static_cast<double>(count) - mean * mean)).epsilon(1e-5));
  std::vector<int> counts(10, 0);
  for (double t : values(all.target)) ++counts[static_cast<size_t>(t)];
  for (int c : counts) REQUIRE((c == 204 || c == 205));
  // Same bytes on a second call; the test split differs from the train split.
  auto again = make_image_dataset("synthetic", "", true);
  REQUIRE(values(again.dataset->get_batch({5, 77}).input) == values(train->get_batch({5, 77}).input));
  REQUIRE(values(test->get_batch({5}).input) != values(train->get_batch({5}).input));
  // Class patterns differ more between classes than within one: nearest class mean classifies
  // the test split well (a sanity check that the data is learnable).
  const int64_t dim = 28 * 28;
  std::vector<double> means(10 * dim, 0.0);
  for (int64_t i = 0; i < 2048; ++i) {
    for (int64_t k = 0; k < dim; ++k) means[(i % 10) * dim + k] += v[i * dim + k] / counts[i % 10];
  }
  const Batch test_all = test->get_batch([] {
    std::vector<int64_t> idx(512);
    for (int64_t i = 0; i < 512; ++i) idx[i] = i;
    return idx;
  }());
  const float* x = test_all.input.data_ptr<float>();
  const int64_t* labels = test_all.target.data_ptr<int64_t>();
  int correct = 0;
  for (int64_t i = 0; i < 512; ++i) {
    int best = -1;
    double best_d = 1e300;
    for (int c = 0; c < 10; ++c) {
      double d = 0;
      for (int64_t k = 0; k < dim; ++k) d += (x[i * dim + k] - means[c * dim + k]) * (x[i * dim + k] - means[c * dim + k]);
      if (d < best_d) best_d = d, best = c;
    }
    correct += best == labels[i];
  }
  REQUIRE(correct > 512 * 0.7);
}

TEST_CASE("the real Fashion-MNIST, when installed", "[data][fashion_mnist]") {
  const std::string dir = fashion_mnist_dir();
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz") &&
      !std::filesystem::exists(dir + "/train-images-idx3-ubyte")) {
    WARN("Fashion-MNIST not found in " << dir << " (install dataset-fashion-mnist or set EMBER_DATA_DIR): skipped");
    return;
  }
  auto [train, info] = make_image_dataset("fashion_mnist", "", true);
  auto [test, test_info] = make_image_dataset("fashion_mnist", "", false);
  REQUIRE(train->size() == 60000);
  REQUIRE(test->size() == 10000);
  // The first ten test labels, as numpy reads t10k-labels-idx1-ubyte.gz.
  REQUIRE(values(test->get_batch({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}).target) ==
          std::vector<double>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
  // info.mean / info.std are the training split's statistics.
  const auto& images = std::static_pointer_cast<ImageDataset>(train)->images();
  const uint8_t* p = images.data_ptr<uint8_t>();
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < images.numel(); ++i) {
    const double x = p[i] / 255.0;
    sum += x, sq += x * x;
  }
  const double mean = sum / static_cast<double>(images.numel());
  REQUIRE(info.mean[0] == Approx(mean).epsilon(1e-6));
  REQUIRE(info.std[0] == Approx(std::sqrt(sq / static_cast<double>(images.numel()) - mean * mean)).epsilon(1e-6));
}
