// nn layers: output shapes and values against the functional ops, naive loops or PyTorch 1.13
// literals; default init ranges; float64 gradcheck through small stacks; bad input.
// Twins: models/nn/{linear,conv,norm,activation,dropout,embedding,pooling,container}.cpp.
#include <cmath>

#include "helpers.h"
#include "models/nn/nn.h"

using namespace ember;
using namespace ember::test;

namespace {

// sin(0.37 i + shift) laid out in `shape`: an input both this file and the PyTorch scripts can build.
Tensor wave(const Shape& shape, double shift, DType dtype = DType::f64) {
  return sin(arange(static_cast<double>(numel_of(shape)), dtype) * 0.37 + shift).reshape(shape);
}

double max_abs(const Tensor& t) {
  double m = 0.0;
  for (double v : values(t)) m = std::max(m, std::fabs(v));
  return m;
}

bool names_match(const TensorMap& state, const std::vector<std::string>& names) {
  std::vector<std::string> keys;
  for (auto& [key, t] : state) keys.push_back(key);
  return keys == names;
}

// LayerNorm2d against ConvNeXt's definition (permute, channels-last layer_norm, permute back):
// output and the gradients of x, weight and bias for the incoming gradient `gout`.
void ln_forward_backward_matches(nn::LayerNorm2d& ln, Tensor x, const Tensor& gout) {
  Tensor y = ln(x);
  y.backward(gout);
  Tensor gx = x.grad(), gw = ln.weight.grad(), gb = ln.bias.grad();
  x.zero_grad();
  ln.zero_grad();
  Tensor ref = layer_norm(x.permute({0, 2, 3, 1}), {ln.num_channels}, ln.weight, ln.bias, ln.eps).permute({0, 3, 1, 2});
  ref.backward(gout);
  REQUIRE(all_close(y, ref, 1e-4, 1e-5));
  REQUIRE(all_close(gx, x.grad(), 1e-4, 1e-4));
  REQUIRE(all_close(gw, ln.weight.grad(), 1e-4, 1e-3));
  REQUIRE(all_close(gb, ln.bias.grad(), 1e-4, 1e-3));
}

}  // namespace

TEST_CASE("Linear: values, default init range, bias=false, bad input", "[nn][layers]") {
  manual_seed(1);
  nn::Linear fc(5, 3);
  REQUIRE(fc.weight.sizes() == Shape{3, 5});
  REQUIRE(fc.bias.sizes() == Shape{3});
  const double bound = 1.0 / std::sqrt(5.0);
  REQUIRE(max_abs(fc.weight) <= bound);
  REQUIRE(max_abs(fc.bias) <= bound);
  REQUIRE(max_abs(fc.weight) > 0.5 * bound);  // actually drawn, not zeros

  Tensor x = wave({2, 4, 5}, 0.3, DType::f32);
  Tensor y = fc(x);
  REQUIRE(y.sizes() == Shape{2, 4, 3});
  // Naive reference: y[b, t, o] = sum_i x[b, t, i] w[o, i] + bias[o].
  auto xv = values(x), wv = values(fc.weight), bv = values(fc.bias);
  std::vector<double> expected;
  for (int r = 0; r < 8; ++r) {
    for (int o = 0; o < 3; ++o) {
      double s = bv[o];
      for (int i = 0; i < 5; ++i) s += xv[r * 5 + i] * wv[o * 5 + i];
      expected.push_back(s);
    }
  }
  REQUIRE(all_close(y, expected, 1e-5, 1e-6));

  nn::Linear no_bias(5, 3, false);
  REQUIRE_FALSE(no_bias.bias.defined());
  REQUIRE(no_bias.state_dict().size() == 1);
  REQUIRE(no_bias.extra_repr() == "in_features=5, out_features=3, bias=False");
  REQUIRE_THROWS_OP(fc(zeros({2, 4})), "Linear: expected input (*, 5)");
  REQUIRE_THROWS_OP(fc(zeros({2, 4})), "float32[2, 4]");
}

