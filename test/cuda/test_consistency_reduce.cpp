// Backend consistency for the reduction-shaped families: reductions (ops/reduce.cpp), softmax,
// losses, norms, embedding and dropout, CUDA (cuda/{reduce,softmax,loss,norm,embedding,dropout}.cu)
// against the CPU, forward and input gradients (test/cuda/consistency.h). Shapes are chosen to hit
// every kernel path: rows of 1, 31, 33 (the thread-per-output and warp-per-row kernels), 1000 and
// 5000 (block per output / per row), reduced dims first, middle, last, several and all, keepdim,
// transposed and sliced inputs, empty tensors; float32 and float64. Dropout must draw the very same
// mask as the CPU for a seed (the Philox counter layout is ported bit for bit).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ember.h"
#include "helpers.h"
#include "test/cuda/consistency.h"
#include "test/cuda/device_test.h"

using namespace ember;
using ember::test::check_cuda_matches_cpu;
using ember::test::ConsistencyOptions;
using ember::test::values;

namespace {

const DType kFloatTypes[] = {DType::f32, DType::f64};

Tensor normal_input(const Shape& shape, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen, dtype);
}

// A reduction problem: an input shape, the dims reduced, keepdim, and how the input is viewed.
struct ReduceCase {
  Shape shape;
  std::vector<int64_t> dims;  // empty: all dims
  bool keepdim = false;
  bool transposed = false;  // reduce x.transpose(0, -1) (made from a tensor of the swapped shape)
};

std::string describe(const ReduceCase& c) {
  std::string s = shape_str(c.shape) + " dims [";
  for (int64_t d : c.dims) s += std::to_string(d) + " ";
  return s + "]" + (c.keepdim ? " keepdim" : "") + (c.transposed ? " transposed" : "");
}

const std::vector<ReduceCase>& reduce_cases() {
  static const std::vector<ReduceCase> cases = {
      {{4, 1}, {1}},                  // rows of 1
      {{5, 31}, {1}},                 // thread per output, unit stride
      {{3, 33}, {-1}, true},          // keepdim
      {{6, 1000}, {1}},               // block per output
      {{2, 5000}, {1}, true},         // block per output, several strides per thread
      {{1000, 7}, {0}},               // first dim: strided columns, few outputs (block walk)
      {{130, 4200}, {0}},             // first dim, > 4096 outputs: thread walk although R >= 128
      {{37, 5, 33}, {1}},             // middle dim
      {{33, 9, 40}, {0, 2}, true},    // several dims
      {{7, 33, 5}, {}},               // all dims
      {{31, 33}, {1}, false, true},   // transposed input, reduced along its strided dim
      {{33, 1000}, {0}, false, true}, // transposed input, reduced along its unit-stride dim
  };
  return cases;
}

Tensor reduce_input(const ReduceCase& c, DType dtype, uint64_t seed) {
  if (!c.transposed) return normal_input(c.shape, dtype, seed);
  Shape swapped = c.shape;
  std::swap(swapped.front(), swapped.back());
  return normal_input(swapped, dtype, seed).transpose(0, -1);
}

}  // namespace

// ---------------------------------------------------------------- reductions
DEVICE_TEST_CASE("cuda reduce: sum, mean, var, std, var_mean, logsumexp, norms match the CPU") {
  for (const DType dtype : kFloatTypes) {
    for (const ReduceCase& c : reduce_cases()) {
      INFO(dtype_name(dtype) << " " << describe(c));
      const Tensor x = reduce_input(c, dtype, 11);
      const auto dims = c.dims;
      const bool keep = c.keepdim;
      check_cuda_matches_cpu("sum", {x}, [=](const TensorList& in) { return TensorList{sum(in[0], dims, keep)}; });
      check_cuda_matches_cpu("mean", {x}, [=](const TensorList& in) { return TensorList{mean(in[0], dims, keep)}; });
      check_cuda_matches_cpu("var", {x}, [=](const TensorList& in) { return TensorList{var(in[0], dims, 1.0, keep)}; });
      check_cuda_matches_cpu("std", {x}, [=](const TensorList& in) { return TensorList{ember::std(in[0], dims, 0.0, keep)}; });
      check_cuda_matches_cpu("var_mean", {x}, [=](const TensorList& in) {
        auto [v, m] = var_mean(in[0], dims, 1.0, keep);
        return TensorList{v, m};
      });
      check_cuda_matches_cpu("logsumexp", {x},
                             [=](const TensorList& in) { return TensorList{logsumexp(in[0], dims, keep)}; });
      for (const double p : {1.0, 2.0, std::numeric_limits<double>::infinity()}) {
        INFO("p = " << p);
        check_cuda_matches_cpu("norm", {x}, [=](const TensorList& in) { return TensorList{norm(in[0], p, dims, keep)}; });
      }
    }
  }
}

