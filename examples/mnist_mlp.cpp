// The main job until the experiment binaries exist: a two-layer MLP trained on Fashion-MNIST
// with nothing but Ember's ops and autograd (no nn modules, no optimizer classes), so a reader
// sees every step: forward, loss, backward, SGD-with-momentum update, evaluation.
//
//   build/examples/mnist_mlp                 # 3 epochs on the full dataset
//   build/examples/mnist_mlp --quick         # a 20-second smoke run (used by the test suite)
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstring>

#include "data/idx.h"
#include "ember.h"

using namespace ember;

namespace {

struct Options {
  int epochs = 3;
  int64_t batch = 128;
  int64_t hidden = 256;
  double lr = 0.1;
  double momentum = 0.9;
  uint64_t seed = 0;
  int64_t train_limit = 0;  // 0 = all
  int64_t test_limit = 0;
  std::string data_dir;
  bool quick = false;
};

// images (N, 28, 28) uint8 -> (N, 784) float32, scaled to [0, 1] and standardised with the
// Fashion-MNIST training-set mean and std (0.2860, 0.3530).
Tensor prepare_images(const Tensor& images, int64_t limit) {
  const int64_t n = limit > 0 ? std::min(limit, images.size(0)) : images.size(0);
  Tensor x = images.narrow(0, 0, n).reshape({n, 784}).to(DType::f32);
  return (x / 255.0 - 0.2860) / 0.3530;
}

// Rows `order[start .. start+count)` of a contiguous 2-D tensor, copied into one batch.
Tensor gather_rows(const Tensor& source, const int64_t* order, int64_t start, int64_t count) {
  const int64_t width = source.numel() / source.size(0);
  Shape sizes = source.sizes();
  sizes[0] = count;
  Tensor out = empty(sizes, source.dtype());
  const size_t row_bytes = static_cast<size_t>(width) * source.element_size();
  auto* dst = static_cast<char*>(out.raw_data());
  const auto* src = static_cast<const char*>(source.raw_data());
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + i * row_bytes, src + order[start + i] * row_bytes, row_bytes);
  return out;
}

// PyTorch's nn.Linear initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
Tensor linear_init(const Shape& shape, int64_t fan_in, Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return uniform(-bound, bound, shape, gen).requires_grad_(true);
}

struct Mlp {
  Tensor w1, b1, w2, b2;
  Tensor forward(const Tensor& x) const {       // x: (B, 784)
    Tensor h = relu(linear(x, w1, b1));         // (B, hidden)
    return linear(h, w2, b2);                   // (B, 10) logits
  }
  TensorList parameters() const { return {w1, b1, w2, b2}; }
};

double accuracy(const Mlp& model, const Tensor& x, const Tensor& y) {
  NoGradGuard no_grad;
  const Tensor predicted = argmax(model.forward(x), 1);
  return mean(eq(predicted, y).to(DType::f64)).item<double>();
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"Train a two-layer MLP on Fashion-MNIST with Ember's ops and autograd"};
  app.add_option("--epochs", opt.epochs, "passes over the training set");
  app.add_option("--batch", opt.batch, "batch size");
  app.add_option("--hidden", opt.hidden, "hidden units");
  app.add_option("--lr", opt.lr, "SGD learning rate");
  app.add_option("--momentum", opt.momentum, "SGD momentum");
  app.add_option("--seed", opt.seed, "seed for initialisation and shuffling");
  app.add_option("--train-limit", opt.train_limit, "use only the first N training images (0 = all)");
  app.add_option("--test-limit", opt.test_limit, "use only the first N test images (0 = all)");
  app.add_option("--data-dir", opt.data_dir, "folder with the Fashion-MNIST IDX files (default: $EMBER_DATA_DIR or "
                                             "/usr/share/datasets/fashion-mnist)");
  app.add_flag("--quick", opt.quick, "a short smoke run (1 epoch on 6000 images); fails unless accuracy > 70%");
  CLI11_PARSE(app, argc, argv);
  if (opt.quick) {
    opt.epochs = 1;
    opt.train_limit = 6000;
    opt.test_limit = 2000;
  }

  try {
    const std::string dir = data::fashion_mnist_dir(opt.data_dir);
    const auto train = data::load_fashion_mnist(dir, /*train=*/true);
    const auto test = data::load_fashion_mnist(dir, /*train=*/false);
    const Tensor x_train = prepare_images(train.images, opt.train_limit);
    const Tensor y_train = train.labels.narrow(0, 0, x_train.size(0)).contiguous().reshape({-1, 1});
    const Tensor x_test = prepare_images(test.images, opt.test_limit);
    const Tensor y_test = test.labels.narrow(0, 0, x_test.size(0));
    const int64_t n = x_train.size(0);
    fmt::print("Fashion-MNIST from {}: {} training and {} test images; MLP 784-{}-10; {} threads\n", dir, n,
               x_test.size(0), opt.hidden, num_threads());

    Generator gen(opt.seed);
    Mlp model{linear_init({opt.hidden, 784}, 784, gen), linear_init({opt.hidden}, 784, gen),
              linear_init({10, opt.hidden}, opt.hidden, gen), linear_init({10}, opt.hidden, gen)};
    TensorList velocity;
    for (const auto& p : model.parameters()) velocity.push_back(zeros_like(p));

    const auto start = std::chrono::steady_clock::now();
    int64_t step = 0;
    for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
      const Tensor order = randperm(n, gen);
      double running_loss = 0.0;
      int64_t running_count = 0;
      for (int64_t first = 0; first < n; first += opt.batch, ++step) {
        const int64_t count = std::min(opt.batch, n - first);
        const Tensor x = gather_rows(x_train, order.data_ptr<int64_t>(), first, count);
        const Tensor y = gather_rows(y_train, order.data_ptr<int64_t>(), first, count).reshape({count});

        const Tensor loss = cross_entropy(model.forward(x), y);
        for (auto p : model.parameters()) p.zero_grad();
        loss.backward();
        {
          // SGD with momentum, PyTorch's form: v = mu * v + g;  p -= lr * v.
          NoGradGuard no_grad;
          TensorList params = model.parameters();
          for (size_t i = 0; i < params.size(); ++i) {
            velocity[i].mul_(opt.momentum).add_(params[i].grad());
            params[i].sub_(velocity[i], opt.lr);
          }
        }
        running_loss += loss.item<double>();
        ++running_count;
        if (step % 100 == 0) {
          fmt::print("epoch {} step {:5d}  loss {:.4f}\n", epoch, step, running_loss / running_count);
          running_loss = 0.0;
          running_count = 0;
        }
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print("epoch {} done in {:.1f} s: test accuracy {:.2f}%\n", epoch, seconds,
                 100.0 * accuracy(model, x_test, y_test));
    }
    const double final_accuracy = accuracy(model, x_test, y_test);
    fmt::print("final test accuracy {:.2f}%\n", 100.0 * final_accuracy);
    if (opt.quick && final_accuracy < 0.70) {
      fmt::print(stderr, "quick run: accuracy {:.2f}% is below the 70% a working engine reaches\n",
                 100.0 * final_accuracy);
      return 1;
    }
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
