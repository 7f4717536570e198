// .npy reader and atomic writer (interface: data/npy.h). The header is a Python dict literal,
// e.g. "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", padded with spaces to a
// multiple of 64 bytes and ended by '\n' (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
#include "data/npy.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/factories.h"

namespace ember::data {

namespace {

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes

struct NpyDType {
  const char* descr;
  DType dtype;
};
constexpr NpyDType kDTypes[] = {{"<f4", DType::f32}, {"<f8", DType::f64}, {"<i8", DType::i64},
                                {"<i4", DType::i32}, {"|u1", DType::u8},  {"|b1", DType::bool_}};

// The text after `'key':` in the header dict, with leading spaces skipped.
std::string_view value_of(std::string_view header, const char* key, const std::string& path) {
  const std::string quoted = fmt::format("'{}'", key);
  const size_t at = header.find(quoted);
  EMBER_CHECK(at != std::string_view::npos, "read_npy: {}: the header has no '{}' entry: {}", path, key, header);
  size_t i = header.find(':', at + quoted.size());
  EMBER_CHECK(i != std::string_view::npos, "read_npy: {}: malformed header near '{}': {}", path, key, header);
  ++i;
  while (i < header.size() && header[i] == ' ') ++i;
  return header.substr(i);
}

DType parse_descr(std::string_view header, const std::string& path) {
  std::string_view v = value_of(header, "descr", path);
  EMBER_CHECK(!v.empty() && (v[0] == '\'' || v[0] == '"'), "read_npy: {}: 'descr' must be a string: {}", path, header);
  const size_t close = v.find(v[0], 1);
  EMBER_CHECK(close != std::string_view::npos, "read_npy: {}: unterminated 'descr' string: {}", path, header);
  std::string descr(v.substr(1, close - 1));
  // numpy writes one-byte types with '|' but accepts '<' and '=' for them too.
  if (descr == "<u1" || descr == "=u1") descr = "|u1";
  if (descr == "<b1" || descr == "=b1" || descr == "?") descr = "|b1";
  for (const NpyDType& d : kDTypes) {
    if (descr == d.descr) return d.dtype;
  }
  EMBER_FAIL("read_npy: {}: unsupported dtype '{}' (supported: <f4 <f8 <i8 <i4 |u1 |b1, little-endian; convert "
             "with arr.astype('<f4') in numpy)",
             path, descr);
}

Shape parse_shape(std::string_view header, const std::string& path) {
  std::string_view v = value_of(header, "shape", path);
  EMBER_CHECK(!v.empty() && v[0] == '(', "read_npy: {}: 'shape' must be a tuple: {}", path, header);
  const size_t close = v.find(')');
  EMBER_CHECK(close != std::string_view::npos, "read_npy: {}: unterminated 'shape' tuple: {}", path, header);
  Shape shape;
  std::string_view body = v.substr(1, close - 1);
  size_t i = 0;
  while (i < body.size()) {
    while (i < body.size() && (body[i] == ' ' || body[i] == ',')) ++i;
    if (i >= body.size()) break;
    int64_t value = 0;
    bool digits = false;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') {
      value = value * 10 + (body[i++] - '0');
      digits = true;
      EMBER_CHECK(value < (int64_t{1} << 40), "read_npy: {}: absurd dimension in shape {}", path, header);
    }
    EMBER_CHECK(digits, "read_npy: {}: bad 'shape' entry in {}", path, header);
    shape.push_back(value);
  }
  return shape;
}

std::string descr_of(DType dtype) {
  for (const NpyDType& d : kDTypes) {
    if (d.dtype == dtype) return d.descr;
  }
  EMBER_FAIL("write_npy: dtype {} has no .npy equivalent here (supported: float32, float64, int64, int32, uint8, bool)",
             dtype_name(dtype));
}

}  // namespace