DEVICE_TEST_CASE("cuda reduce: prod, amax, amin, max/min with indices, argmax/argmin match the CPU") {
  for (const DType dtype : kFloatTypes) {
    for (const ReduceCase& c : reduce_cases()) {
      INFO(dtype_name(dtype) << " " << describe(c));
      // prod of values near 1 (no overflow over 5000 elements), a few exact zeros for the backward.
      Tensor near_one = add(mul(reduce_input(c, dtype, 12), 0.01), 1.0);
      const Tensor x = reduce_input(c, dtype, 13);
      const auto dims = c.dims;
      const bool keep = c.keepdim;
      check_cuda_matches_cpu("prod", {near_one}, [=](const TensorList& in) { return TensorList{prod(in[0], dims, keep)}; });
      check_cuda_matches_cpu("amax", {x}, [=](const TensorList& in) { return TensorList{amax(in[0], dims, keep)}; });
      check_cuda_matches_cpu("amin", {x}, [=](const TensorList& in) { return TensorList{amin(in[0], dims, keep)}; });
      if (dims.size() == 1) {
        const int64_t dim = dims[0];
        check_cuda_matches_cpu("max(dim)", {x}, [=](const TensorList& in) {
          ValuesIndices r = max(in[0], dim, keep);
          return TensorList{r.values, r.indices};
        });
        check_cuda_matches_cpu("min(dim)", {x}, [=](const TensorList& in) {
          ValuesIndices r = min(in[0], dim, keep);
          return TensorList{r.values, r.indices};
        });
        ConsistencyOptions no_grad;
        no_grad.check_gradients = false;
        check_cuda_matches_cpu("argmax(dim)", {x}, [=](const TensorList& in) { return TensorList{argmax(in[0], dim, keep)}; },
                               no_grad);
        check_cuda_matches_cpu("argmin(dim)", {x}, [=](const TensorList& in) { return TensorList{argmin(in[0], dim, keep)}; },
                               no_grad);
      }
    }
    ConsistencyOptions no_grad;
    no_grad.check_gradients = false;
    const Tensor x = normal_input({33, 1000}, dtype, 14);
    check_cuda_matches_cpu("argmax()", {x}, [](const TensorList& in) { return TensorList{argmax(in[0])}; }, no_grad);
    check_cuda_matches_cpu("max()", {x}, [](const TensorList& in) { return TensorList{max(in[0]), min(in[0])}; });
  }
}

DEVICE_TEST_CASE("cuda reduce: ties, NaN and zeros follow the CPU's rules") {
  // Ties: the first index wins; a NaN is the extreme and the first NaN wins; prod with zeros.
  Tensor ties = zeros({4, 300});
  ties.select(0, 1).fill_(2.0);
  ties.select(1, 7).fill_(5.0);
  ties.select(1, 250).fill_(5.0);
  Tensor with_nan = normal_input({3, 2000}, DType::f32, 15);
  with_nan.select(1, 1500).fill_(NAN);
  with_nan.select(1, 1700).fill_(NAN);
  ConsistencyOptions no_grad;
  no_grad.check_gradients = false;
  for (const Tensor& x : {ties, with_nan}) {
    for (int64_t dim : {0, 1}) {
      check_cuda_matches_cpu("max ties", {x}, [=](const TensorList& in) {
        ValuesIndices a = max(in[0], dim), b = min(in[0], dim);
        return TensorList{a.values, a.indices, b.values, b.indices, amax(in[0], {dim}), argmin(in[0], dim)};
      }, no_grad);
    }
  }
  Tensor zeros_inside = add(mul(normal_input({5, 200}, DType::f64, 16), 0.1), 1.0);
  zeros_inside.select(1, 3).fill_(0.0);
  zeros_inside.select(0, 2).select(0, 150).fill_(0.0);  // row 2 has two zeros
  check_cuda_matches_cpu("prod with zeros", {zeros_inside},
                         [](const TensorList& in) { return TensorList{prod(in[0], {1}), prod(in[0], {0})}; });
}

