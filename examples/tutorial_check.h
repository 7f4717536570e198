// The checks every tutorial program (examples/tutorial_*.cpp, docs/tutorial/) makes: each one
// prints what it verified ("ok: ..." or "MISMATCH: ...") and the program exits non-zero on any
// mismatch, so scripts/test.sh catches a chapter whose claims stopped being true.
#pragma once
#include <fmt/ranges.h>

#include <cmath>
#include <string>
#include <vector>

#include "ember.h"

namespace tutorial {

// The values of any tensor as float64, in row-major order (reads through strides).
inline std::vector<double> values_of(const ember::Tensor& t) {
  ember::NoGradGuard no_grad;
  const ember::Tensor flat = t.detach().to(ember::DType::f64).contiguous();
  const double* p = flat.data_ptr<double>();
  return std::vector<double>(p, p + flat.numel());
}

class Checks {
 public:
  void expect(bool ok, const std::string& what) {
    fmt::print("{}: {}\n", ok ? "ok" : "MISMATCH", what);
    if (!ok) ++failures_;
  }

  // |actual - expected| <= tol elementwise, expected given by hand.
  void expect_close(const ember::Tensor& actual, const std::vector<double>& expected, const std::string& what,
                    double tol = 1e-9) {
    const std::vector<double> got = values_of(actual);
    bool ok = got.size() == expected.size();
    for (size_t i = 0; ok && i < got.size(); ++i) ok = std::abs(got[i] - expected[i]) <= tol;
    if (!ok) fmt::print("  got      {}\n  expected {}\n", got, expected);
    expect(ok, what);
  }

  void expect_close(const ember::Tensor& actual, const ember::Tensor& expected, const std::string& what,
                    double tol = 1e-9) {
    expect_close(actual, values_of(expected), what, tol);
  }

  // `action` must throw an ember::Error whose message contains `must_contain`; the message is shown.
  template <class Action>
  void expect_error(Action&& action, const std::string& must_contain, const std::string& what) {
    try {
      action();
    } catch (const ember::Error& e) {
      const std::string message = e.what();
      fmt::print("  error: {}\n", message.substr(0, message.find('\n')));
      expect(message.find(must_contain) != std::string::npos, what);
      return;
    }
    expect(false, what + " (no error was raised)");
  }

  // The program's exit status: 0 when every check held.
  int finish() const {
    fmt::print("{}\n", failures_ == 0 ? "all checks passed" : fmt::format("{} check(s) FAILED", failures_));
    return failures_ == 0 ? 0 : 1;
  }

 private:
  int failures_ = 0;
};

}  // namespace tutorial
