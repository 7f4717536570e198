// Host-side planning for cuDNN convolutions: pure logic (no CUDA headers), so
// test/cuda/test_consistency_matmul.cpp checks it in every build. Used by cuda/conv.cpp.
//   plan_conv_axis: how one spatial axis of Ember's geometry is expressed with cuDNN's symmetric
//                   padding (Note [Explicit output sizes on cuDNN]);
//   ConvKey / ConvAlgoCache: the per-shape cache of cuDNN's algorithm choice.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ember::cuda {

// Note [Explicit output sizes on cuDNN]: Ember's conv geometry (ops/conv.cpp) names the input and
// output sizes and the padding before the first element; cuDNN pads both ends equally and derives
// out = (in + 2·pad − span) / stride + 1, span = dilation·(kernel − 1) + 1. The two agree for every
// plain conv2d. They differ for padding="same" with an even span (PyTorch pads one more at the
// bottom/right) and for conv_transpose2d's output_padding, where the convolution's input has rows
// that no output reads. Such an axis is planned "explicit": the input is copied into a zeroed
// buffer of exactly (out − 1)·stride + span elements, input element i at i + pad (elements past the
// buffer are never read, so they are left out), and cuDNN runs with padding 0. The input gradient
// is then computed in the buffer's shape and the same window copied back.
struct ConvAxis {
  int64_t in = 1, out = 1, kernel = 1, stride = 1, pad = 0, dilation = 1;
};

struct ConvAxisPlan {
  bool direct = true;       // cuDNN's own symmetric padding gives exactly `out`
  int64_t library_pad = 0;  // the padding cuDNN is given
  int64_t library_in = 0;   // the input length cuDNN sees (in when direct)
  int64_t offset = 0;       // explicit: where input element 0 sits in the buffer
  int64_t copied = 0;       // explicit: input elements [0, copied) go to the buffer
  bool operator==(const ConvAxisPlan&) const = default;
};

inline int64_t conv_span(const ConvAxis& a) { return a.dilation * (a.kernel - 1) + 1; }

// cuDNN's output length for `a` with symmetric padding `pad` (0 when the kernel does not fit).
inline int64_t symmetric_conv_out(int64_t in, int64_t pad, int64_t span, int64_t stride) {
  return in + 2 * pad >= span ? (in + 2 * pad - span) / stride + 1 : 0;
}

inline ConvAxisPlan plan_conv_axis(const ConvAxis& a) {
  const int64_t span = conv_span(a);
  if (symmetric_conv_out(a.in, a.pad, span, a.stride) == a.out) return {true, a.pad, a.in, 0, a.in};
  const int64_t buffer = (a.out - 1) * a.stride + span;
  return {false, 0, buffer, a.pad, std::clamp<int64_t>(buffer - a.pad, 0, a.in)};
}

// What the cuDNN algorithm choice depends on: the geometry cuDNN sees (after plan_conv_axis),
// the direction, dtype, math mode and device. Inputs are dense NCHW, so strides are implied.
enum class ConvDirection : uint8_t { forward, backward_data, backward_filter };

struct ConvKey {
  ConvDirection direction = ConvDirection::forward;
  int device = 0;
  int dtype = 0;  // ember::DType's number
  bool allow_tf32 = false;
  int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0, kernel_h = 0, kernel_w = 0;
  int64_t pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  bool operator==(const ConvKey&) const = default;

  // "forward dtype 0 x(8, 3, 32, 32) w(16, 3/1, 3, 3) pad (1, 1) stride (1, 1) dilation (1, 1) on cuda:0"
  std::string str() const {
    static const char* const names[] = {"forward", "backward_data", "backward_filter"};
    auto s = [](int64_t v) { return std::to_string(v); };
    return std::string(names[static_cast<int>(direction)]) + " dtype " + std::to_string(dtype) + " x(" + s(batch) +
           ", " + s(in_channels) + ", " + s(in_h) + ", " + s(in_w) + ") w(" + s(out_channels) + ", " +
           s(in_channels) + "/" + s(groups) + ", " + s(kernel_h) + ", " + s(kernel_w) + ") y(" + s(out_h) + ", " +
           s(out_w) + ") pad (" + s(pad_h) + ", " + s(pad_w) + ") stride (" + s(stride_h) + ", " + s(stride_w) +
           ") dilation (" + s(dilation_h) + ", " + s(dilation_w) + ")" + (allow_tf32 ? " tf32" : "") +
           " on cuda:" + std::to_string(device);
  }
};

struct ConvKeyHash {
  size_t operator()(const ConvKey& k) const {
    // FNV-1a over every field, in declaration order.
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](int64_t v) {
      h ^= static_cast<uint64_t>(v);
      h *= 1099511628211ull;
    };
    for (int64_t v : {int64_t(k.direction), int64_t(k.device), int64_t(k.dtype), int64_t(k.allow_tf32), k.batch,
                      k.in_channels, k.out_channels, k.groups, k.in_h, k.in_w, k.out_h, k.out_w, k.kernel_h,
                      k.kernel_w, k.pad_h, k.pad_w, k.stride_h, k.stride_w, k.dilation_h, k.dilation_w}) {
      mix(v);
    }
    return static_cast<size_t>(h);
  }
};

// A thread-safe memo: `choose` runs once per key (the first caller's result is kept; a failing
// `choose` caches nothing). Used with Value = the chosen cuDNN algorithm.
template <class Value>
class ConvAlgoCache {
 public:
  Value get_or_choose(const ConvKey& key, const std::function<Value()>& choose) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    Value value = choose();  // outside the lock: it calls into cuDNN
    std::lock_guard<std::mutex> lock(mutex_);
    return map_.emplace(key, value).first->second;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return map_.size();
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    map_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<ConvKey, Value, ConvKeyHash> map_;
};

}  // namespace ember::cuda