TEST_CASE("Conv2d / Conv1d / ConvTranspose2d: shapes, values vs the ops, init, bad channels", "[nn][layers]") {
  manual_seed(2);
  nn::Conv2d conv(3, 8, 3, {.stride = 2, .padding = 1, .bias = true});
  REQUIRE(conv.weight.sizes() == Shape{8, 3, 3, 3});
  REQUIRE(max_abs(conv.weight) <= 1.0 / std::sqrt(27.0));
  REQUIRE(max_abs(conv.bias) <= 1.0 / std::sqrt(27.0));
  Tensor x = wave({2, 3, 9, 9}, 0.1, DType::f32);
  Tensor y = conv(x);
  REQUIRE(y.sizes() == Shape{2, 8, 5, 5});
  REQUIRE(all_close(y, conv2d(x, conv.weight, conv.bias, 2, 1)));
  REQUIRE(conv.extra_repr() == "3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)");
  REQUIRE_THROWS_OP(conv(zeros({2, 4, 9, 9})), "Conv2d: expected input with 3 channels, got 4");
  REQUIRE_THROWS_OP(conv(zeros({9, 9})), "Conv2d: expected a 4-D");
  REQUIRE_THROWS_OP(nn::Conv2d(3, 8, 3, {.groups = 2}), "divisible by groups");

  nn::Conv2d depthwise(4, 4, 3, {.padding = "same", .groups = 4, .bias = false});
  REQUIRE(depthwise.weight.sizes() == Shape{4, 1, 3, 3});
  REQUIRE(depthwise.state_dict().count("bias") == 0);
  Tensor xd = wave({1, 4, 6, 6}, 0.2, DType::f32);
  REQUIRE(depthwise(xd).sizes() == Shape{1, 4, 6, 6});

  nn::Conv1d conv1(4, 6, 3, {.padding = 1});
  Tensor x1 = wave({2, 4, 7}, 0.4, DType::f32);
  REQUIRE(all_close(conv1(x1), conv1d(x1, conv1.weight, conv1.bias, 1, 1)));
  REQUIRE(conv1(x1).sizes() == Shape{2, 6, 7});
  REQUIRE_THROWS_OP(conv1(zeros({2, 3, 7})), "Conv1d");

  nn::ConvTranspose2d up(4, 2, 2, {.stride = 2});
  // weight (C_in, C_out, k, k): PyTorch's fan_in is C_out * k * k = 8.
  REQUIRE(up.weight.sizes() == Shape{4, 2, 2, 2});
  REQUIRE(max_abs(up.weight) <= 1.0 / std::sqrt(8.0));
  Tensor xu = wave({1, 4, 3, 3}, 0.5, DType::f32);
  REQUIRE(up(xu).sizes() == Shape{1, 2, 6, 6});
  REQUIRE(all_close(up(xu), conv_transpose2d(xu, up.weight, up.bias, 2)));
}

