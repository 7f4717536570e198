// models/nn/vq.h: VectorQuantizer (loss values, the EMA update hand-worked on a 2-code example,
// dead-code restart by idle steps and by EMA size, state_dict round trip with exact resume),
// HierarchicalResidualQuantizer (the HRQ formula on a tiny hand example, its gradients), a tiny
// VQ-VAE whose reconstruction error falls, and bad input.
#include <cmath>

#include "helpers.h"
#include "models/nn/nn.h"
#include "models/nn/vq.h"
#include "optim/adamw.h"

using namespace ember;
using ember::test::all_close;
using ember::test::values;

namespace {

nn::VectorQuantizerOptions small_options(int64_t K, int64_t D, bool ema) {
  nn::VectorQuantizerOptions o;
  o.num_codes = K;
  o.dim = D;
  o.ema = ema;
  return o;
}

// Sets the codebook (and, in EMA mode, the matching EMA state: size 1, sum = the code).
void set_codebook(nn::VectorQuantizer& vq, const std::vector<double>& codes) {
  NoGradGuard no_grad;
  vq.embedding.copy_(from_vector(codes, vq.embedding.sizes()));
  if (vq.options.ema) {
    vq.embed_avg.copy_(vq.embedding);
    vq.cluster_size.fill_(1.0);
  }
}

}  // namespace

TEST_CASE("VectorQuantizer: EMA update, loss and statistics on a 2-code example", "[vq]") {
  nn::VectorQuantizerOptions o = small_options(2, 1, /*ema=*/true);
  o.decay = 0.5;
  o.eps = 1e-5;
  nn::VectorQuantizer vq(o);
  vq.to(DType::f64);
  set_codebook(vq, {0.0, 10.0});
  const Tensor z = from_vector<double>({1, 2, 9}, {3, 1}).requires_grad_(true);
  const nn::VQResult r = vq.quantize(z);
  CHECK(values(r.indices) == std::vector<double>{0, 0, 1});
  CHECK(values(r.quantized) == std::vector<double>{0, 0, 10});  // the codebook before the update
  // β·mean((z - e)²) = 0.25·(1 + 4 + 1)/3 = 0.5
  CHECK(values(r.loss)[0] == Approx(0.5).epsilon(1e-14));
  // counts (2, 1): perplexity exp(-(2/3)ln(2/3) - (1/3)ln(1/3)), usage 1.
  CHECK(r.perplexity == Approx(std::exp(-(2.0 / 3) * std::log(2.0 / 3) - (1.0 / 3) * std::log(1.0 / 3))));
  CHECK(r.usage == 1.0);
  // N = 0.5·1 + 0.5·(2, 1) = (1.5, 1); m = 0.5·(0, 10) + 0.5·(1 + 2, 9) = (1.5, 9.5);
  // smoothed N_k = (N_k + ε)/(2.5 + 2ε)·2.5, e = m / smoothed N ≈ (1, 9.5).
  CHECK(all_close(vq.cluster_size, {1.5, 1.0}, 1e-15, 1e-15));
  CHECK(all_close(vq.embed_avg, {1.5, 9.5}, 1e-15, 1e-15));
  const double s0 = (1.5 + 1e-5) / (2.5 + 2e-5) * 2.5, s1 = (1.0 + 1e-5) / (2.5 + 2e-5) * 2.5;
  CHECK(all_close(vq.embedding, {1.5 / s0, 9.5 / s1}, 1e-14, 1e-14));
  CHECK(all_close(vq.embedding, {1.0, 9.5}, 1e-4, 1e-4));
  // Straight-through: d(sum quantized)/dz = 1, plus the commitment's 2β(z - e)/(N·D).
  autograd::backward({add(sum(r.quantized), r.loss)});
  CHECK(all_close(z.grad(), {1 + 0.5 / 3 * 1, 1 + 0.5 / 3 * 2, 1 + 0.5 / 3 * -1}, 1e-14, 1e-14));
  // eval: quantize only, no update.
  vq.eval();
  const std::vector<double> before = values(vq.embedding);
  vq.quantize(z.detach());
  CHECK(values(vq.embedding) == before);
}

TEST_CASE("VectorQuantizer: the codebook loss trains the codebook parameter", "[vq]") {
  nn::VectorQuantizer vq(small_options(2, 1, /*ema=*/false));
  vq.to(DType::f64);
  set_codebook(vq, {0.0, 10.0});
  REQUIRE(vq.parameters().size() == 1);
  const nn::VQResult r = vq.quantize(from_vector<double>({1, 2, 9}, {3, 1}));
  // 0.5 (commitment) + mean((e - z)²) = 0.5 + 2
  CHECK(values(r.loss)[0] == Approx(2.5).epsilon(1e-14));
  r.loss.backward();
  // d/de_k of mean((e_{c_n} - z_n)²) = 2/3 Σ_{n→k} (e_k - z_n): (2/3)(-3), (2/3)(1)
  CHECK(all_close(vq.embedding.grad(), {-2.0, 2.0 / 3}, 1e-14, 1e-14));
  CHECK(values(vq.embedding) == std::vector<double>{0.0, 10.0});  // no EMA update in this mode
}

