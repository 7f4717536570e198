// Metrics for the sequence tasks: accuracy, Matthews correlation (binary, and Gorodkin's
// multi-class R_K), macro F1, and bits per byte / perplexity from a mean negative log-likelihood.
// All take integer class ids (predictions and targets of equal length); a confusion matrix is the
// common form. Codebook usage lives with the VQ module (models/nn/vq.h), not here.
// Twins: data/sequence_datasets.h (SequenceTaskInfo::primary_metric names one of these),
// test/trainer/test_seq_metrics.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace ember::experiments {

// counts[t][p]: examples of true class t predicted as p.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t num_classes);
  void add(int64_t target, int64_t prediction);
  // targets (N) int64 and predictions (N) int64, or logits (N, C) (argmax taken) for predictions.
  void add(const Tensor& predictions_or_logits, const Tensor& targets);
  int64_t num_classes() const { return num_classes_; }
  int64_t total() const;
  int64_t count(int64_t target, int64_t prediction) const;

  double accuracy() const;
  // Gorodkin (2004) R_K; equals the usual binary MCC for 2 classes (sklearn's matthews_corrcoef).
  // 0 when undefined (a constant prediction or a single true class), as sklearn does.
  double mcc() const;
  // Unweighted mean of F1 = 2 TP / (2 TP + FP + FN) over the classes that occur among the targets
  // or the predictions (sklearn's f1_score(average="macro") without `labels`); 0 with no examples.
  double macro_f1() const;
  // Binary F1 of class `positive`.
  double f1(int64_t positive) const;

 private:
  int64_t num_classes_;
  std::vector<int64_t> counts_;
};

double accuracy(const std::vector<int64_t>& targets, const std::vector<int64_t>& predictions);
double mcc(const std::vector<int64_t>& targets, const std::vector<int64_t>& predictions, int64_t num_classes);
double macro_f1(const std::vector<int64_t>& targets, const std::vector<int64_t>& predictions, int64_t num_classes);

// From a mean NLL in nats per byte (cross_entropy's mean): bits per byte = nll / ln 2;
// perplexity = exp(nll).
double bits_per_byte(double mean_nll_nats);
double perplexity(double mean_nll_nats);

}  // namespace ember::experiments
