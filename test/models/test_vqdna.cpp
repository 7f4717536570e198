// VQDNA (models/vqdna/): the ConvNeXt-1D tokenizer (VQ-VAE and HRQ), the BERT-style encoder over
// codes, BERT's masking rule, the classifier heads (fine-tune and linear probe), the pipeline and the
// synthetic genome generator. Parameter counts are checked against formulas worked by hand here.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "engine/random.h"
#include "models/vqdna/bert.h"
#include "models/vqdna/synthetic_genome.h"
#include "models/vqdna/tokenizer.h"
#include "ops/ops.h"
#include "optim/optimizer.h"
#include "test/helpers.h"

using namespace ember;
using namespace ember::models::vqdna;
using ember::test::all_close;
using ember::test::values;

namespace {

// Parameters of one ConvNeXt-1D block: depthwise conv (d·k + d), LayerNorm (2d), MLP
// (d·h + h + h·d + d), layer scale (d).
int64_t block_params(int64_t d, int64_t k, int64_t h) { return d * k + d + 2 * d + d * h + h + h * d + d + d; }

// One pre-norm transformer block: 2 LayerNorms, qkv (d·3d + 3d), proj (d² + d), MLP (2dh + h + d).
int64_t transformer_block_params(int64_t d, int64_t h) {
  return 4 * d + 3 * d * d + 3 * d + d * d + d + 2 * d * h + h + d;
}

int64_t bert_params(const BertConfig& c) {
  const auto h = static_cast<int64_t>(static_cast<double>(c.dim) * c.mlp_ratio);
  return c.code_dim * c.dim + c.dim /*input_proj*/ + c.dim /*mask_token*/ + c.max_length * c.dim /*pos*/ +
         2 * c.dim /*embed_norm*/ + c.depth * transformer_block_params(c.dim, h) + 2 * c.dim /*norm*/;
}

BertConfig small_bert(std::vector<int64_t> codebook_sizes = {16}) {
  BertConfig c;
  c.code_dim = 8;
  c.codebook_sizes = std::move(codebook_sizes);
  c.dim = 32;
  c.depth = 2;
  c.num_heads = 4;
  c.max_length = 64;
  c.drop_rate = 0.0;
  c.attn_drop_rate = 0.0;
  return c;
}

std::map<std::string, std::vector<double>> snapshot(const nn::Module& module) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& [name, tensor] : module.state_dict()) out[name] = values(tensor.to(DType::f64));
  return out;
}

}  // namespace

TEST_CASE("ConvNeXt-1D block: shape, parameter count, residual at zero layer scale", "[vqdna]") {
  manual_seed(0);
  ConvNeXtBlock1d block(12, 7, 4.0, 0.0, 1e-6);
  CHECK(block.num_parameters() == block_params(12, 7, 48));
  const Tensor x = randn({3, 21, 12});  // (B, L, D), odd length
  const Tensor y = block(x);
  CHECK(y.sizes() == Shape({3, 21, 12}));
  // Layer scale 1e-6: the block starts close to the identity (as ConvNeXt's).
  CHECK(all_close(y, x, 0.0, 1e-3));
  // The depthwise conv mixes along the sequence only: a change at position 10 reaches 7 // 2 = 3
  // positions either side and no further.
  ConvNeXtBlock1d wide(12, 7, 4.0, 0.0, 1.0);
  Tensor x2 = x.clone();
  {
    NoGradGuard no_grad;
    x2.select(1, 10).add_(1.0);
  }
  const Tensor diff = sum(abs(wide(x2) - wide(x)), {0, 2});  // (L)
  for (int64_t i = 0; i < 21; ++i) {
    const bool reached = diff[i].item<float>() > 1e-6f;
    CHECK(reached == (i >= 7 && i <= 13));
  }
  CHECK_THROWS_AS(ConvNeXtBlock1d(12, 6, 4.0, 0.0, 1e-6), Error);  // even kernel
}

