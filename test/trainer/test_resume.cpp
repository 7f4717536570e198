// The trainer's loop: exact resume (Note [Exact resume] in experiments/trainer/trainer.h), the NaN
// abort, top-k counting, and the run folder a fit() leaves behind.
#include <fstream>

#include "data/dataloader.h"
#include "data/datasets.h"
#include "data/transforms.h"
#include "experiments/trainer/checkpoint.h"
#include "experiments/trainer/trainer.h"
#include "helpers.h"
#include "models/zoo.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "trainer_test_utils.h"

using namespace ember;
using namespace ember::experiments;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kBatchesPerEpoch = 6;  // 192 examples / 32, drop_last

// Everything one training process owns. Built from scratch for each "process": the only thing a
// resumed run shares with the killed one is the run folder on disk.
struct Session {
  data::ImageDatasetSplit train_split, test_split;
  std::unique_ptr<data::DataLoader> train_loader, test_loader;
  nn::ModulePtr model;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<optim::LRScheduler> scheduler;
  std::unique_ptr<Trainer> trainer;
  std::vector<double> losses;  // per step, as the after-step hook sees them
  Tensor ema;                  // a hook with state (as EMA in issue 4): an average of fc.weight

  Session(int64_t epochs, int64_t max_steps, uint64_t init_seed) {
    data::SyntheticOptions synthetic;
    synthetic.train_size = 192;
    synthetic.test_size = 64;
    synthetic.size = 12;
    train_split = data::make_synthetic_dataset(synthetic, true);
    test_split = data::make_synthetic_dataset(synthetic, false);
    const auto& info = train_split.info;
    // Shuffling, augmentation drawn per batch, and prefetching workers: all must resume exactly.
    train_loader = std::make_unique<data::DataLoader>(
        train_split.dataset,
        data::DataLoaderOptions{.batch_size = 32, .shuffle = true, .seed = 7, .drop_last = true, .num_workers = 2},
        data::compose({data::random_crop(info.height, info.width, 2), data::random_horizontal_flip(),
                       data::normalize(info.mean, info.std)}));
    test_loader = std::make_unique<data::DataLoader>(test_split.dataset, data::DataLoaderOptions{.batch_size = 32},
                                                     data::normalize(info.mean, info.std));
    // BatchNorm (running statistics are buffers) and dropout (draws from the default generator).
    manual_seed(init_seed);
    models::ModelConfig config;
    config.in_channels = info.channels;
    config.image_size = info.height;
    config.width = 4;
    config.drop_rate = 0.25;
    model = models::create_model("resnet8", config);
    optimizer = optim::make_optimizer("sgd", optim::weight_decay_groups(model->named_parameters(), 5e-4),
                                      {{"lr", 0.05}, {"momentum", 0.9}, {"nesterov", 1.0}});
    optim::ScheduleOptions schedule;
    schedule.kind = "cosine";
    schedule.warmup = "linear";
    schedule.warmup_steps = 3;
    schedule.total_steps = epochs * kBatchesPerEpoch - 3;
    scheduler = std::make_unique<optim::LRScheduler>(*optimizer, optim::Schedule(schedule));

    TrainerConfig trainer_config;
    trainer_config.model_description = "resnet8(width=4)";
    trainer_config.epochs = epochs;
    trainer_config.max_steps = max_steps;
    trainer_config.label_smoothing = 0.1;
    trainer_config.clip_grad_norm = 1.0;
    trainer_config.log_every = 1;
    trainer_config.progress = false;
    trainer = std::make_unique<Trainer>(trainer_config, model, *optimizer, *train_loader, test_loader.get());
    trainer->set_scheduler(scheduler.get());
    trainer->add_after_step_hook([this](const StepInfo& step) { losses.push_back(step.loss); });
    ema = zeros({10, 16});  // fc.weight: (classes, 4 * width)
    trainer->add_after_step_hook([this](const StepInfo&) {
      NoGradGuard no_grad;
      ema = ema * 0.9 + model->state_dict().at("fc.weight") * 0.1;
    });
    trainer->add_checkpoint_state(
        "ema", [this] { return TensorMap{{"fc.weight", ema}}; },
        [this](const TensorMap& saved) { ema = saved.at("fc.weight").clone(); });
  }
};

