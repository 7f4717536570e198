// Tensor handle, views and strides, factories, promotion, RNG determinism.
#include "helpers.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

TEST_CASE("contiguous tensors have row-major strides", "[tensor]") {
  Tensor t = zeros({2, 3, 4});
  REQUIRE(t.strides() == Shape{12, 4, 1});
  REQUIRE(t.numel() == 24);
  REQUIRE(t.is_contiguous());
  REQUIRE(t.dtype() == DType::f32);
  REQUIRE(t.device() == Device::cpu());
}

TEST_CASE("views share storage and the version counter", "[tensor][view]") {
  Tensor t = arange(0, 12, 1, DType::f64).reshape({3, 4});
  Tensor tt = t.t();
  REQUIRE(tt.sizes() == Shape{4, 3});
  REQUIRE(tt.strides() == Shape{1, 4});
  REQUIRE_FALSE(tt.is_contiguous());
  REQUIRE(tt.storage() == t.storage());
  REQUIRE(values(tt) == std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  const uint32_t before = t.version();
  tt.select(0, 1).fill_(-1.0);  // writes column 1 of t
  REQUIRE(t.version() == before + 1);
  REQUIRE(values(t.select(1, 1)) == std::vector<double>{-1, -1, -1});
}

TEST_CASE("slice with step, narrow, select and negative indices", "[tensor][view]") {
  Tensor t = arange(0, 10, 1, DType::f64);
  REQUIRE(values(t.slice(0, 1, 9, 3)) == std::vector<double>{1, 4, 7});
  REQUIRE(values(t.slice(0, -3, 100)) == std::vector<double>{7, 8, 9});
  REQUIRE(values(t.narrow(0, 2, 3)) == std::vector<double>{2, 3, 4});
  REQUIRE(t.select(0, -1).item<double>() == 9.0);
  Tensor m = arange(0, 6, 1, DType::f64).reshape({2, 3});
  REQUIRE(values(m.slice(1, 0, 3, 2)) == std::vector<double>{0, 2, 3, 5});
}

TEST_CASE("reshape views when strides allow and copies otherwise", "[tensor][view]") {
  Tensor t = arange(0, 24, 1, DType::f32).reshape({2, 3, 4});
  Tensor v = t.reshape({6, -1});
  REQUIRE(v.sizes() == Shape{6, 4});
  REQUIRE(v.storage() == t.storage());
  Tensor p = t.permute({2, 0, 1});
  REQUIRE(p.sizes() == Shape{4, 2, 3});
  REQUIRE(p.reshape({4, 6}).storage() == t.storage());  // dims 1-2 of p are still contiguous
  Tensor r = p.reshape({24});  // not viewable: copies
  REQUIRE(r.storage() != t.storage());
  REQUIRE(values(r.slice(0, 0, 6)) == std::vector<double>{0, 4, 8, 12, 16, 20});
  REQUIRE_THROWS_WITH(p.view({24}), Catch::Matchers::Contains("view"));
  // A transposed 2-D tensor can still be viewed with an extra unit dim.
  REQUIRE(t.transpose(0, 1).view({3, 1, 2, 4}).sizes() == Shape{3, 1, 2, 4});
}

TEST_CASE("expand uses zero strides; squeeze/unsqueeze/flatten/unflatten", "[tensor][view]") {
  Tensor t = from_vector<double>({1, 2, 3}, {3, 1});
  Tensor e = t.expand({2, 3, 4});
  REQUIRE(e.strides() == Shape{0, 1, 0});
  REQUIRE(values(e.select(0, 1).select(1, 3)) == std::vector<double>{1, 2, 3});
  REQUIRE(t.squeeze().sizes() == Shape{3});
  REQUIRE(t.unsqueeze(0).sizes() == Shape{1, 3, 1});
  REQUIRE(t.unsqueeze(-1).sizes() == Shape{3, 1, 1});
  Tensor z = zeros({2, 3, 4, 5});
  REQUIRE(z.flatten(1, 2).sizes() == Shape{2, 12, 5});
  REQUIRE(z.flatten().sizes() == Shape{120});
  REQUIRE(z.unflatten(3, {5, 1}).sizes() == Shape{2, 3, 4, 5, 1});
}

TEST_CASE("contiguous, clone, to(dtype) and item", "[tensor]") {
  Tensor t = arange(0, 6, 1, DType::f64).reshape({2, 3}).t();
  Tensor c = t.contiguous();
  REQUIRE(c.is_contiguous());
  REQUIRE(values(c) == std::vector<double>{0, 3, 1, 4, 2, 5});
  Tensor cl = c.clone();
  cl.fill_(7.0);
  REQUIRE(values(c)[0] == 0.0);
  Tensor i = from_vector<double>({1.7, -2.5, 3.2}).to(DType::i64);
  REQUIRE(values(i) == std::vector<double>{1, -2, 3});  // truncation toward zero, like PyTorch
  Tensor b = from_vector<double>({0.0, 0.5}).to(DType::bool_);
  REQUIRE(values(b) == std::vector<double>{0, 1});
  Tensor h = from_vector<float>({1.0f, 0.333333f, 65504.0f}).to(DType::f16).to(DType::f32);
  REQUIRE(all_close(h, {1.0, 0.33325195, 65504.0}, 1e-6));
  Tensor bf = from_vector<float>({1.0f, 3.14159f}).to(DType::bf16).to(DType::f32);
  REQUIRE(all_close(bf, {1.0, 3.140625}, 1e-6));
  REQUIRE(scalar_tensor(4.5).item<double>() == 4.5);
  REQUIRE(scalar_tensor(4.5).data_ptr<float>()[0] == 4.5f);
}

TEST_CASE("factories: arange, linspace, eye, full, from_blob", "[tensor][factory]") {
  REQUIRE(values(arange(5)) == std::vector<double>{0, 1, 2, 3, 4});
  REQUIRE(values(arange(1, 2, 0.25, DType::f64)) == std::vector<double>{1, 1.25, 1.5, 1.75});
  REQUIRE(values(arange(5, 0, -2, DType::i64)) == std::vector<double>{5, 3, 1});
  REQUIRE(all_close(linspace(0, 1, 5, DType::f64), {0, 0.25, 0.5, 0.75, 1.0}));
  REQUIRE(values(eye(2, 3)) == std::vector<double>{1, 0, 0, 0, 1, 0});
  REQUIRE(values(full({2}, 3.5)) == std::vector<double>{3.5, 3.5});
  const double raw[] = {1, 2, 3, 4};
  Tensor b = from_blob(raw, {2, 2}, DType::f64);
  REQUIRE(values(b) == std::vector<double>{1, 2, 3, 4});
  REQUIRE(b.data_ptr<double>() != raw);  // a copy
}

TEST_CASE("type promotion follows PyTorch", "[tensor][promotion]") {
  Tensor i = from_vector<int64_t>({1, 2});
  Tensor f = from_vector<float>({0.5f, 0.5f});
  Tensor d = from_vector<double>({0.25, 0.25});
  Tensor b = from_vector<bool>({true, false});
  REQUIRE((i + f).dtype() == DType::f32);
  REQUIRE((f + d).dtype() == DType::f64);
  REQUIRE((i + 1).dtype() == DType::i64);
  REQUIRE((i + 1.5).dtype() == DType::f32);
  REQUIRE((f + 2.0).dtype() == DType::f32);
  REQUIRE((b + b).dtype() == DType::bool_);
  REQUIRE((i / i).dtype() == DType::f32);
  // A 0-d tensor of the same category does not promote a dimensioned one.
  REQUIRE((f + scalar_tensor(1.0, DType::f64)).dtype() == DType::f32);
  REQUIRE((i + scalar_tensor(1.0, DType::f64)).dtype() == DType::f64);
  REQUIRE(promote_types(DType::u8, DType::i32) == DType::i32);
  REQUIRE(promote_types(DType::bf16, DType::f16) == DType::f32);
}

TEST_CASE("Philox RNG: seeded, thread-count independent, right moments", "[tensor][random]") {
  Generator g1(42), g2(42);
  Tensor a = randn({1000}, g1);
  Tensor b = randn({600}, g2);
  Tensor c = randn({400}, g2);  // the stream continues where it stopped
  std::vector<double> va = values(a), vb = values(b), vc = values(c);
  vb.insert(vb.end(), vc.begin(), vc.end());
  REQUIRE(va == vb);

  const int threads = num_threads();
  Generator g3(7), g4(7);
  set_num_threads(1);
  Tensor one = rand({100000}, g3);
  set_num_threads(std::max(2, threads));
  Tensor many = rand({100000}, g4);
  set_num_threads(threads);
  REQUIRE(values(one) == values(many));

  Generator g(1);
  std::vector<double> u = values(rand({200000}, g, DType::f64));
  double mean = 0, sq = 0;
  for (double x : u) {
    REQUIRE(x >= 0.0);
    REQUIRE(x < 1.0);
    mean += x;
    sq += x * x;
  }
  mean /= u.size();
  REQUIRE(std::fabs(mean - 0.5) < 0.005);
  REQUIRE(std::fabs(sq / u.size() - mean * mean - 1.0 / 12) < 0.005);
  std::vector<double> n = values(normal(2.0, 3.0, {200000}, g, DType::f64));
  double nm = 0, nv = 0;
  for (double x : n) nm += x;
  nm /= n.size();
  for (double x : n) nv += (x - nm) * (x - nm);
  nv /= n.size();
  REQUIRE(std::fabs(nm - 2.0) < 0.03);
  REQUIRE(std::fabs(nv - 9.0) < 0.15);
  std::vector<double> r = values(randint(3, 7, {10000}, g));
  for (double x : r) REQUIRE((x >= 3 && x < 7));
  GeneratorState saved = g.state();
  Tensor x1 = rand({5}, g);
  g.set_state(saved);
  REQUIRE(values(rand({5}, g)) == values(x1));
  std::vector<double> perm = values(randperm(50, g));
  std::sort(perm.begin(), perm.end());
  for (int k = 0; k < 50; ++k) REQUIRE(perm[k] == k);
  Tensor bern = bernoulli(full({20000}, 0.3, DType::f64), g);
  double ones_count = 0;
  for (double x : values(bern)) ones_count += x;
  REQUIRE(std::fabs(ones_count / 20000 - 0.3) < 0.02);
}
