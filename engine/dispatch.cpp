#include "engine/dispatch.h"

#include "engine/parallel.h"

namespace ember {

void check_cpu(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    if (t && t->defined() && !t->device().is_cpu()) {
      EMBER_FAIL("{}: no kernel for device {} yet (tensor {}); move it with .cpu() or see docs/GPU.md for the ops "
                 "that run on CUDA",
                 op, t->device().str(), t->describe());
    }
  }
}

void fail_built_without_cuda(const char* op) {
  EMBER_FAIL("{}: Ember was built without CUDA (reconfigure with -Dcuda=auto on a machine with nvcc)", op);
}

void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t || !t->defined()) continue;
    if (!first) {
      first = t;
      continue;
    }
    EMBER_CHECK(t->device() == first->device(), "{}: expected all tensors on one device, got {} and {}", op,
                first->describe(), t->describe());
  }
}

void check_defined(const char* op, const Tensor& t, const char* argument_name) {
  EMBER_CHECK(t.defined(), "{}: argument '{}' is an undefined tensor", op, argument_name);
}

int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void set_num_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n);
#else
  (void)n;
#endif
}

}  // namespace ember
