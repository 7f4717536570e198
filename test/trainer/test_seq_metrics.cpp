// Sequence-task metrics (experiments/trainer/seq_metrics.h) against values worked by hand with
// sklearn's formulas (matthews_corrcoef = Gorodkin's R_K, f1_score(average="macro") over the
// classes present); the confusion counts are written out in the comments.
#include <catch2/catch.hpp>
#include <cmath>

#include "experiments/trainer/seq_metrics.h"
#include "helpers.h"

using namespace ember;
using namespace ember::experiments;

TEST_CASE("seq metrics: binary MCC, F1, accuracy", "[seqdata][seq_metrics]") {
  const std::vector<int64_t> t = {0, 1, 1, 0, 1, 0, 0, 1, 1, 1};
  const std::vector<int64_t> p = {0, 1, 0, 0, 1, 1, 0, 1, 1, 0};
  // TP = 4 (positions 1 4 7 8), FN = 2 (2 9), FP = 1 (5), TN = 3 (0 3 6).
  // MCC = (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (12 - 2) / sqrt(5 * 6 * 4 * 5)
  CHECK(mcc(t, p, 2) == Approx(10.0 / std::sqrt(600.0)).epsilon(1e-12));
  CHECK(accuracy(t, p) == Approx(0.7));
  ConfusionMatrix m(2);
  for (size_t i = 0; i < t.size(); ++i) m.add(t[i], p[i]);
  CHECK(m.count(1, 1) == 4);
  CHECK(m.count(1, 0) == 2);
  CHECK(m.f1(1) == Approx(8.0 / 11.0));  // 2 TP / (2 TP + FP + FN)
  CHECK(m.f1(0) == Approx(6.0 / 9.0));   // class 0: TP 3, FP 2, FN 1
  CHECK(m.macro_f1() == Approx((8.0 / 11.0 + 6.0 / 9.0) / 2));
  CHECK(m.mcc() == Approx(10.0 / std::sqrt(600.0)));
  // Perfect and inverted predictions.
  CHECK(mcc(t, t, 2) == Approx(1.0));
  std::vector<int64_t> inverted;
  for (int64_t v : t) inverted.push_back(1 - v);
  CHECK(mcc(t, inverted, 2) == Approx(-1.0));
}

TEST_CASE("seq metrics: multi-class MCC (Gorodkin) and macro F1", "[seqdata][seq_metrics]") {
  const std::vector<int64_t> t = {0, 1, 2, 2, 1, 0, 3, 3, 2, 1, 0, 2};
  const std::vector<int64_t> p = {0, 2, 2, 2, 1, 0, 3, 1, 0, 1, 1, 2};
  // Confusion rows (true) x columns (predicted):
  //   0: 2 1 0 0   1: 0 2 1 0   2: 1 0 3 0   3: 0 1 0 1
  // true counts t = 3 3 4 2, predicted p = 3 4 4 1, correct c = 8, s = 12.
  // R_K = (c s - sum p t) / sqrt((s^2 - sum p^2)(s^2 - sum t^2)) = (96 - 39) / sqrt((144 - 42)(144 - 38))
  const double expected_mcc = 57.0 / std::sqrt(102.0 * 106.0);
  // F1 per class: 4/6, 4/7 (TP 2, FP 2, FN 1), 6/8, 2/3 (TP 1, FP 0, FN 1).
  const double expected_f1 = (4.0 / 6 + 4.0 / 7 + 6.0 / 8 + 2.0 / 3) / 4;
  CHECK(mcc(t, p, 4) == Approx(expected_mcc).epsilon(1e-12));
  CHECK(macro_f1(t, p, 4) == Approx(expected_f1).epsilon(1e-12));
  CHECK(accuracy(t, p) == Approx(8.0 / 12));
  // A fifth class that never occurs changes neither (sklearn leaves absent labels out).
  CHECK(mcc(t, p, 5) == Approx(expected_mcc));
  CHECK(macro_f1(t, p, 5) == Approx(expected_f1));
  // Class 1 absent from both: macro F1 over classes 0 and 2 only: (2/3 + 4/5) / 2.
  CHECK(macro_f1({0, 0, 2, 2}, {0, 2, 2, 2}, 3) == Approx((2.0 / 3 + 4.0 / 5) / 2));
}

TEST_CASE("seq metrics: degenerate cases and bad input", "[seqdata][seq_metrics]") {
  CHECK(mcc({1, 1, 0, 0}, {1, 1, 1, 1}, 2) == 0.0);  // constant prediction: undefined -> 0
  CHECK(mcc({1, 1, 1}, {1, 1, 1}, 2) == 0.0);        // one true class: undefined -> 0
  CHECK(ConfusionMatrix(3).accuracy() == 0.0);
  REQUIRE_THROWS_OP(mcc({0, 1}, {0}, 2), "mcc");
  REQUIRE_THROWS_OP(mcc({0, 2}, {0, 1}, 2), "ConfusionMatrix");
  REQUIRE_THROWS_OP(ConfusionMatrix(0), "ConfusionMatrix");
}

TEST_CASE("seq metrics: tensors, logits and bits per byte", "[seqdata][seq_metrics]") {
  ConfusionMatrix m(3);
  // logits (4, 3): argmax 2, 0, 1, 1
  const Tensor logits = from_vector<float>({0, 1, 5, 3, 1, 0, 0, 2, 1, 1, 4, 0}, {4, 3});
  const Tensor targets = from_vector<int64_t>({2, 0, 0, 1}, {4});
  m.add(logits, targets);
  CHECK(m.total() == 4);
  CHECK(m.accuracy() == Approx(0.75));
  CHECK(m.count(0, 1) == 1);
  m.add(from_vector<int64_t>({1, 1}, {2}), from_vector<int64_t>({1, 0}, {2}));
  CHECK(m.total() == 6);
  REQUIRE_THROWS_OP(m.add(logits, from_vector<int64_t>({0}, {1})), "ConfusionMatrix");

  CHECK(bits_per_byte(std::log(2.0)) == Approx(1.0));
  CHECK(perplexity(std::log(5.0)) == Approx(5.0));
  // Uniform logits over 256 bytes: cross entropy ln 256 nats = 8 bits per byte.
  const Tensor uniform_logits = zeros({6, 256});
  const Tensor bytes = from_vector<int64_t>({0, 65, 255, 10, 32, 128}, {6});
  const double nll = test::values(cross_entropy(uniform_logits, bytes))[0];
  CHECK(bits_per_byte(nll) == Approx(8.0).epsilon(1e-6));
  CHECK(perplexity(nll) == Approx(256.0).epsilon(1e-5));
}
