// MultiheadAttention against torch.nn.MultiheadAttention literals (PyTorch 1.13) and a naive
// composed reference (masks, cross attention, causal, dropout on the weights); Mlp; PatchEmbed.
// Twin: models/nn/attention.cpp.
#include <cmath>

#include "helpers.h"
#include "models/nn/nn.h"

using namespace ember;
using namespace ember::test;

namespace {

constexpr int64_t E = 4, H = 2, B = 2, L = 3, S = 4;

// sin(0.37 i + shift) laid out in `shape` (float64), as in the PyTorch script below.
Tensor wave(const Shape& shape, double shift) {
  return sin(arange(static_cast<double>(numel_of(shape)), DType::f64) * 0.37 + shift).reshape(shape);
}

Tensor bool_mask(const std::vector<double>& ones_where_masked, const Shape& shape) {
  return gt(from_vector(ones_where_masked, shape), 0.5);
}

// The weights the PyTorch script copies into torch.nn.MultiheadAttention(4, 2, batch_first=True).double().
std::shared_ptr<nn::MultiheadAttention> make_mha(double dropout = 0.0) {
  auto mha = std::make_shared<nn::MultiheadAttention>(E, H, dropout);
  mha->to(DType::f64);
  NoGradGuard no_grad;
  mha->in_proj_weight.detach().copy_(wave({3 * E, E}, 0.3) * 0.5);
  mha->in_proj_bias.detach().copy_(wave({3 * E}, 1.1) * 0.1);
  mha->out_proj->weight.detach().copy_(wave({E, E}, 2.0) * 0.4);
  mha->out_proj->bias.detach().copy_(wave({E}, 0.7) * 0.05);
  return mha;
}

// softmax(q kᵀ / sqrt(d) + mask) v per head, from matmul and softmax; `mask` additive, broadcastable
// to (B, H, L, S); `factors` multiplies the attention weights (dropout).
Tensor naive_mha(const nn::MultiheadAttention& m, const Tensor& q, const Tensor& k, const Tensor& v,
                 const Tensor& mask = {}, const Tensor& factors = {}) {
  auto project = [&](const Tensor& x, int64_t i) {
    Tensor y = linear(x, m.in_proj_weight.narrow(0, i * E, E), m.in_proj_bias.narrow(0, i * E, E));
    return y.reshape({x.size(0), x.size(1), H, E / H}).transpose(1, 2);  // (B, H, T, d)
  };
  Tensor scores = matmul(project(q, 0), project(k, 1).transpose(-2, -1)) / std::sqrt(double(E / H));
  if (mask.defined()) scores = scores + mask;
  Tensor weights = softmax(scores, -1);
  if (factors.defined()) weights = weights * factors;
  Tensor out = matmul(weights, project(v, 2)).transpose(1, 2).reshape({q.size(0), q.size(1), E});
  return linear(out, m.out_proj->weight, m.out_proj->bias);
}

Tensor additive(const Tensor& bool_masked_out) {
  return masked_fill(zeros(bool_masked_out.sizes(), DType::f64), bool_masked_out, -INFINITY);
}

}  // namespace