TEST_CASE("BERT encoder over codes: shapes and parameter counts", "[vqdna]") {
  manual_seed(1);
  const BertConfig config = small_bert({16, 32});
  BertForMaskedModeling model(config);
  CHECK(model.encoder->num_parameters() == bert_params(config));
  const int64_t head_params = 32 * 32 + 32 + 2 * 32 + (32 * 16 + 16) + (32 * 32 + 32);
  CHECK(model.head->num_parameters() == head_params);

  Tensor codes = stack({randint(0, 16, {2, 10}), randint(0, 32, {2, 10})}, 2);  // (B, L, levels)
  const Tensor hidden = model.encoder->forward(codes);
  CHECK(hidden.sizes() == Shape({2, 10, 32}));
  const std::vector<Tensor> logits = model.head->logits(hidden);
  REQUIRE(logits.size() == 2);
  CHECK(logits[0].sizes() == Shape({2, 10, 16}));
  CHECK(logits[1].sizes() == Shape({2, 10, 32}));

  // The code tables are buffers, not parameters: set_codebooks fills them and nothing trains them.
  CHECK(model.encoder->state_dict().count("code_embeddings_1") == 1);
  model.encoder->set_codebooks({randn({16, 8}), randn({32, 8})});
  CHECK_THROWS_AS(model.encoder->set_codebooks({randn({16, 8})}), Error);
  CHECK_THROWS_AS(model.encoder->set_codebooks({randn({16, 8}), randn({31, 8})}), Error);
  // Bad inputs: wrong number of levels, out-of-range code, too long.
  CHECK_THROWS_AS(model.encoder->forward(randint(0, 16, {2, 10, 1})), Error);
  CHECK_THROWS_AS(model.encoder->forward(stack({full({2, 10}, 16.0, TensorOptions(DType::i64)),
                                                  randint(0, 32, {2, 10})}, 2)),
                  Error);
  CHECK_THROWS_AS(model.encoder->forward(randint(0, 16, {1, 65, 2})), Error);
}

TEST_CASE("BERT-base over VQDNA codes has the paper's 86M parameters", "[vqdna]") {
  // papers.md §4.1: "BERT-base encoder (86M)" over 384-d codes, sequence length 512.
  BertConfig config;  // the defaults are the paper's sizes
  CHECK(bert_params(config) > 85'500'000);
  CHECK(bert_params(config) < 86'500'000);
  // Counting without building: the formula is checked against the module at small sizes above.
  const BertConfig small = small_bert();
  CHECK(BertEncoder(small).num_parameters() == bert_params(small));
}

TEST_CASE("masking follows BERT's rule: 25% selected, then 80/10/10", "[vqdna]") {
  const std::vector<int64_t> sizes = {50, 100};
  Generator code_gen(7);
  const Tensor codes = stack({randint(0, 50, {64, 1000}, code_gen), randint(0, 100, {64, 1000}, code_gen)}, 2);
  Generator gen(123);
  const MaskedCodes batch = mask_codes(codes, sizes, 0.25, gen);
  const int64_t positions = 64 * 1000;
  const int64_t levels = 2;
  const int64_t* original = codes.contiguous().data_ptr<int64_t>();
  const int64_t* inputs = batch.inputs.data_ptr<int64_t>();
  const int64_t* targets = batch.targets.data_ptr<int64_t>();
  const bool* masked = batch.mask_positions.data_ptr<bool>();
  const bool* selected = batch.selected.data_ptr<bool>();
  int64_t n_selected = 0, n_masked = 0, n_changed = 0, n_random_or_kept = 0;
  for (int64_t p = 0; p < positions; ++p) {
    bool changed = false;
    for (int64_t l = 0; l < levels; ++l) {
      const int64_t i = p * levels + l;
      if (inputs[i] < 0 || inputs[i] >= sizes[static_cast<size_t>(l)]) FAIL("code out of range at position " << p);
      changed = changed || inputs[i] != original[i];
      // Targets: the original code where selected, ignored (-100) elsewhere.
      if (selected[p] ? targets[i] != original[i] : targets[i] != -100) FAIL("bad target at position " << p);
    }
    if (!selected[p] && (changed || masked[p])) FAIL("unselected position " << p << " was altered");
    n_selected += selected[p];
    n_masked += masked[p];
    if (selected[p] && !masked[p]) {
      ++n_random_or_kept;
      n_changed += changed;
    }
  }
  // Binomial bounds at 5 standard deviations.
  const auto near = [](double count, double n, double p) {
    return std::abs(count - n * p) < 5.0 * std::sqrt(n * p * (1.0 - p));
  };
  CHECK(near(static_cast<double>(n_selected), positions, 0.25));
  CHECK(near(static_cast<double>(n_masked), static_cast<double>(n_selected), 0.8));
  // Of the non-[MASK] selections half are random codes; a random pair equals the original with
  // probability 1/(50·100), so about half of them change.
  CHECK(near(static_cast<double>(n_changed), static_cast<double>(n_random_or_kept), 0.5 * (1.0 - 1.0 / 5000)));
  // The same generator state gives the same masks.
  Generator again(123);
  const MaskedCodes repeat = mask_codes(codes, sizes, 0.25, again);
  CHECK(values(repeat.inputs) == values(batch.inputs));
  CHECK(values(repeat.mask_positions) == values(batch.mask_positions));
  CHECK_THROWS_AS(mask_codes(codes, {50}, 0.25, gen), Error);
  CHECK_THROWS_AS(mask_codes(codes, sizes, 1.5, gen), Error);
}