TEST_CASE("BatchNorm2d: buffers as PyTorch, running stats after 2 steps, eval uses them", "[nn][layers]") {
  nn::BatchNorm2d bn(3);
  bn.to(DType::f64);
  auto sd = bn.state_dict();
  for (const char* key : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}) {
    REQUIRE(sd.count(key) == 1);
  }
  REQUIRE(bn.num_batches_tracked.dtype() == DType::i64);
  REQUIRE(bn.num_batches_tracked.dim() == 0);
  REQUIRE(bn.named_parameters().size() == 2);
  {
    NoGradGuard no_grad;
    bn.weight.detach().copy_(from_vector<double>({1.0, 2.0, 0.5}));
    bn.bias.detach().copy_(from_vector<double>({0.0, -1.0, 0.25}));
  }
  bn.train();
  bn(wave({2, 3, 2, 2}, 0.0));
  Tensor y2 = bn(wave({2, 3, 2, 2}, 1.0));
  // Values from /usr/bin/python3 (torch 1.13): BatchNorm2d(3).double(), same weight/bias, train mode,
  // inputs sin(0.37 * arange(24) + shift).reshape(2, 3, 2, 2) for shift 0 then 1 (then 2 in eval).
  REQUIRE(all_close(bn.running_mean, {0.014919924826693704, 0.09218114203316824, 0.0017965029595515165}, 1e-10,
                    1e-12));
  REQUIRE(all_close(bn.running_var, {0.912472141935488, 0.8566812739854861, 0.9142114484958677}, 1e-10, 1e-12));
  REQUIRE(bn.num_batches_tracked.item<int64_t>() == 2);
  REQUIRE(all_close(y2.flatten().slice(0, 0, 6), {0.7922350936833055, 1.0057978574988753, 1.014762495667006,
                                                  0.8179156864666604, -0.4185831327165687, -1.7768604077941093},
                    1e-9, 1e-10));
  bn.eval();
  Tensor y3 = bn(wave({2, 3, 2, 2}, 2.0));
  REQUIRE(all_close(y3.flatten().slice(0, 0, 6), {0.9362863225774706, 0.71433179657748, 0.39358184866061224,
                                                  0.017448479571389158, -1.9165454712227727, -2.6050678296315692},
                    1e-9, 1e-10));
  REQUIRE(bn.num_batches_tracked.item<int64_t>() == 2);  // eval does not count

  REQUIRE_THROWS_OP(bn(zeros({2, 3, 4}, DType::f64)), "BatchNorm2d: expected a 4-D input");
  REQUIRE_THROWS_OP(bn(zeros({2, 4, 2, 2}, DType::f64)), "BatchNorm2d: expected 3 channels");
  bn.train();
  REQUIRE_THROWS_OP(bn(zeros({1, 3, 1, 1}, DType::f64)), "more than 1 value per channel");

  // Without running statistics: no buffers, batch statistics in both modes.
  nn::BatchNorm1d plain(4, 1e-5, 0.1, false, false);
  REQUIRE(plain.state_dict().empty());
  plain.eval();
  Tensor x = wave({5, 4}, 0.3, DType::f32);
  REQUIRE(all_close(plain(x), batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true), 1e-5, 1e-5));
  nn::BatchNorm1d bn1(4);
  REQUIRE(bn1(wave({5, 4, 3}, 0.1, DType::f32)).sizes() == Shape{5, 4, 3});
  REQUIRE(bn1.extra_repr() == "4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True");
  REQUIRE_THROWS_OP(nn::BatchNorm2d(4, 1e-5, 1.5), "BatchNorm2d: momentum must be in [0, 1]");

  // momentum = none: a cumulative average. /usr/bin/python3 (torch 1.13): BatchNorm1d(3,
  // momentum=None).double() after three training batches sin(0.37 * arange(24) + s).reshape(4, 3, 2),
  // s = 0, 1, 2.
  nn::BatchNorm1d average(3, 1e-5, std::nullopt);
  average.to(DType::f64);
  for (double shift : {0.0, 1.0, 2.0}) average(wave({4, 3, 2}, shift));
  REQUIRE(all_close(average.running_mean, {0.17969705432438246, 0.15693330590679894, 0.0520835701349441}, 1e-10,
                    1e-12));
  REQUIRE(all_close(average.running_var, {0.5339442201944936, 0.5327514580391552, 0.5293402713766935}, 1e-10, 1e-12));
  REQUIRE(average.extra_repr() == "3, eps=1e-05, momentum=None, affine=True, track_running_stats=True");
}

