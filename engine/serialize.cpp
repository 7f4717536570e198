// safetensors writer and validating reader. API and format summary in engine/serialize.h.
//
// Writer: mirrors the Rust reference (safetensors `prepare`): tensors sorted by dtype, largest
// dtype first in the reference's enum order, then by name; offsets packed with no gaps; compact
// JSON with fields in the order dtype, shape, data_offsets; "__metadata__" first; the header
// padded with spaces to a multiple of 8 so the data starts 8-byte aligned.
// Reader: one mmap of the file (or a caller's buffer), every field checked before any tensor is
// built; the data part must be covered exactly once (no overlap, no hole, nothing trailing), as
// the reference requires. Each tensor gets its own storage (a copy out of the mapping), so a
// loaded parameter never pins the whole file.
#include "engine/serialize.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace ember {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swapping");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference's MAX_HEADER_SIZE
constexpr const char* kMetadataKey = "__metadata__";

struct DTypeCode {
  DType dtype;
  const char* code;
  int reference_rank;  // position in the reference's `Dtype` enum: its writer sorts by it, descending
};
constexpr DTypeCode kCodes[] = {
    {DType::bool_, "BOOL", 0}, {DType::u8, "U8", 4},    {DType::f16, "F16", 11}, {DType::bf16, "BF16", 12},
    {DType::i32, "I32", 13},   {DType::f32, "F32", 15}, {DType::f64, "F64", 16}, {DType::i64, "I64", 17},
};

const DTypeCode& code_of(DType dtype) {
  for (const auto& c : kCodes)
    if (c.dtype == dtype) return c;
  EMBER_FAIL("safetensors: dtype {} has no safetensors code", dtype_name(dtype));
}

std::optional<DType> dtype_from_code(const std::string& code) {
  for (const auto& c : kCodes)
    if (code == c.code) return c.dtype;
  return std::nullopt;
}

std::string errno_str() { return std::strerror(errno); }

// ------------------------------------------------------------------ writing

// The header and the order in which the tensors' bytes follow it.
struct Layout {
  std::string header;  // padded JSON
  std::vector<std::pair<std::string, Tensor>> order;
};

Layout plan(const TensorMap& tensors, const MetadataMap& metadata, const char* op) {
  Layout layout;
  for (const auto& [name, t] : tensors) {
    EMBER_CHECK(name != kMetadataKey, "{}: '{}' is reserved for metadata and cannot name a tensor", op, name);
    EMBER_CHECK(t.defined(), "{}: tensor '{}' is undefined", op, name);
    code_of(t.dtype());
    layout.order.emplace_back(name, t);
  }
  std::stable_sort(layout.order.begin(), layout.order.end(), [](const auto& a, const auto& b) {
    const int ra = code_of(a.second.dtype()).reference_rank;
    const int rb = code_of(b.second.dtype()).reference_rank;
    return ra != rb ? ra > rb : a.first < b.first;  // std::string compares bytes, like Rust's
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header[kMetadataKey] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : layout.order) {
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = code_of(t.dtype()).code;
    entry["shape"] = t.sizes();
    entry["data_offsets"] = {offset, offset + nbytes};
    header[name] = std::move(entry);
    offset += nbytes;
  }
  try {
    layout.header = header.dump();
  } catch (const nlohmann::json::exception& e) {
    EMBER_FAIL("{}: a tensor name or metadata string is not valid UTF-8 ({})", op, e.what());
  }
  layout.header.append((8 - layout.header.size() % 8) % 8, ' ');
  return layout;
}

// Streams a file's bytes to `sink(pointer, size)`: one contiguous CPU copy per tensor at a time,
// so peak memory stays at one tensor beyond what the caller holds.
void emit(const Layout& layout, const std::function<void(const void*, size_t)>& sink) {
  const uint64_t n = layout.header.size();
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(n >> (8 * i));
  sink(length, 8);
  sink(layout.header.data(), layout.header.size());
  for (const auto& [name, t] : layout.order) {
    Tensor data = t.detach();
    if (!data.device().is_cpu()) data = data.to(Device::cpu());
    data = data.contiguous();
    sink(data.raw_data(), static_cast<size_t>(data.numel()) * data.element_size());
  }
}

void write_all(int fd, const void* data, size_t size, const std::string& tmp_path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd, p, std::min<size_t>(size, size_t{1} << 30));
    if (written < 0 && errno == EINTR) continue;
    EMBER_CHECK(written > 0, "write failed on '{}': {}", tmp_path, errno_str());
    p += written;
    size -= static_cast<size_t>(written);
  }
}

