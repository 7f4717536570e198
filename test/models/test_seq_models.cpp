// The sequence models of models/seq/ (Transformer, MEGA, CHELA, LongVQ): output shapes, parameter
// counts against hand-worked formulas, causal models never looking ahead, padding never changing
// pooled outputs, CHELA's re-parameterized kernel giving the same outputs, float64 finite-difference
// gradients of whole blocks, a tiny model learning a toy task, the equal-budget width search and
// the errors bad configs give. Twins: models/seq/*.cpp. Tag [seq_models].
#include <algorithm>
#include <cmath>
#include <map>

#include "helpers.h"
#include "models/seq/chela.h"
#include "models/seq/longvq.h"
#include "models/seq/mega.h"
#include "models/seq/seq_zoo.h"
#include "models/seq/transformer.h"
#include "optim/adamw.h"

using namespace ember;
using namespace ember::models::seq;
using ember::test::all_close;
using ember::test::values;

namespace {

constexpr int64_t kVocab = 11;  // token 0 is padding in the classification configs

SeqModelConfig tiny_config(const std::string& task = "classify") {
  SeqModelConfig config;
  config.vocab_size = kVocab;
  config.pad_id = task == "classify" ? 0 : -1;
  config.task = task;
  config.num_classes = 3;
  config.d_model = 8;
  config.depth = 2;
  config.num_heads = 2;
  config.z_dim = 4;
  config.n_dim = 2;
  config.short_kernel = 3;
  config.long_base = 2;
  config.max_len = 64;
  config.chunk_size = 4;  // several tiles even on short test sequences
  config.codebook_size = 8;
  config.window = 3;
  return config;
}

// Tokens (B, L) drawn from 1..kVocab-1 (never padding).
Tensor random_tokens(int64_t B, int64_t L, uint64_t seed) {
  Generator gen(seed);
  return randint(1, kVocab, {B, L}, gen);
}

std::shared_ptr<SeqModel> build(const std::string& name, const SeqModelConfig& config, DType dtype = DType::f64) {
  manual_seed(7);
  auto model = create_seq_model(name, config);
  model->to(dtype);
  model->eval();
  return model;
}

}  // namespace

TEST_CASE("sequence models: output shapes for classification, LM and float inputs", "[seq_models]") {
  for (const std::string& name : seq_model_names()) {
    INFO(name);
    const Tensor tokens = random_tokens(2, 13, 1);
    CHECK(build(name, tiny_config("classify"))->forward(tokens).sizes() == Shape({2, 3}));
    CHECK(build(name, tiny_config("lm"))->forward(tokens).sizes() == Shape({2, 13, kVocab}));
    SeqModelConfig pixels = tiny_config();
    pixels.vocab_size = 0;
    pixels.pad_id = -1;
    Generator gen(2);
    const Tensor x = uniform(0.0, 1.0, {2, 13}, gen, DType::f64);
    CHECK(build(name, pixels)->forward(x).sizes() == Shape({2, 3}));
    // Each block alone maps (B, L, D) to (B, L, D).
    SeqModelConfig config = tiny_config();
    auto block = create_seq_block(name, config);
    block->eval();
    CHECK(block->forward(uniform(-1.0, 1.0, {2, 5, 8}, gen)).sizes() == Shape({2, 5, 8}));
  }
}

TEST_CASE("sequence models: parameter counts equal the hand-worked formulas", "[seq_models]") {
  const SeqModelConfig c = tiny_config();
  const int64_t V = kVocab, D = c.d_model, C = c.num_classes, F = 2 * D, H = 2 * D, z = c.z_dim, N = c.n_dim;
  const int64_t embed_and_head = V * D + 2 * D /* final norm */ + D * C + C;
  const int64_t ffn = 2 * D + (D * F + F) + (F * D + D);
  // Transformer block: norm1, in_proj (3D x D + 3D), out_proj (D x D + D), FFN.
  const int64_t transformer_block = 2 * D + 3 * D * D + 3 * D + D * D + D + ffn;
  // Gated block: norm, v_proj (D -> H), mx_proj (D -> 2D + z + H), h_proj (H -> D), gamma and beta (2, z).
  const int64_t gated = 2 * D + (D * H + H) + (D * (2 * D + z + H) + 2 * D + z + H) + (H * D + D) + 4 * z + ffn;
  const int64_t ema = 4 * D * N + D;
  // CHELA's bidirectional short-long conv: short taps and bias, omega, 2 directions x J levels x D x K0.
  const int64_t J = hierarchy_levels(c.long_base, c.max_len);
  CHECK(J == 6);  // coverage 2 (2^J - 1): 62 < 64 <= 126
  const int64_t chela_conv = D * c.short_kernel + D + D + 2 * J * D * c.long_base;
  const int64_t longvq_extra = ema + c.window;  // the codebook is an EMA buffer, not a parameter
  CHECK(count_seq_parameters("transformer", c) == embed_and_head + 2 * transformer_block);
  CHECK(count_seq_parameters("mega", c) == embed_and_head + 2 * (gated + ema));
  CHECK(count_seq_parameters("chela", c) == embed_and_head + 2 * (gated + chela_conv));
  CHECK(count_seq_parameters("longvq", c) == embed_and_head + 2 * (gated + longvq_extra));
  // A causal CHELA has one direction of long weights.
  SeqModelConfig lm = tiny_config("lm");
  const int64_t lm_head = V * D + 2 * D + D * V + V;
  CHECK(count_seq_parameters("chela", lm) ==
        lm_head + 2 * (gated + D * c.short_kernel + 2 * D + J * D * c.long_base));
}

