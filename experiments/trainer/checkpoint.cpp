// Checkpoint folders (see checkpoint.h).
#include "experiments/trainer/checkpoint.h"

#include <system_error>

#include "engine/error.h"
#include "experiments/trainer/run_dir.h"

namespace ember::experiments {

namespace fs = std::filesystem;

namespace {

constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kStateFile = "state.json";
// Each safetensors file carries the sidecar's "step" in its metadata, so files from two different
// saves can never be combined silently.
constexpr const char* kStepKey = "ember.step";

std::string step_tag(const nlohmann::json& state) {
  return state.contains("step") ? state["step"].dump() : "-1";
}

void remove_all_or_throw(const fs::path& path) {
  std::error_code error;
  fs::remove_all(path, error);
  EMBER_CHECK(!error, "checkpoint: cannot remove {}: {}", path.string(), error.message());
}

// What to tell the user when a checkpoint cannot be used.
std::string what_to_do(const fs::path& dir) {
  return fmt::format("resume from another checkpoint (e.g. {}) or start a fresh run without --resume",
                     (dir.parent_path() / (dir.filename() == "best" ? "last" : "best")).string());
}

}  // namespace

nlohmann::json generator_state_to_json(const GeneratorState& state) {
  return {{"seed", state.seed}, {"offset", state.offset}};
}

GeneratorState generator_state_from_json(const nlohmann::json& json) {
  return {json.at("seed").get<uint64_t>(), json.at("offset").get<uint64_t>()};
}

void save_checkpoint(const fs::path& dir, const nn::Module& model, const optim::Optimizer* optimizer,
                     const nlohmann::json& state, const ExtraTensors& extra) {
  const fs::path tmp = dir.string() + ".tmp";
  const fs::path old = dir.string() + ".old";
  remove_all_or_throw(tmp);
  std::error_code error;
  fs::create_directories(tmp, error);
  EMBER_CHECK(!error, "checkpoint: cannot create {}: {}", tmp.string(), error.message());

  const MetadataMap metadata = {{kStepKey, step_tag(state)}};
  save_safetensors((tmp / kModelFile).string(), model.state_dict(), metadata);
  nlohmann::json sidecar = state;
  if (optimizer != nullptr) {
    optim::OptimizerState optimizer_state = optimizer->state_dict();
    save_safetensors((tmp / kOptimizerFile).string(), optimizer_state.tensors, metadata);
    sidecar["optimizer"] = {{"name", optimizer->name()}, {"scalars", optimizer_state.scalars}};
  }
  for (const auto& [name, tensors] : extra) {
    EMBER_CHECK(!name.empty() && name.find('/') == std::string::npos && name != "model" && name != "optimizer",
                "checkpoint: extra state name '{}' must be a plain file stem other than model/optimizer", name);
    save_safetensors((tmp / (name + ".safetensors")).string(), tensors, metadata);
    sidecar["extra"].push_back(name);
  }
  write_file_atomically(tmp / kStateFile, sidecar.dump(1) + "\n");

  // Swap the folders: after a crash, read_checkpoint falls back to <dir>.old.
  remove_all_or_throw(old);
  if (fs::exists(dir)) fs::rename(dir, old, error);
  EMBER_CHECK(!error, "checkpoint: cannot rename {}: {}", dir.string(), error.message());
  fs::rename(tmp, dir, error);
  EMBER_CHECK(!error, "checkpoint: cannot rename {} to {}: {}", tmp.string(), dir.string(), error.message());
  remove_all_or_throw(old);
}

Checkpoint read_checkpoint(const fs::path& requested) {
  fs::path dir = requested;
  // A crash between the two renames of save_checkpoint leaves only <dir>.old: it is complete.
  if (!fs::exists(dir / kStateFile) && fs::exists(dir.string() + ".old/" + kStateFile)) dir = dir.string() + ".old";
  EMBER_CHECK(fs::exists(dir / kStateFile), "checkpoint {}: no {} there (not a checkpoint folder); {}",
              requested.string(), kStateFile, what_to_do(requested));
  Checkpoint checkpoint;
  try {
    checkpoint.state = nlohmann::json::parse(read_file(dir / kStateFile));
    MetadataMap metadata;
    checkpoint.model = load_safetensors((dir / kModelFile).string(), metadata);
    const std::string step = step_tag(checkpoint.state);
    EMBER_CHECK(metadata[kStepKey] == step, "{} is from step {} but {} from step {}", kModelFile, metadata[kStepKey],
                kStateFile, step);
    if (checkpoint.state.contains("optimizer")) {
      MetadataMap optimizer_metadata;
      checkpoint.optimizer.tensors = load_safetensors((dir / kOptimizerFile).string(), optimizer_metadata);
      EMBER_CHECK(optimizer_metadata[kStepKey] == step, "{} is from step {} but {} from step {}", kOptimizerFile,
                  optimizer_metadata[kStepKey], kStateFile, step);
      checkpoint.optimizer.scalars = checkpoint.state["optimizer"].at("scalars");
    }
    for (const auto& name : checkpoint.state.value("extra", nlohmann::json::array())) {
      const std::string file = name.get<std::string>() + ".safetensors";
      MetadataMap extra_metadata;
      checkpoint.extra[name.get<std::string>()] = load_safetensors((dir / file).string(), extra_metadata);
      EMBER_CHECK(extra_metadata[kStepKey] == step, "{} is from step {} but {} from step {}", file,
                  extra_metadata[kStepKey], kStateFile, step);
    }
  } catch (const std::exception& e) {
    // One line: the cause (ember::Error or nlohmann's parse error), then what to do.
    std::string cause = e.what();
    for (char& c : cause) c = c == '\n' ? ' ' : c;
    EMBER_FAIL("checkpoint {} is truncated or corrupt ({}); {}", requested.string(), cause, what_to_do(requested));
  }
  return checkpoint;
}

void load_model_weights(nn::Module& model, const Checkpoint& checkpoint, const std::string& model_description,
                        const fs::path& dir) {
  const TensorMap expected = model.state_dict();
  std::vector<std::string> differences;
  for (const auto& [name, tensor] : expected) {
    auto found = checkpoint.model.find(name);
    if (found == checkpoint.model.end())
      differences.push_back(fmt::format("'{}' missing", name));
    else if (found->second.sizes() != tensor.sizes())
      differences.push_back(fmt::format("'{}' is {} in the checkpoint, {} in the model", name,
                                        shape_str(found->second.sizes()), shape_str(tensor.sizes())));
  }
  for (const auto& [name, tensor] : checkpoint.model)
    if (!expected.count(name)) differences.push_back(fmt::format("'{}' unexpected", name));
  if (!differences.empty()) {
    const std::string saved = checkpoint.state.value("model", std::string("?"));
    EMBER_FAIL("checkpoint {} holds another architecture (saved model: {}; this run: {}; {} differing keys, first: "
               "{}): resume with the settings of the run that wrote it (its config.json) or start a fresh run "
               "without --resume",
               dir.string(), saved, model_description, differences.size(), differences.front());
  }
  model.load_state_dict(checkpoint.model, /*strict=*/true);
}

fs::path resolve_checkpoint_dir(const fs::path& path) {
  for (const fs::path& candidate : {path, path / "last", path / "checkpoint" / "last"})
    if (fs::exists(candidate / kStateFile) || fs::exists(candidate.string() + ".old/" + kStateFile)) return candidate;
  EMBER_FAIL("--resume {}: no checkpoint there (expected a run folder, its checkpoint/ folder, or a folder "
             "holding {}); pass the run folder a previous run printed",
             path.string(), kStateFile);
}

}  // namespace ember::experiments
