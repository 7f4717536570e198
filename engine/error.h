// ember::Error, the one exception type of the project, and the EMBER_CHECK macro.
// Convention: every message starts with the op's name ("add: ...") and names the offending
// shapes, dtypes and devices, so a user can find the bad call without a debugger.
#pragma once
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace ember {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const std::string& message);
}  // namespace detail

}  // namespace ember

// EMBER_CHECK(cond, "op: format {}", args...) throws ember::Error with file:line appended.
#define EMBER_CHECK(cond, ...)                                                             \
  do {                                                                                     \
    if (!(cond)) [[unlikely]] {                                                            \
      ::ember::detail::throw_error(__FILE__, __LINE__, ::fmt::format(__VA_ARGS__));        \
    }                                                                                      \
  } while (0)

#define EMBER_FAIL(...) ::ember::detail::throw_error(__FILE__, __LINE__, ::fmt::format(__VA_ARGS__))