TEST_CASE("sequence models: causal language models do not look ahead", "[seq_models]") {
  // L spans several LongVQ windows (3), linear-attention chunks (4) and long-kernel levels.
  const int64_t L = 17;
  for (const std::string& name : seq_model_names()) {
    for (const bool merged : {false, true}) {
      if (merged && name != "chela") continue;
      INFO(name << (merged ? " re-parameterized" : ""));
      auto model = build(name, tiny_config("lm"));
      if (merged) model->reparameterize();
      const Tensor tokens = random_tokens(2, L, 3);
      const Tensor before = model->forward(tokens);
      for (const int64_t cut : {0, 1, 4, 9, 16}) {
        INFO("bytes from " << cut << " on changed");
        Tensor changed = tokens.clone();
        changed.narrow(1, cut, L - cut).copy_(random_tokens(2, L - cut, 4 + cut));
        const Tensor after = model->forward(changed);
        // Positions < cut see the same past: identical logits; position cut sees a different token.
        if (cut > 0) CHECK(all_close(after.narrow(1, 0, cut), before.narrow(1, 0, cut), 1e-9, 1e-9));
        CHECK_FALSE(all_close(after.narrow(1, cut, 1), before.narrow(1, cut, 1), 1e-6, 1e-6));
      }
    }
  }
}

TEST_CASE("sequence blocks: a causal block's output at t has no gradient from inputs after t", "[seq_models]") {
  // The exact form of the test above, block by block: d out[:, t] / d x[:, s] = 0 for s > t. The
  // FFT convolutions leave round-off there (~1e-17), hence the relative bound.
  const int64_t L = 19;
  for (const std::string& name : seq_model_names()) {
    INFO(name);
    SeqModelConfig config = tiny_config("lm");
    config.causal = true;  // create_seq_model forces it for "lm"; a bare block takes it as given
    manual_seed(5);
    auto block = create_seq_block(name, config);
    block->to(DType::f64);
    block->eval();
    for (const int64_t t : {0, 2, 7, 12, 18}) {
      INFO("output position " << t);
      const Tensor x = ember::test::rand64({2, L, config.d_model}, 21).requires_grad_(true);
      sum(block->forward(x).narrow(1, t, 1)).backward();
      const Tensor g = abs(x.grad());  // (2, L, D)
      const double past = max(g.narrow(1, 0, t + 1)).item<double>();
      CHECK(past > 1e-3);
      CHECK(max(g.narrow(1, t, 1)).item<double>() > 0.0);  // the token itself takes part
      if (t + 1 < L) CHECK(max(g.narrow(1, t + 1, L - t - 1)).item<double>() <= 1e-12 * past);
    }
  }
}

TEST_CASE("sequence models: padding does not change the pooled outputs", "[seq_models]") {
  for (const std::string& name : seq_model_names()) {
    INFO(name);
    auto model = build(name, tiny_config("classify"));
    const Tensor short_tokens = random_tokens(1, 7, 5);
    // The same sequence padded to 12 (pad id 0) and batched with a full-length one.
    const Tensor padded = cat({pad(short_tokens, {0, 5}), random_tokens(1, 12, 6)}, 0);
    const Tensor alone = model->forward(short_tokens);
    const Tensor batched = model->forward(padded);
    CHECK(all_close(batched.narrow(0, 0, 1), alone, 1e-9, 1e-9));
    // Whatever the padded positions hold (here: real tokens, masked out by hand) cannot leak in either.
    CHECK_FALSE(all_close(batched.narrow(0, 1, 1), alone, 1e-6, 1e-6));
  }
}