TEST_CASE("activations by name match the ops; unknown names list the known ones", "[nn][layers]") {
  Tensor x = wave({3, 5}, 0.7, DType::f32) * 3.0;
  REQUIRE(all_close((*nn::make_activation("relu"))(x), relu(x)));
  REQUIRE(all_close((*nn::make_activation("gelu"))(x), gelu(x)));
  REQUIRE(all_close((*nn::make_activation("gelu_tanh"))(x), gelu(x, "tanh")));
  REQUIRE(all_close((*nn::make_activation("swish"))(x), silu(x)));
  REQUIRE(all_close((*nn::make_activation("sigmoid"))(x), sigmoid(x)));
  REQUIRE(all_close((*nn::make_activation("leaky_relu"))(x), leaky_relu(x, 0.01)));
  REQUIRE(all_close((*nn::make_activation("identity"))(x), x));
  REQUIRE(all_close((*nn::Softmax(1))(x), softmax(x, 1)));
  REQUIRE(nn::make_activation("hardswish")->type_name() == "Hardswish");
  REQUIRE(nn::GELU("tanh")->extra_repr() == "approximate='tanh'");
  REQUIRE_THROWS_OP(nn::make_activation("gleu"), "unknown activation 'gleu' (known:");
  REQUIRE_THROWS_OP(nn::make_activation("gleu"), "relu6");
  REQUIRE_THROWS_OP(nn::GELU("fast"), "GELU");
}

TEST_CASE("pooling, Flatten, Identity", "[nn][layers]") {
  Tensor x = wave({2, 3, 8, 8}, 0.2, DType::f32);
  nn::MaxPool2d mp(3, 2, 1);
  REQUIRE(all_close(mp(x), max_pool2d(x, 3, 2, 1)));
  REQUIRE(mp(x).sizes() == Shape{2, 3, 4, 4});
  nn::AvgPool2d ap(2);
  REQUIRE(all_close(ap(x), avg_pool2d(x, 2)));
  REQUIRE(ap.extra_repr() == "kernel_size=2, stride=2, padding=0");
  nn::AdaptiveAvgPool2d aap(1);
  REQUIRE(aap(x).sizes() == Shape{2, 3, 1, 1});
  nn::GlobalAvgPool gap;
  Tensor g = gap(x);
  REQUIRE(g.sizes() == Shape{2, 3});
  REQUIRE(all_close(g, aap(x).flatten(1)));
  REQUIRE(all_close(g, mean(x, {2, 3})));
  REQUIRE_THROWS_OP(gap(zeros({2, 3})), "GlobalAvgPool");
  REQUIRE_THROWS_OP(mp(zeros({2, 3})), "MaxPool2d");
  nn::Flatten flatten;
  REQUIRE(flatten(x).sizes() == Shape{2, 192});
  nn::Identity id;
  REQUIRE(id(x).is_same(x));
}

TEST_CASE("float64 gradcheck through Linear-GELU-Linear and Conv-BatchNorm-ReLU-pool", "[nn][layers][gradcheck]") {
  manual_seed(3);
  auto mlp = std::make_shared<nn::Sequential>(
      std::initializer_list<nn::ModulePtr>{std::make_shared<nn::Linear>(4, 6), nn::GELU(),
                                           std::make_shared<nn::Linear>(6, 2)});
  mlp->to(DType::f64);
  auto params = mlp->parameters();
  TensorList inputs{rand64({3, 4}, 11)};
  inputs.insert(inputs.end(), params.begin(), params.end());
  REQUIRE(gradcheck([&](const TensorList&) { return TensorList{(*mlp)(inputs[0])}; }, inputs));

  auto cnn = std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
      std::make_shared<nn::Conv2d>(2, 3, 3, nn::Conv2dOptions{.padding = 1}), std::make_shared<nn::BatchNorm2d>(3),
      nn::ReLU(), std::make_shared<nn::AvgPool2d>(2), std::make_shared<nn::Flatten>()});
  cnn->to(DType::f64);
  auto cparams = cnn->parameters();
  TensorList cin{rand64({2, 2, 4, 4}, 12)};
  cin.insert(cin.end(), cparams.begin(), cparams.end());
  REQUIRE(gradcheck([&](const TensorList&) { return TensorList{(*cnn)(cin[0])}; }, cin));
}