// Makes the rename itself durable; failures only weaken durability, so they are ignored.
void fsync_parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// ------------------------------------------------------------------ reading

struct EntryInfo {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

class Reader {
 public:
  Reader(const uint8_t* bytes, size_t size, std::string source) : bytes_(bytes), size_(size), source_(std::move(source)) {}

  TensorMap read(MetadataMap* metadata_out) {
    EMBER_CHECK(size_ >= 8, "load_safetensors: {}: {} bytes is too short for the 8-byte header length", source_,
                size_);
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(bytes_[i]) << (8 * i);
    EMBER_CHECK(n <= kMaxHeaderBytes, "load_safetensors: {}: header length {} exceeds the {} byte limit (corrupt file?)",
                source_, n, kMaxHeaderBytes);
    EMBER_CHECK(n <= size_ - 8, "load_safetensors: {}: header length {} runs past the end ({} bytes after the length)",
                source_, n, size_ - 8);
    const uint8_t* data = bytes_ + 8 + n;
    const uint64_t data_size = size_ - 8 - n;

    const nlohmann::json header = parse_header(reinterpret_cast<const char*>(bytes_ + 8), n);
    EMBER_CHECK(header.is_object(), "load_safetensors: {}: header is a JSON {}, not an object", source_,
                header.type_name());

    MetadataMap metadata;
    std::vector<EntryInfo> entries;
    for (const auto& [name, value] : header.items()) {
      if (name == kMetadataKey) {
        metadata = parse_metadata(value);
      } else {
        entries.push_back(parse_entry(name, value, data_size));
      }
    }
    check_coverage(entries, data_size);

    TensorMap tensors;
    for (const EntryInfo& e : entries) {
      Tensor t = make_tensor(e.shape, e.dtype);
      const size_t nbytes = e.end - e.begin;
      if (nbytes > 0) std::memcpy(t.raw_data(), data + e.begin, nbytes);
      if (e.dtype == DType::bool_) {
        // A C++ bool must hold 0 or 1; other bytes read as true, as numpy and PyTorch do.
        auto* p = static_cast<uint8_t*>(t.raw_data());
        for (size_t i = 0; i < nbytes; ++i) p[i] = p[i] != 0;
      }
      tensors.emplace(e.name, std::move(t));
    }
    if (metadata_out) *metadata_out = std::move(metadata);
    return tensors;
  }

 private:
  template <class... Args>
  [[noreturn]] void fail_entry(const std::string& name, fmt::format_string<Args...> what, Args&&... args) const {
    EMBER_FAIL("load_safetensors: {}: tensor '{}': {}", source_, name, fmt::format(what, std::forward<Args>(args)...));
  }