DEVICE_TEST_CASE("cuda reduce: integer and bool reductions, any/all/count_nonzero") {
  ConsistencyOptions no_grad;
  no_grad.check_gradients = false;
  Generator gen(17);
  const Tensor ints = randint(-3, 4, {33, 1000}, gen);
  const Tensor small = randint(0, 3, {31, 7}, gen, TensorOptions(DType::i32));
  const Tensor flags = gt(normal_input({1000, 33}, DType::f32, 18), 1.0);
  for (const Tensor& x : {ints, small, flags}) {
    INFO(x.describe());
    for (const std::vector<int64_t>& dims : {std::vector<int64_t>{0}, std::vector<int64_t>{1}, std::vector<int64_t>{}}) {
      check_cuda_matches_cpu("integer reductions", {x}, [=](const TensorList& in) {
        return TensorList{sum(in[0], dims), any(in[0], dims), all(in[0], dims), count_nonzero(in[0], dims)};
      }, no_grad);
    }
    check_cuda_matches_cpu("integer max", {x}, [](const TensorList& in) {
      ValuesIndices r = max(in[0], 1);
      return TensorList{r.values, r.indices, amin(in[0], {0}), argmax(in[0])};
    }, no_grad);
  }
  const Tensor small_ints = randint(1, 3, {4, 20}, gen);
  check_cuda_matches_cpu("integer prod", {small_ints}, [](const TensorList& in) { return TensorList{prod(in[0], {1})}; },
                         no_grad);
}

DEVICE_TEST_CASE("cuda reduce: empty tensors") {
  const Tensor rows_empty = zeros({0, 5});
  const Tensor reduce_empty = zeros({4, 0});
  check_cuda_matches_cpu("sum of empty", {rows_empty, reduce_empty}, [](const TensorList& in) {
    return TensorList{sum(in[0], {1}), sum(in[1], {1}), prod(in[1], {1}), logsumexp(in[1], {1}), norm(in[1], 2.0, {1}),
                      sum(in[0])};
  });
  ConsistencyOptions no_grad;
  no_grad.check_gradients = false;
  check_cuda_matches_cpu("var of empty", {reduce_empty}, [](const TensorList& in) {
    auto [v, m] = var_mean(in[0], {1});
    return TensorList{v, m, any(in[0], {1}), all(in[0], {1}), count_nonzero(in[0], {1})};
  }, no_grad);
  // No identity: the same error on both devices.
  CHECK_THROWS_WITH(amax(reduce_empty.cuda(), {1}), Catch::Contains("empty dimension"));
  CHECK_THROWS_WITH(argmax(reduce_empty.cuda(), 1), Catch::Contains("empty dimension"));
}

// ---------------------------------------------------------------- softmax
DEVICE_TEST_CASE("cuda softmax: softmax and log_softmax over any dim, forward and backward") {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  const Case cases[] = {{{4, 1}, 1},     {{5, 31}, 1},    {{3, 33}, -1},  {{6, 1000}, 1}, {{2, 5000}, 1},
                        {{7, 33, 5}, 1}, {{33, 4, 3}, 0}, {{1000}, 0},    {{2, 3, 1030}, 2}};
  for (const DType dtype : kFloatTypes) {
    for (const Case& c : cases) {
      INFO(dtype_name(dtype) << " " << shape_str(c.shape) << " dim " << c.dim);
      const Tensor x = mul(normal_input(c.shape, dtype, 21), 3.0);
      const int64_t dim = c.dim;
      check_cuda_matches_cpu("softmax", {x}, [=](const TensorList& in) {
        return TensorList{softmax(in[0], dim), log_softmax(in[0], dim)};
      });
    }
    // Non-contiguous inputs, a 0-d input, an empty one, large logits (stability).
    const Tensor wide = normal_input({40, 33}, dtype, 22);
    check_cuda_matches_cpu("softmax of a transpose", {wide}, [](const TensorList& in) {
      return TensorList{softmax(in[0].t(), 1), log_softmax(in[0].slice(1, 1, 33, 2), 1)};
    });
    check_cuda_matches_cpu("softmax 0-d", {scalar_tensor(3.0, dtype)}, [](const TensorList& in) {
      return TensorList{softmax(in[0], 0), log_softmax(in[0], -1)};
    });
    check_cuda_matches_cpu("softmax empty", {zeros({0, 7}, dtype)}, [](const TensorList& in) {
      return TensorList{softmax(in[0], 1), log_softmax(in[0], 0)};
    });
    check_cuda_matches_cpu("softmax large", {mul(normal_input({3, 2000}, dtype, 23), 1000.0)}, [](const TensorList& in) {
      return TensorList{softmax(in[0], 1), log_softmax(in[0], 1)};
    });
  }
}

