// Adversarial tests of view geometry, factories, dtype conversion and Philox (the review pass).
// Expected values are PyTorch's (noted where not obvious) or published test vectors.
#include <cstring>
#include <limits>

#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {

Tensor iota(const Shape& shape, DType dtype = DType::f64) {
  return arange(0.0, static_cast<double>(numel_of(shape)), 1.0, dtype).view(shape);
}

std::vector<double> contiguous_values(const Tensor& t) { return values(t.contiguous()); }

}  // namespace

// ---------------------------------------------------------------- views

TEST_CASE("view strides follow PyTorch's computeStride on odd layouts", "[engine][views][review]") {
  // Transposed (3, 2) with strides (1, 3): adding size-1 dims works, merging does not.
  Tensor t = iota({2, 3}).t();
  Tensor v = t.view({3, 2, 1});
  REQUIRE(v.strides() == Shape{1, 3, 3});  // torch: arange(6).view(2,3).t().view(3,2,1).stride()
  REQUIRE(values(v) == values(t));
  REQUIRE(t.view({1, 3, 1, 2}).storage() == t.storage());
  REQUIRE_THROWS_OP(t.view({6}), "view");
  REQUIRE_THROWS_OP(t.view({2, 3}), "view");
  REQUIRE(contiguous_values(t.reshape({6})) == std::vector<double>{0, 3, 1, 4, 2, 5});

  // Expanded inputs: splitting an expanded dim is a view, merging it with a real dim is not.
  Tensor col = iota({3, 1}).expand({3, 4});  // strides (1, 0)
  Tensor split = col.view({3, 2, 2});
  REQUIRE(split.strides() == Shape{1, 0, 0});
  REQUIRE(contiguous_values(split) == contiguous_values(col));
  REQUIRE_THROWS_OP(col.view({12}), "view");
  REQUIRE_THROWS_OP(col.view({4, 3}), "view");
  Tensor scalar_expanded = full({}, 7.0, DType::f64).expand({2, 3});  // strides (0, 0)
  Tensor flat = scalar_expanded.view({6});
  REQUIRE(flat.strides() == Shape{0});
  REQUIRE(values(flat) == std::vector<double>(6, 7.0));

  // Zero-size and 0-d tensors.
  Tensor empty_t = zeros({0, 3});
  REQUIRE(empty_t.view({3, 0}).sizes() == Shape{3, 0});
  REQUIRE(empty_t.view({-1}).sizes() == Shape{0});
  REQUIRE(empty_t.view({0, 5, 2}).numel() == 0);
  REQUIRE_THROWS_OP(empty_t.view({0, -1}), "view");  // -1 is ambiguous for 0 elements
  Tensor s = full({}, 2.0);
  REQUIRE(s.view({1, 1}).strides() == Shape{1, 1});
  REQUIRE(s.view({-1}).sizes() == Shape{1});
  REQUIRE(s.view({1, 1}).view({}).dim() == 0);
}

TEST_CASE("slice with steps and clamped or negative bounds", "[engine][views][review]") {
  Tensor x = iota({10});
  REQUIRE(values(x.slice(0, -3, 100)) == std::vector<double>{7, 8, 9});
  REQUIRE(values(x.slice(0, -100, 3)) == std::vector<double>{0, 1, 2});
  REQUIRE(values(x.slice(0, 1, 9, 3)) == std::vector<double>{1, 4, 7});
  REQUIRE(values(x.slice(0, 1, 10, 3)) == std::vector<double>{1, 4, 7});
  REQUIRE(values(x.slice(0, 0, 10, 4)) == std::vector<double>{0, 4, 8});
  REQUIRE(x.slice(0, 5, 2).numel() == 0);
  REQUIRE(x.slice(0, 12, 20).numel() == 0);
  REQUIRE(x.slice(0, -1, -2).numel() == 0);
  const int64_t big = std::numeric_limits<int64_t>::max();
  REQUIRE(values(x.slice(0, 0, big, big)) == std::vector<double>{0});  // no overflow in the size
  REQUIRE(values(x.slice(0, 8, big)) == std::vector<double>{8, 9});
  REQUIRE_THROWS_OP(x.slice(0, 0, 5, 0), "slice");
  REQUIRE_THROWS_OP(x.slice(0, 0, 5, -1), "slice");
  // Slicing a transposed tensor along its strided dim.
  Tensor m = iota({3, 4}).t();  // (4, 3)
  REQUIRE(contiguous_values(m.slice(1, 0, 3, 2)) == std::vector<double>{0, 8, 1, 9, 2, 10, 3, 11});
}