  nlohmann::json parse_header(const char* text, uint64_t n) const {
    // nlohmann keeps the last of duplicate keys silently; the callback sees every key, so a
    // stack of per-object key sets catches duplicates (a second tensor of the same name would
    // otherwise vanish and leave a hole the coverage check would blame on the wrong thing).
    std::vector<std::vector<std::string>> keys_per_object;
    std::optional<std::string> duplicate;
    auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
      using E = nlohmann::json::parse_event_t;
      if (event == E::object_start) {
        keys_per_object.emplace_back();
      } else if (event == E::object_end) {
        keys_per_object.pop_back();
      } else if (event == E::key && !keys_per_object.empty()) {
        auto& keys = keys_per_object.back();
        const std::string& key = parsed.get_ref<const std::string&>();
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
          if (!duplicate) duplicate = key;
        } else {
          keys.push_back(key);
        }
      }
      return true;
    };
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(text, text + n, callback);
    } catch (const nlohmann::json::exception& e) {
      EMBER_FAIL("load_safetensors: {}: header is not valid JSON: {}", source_, e.what());
    }
    EMBER_CHECK(!duplicate, "load_safetensors: {}: duplicate key '{}' in the header", source_,
                duplicate.value_or(""));
    return header;
  }

  MetadataMap parse_metadata(const nlohmann::json& value) const {
    EMBER_CHECK(value.is_object(), "load_safetensors: {}: __metadata__ is a JSON {}, expected an object of strings",
                source_, value.type_name());
    MetadataMap metadata;
    for (const auto& [key, v] : value.items()) {
      EMBER_CHECK(v.is_string(), "load_safetensors: {}: __metadata__ entry '{}' is a JSON {}, expected a string",
                  source_, key, v.type_name());
      metadata.emplace(key, v.get<std::string>());
    }
    return metadata;
  }

  // A JSON number that is a non-negative integer, or nothing.
  static std::optional<uint64_t> as_size(const nlohmann::json& v) {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    return std::nullopt;
  }

  EntryInfo parse_entry(const std::string& name, const nlohmann::json& value, uint64_t data_size) const {
    if (!value.is_object()) fail_entry(name, "entry is a JSON {}, expected an object", value.type_name());
    EntryInfo e;
    e.name = name;

    const auto dtype_it = value.find("dtype");
    if (dtype_it == value.end()) fail_entry(name, "missing \"dtype\"");
    if (!dtype_it->is_string()) fail_entry(name, "\"dtype\" is a JSON {}, expected a string", dtype_it->type_name());
    const auto dtype = dtype_from_code(dtype_it->get<std::string>());
    if (!dtype)
      fail_entry(name, "unsupported dtype \"{}\" (Ember reads F32 F64 I64 I32 U8 BOOL BF16 F16)",
                 dtype_it->get<std::string>());
    e.dtype = *dtype;

    const auto shape_it = value.find("shape");
    if (shape_it == value.end()) fail_entry(name, "missing \"shape\"");
    if (!shape_it->is_array()) fail_entry(name, "\"shape\" is a JSON {}, expected an array", shape_it->type_name());
    uint64_t numel = 1;
    for (const auto& d : *shape_it) {
      const auto size = as_size(d);
      if (!size) fail_entry(name, "shape {} has an entry that is not a non-negative integer", shape_it->dump());
      if (*size > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(numel, *size, &numel))
        fail_entry(name, "shape {} is too large", shape_it->dump());
      e.shape.push_back(static_cast<int64_t>(*size));
    }

    const auto offsets_it = value.find("data_offsets");
    if (offsets_it == value.end()) fail_entry(name, "missing \"data_offsets\"");
    std::optional<uint64_t> begin, end;
    if (offsets_it->is_array() && offsets_it->size() == 2) {
      begin = as_size((*offsets_it)[0]);
      end = as_size((*offsets_it)[1]);
    }
    if (!begin || !end) fail_entry(name, "data_offsets {} is not two non-negative integers", offsets_it->dump());
    if (*begin > *end) fail_entry(name, "data_offsets [{}, {}] begin after they end", *begin, *end);
    if (*end > data_size)
      fail_entry(name, "data_offsets [{}, {}] run past the end of the data ({} bytes)", *begin, *end, data_size);
    e.begin = *begin;
    e.end = *end;

    uint64_t expected = 0;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(itemsize(e.dtype)), &expected) ||
        expected != e.end - e.begin)
      fail_entry(name, "shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}", shape_it->dump(),
                 dtype_name(e.dtype), numel * itemsize(e.dtype), e.begin, e.end, e.end - e.begin);
    return e;
  }

  // The data part must be tiled exactly: sorted by offset, each tensor starts where the previous
  // ended, and the last ends at the end of the file.
  void check_coverage(std::vector<EntryInfo>& entries, uint64_t data_size) const {
    std::sort(entries.begin(), entries.end(),
              [](const EntryInfo& a, const EntryInfo& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
    uint64_t covered = 0;
    const EntryInfo* previous = nullptr;
    for (const EntryInfo& e : entries) {
      if (e.begin < covered)
        fail_entry(e.name, "data_offsets [{}, {}] overlap tensor '{}' (which ends at {})", e.begin, e.end,
                   previous->name, covered);
      if (e.begin > covered)
        fail_entry(e.name, "data_offsets [{}, {}] leave a hole of {} bytes before it (the data must be packed)",
                   e.begin, e.end, e.begin - covered);
      covered = e.end;
      previous = &e;
    }
    EMBER_CHECK(covered == data_size, "load_safetensors: {}: {} trailing bytes after the last tensor's data", source_,
                data_size - covered);
  }

  const uint8_t* bytes_;
  size_t size_;
  std::string source_;
};

// A read-only mapping of a whole file, unmapped on scope exit.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const std::string where = "'" + path + "'";
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EMBER_CHECK(fd_ >= 0, "load_safetensors: cannot open {}: {}", where, errno_str());
    struct stat st{};
    if (::fstat(fd_, &st) != 0) fail(where, "cannot stat: " + errno_str());
    if (!S_ISREG(st.st_mode)) fail(where, "not a regular file");
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) return;  // mmap refuses 0 bytes; the reader reports the short file
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (p == MAP_FAILED) fail(where, "cannot map: " + errno_str());
    data_ = static_cast<const uint8_t*>(p);
    ::madvise(p, size_, MADV_SEQUENTIAL);
  }
  ~MappedFile() { release(); }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  [[noreturn]] void fail(const std::string& where, const std::string& what) {
    release();
    EMBER_FAIL("load_safetensors: {}: {}", where, what);
  }
  void release() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
    data_ = nullptr;
    fd_ = -1;
  }
  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