// Expected values: /usr/bin/python3 (torch 1.13), torch.nn.MultiheadAttention(4, 2, batch_first=True)
// .double() with the weights of make_mha(); x = wave((2,3,4), 0), k = wave((2,4,4), 0.5),
// v = wave((2,4,4), 1.0); outputs of mha(..., need_weights=False)[0].flatten().
TEST_CASE("MultiheadAttention matches torch.nn.MultiheadAttention", "[nn][attention]") {
  auto mha = make_mha();
  auto sd = mha->state_dict();
  REQUIRE(sd.size() == 4);
  for (const char* key : {"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}) {
    REQUIRE(sd.count(key) == 1);
  }
  Tensor x = wave({B, L, E}, 0.0), k = wave({B, S, E}, 0.5), v = wave({B, S, E}, 1.0);
  const double rtol = 1e-9, atol = 1e-12;

  SECTION("self-attention, no mask") {
    Tensor y = (*mha)(x);
    REQUIRE(y.sizes() == Shape{B, L, E});
    REQUIRE(all_close(y, {0.29258640054552937, 0.2175257467193779, -0.17930949260869436, -0.16659565356985517,
                          0.34531984892450507, 0.24728405566127673, -0.22664647256152456, -0.2049382042508692,
                          0.047184497141992125, 0.08072781235600851, 0.04128502893066553, 0.010205608025316115,
                          -0.45345056687836177, 0.018946203920918142, 0.5307164153533644, 0.1607422942019376,
                          0.1552695031386675, 0.13722715633370025, -0.056554202466759566, -0.0640362200466637,
                          0.4195875131198782, 0.2724989382071744, -0.2963415880346712, -0.24279182547112252},
                      rtol, atol));
    REQUIRE(all_close(y, naive_mha(*mha, x, x, x), 1e-12, 1e-12));
  }
  SECTION("cross-attention with a bool attn_mask and a key_padding_mask") {
    Tensor attn_mask = bool_mask({0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0}, {L, S});
    Tensor pad = bool_mask({0, 0, 0, 1, 1, 0, 0, 0}, {B, S});
    Tensor y = mha->forward(x, k, v, attn_mask, pad);
    REQUIRE(all_close(y, {0.37702809915552904, 0.1944868744787366, -0.26792913516246336, -0.15962735522880736,
                          0.33084173296858027, 0.22211156550114317, -0.21673321775486207, -0.1779680122566382,
                          -0.3968936236125811, -0.037926705568841784, 0.4638459539046874, 0.20548869695523833,
                          -0.39459869861930896, 0.07186385179136409, 0.481460805284799, 0.09889247397369658,
                          0.1518893792608806, 0.14467645094090323, -0.051823199302676155, -0.07062757916940021,
                          0.10697892164744846, 0.11122230054713592, -0.01297942601179642, -0.030129372726418024},
                      rtol, atol));
    Tensor combined = additive(attn_mask) + additive(pad.view({B, 1, 1, S}));
    REQUIRE(all_close(y, naive_mha(*mha, x, k, v, combined), 1e-12, 1e-12));
    // A float key_padding_mask with -inf where masked is the same mask.
    REQUIRE(all_close(mha->forward(x, k, v, attn_mask, additive(pad)), y, 1e-12, 1e-12));
  }
  SECTION("cross-attention with an additive float mask") {
    Tensor fmask = wave({L, S}, 3.0);
    Tensor y = mha->forward(x, k, v, fmask);
    REQUIRE(all_close(y, {0.28439816726841793, 0.1840937741141712, -0.17718392186190376, -0.13277822305959774,
                          0.2949656133741096, 0.19394559017482124, -0.18596480763531, -0.1442223934748684,
                          -0.24250904482178123, 0.0642004319500197, 0.3279814420353378, 0.0787234474398879,
                          -0.31701091889680727, 0.05651780411475435, 0.4010901234184074, 0.09966384108204637,
                          0.02825125533935667, 0.08493659306142579, 0.06098150470044948, 0.009568650228435303,
                          0.21799463390298504, 0.17370023623260722, -0.11266518642377635, -0.11068464807691772},
                      rtol, atol));
    REQUIRE(all_close(y, naive_mha(*mha, x, k, v, fmask), 1e-12, 1e-12));
  }
  SECTION("is_causal equals torch with attn_mask = triu(ones(L, L), 1)") {
    const std::vector<double> expected{
        0.2964345242288457,   0.3125641593826607,   -0.16592304176663214, -0.2592065237458152,
        0.37378410072664386,  0.2749079058237298,   -0.2501013256272868,  -0.23681543367141097,
        0.047184497141992125, 0.08072781235600851,  0.04128502893066553,  0.010205608025316115,
        -0.5442219218144484,  0.01753013173694659,  0.6212309751588924,   0.1785725707363873,
        -0.11620609597129611, 0.11079099036427537,  0.2101273764170924,   0.010760849866972871,
        0.4195875131198782,   0.2724989382071744,   -0.2963415880346712,  -0.24279182547112252};
    REQUIRE(all_close(mha->forward(x, x, x, {}, {}, true), expected, rtol, atol));
    Tensor causal = triu(ones({L, L}, DType::bool_), 1);
    REQUIRE(all_close(mha->forward(x, x, x, causal), expected, rtol, atol));
    // is_causal combined with a key padding mask goes through the combined-mask path.
    Tensor no_pad = zeros({B, L}, DType::bool_);
    REQUIRE(all_close(mha->forward(x, x, x, {}, no_pad, true), expected, rtol, atol));
  }
  SECTION("3-D attn_mask (batch * heads, L, S)") {
    Tensor m3 = gt(wave({B * H, L, S}, 4.0), 0.8);
    Tensor y = mha->forward(x, k, v, m3);
    REQUIRE(all_close(y, {0.21092197672712837, -0.22936617174461768, -0.1786859012044978, 0.2804093489853814,
                          0.29976875313396667, 0.1972069879540689, -0.1901765149258297, -0.1482475559377153,
                          0.5092122440578346, -0.5478452620532118, -0.5347302014875954, 0.5343222091181214,
                          0.3185095710669323, -0.5299843429131069, -0.3407885713909751, 0.5516312952822503,
                          -0.41555959176022317, 0.614905737244131, 0.6008986782380409, -0.4224901595526057,
                          0.2231040025293883, -0.4032222727887007, -0.22239555721615398, 0.4463389989987583},
                      rtol, atol));
    REQUIRE(all_close(y, naive_mha(*mha, x, k, v, additive(m3.reshape({B, H, L, S}))), 1e-12, 1e-12));
  }
  SECTION("unbatched input equals the batch-of-one result") {
    Tensor y = mha->forward(x[1], k[1], v[1]);
    REQUIRE(y.sizes() == Shape{L, E});
    REQUIRE(all_close(y, mha->forward(x, k, v)[1], 1e-12, 1e-12));
  }
}

TEST_CASE("MultiheadAttention: default init, dropout on the weights, gradcheck, bad input", "[nn][attention]") {
  manual_seed(4);
  nn::MultiheadAttention fresh(8, 2);
  // xavier_uniform on (3E, E): bound sqrt(6 / (E + 3E)); biases zero; out_proj weight as Linear.
  double max_in = 0.0, max_out = 0.0;
  for (double w : values(fresh.in_proj_weight)) max_in = std::max(max_in, std::fabs(w));
  for (double w : values(fresh.out_proj->weight)) max_out = std::max(max_out, std::fabs(w));
  REQUIRE(max_in <= std::sqrt(6.0 / 32.0));
  REQUIRE(max_in > 0.8 * std::sqrt(6.0 / 32.0));
  REQUIRE(max_out <= 1.0 / std::sqrt(8.0));
  REQUIRE(values(fresh.in_proj_bias) == std::vector<double>(24, 0.0));
  REQUIRE(values(fresh.out_proj->bias) == std::vector<double>(8, 0.0));

  auto mha = make_mha(0.5);
  Tensor x = wave({B, L, E}, 0.0), k = wave({B, S, E}, 0.5), v = wave({B, S, E}, 1.0);
  mha->eval();
  Tensor y_eval = mha->forward(x, k, v);
  REQUIRE(all_close(y_eval, naive_mha(*mha, x, k, v), 1e-12, 1e-12));  // no dropout in eval
  mha->train();
  const GeneratorState state = default_generator().state();
  Tensor y_train = mha->forward(x, k, v);
  Tensor factors = detail::attention_dropout_factors({B, H}, L, S, 0.5, state, DType::f64);
  REQUIRE(all_close(y_train, naive_mha(*mha, x, k, v, {}, factors), 1e-12, 1e-12));
  REQUIRE_FALSE(all_close(y_train, y_eval));

  auto small = make_mha();
  TensorList inputs{rand64({B, L, E}, 21), rand64({B, S, E}, 22), small->in_proj_weight, small->out_proj->weight};
  Tensor pad = bool_mask({0, 0, 0, 1, 1, 0, 0, 0}, {B, S});
  REQUIRE(gradcheck([&](const TensorList& in) { return TensorList{small->forward(in[0], in[1], in[1], {}, pad)}; },
                    inputs));

  REQUIRE_THROWS_OP(nn::MultiheadAttention(10, 3),
                    "MultiheadAttention: embed_dim (10) must be divisible by num_heads (3)");
  REQUIRE_THROWS_OP(mha->forward(zeros({B, L, 5}, DType::f64), k, v), "MultiheadAttention: embed_dim is 4");
  REQUIRE_THROWS_OP(mha->forward(x, k, wave({B, 3, E}, 0.0)), "source lengths must agree");
  REQUIRE_THROWS_OP(mha->forward(x, k, v, zeros({L, L}, DType::bool_)), "2-D attn_mask must be (L, S) = (3, 4)");
  REQUIRE_THROWS_OP(mha->forward(x, k, v, {}, zeros({B, L}, DType::bool_)), "key_padding_mask must be");
  REQUIRE_THROWS_OP(mha->forward(x, k, v, zeros({L, S}, DType::i64)), "attn_mask must be bool or floating");
  REQUIRE_THROWS_OP(mha->forward(zeros({L}, DType::f64), k, v), "MultiheadAttention: expected query");
}

TEST_CASE("Mlp is fc1 -> act -> fc2 with timm's names", "[nn][attention]") {
  manual_seed(6);
  nn::Mlp mlp(6, 12, 3, "gelu");
  std::vector<std::string> names;
  for (auto& [name, p] : mlp.named_parameters()) names.push_back(name);
  REQUIRE(names == std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"});
  Tensor x = rand({2, 5, 6}, default_generator());
  Tensor y = mlp(x);
  REQUIRE(y.sizes() == Shape{2, 5, 3});
  REQUIRE(all_close(y, linear(gelu(linear(x, mlp.fc1->weight, mlp.fc1->bias)), mlp.fc2->weight, mlp.fc2->bias)));
  nn::Mlp same_width(6, 12);
  REQUIRE(same_width.fc2->out_features == 6);
  REQUIRE_THROWS_OP(nn::Mlp(6, 12, 3, "gleu"), "unknown activation 'gleu'");
}

TEST_CASE("PatchEmbed: tokens from a stride-p conv named proj", "[nn][attention]") {
  manual_seed(7);
  nn::PatchEmbed embed(16, 4, 3, 8);
  REQUIRE(embed.num_patches == 16);
  auto sd = embed.state_dict();
  REQUIRE(sd.size() == 2);
  REQUIRE(sd.at("proj.weight").sizes() == Shape{8, 3, 4, 4});
  REQUIRE(sd.at("proj.bias").sizes() == Shape{8});
  Tensor x = rand({2, 3, 16, 16}, default_generator());
  Tensor tokens = embed(x);
  REQUIRE(tokens.sizes() == Shape{2, 16, 8});
  // Token t = patch (t / 4, t % 4): a naive reference from the patch's pixels.
  auto w = values(embed.proj->weight), b = values(embed.proj->bias);
  std::vector<double> expected;
  for (int n = 0; n < 2; ++n) {
    for (int t = 0; t < 16; ++t) {
      for (int o = 0; o < 8; ++o) {
        double s = b[o];
        for (int c = 0; c < 3; ++c) {
          for (int i = 0; i < 4; ++i) {
            for (int j = 0; j < 4; ++j) {
              s += w[((o * 3 + c) * 4 + i) * 4 + j] *
                   read_element(x, ((n * 3 + c) * 16 + (t / 4) * 4 + i) * 16 + (t % 4) * 4 + j);
            }
          }
        }
        expected.push_back(s);
      }
    }
  }
  REQUIRE(all_close(tokens, expected, 1e-4, 1e-5));
  REQUIRE_THROWS_OP(embed(zeros({2, 3, 32, 32})),
                    "PatchEmbed: expected input (N, 3, 16, 16), got float32[2, 3, 32, 32]");
  REQUIRE_THROWS_OP(nn::PatchEmbed(18, 4, 3, 8), "PatchEmbed: image_size (18) must be a positive multiple");
}
