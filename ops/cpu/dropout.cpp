// CPU kernel for dropout: draws the mask and applies it in one pass. Twin: ops/dropout.cpp.
#include "ops/cpu/dropout.h"

#include "engine/dispatch.h"
#include "engine/parallel.h"
#include "engine/random.h"

namespace ember::cpu {

void dropout_fwd(const Tensor& out, const Tensor& mask, const Tensor& x, double keep_prob, double scale,
                 uint64_t seed, uint64_t offset) {
  const int64_t n = x.numel();
  dispatch_floating(x.dtype(), "dropout", [&]<class T>() {
    const T* in = x.data_ptr<T>();
    T* o = out.data_ptr<T>();
    T* m = mask.data_ptr<T>();
    const T kept = static_cast<T>(scale);
    parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const auto r = philox4x32(offset + static_cast<uint64_t>(i), seed);
        m[i] = uniform_from_bits(r[0], r[1]) < keep_prob ? kept : T(0);
        o[i] = in[i] * m[i];
      }
    });
  });
}

}  // namespace ember::cpu
