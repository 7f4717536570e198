// CPU reduction kernels. Twin: ops/reduce.cpp. Layout: Note [Reduction layout] in ops/cpu/reduce.h.
#include "ops/cpu/reduce.h"

#include "autograd/grad_mode.h"
#include "engine/dispatch.h"
#include "engine/parallel.h"

namespace ember::cpu {

ReductionRows to_rows(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  ReductionRows r;
  std::vector<int64_t> perm;
  std::vector<bool> reduced(x.dim(), false);
  for (int64_t d : dims) reduced[d] = true;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduced[d]) {
      r.R *= x.size(d);
      if (keepdim) r.out_sizes.push_back(1);
    } else {
      perm.push_back(d);
      r.K *= x.size(d);
      r.out_sizes.push_back(x.size(d));
    }
  }
  for (int64_t d : dims) perm.push_back(d);
  NoGradGuard no_grad;  // layout work, not part of any graph
  r.rows = x.detach().permute(perm).contiguous();
  return r;
}

void sum_rows(const Tensor& out, const ReductionRows& r) {
  dispatch_all(out.dtype(), "sum", [&]<class T>() {
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
    const T* in = r.rows.data_ptr<T>();
    T* o = out.data_ptr<T>();
    const int64_t R = r.R;
    parallel_for(r.K, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(R, 1)), [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const T* row = in + k * R;
        // Four independent partial sums let the compiler vectorise and keep rounding low.
        Acc s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int64_t i = 0;
        for (; i + 4 <= R; i += 4) {
          s0 += static_cast<Acc>(row[i]);
          s1 += static_cast<Acc>(row[i + 1]);
          s2 += static_cast<Acc>(row[i + 2]);
          s3 += static_cast<Acc>(row[i + 3]);
        }
        for (; i < R; ++i) s0 += static_cast<Acc>(row[i]);
        o[k] = static_cast<T>((s0 + s1) + (s2 + s3));
      }
    });
  });
}

}  // namespace ember::cpu