// ---------------------------------------------------------------- losses
namespace {

// Class targets in [0, C) with every fourth set to ignore_index when `ignore` is given.
Tensor class_targets(const Shape& shape, int64_t C, uint64_t seed, std::optional<int64_t> ignore = std::nullopt) {
  Generator gen(seed);
  Tensor t = randint(0, C, shape, gen);
  if (ignore) {
    Tensor flat = t.reshape({-1});
    for (int64_t i = 0; i < flat.numel(); i += 4) flat.select(0, i).fill_(static_cast<double>(*ignore));
  }
  return t;
}

}  // namespace

DEVICE_TEST_CASE("cuda losses: cross_entropy with class targets (fused and general paths)") {
  for (const DType dtype : kFloatTypes) {
    for (const int64_t C : {1, 31, 33, 1000, 5000}) {
      INFO(dtype_name(dtype) << " C = " << C);
      const int64_t N = C >= 1000 ? 5 : 37;
      const Tensor logits = mul(normal_input({N, C}, dtype, 31), 2.0);
      const Tensor target = class_targets({N}, C, 32, -100);
      const Tensor weight = add(rand({C}, DType::f64).to(dtype), 0.5);
      for (const std::string reduction : {"mean", "sum", "none"}) {
        INFO("reduction " << reduction);
        check_cuda_matches_cpu("cross_entropy", {logits, target, weight}, [=](const TensorList& in) {
          return TensorList{cross_entropy(in[0], in[1], Tensor(), -100, reduction),
                            cross_entropy(in[0], in[1], in[2], -100, reduction)};
        });
        check_cuda_matches_cpu("cross_entropy smoothing", {logits, target, weight}, [=](const TensorList& in) {
          return TensorList{cross_entropy(in[0], in[1], in[2], -100, reduction, 0.1)};
        });
      }
    }
    // (N, C, H, W) logits (nll over spatial positions), ignore_index inside the class range.
    const Tensor logits = normal_input({3, 5, 4, 7}, dtype, 33);
    const Tensor target = class_targets({3, 4, 7}, 5, 34, 2);
    check_cuda_matches_cpu("cross_entropy spatial", {logits, target}, [](const TensorList& in) {
      return TensorList{cross_entropy(in[0], in[1], Tensor(), 2, "mean"),
                        cross_entropy(in[0], in[1], Tensor(), 2, "none", 0.2)};
    });
    // A (C) input with a 0-d target; non-contiguous logits; soft (probability) targets.
    check_cuda_matches_cpu("cross_entropy 1-d", {normal_input({33}, dtype, 35), class_targets({}, 33, 36)},
                           [](const TensorList& in) { return TensorList{cross_entropy(in[0], in[1])}; });
    check_cuda_matches_cpu("cross_entropy transposed", {normal_input({40, 9}, dtype, 37), class_targets({9}, 40, 38)},
                           [](const TensorList& in) { return TensorList{cross_entropy(in[0].t(), in[1])}; });
    const Tensor soft = softmax(normal_input({9, 33}, dtype, 39), 1);
    check_cuda_matches_cpu("cross_entropy soft targets", {normal_input({9, 33}, dtype, 40), soft},
                           [](const TensorList& in) {
                             return TensorList{cross_entropy(in[0], in[1]), cross_entropy(in[0], in[1], Tensor(), -100, "sum", 0.1)};
                           });
  }
}

