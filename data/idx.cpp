#include "data/idx.h"

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "engine/factories.h"

namespace ember::data {

namespace {

struct GzFile {
  gzFile file = nullptr;
  ~GzFile() {
    if (file) gzclose(file);
  }
};

void read_exact(gzFile f, void* dst, size_t n, const std::string& path, const char* what) {
  size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
    const int got = gzread(f, static_cast<char*>(dst) + done, chunk);
    EMBER_CHECK(got > 0, "read_idx: {} is truncated or corrupt while reading {} ({} of {} bytes read)", path, what,
                done, n);
    done += static_cast<size_t>(got);
  }
}

}  // namespace

Tensor read_idx(const std::string& path) {
  EMBER_CHECK(std::filesystem::exists(path), "read_idx: file {} does not exist", path);
  GzFile f;
  f.file = gzopen(path.c_str(), "rb");
  EMBER_CHECK(f.file != nullptr, "read_idx: cannot open {}", path);
  unsigned char magic[4];
  read_exact(f.file, magic, 4, path, "the 4-byte magic number");
  EMBER_CHECK(magic[0] == 0 && magic[1] == 0, "read_idx: {} is not an IDX file (magic bytes {:02x} {:02x}, expected 00 00)",
              path, magic[0], magic[1]);
  EMBER_CHECK(magic[2] == 0x08, "read_idx: {} holds element type 0x{:02x}; only unsigned bytes (0x08) are supported",
              path, magic[2]);
  const int ndim = magic[3];
  EMBER_CHECK(ndim >= 1 && ndim <= 4, "read_idx: {} declares {} dimensions (expected 1 to 4)", path, ndim);
  Shape sizes;
  for (int d = 0; d < ndim; ++d) {
    unsigned char b[4];
    read_exact(f.file, b, 4, path, "the dimension sizes");
    const int64_t size = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | int64_t{b[3]};
    EMBER_CHECK(size > 0 && size < (int64_t{1} << 31), "read_idx: {} has an invalid size {} for dim {}", path, size, d);
    sizes.push_back(size);
  }
  EMBER_CHECK(numel_of(sizes) <= (int64_t{1} << 34), "read_idx: {} declares an absurd shape {}", path, shape_str(sizes));
  Tensor out = empty(sizes, DType::u8);
  read_exact(f.file, out.raw_data(), static_cast<size_t>(out.numel()), path, "the data");
  unsigned char extra;
  EMBER_CHECK(gzread(f.file, &extra, 1) == 0, "read_idx: {} has trailing bytes after {} elements of shape {}", path,
              out.numel(), shape_str(sizes));
  return out;
}

std::string fashion_mnist_dir(const std::string& explicit_dir) {
  if (!explicit_dir.empty()) return explicit_dir;
  if (const char* env = std::getenv("EMBER_DATA_DIR"); env && *env) return env;
  return "/usr/share/datasets/fashion-mnist";
}

ImageClassificationSplit load_fashion_mnist(const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  auto find = [&](const std::string& stem) {
    for (const std::string& candidate : {dir + "/" + stem + ".gz", dir + "/" + stem}) {
      if (std::filesystem::exists(candidate)) return candidate;
    }
    EMBER_FAIL("load_fashion_mnist: neither {0}/{1}.gz nor {0}/{1} exists (install Debian's dataset-fashion-mnist, "
               "or point --data-dir / EMBER_DATA_DIR at a folder with the IDX files)",
               dir, stem);
  };
  ImageClassificationSplit split;
  split.images = read_idx(find(prefix + "-images-idx3-ubyte"));
  split.labels = read_idx(find(prefix + "-labels-idx1-ubyte")).to(DType::i64);
  EMBER_CHECK(split.images.dim() == 3, "load_fashion_mnist: images in {} have shape {}, expected (N, 28, 28)", dir,
              shape_str(split.images.sizes()));
  EMBER_CHECK(split.labels.dim() == 1 && split.labels.size(0) == split.images.size(0),
              "load_fashion_mnist: {} labels for {} images in {}", split.labels.numel(), split.images.size(0), dir);
  return split;
}

}  // namespace ember::data
