#include "engine/factories.h"

#include <cmath>
#include <cstring>

#include "engine/copy.h"
#include "engine/dispatch.h"

namespace ember {

// Factories that compute their values element by element (arange, linspace, eye, from_vector)
// write them on the CPU and then move the result to options.device_ in one copy.
static Tensor finish(Tensor t, const TensorOptions& options) {
  if (t.device() != options.device_) t = t.to(options.device_);
  if (options.requires_grad_) t.requires_grad_(true);
  return t;
}

Tensor empty(const Shape& sizes, TensorOptions options) {
  return finish(make_tensor(sizes, options.dtype_, options.device_), options);
}

Tensor full(const Shape& sizes, double value, TensorOptions options) {
  Tensor t = make_tensor(sizes, options.dtype_, options.device_);
  fill_data(t, value);
  return finish(t, options);
}

Tensor zeros(const Shape& sizes, TensorOptions options) {
  Tensor t = make_tensor(sizes, options.dtype_, options.device_);
  if (t.numel() && t.device().is_cpu()) std::memset(t.raw_data(), 0, t.numel() * t.element_size());
  else if (t.numel()) fill_data(t, 0.0);  // device memory: a fill kernel, never a host memset
  return finish(t, options);
}

Tensor ones(const Shape& sizes, TensorOptions options) { return full(sizes, 1.0, options); }
Tensor scalar_tensor(double value, TensorOptions options) { return full({}, value, options); }
Tensor empty_like(const Tensor& t) { return empty(t.sizes(), TensorOptions(t.dtype()).device(t.device())); }
Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), TensorOptions(t.dtype()).device(t.device())); }
Tensor ones_like(const Tensor& t) { return ones(t.sizes(), TensorOptions(t.dtype()).device(t.device())); }
Tensor full_like(const Tensor& t, double value) {
  return full(t.sizes(), value, TensorOptions(t.dtype()).device(t.device()));
}

Tensor arange(double end, TensorOptions options) { return arange(0.0, end, 1.0, options); }

Tensor arange(double start, double end, double step, TensorOptions options) {
  EMBER_CHECK(step != 0.0, "arange: step must be non-zero");
  EMBER_CHECK(std::isfinite(start) && std::isfinite(end), "arange: start {} and end {} must be finite", start, end);
  EMBER_CHECK((end - start) / step >= 0, "arange: step {} has the wrong sign for start {} and end {}", step,
              start, end);
  const double count = std::ceil((end - start) / step);
  EMBER_CHECK(count < 9.0e18, "arange: {} elements (start {}, end {}, step {}) is too many", count, start, end, step);
  const int64_t n = static_cast<int64_t>(count);
  Tensor t = make_tensor({n}, options.dtype_, Device::cpu());
  dispatch_all(options.dtype_, "arange", [&]<class T>() {
    T* p = t.data_ptr<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + static_cast<double>(i) * step);
  });
  return finish(t, options);
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  EMBER_CHECK(steps >= 0, "linspace: number of steps must be non-negative, got {}", steps);
  Tensor t = make_tensor({steps}, options.dtype_, Device::cpu());
  const double delta = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  dispatch_all(options.dtype_, "linspace", [&]<class T>() {
    T* p = t.data_ptr<T>();
    // Fill from both ends (as PyTorch does) so the last value is exactly `end`.
    const int64_t half = steps / 2;
    if (steps == 1) {
      p[0] = static_cast<T>(start);  // torch.linspace(a, b, 1) == [a]
      return;
    }
    for (int64_t i = 0; i < steps; ++i) {
      p[i] = static_cast<T>(i < half ? start + delta * static_cast<double>(i)
                                     : end - delta * static_cast<double>(steps - 1 - i));
    }
  });
  return finish(t, options);
}

Tensor eye(int64_t n, int64_t m, TensorOptions options) {
  EMBER_CHECK(n >= 0 && m >= -1, "eye: sizes must be non-negative, got n={} m={}", n, m);
  if (m == -1) m = n;  // the default: square
  Tensor t = zeros({n, m}, TensorOptions(options.dtype_));
  dispatch_all(options.dtype_, "eye", [&]<class T>() {
    T* p = t.data_ptr<T>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = static_cast<T>(1);
  });
  return finish(t, options);
}

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& sizes, TensorOptions options) {
  Shape shape = sizes.empty() && values.size() != 1 ? Shape{static_cast<int64_t>(values.size())} : sizes;
  if (sizes.empty() && values.size() == 1) shape = {1};
  EMBER_CHECK(numel_of(shape) == static_cast<int64_t>(values.size()),
              "from_vector: {} values do not fill shape {}", values.size(), shape_str(shape));
  Tensor source = make_tensor(shape, dtype_v<T>, Device::cpu());
  if constexpr (std::is_same_v<T, bool>) {
    for (size_t i = 0; i < values.size(); ++i) source.data_ptr<bool>()[i] = values[i];
  } else {
    if (!values.empty()) std::memcpy(source.raw_data(), values.data(), values.size() * sizeof(T));
  }
  Tensor out = options.dtype_ == dtype_v<T> ? source : source.to(options.dtype_);
  return finish(out, options);
}
template Tensor from_vector<float>(const std::vector<float>&, const Shape&, TensorOptions);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, TensorOptions);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, TensorOptions);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, const Shape&, TensorOptions);
template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, const Shape&, TensorOptions);
template Tensor from_vector<bool>(const std::vector<bool>&, const Shape&, TensorOptions);

Tensor from_blob(const void* data, const Shape& sizes, DType dtype, bool requires_grad) {
  EMBER_CHECK(data != nullptr || numel_of(sizes) == 0, "from_blob: null data pointer for shape {}",
              shape_str(sizes));
  Tensor t = make_tensor(sizes, dtype, Device::cpu());
  if (t.numel()) std::memcpy(t.raw_data(), data, t.numel() * itemsize(dtype));
  if (requires_grad) t.requires_grad_(true);
  return t;
}

}  // namespace ember
