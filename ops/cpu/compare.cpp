// CPU kernels for comparisons, logical ops and where. Twin: ops/compare.cpp.
#include "ops/cpu/compare.h"

#include "engine/dispatch.h"
#include "ops/cpu/loops.h"

namespace ember::cpu {

void compare(const Tensor& out, const Tensor& a, const Tensor& b, CompareOp op) {
  dispatch_all(a.dtype(), "compare", [&]<class T>() {
    auto run = [&](auto f) { binary_kernel<T, bool>(out, a, b, f); };
    switch (op) {
      case CompareOp::eq: run([](T x, T y) { return x == y; }); break;
      case CompareOp::ne: run([](T x, T y) { return x != y; }); break;
      case CompareOp::lt: run([](T x, T y) { return x < y; }); break;
      case CompareOp::le: run([](T x, T y) { return x <= y; }); break;
      case CompareOp::gt: run([](T x, T y) { return x > y; }); break;
      case CompareOp::ge: run([](T x, T y) { return x >= y; }); break;
      case CompareOp::logical_and: run([](T x, T y) { return x != T(0) && y != T(0); }); break;
      case CompareOp::logical_or: run([](T x, T y) { return x != T(0) || y != T(0); }); break;
      case CompareOp::logical_xor: run([](T x, T y) { return (x != T(0)) != (y != T(0)); }); break;
    }
  });
}

void logical_not(const Tensor& out, const Tensor& a) {
  dispatch_all(a.dtype(), "logical_not", [&]<class T>() {
    unary_kernel<T, bool>(out, a, [](T x) { return x == T(0); });
  });
}

void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), "where", [&]<class T>() {
    map_kernel<T, bool, T, T>(out.sizes(), operands<4>(out.sizes(), {&out, &condition, &a, &b}),
                              [](bool c, T x, T y) { return c ? x : y; });
  });
}

}  // namespace ember::cpu
