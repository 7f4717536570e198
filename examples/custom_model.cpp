// A new model in a few dozen lines (28x28 inputs), the way one writes it in PyTorch: subclass nn::Module,
// register layers, write forward; then the usual loop with a DataLoader, AdamW and a cosine
// schedule. Trains on Fashion-MNIST (Debian's dataset-fashion-mnist) or, with --quick or when the
// files are absent, on the generated "synthetic" dataset. The full trainer with checkpoints and
// run folders is experiments/train; this is the bare loop it is built from.
// Run: build/examples/custom_model [--quick] [--epochs N]
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "data/dataloader.h"
#include "data/datasets.h"
#include "ember.h"
#include "models/nn/nn.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

using namespace ember;

// [model] conv-bn-relu twice, pool, linear: x (N, C, 28, 28) -> logits (N, classes).
class SmallCnn : public nn::Module {
 public:
  SmallCnn(int64_t in_channels, int64_t classes) : nn::Module("SmallCnn") {
    conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(in_channels, 32, 3, nn::Conv2dOptions{.padding = 1}));
    bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(32));
    conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(32, 64, 3,
                                                                 nn::Conv2dOptions{.stride = 2, .padding = 1}));
    bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(64));
    pool = register_module("pool", std::make_shared<nn::AvgPool2d>(2));
    fc = register_module("fc", std::make_shared<nn::Linear>(64 * 7 * 7, classes));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = relu((*bn1)((*conv1)(x)));  // (N, 32, 28, 28)
    h = relu((*bn2)((*conv2)(h)));         // (N, 64, 14, 14)
    h = (*pool)(h);                        // (N, 64, 7, 7): where things are still matters
    return (*fc)(h.flatten(1));            // (N, classes)
  }
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::AvgPool2d> pool;
  std::shared_ptr<nn::Linear> fc;
};
// [/model]

double evaluate(nn::Module& model, data::DataLoader& loader) {
  NoGradGuard no_grad;
  model.eval();
  int64_t correct = 0, seen = 0;
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    correct += sum(eq(argmax(model(batch->input), 1), batch->target)).item<int64_t>();
    seen += batch->size();
  }
  model.train();
  return static_cast<double>(correct) / static_cast<double>(seen);
}

int main(int argc, char** argv) {
  CLI::App app{"Train a user-defined CNN with the bare loop (see examples/custom_model.cpp)"};
  bool quick = false;
  int epochs = 1;
  std::string dataset = "fashion_mnist";
  app.add_flag("--quick", quick, "synthetic data, a few hundred steps' worth: the CI smoke run");
  app.add_option("--epochs", epochs, "epochs")->check(CLI::PositiveNumber);
  app.add_option("--dataset", dataset, "dataset name (fashion_mnist, mnist, cifar10, synthetic, ...)");
  CLI11_PARSE(app, argc, argv);
  try {
    manual_seed(0);
    if (quick) {
      dataset = "synthetic";
      epochs = 2;
    }
    auto [train_set, info] = data::make_image_dataset(dataset, "", /*train=*/true);
    auto test_set = data::make_image_dataset(dataset, "", /*train=*/false).dataset;
    data::DataLoader train(train_set, {.batch_size = 128, .shuffle = true, .seed = 0, .drop_last = true, .num_workers = 1},
                           data::image_transforms(info, {.train = true}));
    data::DataLoader test(test_set, {.batch_size = 512}, data::image_transforms(info, {.train = false}));

    auto model = std::make_shared<SmallCnn>(info.channels, info.num_classes);
    auto opt = optim::make_optimizer("adamw", optim::weight_decay_groups(model->named_parameters(), 0.05),
                                     {{"lr", 3e-3}});
    optim::ScheduleOptions schedule;
    schedule.kind = "cosine";
    schedule.total_steps = epochs * train.num_batches();
    optim::LRScheduler scheduler(*opt, optim::Schedule(schedule));
    fmt::print("{}: {} parameters, {} training batches per epoch\n", model->type_name(), model->num_parameters(),
               train.num_batches());

    for (int epoch = 0; epoch < epochs; ++epoch) {
      train.start_epoch(epoch);
      double loss_sum = 0;
      int64_t steps = 0;
      while (auto batch = train.next()) {
        Tensor loss = cross_entropy((*model)(batch->input), batch->target);
        opt->zero_grad();
        loss.backward();
        opt->step();
        scheduler.iteration_done();
        loss_sum += loss.item<double>();
        ++steps;
      }
      fmt::print("epoch {}: train loss {:.4f}, test accuracy {:.2f}%\n", epoch + 1, loss_sum / steps,
                 100.0 * evaluate(*model, test));
    }
    const double accuracy = evaluate(*model, test);
    // The smoke run must learn something: the synthetic classes are easy for a CNN.
    if (quick && accuracy < 0.8) {
      fmt::print(stderr, "custom_model: test accuracy {:.3f} below 0.8 after the quick run\n", accuracy);
      return 1;
    }
    return 0;
  } catch (const Error& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 1;
  }
}