DEVICE_TEST_CASE("cuda losses: nll_loss, weights, ignore_index and reductions") {
  for (const DType dtype : kFloatTypes) {
    const Tensor log_probs = log_softmax(normal_input({37, 33}, dtype, 41), 1);
    const Tensor target = class_targets({37}, 33, 42, 5);
    const Tensor weight = add(rand({33}, DType::f64).to(dtype), 0.5);
    for (const std::string reduction : {"mean", "sum", "none"}) {
      check_cuda_matches_cpu("nll_loss", {log_probs, target, weight}, [=](const TensorList& in) {
        return TensorList{nll_loss(in[0], in[1], in[2], 5, reduction), nll_loss(in[0], in[1], Tensor(), 5, reduction)};
      });
    }
    const Tensor spatial = log_softmax(normal_input({2, 6, 31}, dtype, 43), 1);
    check_cuda_matches_cpu("nll_loss spatial", {spatial, class_targets({2, 31}, 6, 44)},
                           [](const TensorList& in) { return TensorList{nll_loss(in[0], in[1])}; });
  }
  // A target out of range is an error, found on the host copy of the CUDA targets.
  const Tensor bad = from_vector<int64_t>({0, 7}, {2});
  CHECK_THROWS_WITH(nll_loss(zeros({2, 5}).cuda(), bad.cuda()), Catch::Contains("out of bounds"));
}

DEVICE_TEST_CASE("cuda losses: elementwise losses and binary cross-entropy") {
  for (const DType dtype : kFloatTypes) {
    for (const Shape& shape : {Shape{31}, Shape{33, 1000}, Shape{0, 3}}) {
      INFO(dtype_name(dtype) << " " << shape_str(shape));
      const Tensor x = normal_input(shape, dtype, 51);
      const Tensor t = normal_input(shape, dtype, 52);
      for (const std::string reduction : {"mean", "sum", "none"}) {
        if (shape[0] == 0 && reduction == "mean") continue;  // mean of nothing is NaN on both
        check_cuda_matches_cpu("regression losses", {x, t}, [=](const TensorList& in) {
          return TensorList{mse_loss(in[0], in[1], reduction), l1_loss(in[0], in[1], reduction),
                            smooth_l1_loss(in[0], in[1], reduction, 0.5), huber_loss(in[0], in[1], reduction, 0.7)};
        });
      }
      Generator gen(53);
      const Tensor probs = uniform(0.02, 0.98, shape, gen, dtype);
      const Tensor labels = uniform(0.0, 1.0, shape, gen, dtype);
      const Tensor pos_weight = add(rand({shape.back()}, DType::f64).to(dtype), 0.5);
      check_cuda_matches_cpu("bce", {probs, labels}, [](const TensorList& in) {
        return TensorList{binary_cross_entropy(in[0], in[1], Tensor(), "sum"), binary_cross_entropy(in[0], in[1], Tensor(), "none")};
      });
      check_cuda_matches_cpu("bce with logits", {mul(x, 4.0), labels, pos_weight}, [](const TensorList& in) {
        return TensorList{binary_cross_entropy_with_logits(in[0], in[1], Tensor(), Tensor(), "sum"),
                          binary_cross_entropy_with_logits(in[0], in[1], Tensor(), in[2], "none")};
      });
      const Tensor log_input = log_softmax(x.reshape({-1}), 0).reshape(shape);
      check_cuda_matches_cpu("kl_div", {log_input, labels, t}, [](const TensorList& in) {
        return TensorList{kl_div(in[0], in[1], "sum", false), kl_div(in[0], in[2], "none", true)};
      });
    }
    // Non-contiguous operands.
    const Tensor a = normal_input({33, 40}, dtype, 54), b = normal_input({40, 33}, dtype, 55);
    check_cuda_matches_cpu("loss transposed", {a, b}, [](const TensorList& in) {
      return TensorList{mse_loss(in[0], in[1].t(), "none"), binary_cross_entropy_with_logits(in[0].t(), sigmoid(in[1]))};
    });
  }
  // probabilities outside [0, 1] are an error found on the device.
  CHECK_THROWS_WITH(binary_cross_entropy(full({3}, 1.5).cuda(), zeros({3}).cuda()), Catch::Contains("between 0 and 1"));
}

