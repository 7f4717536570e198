// Accuracy, MCC (Gorodkin's R_K), macro F1 and bits per byte (interface: seq_metrics.h).
#include "experiments/trainer/seq_metrics.h"

#include <cmath>
#include <numbers>

#include "engine/copy.h"
#include "engine/error.h"
#include "ops/ops.h"

namespace ember::experiments {

ConfusionMatrix::ConfusionMatrix(int64_t num_classes) : num_classes_(num_classes) {
  EMBER_CHECK(num_classes >= 1, "ConfusionMatrix: num_classes {} < 1", num_classes);
  counts_.assign(static_cast<size_t>(num_classes * num_classes), 0);
}

void ConfusionMatrix::add(int64_t target, int64_t prediction) {
  EMBER_CHECK(target >= 0 && target < num_classes_ && prediction >= 0 && prediction < num_classes_,
              "ConfusionMatrix: target {} / prediction {} outside [0, {})", target, prediction, num_classes_);
  ++counts_[static_cast<size_t>(target * num_classes_ + prediction)];
}

void ConfusionMatrix::add(const Tensor& predictions_or_logits, const Tensor& targets) {
  EMBER_CHECK(targets.dim() == 1, "ConfusionMatrix::add: targets must be (N), got {}", shape_str(targets.sizes()));
  const int64_t n = targets.size(0);
  Tensor predictions = predictions_or_logits;
  if (predictions.dim() == 2) {
    EMBER_CHECK(predictions.size(1) == num_classes_, "ConfusionMatrix::add: logits {} for {} classes",
                shape_str(predictions.sizes()), num_classes_);
    predictions = argmax(predictions.detach(), 1);
  }
  EMBER_CHECK(predictions.dim() == 1 && predictions.size(0) == n,
              "ConfusionMatrix::add: predictions {} do not match targets {} (expected (N) ids or (N, C) logits)",
              shape_str(predictions_or_logits.sizes()), shape_str(targets.sizes()));
  const Tensor p = predictions.to(Device::cpu()).contiguous(), t = targets.to(Device::cpu()).contiguous();
  for (int64_t i = 0; i < n; ++i) {
    add(static_cast<int64_t>(read_element(t, i)), static_cast<int64_t>(read_element(p, i)));
  }
}

int64_t ConfusionMatrix::total() const {
  int64_t s = 0;
  for (int64_t c : counts_) s += c;
  return s;
}

int64_t ConfusionMatrix::count(int64_t target, int64_t prediction) const {
  return counts_[static_cast<size_t>(target * num_classes_ + prediction)];
}

double ConfusionMatrix::accuracy() const {
  const int64_t n = total();
  if (n == 0) return 0.0;
  int64_t correct = 0;
  for (int64_t k = 0; k < num_classes_; ++k) correct += count(k, k);
  return static_cast<double>(correct) / static_cast<double>(n);
}

double ConfusionMatrix::mcc() const {
  // R_K = (c s - sum_k p_k t_k) / sqrt((s^2 - sum_k p_k^2)(s^2 - sum_k t_k^2)), with t_k the true and
  // p_k the predicted counts of class k, c the correct and s all examples.
  double c = 0, s = 0, pt = 0, pp = 0, tt = 0;
  for (int64_t k = 0; k < num_classes_; ++k) {
    double t_k = 0, p_k = 0;
    for (int64_t j = 0; j < num_classes_; ++j) {
      t_k += static_cast<double>(count(k, j));
      p_k += static_cast<double>(count(j, k));
    }
    c += static_cast<double>(count(k, k));
    s += t_k;
    pt += p_k * t_k;
    pp += p_k * p_k;
    tt += t_k * t_k;
  }
  const double denominator = std::sqrt((s * s - pp) * (s * s - tt));
  return denominator > 0 ? (c * s - pt) / denominator : 0.0;
}

double ConfusionMatrix::f1(int64_t positive) const {
  EMBER_CHECK(positive >= 0 && positive < num_classes_, "ConfusionMatrix::f1: class {} outside [0, {})", positive,
              num_classes_);
  const double tp = static_cast<double>(count(positive, positive));
  double fp = 0, fn = 0;
  for (int64_t j = 0; j < num_classes_; ++j) {
    if (j == positive) continue;
    fp += static_cast<double>(count(j, positive));
    fn += static_cast<double>(count(positive, j));
  }
  const double denominator = 2 * tp + fp + fn;
  return denominator > 0 ? 2 * tp / denominator : 0.0;
}

double ConfusionMatrix::macro_f1() const {
  double sum = 0;
  int64_t present = 0;
  for (int64_t k = 0; k < num_classes_; ++k) {
    int64_t seen = 0;
    for (int64_t j = 0; j < num_classes_; ++j) seen += count(k, j) + count(j, k);
    if (seen == 0) continue;  // neither a target nor a prediction: sklearn leaves it out
    sum += f1(k);
    ++present;
  }
  return present > 0 ? sum / static_cast<double>(present) : 0.0;
}

namespace {

ConfusionMatrix confusion(const std::vector<int64_t>& targets, const std::vector<int64_t>& predictions,
                          int64_t num_classes, const char* who) {
  EMBER_CHECK(targets.size() == predictions.size(), "{}: {} targets but {} predictions", who, targets.size(),
              predictions.size());
  ConfusionMatrix m(num_classes);
  for (size_t i = 0; i < targets.size(); ++i) m.add(targets[i], predictions[i]);
  return m;
}

}  // namespace

double accuracy(const std::vector<int64_t>& targets, const std::vector<int64_t>& predictions) {
  EMBER_CHECK(targets.size() == predictions.size(), "accuracy: {} targets but {} predictions", targets.size(),
              predictions.size());
  if (targets.empty()) return 0.0;
  int64_t correct = 0;
  for (size_t i = 0; i < targets.size(); ++i) correct += targets[i] == predictions[i];
  return static_cast<double>(correct) / static_cast<double>(targets.size());
}

double mcc(const std::vector<int64_t>& targets, const std::vector<int64_t>& predictions, int64_t num_classes) {
  return confusion(targets, predictions, num_classes, "mcc").mcc();
}

double macro_f1(const std::vector<int64_t>& targets, const std::vector<int64_t>& predictions, int64_t num_classes) {
  return confusion(targets, predictions, num_classes, "macro_f1").macro_f1();
}

double bits_per_byte(double mean_nll_nats) { return mean_nll_nats / std::numbers::ln2; }
double perplexity(double mean_nll_nats) { return std::exp(mean_nll_nats); }

}  // namespace ember::experiments
