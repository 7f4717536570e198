// Printing tensors like PyTorch: `fmt::format("{}", t)`, `std::cout << t`, `to_string(t, options)`.
// The layout rules (column width, int/fixed/scientific mode, summarising with "...", the suffixes)
// follow torch/_tensor_str.py line by line, so output can be compared with PyTorch's literally.
// Two deliberate differences: the dtype suffix reads `dtype=float64` (not `dtype=torch.float64`)
// and the device suffix `device=cuda:0` (no quotes), since Ember strings are not Python reprs;
// grad_fn names are Ember's node names (`grad_fn=<MulBackward>`).
// The implementation is engine/print.cpp; tests are test/engine/test_print.cpp.
#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "engine/tensor.h"

namespace ember {

// The knobs of torch.set_printoptions, with PyTorch's defaults.
struct PrintOptions {
  int precision = 4;             // digits after the point (fixed) or in the mantissa (scientific)
  int64_t threshold = 1000;      // summarise with "..." when numel() > threshold
  int64_t edgeitems = 3;         // items kept at each edge of a summarised dim
  int64_t linewidth = 80;        // characters per line before a 1-D row wraps
  std::optional<bool> sci_mode;  // empty: chosen from the values like PyTorch; true/false: forced
  bool header = false;           // a first line "float32[2, 3] on cpu" (shape, dtype, device)
};

// The process-wide options that `fmt::format("{}", t)` and `operator<<` use (torch.set_printoptions).
PrintOptions print_options();
void set_print_options(const PrintOptions& options);

std::string to_string(const Tensor& t, const PrintOptions& options);
std::string to_string(const Tensor& t);  // with print_options()
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace ember

// `{}` uses print_options(); a spec can override precision and mode: `{:.2}`, `{:.6e}`, `{:f}`.
template <>
struct fmt::formatter<ember::Tensor> {
  std::optional<int> precision;
  std::optional<bool> sci_mode;

  constexpr auto parse(format_parse_context& ctx) -> decltype(ctx.begin()) {
    auto it = ctx.begin();
    if (it != ctx.end() && *it == '.') {
      ++it;
      int digits = 0;
      bool any = false;
      while (it != ctx.end() && *it >= '0' && *it <= '9') {
        digits = digits * 10 + (*it - '0');
        any = true;
        ++it;
      }
      if (!any) throw format_error("ember::Tensor format: '.' must be followed by a precision");
      precision = digits;
    }
    if (it != ctx.end() && (*it == 'e' || *it == 'f')) {
      sci_mode = *it == 'e';
      ++it;
    }
    if (it != ctx.end() && *it != '}') throw format_error("ember::Tensor format: expected [.precision][e|f]");
    return it;
  }

  template <class FormatContext>
  auto format(const ember::Tensor& t, FormatContext& ctx) const -> decltype(ctx.out()) {
    ember::PrintOptions options = ember::print_options();
    if (precision) options.precision = *precision;
    if (sci_mode) options.sci_mode = sci_mode;
    const std::string text = ember::to_string(t, options);
    return std::copy(text.begin(), text.end(), ctx.out());
  }
};