TensorMap load_file(const std::string& path, MetadataMap* metadata) {
  MappedFile file(path);
  static const uint8_t empty = 0;
  return Reader(file.data() ? file.data() : &empty, file.size(), "'" + path + "'").read(metadata);
}

TensorMap load_bytes(std::span<const uint8_t> bytes, MetadataMap* metadata) {
  return Reader(bytes.data(), bytes.size(), "<memory>").read(metadata);
}

}  // namespace

const char* safetensors_dtype_code(DType dtype) { return code_of(dtype).code; }

std::vector<uint8_t> save_safetensors_to_bytes(const TensorMap& tensors, const MetadataMap& metadata) {
  const Layout layout = plan(tensors, metadata, "save_safetensors");
  std::vector<uint8_t> out;
  emit(layout, [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  });
  return out;
}

void save_safetensors(const std::string& path, const TensorMap& tensors, const MetadataMap& metadata) {
  const Layout layout = plan(tensors, metadata, "save_safetensors");
  const std::string tmp_path = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  EMBER_CHECK(fd >= 0, "save_safetensors: cannot create '{}' (to write '{}'): {}", tmp_path, path, errno_str());
  bool fd_open = true;
  try {
    emit(layout, [&](const void* p, size_t n) { write_all(fd, p, n, tmp_path); });
    EMBER_CHECK(::fsync(fd) == 0, "fsync failed on '{}': {}", tmp_path, errno_str());
    fd_open = false;
    EMBER_CHECK(::close(fd) == 0, "close failed on '{}': {}", tmp_path, errno_str());
    EMBER_CHECK(::rename(tmp_path.c_str(), path.c_str()) == 0, "cannot rename '{}' over it: {}", tmp_path,
                errno_str());
  } catch (const std::exception& e) {
    if (fd_open) ::close(fd);
    ::unlink(tmp_path.c_str());
    EMBER_FAIL("save_safetensors: failed to write '{}' (left unchanged): {}", path, e.what());
  }
  fsync_parent_dir(path);
}

TensorMap load_safetensors(const std::string& path) { return load_file(path, nullptr); }
TensorMap load_safetensors(const std::string& path, MetadataMap& metadata) { return load_file(path, &metadata); }

TensorMap load_safetensors_from_bytes(std::span<const uint8_t> bytes) { return load_bytes(bytes, nullptr); }
TensorMap load_safetensors_from_bytes(std::span<const uint8_t> bytes, MetadataMap& metadata) {
  return load_bytes(bytes, &metadata);
}
TensorMap load_safetensors_from_bytes(std::string_view bytes) {
  return load_bytes({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, nullptr);
}
TensorMap load_safetensors_from_bytes(std::string_view bytes, MetadataMap& metadata) {
  return load_bytes({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, &metadata);
}

}  // namespace ember