TEST_CASE("CHELA: the re-parameterized single kernel gives the same outputs", "[seq_models]") {
  for (const std::string task : {"classify", "lm"}) {
    INFO(task);
    SeqModelConfig config = tiny_config(task);
    config.short_kernel = 4;
    auto model = build("chela", config);
    for (const int64_t L : {3, 20, 64, 80}) {  // shorter than the short kernel's reach .. past the coverage
      INFO("L = " << L);
      const Tensor tokens = random_tokens(2, L, 8 + static_cast<uint64_t>(L));
      auto fresh = build("chela", config);
      const Tensor reference = fresh->forward(tokens);
      fresh->reparameterize();
      const auto conv = std::dynamic_pointer_cast<ChelaBlock>((*fresh->blocks)[0])->conv;
      REQUIRE(conv->reparameterized());
      CHECK(all_close(fresh->forward(tokens), reference, 1e-9, 1e-10));
    }
  }
  // The merged kernel is the long kernel plus omega and the short taps at offset 0 (causal layout).
  SeqModelConfig config = tiny_config("lm");
  auto model = build("chela", config);
  const auto conv = std::dynamic_pointer_cast<ChelaBlock>((*model->blocks)[0])->conv;
  const Tensor merged = conv->merged_kernel(10), long_only = conv->long_kernel(10);
  const std::vector<double> m = values(merged), k = values(long_only), w = values(conv->short_weight),
                            omega = values(conv->omega);
  for (int64_t d = 0; d < config.d_model; ++d)
    for (int64_t s = 0; s < 10; ++s) {
      double expected = k[d * 10 + s] + (s < 3 ? w[d * 3 + s] : 0.0) + (s == 0 ? omega[d] : 0.0);
      CHECK(m[d * 10 + s] == Approx(expected).epsilon(1e-12));
    }
}

TEST_CASE("CHELA: the hierarchical long kernel stretches and decays its levels", "[seq_models]") {
  SeqModelConfig config = tiny_config("lm");
  config.long_base = 2;
  config.long_levels = 3;
  config.long_decay = 0.5;
  auto model = build("chela", config);
  const auto conv = std::dynamic_pointer_cast<ChelaBlock>((*model->blocks)[0])->conv;
  REQUIRE(conv->coverage() == 14);  // 2 + 4 + 8
  const Tensor kernel = conv->long_kernel(100);
  REQUIRE(kernel.sizes() == Shape({8, 14}));
  const std::vector<double> k = values(kernel), w = values(conv->long_weight);  // w: (1, 3, 8, 2)
  // Channel 5: level 0 taps as they are, level 1 each twice * 0.5, level 2 each four times * 0.25.
  const int64_t d = 5;
  auto weight = [&](int64_t level, int64_t tap) { return w[(level * 8 + d) * 2 + tap]; };
  const std::vector<double> expected = {
      weight(0, 0),        weight(0, 1),        0.5 * weight(1, 0),  0.5 * weight(1, 0),  0.5 * weight(1, 1),
      0.5 * weight(1, 1),  0.25 * weight(2, 0), 0.25 * weight(2, 0), 0.25 * weight(2, 0), 0.25 * weight(2, 0),
      0.25 * weight(2, 1), 0.25 * weight(2, 1), 0.25 * weight(2, 1), 0.25 * weight(2, 1)};
  CHECK(all_close(std::vector<double>(k.begin() + d * 14, k.begin() + (d + 1) * 14), expected, 1e-12, 0.0));
  CHECK(conv->long_kernel(5).sizes() == Shape({8, 5}));  // cut to the sequence
}

