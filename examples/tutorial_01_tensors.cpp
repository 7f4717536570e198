// Tutorial chapter 1 (docs/tutorial/01-tensors.md): a Tensor is storage + sizes + strides +
// offset, and a view is new geometry over the same storage. Every claim is checked; the program
// exits non-zero when one fails. Run: build/examples/tutorial_01_tensors
// `// [name]` ... `// [/name]` mark the snippets the chapter quotes (kept in sync by tutorial_snippets).
#include "tutorial_check.h"

using namespace ember;

// [stride-formula]
// Element number `flat` (in row-major order) of any float32 tensor, read straight from its
// storage with the stride formula: address = offset + sum_k index_k * stride_k (in elements).
float element_by_strides(const Tensor& t, int64_t flat) {
  const float* base = static_cast<const float*>(t.storage()->data());
  int64_t address = t.offset();
  for (int64_t k = t.dim() - 1; k >= 0; --k) {
    address += (flat % t.size(k)) * t.stride(k);
    flat /= t.size(k);
  }
  return base[address];
}
// [/stride-formula]

void show(const char* name, const Tensor& t) {
  fmt::print("{:<12} sizes {:<8} strides {:<8} offset {}  contiguous {}\n", name, shape_str(t.sizes()),
             shape_str(t.strides()), t.offset(), t.is_contiguous());
}

int main() {
  tutorial::Checks check;

  // [contiguous]
  Tensor a = arange(12.0).view({3, 4});  // 0, 1, ..., 11 as 3 rows of 4
  show("a", a);
  fmt::print("{}\n", a);
  // [/contiguous]
  check.expect(a.strides() == Shape{4, 1}, "a row-major (3, 4) tensor has strides (4, 1)");

  // [views]
  Tensor at = a.t();                                      // swap sizes and strides
  Tensor row = a[1];                                      // select: one dim fewer, offset moves
  Tensor every_other = a.slice(1, 0, 4, 2);               // a[:, 0:4:2]: the stride doubles
  Tensor repeated = arange(3.0).unsqueeze(0).expand({4, 3});  // stride 0: one row read 4 times
  show("a.t()", at);
  show("a[1]", row);
  show("a[:, ::2]", every_other);
  show("expand", repeated);
  // [/views]
  check.expect(at.strides() == Shape{1, 4} && !at.is_contiguous(), "a.t() has strides (1, 4): not contiguous");
  check.expect(row.offset() == 4 && row.strides() == Shape{1}, "a[1] starts at element 4 of the storage");
  check.expect(every_other.strides() == Shape{4, 2}, "a[:, ::2] has strides (4, 2)");
  check.expect(repeated.strides() == Shape{0, 1}, "expand gives the new dim stride 0");

  // Every view shares a's storage: no element was copied.
  for (const auto& [name, v] : {std::pair{"a.t()", &at}, {"a[1]", &row}, {"a[:, ::2]", &every_other}})
    check.expect(v->storage() == a.storage(), fmt::format("{} shares a's storage (same Storage object)", name));

  // The stride formula finds every element of every view.
  for (const Tensor* v : {&a, &at, &row, &every_other, &repeated}) {
    const std::vector<double> printed = tutorial::values_of(*v);  // read by the engine's strided copy
    bool same = true;
    for (int64_t i = 0; i < v->numel(); ++i) same = same && element_by_strides(*v, i) == printed[i];
    check.expect(same, fmt::format("offset + sum(index * stride) reads all {} elements of a {} view",
                                   v->numel(), shape_str(v->sizes())));
  }

  // [write-through]
  row.fill_(-1.0);  // writes into the storage a also reads
  fmt::print("after a[1].fill_(-1):\n{}\n", a);
  fmt::print("versions: a {} row {}\n", a.version(), row.version());
  // [/write-through]
  check.expect_close(a[1], {-1, -1, -1, -1}, "writing through the view a[1] changed a's second row");
  check.expect(at[2][1].item<float>() == -1.0f, "a.t()[2][1] is a[1][2]: it sees the write too");
  check.expect(a.version() == 1 && row.version() == 1, "a view and its base share one version counter");

  // [view-vs-reshape]
  check.expect_error([&] { at.view({12}); }, "view: shape", "a.t().view({12}) is refused: no strides can do it");
  Tensor flat_copy = at.reshape({12});   // not viewable: reshape copies
  Tensor halves = a.reshape({2, 6});     // viewable: reshape returns a view
  Tensor dense = at.contiguous();        // a fresh row-major copy
  show("a.t().contiguous()", dense);
  // [/view-vs-reshape]
  check.expect(flat_copy.storage() != a.storage(), "a.t().reshape({12}) copies (new storage)");
  check.expect(halves.storage() == a.storage(), "a.reshape({2, 6}) is a view (same storage)");
  check.expect(dense.strides() == Shape{3, 1} && dense.storage() != a.storage(),
               "contiguous() of a.t() is a new (4, 3) tensor with strides (3, 1)");
  check.expect_close(dense, at, "... holding the same values as a.t()");
  return check.finish();
}
