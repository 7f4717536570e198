#include "engine/dtype.h"

#include <cmath>

#include "engine/error.h"

namespace ember {

size_t itemsize(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i64: return 8;
    case DType::i32: return 4;
    case DType::u8: return 1;
    case DType::bool_: return 1;
    case DType::bf16: return 2;
    case DType::f16: return 2;
  }
  EMBER_FAIL("itemsize: unknown dtype {}", static_cast<int>(dtype));
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i64: return "int64";
    case DType::i32: return "int32";
    case DType::u8: return "uint8";
    case DType::bool_: return "bool";
    case DType::bf16: return "bfloat16";
    case DType::f16: return "float16";
  }
  return "unknown";
}

bool is_floating(DType d) { return d == DType::f32 || d == DType::f64 || d == DType::bf16 || d == DType::f16; }
bool is_integral(DType d) { return d == DType::i64 || d == DType::i32 || d == DType::u8; }

static int promotion_rank(DType d) {
  switch (d) {
    case DType::bool_: return 0;
    case DType::u8: return 1;
    case DType::i32: return 2;
    case DType::i64: return 3;
    case DType::f16: return 4;
    case DType::bf16: return 4;
    case DType::f32: return 5;
    case DType::f64: return 6;
  }
  return 0;
}

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  // f16 with bf16 has no exact common 16-bit type: PyTorch answers float32.
  if ((a == DType::f16 && b == DType::bf16) || (a == DType::bf16 && b == DType::f16)) return DType::f32;
  return promotion_rank(a) >= promotion_rank(b) ? a : b;
}

bool can_cast(DType from, DType to) {
  if (is_floating(from) && !is_floating(to)) return false;
  if (from != DType::bool_ && to == DType::bool_) return false;
  return true;
}

DType promote_with_scalar(DType tensor_dtype, bool scalar_is_floating) {
  if (scalar_is_floating && !is_floating(tensor_dtype)) return DType::f32;
  if (!scalar_is_floating && tensor_dtype == DType::bool_) return DType::i64;
  return tensor_dtype;
}

uint16_t float16::from_float(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (abs < 0x38800000u) {  // subnormal half (or zero): scale and round to nearest even
    const float scaled = std::fabs(value) * 16777216.0f;  // 2^24
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(scaled)));
  }
  uint32_t mantissa = abs + 0xc8000fffu + ((abs >> 13) & 1u);  // rebias exponent, round
  return static_cast<uint16_t>(sign | (mantissa >> 13));
}

float float16::to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  float result;
  if (exponent == 0) {
    result = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -result : result;
  }
  uint32_t bits;
  if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  }
  std::memcpy(&result, &bits, 4);
  return result;
}

}  // namespace ember
