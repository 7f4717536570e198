// Test helpers shared by every suite: reading values out of tensors, closeness checks, and
// "this call throws an ember::Error that names the op".
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "ember.h"
#include "engine/copy.h"

namespace ember::test {

// All elements (row-major) as doubles.
inline std::vector<double> values(const Tensor& t) {
  std::vector<double> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = read_element(t, i);
  return v;
}

// Element-wise |a - b| <= atol + rtol * |b|, with a readable failure message.
inline bool all_close(const std::vector<double>& actual, const std::vector<double>& expected, double rtol = 1e-5,
                      double atol = 1e-6) {
  if (actual.size() != expected.size()) {
    UNSCOPED_INFO("size " << actual.size() << " vs expected " << expected.size());
    return false;
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    const bool both_nan = std::isnan(actual[i]) && std::isnan(expected[i]);
    if (!both_nan && !(std::fabs(actual[i] - expected[i]) <= atol + rtol * std::fabs(expected[i]))) {
      UNSCOPED_INFO("element " << i << ": " << actual[i] << " vs expected " << expected[i]);
      return false;
    }
  }
  return true;
}

inline bool all_close(const Tensor& actual, const std::vector<double>& expected, double rtol = 1e-5,
                      double atol = 1e-6) {
  return all_close(values(actual), expected, rtol, atol);
}

inline bool all_close(const Tensor& actual, const Tensor& expected, double rtol = 1e-5, double atol = 1e-6) {
  if (actual.sizes() != expected.sizes()) {
    UNSCOPED_INFO("shape " << shape_str(actual.sizes()) << " vs expected " << shape_str(expected.sizes()));
    return false;
  }
  return all_close(values(actual), values(expected), rtol, atol);
}

// A float64 tensor from values, requiring grad (the usual gradcheck input).
inline Tensor f64(const std::vector<double>& v, const Shape& shape, bool requires_grad = true) {
  return from_vector(v, shape, TensorOptions(DType::f64).requires_grad(requires_grad));
}

// Random float64 leaf of `shape` (seeded), requiring grad.
inline Tensor rand64(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0) {
  Generator gen(seed);
  return uniform(low, high, shape, gen, DType::f64).requires_grad_(true);
}

}  // namespace ember::test

// REQUIRE that `expr` throws ember::Error whose message contains `op`.
#define REQUIRE_THROWS_OP(expr, op) REQUIRE_THROWS_WITH((expr), Catch::Matchers::Contains(op))