// ---------------------------------------------------------------- norms
DEVICE_TEST_CASE("cuda norms: layer_norm and rms_norm over rows of every length") {
  for (const DType dtype : kFloatTypes) {
    for (const int64_t D : {1, 31, 33, 1000, 5000}) {
      INFO(dtype_name(dtype) << " D = " << D);
      const Tensor x = add(mul(normal_input({7, D}, dtype, 61), 2.0), 3.0);
      const Tensor w = normal_input({D}, dtype, 62), b = normal_input({D}, dtype, 63);
      check_cuda_matches_cpu("layer_norm", {x, w, b}, [=](const TensorList& in) {
        return TensorList{layer_norm(in[0], {D}, in[1], in[2]), layer_norm(in[0], {D})};
      });
      check_cuda_matches_cpu("rms_norm", {x, w}, [=](const TensorList& in) {
        return TensorList{rms_norm(in[0], {D}, in[1], 1e-5), rms_norm(in[0], {D})};
      });
    }
    // Several normalized dims; a transposed input; the broadcast gradient of mean(); no rows.
    const Tensor x = normal_input({3, 5, 4, 6}, dtype, 64);
    const Tensor w = normal_input({4, 6}, dtype, 65), b = normal_input({4, 6}, dtype, 66);
    check_cuda_matches_cpu("layer_norm 2 dims", {x, w, b}, [](const TensorList& in) {
      return TensorList{layer_norm(in[0], {4, 6}, in[1], in[2])};
    });
    check_cuda_matches_cpu("layer_norm transposed", {normal_input({40, 9}, dtype, 67)}, [](const TensorList& in) {
      return TensorList{layer_norm(in[0].t(), {40})};
    });
    check_cuda_matches_cpu("layer_norm broadcast grad", {normal_input({9, 1000}, dtype, 68), normal_input({1000}, dtype, 70)},
                           [](const TensorList& in) {
                             return TensorList{mean(layer_norm(in[0], {1000}, in[1])), sum(rms_norm(in[0], {1000}))};
                           });
    check_cuda_matches_cpu("layer_norm no rows", {zeros({0, 33}, dtype), normal_input({33}, dtype, 69)},
                           [](const TensorList& in) { return TensorList{layer_norm(in[0], {33}, in[1])}; });
  }
}

DEVICE_TEST_CASE("cuda norms: group_norm") {
  for (const DType dtype : kFloatTypes) {
    const Tensor x = normal_input({3, 6, 5, 7}, dtype, 71);
    const Tensor w = normal_input({6}, dtype, 72), b = normal_input({6}, dtype, 73);
    for (const int64_t groups : {1, 3, 6}) {
      INFO(dtype_name(dtype) << " groups " << groups);
      check_cuda_matches_cpu("group_norm", {x, w, b}, [=](const TensorList& in) {
        return TensorList{group_norm(in[0], groups, in[1], in[2]), group_norm(in[0], groups)};
      });
    }
    check_cuda_matches_cpu("group_norm long rows", {normal_input({2, 4, 40, 50}, dtype, 74), w.narrow(0, 0, 4)},
                           [](const TensorList& in) { return TensorList{group_norm(in[0], 2, in[1])}; });
    check_cuda_matches_cpu("group_norm 2-d, broadcast grad", {normal_input({5, 33}, dtype, 75)},
                           [](const TensorList& in) { return TensorList{sum(group_norm(in[0], 3))}; });
  }
}

DEVICE_TEST_CASE("cuda norms: batch_norm in training and evaluation, running statistics") {
  for (const DType dtype : kFloatTypes) {
    for (const Shape& shape : {Shape{8, 5, 4, 3}, Shape{33, 7}, Shape{2, 3, 1000}, Shape{1000, 31}}) {
      INFO(dtype_name(dtype) << " " << shape_str(shape));
      const int64_t C = shape[1];
      const Tensor x = add(mul(normal_input(shape, dtype, 81), 2.0), 1.0);
      const Tensor w = normal_input({C}, dtype, 82), b = normal_input({C}, dtype, 83);
      check_cuda_matches_cpu("batch_norm train", {x, w, b}, [=](const TensorList& in) {
        return TensorList{batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true, 0.1, 1e-5),
                          batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5)};
      });
      const Tensor rm = normal_input({C}, dtype, 84), rv = add(rand({C}, DType::f64).to(dtype), 0.5);
      check_cuda_matches_cpu("batch_norm eval", {x, w, b, rm, rv}, [=](const TensorList& in) {
        return TensorList{batch_norm(in[0], in[3].detach(), in[4].detach(), in[1], in[2], false, 0.1, 1e-5)};
      });
      // The running statistics are updated alike (momentum, unbiased variance).
      Tensor host_mean = rm.clone(), host_var = rv.clone();
      Tensor device_mean = rm.cuda(), device_var = rv.cuda();
      batch_norm(x, host_mean, host_var, w, b, true, 0.3, 1e-5);
      batch_norm(x.cuda(), device_mean, device_var, w.cuda(), b.cuda(), true, 0.3, 1e-5);
      const auto tol = ember::test::tolerance_for(dtype);
      CHECK(ember::test::all_close(values(device_mean.cpu()), values(host_mean), tol.rtol, tol.atol));
      CHECK(ember::test::all_close(values(device_var.cpu()), values(host_var), tol.rtol, tol.atol));
    }
    check_cuda_matches_cpu("batch_norm transposed, broadcast grad", {normal_input({6, 40}, dtype, 85)},
                           [](const TensorList& in) {
                             return TensorList{sum(batch_norm(in[0].t(), Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5))};
                           });
  }
}