TEST_CASE("VectorQuantizer: dead codes restart at batch rows", "[vq]") {
  for (bool ema : {false, true}) {
    nn::VectorQuantizerOptions o = small_options(3, 2, ema);
    o.dead_code_steps = 2;
    o.seed = 5;
    nn::VectorQuantizer vq(o);
    vq.to(DType::f64);
    set_codebook(vq, {0, 0, 100, 100, -100, -100});
    const Tensor z = from_vector<double>({0.1, 0.2, -0.3, 0.1, 0.2, -0.2, 0.0, 0.3}, {4, 2});
    vq.quantize(z);
    CHECK(values(vq.steps_unused) == std::vector<double>{0, 1, 1});
    CHECK(values(vq.embedding)[2] == Approx(100.0).epsilon(1e-3));  // one idle step: kept
    vq.quantize(z);
    CHECK(values(vq.steps_unused) == std::vector<double>{0, 0, 0});
    const std::vector<double> e = values(vq.embedding), rows = values(z);
    for (int64_t k = 1; k < 3; ++k) {
      bool found = false;
      for (int64_t r = 0; r < 4; ++r) found = found || (e[k * 2] == rows[r * 2] && e[k * 2 + 1] == rows[r * 2 + 1]);
      INFO("code " << k << " ema " << ema);
      CHECK(found);
    }
    CHECK(values(vq.rng_state)[1] == 2.0);  // two draws from the module's generator
  }
  // EMA threshold: a code whose EMA size fades below 0.5 restarts (size 1 · 0.5^1 = 0.5 is not below).
  nn::VectorQuantizerOptions o = small_options(2, 1, true);
  o.decay = 0.5;
  o.dead_code_threshold = 0.3;
  nn::VectorQuantizer vq(o);
  vq.to(DType::f64);
  set_codebook(vq, {0.0, 50.0});
  const Tensor z = from_vector<double>({0.5, 1.5}, {2, 1});
  vq.quantize(z);
  CHECK(values(vq.embedding)[1] == Approx(50.0).epsilon(1e-4));  // size 0.5: kept (smoothing moves it a little)
  vq.quantize(z);                           // size 0.25 < 0.3: restarted to 0.5 or 1.5
  const double restarted = values(vq.embedding)[1];
  CHECK((restarted == 0.5 || restarted == 1.5));
  CHECK(values(vq.cluster_size)[1] == 1.0);
}

TEST_CASE("VectorQuantizer: state_dict round trip resumes exactly", "[vq]") {
  nn::VectorQuantizerOptions o = small_options(6, 3, true);
  o.dead_code_steps = 1;
  o.seed = 11;
  auto run_steps = [](nn::VectorQuantizer& vq, int first, int count) {
    for (int step = first; step < first + count; ++step) vq.quantize(ember::test::rand64({16, 3}, 100 + step).detach().to(DType::f32));
  };
  manual_seed(3);
  nn::VectorQuantizer a(o);
  run_steps(a, 0, 3);
  const TensorMap saved = a.state_dict();
  CHECK(saved.count("embedding") == 1);
  CHECK(saved.count("cluster_size") == 1);
  CHECK(saved.count("embed_avg") == 1);
  CHECK(saved.count("steps_unused") == 1);
  CHECK(saved.count("rng_state") == 1);
  manual_seed(99);  // a different initial codebook, overwritten by the load
  nn::VectorQuantizer b(o);
  b.load_state_dict(saved);
  run_steps(a, 3, 4);
  run_steps(b, 3, 4);
  for (const auto& [name, tensor] : a.state_dict()) {
    INFO(name);
    CHECK(values(tensor) == values(b.state_dict().at(name)));
  }
}

