// DType: the element types a Tensor can hold, their sizes and names, PyTorch's promotion
// rules, and the two 16-bit float storage types (bf16, f16) with their conversions.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace ember {

enum class DType : uint8_t { f32, f64, i64, i32, u8, bool_, bf16, f16 };

// 16-bit floats are storage types on the CPU: kernels convert to float to compute.
struct bfloat16 {
  uint16_t bits = 0;
  bfloat16() = default;
  bfloat16(float value) {  // NOLINT: implicit like the builtin types
    uint32_t u;
    std::memcpy(&u, &value, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      bits = 0x7fc0;  // NaN stays NaN
    } else {
      u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
      bits = static_cast<uint16_t>(u >> 16);
    }
  }
  operator float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

struct float16 {
  uint16_t bits = 0;
  float16() = default;
  float16(float value) : bits(from_float(value)) {}  // NOLINT
  operator float() const { return to_float(bits); }
  static uint16_t from_float(float value);
  static float to_float(uint16_t bits);
};

size_t itemsize(DType dtype);
const char* dtype_name(DType dtype);  // "float32", "int64", ... as PyTorch prints them
bool is_floating(DType dtype);        // f32, f64, bf16, f16
bool is_integral(DType dtype);        // i64, i32, u8 (not bool)
// PyTorch's type promotion for two tensors: bool < u8 < i32 < i64 < f16/bf16 < f32 < f64.
DType promote_types(DType a, DType b);
// Whether an in-place op may write a `from` result into a `to` tensor (PyTorch's canCast):
// not floating into integer/bool, and nothing but bool into bool.
bool can_cast(DType from, DType to);
// The dtype a Python-style scalar takes when mixed with a tensor of `tensor_dtype`:
// a float scalar with an integer tensor gives f32 (the default float), else the tensor's dtype.
DType promote_with_scalar(DType tensor_dtype, bool scalar_is_floating);

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::bool_; };
template <> struct dtype_of<bfloat16> { static constexpr DType value = DType::bf16; };
template <> struct dtype_of<float16> { static constexpr DType value = DType::f16; };
template <class T> inline constexpr DType dtype_v = dtype_of<T>::value;

}  // namespace ember
