// Data and arithmetic of the BOCB experiment (papers.md §1), shared by experiments/bocb.cpp (the grid
// runner), experiments/sema.cpp (which reuses the data/model set-up at the end) and the tests in
// test/trainer/test_bocb.cpp:
//   - the tuned lr / wd table of §1.5 as data, its columns mapped to our backbones, and per-family
//     defaults for the cells the table lacks;
//   - the failure rule, top-k marks and Mean/Std/Range without each backbone's worst (Table 1);
//   - the grid's results JSONL (one finished cell a line: what makes the grid resumable);
//   - per-layer parameter statistics (L2 norm, weight-histogram entropy) as CSV;
//   - the image data + model set-up both binaries share.
#pragma once
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataloader.h"
#include "data/datasets.h"
#include "models/nn/module.h"

namespace CLI {
class App;
}

namespace ember::experiments::bocb {

// ---- hyperparameters (papers.md §1.2, §1.3, §1.5) ----

struct HyperParams {
  double lr = 0.0;
  double weight_decay = 0.0;
};

// "a" fixed lr + momentum, "b" adaptive lr + momentum, "c" estimated lr + momentum, "d" adaptive lr
// without momentum (§1.2). Unknown names throw listing the known ones.
std::string optimizer_category(const std::string& optimizer);
// Every optimizer of the study in the paper's row order (our registry names).
const std::vector<std::string>& study_optimizers();
// The §1.5 column a backbone of ours borrows its tuned values from ("VGG-13", "R-50", "DeiT-S",
// "CNX-T", "MLP-S"), or "" when none fits (then family defaults apply).
std::string table_column(const std::string& backbone);
// Tuned (lr, wd) of §1.5 for (optimizer, column); nullopt when the table has no such cell.
std::optional<HyperParams> tuned_hyperparams(const std::string& optimizer, const std::string& column);
// A family default (the R-50 column for classic recipes, the DeiT-S column for modern ones).
HyperParams default_hyperparams(const std::string& optimizer, bool modern_recipe);
// Classic CNNs (ResNet, VGG, MLP) train with the PyTorch recipe, ViT / ConvNeXt with the DeiT /
// ConvNeXt one (warm-up, label smoothing, gradient clipping; §1.3).
bool uses_modern_recipe(const std::string& backbone);
// What a cell trains with: the table value where there is one, else the default; `source` says which.
HyperParams cell_hyperparams(const std::string& optimizer, const std::string& backbone, std::string* source = nullptr);
// Paper Table 1 top-1 (%) for (optimizer, column) when the column is in Table 1, for printing beside ours.
std::optional<double> paper_top1(const std::string& optimizer, const std::string& column);

// ---- Table 1 statistics (papers.md §1.1 (A)) ----

// Linear-interpolation quantile (numpy's default) of unsorted values; q in [0, 1].
double quantile(std::vector<double> values, double q);
// The failure rule: r fails when r < Q0.5(R) − gamma over one backbone's results R (in %). On the
// paper's own Table 1 (400 cells, 50 gray) this form with gamma 2 (kPaperGamma) reproduces the gray
// cells in 397 of the 400, gamma 3 (the paper's stated λ) in 392; the extracted Eq. (1),
// r < max(R) − min(IQR, gamma), in only 192 (test/trainer/test_bocb.cpp counts them). NaN results
// (diverged) always fail.
inline constexpr double kPaperGamma = 2.0;
std::vector<bool> failures(const std::vector<double>& results, double gamma);
// Marks the k largest finite results (ties: every value equal to the k-th).
std::vector<bool> top_k(const std::vector<double>& results, int k);
struct Summary {
  double mean = 0.0, std = 0.0, range = 0.0;  // over the results without the worst one (NaN counts as the worst)
  int64_t count = 0;
};
Summary summary_without_worst(const std::vector<double>& results);

// ---- the grid's results JSONL ----

struct CellResult {
  std::string backbone, optimizer;
  uint64_t seed = 0;
  std::string status = "ok";  // "ok", "diverged" (NaN/inf loss), "error" (any other exception)
  double top1 = 0.0;          // final test top-1 in [0, 1] (NaN unless ok)
  double best_top1 = 0.0;
  double lr = 0.0, weight_decay = 0.0;
  int64_t steps = 0;
  double seconds = 0.0;      // wall
  std::string message;  // the error, when not ok
  double cpu_seconds = 0.0;  // user + system CPU time of the process while it trained the cell
  // Hyperparameter-search trial (--hp-search): the lr and wd used are the tuned ones × hp_factor(step);
  // 0 / 0 without a search.
  int lr_step = 0, wd_step = 0;
};
nlohmann::json to_json(const CellResult& cell);
CellResult cell_from_json(const nlohmann::json& json);
// "backbone/optimizer/seed", with "/lr<k>/wd<j>" appended for a search trial off the centre.
std::string cell_key(const std::string& backbone, const std::string& optimizer, uint64_t seed, int lr_step = 0,
                     int wd_step = 0);
std::string cell_key(const CellResult& cell);
// Every complete line of the file (a torn last line of a killed grid is skipped); none when absent.
std::vector<CellResult> read_results(const std::filesystem::path& jsonl);
void append_result(const std::filesystem::path& jsonl, const CellResult& cell);

// ---- the hyperparameter search and robustness (papers.md §1.1 (B)) ----

// A search tries `points` (odd) consecutive values of lr, then of wd, centred on the tuned value and a
// factor kHpFactor apart: step k (−points/2 .. points/2) multiplies the tuned value by kHpFactor^k.
inline constexpr double kHpFactor = 2.0;
double hp_factor(int step);
struct Trial {
  std::string backbone, optimizer;
  uint64_t seed = 0;
  int lr_step = 0, wd_step = 0;
};
std::string cell_key(const Trial& trial);
// The trials that may start now, given the finished ones (in grid order: backbones, optimizers,
// seeds). Without a search (hp_points <= 1): every (backbone, optimizer, seed) at steps 0 / 0. With
// one, per (backbone, optimizer): (1) seed 0 at every lr step (wd step 0); once those finish, (2)
// seed 0 at the best lr step and every other wd step (skipped when the tuned wd is 0: its multiples
// are 0 too); once those finish, (3) seeds 1.. at the best steps. Empty when everything is done or
// what is left waits on unfinished trials.
std::vector<Trial> ready_trials(const std::vector<std::string>& backbones, const std::vector<std::string>& optimizers,
                                int64_t seeds, int hp_points, const std::vector<CellResult>& done);
// The best of some finished trials: the highest final top-1; NaN (diverged) loses; ties go to the
// step nearer the centre. nullptr when `trials` is empty.
const CellResult* best_trial(const std::vector<const CellResult*>& trials);
// The trial that stands for (backbone, optimizer, seed) in Table 1: the best of that seed's trials
// (the only one without a search). nullptr when none finished.
const CellResult* selected_trial(const std::vector<CellResult>& cells, const std::string& backbone,
                                 const std::string& optimizer, uint64_t seed);
// §1.1 (B) for one backbone: each optimizer's optimal lr and wd steps one-hot encoded, the mode
// over optimizers (M_lr, M_wd; ties go to the step nearer the centre, then the smaller), and each
// optimizer's variation, the Manhattan distance |onehot(lr) − M_lr|₁ + |onehot(wd) − M_wd|₁ (0, 2
// or 4). Lower is more robust. Optimizers whose search has not finished are left out (found false).
struct Robustness {
  int mode_lr_step = 0, mode_wd_step = 0;
  std::vector<int> lr_step, wd_step, variation;  // per optimizer
  std::vector<bool> found;
  double mean_variation = 0.0;  // over the found optimizers
};
Robustness hp_robustness(const std::vector<CellResult>& cells, const std::string& backbone,
                         const std::vector<std::string>& optimizers, int hp_points);
// The robustness table (optimizers × backbones: optimal lr×/wd× factors and the variation; the mode
// and the mean variation per backbone, the mean per optimizer). "" without search trials.
std::string robustness_markdown(const std::vector<CellResult>& cells, const std::vector<std::string>& backbones,
                                const std::vector<std::string>& optimizers, int hp_points);

// Table 1 for our grid: rows optimizers, columns backbones, "mean ± std" over seeds (in %) of the
// selected trials (selected_trial); failures
// as ~x~, top-4 per backbone as *x*; then Mean and Std/Range rows without each backbone's worst; and,
// where the paper has the column, the paper's value beside ours as "(paper x)".
std::string table_markdown(const std::vector<CellResult>& cells, const std::vector<std::string>& backbones,
                           const std::vector<std::string>& optimizers, double gamma, int top);

// ---- per-layer parameter statistics (papers.md §1.1 (C)) ----

struct LayerStats {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  double l2_norm = 0.0;
  double entropy = 0.0;  // −Σ p log p of a `bins`-bin histogram over [min, max] (nats)
  // WeightWatcher's power-law exponent of the ESD: the eigenvalues of X = W·Wᵀ (W reshaped to
  // (out, in·k·k), the smaller side first) fitted to ρ(λ) ∝ λ^(−α) on their tail λ >= λ_min by
  // Clauset's maximum likelihood, λ_min chosen by the smallest Kolmogorov-Smirnov distance. NaN
  // when the smaller side has fewer than kMinSpectrum eigenvalues.
  double alpha = std::numeric_limits<double>::quiet_NaN();
  double alpha_lambda_min = std::numeric_limits<double>::quiet_NaN();
  // Top-k PCA energy ratio E_k = Σ_{i<=k} λ_i / Σ λ_i of the covariance of W's rows (each output
  // unit's weights a sample; the rows centred), k = kPcaTopK. NaN like alpha.
  double pca_energy = std::numeric_limits<double>::quiet_NaN();
};
inline constexpr int64_t kPcaTopK = 4;
inline constexpr int64_t kMinSpectrum = 8;
// Eigenvalues (ascending) of a symmetric matrix, through LAPACK's ssyevd (OpenBLAS). x: (n, n) f32.
std::vector<double> symmetric_eigenvalues(const Tensor& x);
struct PowerLawFit {
  double alpha = std::numeric_limits<double>::quiet_NaN();
  double lambda_min = std::numeric_limits<double>::quiet_NaN();
  double ks_distance = std::numeric_limits<double>::quiet_NaN();
  int64_t tail = 0;  // eigenvalues in the fitted tail
};
// The fit above on positive values (unsorted); at least `min_tail` values in the tail.
PowerLawFit fit_power_law(std::vector<double> values, int64_t min_tail = 5);
LayerStats layer_stats(const std::string& name, const Tensor& weight, int bins = 64);
// Weights of dimension >= 2 (linear and conv kernels), in the model's parameter order.
std::vector<LayerStats> model_layer_stats(const nn::Module& model);
// "backbone,optimizer,seed,layer,shape,numel,l2_norm,entropy,alpha,alpha_lambda_min,pca_energy_top4" rows (header when `header`).
std::string layer_stats_csv(const std::vector<LayerStats>& stats, const std::string& backbone,
                            const std::string& optimizer, uint64_t seed, bool header);

// ---- shared set-up: data and model ----

struct DataOptions {
  std::string dataset = data::kDefaultImageDataset;
  std::string data_dir;
  int64_t train_limit = 0, test_limit = 0;  // 0: the whole split
  int64_t batch_size = 128;
  bool augment = true;
  int64_t crop_padding = 2;
  int64_t channels = 0;  // 0: the dataset's
  int workers = 1;
  uint64_t seed = 0;     // shuffling and augmentation
};
struct ImageData {
  data::ImageDatasetInfo info;
  int64_t channels = 0;
  data::DatasetPtr train_set, test_set;
  std::unique_ptr<data::DataLoader> train, test;
  data::TransformPtr train_transform;  // for extra loaders over train_set (Sophia's Hessian batches)
  std::string description;  // "fashion_mnist (60000 train / 10000 test)"
};
ImageData make_image_data(const DataOptions& options);
// The data options both binaries take: --dataset, --data-dir, --train-limit, --test-limit,
// --batch-size, --crop-padding, --workers.
void add_data_options(CLI::App& app, DataOptions& options);
// models::create_model for the data's shape; `width` -1 = the model's default.
nn::ModulePtr make_model(const std::string& name, const ImageData& data, int64_t width, std::string* description);

}  // namespace ember::experiments::bocb
