// CPU reduction kernels: the layout planner and one reducer per kind of reduction.
// Twin: ops/reduce.cpp (API, checks, backward). Framework: Note [Reduction layout] in ops/cpu/reduce.h.
#include "ops/cpu/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "autograd/grad_mode.h"
#include "engine/dispatch.h"

namespace ember::cpu {

namespace {

// Drops size-1 dims and merges a dim into the next one when together they walk memory like one
// longer dim. A group with no dims left becomes one size-1 dim of stride 1.
void coalesce_group(Shape& sizes, Shape& strides) {
  Shape s, st;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 0) {
      sizes = {0};
      strides = {1};
      return;
    }
    if (sizes[i] == 1) continue;
    if (!s.empty() && st.back() == strides[i] * sizes[i]) {
      s.back() *= sizes[i];
      st.back() = strides[i];
    } else {
      s.push_back(sizes[i]);
      st.push_back(strides[i]);
    }
  }
  if (s.empty()) {
    s = {1};
    st = {1};
  }
  sizes = std::move(s);
  strides = std::move(st);
}

// Columns walk only pays off when each reduced row updates several outputs at once.
constexpr int64_t kMinColumnsWidth = 4;

}  // namespace

ReductionPlan plan_reduction(const Tensor& x_in, const std::vector<int64_t>& dims, bool keepdim) {
  ReductionPlan plan;
  const Tensor x = x_in.detach();
  std::vector<bool> reduced(x.dim(), false);
  for (int64_t d : dims) reduced[d] = true;
  std::vector<int64_t> kept_dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduced[d]) {
      plan.R *= x.size(d);
      if (keepdim) plan.out_sizes.push_back(1);
      plan.reduced_sizes.push_back(x.size(d));
      plan.reduced_strides.push_back(x.stride(d));
    } else {
      kept_dims.push_back(d);
      plan.K *= x.size(d);
      plan.out_sizes.push_back(x.size(d));
      plan.kept_sizes.push_back(x.size(d));
      plan.kept_strides.push_back(x.stride(d));
    }
  }
  coalesce_group(plan.kept_sizes, plan.kept_strides);
  coalesce_group(plan.reduced_sizes, plan.reduced_strides);
  plan.input = x;
  const bool few_dims = static_cast<int64_t>(plan.kept_sizes.size()) <= kMaxReductionDims &&
                        static_cast<int64_t>(plan.reduced_sizes.size()) <= kMaxReductionDims;
  if (few_dims && (plan.reduced_strides.back() == 1 || plan.R <= 1)) {
    plan.layout = ReductionPlan::Layout::rows;
    return plan;
  }
  if (few_dims && plan.kept_strides.back() == 1 && plan.kept_sizes.back() >= kMinColumnsWidth) {
    plan.layout = ReductionPlan::Layout::columns;
    return plan;
  }
  // Neither walk fits the strides: one contiguous (kept..., reduced...) copy, walked as rows.
  std::vector<int64_t> perm = kept_dims;
  for (int64_t d : dims) perm.push_back(d);
  NoGradGuard no_grad;
  plan.input = x.permute(perm).contiguous();
  plan.layout = ReductionPlan::Layout::rows;
  plan.kept_sizes = {plan.K};
  plan.kept_strides = {plan.R};
  plan.reduced_sizes = {plan.R};
  plan.reduced_strides = {1};
  return plan;
}

namespace {

// Floats accumulate in double (sum of 1e6 float32 ones is exact); integers and bool in int64.
template <class T>
using AccumulateType = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
template <class T>
using WideType = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;  // sum/prod output

template <class T>
constexpr bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  return false;
}

// The reducer behind every "combine mapped values, then finish" reduction: sum, prod, amax,
// norms, any/all, count_nonzero.
template <class T, class AccT, class Out, class Map, class Combine, class Finish>
struct MapReducer {
  using Acc = AccT;
  Acc init;
  Map map;
  Combine combine;
  Finish finish;
  Out* out;
  Acc identity() const { return init; }
  void step(Acc& a, T v, int64_t) const { a = combine(a, map(v)); }
  void merge(Acc& a, const Acc& b) const { a = combine(a, b); }
  void write(int64_t k, const Acc& a) const { out[k] = static_cast<Out>(finish(a)); }
};

template <class T, class Out, class Acc, class Map, class Combine, class Finish = std::identity>
void map_reduce(const ReductionPlan& plan, const Tensor& out, Acc init, Map map, Combine combine,
                Finish finish = {}) {
  reduce<T>(plan, MapReducer<T, Acc, Out, Map, Combine, Finish>{init, map, combine, finish, out.data_ptr<Out>()});
}