TEST_CASE("masked code modeling loss falls on structured codes", "[vqdna]") {
  manual_seed(3);
  BertConfig config = small_bert({8});
  BertForMaskedModeling model(config);
  model.encoder->set_codebooks({randn({8, 8})});
  // Codes that repeat with period 4: a masked code is predictable from its neighbours.
  Tensor codes = remainder(arange(0.0, 32.0, 1.0, TensorOptions(DType::i64)), 4.0).view({1, 32, 1});
  codes = codes.expand({8, 32, 1}).contiguous();
  auto optimizer = optim::make_optimizer("adamw", optim::weight_decay_groups(model.named_parameters(), 0.0),
                                         {{"lr", 3e-3}});
  Generator gen(5);
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 40; ++step) {
    const MaskedCodes batch = mask_codes(codes, config.codebook_sizes, 0.25, gen);
    Tensor loss = model.pretrain_loss(batch);
    if (step == 0) first = loss.item<float>();
    last = loss.item<float>();
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
  }
  CHECK(first > 1.5);        // about log(8) at the start
  CHECK(last < 0.5 * first);
}

TEST_CASE("linear probe trains only the head; fine-tuning trains the encoder too", "[vqdna]") {
  manual_seed(4);
  const BertConfig config = small_bert({16});
  for (const bool probe : {true, false}) {
    auto encoder = std::make_shared<BertEncoder>(config);
    encoder->set_codebooks({randn({16, 8})});
    auto classifier = std::make_shared<BertClassifier>(encoder, 3, probe);
    classifier->train();
    CHECK(encoder->is_training() == !probe);  // the probe's encoder stays in eval mode
    const auto before = snapshot(*encoder);
    const auto head_before = snapshot(*classifier->head);
    auto optimizer = optim::make_optimizer("adamw", optim::weight_decay_groups(classifier->named_parameters(), 0.05),
                                           {{"lr", 1e-2}});
    const Tensor codes = randint(0, 16, {4, 12, 1});
    const Tensor labels = from_vector<int64_t>({0, 1, 2, 1});
    for (int step = 0; step < 3; ++step) {
      Tensor logits = (*classifier)(codes);
      CHECK(logits.sizes() == Shape({4, 3}));
      Tensor loss = cross_entropy(logits, labels);
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
    }
    CHECK((snapshot(*classifier->head) != head_before));
    if (probe) {
      CHECK(snapshot(*encoder) == before);
      for (const Tensor& p : encoder->parameters()) CHECK_FALSE(p.grad().defined());
      CHECK(classifier->num_parameters(/*trainable_only=*/true) == 32 * 3 + 3);
    } else {
      CHECK(snapshot(*encoder) != before);
    }
  }
}

TEST_CASE("synthetic genome tasks are deterministic, balanced and in range", "[vqdna]") {
  SyntheticGenomeOptions options;
  options.num_classes = 3;
  options.length = 50;
  options.train_size = 600;
  options.test_size = 30;
  options.n_rate = 0.01;
  const SyntheticGenomeTask a = make_synthetic_genome_task(options);
  const SyntheticGenomeTask b = make_synthetic_genome_task(options);
  CHECK(a.train.bases.sizes() == Shape({600, 50}));
  CHECK(a.test.labels.sizes() == Shape({30}));
  CHECK(values(a.train.bases) == values(b.train.bases));
  CHECK(min(a.train.bases).item<int64_t>() == 0);
  CHECK(max(a.train.bases).item<int64_t>() == 4);  // some N
  std::vector<int64_t> counts(3, 0);
  for (double label : values(a.train.labels)) ++counts.at(static_cast<size_t>(label));
  for (int64_t count : counts) CHECK(std::abs(count - 200) < 5 * 12);  // binomial sd about 11.5
  options.seed = 1;
  CHECK(values(make_synthetic_genome_task(options).train.bases) != values(a.train.bases));
  options.num_classes = 1;
  CHECK_THROWS_AS(make_synthetic_genome_task(options), Error);
}
