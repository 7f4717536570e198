// The VQDNA pipeline: named sizes, the shared stage loop, and stages 1-3. See models/vqdna/vqdna.h.
#include "models/vqdna/vqdna.h"

#include <algorithm>
#include <cmath>

#include <fmt/ranges.h>

#include "autograd/grad_mode.h"
#include "engine/error.h"
#include "engine/factories.h"
#include "engine/random.h"
#include "ops/compare.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/loss.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/vq.h"
#include "optim/clip.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace ember::models::vqdna {

// ---- sizes ----

namespace {
struct Size {
  const char* name;
  int64_t dim, encoder_depth, decoder_depth, codebook_size;
  int64_t bert_dim, bert_depth, bert_heads;
};
const std::vector<Size>& sizes() {
  static const std::vector<Size> list = {
      {"paper", 384, 6, 6, 512, 768, 12, 12},
      {"small", 128, 4, 2, 256, 256, 4, 4},
      {"tiny", 64, 2, 1, 64, 64, 2, 2},
  };
  return list;
}
}  // namespace

std::vector<std::string> vqdna_size_names() {
  std::vector<std::string> names;
  for (const Size& size : sizes()) names.emplace_back(size.name);
  return names;
}

VQDNAConfig vqdna_config(const std::string& size_name, const std::string& quantizer) {
  for (const Size& size : sizes()) {
    if (size_name != size.name) continue;
    VQDNAConfig config;
    config.tokenizer.dim = size.dim;
    config.tokenizer.encoder_depth = size.encoder_depth;
    config.tokenizer.decoder_depth = size.decoder_depth;
    config.tokenizer.codebook_size = size.codebook_size;
    config.tokenizer.quantizer = quantizer;
    // HRQ taps: the middle and the last encoder block (the paper's 3 and 6 of 6).
    config.tokenizer.hrq_taps = {std::max<int64_t>(1, size.encoder_depth / 2), size.encoder_depth};
    if (config.tokenizer.hrq_taps.front() == config.tokenizer.hrq_taps.back()) config.tokenizer.hrq_taps = {size.encoder_depth};
    config.bert.dim = size.bert_dim;
    config.bert.depth = size.bert_depth;
    config.bert.num_heads = size.bert_heads;
    return config;
  }
  EMBER_FAIL("vqdna_config: unknown size \"{}\"; known: {}", size_name, fmt::join(vqdna_size_names(), ", "));
}

// ---- the stage loop ----

void run_stage(nn::Module& model, int64_t num_examples, const StageOptions& o,
               const std::function<Tensor(const Tensor& indices, StepReport& report)>& step_loss,
               const StepCallback& on_step) {
  EMBER_CHECK(o.steps > 0 && o.batch_size > 0 && num_examples > 0 && o.lr > 0,
              "VQDNA stage: need positive steps ({}), batch_size ({}), examples ({}) and lr ({})", o.steps,
              o.batch_size, num_examples, o.lr);
  // No decay on norms and biases (weight_decay_groups), nor on the position embedding and the mask token.
  auto optimizer = optim::make_optimizer(
      "adamw", optim::weight_decay_groups(model.named_parameters(), o.weight_decay, {"pos_embed", "mask_token"}),
      {{"lr", o.lr}});
  optim::ScheduleOptions schedule;
  schedule.kind = "cosine";
  schedule.warmup_steps = static_cast<int64_t>(std::round(o.warmup_fraction * static_cast<double>(o.steps)));
  schedule.warmup = schedule.warmup_steps > 0 ? "linear" : "none";
  schedule.total_steps = std::max<int64_t>(1, o.steps - schedule.warmup_steps);
  optim::LRScheduler scheduler(*optimizer, optim::Schedule(schedule));
  std::vector<Tensor> trainable;
  for (const Tensor& p : model.parameters())
    if (p.requires_grad()) trainable.push_back(p);

  // Mini-batches: consecutive slices of a fresh permutation per pass (the last, short slice is
  // skipped); a batch larger than the data takes every example.
  Generator order(o.seed);
  const int64_t batch = std::min(o.batch_size, num_examples);
  Tensor permutation = randperm(num_examples, order);
  int64_t cursor = 0;
  model.train();
  for (int64_t step = 1; step <= o.steps; ++step) {
    if (cursor + batch > num_examples) {
      permutation = randperm(num_examples, order);
      cursor = 0;
    }
    const Tensor indices = permutation.slice(0, cursor, cursor + batch);
    cursor += batch;
    StepReport report;
    report.step = step;
    report.lr = optimizer->lr();
    Tensor loss = step_loss(indices, report);
    report.loss = loss.item<double>();
    EMBER_CHECK(std::isfinite(report.loss), "VQDNA stage: the loss is {} at step {}", report.loss, step);
    optimizer->zero_grad();
    loss.backward();
    if (o.clip_grad > 0) optim::clip_grad_norm_(trainable, o.clip_grad);
    optimizer->step();
    scheduler.iteration_done();
    if (on_step) on_step(report);
  }
}

