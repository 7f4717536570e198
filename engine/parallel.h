// Thread-level parallelism over an index range (OpenMP). Grain sizes keep small ops serial:
// spawning threads for 1000 elements costs more than it saves.
#pragma once
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ember {

inline constexpr int64_t kParallelGrain = 32768;  // elements per thread, roughly

int num_threads();
void set_num_threads(int n);

// Calls body(begin, end) on disjoint chunks of [0, n), in parallel when n >= grain.
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& body) {
  if (n <= 0) return;
#ifdef _OPENMP
  if (n >= grain * 2 && !omp_in_parallel() && omp_get_max_threads() > 1) {
#pragma omp parallel
    {
      const int64_t threads = omp_get_num_threads();
      const int64_t id = omp_get_thread_num();
      const int64_t chunk = (n + threads - 1) / threads;
      const int64_t begin = id * chunk;
      const int64_t end = begin + chunk < n ? begin + chunk : n;
      if (begin < end) body(begin, end);
    }
    return;
  }
#endif
  body(int64_t{0}, n);
}

}  // namespace ember