TEST_CASE("select with negative indices, unsqueeze on non-contiguous tensors", "[engine][views][review]") {
  Tensor m = iota({3, 4});
  REQUIRE(values(m.select(1, -1)) == std::vector<double>{3, 7, 11});
  REQUIRE(values(m.select(0, -3)) == std::vector<double>{0, 1, 2, 3});
  REQUIRE_THROWS_OP(m.select(0, -4), "select");
  REQUIRE_THROWS_OP(m.select(0, 3), "select");
  REQUIRE_THROWS_OP(m.select(2, 0), "select");

  Tensor t = m.t();  // (4, 3) strides (1, 4)
  Tensor u1 = t.unsqueeze(1);
  REQUIRE(u1.sizes() == Shape{4, 1, 3});
  REQUIRE(u1.strides() == Shape{1, 12, 4});  // torch: size[d] * stride[d] of the dim it precedes
  Tensor u2 = t.unsqueeze(-1);
  REQUIRE(u2.strides() == Shape{1, 4, 1});
  REQUIRE(contiguous_values(u1) == contiguous_values(t));
  REQUIRE(contiguous_values(u2) == contiguous_values(t));
  REQUIRE(u1.squeeze(1).strides() == t.strides());
  REQUIRE_THROWS_OP(t.unsqueeze(3), "unsqueeze");
}

TEST_CASE("expand with -1 and new leading dims", "[engine][views][review]") {
  Tensor c = iota({3, 1});
  Tensor e = c.expand({2, -1, 4});
  REQUIRE(e.sizes() == Shape{2, 3, 4});
  REQUIRE(e.strides() == Shape{0, 1, 0});
  REQUIRE(values(e.select(0, 1).select(1, 3)) == std::vector<double>{0, 1, 2});
  REQUIRE_THROWS_OP(c.expand({-1, 3, 4}), "expand");  // a new dim cannot be -1
  REQUIRE_THROWS_OP(c.expand({3, 4, 1}), "expand");   // trailing dims are matched from the right
  REQUIRE_THROWS_OP(c.expand({4}), "expand");
  REQUIRE_THROWS_OP(c.expand({2, 4}), "expand");  // 3 cannot become 2
  REQUIRE(c.expand({0, 3, 0}).numel() == 0);
}

TEST_CASE("gradcheck and gradgradcheck of view chains on non-contiguous inputs", "[engine][views][review][gradcheck]") {
  Tensor x = ember::test::rand64({4, 3}, 11).detach().t().requires_grad_(true);  // (3, 4), strides (1, 3)
  auto chain = [](const TensorList& in) -> TensorList {
    Tensor y = in[0].unsqueeze(0).expand({2, -1, -1});          // (2, 3, 4)
    y = y.transpose(1, 2).slice(1, -3, 100, 2).select(0, -1);   // (2, 3)
    y = y.reshape({-1}).view({3, 2}).unsqueeze(1).squeeze(1);   // (3, 2)
    Tensor z = in[0].slice(1, 1, 4, 2).narrow(0, 1, 2).flatten();  // (4,)
    return {y * y, z * z.select(0, -1)};
  };
  REQUIRE(gradcheck(chain, {x}));
  REQUIRE(gradgradcheck(chain, {x}));
}

// ---------------------------------------------------------------- factories and conversions

TEST_CASE("empty tensors: zero-size dims, negative sizes", "[engine][review]") {
  Tensor a = empty({0, 3});
  REQUIRE(a.numel() == 0);
  REQUIRE(a.strides() == Shape{3, 1});  // as torch.empty(0, 3).stride()
  REQUIRE(empty({3, 0}).strides() == Shape{1, 1});
  REQUIRE(a.is_contiguous());
  REQUIRE(a.clone().sizes() == Shape{0, 3});
  REQUIRE(a.to(DType::i32).numel() == 0);
  REQUIRE(zeros({2, 0, 4}).transpose(0, 2).numel() == 0);
  REQUIRE_THROWS_OP(empty({2, -1}), "empty");
  REQUIRE_THROWS_OP(zeros({-3}), "empty");
}

TEST_CASE("item() reads every dtype exactly", "[engine][review]") {
  const int64_t big = (int64_t{1} << 53) + 1;  // not representable as a double
  REQUIRE(from_vector<int64_t>({big}).item<int64_t>() == big);
  REQUIRE(from_vector<int64_t>({-big}).item<int64_t>() == -big);
  REQUIRE(from_vector<int32_t>({-5}).item<int32_t>() == -5);
  REQUIRE(from_vector<uint8_t>({255}).item<int64_t>() == 255);
  REQUIRE(from_vector<bool>({true}).item<bool>());
  REQUIRE(from_vector<double>({0.1}).item<double>() == 0.1);
  REQUIRE(from_vector<double>({0.25}).to(DType::bf16).item<float>() == 0.25f);
  REQUIRE(from_vector<double>({-1.5}).to(DType::f16).item<double>() == -1.5);
  REQUIRE(from_vector<float>({2.5f}).item<int64_t>() == 2);
  REQUIRE(full({}, 3.0).item<float>() == 3.0f);
  REQUIRE_THROWS_OP(zeros({2}).item<float>(), "item");
  REQUIRE_THROWS_OP(zeros({0}).item<float>(), "item");
}

