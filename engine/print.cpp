// Tensor printing, a port of torch/_tensor_str.py (PyTorch 1.13): the same element formatter
// (_Formatter), the same row wrapping (_vector_str), the same nesting and summarising
// (_tensor_str_with_formatter, get_summarized_data) and the same suffix placement
// (_add_suffixes), so that our strings equal PyTorch's. API in engine/print.h.
#include "engine/print.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <ostream>
#include <type_traits>
#include <vector>

#include "autograd/node.h"
#include "engine/dispatch.h"

namespace ember {

namespace {

std::mutex g_options_mutex;
PrintOptions g_options;

template <class T>
constexpr bool is_float_like_v =
    std::is_floating_point_v<T> || std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>;

// The value Python's tolist() hands the formatter: a double for every float dtype (16-bit ones go
// through float, as PyTorch calls .float() first), int64 for integers, bool for bool.
template <class T>
auto python_value(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v;
  } else if constexpr (std::is_same_v<T, double>) {
    return v;
  } else if constexpr (is_float_like_v<T>) {
    return static_cast<double>(static_cast<float>(v));
  } else {
    return static_cast<int64_t>(v);
  }
}

// Python's str() of a non-finite float ("nan" never carries a sign), or empty when finite.
std::string non_finite_str(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return {};
}

std::string fixed_str(double v, int precision) {
  std::string s = non_finite_str(v);
  return s.empty() ? fmt::format("{:.{}f}", v, precision) : s;
}

std::string sci_str(double v, int precision) {
  std::string s = non_finite_str(v);
  return s.empty() ? fmt::format("{:.{}e}", v, precision) : s;
}

std::string pad_left(std::string s, size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

// _Formatter for float dtypes: decides int / fixed / scientific mode and the column width from
// the values that will be shown (the summarised ones for a big tensor).
class FloatFormatter {
 public:
  FloatFormatter(const std::vector<double>& shown, const PrintOptions& options) : precision_(options.precision) {
    std::vector<double> nonzero_finite;
    for (double v : shown)
      if (std::isfinite(v) && v != 0.0) nonzero_finite.push_back(v);
    if (nonzero_finite.empty()) return;  // PyTorch returns here, before honouring sci_mode

    double min_abs = std::fabs(nonzero_finite[0]);
    double max_abs = min_abs;
    for (double v : nonzero_finite) {
      min_abs = std::min(min_abs, std::fabs(v));
      max_abs = std::max(max_abs, std::fabs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    }
    const bool wide_range = max_abs / min_abs > 1000.0 || max_abs > 1.0e8;
    if (int_mode_) {
      // All integers: print "3." and make room for the point.
      sci_mode_ = wide_range;
      for (double v : nonzero_finite)
        width_ = std::max(width_, sci_mode_ ? sci_str(v, precision_).size() : fmt::format("{:.0f}", v).size() + 1);
    } else {
      sci_mode_ = wide_range || min_abs < 1.0e-4;
      for (double v : nonzero_finite)
        width_ = std::max(width_, sci_mode_ ? sci_str(v, precision_).size() : fixed_str(v, precision_).size());
    }
    if (options.sci_mode) sci_mode_ = *options.sci_mode;
  }

  size_t width() const { return width_; }

  std::string format(double v) const {
    std::string s;
    if (sci_mode_) {
      s = sci_str(v, precision_);
    } else if (int_mode_) {
      s = non_finite_str(v);
      if (s.empty()) s = fmt::format("{:.0f}.", v);
    } else {
      s = fixed_str(v, precision_);
    }
    return pad_left(std::move(s), width_);
  }

 private:
  int precision_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  size_t width_ = 1;
};

// _Formatter for integer and bool dtypes: str() of each value, right-aligned to the widest.
template <class V>
class PlainFormatter {
 public:
  PlainFormatter(const std::vector<V>& shown, const PrintOptions&) {
    for (V v : shown) width_ = std::max(width_, str(v).size());
  }
  size_t width() const { return width_; }
  std::string format(V v) const { return pad_left(str(v), width_); }

 private:
  static std::string str(V v) {
    if constexpr (std::is_same_v<V, bool>) {
      return v ? "True" : "False";
    } else {
      return fmt::format("{}", v);
    }
  }
  size_t width_ = 1;
};

// Walks a CPU tensor of element type T through its strides and renders the nested brackets.
template <class T>
class Printer {
 public:
  using Value = decltype(python_value(T{}));
  using Formatter = std::conditional_t<is_float_like_v<T>, FloatFormatter, PlainFormatter<Value>>;

  Printer(const Tensor& t, const PrintOptions& options)
      : t_(t),
        options_(options),
        data_(static_cast<const T*>(t.raw_data())),
        summarize_(t.numel() > options.threshold),
        formatter_(shown_values(), options) {}

  std::string render(int64_t indent) const { return render_dim(0, 0, indent); }

 private:
  Value at(int64_t element_offset) const { return python_value(data_[element_offset]); }

  // Whether dim `d` prints only its edges ("..." in the middle).
  bool elided(int64_t d) const { return summarize_ && t_.size(d) > 2 * options_.edgeitems; }

  // The indices of dim `d` that are printed, in order; -1 marks the "..." gap.
  std::vector<int64_t> shown_indices(int64_t d) const {
    const int64_t n = t_.size(d);
    std::vector<int64_t> idx;
    if (!elided(d)) {
      for (int64_t i = 0; i < n; ++i) idx.push_back(i);
      return idx;
    }
    for (int64_t i = 0; i < options_.edgeitems; ++i) idx.push_back(i);
    idx.push_back(-1);
    for (int64_t i = n - options_.edgeitems; i < n; ++i) idx.push_back(i);
    return idx;
  }

  // get_summarized_data: every value that will appear, which is what the formatter measures.
  std::vector<Value> shown_values() const {
    std::vector<Value> out;
    collect(0, 0, out);
    return out;
  }

  void collect(int64_t d, int64_t offset, std::vector<Value>& out) const {
    if (d == t_.dim()) {
      out.push_back(at(offset));
      return;
    }
    for (int64_t i : shown_indices(d))
      if (i >= 0) collect(d + 1, offset + i * t_.stride(d), out);
  }

  // _tensor_str_with_formatter for the sub-tensor starting at dim `d`.
  std::string render_dim(int64_t d, int64_t offset, int64_t indent) const {
    const int64_t sub_dims = t_.dim() - d;
    if (sub_dims == 0) return formatter_.format(at(offset));
    if (sub_dims == 1) return render_row(d, offset, indent);

    const std::string separator = "," + std::string(static_cast<size_t>(sub_dims - 1), '\n') +
                                  std::string(static_cast<size_t>(indent + 1), ' ');
    std::string out = "[";
    bool first = true;
    for (int64_t i : shown_indices(d)) {
      if (!first) out += separator;
      first = false;
      out += i < 0 ? std::string("...") : render_dim(d + 1, offset + i * t_.stride(d), indent + 1);
    }
    return out + "]";
  }

  // _vector_str: the last dim, wrapped at linewidth.
  std::string render_row(int64_t d, int64_t offset, int64_t indent) const {
    const int64_t element_length = static_cast<int64_t>(formatter_.width()) + 2;  // ", " included
    const int64_t per_line = std::max<int64_t>(1, (options_.linewidth - indent) / element_length);
    std::string out = "[";
    int64_t on_line = 0;
    for (int64_t i : shown_indices(d)) {
      if (on_line == per_line) {
        out += ",\n" + std::string(static_cast<size_t>(indent + 1), ' ');
        on_line = 0;
      } else if (on_line > 0) {
        out += ", ";
      }
      out += i < 0 ? std::string(" ...") : formatter_.format(at(offset + i * t_.stride(d)));
      ++on_line;
    }
    return out + "]";
  }

  const Tensor& t_;
  const PrintOptions& options_;
  const T* data_;
  bool summarize_;
  Formatter formatter_;
};

// Python's str(tuple(shape)): "(0, 3)", "(0,)".
std::string python_tuple(const Shape& sizes) {
  if (sizes.size() == 1) return fmt::format("({},)", sizes[0]);
  return fmt::format("({})", fmt::join(sizes, ", "));
}

// _add_suffixes: ", suffix" on the last line while it fits in linewidth, else on a new line.
std::string add_suffixes(std::string text, const std::vector<std::string>& suffixes, int64_t indent,
                         int64_t linewidth) {
  const size_t last_newline = text.rfind('\n');
  // Python: len(s) - s.rfind("\n") + 1, where rfind gives -1 when there is no newline.
  int64_t last_line_len = static_cast<int64_t>(text.size()) -
                          (last_newline == std::string::npos ? -1 : static_cast<int64_t>(last_newline)) + 1;
  for (const std::string& suffix : suffixes) {
    const auto suffix_len = static_cast<int64_t>(suffix.size());
    if (last_line_len + suffix_len + 2 > linewidth) {
      text += ",\n" + std::string(static_cast<size_t>(indent), ' ') + suffix;
      last_line_len = indent + suffix_len;
    } else {
      text += ", " + suffix;
      last_line_len += suffix_len + 2;
    }
  }
  return text + ")";
}

void check_options(const PrintOptions& o) {
  EMBER_CHECK(o.precision >= 0 && o.precision <= 64, "print: precision must be in [0, 64], got {}", o.precision);
  EMBER_CHECK(o.threshold >= 0, "print: threshold must be >= 0, got {}", o.threshold);
  EMBER_CHECK(o.edgeitems >= 1, "print: edgeitems must be >= 1, got {}", o.edgeitems);
  EMBER_CHECK(o.linewidth >= 1, "print: linewidth must be >= 1, got {}", o.linewidth);
}

}  // namespace

PrintOptions print_options() {
  std::lock_guard lock(g_options_mutex);
  return g_options;
}

void set_print_options(const PrintOptions& options) {
  check_options(options);
  std::lock_guard lock(g_options_mutex);
  g_options = options;
}

std::string to_string(const Tensor& t, const PrintOptions& options) {
  check_options(options);
  if (!t.defined()) return "tensor(undefined)";
  const std::string prefix = "tensor(";
  const auto indent = static_cast<int64_t>(prefix.size());
  std::vector<std::string> suffixes;
  if (!t.device().is_cpu()) suffixes.push_back("device=" + t.device().str());

  std::string body;
  if (t.numel() == 0) {
    // No values to tell the dtype from, so anything but the default float dtype is named.
    body = "[]";
    if (t.dim() != 1) suffixes.push_back("size=" + python_tuple(t.sizes()));
    if (t.dtype() != DType::f32) suffixes.push_back(fmt::format("dtype={}", dtype_name(t.dtype())));
  } else {
    const bool default_dtype = t.dtype() == DType::f32 || t.dtype() == DType::i64 || t.dtype() == DType::bool_;
    if (!default_dtype) suffixes.push_back(fmt::format("dtype={}", dtype_name(t.dtype())));
    const Tensor host = t.device().is_cpu() ? t : t.detach().to(Device::cpu());
    body = dispatch_with_half(host.dtype(), "print", [&]<class T>() { return Printer<T>(host, options).render(indent); });
  }

  if (const auto& node = t.grad_fn()) {
    suffixes.push_back("grad_fn=<" + node->name() + ">");
  } else if (t.requires_grad()) {
    suffixes.push_back("requires_grad=True");
  }
  std::string text = add_suffixes(prefix + body, suffixes, indent, options.linewidth);
  return options.header ? t.describe() + "\n" + text : text;
}

std::string to_string(const Tensor& t) { return to_string(t, print_options()); }

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace ember
