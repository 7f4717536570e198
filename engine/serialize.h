// safetensors save/load (https://github.com/huggingface/safetensors), the checkpoint format:
//   8 bytes little-endian header length N | N bytes JSON header | raw little-endian data.
// The header maps each name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
// (offsets into the data part) plus an optional "__metadata__" {str: str}.
//
// Files are byte-identical to the Python reference writer's (same tensor order, JSON layout and
// space padding; with several metadata entries the reference order is a hash order, ours sorted).
// Saving goes to `path + ".tmp.<pid>"`, fsync, then rename(2): a crash never leaves a torn file and
// an existing file is replaced atomically. Loading maps the file once and checks every field,
// throwing ember::Error("load_safetensors: <path>: tensor '<name>': <what is wrong>").
// dtypes: F32 F64 I64 I32 U8 BOOL BF16 F16. Implementation in engine/serialize.cpp, tests in
// test/engine/test_serialize.cpp, Python interop check in scripts/check_safetensors.py.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tensor.h"

namespace ember {

using TensorMap = std::map<std::string, Tensor>;
using MetadataMap = std::map<std::string, std::string>;

// Non-contiguous tensors are written contiguously; autograd state is not saved.
void save_safetensors(const std::string& path, const TensorMap& tensors, const MetadataMap& metadata = {});
TensorMap load_safetensors(const std::string& path);
TensorMap load_safetensors(const std::string& path, MetadataMap& metadata);

// The same format in memory (tests, sending over a wire). Errors still say "load_safetensors".
std::vector<uint8_t> save_safetensors_to_bytes(const TensorMap& tensors, const MetadataMap& metadata = {});
TensorMap load_safetensors_from_bytes(std::span<const uint8_t> bytes);
TensorMap load_safetensors_from_bytes(std::span<const uint8_t> bytes, MetadataMap& metadata);
TensorMap load_safetensors_from_bytes(std::string_view bytes);
TensorMap load_safetensors_from_bytes(std::string_view bytes, MetadataMap& metadata);

// The safetensors name of a dtype: "F32", "BF16", "BOOL", ...
const char* safetensors_dtype_code(DType dtype);

}  // namespace ember