// NaN-propagating max / min (PyTorch's max and amax return NaN when a slice holds one).
template <bool IsMax>
struct Extreme {
  // Branch-free (a select the compiler vectorises): a NaN in `a` stays because no comparison
  // with it is true; a NaN in `b` is taken.
  template <class A>
  A operator()(A a, A b) const {
    const bool b_wins = IsMax ? b > a : b < a;
    const bool b_nan = is_nan(b);
    return (b_wins | b_nan) ? b : a;
  }
};

// Value and index of the first extreme element (NaN counts as the extreme, the first one wins).
template <class T, bool IsMax>
struct ExtremeWithIndexReducer {
  struct Acc {
    T value;
    int64_t index;
  };
  T* values;  // may be null (argmax)
  int64_t* indices;
  static bool beats(T v, T current) {
    if (is_nan(current)) return false;
    if (is_nan(v)) return true;
    return IsMax ? v > current : v < current;
  }
  Acc identity() const { return {T{}, -1}; }
  void step(Acc& a, T v, int64_t i) const {
    if (a.index < 0 || beats(v, a.value)) a = {v, i};
  }
  void merge(Acc& a, const Acc& b) const {
    if (b.index < 0) return;
    if (a.index < 0 || beats(b.value, a.value) || (!beats(a.value, b.value) && b.index < a.index)) a = b;
  }
  void write(int64_t k, const Acc& a) const {
    if (values) values[k] = a.value;
    indices[k] = a.index;
  }
};

// Welford's running mean and sum of squared deviations, merged with Chan's formula: one pass,
// no cancellation from E[x^2] - E[x]^2.
template <class T>
struct WelfordReducer {
  struct Acc {
    double n, mean, m2;
  };
  T* var;
  T* mean;  // may be null
  double correction;
  Acc identity() const { return {0, 0, 0}; }
  void step(Acc& a, T v, int64_t) const {
    a.n += 1;
    const double delta = static_cast<double>(v) - a.mean;
    a.mean += delta / a.n;
    a.m2 += delta * (static_cast<double>(v) - a.mean);
  }
  void merge(Acc& a, const Acc& b) const {
    if (b.n == 0) return;
    if (a.n == 0) {
      a = b;
      return;
    }
    const double n = a.n + b.n;
    const double delta = b.mean - a.mean;
    a.mean += delta * b.n / n;
    a.m2 += b.m2 + delta * delta * a.n * b.n / n;
    a.n = n;
  }
  void write(int64_t k, const Acc& a) const {
    // PyTorch semantics: N - correction <= 0 divides by zero (inf, or NaN when m2 == 0).
    var[k] = static_cast<T>(a.m2 / std::max(0.0, a.n - correction));
    if (mean) mean[k] = static_cast<T>(a.n > 0 ? a.mean : std::numeric_limits<double>::quiet_NaN());
  }
};

// Online log-sum-exp: a running maximum m and sum s of exp(x - m), rescaled when m grows.
template <class T>
struct LogSumExpReducer {
  struct Acc {
    double max, sum;
  };
  T* out;
  // s * exp(m - new_max); exact when m == new_max (also for infinite maxima). exp runs in the
  // input's precision (float exp is several times cheaper); the sum still accumulates in double.
  static double rescaled(double s, double m, double new_max) {
    return m == new_max ? s : s * static_cast<double>(std::exp(static_cast<T>(m - new_max)));
  }
  Acc identity() const { return {-std::numeric_limits<double>::infinity(), 0}; }
  void step(Acc& a, T value, int64_t) const {
    const double v = static_cast<double>(value);
    if (v == -std::numeric_limits<double>::infinity()) return;  // contributes exp(-inf) = 0
    if (v > a.max) {
      a.sum = rescaled(a.sum, a.max, v) + 1;
      a.max = v;
    } else {
      a.sum += rescaled(1, v, a.max);  // NaN (v or max) propagates through exp
    }
  }
  void merge(Acc& a, const Acc& b) const {
    if (b.sum == 0) return;
    if (a.sum == 0) {
      a = b;
      return;
    }
    const double m = std::isnan(a.max) || std::isnan(b.max) ? std::numeric_limits<double>::quiet_NaN() : std::max(a.max, b.max);
    a.sum = rescaled(a.sum, a.max, m) + rescaled(b.sum, b.max, m);
    a.max = m;
  }
  void write(int64_t k, const Acc& a) const {
    out[k] = static_cast<T>(a.sum == 0 ? -std::numeric_limits<double>::infinity() : a.max + std::log(a.sum));
  }
};

}  // namespace

