// Checkpoints: a folder holding
//   model.safetensors      the model's state_dict (parameters + persistent buffers; loadable from Python)
//   optimizer.safetensors  the optimizer's per-parameter state tensors (momentum, moments)
//   state.json             the sidecar: the optimizer's scalars, schedule, data-loader position, RNG
//                          states, epoch/step, best metric, and the model's description
// The three files are written into "<dir>.tmp/" (each through a temp name + rename) and the folder
// then replaces <dir> by rename, so a crash leaves either the old checkpoint or the new one, never
// a mix. Loading checks the architecture against the model before touching it, and every failure
// is a one-line ember::Error saying what to do. Twins: trainer.cpp (what goes into state.json),
// run_dir.h. Tests: test/trainer/test_checkpoint.cpp, test_resume.cpp.
#pragma once
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/random.h"
#include "engine/serialize.h"
#include "models/nn/module.h"
#include "optim/optimizer.h"

namespace ember::experiments {

// Extra named tensor sets saved next to the model (e.g. "ema" -> ema.safetensors), for hooks
// that keep state across steps (Note [Exact resume] in trainer.h).
using ExtraTensors = std::map<std::string, TensorMap>;

struct Checkpoint {
  TensorMap model;                // state_dict
  optim::OptimizerState optimizer;  // tensors from optimizer.safetensors, scalars from state.json
  ExtraTensors extra;             // <name>.safetensors for each name listed in state.json "extra"
  nlohmann::json state;           // state.json without the optimizer scalars
};

// Writes `dir` as described above. `optimizer` may be null (a weights-only checkpoint, e.g. best/).
// `state` should carry "model" (a description such as the zoo name) for the architecture check.
void save_checkpoint(const std::filesystem::path& dir, const nn::Module& model, const optim::Optimizer* optimizer,
                     const nlohmann::json& state, const ExtraTensors& extra = {});

// Reads every file of `dir` (optimizer.safetensors is optional). Throws a one-line ember::Error for
// a missing, truncated or corrupt checkpoint.
Checkpoint read_checkpoint(const std::filesystem::path& dir);

// Copies the checkpoint's weights into `model` after checking that every key exists with the same
// shape in both; a checkpoint of another architecture is a one-line error naming both
// descriptions and the first differing keys.
void load_model_weights(nn::Module& model, const Checkpoint& checkpoint, const std::string& model_description,
                        const std::filesystem::path& dir);

// The folder a --resume argument means: the checkpoint itself, or run/checkpoint/last.
std::filesystem::path resolve_checkpoint_dir(const std::filesystem::path& path);

// Generator state <-> JSON (the seed and offset as exact integers).
nlohmann::json generator_state_to_json(const GeneratorState& state);
GeneratorState generator_state_from_json(const nlohmann::json& json);

}  // namespace ember::experiments
