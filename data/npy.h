// NumPy .npy files (format versions 1.0, 2.0 and 3.0) for user arrays: read into a Tensor, write a
// Tensor. Implementation: data/npy.cpp; tests: test/data/test_readers.cpp.
// Supported dtypes: <f4 <f8 <i8 <i4 |u1 |b1 (little-endian, C order), mapping to f32 f64 i64 i32
// u8 bool. Fortran order, big-endian or other dtypes, truncated files and bad headers are an
// ember::Error naming the path and what was expected.
#pragma once
#include <string>

#include "engine/tensor.h"

namespace ember::data {

Tensor read_npy(const std::string& path);
// Writes version 1.0 to `path + ".tmp.<pid>"` and renames it over `path`, so a crash never
// leaves a torn file. Non-contiguous tensors are written in C order.
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace ember::data