TEST_CASE("bf16 and f16 rounding matches known bit patterns", "[engine][review][dtype]") {
  auto f32_of_bits = [](uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  };
  struct Case {
    float value;
    uint16_t bf16;
    uint16_t f16;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<Case> cases{
      {1.0f, 0x3f80, 0x3c00},
      {-2.0f, 0xc000, 0xc000},
      {-0.0f, 0x8000, 0x8000},
      {f32_of_bits(0x3f808000u), 0x3f80, 0x3c04},  // bf16 tie -> even (down)
      {f32_of_bits(0x3f818000u), 0x3f82, 0x3c0c},  // bf16 tie -> even (up)
      {f32_of_bits(0x3f808001u), 0x3f81, 0x3c04},  // just above a bf16 tie
      {1.0f + 0x1p-11f, 0x3f80, 0x3c00},           // f16 tie -> even (down)
      {1.0f + 3 * 0x1p-11f, 0x3f80, 0x3c02},       // f16 tie -> even (up)
      {65504.0f, 0x4780, 0x7bff},                  // largest f16
      {65519.0f, 0x4780, 0x7bff},
      {65520.0f, 0x4780, 0x7c00},  // f16 tie between max and inf -> inf
      {0x1p-24f, 0x3380, 0x0001},  // smallest f16 subnormal
      {0x1p-25f, 0x3300, 0x0000},  // f16 tie -> 0 (even)
      {3 * 0x1p-25f, 0x33c0, 0x0002},
      {0x1p-14f, 0x3880, 0x0400},  // smallest f16 normal
      {f32_of_bits(0x7f7fffffu), 0x7f80, 0x7c00},  // float max rounds to inf in both
      {nan, 0x7fc0, 0x7e00},
  };
  for (const Case& c : cases) {
    INFO("value bits " << std::hex << [&] {
      uint32_t u;
      std::memcpy(&u, &c.value, 4);
      return u;
    }());
    Tensor t = from_vector<float>({c.value});
    REQUIRE(t.to(DType::bf16).data_ptr<bfloat16>()[0].bits == c.bf16);
    REQUIRE(t.to(DType::f16).data_ptr<float16>()[0].bits == c.f16);
  }
  // Round trips are exact for representable values, and f16 -> bf16 goes through float.
  Tensor third = from_vector<double>({0.333251953125, -6.103515625e-05, 0x1p-24});
  REQUIRE(values(third.to(DType::f16).to(DType::f64)) == values(third));
  Tensor b = from_vector<double>({1.0078125, -3.0});
  REQUIRE(values(b.to(DType::bf16).to(DType::f32).to(DType::bf16).to(DType::f64)) == values(b));
}

TEST_CASE("from_vector edge cases", "[engine][review]") {
  REQUIRE(from_vector<float>({}).sizes() == Shape{0});
  REQUIRE(from_vector<float>({1.0f}).sizes() == Shape{1});
  REQUIRE(from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}).sizes() == Shape{2, 3});
  REQUIRE(from_vector<double>({}, {0, 4}).sizes() == Shape{0, 4});
  REQUIRE_THROWS_OP(from_vector<double>({1, 2, 3}, {2, 2}), "from_vector");
  REQUIRE(from_vector<double>({1, 2}, {}).sizes() == Shape{2});
  Tensor flags = from_vector<bool>({true, false, true});
  REQUIRE(flags.dtype() == DType::bool_);
  REQUIRE(values(flags) == std::vector<double>{1, 0, 1});
  REQUIRE(values(from_vector<double>({1.9, -1.9}, {2}, DType::i64)) == std::vector<double>{1, -1});
  REQUIRE_THROWS_OP(from_vector<int64_t>({1}, {1}, TensorOptions(DType::i64).requires_grad()), "requires_grad_");
}

