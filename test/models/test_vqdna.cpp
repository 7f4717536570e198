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
#include "models/vqdna/vqdna.h"
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

namespace {

TokenizerConfig tiny_tokenizer(const std::string& quantizer) {
  TokenizerConfig c;
  c.dim = 16;
  c.encoder_depth = 2;
  c.decoder_depth = 1;
  c.codebook_size = 32;
  c.quantizer = quantizer;
  c.hrq_taps = {1, 2};
  return c;
}

// Stem conv (5·D·k_stem + D), stem LayerNorm, the blocks, head LayerNorm and Linear(D, 5). The EMA
// codebooks are buffers, not parameters.
int64_t tokenizer_params(const TokenizerConfig& c) {
  const auto h = static_cast<int64_t>(static_cast<double>(c.dim) * c.mlp_ratio);
  return kNumBases * c.dim * c.stem_kernel + c.dim + 2 * c.dim +
         (c.encoder_depth + c.decoder_depth) * block_params(c.dim, c.kernel_size, h) + 2 * c.dim + c.dim * kNumBases +
         kNumBases;
}

}  // namespace

TEST_CASE("tokenizer: shapes, codes and parameter counts for VQ and HRQ", "[vqdna]") {
  manual_seed(10);
  const Tensor bases = randint(0, kNumBases, {3, 40});
  for (const std::string quantizer : {"vq", "hrq"}) {
    const TokenizerConfig config = tiny_tokenizer(quantizer);
    DnaTokenizer tokenizer(config);
    CHECK(tokenizer.num_parameters() == tokenizer_params(config));
    const std::vector<int64_t> expected_sizes = quantizer == "vq" ? std::vector<int64_t>{32} : std::vector<int64_t>{32, 64};
    CHECK(tokenizer.codebook_sizes() == expected_sizes);
    const TokenizerOutput out = tokenizer.run(bases);
    CHECK(out.logits.sizes() == Shape({3, 40, kNumBases}));
    CHECK(out.quantized.sizes() == Shape({3, 40, 16}));
    CHECK(out.codes.sizes() == Shape({3, 40, tokenizer.levels()}));
    for (int64_t level = 0; level < tokenizer.levels(); ++level) {
      const Tensor codes = out.codes.select(2, level);
      CHECK(min(codes).item<int64_t>() >= 0);
      CHECK(max(codes).item<int64_t>() < expected_sizes[static_cast<size_t>(level)]);
    }
    CHECK(out.usage.size() == static_cast<size_t>(tokenizer.levels()));
    // loss = reconstruction + the quantizers' β-weighted commitment.
    CHECK(out.loss.item<double>() ==
          Approx(out.reconstruction_loss.item<double>() + out.commitment_loss.item<double>()).epsilon(1e-5));
    // encode() gives the codes of an eval-mode pass and leaves the mode as it was.
    tokenizer.train();
    const Tensor codes = tokenizer.encode(bases);
    CHECK(tokenizer.is_training());
    tokenizer.eval();
    CHECK(values(codes) == values(tokenizer.run(bases).codes));
  }
  // The paper's sizes (D 384, 6 + 6 blocks, stem k 5, depthwise k 7) give 14.24M parameters in our
  // layout, plus 0.20M (VQ) or 0.59M (HRQ) codebook entries in buffers: the paper quotes 16M / 17M
  // (docs/VQDNA.md). The formula is checked against the module above; building this one takes seconds.
  CHECK(tokenizer_params(TokenizerConfig{}) == 14'242'949);
  CHECK_THROWS_AS(DnaTokenizer(tiny_tokenizer("rvq")), Error);
  TokenizerConfig bad_taps = tiny_tokenizer("hrq");
  bad_taps.hrq_taps = {2, 1};
  CHECK_THROWS_AS(DnaTokenizer(bad_taps), Error);
  DnaTokenizer tokenizer(tiny_tokenizer("vq"));
  CHECK_THROWS_AS(tokenizer.run(full({2, 8}, 5.0, TensorOptions(DType::i64))), Error);  // id 5 is not a base
  CHECK_THROWS_AS(tokenizer.run(randint(0, 5, {2, 8, 1})), Error);
  CHECK(base_id('g') == 2);
  CHECK(base_id('R') == 4);
  CHECK(base_letter(3) == 'T');
}