// ---------------------------------------------------------------- embedding
DEVICE_TEST_CASE("cuda embedding: gather forward, deterministic scatter-add backward") {
  for (const DType dtype : kFloatTypes) {
    for (const int64_t D : {1, 33, 1000}) {
      INFO(dtype_name(dtype) << " D = " << D);
      const Tensor weight = normal_input({50, D}, dtype, 91);
      const Tensor indices = class_targets({10, 20}, 50, 92);  // 200 lookups: many repeats
      check_cuda_matches_cpu("embedding", {weight, indices}, [](const TensorList& in) {
        return TensorList{embedding(in[1], in[0]), embedding(in[1], in[0], 3)};
      });
    }
    const Tensor weight_t = normal_input({33, 50}, dtype, 93);
    check_cuda_matches_cpu("embedding transposed weight", {weight_t, class_targets({70}, 50, 94)},
                           [](const TensorList& in) { return TensorList{embedding(in[1], in[0].t())}; });
    check_cuda_matches_cpu("embedding no indices", {normal_input({50, 8}, dtype, 95), zeros({0}, DType::i64)},
                           [](const TensorList& in) { return TensorList{embedding(in[1], in[0])}; });
    // embedding_backward itself (and its double backward, a gather with the padding row zeroed).
    const Tensor idx = class_targets({300}, 40, 96);
    check_cuda_matches_cpu("embedding_backward", {normal_input({300, 17}, dtype, 97), idx}, [](const TensorList& in) {
      return TensorList{embedding_backward(in[0], in[1], 40, 7)};
    });
  }
  // Bitwise reproducible on the device: the same sums in the same order every run.
  const Tensor w = normal_input({20, 64}, DType::f32, 98).cuda().requires_grad_(true);
  const Tensor idx = class_targets({4096}, 20, 99).cuda();
  const Tensor g = normal_input({4096, 64}, DType::f32, 100).cuda();
  const Tensor first = autograd::grad({embedding(idx, w)}, {w}, {g})[0].cpu();
  const Tensor second = autograd::grad({embedding(idx, w)}, {w}, {g})[0].cpu();
  CHECK(values(first) == values(second));
  CHECK_THROWS_WITH(embedding(from_vector<int64_t>({0, 20}, {2}).cuda(), w), Catch::Contains("out of range"));
}

// ---------------------------------------------------------------- dropout
DEVICE_TEST_CASE("cuda dropout: the same seed draws the same mask as the CPU") {
  for (const DType dtype : kFloatTypes) {
    for (const int64_t n : {1, 33, 5000, 100003}) {
      for (const double p : {0.1, 0.5, 0.9}) {
        INFO(dtype_name(dtype) << " n = " << n << " p = " << p);
        const Tensor x = normal_input({n}, dtype, 111);
        Generator host_gen(2024), device_gen(2024);
        host_gen.advance(17);  // a non-zero Philox offset
        device_gen.advance(17);
        const Tensor host = dropout(x, p, true, host_gen);
        const Tensor device = dropout(x.cuda(), p, true, device_gen);
        REQUIRE(device.device().is_cuda());
        CHECK(values(device.cpu()) == values(host));  // exact: same mask, same products
        CHECK(host_gen.advance(0) == device_gen.advance(0));
      }
    }
    // The gradient is the mask, on both devices; drop_path draws per sample alike.
    const Tensor x = normal_input({33, 40}, dtype, 112);
    check_cuda_matches_cpu("dropout", {x}, [](const TensorList& in) {
      Generator gen(5);
      return TensorList{dropout(in[0], 0.3, true, gen), dropout(in[0].t(), 0.6, true, gen),
                        drop_path(in[0], 0.5, true, true, gen)};
    });
    // p = 0 and eval: the input itself; p = 1: all zeros.
    const Tensor xd = x.cuda();
    CHECK(values(dropout(xd, 0.0, true).cpu()) == values(x));
    CHECK(values(dropout(xd, 0.5, false).cpu()) == values(x));
    CHECK(values(dropout(xd, 1.0, true).cpu()) == std::vector<double>(static_cast<size_t>(x.numel()), 0.0));
    check_cuda_matches_cpu("dropout p=1", {x}, [](const TensorList& in) {
      Generator gen(6);
      return TensorList{dropout(in[0], 1.0, true, gen)};
    });
  }
}

