// engine/autocast.h: the thread-local autocast state and the two casts.
#include "engine/autocast.h"

#include "engine/error.h"

namespace ember {

namespace {
thread_local AutocastState t_state;
}  // namespace

AutocastState autocast_state() { return t_state; }

AutocastGuard::AutocastGuard(bool enabled, DType dtype) : previous_(t_state) {
  EMBER_CHECK(dtype == DType::bf16 || dtype == DType::f16, "autocast: dtype must be bfloat16 or float16, got {}",
              dtype_name(dtype));
  t_state = {enabled, dtype};
}

AutocastGuard::~AutocastGuard() { t_state = previous_; }

bool autocast_wants_lower(std::initializer_list<const Tensor*> inputs) {
  if (!t_state.enabled) return false;
  for (const Tensor* t : inputs) {
    if (t && t->defined() && t->device().is_cuda() && t->dtype() == DType::f32) return true;
  }
  return false;
}

bool autocast_wants_fp32(std::initializer_list<const Tensor*> inputs) {
  if (!t_state.enabled) return false;
  for (const Tensor* t : inputs) {
    if (t && t->defined() && t->device().is_cuda() && (t->dtype() == DType::bf16 || t->dtype() == DType::f16)) {
      return true;
    }
  }
  return false;
}

Tensor autocast_lower(const Tensor& t) {
  if (!t_state.enabled || !t.defined() || !t.device().is_cuda() || t.dtype() != DType::f32) return t;
  return t.to(t_state.dtype);
}

Tensor autocast_fp32(const Tensor& t) {
  if (!t_state.enabled || !t.defined() || !t.device().is_cuda()) return t;
  if (t.dtype() != DType::bf16 && t.dtype() != DType::f16) return t;
  return t.to(DType::f32);
}

}  // namespace ember
