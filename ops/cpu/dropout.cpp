// CPU kernel for dropout: draws the mask and applies it in one pass. Twin: ops/dropout.cpp.
#include "ops/cpu/dropout.h"

#include <algorithm>

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
    // keep iff uniform_from_bits(block i) < keep_prob, tested on the integer bits; the blocks are
    // drawn a chunk at a time by the vectorised philox4x32_blocks.
    const uint64_t threshold = uniform_threshold(keep_prob);
    parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
      constexpr int64_t kChunk = 256;
      uint32_t lane0[kChunk], lane1[kChunk];
      for (int64_t chunk = begin; chunk < end; chunk += kChunk) {
        const int64_t count = std::min(kChunk, end - chunk);
        philox4x32_blocks(offset + static_cast<uint64_t>(chunk), seed, count, lane0, lane1);
        for (int64_t j = 0; j < count; ++j) {
          const int64_t i = chunk + j;
          m[i] = bits53_from_lanes(lane0[j], lane1[j]) < threshold ? kept : T(0);
          o[i] = in[i] * m[i];
        }
      }
    });
  });
}

}  // namespace ember::cpu
