// Whole training steps (Google Benchmark): forward, cross-entropy, backward and an SGD momentum
// update of the three workloads (issue 3, "Speed"). Twin: scripts/compare_torch.py builds
// the same networks from torch.nn modules; docs/PERF.md records both sides.
//
// The networks are written here directly from ops (conv2d, batch_norm, linear, layer_norm,
// scaled_dot_product_attention, ...) so the benchmark does not depend on the model zoo; the
// architectures are exactly the zoo's: ResNet-18 with the CIFAR stem, ViT-tiny with patch 4 and
// mean pooling, and the 784-512-512-10 MLP.
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <cmath>
#include <functional>
#include <vector>

#include "ember.h"

namespace {
using namespace ember;

constexpr int64_t kClasses = 10;

// The trainable tensors of a network, each with its momentum buffer, and the update
//   buf = momentum · buf + grad;  p -= lr · buf      (torch.optim.SGD, dampening 0)
class Parameters {
 public:
  explicit Parameters(uint64_t seed) : gen_(seed) {}

  // Kaiming-uniform-like init: the scale only has to keep the activations finite.
  Tensor weight(const Shape& shape, int64_t fan_in) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    return add(uniform(-bound, bound, shape, gen_));
  }
  Tensor constant(const Shape& shape, double value) { return add(full(shape, value)); }

  void zero_grad() {
    for (Tensor& p : params_) p.zero_grad();
  }
  void sgd_step(double lr = 0.01, double momentum = 0.9) {
    NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) {
      if (!params_[i].grad().defined()) continue;
      momentum_[i].mul_(momentum).add_(params_[i].grad());
      params_[i].sub_(momentum_[i], lr);
    }
  }
  Generator& generator() { return gen_; }

 private:
  Tensor add(Tensor t) {
    t.requires_grad_(true);
    params_.push_back(t);
    momentum_.push_back(zeros(t.sizes()));
    return t;
  }
  Generator gen_;
  std::vector<Tensor> params_, momentum_;
};

// ---------------------------------------------------------------- ResNet-18, CIFAR stem
struct BatchNorm {
  Tensor weight, bias, running_mean, running_var;
  BatchNorm(Parameters& ps, int64_t channels)
      : weight(ps.constant({channels}, 1.0)),
        bias(ps.constant({channels}, 0.0)),
        running_mean(zeros({channels})),
        running_var(ones({channels})) {}
  Tensor operator()(const Tensor& x) const {
    return batch_norm(x, running_mean, running_var, weight, bias, /*training=*/true);
  }
};

struct ConvBn {  // conv (no bias) + batch norm
  Tensor weight;
  BatchNorm bn;
  int64_t stride, padding;
  ConvBn(Parameters& ps, int64_t in, int64_t out, int64_t kernel, int64_t stride_)
      : weight(ps.weight({out, in, kernel, kernel}, in * kernel * kernel)),
        bn(ps, out),
        stride(stride_),
        padding(kernel / 2) {}
  Tensor operator()(const Tensor& x) const { return bn(conv2d(x, weight, Tensor(), stride, padding)); }
};

struct BasicBlock {
  ConvBn conv1, conv2;
  std::vector<ConvBn> downsample;  // 1x1 conv + bn when the shape changes
  BasicBlock(Parameters& ps, int64_t in, int64_t out, int64_t stride)
      : conv1(ps, in, out, 3, stride), conv2(ps, out, out, 3, 1) {
    if (stride != 1 || in != out) downsample.emplace_back(ps, in, out, 1, stride);
  }
  Tensor operator()(const Tensor& x) const {
    const Tensor identity = downsample.empty() ? x : downsample[0](x);
    return relu(add(conv2(relu(conv1(x))), identity));
  }
};

struct ResNet18Cifar {
  ConvBn stem;
  std::vector<BasicBlock> blocks;
  Tensor fc_weight, fc_bias;
  explicit ResNet18Cifar(Parameters& ps) : stem(ps, 3, 64, 3, 1) {
    int64_t in = 64;
    for (int64_t width : {64, 128, 256, 512}) {
      for (int64_t b = 0; b < 2; ++b) {
        blocks.emplace_back(ps, in, width, b == 0 && width != 64 ? 2 : 1);
        in = width;
      }
    }
    fc_weight = ps.weight({kClasses, 512}, 512);
    fc_bias = ps.weight({kClasses}, 512);
  }
  // x: (N, 3, 32, 32) -> logits (N, 10)
  Tensor operator()(const Tensor& x) const {
    Tensor h = relu(stem(x));
    for (const BasicBlock& block : blocks) h = block(h);
    return linear(adaptive_avg_pool2d(h, 1).flatten(1), fc_weight, fc_bias);
  }
};

// ---------------------------------------------------------------- ViT-tiny, patch 4, mean pooling
struct Linear {
  Tensor weight, bias;
  Linear(Parameters& ps, int64_t in, int64_t out) : weight(ps.weight({out, in}, in)), bias(ps.weight({out}, in)) {}
  Tensor operator()(const Tensor& x) const { return linear(x, weight, bias); }
};