RunDir new_run(const fs::path& root, const std::string& name) {
  RunDir run = RunDir::create({root.string(), "resume", name, false});
  run.write_config({{"test", name}});
  return run;
}

// The training records of metrics.jsonl without the timing fields (which differ run to run).
std::vector<std::string> train_records(const fs::path& run) {
  std::ifstream in(run / "metrics.jsonl");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    auto record = nlohmann::json::parse(line);
    if (record["kind"] == "eval") continue;
    record.erase("samples_per_s");
    record.erase("time_s");
    out.push_back(record.dump());
  }
  return out;
}

}  // namespace

TEST_CASE("resume: a killed run continued from its checkpoint equals the uninterrupted run bit for bit",
          "[trainer][resume]") {
  constexpr int64_t kEpochs = 3, kSteps = 14;  // the last epoch is cut short by max_steps
  // Stop mid-epoch, and exactly at an epoch boundary.
  const int64_t stop_at = GENERATE(4, kBatchesPerEpoch);
  test::ScratchDir scratch("resume-" + std::to_string(stop_at));

  std::vector<double> uninterrupted;
  Tensor uninterrupted_ema;
  {
    Session session(kEpochs, kSteps, /*init_seed=*/11);
    session.trainer->attach_run(new_run(scratch.path(), "uninterrupted"));
    session.trainer->fit();
    uninterrupted = session.losses;
    uninterrupted_ema = session.ema;
  }
  REQUIRE(uninterrupted.size() == kSteps);
  CHECK(uninterrupted.back() < uninterrupted.front());  // it learns, so the comparison means something

  const RunDir run = new_run(scratch.path(), "killed");
  std::vector<double> first_part;
  {
    Session session(kEpochs, stop_at, /*init_seed=*/11);
    session.trainer->attach_run(run);
    session.trainer->fit();
    first_part = session.losses;
  }
  REQUIRE(first_part.size() == static_cast<size_t>(stop_at));

  // A fresh process: other initial weights and a used default generator, which resume() replaces.
  Session resumed(kEpochs, kSteps, /*init_seed=*/99);
  (void)randn({17});
  resumed.trainer->attach_run(RunDir::open_existing(run.path()));
  resumed.trainer->resume(resolve_checkpoint_dir(run.path()));
  CHECK(resumed.trainer->step() == stop_at);
  resumed.trainer->fit();

  std::vector<double> stitched = first_part;
  stitched.insert(stitched.end(), resumed.losses.begin(), resumed.losses.end());
  REQUIRE(stitched.size() == uninterrupted.size());
  for (size_t i = 0; i < stitched.size(); ++i) {
    INFO("step " << i + 1);
    CHECK(stitched[i] == uninterrupted[i]);  // exact, not approximate
  }
  // The hook's state came back through the checkpoint.
  CHECK(test::values(resumed.ema) == test::values(uninterrupted_ema));
  CHECK(fs::exists(run.checkpoint_dir() / "last" / "ema.safetensors"));
  // The metrics files read as if the run had never stopped.
  CHECK(train_records(run.path()) == train_records(scratch.path() / "resume" / "uninterrupted"));
  // The final weights agree too.
  const Checkpoint a = read_checkpoint(run.checkpoint_dir() / "last");
  const Checkpoint b = read_checkpoint(scratch.path() / "resume" / "uninterrupted" / "checkpoint" / "last");
  for (const auto& [name, tensor] : a.model) {
    INFO(name);
    CHECK(test::values(tensor) == test::values(b.model.at(name)));
  }
}

