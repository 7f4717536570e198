// nn::Module: registration, dotted names, state_dict / load_state_dict errors, to(dtype) identity,
// train/eval recursion, apply, hooks, num_parameters, containers, to_string, summary().
// Twins: models/nn/module.cpp, container.cpp, summary.cpp.
#include "helpers.h"
#include "models/nn/nn.h"
#include "optim/sgd.h"

using namespace ember;
using namespace ember::test;

namespace {

// A two-level model: block (Linear + BatchNorm1d) and a head, plus a non-persistent buffer.
class Block : public nn::Module {
 public:
  Block() : nn::Module("Block") {
    fc = register_module("fc", std::make_shared<nn::Linear>(4, 3));
    bn = register_module("bn", std::make_shared<nn::BatchNorm1d>(3));
    scratch = register_buffer("scratch", zeros({2}), /*persistent=*/false);
  }
  Tensor forward(const Tensor& x) override { return (*bn)((*fc)(x)); }
  std::shared_ptr<nn::Linear> fc;
  std::shared_ptr<nn::BatchNorm1d> bn;
  Tensor scratch;
};

class Net : public nn::Module {
 public:
  Net() : nn::Module("Net") {
    block = register_module("block", std::make_shared<Block>());
    head = register_module("head", std::make_shared<nn::Linear>(3, 2));
    scale = register_parameter("scale", ones({1}));
  }
  Tensor forward(const Tensor& x) override { return (*head)((*block)(x)) * scale; }
  std::shared_ptr<Block> block;
  std::shared_ptr<nn::Linear> head;
  Tensor scale;
};

std::vector<std::string> names_of(const nn::NamedTensors& list) {
  std::vector<std::string> out;
  for (auto& [name, t] : list) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("registration gives dotted names in registration order", "[nn][module]") {
  Net net;
  REQUIRE(names_of(net.named_parameters()) ==
          std::vector<std::string>{"scale", "block.fc.weight", "block.fc.bias", "block.bn.weight", "block.bn.bias",
                                   "head.weight", "head.bias"});
  REQUIRE(names_of(net.named_parameters(false)) == std::vector<std::string>{"scale"});
  REQUIRE(names_of(net.named_buffers()) ==
          std::vector<std::string>{"block.scratch", "block.bn.running_mean", "block.bn.running_var",
                                   "block.bn.num_batches_tracked"});
  auto sd = net.state_dict();
  REQUIRE(sd.size() == 10);  // 7 parameters + 3 persistent buffers (scratch is not persistent)
  REQUIRE(sd.count("block.scratch") == 0);
  // The member, the registry and the state_dict share one storage.
  REQUIRE(net.block->fc->weight.is_same(net.named_parameters()[1].second));
  REQUIRE(sd.at("head.weight").storage() == net.head->weight.storage());
  std::vector<std::string> module_names;
  for (auto& [name, m] : net.named_modules()) module_names.push_back(name);
  REQUIRE(module_names == std::vector<std::string>{"", "block", "block.fc", "block.bn", "head"});
  REQUIRE(net.child("head") == net.head);
  REQUIRE(net.child("nope") == nullptr);
  // Every parameter is a leaf requiring grad.
  for (auto& p : net.parameters()) REQUIRE((p.is_leaf() && p.requires_grad()));
}

TEST_CASE("bad registrations throw naming the module", "[nn][module]") {
  class Bad : public nn::Module {
   public:
    Bad() : nn::Module("Bad") {}
    void add(const std::string& name, Tensor t) { register_parameter(name, std::move(t)); }
    void add_child(const std::string& name) { register_module(name, std::make_shared<nn::Identity>()); }
  };
  Bad bad;
  bad.add("w", zeros({2}));
  REQUIRE_THROWS_OP(bad.add("w", zeros({2})), "Bad.register_parameter: name 'w' is already registered");
  REQUIRE_THROWS_OP(bad.add("a.b", zeros({2})), "must be non-empty and contain no '.'");
  REQUIRE_THROWS_OP(bad.add("i", zeros({2}, DType::i64)), "must be floating point");
  REQUIRE_THROWS_OP(bad.add_child("w"), "already registered");
  REQUIRE_THROWS_OP(bad(zeros({1})), "Bad.forward: this module has no single-input forward");
}

TEST_CASE("load_state_dict copies values and lists every missing, unexpected, mis-shaped key", "[nn][module]") {
  manual_seed(5);
  Net a, b;
  Tensor x = rand({5, 4}, default_generator());
  a.eval();
  b.eval();
  REQUIRE_FALSE(all_close(a(x), b(x)));
  Tensor b_weight = b.head->weight;
  b.load_state_dict(a.state_dict());
  REQUIRE(all_close(a(x), b(x), 0, 0));
  REQUIRE(b.head->weight.is_same(b_weight));  // values copied in, identity kept
  REQUIRE(b.head->weight.storage() != a.head->weight.storage());

  auto sd = a.state_dict();
  sd.erase("head.bias");
  sd.erase("block.bn.running_var");
  sd.emplace("head.extra", zeros({1}));
  sd["block.fc.weight"] = zeros({3, 5});
  try {
    b.load_state_dict(sd);
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string msg = e.what();
    REQUIRE_THAT(msg, Catch::Matchers::Contains("Net.load_state_dict"));
    REQUIRE_THAT(msg, Catch::Matchers::Contains("mis-shaped keys: block.fc.weight (checkpoint [3, 5], model [3, 4])"));
    REQUIRE_THAT(msg, Catch::Matchers::Contains("missing keys: head.bias, block.bn.running_var"));
    REQUIRE_THAT(msg, Catch::Matchers::Contains("unexpected keys: head.extra"));
  }
  // Non-strict: missing / unexpected are tolerated, a wrong shape still is not.
  REQUIRE_THROWS_OP(b.load_state_dict(sd, false), "mis-shaped keys");
  sd["block.fc.weight"] = a.block->fc->weight.detach().clone();
  b.load_state_dict(sd, false);
}

TEST_CASE("to(f64) keeps identity, so an optimizer holding a parameter sees the change", "[nn][module]") {
  Net net;
  std::vector<Tensor> held = net.parameters();  // what an optimizer keeps
  net.head->weight.set_grad(ones({2, 3}));
  net.to(DType::f64);
  for (size_t i = 0; i < held.size(); ++i) {
    REQUIRE(held[i].dtype() == DType::f64);
    REQUIRE(held[i].is_same(net.parameters()[i]));
    REQUIRE(held[i].requires_grad());
  }
  REQUIRE(net.head->weight.grad().dtype() == DType::f64);  // the gradient follows
  REQUIRE(net.block->bn->running_mean.dtype() == DType::f64);
  REQUIRE(net.block->bn->num_batches_tracked.dtype() == DType::i64);  // integers stay
  Tensor y = net(rand64({3, 4}, 1));
  REQUIRE(y.dtype() == DType::f64);
  sum(y).backward();
  REQUIRE(held[0].grad().defined());
  REQUIRE_THROWS_OP(net.to(DType::i64), "Net.to: modules convert to floating dtypes only");
}

TEST_CASE("an SGD built before to(f64) steps the converted parameters", "[nn][module]") {
  manual_seed(12);
  nn::Linear fc(3, 2);
  optim::SGD sgd({optim::ParamGroup{fc.parameters(), {}, ""}}, {{"lr", 0.5}});
  fc.to(DType::f64);
  const std::vector<double> before = values(fc.weight);
  Tensor x = ones({1, 3}, DType::f64);
  sum(fc(x)).backward();  // d/dW of sum(W x + b) = 1 everywhere
  sgd.step();
  REQUIRE(fc.weight.dtype() == DType::f64);
  for (size_t i = 0; i < before.size(); ++i) REQUIRE(values(fc.weight)[i] == Approx(before[i] - 0.5));
}

TEST_CASE("train/eval recurse; apply visits children first; requires_grad_ and num_parameters", "[nn][module]") {
  Net net;
  net.eval();
  for (auto& [name, m] : net.named_modules()) REQUIRE_FALSE(m->is_training());
  net.train();
  for (auto& [name, m] : net.named_modules()) REQUIRE(m->is_training());

  std::vector<std::string> order;
  net.apply([&](nn::Module& m) { order.push_back(m.type_name()); });
  REQUIRE(order == std::vector<std::string>{"Linear", "BatchNorm1d", "Block", "Linear", "Net"});
  // apply as init: zero every Linear bias.
  net.apply([](nn::Module& m) {
    if (auto* fc = dynamic_cast<nn::Linear*>(&m)) nn::init::zeros_(fc->bias);
  });
  REQUIRE(values(net.head->bias) == std::vector<double>{0.0, 0.0});

  // 1 + (4*3 + 3) + (3 + 3) + (3*2 + 2) = 30
  REQUIRE(net.num_parameters() == 30);
  net.block->requires_grad_(false);
  REQUIRE(net.num_parameters(true) == 30 - 21);
  net.requires_grad_(true);
  REQUIRE(net.num_parameters(true) == 30);
}

TEST_CASE("a shared (tied) parameter is listed and counted once, but saved under both names", "[nn][module]") {
  class Tied : public nn::Module {
   public:
    Tied() : nn::Module("Tied") {
      a = register_module("a", std::make_shared<nn::Linear>(3, 3, false));
      b = register_module("b", a);  // the same module twice
    }
    std::shared_ptr<nn::Linear> a, b;
  };
  Tied tied;
  REQUIRE(tied.parameters().size() == 1);  // an optimizer steps it once
  REQUIRE(names_of(tied.named_parameters()) == std::vector<std::string>{"a.weight"});
  REQUIRE(tied.num_parameters() == 9);
  REQUIRE(tied.state_dict().size() == 2);  // a.weight and b.weight, as PyTorch
}

TEST_CASE("forward hooks see input and output, can be removed, even from inside a hook", "[nn][module]") {
  nn::Linear fc(2, 3);
  int calls = 0;
  Shape seen_in, seen_out;
  size_t h = fc.register_forward_hook([&](nn::Module& m, const Tensor& in, const Tensor& out) {
    REQUIRE(&m == &fc);
    seen_in = in.sizes();
    seen_out = out.sizes();
    ++calls;
  });
  size_t once = 0;
  once = fc.register_forward_hook([&](nn::Module& m, const Tensor&, const Tensor&) {
    ++calls;
    m.remove_forward_hook(once);
  });
  fc(zeros({4, 2}));
  REQUIRE(calls == 2);
  REQUIRE(seen_in == Shape{4, 2});
  REQUIRE(seen_out == Shape{4, 3});
  fc(zeros({4, 2}));
  REQUIRE(calls == 3);  // the one-shot hook removed itself
  fc.remove_forward_hook(h);
  fc(zeros({4, 2}));
  REQUIRE(calls == 3);
}

TEST_CASE("Sequential / ModuleList name children 0, 1, ... and chain forward", "[nn][module]") {
  manual_seed(8);
  auto fc1 = std::make_shared<nn::Linear>(4, 5);
  auto fc2 = std::make_shared<nn::Linear>(5, 2);
  nn::Sequential seq{fc1, nn::ReLU(), fc2};
  REQUIRE(seq.size() == 3);
  REQUIRE(names_of(seq.named_parameters()) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  Tensor x = rand({3, 4}, default_generator());
  REQUIRE(all_close(seq(x), (*fc2)(relu((*fc1)(x))), 0, 0));
  REQUIRE(seq[2] == fc2);
  REQUIRE_THROWS_OP(seq[3], "Sequential[3]: index out of range (size 3)");
  nn::ModuleList list;
  list.push_back(fc1).push_back(fc2);
  REQUIRE(list.at<nn::Linear>(1)->out_features == 2);
  REQUIRE(list.num_parameters() == 4 * 5 + 5 + 5 * 2 + 2);
  REQUIRE_THROWS_OP(list(x), "ModuleList.forward");
  REQUIRE(nn::to_string(seq) ==
          "Sequential(\n  (0): Linear(in_features=4, out_features=5, bias=True)\n  (1): ReLU()\n"
          "  (2): Linear(in_features=5, out_features=2, bias=True)\n)");
}

TEST_CASE("summary: one row per module with output shapes and parameter totals", "[nn][module][summary]") {
  Net net;
  net.train();
  const std::string s = nn::summary(net, {2, 4});
  INFO(s);
  REQUIRE_THAT(s, Catch::Matchers::Contains("Net"));
  REQUIRE_THAT(s, Catch::Matchers::Contains("(block)"));
  REQUIRE_THAT(s, Catch::Matchers::Contains("(fc)"));
  REQUIRE_THAT(s, Catch::Matchers::Contains("BatchNorm1d"));
  REQUIRE_THAT(s, Catch::Matchers::Contains("[2, 3]"));
  REQUIRE_THAT(s, Catch::Matchers::Contains("[2, 2]"));
  REQUIRE_THAT(s, Catch::Matchers::Contains("Total params: 30"));
  REQUIRE_THAT(s, Catch::Matchers::Contains("Trainable params: 30"));
  REQUIRE_THAT(s, Catch::Matchers::Contains("Params size (MB): 0.00"));
  REQUIRE(net.is_training());  // mode restored
  REQUIRE(net.block->bn->num_batches_tracked.item<int64_t>() == 0);  // ran in eval mode
  // Hooks are gone: a second summary does not double rows.
  REQUIRE(nn::summary(net, {2, 4}) == s);
  // max_depth 1 folds block's children into its row: 15 + 6 = 21 parameters.
  const std::string shallow = nn::summary(net, {2, 4}, 1);
  REQUIRE_THAT(shallow, Catch::Matchers::Contains("21"));
  REQUIRE_THAT(shallow, !Catch::Matchers::Contains("(fc)"));
  // A bad input shape surfaces the layer's error, and the hooks are still removed.
  REQUIRE_THROWS_OP(nn::summary(net, {2, 5}), "Linear: expected input (*, 4)");
  REQUIRE(nn::summary(net, {2, 4}) == s);

  // Sizes: input 250x1000 f32 = 1 MB; output 1 MB, counted twice (values and gradients) = 2 MB;
  // parameters 1,001,000 x 4 bytes = 4.004 MB.
  nn::Sequential big{std::make_shared<nn::Linear>(1000, 1000)};
  const std::string sizes = nn::summary(big, {250, 1000});
  INFO(sizes);
  REQUIRE_THAT(sizes, Catch::Matchers::Contains("Total params: 1,001,000"));
  REQUIRE_THAT(sizes, Catch::Matchers::Contains("Input size (MB): 1.00 ([250, 1000])"));
  REQUIRE_THAT(sizes, Catch::Matchers::Contains("Forward/backward pass size (MB): 2.00"));
  REQUIRE_THAT(sizes, Catch::Matchers::Contains("Params size (MB): 4.00"));
  REQUIRE_THAT(sizes, Catch::Matchers::Contains("Estimated Total Size (MB): 7.00"));
}
