// ListOps (data/listops.h): the evaluator against hand-worked expressions, the generator's labels
// against that evaluator, LRA's length bounds and determinism, and the dataset's padding.
#include <catch2/catch.hpp>
#include <set>

#include "data/listops.h"
#include "helpers.h"

using namespace ember;
using namespace ember::data;

TEST_CASE("listops evaluate: hand-worked expressions", "[seqdata][listops]") {
  struct Case {
    const char* text;
    int64_t value;
  };
  const Case cases[] = {
      {"7", 7},
      {"[MAX 2 9 [MIN 4 7 ] 0 ]", 9},             // MIN(4, 7) = 4; MAX(2, 9, 4, 0) = 9
      {"[MIN 5 [MAX 1 3 ] 8 ]", 3},               // MAX = 3; MIN(5, 3, 8) = 3
      {"[MED 1 2 3 4 ]", 2},                      // median 2.5, rounded down
      {"[MED 9 1 5 ]", 5},                        // odd count: the middle value
      {"[SM 5 6 7 ]", 8},                         // 18 mod 10
      {"[SM 0 0 ]", 0},
      {"[MED [SM 9 9 ] 3 [MIN 6 7 ] 0 ]", 4},     // SM = 8, MIN = 6; sorted 0 3 6 8 -> (3 + 6) / 2 = 4.5 -> 4
      {"( ( ( [MAX 2 ) 9 ) ] )", 9},              // LRA's text, with its parentheses
      // SM(9, 9) = 8; SM(8, 9) = 17 mod 10 = 7; MIN(3, 2) = 2; MAX(0, 2) = 2; SM(7, 9, 2) = 18 mod 10 = 8
      {"[SM [SM [SM 9 9 ] 9 ] 9 [MAX 0 [MIN 3 2 ] ] ]", 8},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(listops::evaluate(listops::tokenize(c.text)) == c.value);
  }
}

TEST_CASE("listops tokenize: ids, round trip, bad words", "[seqdata][listops]") {
  const auto ids = listops::tokenize("[MAX 2 9 [MIN 4 7 ] 0 ]");
  CHECK(ids == std::vector<int64_t>{listops::kMax, 2, 9, listops::kMin, 4, 7, listops::kClose, 0, listops::kClose});
  CHECK(listops::detokenize(ids) == "[MAX 2 9 [MIN 4 7 ] 0 ]");
  REQUIRE_THROWS_OP(listops::tokenize("[MAX 2 [FOO 3 ] ]"), "[FOO");
  REQUIRE_THROWS_OP(listops::tokenize("[MAX 12 ]"), "12");
}

TEST_CASE("listops evaluate: malformed input is an error", "[seqdata][listops]") {
  using listops::kClose;
  using listops::kMax;
  using listops::kPad;
  REQUIRE_THROWS_OP(listops::evaluate({}), "empty");
  REQUIRE_THROWS_OP(listops::evaluate({kMax, 1, 2}), "open");
  REQUIRE_THROWS_OP(listops::evaluate({kMax, kClose}), "no arguments");
  REQUIRE_THROWS_OP(listops::evaluate({kClose}), "closes nothing");
  REQUIRE_THROWS_OP(listops::evaluate({1, 2}), "follows a complete expression");
  REQUIRE_THROWS_OP(listops::evaluate({kMax, 1, kPad, 2, kClose}), "not a digit");
  CHECK(listops::evaluate({kMax, 1, 2, kClose, kPad, kPad}) == 2);  // trailing padding is fine
}

TEST_CASE("listops generate: labels agree with the evaluator; lengths within bounds", "[seqdata][listops]") {
  listops::GeneratorOptions o;
  o.min_length = 20;
  o.max_length = 200;
  o.max_depth = 6;
  o.max_args = 5;
  std::set<int64_t> values, ops;
  int64_t deepest = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const auto e = listops::generate(o, seed);
    const int64_t n = static_cast<int64_t>(e.tokens.size());
    REQUIRE(n > o.min_length);
    REQUIRE(n < o.max_length);
    REQUIRE(listops::evaluate(e.tokens) == e.value);
    values.insert(e.value);
    int64_t depth = 0;
    for (int64_t t : e.tokens) {
      if (t >= listops::kMin && t <= listops::kSumMod) ops.insert(t), deepest = std::max(deepest, ++depth);
      if (t == listops::kClose) --depth;
    }
  }
  CHECK(values.size() == 10);  // every class occurs
  CHECK(ops.size() == 4);      // every operator occurs
  CHECK(deepest <= o.max_depth - 1);  // leaves sit at depth <= max_depth, operators above them
  CHECK(listops::generate(o, 5).tokens == listops::generate(o, 5).tokens);
  CHECK(listops::generate(o, 5).tokens != listops::generate(o, 6).tokens);
}

TEST_CASE("listops generate: LRA's default bounds reach long sequences", "[seqdata][listops]") {
  const listops::GeneratorOptions lra;  // depth 10, 10 args, 500 < length < 2000
  for (uint64_t seed = 0; seed < 4; ++seed) {
    const auto e = listops::generate(lra, seed);
    CHECK(e.tokens.size() > 500);
    CHECK(e.tokens.size() < 2000);
    CHECK(listops::evaluate(e.tokens) == e.value);
  }
  listops::GeneratorOptions bad;
  bad.max_args = 1;
  REQUIRE_THROWS_OP(listops::generate(bad, 0), "listops");
  bad = {};
  bad.max_depth = 2;
  bad.max_args = 3;
  REQUIRE_THROWS_OP(listops::generate(bad, 0), "out of reach");
}

TEST_CASE("listops dataset: padded inputs, targets, determinism", "[seqdata][listops]") {
  listops::GeneratorOptions o;
  o.min_length = 10;
  o.max_length = 64;
  o.max_depth = 5;
  o.max_args = 4;
  const listops::ListOpsDataset ds(o, 16, 42, 64);
  REQUIRE(ds.size() == 16);
  const Batch b = ds.get_batch({3, 0, 15});
  REQUIRE(b.input.sizes() == Shape{3, 64});
  REQUIRE(b.input.dtype() == DType::i64);
  REQUIRE(b.target.sizes() == Shape{3});
  const auto in = test::values(b.input);
  for (int64_t r = 0; r < 3; ++r) {
    std::vector<int64_t> row(in.begin() + r * 64, in.begin() + (r + 1) * 64);
    CHECK(listops::evaluate(row) == static_cast<int64_t>(test::values(b.target)[r]));
    const auto e = ds.expression(std::vector<int64_t>{3, 0, 15}[r]);
    CHECK(std::equal(e.tokens.begin(), e.tokens.end(), row.begin()));
    CHECK(std::all_of(row.begin() + static_cast<int64_t>(e.tokens.size()), row.end(),
                      [](int64_t t) { return t == listops::kPad; }));
  }
  const Example ex = ds.get(3);
  CHECK(ex.input.sizes() == Shape{64});
  CHECK(ex.target.dim() == 0);
  CHECK(test::values(ex.input) == test::values(ds.get(3).input));
  REQUIRE_THROWS_OP(ds.get(16), "ListOpsDataset");
  REQUIRE_THROWS_OP(listops::ListOpsDataset(o, 4, 1, 32), "padded length");
}