TEST_CASE("HierarchicalResidualQuantizer: H(n) = 2 Z(n) - e(M(n-1)), levels averaged (hand example)", "[vq]") {
  nn::HierarchicalResidualQuantizerOptions o;
  o.dim = 1;
  o.num_codes = {2, 3};
  nn::HierarchicalResidualQuantizer hrq(o);
  hrq.to(DType::f64);
  REQUIRE(hrq.num_levels() == 2);
  set_codebook(*hrq.levels[0], {0.0, 4.0});
  set_codebook(*hrq.levels[1], {-1.0, 3.0, 6.0});
  CHECK(hrq.state_dict().count("levels.1.embedding") == 1);
  hrq.eval();
  const Tensor z1 = from_vector<double>({1.0, 3.5}, {2, 1}).requires_grad_(true);
  const Tensor z2 = from_vector<double>({2.0, 5.0}, {2, 1}).requires_grad_(true);
  const nn::HRQResult r = hrq.quantize({z1, z2});
  // Level 1: 1 -> 0 (code 0), 3.5 -> 4 (code 1). Level 2: H = 2·(2, 5) - (0, 4) = (4, 6) -> 3 (code 1), 6 (code 2).
  CHECK(values(r.indices[0]) == std::vector<double>{0, 1});
  CHECK(values(r.indices[1]) == std::vector<double>{1, 2});
  CHECK(values(r.levels[1]) == std::vector<double>{3, 6});
  CHECK(all_close(r.quantized, {1.5, 5.0}, 1e-15, 1e-15));
  // β·mean((H - e)²) per level, summed: 0.25·(1 + 0.25)/2 + 0.25·(1 + 0)/2
  CHECK(values(r.loss)[0] == Approx(0.25 * 1.25 / 2 + 0.25 * 0.5).epsilon(1e-14));
  // Gradients of sum(Ẑ): level 1 straight-through ½; level 2 straight-through ½ times 2 (the
  // previous codeword is a constant).
  sum(r.quantized).backward();
  CHECK(values(z1.grad()) == std::vector<double>{0.5, 0.5});
  CHECK(values(z2.grad()) == std::vector<double>{1.0, 1.0});
}

TEST_CASE("a tiny VQ-VAE learns to reconstruct toy data", "[vq]") {
  // 8-dim points around 4 prototypes; encoder Linear(8, 4), VQ (8 codes, EMA), decoder Linear(4, 8).
  manual_seed(7);
  Generator gen(1);
  const Tensor prototypes = uniform(-2.0, 2.0, {4, 8}, gen);
  const Tensor which = randint(0, 4, {256}, gen);
  const Tensor data = add(index_select(prototypes, 0, which), mul(randn({256, 8}, gen), 0.05));
  auto encoder = std::make_shared<nn::Linear>(8, 4);
  auto decoder = std::make_shared<nn::Linear>(4, 8);
  nn::VectorQuantizerOptions o = small_options(8, 4, true);
  o.decay = 0.9;
  o.dead_code_steps = 5;
  nn::VectorQuantizer vq(o);
  std::vector<Tensor> params = encoder->parameters();
  for (const Tensor& p : decoder->parameters()) params.push_back(p);
  optim::AdamW opt({optim::ParamGroup{params, {}, ""}}, {{"lr", 0.02}, {"weight_decay", 0.0}});
  auto reconstruction_error = [&]() {
    NoGradGuard no_grad;
    vq.eval();
    const double error = values(mean(square(sub((*decoder)(vq((*encoder)(data))), data))))[0];
    vq.train();
    return error;
  };
  const double before = reconstruction_error();
  double usage = 0.0;
  for (int step = 0; step < 150; ++step) {
    const nn::VQResult r = vq.quantize((*encoder)(data));
    const Tensor loss = add(mean(square(sub((*decoder)(r.quantized), data))), r.loss);
    opt.zero_grad();
    loss.backward();
    opt.step();
    usage = r.usage;
  }
  const double after = reconstruction_error();
  INFO("reconstruction MSE " << before << " -> " << after << ", usage " << usage);
  CHECK(after < 0.2 * before);
  CHECK(usage >= 0.5);  // at least the 4 prototypes' codes
}

TEST_CASE("VectorQuantizer and HRQ reject bad input", "[vq]") {
  nn::VectorQuantizerOptions o = small_options(4, 3, true);
  nn::VectorQuantizer vq(o);
  REQUIRE_THROWS_OP(vq.quantize(zeros({5, 2})), "VectorQuantizer");
  REQUIRE_THROWS_OP(vq.quantize(zeros({5, 3}, DType::f64)), "VectorQuantizer");
  REQUIRE_THROWS_OP(vq.lookup(full({2}, 4.0, DType::i64)), "vq_quantize_st");
  REQUIRE_THROWS_OP(vq.lookup(zeros({2})), "VectorQuantizer.lookup");
  nn::VectorQuantizerOptions bad = o;
  bad.decay = 1.0;
  REQUIRE_THROWS_OP(nn::VectorQuantizer{bad}, "VectorQuantizer");
  bad = o;
  bad.num_codes = 0;
  REQUIRE_THROWS_OP(nn::VectorQuantizer{bad}, "VectorQuantizer");
  nn::HierarchicalResidualQuantizerOptions h;
  h.dim = 3;
  h.num_codes = {4, 8};
  nn::HierarchicalResidualQuantizer hrq(h);
  REQUIRE_THROWS_OP(hrq.quantize({zeros({5, 3})}), "HierarchicalResidualQuantizer");
  REQUIRE_THROWS_OP(hrq.quantize({zeros({5, 3}), zeros({4, 3})}), "HierarchicalResidualQuantizer");
  h.num_codes = {};
  REQUIRE_THROWS_OP(nn::HierarchicalResidualQuantizer{h}, "HierarchicalResidualQuantizer");
}