Tensor read_npy(const std::string& path) {
  EMBER_CHECK(std::filesystem::is_regular_file(path), "read_npy: file {} does not exist", path);
  const auto file_size = static_cast<int64_t>(std::filesystem::file_size(path));
  std::ifstream in(path, std::ios::binary);
  EMBER_CHECK(in.good(), "read_npy: cannot open {}", path);
  char preamble[10];
  in.read(preamble, 8);
  EMBER_CHECK(in.gcount() == 8 && std::memcmp(preamble, kMagic, 6) == 0,
              "read_npy: {} is not a .npy file (expected the magic bytes \\x93NUMPY)", path);
  const int major = static_cast<unsigned char>(preamble[6]);
  EMBER_CHECK(major >= 1 && major <= 3, "read_npy: {}: unsupported format version {}.{} (expected 1.0, 2.0 or 3.0)",
              path, major, static_cast<unsigned char>(preamble[7]));
  const int length_bytes = major == 1 ? 2 : 4;
  unsigned char len[4] = {0, 0, 0, 0};
  in.read(reinterpret_cast<char*>(len), length_bytes);
  EMBER_CHECK(in.gcount() == length_bytes, "read_npy: {} is truncated inside its preamble", path);
  const int64_t header_len = int64_t{len[0]} | (int64_t{len[1]} << 8) | (int64_t{len[2]} << 16) | (int64_t{len[3]} << 24);
  const int64_t data_start = 8 + length_bytes + header_len;
  EMBER_CHECK(data_start <= file_size, "read_npy: {} is truncated: the header claims {} bytes but the file has {}",
              path, header_len, file_size);
  std::string header(static_cast<size_t>(header_len), '\0');
  in.read(header.data(), header_len);
  EMBER_CHECK(header.find('{') != std::string::npos && header.find('}') != std::string::npos,
              "read_npy: {}: malformed header (expected a dict): {}", path, header);

  const DType dtype = parse_descr(header, path);
  const std::string_view fortran = value_of(header, "fortran_order", path);
  EMBER_CHECK(fortran.substr(0, 5) == "False",
              "read_npy: {}: Fortran-ordered arrays are not supported (save np.ascontiguousarray(arr) instead)", path);
  const Shape shape = parse_shape(header, path);
  double elements = 1;
  for (int64_t d : shape) elements *= static_cast<double>(d);
  EMBER_CHECK(elements * static_cast<double>(itemsize(dtype)) < 1e18, "read_npy: {}: absurd shape {} in the header",
              path, shape_str(shape));
  const int64_t expected = numel_of(shape) * static_cast<int64_t>(itemsize(dtype));
  const int64_t found = file_size - data_start;
  EMBER_CHECK(found == expected,
              "read_npy: {}: expected {} bytes of data for shape {} {} after the header, found {}{}", path, expected,
              shape_str(shape), dtype_name(dtype), found, found < expected ? " (truncated)" : " (trailing bytes)");
  Tensor out = empty(shape, dtype);
  in.read(static_cast<char*>(out.raw_data()), expected);
  EMBER_CHECK(in.gcount() == expected, "read_npy: {}: read {} of {} data bytes", path, in.gcount(), expected);
  if (dtype == DType::bool_) {
    auto* p = static_cast<uint8_t*>(out.raw_data());
    for (int64_t i = 0; i < out.numel(); ++i) {
      EMBER_CHECK(p[i] <= 1, "read_npy: {}: bool element {} has byte value {} (expected 0 or 1)", path, i, p[i]);
    }
  }
  return out;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  EMBER_CHECK(tensor.defined(), "write_npy: {}: the tensor is undefined", path);
  EMBER_CHECK(tensor.device().is_cpu(), "write_npy: {}: the tensor must be on the CPU, got {}", path,
              tensor.describe());
  const Tensor t = tensor.detach().contiguous();
  std::string shape;
  for (int64_t s : t.sizes()) shape += fmt::format("{}, ", s);
  if (t.dim() > 1) shape.resize(shape.size() - 2);  // "(2, 3)" but "(3,)" and "()"
  if (t.dim() == 1) shape.resize(shape.size() - 1);
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr_of(t.dtype()), shape);
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';

  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  EMBER_CHECK(f != nullptr, "write_npy: cannot open {} for writing ({})", tmp, std::strerror(errno));
  const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                static_cast<unsigned char>(header.size() >> 8)};
  const unsigned char version[2] = {1, 0};
  const size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
  bool ok = std::fwrite(kMagic, 1, 6, f) == 6 && std::fwrite(version, 1, 2, f) == 2 && std::fwrite(len, 1, 2, f) == 2 &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            (bytes == 0 || std::fwrite(t.raw_data(), 1, bytes, f) == bytes);
  ok = std::fflush(f) == 0 && ok;
  ok = ::fsync(::fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    EMBER_FAIL("write_npy: writing {} failed ({})", tmp, std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    EMBER_FAIL("write_npy: cannot rename {} to {} ({})", tmp, path, ec.message());
  }
}

}  // namespace ember::data