TEST_CASE("VQ-VAE tokenizer learns to reconstruct a small synthetic set", "[vqdna]") {
  manual_seed(11);
  SyntheticGenomeOptions data;
  data.length = 32;
  data.train_size = 128;
  data.test_size = 64;
  const SyntheticGenomeTask task = make_synthetic_genome_task(data);
  VQDNAConfig config;
  config.tokenizer = tiny_tokenizer("vq");
  config.tokenizer.dim = 32;
  config.tokenizer.codebook_size = 64;
  config.tokenizer.dead_code_steps = 10;
  VQDNA model(config);
  const TokenizerEval before = model.evaluate_tokenizer(task.test.bases);
  StageOptions options;
  options.steps = 120;
  options.batch_size = 16;
  options.lr = 3e-3;
  double first_loss = 0.0, last_loss = 0.0;
  model.train_tokenizer(task.train.bases, options, [&](const StepReport& report) {
    if (report.step == 1) first_loss = report.loss;
    last_loss = report.loss;
  });
  const TokenizerEval after = model.evaluate_tokenizer(task.test.bases);
  INFO("reconstruction " << before.reconstruction_accuracy << " -> " << after.reconstruction_accuracy << ", usage "
                         << after.usage[0] << ", loss " << first_loss << " -> " << last_loss);
  CHECK(before.reconstruction_accuracy < 0.5);
  CHECK(after.reconstruction_accuracy > 0.95);
  CHECK(last_loss < 0.25 * first_loss);
  CHECK(after.usage[0] > 0.0);
  CHECK(after.perplexity[0] >= 1.0);
}

TEST_CASE("HRQ tokenizer trains: its loss falls and both levels are used", "[vqdna]") {
  manual_seed(12);
  VQDNAConfig config;
  config.tokenizer = tiny_tokenizer("hrq");
  config.tokenizer.dead_code_steps = 10;
  VQDNA model(config);
  SyntheticGenomeOptions data;
  data.length = 32;
  data.train_size = 64;
  data.test_size = 32;
  const SyntheticGenomeTask task = make_synthetic_genome_task(data);
  StageOptions options;
  options.steps = 40;
  options.batch_size = 16;
  options.lr = 3e-3;
  std::vector<double> losses;
  model.train_tokenizer(task.train.bases, options, [&](const StepReport& report) { losses.push_back(report.loss); });
  REQUIRE(losses.size() == 40);
  const double first = (losses[0] + losses[1] + losses[2]) / 3.0;
  const double last = (losses[37] + losses[38] + losses[39]) / 3.0;
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.5 * first);
  const TokenizerEval eval = model.evaluate_tokenizer(task.test.bases);
  REQUIRE(eval.usage.size() == 2);
  CHECK(eval.usage[0] > 0.0);
  CHECK(eval.usage[1] > 0.0);
  CHECK(eval.reconstruction_accuracy > 0.5);
}

TEST_CASE("pipeline: frozen codes feed BERT; the tokenizer stays frozen", "[vqdna]") {
  manual_seed(13);
  VQDNAConfig config = vqdna_config("tiny", "hrq");
  config.tokenizer.dim = 16;
  config.tokenizer.codebook_size = 16;
  config.bert.dim = 32;
  config.bert.num_heads = 2;
  config.bert.depth = 1;
  VQDNA model(config);
  SyntheticGenomeOptions data;
  data.length = 24;
  data.train_size = 32;
  data.test_size = 16;
  const SyntheticGenomeTask task = make_synthetic_genome_task(data);
  StageOptions options;
  options.steps = 3;
  options.batch_size = 8;
  options.lr = 1e-3;
  model.train_tokenizer(task.train.bases, options);
  const Tensor codes = model.tokenize(task.train.bases, 5);  // slices of 5: 32 is not a multiple
  CHECK(codes.sizes() == Shape({32, 24, 2}));
  CHECK(values(codes) == values(model.tokenizer->encode(task.train.bases)));
  const auto tokenizer_state = snapshot(*model.tokenizer);
  model.pretrain(codes, 0.25, options);
  REQUIRE(model.bert != nullptr);
  CHECK(model.bert->encoder->config.codebook_sizes == std::vector<int64_t>({16, 32}));
  CHECK(values(model.bert->encoder->code_embeddings[1]) == values(model.tokenizer->codebooks()[1]));
  CHECK(snapshot(*model.tokenizer) == tokenizer_state);
  CHECK_THROWS_AS(model.train_tokenizer(task.train.bases, options), Error);
  const auto [mlm_loss, mlm_accuracy] = model.evaluate_pretraining(codes, 0.25);
  CHECK(mlm_loss > 0.0);
  CHECK(mlm_accuracy >= 0.0);
  CHECK(mlm_accuracy <= 1.0);
  // The probe and the fine-tuned model start from copies of the same pre-trained encoder.
  auto probe = model.classifier(2, true);
  auto finetune = model.classifier(2, false);
  CHECK(snapshot(*probe->encoder) == snapshot(*finetune->encoder));
  CHECK(probe->encoder != model.bert->encoder);
  train_classifier(*finetune, codes, task.train.labels, options);
  CHECK(snapshot(*probe->encoder) != snapshot(*finetune->encoder));
  const Tensor predictions = predict(*finetune, codes);
  CHECK(predictions.sizes() == Shape({32}));

  // The one-hot baseline: the bases are the tokens.
  VQDNA baseline = VQDNA::one_hot_baseline(config.bert);
  CHECK(baseline.is_one_hot());
  CHECK(values(baseline.tokenize(task.test.bases)) == values(task.test.bases));
  CHECK_THROWS_AS(baseline.train_tokenizer(task.train.bases, options), Error);
  CHECK_THROWS_AS(vqdna_config("huge", "vq"), Error);
}