TEST_CASE("sequence blocks: float64 finite differences match backward", "[seq_models]") {
  for (const std::string name : {"transformer", "mega", "chela"}) {
    for (const bool causal : {false, true}) {
      INFO(name << (causal ? " causal" : " bidirectional"));
      SeqModelConfig config = tiny_config();
      config.d_model = 4;
      config.num_heads = 2;
      config.z_dim = 2;
      config.ffn_ratio = 1.0;
      config.causal = causal;
      config.long_base = 2;
      config.max_len = 6;
      config.chunk_size = 2;
      manual_seed(11);
      auto block = create_seq_block(name, config);
      block->to(DType::f64);
      block->eval();
      const Tensor x = ember::test::rand64({2, 5, 4}, 12);
      TensorList inputs = {x};
      for (const Tensor& p : block->parameters()) inputs.push_back(p);
      const Tensor mask = causal ? Tensor() : from_vector(std::vector<uint8_t>{1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
                                                          {2, 5}).to(DType::bool_);
      const auto f = [&](const TensorList& in) -> TensorList { return {block->forward(in[0], mask)}; };
      GradcheckOptions options;
      options.max_elements = 8;  // per input: the block has ~20 parameter tensors
      CHECK(gradcheck(f, inputs, options));
    }
  }
}

TEST_CASE("sequence models: a tiny model learns majority-of-two-tokens to high accuracy", "[seq_models]") {
  // Label: whether token 1 or token 2 occurs more often among the first 15 positions (only 1s and
  // 2s, so never a tie), followed by 4 noise tokens. Needs counting over the whole sequence (the
  // mean pool of token-wise features suffices, so every family must get it).
  const int64_t B = 64, counted = 15, L = counted + 4;
  // Tensors this small gain nothing from threads; one thread keeps the run short on a busy machine.
  const int previous_threads = num_threads();
  set_num_threads(1);
  auto make_batch = [&](uint64_t seed) {
    Generator gen(seed);
    const Tensor tokens = cat({randint(1, 3, {B, counted}, gen), randint(3, kVocab, {B, L - counted}, gen)}, 1);
    const std::vector<double> t = values(tokens);
    std::vector<int64_t> labels(B);
    for (int64_t b = 0; b < B; ++b) {
      int64_t ones = 0;
      for (int64_t i = 0; i < counted; ++i) ones += t[b * L + i] == 1.0;
      labels[b] = 2 * ones > counted ? 1 : 0;
    }
    return std::make_pair(tokens, from_vector(labels, {B}));
  };
  for (const std::string name : {"transformer", "chela"}) {
    INFO(name);
    SeqModelConfig config = tiny_config();
    config.num_classes = 2;
    config.d_model = 16;
    config.depth = 1;
    config.max_len = L;
    manual_seed(3);
    auto model = create_seq_model(name, config);
    optim::AdamW optimizer({{model->parameters(), {}, "all"}}, {{"lr", 1e-2}, {"weight_decay", 0.0}});
    for (int64_t step = 0; step < 150; ++step) {
      auto [tokens, labels] = make_batch(100 + static_cast<uint64_t>(step));
      const Tensor loss = cross_entropy(model->forward(tokens), labels);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
    }
    model->eval();
    auto [tokens, labels] = make_batch(7);
    const Tensor predicted = argmax(model->forward(tokens), 1);
    const double accuracy = values(sum(eq(predicted, labels)))[0] / static_cast<double>(B);
    CHECK(accuracy >= 0.9);
  }
  set_num_threads(previous_threads);
}

TEST_CASE("sequence models: equal parameter budgets", "[seq_models]") {
  SeqModelConfig config = tiny_config();
  const int64_t target = count_seq_parameters("mega", [&] {
    SeqModelConfig c = config;
    c.d_model = 32;
    return c;
  }());
  for (const std::string& name : seq_model_names()) {
    INFO(name);
    const SeqModelConfig matched = match_parameter_budget(name, config, target);
    const int64_t count = count_seq_parameters(name, matched);
    CHECK(std::abs(static_cast<double>(count - target)) / static_cast<double>(target) < 0.1);
    // No neighbouring width is closer.
    for (const int64_t step : {-4, 4}) {
      SeqModelConfig other = matched;
      other.d_model += step * (name == "transformer" ? config.num_heads / 2 : 1);
      if (other.d_model <= 0) continue;
      CHECK(std::abs(count_seq_parameters(name, other) - target) >= std::abs(count - target));
    }
  }
}

TEST_CASE("sequence models: bad configs and inputs are errors naming the model", "[seq_models]") {
  SeqModelConfig config = tiny_config();
  REQUIRE_THROWS_OP(create_seq_model("s4", config), "unknown model \"s4\"");
  SeqModelConfig lm = tiny_config("lm");
  lm.vocab_size = 0;
  REQUIRE_THROWS_OP(create_seq_model("chela", lm), "task \"lm\" needs token inputs");
  SeqModelConfig heads = tiny_config();
  heads.num_heads = 3;
  REQUIRE_THROWS_OP(create_seq_model("transformer", heads), "TransformerBlock");
  SeqModelConfig odd = tiny_config();
  odd.n_dim = 3;
  REQUIRE_THROWS_OP(create_seq_model("mega", odd), "DampedEma");
  auto model = build("chela", config);
  REQUIRE_THROWS_OP(model->forward(ones({2, 5}, DType::f64)), "SeqModel(chela): expected int64 tokens");
  auto block = create_seq_block("mega", config);
  REQUIRE_THROWS_OP(block->forward(ones({2, 5, 3})), "MegaBlock: expected x (B, L, 8)");
}

TEST_CASE("LongVQ: an attached auxiliary loss is back-propagated with gradient 1", "[seq_models]") {
  const Tensor x = ember::test::f64({1.0, -2.0, 3.0}, {3});
  const Tensor p = ember::test::f64({0.5, 4.0}, {2});
  const Tensor out = attach_auxiliary_loss(x, sum(square(p)));  // forward: x unchanged
  CHECK(all_close(out, {1.0, -2.0, 3.0}, 0.0, 0.0));
  sum(out * 2.0).backward();
  CHECK(all_close(x.grad(), {2.0, 2.0, 2.0}, 0.0, 0.0));  // the output's own gradient
  CHECK(all_close(p.grad(), {1.0, 8.0}, 0.0, 0.0));       // d(sum p²)/dp with weight 1
}