TEST_CASE("LayerNorm, LayerNorm2d (channels-first), GroupNorm, RMSNorm", "[nn][layers]") {
  manual_seed(4);
  Tensor x = wave({2, 5, 6}, 0.3) * 2.0 + 0.5;

  nn::LayerNorm ln({6});
  ln.to(DType::f64);
  {
    NoGradGuard no_grad;
    ln.weight.detach().copy_(wave({6}, 1.0));
    ln.bias.detach().copy_(wave({6}, 2.0));
  }
  // Naive: (x - mean) / sqrt(biased var + eps) * w + b over the last dim.
  Tensor mu = mean(x, {-1}, true), var_b = var(x, {-1}, 0.0, true);
  Tensor expected = (x - mu) / sqrt(var_b + 1e-5) * ln.weight + ln.bias;
  REQUIRE(all_close(ln(x), expected, 1e-10, 1e-12));
  REQUIRE_THROWS_OP(ln(zeros({2, 5})), "LayerNorm: expected input (*, 6)");
  nn::LayerNorm plain({5, 6}, 1e-5, false);
  REQUIRE(plain.state_dict().empty());
  REQUIRE(plain(x).sizes() == Shape{2, 5, 6});

  // LayerNorm2d equals a channels-last LayerNorm on the permuted input (ConvNeXt's definition).
  nn::LayerNorm2d ln2d(5);
  ln2d.to(DType::f64);
  {
    NoGradGuard no_grad;
    ln2d.weight.detach().copy_(wave({5}, 0.4));
    ln2d.bias.detach().copy_(wave({5}, 0.9));
  }
  Tensor img = wave({2, 5, 3, 4}, 0.1) * 3.0;
  Tensor ref = layer_norm(img.permute({0, 2, 3, 1}), {5}, ln2d.weight, ln2d.bias, 1e-6).permute({0, 3, 1, 2});
  REQUIRE(all_close(ln2d(img), ref, 1e-10, 1e-12));
  REQUIRE(names_match(ln2d.state_dict(), {"bias", "weight"}));
  REQUIRE_THROWS_OP(ln2d(zeros({2, 4, 3, 3}, DType::f64)), "LayerNorm2d: expected input (N, 5, H, W)");
  TensorList inputs{rand64({2, 5, 2, 3}, 31), ln2d.weight, ln2d.bias};
  REQUIRE(gradcheck([&](const TensorList& in) { return TensorList{ln2d(in[0])}; }, inputs));
  REQUIRE(gradgradcheck([&](const TensorList& in) { return TensorList{ln2d(in[0])}; }, inputs));

  // The fused kernel on more pixels than one tile (300 > 256), f32, against permute + layer_norm:
  // forward and all three gradients, with a non-contiguous input.
  nn::LayerNorm2d big(7);
  {
    NoGradGuard no_grad;
    big.weight.detach().copy_(wave({7}, 0.4, DType::f32));
    big.bias.detach().copy_(wave({7}, 0.9, DType::f32));
  }
  Tensor xb = (wave({2, 7, 20, 15}, 0.0, DType::f32) * 2.0).transpose(2, 3).detach().requires_grad_(true);
  Tensor gout = wave({2, 7, 15, 20}, 1.3, DType::f32);
  ln_forward_backward_matches(big, xb, gout);

  nn::GroupNorm gn(2, 6);
  Tensor g_in = wave({3, 6, 4}, 0.2, DType::f32);
  REQUIRE(all_close(gn(g_in), group_norm(g_in, 2, gn.weight, gn.bias)));
  REQUIRE_THROWS_OP(nn::GroupNorm(4, 6), "divisible by num_groups");
  REQUIRE_THROWS_OP(gn(zeros({3, 4, 4})), "GroupNorm: expected input (N, 6, *)");

  nn::RMSNorm rms({6});
  rms.to(DType::f64);
  Tensor rms_ref = x / sqrt(mean(x * x, {-1}, true) + 1e-6);
  REQUIRE(all_close(rms(x), rms_ref, 1e-10, 1e-12));
  REQUIRE_THROWS_OP(rms(zeros({2, 3}, DType::f64)), "RMSNorm");
}