struct LayerNorm {
  Tensor weight, bias;
  LayerNorm(Parameters& ps, int64_t dim) : weight(ps.constant({dim}, 1.0)), bias(ps.constant({dim}, 0.0)) {}
  Tensor operator()(const Tensor& x) const { return layer_norm(x, {x.size(-1)}, weight, bias, 1e-6); }
};

struct VitBlock {  // pre-norm: x + attn(norm1(x)), then x + mlp(norm2(x))
  int64_t heads;
  LayerNorm norm1, norm2;
  Linear qkv, proj, fc1, fc2;
  VitBlock(Parameters& ps, int64_t dim, int64_t heads_, int64_t hidden)
      : heads(heads_),
        norm1(ps, dim),
        norm2(ps, dim),
        qkv(ps, dim, 3 * dim),
        proj(ps, dim, dim),
        fc1(ps, dim, hidden),
        fc2(ps, hidden, dim) {}
  // x: (N, T, D)
  Tensor operator()(const Tensor& x) const {
    const int64_t N = x.size(0), T = x.size(1), D = x.size(2);
    // (N, T, 3D) -> (3, N, heads, T, D / heads)
    const Tensor qkv_heads = qkv(norm1(x)).reshape({N, T, 3, heads, D / heads}).permute({2, 0, 3, 1, 4});
    const Tensor attended = scaled_dot_product_attention(qkv_heads[0], qkv_heads[1], qkv_heads[2]);
    Tensor h = add(x, proj(attended.transpose(1, 2).reshape({N, T, D})));
    return add(h, fc2(gelu(fc1(norm2(h)))));
  }
};

struct VitTiny {
  static constexpr int64_t kDim = 192, kDepth = 6, kHeads = 3, kPatch = 4, kImage = 32;
  Tensor patch_weight, patch_bias, pos_embed;
  std::vector<VitBlock> blocks;
  LayerNorm norm;
  Linear head;
  explicit VitTiny(Parameters& ps)
      : patch_weight(ps.weight({kDim, 3, kPatch, kPatch}, 3 * kPatch * kPatch)),
        patch_bias(ps.weight({kDim}, 3 * kPatch * kPatch)),
        pos_embed(ps.weight({1, (kImage / kPatch) * (kImage / kPatch), kDim}, 50)),
        norm(ps, kDim),
        head(ps, kDim, kClasses) {
    for (int64_t b = 0; b < kDepth; ++b) blocks.emplace_back(ps, kDim, kHeads, 4 * kDim);
  }
  // x: (N, 3, 32, 32) -> logits (N, 10)
  Tensor operator()(const Tensor& x) const {
    // (N, D, 8, 8) -> (N, 64 tokens, D)
    Tensor h = add(conv2d(x, patch_weight, patch_bias, kPatch).flatten(2).transpose(1, 2), pos_embed);
    for (const VitBlock& block : blocks) h = block(h);
    return head(mean(norm(h), {1}));
  }
};

// ---------------------------------------------------------------- MLP 784-512-512-10
struct Mlp {
  Linear fc1, fc2, fc3;
  explicit Mlp(Parameters& ps) : fc1(ps, 784, 512), fc2(ps, 512, 512), fc3(ps, 512, kClasses) {}
  // x: (N, 784) -> logits (N, 10)
  Tensor operator()(const Tensor& x) const { return fc3(relu(fc2(relu(fc1(x))))); }
};

int64_t minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// One benchmark iteration = zero_grad, forward, cross-entropy, backward, SGD momentum step.
// Counter page_faults: minor faults per step after a warm-up step (fresh pages the kernel had to
// zero; near 0 when the allocator reuses its blocks). The CPU column is the whole process's CPU
// time (all threads): on a busy machine, CPU time well below 2x real time means descheduling.
template <class Net>
void train_step(benchmark::State& state, const Shape& input_shape) {
  Parameters ps(1);
  const Net net(ps);
  const Tensor x = randn(input_shape, ps.generator());
  const Tensor target = randint(0, kClasses, {input_shape[0]}, ps.generator());
  auto step = [&] {
    ps.zero_grad();
    const Tensor loss = cross_entropy(net(x), target);
    loss.backward();
    ps.sgd_step();
    benchmark::DoNotOptimize(loss.raw_data());
  };
  step();  // warm-up: first touch of every buffer
  const int64_t faults_before = minor_page_faults();
  for (auto _ : state) step();
  state.counters["page_faults"] = benchmark::Counter(static_cast<double>(minor_page_faults() - faults_before),
                                                     benchmark::Counter::kAvgIterations);
}

void resnet18_cifar_b32_train_step(benchmark::State& state) { train_step<ResNet18Cifar>(state, {32, 3, 32, 32}); }
void vit_tiny_p4_b32_train_step(benchmark::State& state) { train_step<VitTiny>(state, {32, 3, 32, 32}); }
void mlp_fmnist_b128_train_step(benchmark::State& state) { train_step<Mlp>(state, {128, 784}); }

BENCHMARK(resnet18_cifar_b32_train_step)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(vit_tiny_p4_b32_train_step)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(mlp_fmnist_b128_train_step)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

}  // namespace
