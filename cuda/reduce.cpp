// cuda/reduce.h: a cpu::ReductionPlan (Note [Reduction layout] in ops/cpu/reduce.h) unpacked
// into the raw launcher arguments of cuda/reduce.cu. The plan's coalesced kept and reduced dim
// groups become two StridedLayouts; the kernels walk them with offset_of.
#include "cuda/reduce.h"

#include "cuda/reduce_launch.h"
#include "cuda/tensor_args.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

// A coalesced dim group (never empty, at most kMaxReductionDims dims) as a StridedLayout.
StridedLayout group_layout(const Shape& sizes, const Shape& strides, int64_t numel) {
  static_assert(cpu::kMaxReductionDims <= StridedLayout::kMaxDims);
  StridedLayout layout;
  layout.ndim = static_cast<int>(sizes.size());
  layout.numel = numel;
  for (int d = 0; d < layout.ndim; ++d) {
    layout.sizes[d] = sizes[d];
    layout.strides[d] = strides[d];
  }
  layout.contiguous = false;  // offset_of walks the dims
  return layout;
}

void run(const char* op, ReduceKind kind, const ReductionPlan& plan, const Tensor& out, const Tensor& out2,
         double correction = 1) {
  EMBER_CHECK(plan.kept_sizes.size() <= static_cast<size_t>(StridedLayout::kMaxDims) &&
                  plan.reduced_sizes.size() <= static_cast<size_t>(StridedLayout::kMaxDims),
              "{}: too many dims for the CUDA reduction of {}", op, plan.input.describe());
  const int device = common_cuda_device(op, {&plan.input, &out, &out2});
  for (const Tensor* t : {&out, &out2})
    EMBER_CHECK(!t->defined() || (t->is_contiguous() && t->numel() == plan.K),
                "{}: output {} must be contiguous with {} elements", op, t->describe(), plan.K);
  DeviceGuard guard(device);
  ReduceArgs args;
  args.input = plan.input.raw_data();
  args.input_type = scalar_type(plan.input.dtype());
  args.kept = group_layout(plan.kept_sizes, plan.kept_strides, plan.K);
  args.reduced = group_layout(plan.reduced_sizes, plan.reduced_strides, plan.R);
  args.out = out.defined() ? out.raw_data() : nullptr;
  args.out2 = out2.defined() ? out2.raw_data() : nullptr;
  args.correction = correction;
  reduce(kind, args, stream_of(plan.input));
}

}  // namespace

void sum(const ReductionPlan& plan, const Tensor& out) { run("sum", ReduceKind::sum, plan, out, Tensor()); }
void prod(const ReductionPlan& plan, const Tensor& out) { run("prod", ReduceKind::prod, plan, out, Tensor()); }

void amax(const ReductionPlan& plan, const Tensor& out, bool is_max) {
  run(is_max ? "amax" : "amin", is_max ? ReduceKind::max : ReduceKind::min, plan, out, Tensor());
}

void max_with_indices(const ReductionPlan& plan, const Tensor& values, const Tensor& indices, bool is_max) {
  run(is_max ? "max" : "min", is_max ? ReduceKind::max : ReduceKind::min, plan, values, indices);
}

void var_mean(const ReductionPlan& plan, const Tensor& var, const Tensor& mean, double correction) {
  run("var", ReduceKind::var_mean, plan, var, mean, correction);
}

void logsumexp(const ReductionPlan& plan, const Tensor& out) { run("logsumexp", ReduceKind::logsumexp, plan, out, Tensor()); }

void norm(const ReductionPlan& plan, const Tensor& out, NormKind kind) {
  const ReduceKind k = kind == NormKind::l1 ? ReduceKind::norm_l1 : kind == NormKind::l2 ? ReduceKind::norm_l2 : ReduceKind::norm_linf;
  run("norm", k, plan, out, Tensor());
}

void any_all(const ReductionPlan& plan, const Tensor& out, bool is_all) {
  run(is_all ? "all" : "any", is_all ? ReduceKind::all : ReduceKind::any, plan, out, Tensor());
}

void count_nonzero(const ReductionPlan& plan, const Tensor& out) {
  run("count_nonzero", ReduceKind::count_nonzero, plan, out, Tensor());
}

}  // namespace ember::cuda
