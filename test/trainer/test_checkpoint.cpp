// Checkpoint folders: experiments/trainer/checkpoint.{h,cpp}. The optimizer's part is covered with a
// real optimizer in test_resume.cpp.
#include <cstring>
#include <fstream>

#include "experiments/trainer/checkpoint.h"
#include "helpers.h"
#include "trainer_test_utils.h"

using namespace ember;
using namespace ember::experiments;
namespace fs = std::filesystem;
using test::TinyNet;

namespace {

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.sizes() == b.sizes() && a.dtype() == b.dtype() &&
         std::memcmp(a.contiguous().raw_data(), b.contiguous().raw_data(), a.numel() * a.element_size()) == 0;
}

nlohmann::json sample_state(int64_t step) {
  return {{"model", "tiny(4->3)"},
          {"step", step},
          {"lr", 0.1 + 0.2},  // not exactly representable: must come back bit for bit
          {"rng", generator_state_to_json({0xFEDCBA9876543210ull, 123456789012345ull})}};
}

void truncate_file(const fs::path& path, double keep_fraction) {
  const auto size = fs::file_size(path);
  fs::resize_file(path, static_cast<uintmax_t>(static_cast<double>(size) * keep_fraction));
}

}  // namespace

TEST_CASE("checkpoint: round trip of weights, buffers and the sidecar", "[trainer][checkpoint]") {
  test::ScratchDir scratch("ckpt");
  TinyNet source(4, 3, /*seed=*/7);
  source.steps.fill_(5.0);
  const fs::path dir = scratch.path() / "last";
  save_checkpoint(dir, source, nullptr, sample_state(42));
  CHECK(fs::exists(dir / "model.safetensors"));
  CHECK(fs::exists(dir / "state.json"));
  CHECK_FALSE(fs::exists(dir / "optimizer.safetensors"));  // weights only

  const Checkpoint checkpoint = read_checkpoint(dir);
  TinyNet target(4, 3, /*seed=*/8);
  REQUIRE_FALSE(bitwise_equal(target.weight, source.weight));
  load_model_weights(target, checkpoint, "tiny(4->3)", dir);
  CHECK(bitwise_equal(target.weight, source.weight));
  CHECK(bitwise_equal(target.bias, source.bias));
  CHECK(target.steps.item<double>() == 5.0);
  CHECK(checkpoint.state["step"].get<int64_t>() == 42);
  CHECK(checkpoint.state["lr"].get<double>() == 0.1 + 0.2);
  const GeneratorState rng = generator_state_from_json(checkpoint.state["rng"]);
  CHECK(rng.seed == 0xFEDCBA9876543210ull);
  CHECK(rng.offset == 123456789012345ull);
}

TEST_CASE("checkpoint: written through a temp folder, a crash leaves a complete one", "[trainer][checkpoint]") {
  test::ScratchDir scratch("ckpt-atomic");
  TinyNet model(4, 3);
  const fs::path dir = scratch.path() / "last";
  save_checkpoint(dir, model, nullptr, sample_state(1));
  save_checkpoint(dir, model, nullptr, sample_state(2));  // replaces the first
  CHECK(read_checkpoint(dir).state["step"] == 2);
  for (const auto& entry : fs::directory_iterator(scratch.path())) CHECK(entry.path().filename() == "last");
  for (const auto& entry : fs::directory_iterator(dir))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);

  // A crash while the new checkpoint was being written: a torn <dir>.tmp is ignored.
  fs::create_directories(dir.string() + ".tmp");
  std::ofstream(dir.string() + ".tmp/model.safetensors") << "torn";
  CHECK(read_checkpoint(dir).state["step"] == 2);
  // A crash between the two renames: only <dir>.old is there, and it is complete.
  fs::rename(dir, dir.string() + ".old");
  CHECK(read_checkpoint(dir).state["step"] == 2);
  CHECK(resolve_checkpoint_dir(scratch.path()) == dir);
  // The next save cleans both up.
  save_checkpoint(dir, model, nullptr, sample_state(3));
  CHECK_FALSE(fs::exists(dir.string() + ".old"));
  CHECK_FALSE(fs::exists(dir.string() + ".tmp"));
  CHECK(read_checkpoint(dir).state["step"] == 3);
}

TEST_CASE("checkpoint: truncated or mixed files give a one-line error saying what to do", "[trainer][checkpoint]") {
  test::ScratchDir scratch("ckpt-torn");
  TinyNet model(64, 10);
  const fs::path dir = scratch.path() / "last";

  save_checkpoint(dir, model, nullptr, sample_state(1));
  truncate_file(dir / "model.safetensors", 0.5);
  test::require_one_line_error([&] { read_checkpoint(dir); },
                               {"truncated or corrupt", dir.string(), "model.safetensors", "fresh run"});

  save_checkpoint(dir, model, nullptr, sample_state(1));
  truncate_file(dir / "state.json", 0.5);
  test::require_one_line_error([&] { read_checkpoint(dir); }, {"truncated or corrupt", "fresh run"});

  // model.safetensors from another save than state.json.
  save_checkpoint(dir, model, nullptr, sample_state(1));
  save_checkpoint(scratch.path() / "other", model, nullptr, sample_state(2));
  fs::copy_file(scratch.path() / "other" / "model.safetensors", dir / "model.safetensors",
                fs::copy_options::overwrite_existing);
  test::require_one_line_error([&] { read_checkpoint(dir); }, {"step 2", "step 1"});

  test::require_one_line_error([&] { read_checkpoint(scratch.path() / "missing"); }, {"not a checkpoint folder"});
  test::require_one_line_error([&] { resolve_checkpoint_dir(scratch.path() / "missing"); }, {"--resume", "no checkpoint"});
}

TEST_CASE("checkpoint: another architecture is refused before any weight changes", "[trainer][checkpoint]") {
  test::ScratchDir scratch("ckpt-arch");
  TinyNet saved(4, 3);
  save_checkpoint(scratch.path() / "last", saved, nullptr, sample_state(1));
  const Checkpoint checkpoint = read_checkpoint(scratch.path() / "last");

  TinyNet wider(5, 3);
  const Tensor before = wider.weight.clone();
  test::require_one_line_error([&] { load_model_weights(wider, checkpoint, "tiny(5->3)", scratch.path() / "last"); },
                               {"another architecture", "tiny(4->3)", "tiny(5->3)", "'weight' is [3, 4]",
                                "config.json"});
  CHECK(bitwise_equal(wider.weight, before));
}
