// DEVICE_TEST_CASE("name") { ... }: a Catch2 case that needs a CUDA device. It is registered only
// when one is present; without one it prints "SKIPPED (no CUDA device): name" (or "built without
// CUDA") and is neither run nor counted, so a machine without a GPU never reports it as passed.
// scripts/test.sh counts these lines for its summary.
#pragma once
#include <catch2/catch.hpp>

#include <cstdio>

#include "cuda/runtime.h"
#include "ember_config.h"

namespace ember::test {

inline bool register_device_case(const char* name, void (*run)()) {
  if (cuda::device_count() == 0) {
    std::printf("SKIPPED (%s): %s\n", EMBER_WITH_CUDA ? "no CUDA device" : "built without CUDA", name);
    return false;
  }
  Catch::AutoReg(Catch::makeTestInvoker(run), CATCH_INTERNAL_LINEINFO, Catch::StringRef(),
                 Catch::NameAndTags{name, "[cuda][device]"});
  return true;
}

}  // namespace ember::test

#define EMBER_DEVICE_CASE_CONCAT2(a, b) a##b
#define EMBER_DEVICE_CASE_CONCAT(a, b) EMBER_DEVICE_CASE_CONCAT2(a, b)
#define EMBER_DEVICE_CASE_IMPL(fn, name)                                                                 \
  static void fn();                                                                                      \
  [[maybe_unused]] static const bool EMBER_DEVICE_CASE_CONCAT(fn, _registered) =                          \
      ::ember::test::register_device_case(name, fn);                                                     \
  static void fn()
#define DEVICE_TEST_CASE(name) EMBER_DEVICE_CASE_IMPL(EMBER_DEVICE_CASE_CONCAT(ember_device_case_, __LINE__), name)