// ---------------------------------------------------------------- 16-bit floats
// The CPU has no bfloat16/float16 kernels, so the half-precision CUDA kernels are compared with the
// float32 CPU result on the same (already rounded) values, within one rounding of the output.
DEVICE_TEST_CASE("cuda reduce family: bfloat16 and float16 kernels agree with float32 on the CPU") {
  for (const DType half : {DType::bf16, DType::f16}) {
    for (const int64_t D : {33, 1000, 5000}) {
      INFO(dtype_name(half) << " D = " << D);
      const Tensor x16 = normal_input({6, D}, DType::f32, 121).to(half);
      const Tensor x32 = x16.to(DType::f32);
      const Tensor w16 = normal_input({D}, DType::f32, 122).to(half);
      const Tensor w32 = w16.to(DType::f32);
      const Tensor xd = x16.cuda(), wd = w16.cuda();
      const auto tol = ember::test::tolerance_for(half);
      auto same = [&](const Tensor& device, const Tensor& host) {
        REQUIRE(device.dtype() == half);
        CHECK(ember::test::all_close(values(device.to(DType::f32).cpu()), values(host), tol.rtol, tol.atol * 10));
      };
      same(sum(xd, {1}), sum(x32, {1}));
      same(amax(xd, {0}), amax(x32, {0}));
      same(logsumexp(xd, {1}), logsumexp(x32, {1}));
      same(var(xd, {1}), var(x32, {1}));
      same(softmax(xd, 1), softmax(x32, 1));
      same(log_softmax(xd, 0), log_softmax(x32, 0));
      same(layer_norm(xd, {D}, wd), layer_norm(x32, {D}, w32));
      same(rms_norm(xd, {D}, wd, 1e-5), rms_norm(x32, {D}, w32, 1e-5));
      CHECK(values(argmax(xd, 1).cpu()) == values(argmax(x32, 1)));
      const Tensor idx = class_targets({50}, 6, 123);
      same(embedding(idx.cuda(), xd), embedding(idx, x32));
    }
  }
}

// ---------------------------------------------------------------- devices
DEVICE_TEST_CASE("cuda reduce family: mixing devices is an error naming both") {
  const Tensor host = ones({4, 5});
  const Tensor device = host.cuda();
  CHECK_THROWS_WITH(cross_entropy(device, zeros({4}, DType::i64)), Catch::Contains("cpu") && Catch::Contains("cuda"));
  CHECK_THROWS_WITH(layer_norm(device, {5}, ones({5})), Catch::Contains("cpu") && Catch::Contains("cuda"));
  CHECK_THROWS_WITH(embedding(zeros({3}, DType::i64), device), Catch::Contains("cpu") && Catch::Contains("cuda"));
  CHECK_THROWS_WITH(mse_loss(device, host), Catch::Contains("cpu") && Catch::Contains("cuda"));
}

// Runs everywhere: the CPU dropout mask is exactly the Philox draw that cuda/dropout.cu ports
// (counter = offset + i, key = seed, uniform from lanes 0 and 1), so the device test above
// compares two implementations of one documented stream.
TEST_CASE("dropout: the CPU mask is the documented Philox stream", "[cuda][dropout]") {
  const Tensor x = ones({1000}, DType::f64);
  Generator gen(77);
  const uint64_t offset = gen.advance(0);
  const Tensor y = dropout(x, 0.4, true, gen);
  const std::vector<double> got = values(y);
  for (int64_t i = 0; i < 1000; ++i) {
    const auto r = philox4x32(offset + static_cast<uint64_t>(i), 77);
    const double expected = uniform_from_bits(r[0], r[1]) < 0.6 ? 1.0 / 0.6 : 0.0;
    REQUIRE(got[static_cast<size_t>(i)] == expected);
  }
}