TEST_CASE("Embedding: N(0,1) rows, padding row zero without gradient", "[nn][layers]") {
  manual_seed(5);
  nn::Embedding emb(10, 4, 2);
  REQUIRE(values(emb.weight.select(0, 2)) == std::vector<double>(4, 0.0));
  Tensor idx = from_vector<int64_t>({1, 2, 9, 1, 0, 2}, {2, 3});
  Tensor y = emb(idx);
  REQUIRE(y.sizes() == Shape{2, 3, 4});
  REQUIRE(all_close(y.select(0, 0).select(0, 0), emb.weight.select(0, 1)));
  REQUIRE(all_close(y.select(0, 1).select(0, 2), std::vector<double>(4, 0.0)));
  sum(y).backward();
  REQUIRE(values(emb.weight.grad().select(0, 1)) == std::vector<double>(4, 2.0));  // used twice
  REQUIRE(values(emb.weight.grad().select(0, 2)) == std::vector<double>(4, 0.0));  // padding
  REQUIRE(emb.extra_repr() == "10, 4, padding_idx=2");
  REQUIRE_THROWS_OP(emb(zeros({3})), "Embedding: expected integer indices, got float32[3]");
  REQUIRE_THROWS_OP(nn::Embedding(10, 4, 10), "padding_idx");
}

TEST_CASE("Dropout, DropPath, LayerScale", "[nn][layers]") {
  manual_seed(6);
  Tensor x = ones({100, 50});
  nn::Dropout drop(0.3);
  Tensor y = drop(x);
  auto v = values(y);
  int64_t zeros_seen = 0;
  for (double e : v) {
    if (e == 0.0) ++zeros_seen;
    else REQUIRE(e == Approx(1.0 / 0.7));
  }
  REQUIRE(static_cast<double>(zeros_seen) / 5000.0 == Approx(0.3).margin(0.03));
  drop.eval();
  REQUIRE(drop(x).is_same(x));
  REQUIRE_THROWS_OP(nn::Dropout(1.5), "Dropout: probability must be in [0, 1]");

  nn::DropPath path(0.25);
  Tensor p = path(x);
  // Whole samples: every row is all zeros or all 1/(1 - p).
  for (int64_t r = 0; r < 100; ++r) {
    auto row = values(p.select(0, r));
    REQUIRE((all_close(row, std::vector<double>(50, 0.0)) || all_close(row, std::vector<double>(50, 1.0 / 0.75))));
  }
  path.eval();
  REQUIRE(all_close(path(x), x, 0, 0));

  nn::LayerScale ls(4, 0.1);
  REQUIRE(values(ls.gamma) == std::vector<double>(4, 0.1f));
  REQUIRE(ls.state_dict().count("gamma") == 1);
  Tensor t = wave({2, 3, 4}, 0.0, DType::f32);
  REQUIRE(all_close(ls(t), t * 0.1f));
  nn::LayerScale ls_cf(3, 0.5, true);
  Tensor img = wave({2, 3, 2, 2}, 0.0, DType::f32);
  REQUIRE(all_close(ls_cf(img), img * 0.5));
  REQUIRE_THROWS_OP(ls(zeros({2, 5})), "LayerScale: expected input (*, 4)");
  REQUIRE_THROWS_OP(ls_cf(zeros({2, 4, 2, 2})), "LayerScale: expected input (N, 3, H, W)");
}
