#include "engine/error.h"

#include <cstring>

namespace ember::detail {

[[noreturn]] void throw_error(const char* file, int line, const std::string& message) {
  // Keep the path short: "engine/tensor.cpp" rather than the absolute build path.
  const char* short_file = file;
  for (const char* root : {"/engine/", "/autograd/", "/ops/", "/data/", "/models/", "/optim/",
                           "/cuda/", "/experiments/", "/test/", "/examples/"}) {
    if (const char* hit = std::strstr(file, root)) {
      short_file = hit + 1;
      break;
    }
  }
  throw Error(fmt::format("{} [{}:{}]", message, short_file, line));
}

}  // namespace ember::detail
