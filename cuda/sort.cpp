// cuda/sort.h: Tensors -> the launchers of cuda/sort.cu; the sort's workspace (keys, positions,
// CUB's temporary storage) is one uint8 tensor from the device's caching allocator.
#include "cuda/sort.h"

#include <limits>

#include "cuda/runtime.h"
#include "cuda/sort_launch.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"
#include "engine/factories.h"

namespace ember::cuda {

namespace {

// A contiguous tensor seen as (outer, size(dim), inner); a 0-d one is (1, 1, 1).
struct Lines {
  int64_t outer = 1, length = 1, inner = 1;
};
Lines lines_of(const Tensor& t, int64_t dim) {
  Lines l;
  if (t.dim() == 0) return l;
  for (int64_t d = 0; d < dim; ++d) l.outer *= t.size(d);
  l.length = t.size(dim);
  for (int64_t d = dim + 1; d < t.dim(); ++d) l.inner *= t.size(d);
  return l;
}

}  // namespace

void sort(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t dim, bool descending, int64_t k) {
  DeviceGuard guard(common_cuda_device("sort", {&values, &indices, &x}));
  const Lines l = lines_of(x, dim);
  EMBER_CHECK(x.numel() < std::numeric_limits<int>::max(),
              "sort: CUDA sorts take fewer than 2^31 elements (CUB's segmented sort), got {}", x.describe());
  const size_t bytes = sort_workspace_bytes(scalar_type(x.dtype()), l.outer, l.length, l.inner);
  const Tensor workspace =
      make_tensor({static_cast<int64_t>(bytes)}, DType::u8, x.device());  // freed after the queued work: same stream
  sort_lines(values.raw_data(), indices.data_ptr<int64_t>(), x.raw_data(), scalar_type(x.dtype()), l.outer, l.length,
             l.inner, k, descending, workspace.raw_data(), bytes, stream_of(x));
}

void scan(const Tensor& out, const Tensor& x, int64_t dim, ScanOp op, bool reverse) {
  DeviceGuard guard(common_cuda_device(op == ScanOp::sum ? "cumsum" : "cumprod", {&out, &x}));
  const Lines l = lines_of(x, dim);
  scan_lines(out.raw_data(), x.raw_data(), scalar_type(x.dtype()), l.outer, l.length, l.inner, op == ScanOp::prod,
             reverse, stream_of(x));
}

}  // namespace ember::cuda