TEST_CASE("arange and linspace edge cases", "[engine][review]") {
  REQUIRE(arange(0.0, 1.0, 0.1, DType::f64).numel() == 10);  // as torch.arange(0, 1, 0.1)
  REQUIRE(arange(0.0, 0.3, 0.1, DType::f64).numel() == 3);
  REQUIRE(all_close(arange(0.0, 1.0, 0.1, DType::f64).slice(0, 9, 10), {0.9}, 1e-15, 0));
  REQUIRE(values(arange(1.0, 0.0, -0.25, DType::f64)) == std::vector<double>{1, 0.75, 0.5, 0.25});
  REQUIRE(values(arange(0.0, 10.0, 3.0, DType::i64)) == std::vector<double>{0, 3, 6, 9});
  REQUIRE(values(arange(-1.5, 1.5)) == std::vector<double>{-1.5, -0.5, 0.5});
  REQUIRE(arange(3.0, 3.0).numel() == 0);
  REQUIRE(arange(5.0, DType::i64).dtype() == DType::i64);
  REQUIRE_THROWS_OP(arange(0.0, 1.0, -1.0), "arange");
  REQUIRE_THROWS_OP(arange(0.0, 1.0, 0.0), "arange");
  REQUIRE_THROWS_OP(arange(0.0, 1e300, 1.0), "arange");

  REQUIRE(values(linspace(3.0, 10.0, 1, DType::f64)) == std::vector<double>{3});  // torch: start
  REQUIRE(linspace(0.0, 1.0, 0).numel() == 0);
  REQUIRE(values(linspace(0.0, 1.0, 5, DType::f64)) == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  REQUIRE(values(linspace(-1.0, 1.0, 3, DType::f64)) == std::vector<double>{-1, 0, 1});
  REQUIRE(values(linspace(0.0, 10.0, 4, DType::i64)) == std::vector<double>{0, 3, 6, 10});
  REQUIRE(values(linspace(1.0, 0.0, 2, DType::f64)) == std::vector<double>{1, 0});
  REQUIRE_THROWS_OP(linspace(0.0, 1.0, -1), "linspace");
  REQUIRE_THROWS_OP(eye(2, -3), "eye");
  REQUIRE(eye(2, 0).sizes() == Shape{2, 0});
}

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors", "[engine][review][random]") {
  using Block = std::array<uint32_t, 4>;
  REQUIRE(philox4x32_block({0, 0, 0, 0}, {0, 0}) == Block{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  REQUIRE(philox4x32_block({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}) ==
          Block{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  REQUIRE(philox4x32_block({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}) ==
          Block{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
  // The public stream is the same function with the 64-bit counter in lanes 0-1.
  const uint64_t counter = 0x0123456789abcdefull, seed = 0xfedcba9876543210ull;
  REQUIRE(philox4x32(counter, seed) == philox4x32_block({0x89abcdefu, 0x01234567u, 0, 0}, {0x76543210u, 0xfedcba98u}));
}

TEST_CASE("philox4x32_blocks gives philox4x32's blocks, lane by lane", "[engine][random]") {
  // Lengths around the 16-wide groups, starts that carry into the counter's high word.
  for (const uint64_t start : {uint64_t{0}, uint64_t{0xfffffff5u}, uint64_t{0x0123456789abcdefull}}) {
    for (const int64_t n : {int64_t{1}, int64_t{15}, int64_t{16}, int64_t{17}, int64_t{100}}) {
      INFO("start " << start << " n " << n);
      const uint64_t seed = 0x9e3779b97f4a7c15ull ^ start;
      std::vector<uint32_t> lanes[4];
      for (auto& lane : lanes) lane.assign(static_cast<size_t>(n), 0u);
      philox4x32_blocks(start, seed, n, lanes[0].data(), lanes[1].data(), lanes[2].data(), lanes[3].data());
      std::vector<uint32_t> only01[2] = {std::vector<uint32_t>(static_cast<size_t>(n)),
                                         std::vector<uint32_t>(static_cast<size_t>(n))};
      philox4x32_blocks(start, seed, n, only01[0].data(), only01[1].data());
      for (int64_t i = 0; i < n; ++i) {
        const auto block = philox4x32(start + static_cast<uint64_t>(i), seed);
        for (size_t lane = 0; lane < 4; ++lane) REQUIRE(lanes[lane][static_cast<size_t>(i)] == block[lane]);
        REQUIRE(only01[0][static_cast<size_t>(i)] == block[0]);
        REQUIRE(only01[1][static_cast<size_t>(i)] == block[1]);
      }
    }
  }
  // The integer keep test agrees with the floating one at and around the threshold.
  for (const double p : {0.0, 0.1, 0.5, 1.0 / 3.0, 1.0}) {
    const uint64_t threshold = uniform_threshold(p);
    for (const uint64_t bits : {threshold - 1, threshold, threshold + 1}) {
      if (bits >= (uint64_t{1} << 53)) continue;
      const auto hi = static_cast<uint32_t>(bits >> 21), lo = static_cast<uint32_t>(bits & ((1u << 21) - 1));
      REQUIRE(bits53_from_lanes(hi, lo) == bits);
      REQUIRE((uniform_from_bits(hi, lo) >= p) == (bits >= threshold));
    }
  }
}