namespace {
Tensor rows(const Tensor& x, const Tensor& indices) { return index_select(x, 0, indices); }

// Calls fn(first, end) over [0, n) in slices of batch_size.
template <class F>
void for_slices(int64_t n, int64_t batch_size, F&& fn) {
  EMBER_CHECK(batch_size > 0, "VQDNA: batch_size must be positive, got {}", batch_size);
  for (int64_t first = 0; first < n; first += batch_size) fn(first, std::min(n, first + batch_size));
}
}  // namespace

// ---- pipeline ----

VQDNA::VQDNA(const VQDNAConfig& cfg) : VQDNA(cfg, std::make_shared<DnaTokenizer>(cfg.tokenizer)) {}

VQDNA::VQDNA(VQDNAConfig cfg, std::shared_ptr<DnaTokenizer> tokenizer_)
    : config(std::move(cfg)), tokenizer(std::move(tokenizer_)) {}

VQDNA VQDNA::one_hot_baseline(const BertConfig& bert_config) {
  VQDNAConfig config;
  config.bert = bert_config;
  config.bert.code_dim = kNumBases;
  config.bert.codebook_sizes = {kNumBases};
  VQDNA baseline(config, nullptr);
  baseline.bert = std::make_shared<BertForMaskedModeling>(config.bert);
  baseline.bert->encoder->set_codebooks({eye(kNumBases)});
  return baseline;
}

void VQDNA::train_tokenizer(const Tensor& bases, const StageOptions& options, const StepCallback& on_step) {
  EMBER_CHECK(tokenizer, "VQDNA.train_tokenizer: the one-hot baseline has no tokenizer");
  EMBER_CHECK(!bert, "VQDNA.train_tokenizer: the tokenizer is frozen (freeze_tokenizer() was called)");
  run_stage(*tokenizer, bases.size(0), options,
            [&](const Tensor& indices, StepReport& report) {
              const Tensor batch = rows(bases, indices);
              TokenizerOutput out = tokenizer->run(batch);
              report.extra.emplace_back("reconstruction_loss", out.reconstruction_loss.item<double>());
              report.extra.emplace_back("commitment_loss", out.commitment_loss.item<double>());
              report.extra.emplace_back("reconstruction_accuracy", reconstruction_accuracy(out.logits, batch));
              for (size_t level = 0; level < out.usage.size(); ++level) {
                report.extra.emplace_back(fmt::format("usage_{}", level), out.usage[level]);
                report.extra.emplace_back(fmt::format("perplexity_{}", level), out.perplexity[level]);
              }
              return out.loss;
            },
            on_step);
}

TokenizerEval VQDNA::evaluate_tokenizer(const Tensor& bases, int64_t batch_size) {
  EMBER_CHECK(tokenizer, "VQDNA.evaluate_tokenizer: the one-hot baseline has no tokenizer");
  NoGradGuard no_grad;
  const bool was_training = tokenizer->is_training();
  tokenizer->eval();
  const std::vector<int64_t> code_counts = tokenizer->codebook_sizes();
  std::vector<Tensor> counts;
  for (int64_t K : code_counts) counts.push_back(zeros({K}, TensorOptions(DType::i64)));
  int64_t correct = 0;
  for_slices(bases.size(0), batch_size, [&](int64_t first, int64_t end) {
    const Tensor batch = bases.slice(0, first, end);
    const TokenizerOutput out = tokenizer->run(batch);
    correct += count_nonzero(eq(argmax(out.logits, -1), batch)).item<int64_t>();
    for (size_t level = 0; level < counts.size(); ++level)
      counts[level].add_(vq_code_counts(out.codes.select(2, static_cast<int64_t>(level)).reshape({-1}),
                                        code_counts[level]));
  });
  tokenizer->train(was_training);
  TokenizerEval eval;
  eval.reconstruction_accuracy = static_cast<double>(correct) / static_cast<double>(bases.numel());
  for (size_t level = 0; level < counts.size(); ++level) {
    eval.usage.push_back(static_cast<double>(count_nonzero(counts[level]).item<int64_t>()) /
                         static_cast<double>(code_counts[level]));
    eval.perplexity.push_back(vq_perplexity(counts[level]));
  }
  return eval;
}