void sum(const ReductionPlan& plan, const Tensor& out) {
  dispatch_all(plan.input.dtype(), "sum", [&]<class T>() {
    using Acc = AccumulateType<T>;
    map_reduce<T, WideType<T>>(plan, out, Acc{0}, [](T v) { return static_cast<Acc>(v); }, std::plus<Acc>{});
  });
}

void prod(const ReductionPlan& plan, const Tensor& out) {
  dispatch_all(plan.input.dtype(), "prod", [&]<class T>() {
    using Acc = AccumulateType<T>;
    map_reduce<T, WideType<T>>(plan, out, Acc{1}, [](T v) { return static_cast<Acc>(v); }, std::multiplies<Acc>{});
  });
}

void amax(const ReductionPlan& plan, const Tensor& out, bool is_max) {
  dispatch_all(plan.input.dtype(), is_max ? "amax" : "amin", [&]<class T>() {
    auto identity = [](T v) { return v; };
    if constexpr (std::is_floating_point_v<T>) {
      constexpr T inf = std::numeric_limits<T>::infinity();
      if (is_max) map_reduce<T, T>(plan, out, -inf, identity, Extreme<true>{});
      else map_reduce<T, T>(plan, out, inf, identity, Extreme<false>{});
    } else {
      if (is_max) map_reduce<T, T>(plan, out, std::numeric_limits<T>::lowest(), identity, Extreme<true>{});
      else map_reduce<T, T>(plan, out, std::numeric_limits<T>::max(), identity, Extreme<false>{});
    }
  });
}

void max_with_indices(const ReductionPlan& plan, const Tensor& values, const Tensor& indices, bool is_max) {
  dispatch_all(plan.input.dtype(), is_max ? "max" : "min", [&]<class T>() {
    T* v = values.defined() ? values.data_ptr<T>() : nullptr;
    int64_t* i = indices.data_ptr<int64_t>();
    if (is_max) reduce<T>(plan, ExtremeWithIndexReducer<T, true>{v, i});
    else reduce<T>(plan, ExtremeWithIndexReducer<T, false>{v, i});
  });
}

void var_mean(const ReductionPlan& plan, const Tensor& var, const Tensor& mean, double correction) {
  dispatch_floating(plan.input.dtype(), "var", [&]<class T>() {
    reduce<T>(plan, WelfordReducer<T>{var.data_ptr<T>(), mean.defined() ? mean.data_ptr<T>() : nullptr, correction});
  });
}

void logsumexp(const ReductionPlan& plan, const Tensor& out) {
  dispatch_floating(plan.input.dtype(), "logsumexp", [&]<class T>() {
    reduce<T>(plan, LogSumExpReducer<T>{out.data_ptr<T>()});
  });
}

void norm(const ReductionPlan& plan, const Tensor& out, NormKind kind) {
  dispatch_floating(plan.input.dtype(), "norm", [&]<class T>() {
    auto magnitude = [](T v) { return static_cast<double>(std::fabs(v)); };
    switch (kind) {
      case NormKind::l1: map_reduce<T, T>(plan, out, 0.0, magnitude, std::plus<double>{}); break;
      case NormKind::l2:
        map_reduce<T, T>(plan, out, 0.0, [](T v) { return static_cast<double>(v) * static_cast<double>(v); },
                         std::plus<double>{}, [](double s) { return std::sqrt(s); });
        break;
      case NormKind::linf: map_reduce<T, T>(plan, out, 0.0, magnitude, Extreme<true>{}); break;
    }
  });
}

void any_all(const ReductionPlan& plan, const Tensor& out, bool is_all) {
  dispatch_all(plan.input.dtype(), is_all ? "all" : "any", [&]<class T>() {
    auto nonzero = [](T v) { return v != T{}; };
    if (is_all) map_reduce<T, bool>(plan, out, true, nonzero, std::logical_and<bool>{});
    else map_reduce<T, bool>(plan, out, false, nonzero, std::logical_or<bool>{});
  });
}

void count_nonzero(const ReductionPlan& plan, const Tensor& out) {
  dispatch_all(plan.input.dtype(), "count_nonzero", [&]<class T>() {
    map_reduce<T, int64_t>(plan, out, int64_t{0}, [](T v) { return static_cast<int64_t>(v != T{}); },
                           std::plus<int64_t>{});
  });
}

}  // namespace ember::cpu