TEST_CASE("resume: the optimizer of another kind is refused", "[trainer][resume]") {
  test::ScratchDir scratch("resume-optimizer");
  const RunDir run = new_run(scratch.path(), "sgd");
  {
    Session session(1, 2, 1);
    session.trainer->attach_run(run);
    session.trainer->fit();
  }
  Session other(1, 2, 1);
  other.optimizer = optim::make_optimizer("adamw", optim::weight_decay_groups(other.model->named_parameters(), 0.05));
  Trainer trainer(TrainerConfig{.model_description = "resnet8(width=4)", .progress = false}, other.model,
                  *other.optimizer, *other.train_loader);
  test::require_one_line_error([&] { trainer.resume(run.checkpoint_dir() / "last"); }, {"sgd", "adamw"});
}

TEST_CASE("trainer: a NaN loss stops the run naming the step and the lr", "[trainer]") {
  auto model = std::make_shared<test::TinyNet>(4, 3);
  model->weight.detach().fill_(std::nan(""));
  auto dataset = std::make_shared<data::TensorDataset>(randn({8, 4}), zeros({8}, TensorOptions(DType::i64)));
  data::DataLoader loader(dataset, {.batch_size = 4});
  auto optimizer = optim::make_optimizer("sgd", {optim::ParamGroup{model->parameters(), {}, ""}}, {{"lr", 0.25}});
  Trainer trainer(TrainerConfig{.progress = false}, model, *optimizer, loader);
  test::require_one_line_error([&] { trainer.fit(); }, {"loss is nan", "step 1", "lr 0.25", "--lr"});
}

TEST_CASE("trainer: top-k counting against hand-worked rows", "[trainer]") {
  // Row 0: target 2 has the largest logit (top-1, top-2). Row 1: target 0 is second (top-2 only).
  // Row 2: target 1 is the smallest of three (neither).
  const Tensor logits = from_vector<float>({0.1f, 0.2f, 0.9f, /**/ 0.5f, 0.7f, 0.1f, /**/ 0.3f, 0.0f, 0.2f}, {3, 3});
  const Tensor target = from_vector<int64_t>({2, 0, 1}, {3});
  CHECK(count_topk_correct(logits, target, 1) == 1);
  CHECK(count_topk_correct(logits, target, 2) == 2);
  CHECK(count_topk_correct(logits, target, 3) == 3);
  test::require_one_line_error([&] { count_topk_correct(logits, from_vector<int64_t>({5, 0, 1}, {3}), 1); },
                               {"target 5"});
}

TEST_CASE("trainer: fit writes metrics, last/best checkpoints and evaluates", "[trainer]") {
  test::ScratchDir scratch("fit");
  Session session(2, 0, 3);
  const RunDir run = new_run(scratch.path(), "fit");
  session.trainer->attach_run(run);
  const FitResult result = session.trainer->fit();
  CHECK(result.steps == 2 * kBatchesPerEpoch);
  CHECK(result.epochs_completed == 2);
  REQUIRE(result.last_eval.has_value());
  CHECK(result.last_eval->samples == 64);
  CHECK(result.last_eval->top5 >= result.last_eval->top1);
  CHECK(result.best_epoch >= 1);
  CHECK(fs::exists(run.checkpoint_dir() / "last" / "optimizer.safetensors"));
  CHECK(fs::exists(run.checkpoint_dir() / "best" / "model.safetensors"));
  const auto state = read_checkpoint(run.checkpoint_dir() / "last").state;
  CHECK(state["step"] == 2 * kBatchesPerEpoch);
  CHECK(state["epoch"] == 2);
  CHECK(state["data_loader"]["epoch"] == 1);
  CHECK(state["schedule"]["last_step"] == 2 * kBatchesPerEpoch);
  CHECK(train_records(run.path()).size() == 2 * kBatchesPerEpoch + 2);  // every step + 2 epoch records
}