Tensor VQDNA::tokenize(const Tensor& bases, int64_t batch_size) {
  if (!tokenizer) return bases.unsqueeze(-1).contiguous();
  TensorList parts;
  for_slices(bases.size(0), batch_size,
             [&](int64_t first, int64_t end) { parts.push_back(tokenizer->encode(bases.slice(0, first, end))); });
  return cat(parts, 0);  // (N, L, levels)
}

void VQDNA::freeze_tokenizer() {
  if (bert) return;
  tokenizer->requires_grad_(false);
  tokenizer->eval();
  BertConfig bert_config = config.bert;
  bert_config.code_dim = tokenizer->config.dim;
  bert_config.codebook_sizes = tokenizer->codebook_sizes();
  bert = std::make_shared<BertForMaskedModeling>(bert_config);
  bert->encoder->set_codebooks(tokenizer->codebooks());
}

void VQDNA::pretrain(const Tensor& codes, double mask_ratio, const StageOptions& options, const StepCallback& on_step) {
  freeze_tokenizer();
  Generator masking(options.seed + 1);
  run_stage(*bert, codes.size(0), options,
            [&](const Tensor& indices, StepReport&) {
              return bert->pretrain_loss(mask_codes(rows(codes, indices), bert->encoder->config.codebook_sizes,
                                                    mask_ratio, masking));
            },
            on_step);
}

std::pair<double, double> VQDNA::evaluate_pretraining(const Tensor& codes, double mask_ratio, int64_t batch_size,
                                                      uint64_t seed) {
  freeze_tokenizer();
  NoGradGuard no_grad;
  const bool was_training = bert->is_training();
  bert->eval();
  Generator masking(seed);
  double loss_sum = 0.0;
  int64_t batches = 0, correct = 0, targets = 0;
  for_slices(codes.size(0), batch_size, [&](int64_t first, int64_t end) {
    const MaskedCodes batch = mask_codes(codes.slice(0, first, end), bert->encoder->config.codebook_sizes, mask_ratio, masking);
    if (count_nonzero(batch.selected).item<int64_t>() == 0) return;
    loss_sum += bert->pretrain_loss(batch).item<double>();
    ++batches;
    const std::vector<Tensor> logits = bert->head->logits(bert->encoder->encode(batch.inputs, batch.mask_positions));
    for (size_t level = 0; level < logits.size(); ++level) {
      const Tensor level_targets = batch.targets.select(2, static_cast<int64_t>(level));
      const Tensor valid = ne(level_targets, -100.0);
      correct += count_nonzero(logical_and(eq(argmax(logits[level], -1), level_targets), valid)).item<int64_t>();
      targets += count_nonzero(valid).item<int64_t>();
    }
  });
  bert->train(was_training);
  return {batches > 0 ? loss_sum / static_cast<double>(batches) : 0.0,
          targets > 0 ? static_cast<double>(correct) / static_cast<double>(targets) : 0.0};
}

std::shared_ptr<BertClassifier> VQDNA::classifier(int64_t num_classes, bool linear_probe) {
  freeze_tokenizer();
  auto encoder = std::make_shared<BertEncoder>(bert->encoder->config);
  encoder->load_state_dict(bert->encoder->state_dict());
  return std::make_shared<BertClassifier>(encoder, num_classes, linear_probe);
}

void train_classifier(BertClassifier& classifier, const Tensor& codes, const Tensor& labels,
                      const StageOptions& options, const StepCallback& on_step) {
  EMBER_CHECK(codes.dim() == 3 && labels.dim() == 1 && labels.size(0) == codes.size(0),
              "train_classifier: expected codes (N, L, levels) and labels (N), got {} and {}", codes.describe(),
              labels.describe());
  run_stage(classifier, codes.size(0), options,
            [&](const Tensor& indices, StepReport& report) {
              const Tensor logits = classifier(rows(codes, indices));
              const Tensor target = rows(labels, indices);
              report.extra.emplace_back(
                  "accuracy", static_cast<double>(count_nonzero(eq(argmax(logits, -1), target)).item<int64_t>()) /
                                  static_cast<double>(target.numel()));
              return cross_entropy(logits, target);
            },
            on_step);
}

Tensor predict(BertClassifier& classifier, const Tensor& codes, int64_t batch_size) {
  NoGradGuard no_grad;
  const bool was_training = classifier.is_training();
  classifier.eval();
  TensorList parts;
  for_slices(codes.size(0), batch_size,
             [&](int64_t first, int64_t end) { parts.push_back(argmax(classifier(codes.slice(0, first, end)), -1)); });
  classifier.train(was_training);
  return cat(parts, 0);
}

}  // namespace ember::models::vqdna
