// scaleinv/train/trainer.hpp: the training loop as a library component: data order, batching,
// schedules, evaluation, synaptic balancing, checkpoints and bit-identical resume, cancellation.
// It never prints: progress and per-epoch results reach the caller through callbacks, so the CLI
// (tools/scaleinv/cmd_train.cpp) and any other front end share one loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scaleinv/balance/balance.hpp"
#include "scaleinv/graph/network.hpp"
#include "scaleinv/io/checkpoint.hpp"
#include "scaleinv/io/dataset.hpp"
#include "scaleinv/train/coordinates.hpp"
#include "scaleinv/train/model.hpp"
#include "scaleinv/train/optimizer.hpp"

namespace scaleinv::train {

/// When to balance during training (--balance): never, once at the start, or after every K-th
/// optimizer step counted over the whole run (so a resumed run balances at the same steps).
struct balance_plan {
  bool before = false;
  std::size_t every = 0;
  /// Reads "none", "before" or "every=K" (K a positive integer). @throws invalid_argument.
  static balance_plan parse(const std::string& text);
};

struct trainer_options {
  /// What a checkpoint records: optimizer (a name in optimizer_registry()), param (weights,
  /// weightnorm, gmp), balance (none, before, every=K), data (the data spec, recorded only),
  /// seed (initialisation and shuffling), float64 (must match the trainer's Scalar), batch_size,
  /// lr, momentum, weight_decay.
  training_settings settings;
  std::string schedule = "constant";  ///< schedule::parse's text
  std::optional<loss_kind> loss;      ///< default: cross-entropy for labels, mse for targets
  std::size_t epochs = 5;
  /// A random positive rescaling of spread S applied to a fresh start (0: none).
  double init_rescale = 0.0;
  /// Balancing (--balance): p, tolerance, depth factor, cap on iterations per balancing.
  balance_options balancing = [] {
    balance_options b;
    b.tolerance = 1e-6;
    b.max_iterations = 100;
    return b;
  }();
  /// Written after every epoch when not empty.
  std::string checkpoint;
  /// Where a cancelled run writes its checkpoint: `checkpoint` when set, else this.
  std::string cancel_checkpoint = "scaleinv-interrupted.json";
  /// For tests: behave as if cancelled before the batch that would be step N + 1 (0: never).
  std::size_t cancel_after_steps = 0;
};

/// Refuses option combinations no run can carry out, naming the options. @throws invalid_argument.
void check_trainer_options(const trainer_options& o);

/// Sets every skeleton weight (each active unit's p() and c() edge, paths/basis.hpp) to 1, as the
/// G-SGD authors' code does before training (cal_mask): every skeleton path value is then 1.
/// @pre net has weights.
void set_skeleton_one(network& net, skeleton_kind skeleton);

/// Progress inside an epoch, after each batch.
struct batch_progress {
  std::size_t epoch = 0, epochs = 0;   ///< 1-based epoch, and the run's last
  std::size_t batch = 0, batches = 0;  ///< batches done in this epoch, and per epoch
  double mean_loss = 0.0;              ///< over this epoch's batches so far (this run's part)
};

/// One finished epoch.
struct epoch_report {
  std::size_t epoch = 0, epochs = 0;  ///< 1-based
  double lr = 0.0;
  double train_loss = 0.0;              ///< mean over the batches this run trained in the epoch
  std::optional<double> test_loss;      ///< nullopt when there is no test set
  std::optional<double> test_accuracy;  ///< nullopt without a test set, or for regression
  bool classification = false;
  double seconds = 0.0;
  std::optional<std::size_t> basis_paths;  ///< for optimizers in path coordinates
  // Balancing so far (when the run balances).
  std::size_t balancings = 0;
  double balance_seconds = 0.0, balance_max_imbalance = 0.0;
};

struct trainer_callbacks {
  std::function<void(const batch_progress&)> on_batch;
  std::function<void(const epoch_report&)> on_epoch;  ///< before the epoch's checkpoint is written
  /// Checked before every batch; set it (from a signal handler, another thread) to stop the run
  /// with a checkpoint.
  const std::atomic<bool>* cancel = nullptr;
};

struct train_result {
  bool cancelled = false;
  /// The loss or a parameter stopped being finite at `step`. The trainer then holds the state
  /// before the last step taken (whose loss was finite; the start when no step was taken), at
  /// (epoch, batch), and has written it as the checkpoint when options().checkpoint is set.
  bool diverged = false;
  std::size_t epoch = 0, batch = 0;  ///< the state the run stopped with (0-based epoch, batches done in it)
  std::size_t step = 0;              ///< diverged: the step that failed, counted from the start of training (1-based)
  std::string what;                  ///< diverged: what stopped being finite, a clause
  /// diverged: the state kept is finite (false only when a parameter the loss does not see went
  /// bad before the last step; then trained_network() cannot be written and no checkpoint is).
  bool finite = true;
  std::string checkpoint;  ///< the checkpoint written when the run stopped early, or empty
};

/// The training loop for networks in Scalar (float or double) precision.
///
/// Samples are visited in a Fisher-Yates order seeded by (seed, epoch); batches of batch_size
/// (the last one smaller); the learning rate follows the schedule by epoch. Each step: effective
/// weights from the coordinates, loss and gradient (train::model), the chain rule back to the
/// parameters, weight decay (by the coordinates when they decay their own parameters, else by the
/// optimizer), the optimizer's step, and balancing when planned (the optimizer's state follows
/// through optimizer::rescaled). A checkpoint holds everything needed to continue bit-identically.
template <class Scalar>
class trainer {
 public:
  /// A fresh run: weights initialised from the seed when net has none (He-normal), rescaled when
  /// init_rescale > 0, the skeleton set to 1 when settings.skeleton_one, balanced first when the
  /// plan says `before`.
  /// @throws invalid_argument for options that do not fit the network or the data (inputs,
  /// outputs, loss); the errors of make_optimizer / make_coordinates / balancing.
  trainer(network net, std::shared_ptr<const data_split> data, trainer_options o);

  /// Continues a checkpoint. @throws invalid_argument when a setting that must match differs
  /// (checkpoint_mismatch); parse_error (naming `source`) when the saved state does not fit.
  trainer(checkpoint from, const std::string& source, std::shared_ptr<const data_split> data, trainer_options o);

  /// Trains up to options().epochs. Returns early, with a checkpoint written, when cancelled; and
  /// when the loss or a parameter becomes non-finite (diverged), keeping the last finite state.
  train_result run(const trainer_callbacks& cb = {});

  /// The network with the current effective weights.
  network trained_network() const;
  /// The state at (epoch, batch): what a resumed run continues from.
  checkpoint make_checkpoint(std::size_t epoch, std::size_t batch) const;

  /// The report of the balancing of the start (plan `before`, fresh runs only).
  const std::optional<balance_report>& start_balance() const noexcept { return start_balance_; }
  /// "weights", "N basis paths" or "gmp: P parameters for W weights".
  std::string coordinates_summary() const;
  const trainer_options& options() const noexcept { return o_; }
  loss_kind loss() const noexcept { return loss_; }
  std::size_t start_epoch() const noexcept { return start_epoch_; }

 private:
  void setup(network net, const checkpoint* from, const std::string& source);
  balance_report rebalance();
  /// Stops a diverged run, the state before the last step taken restored.
  train_result diverge(std::size_t step, std::string what);
  std::vector<Scalar>& params() { return coords_->is_identity() ? w_ : p_; }
  const std::vector<Scalar>& params() const { return coords_->is_identity() ? w_ : p_; }

  trainer_options o_;
  std::shared_ptr<const network> net_;
  std::shared_ptr<const data_split> data_;
  loss_kind loss_ = loss_kind::cross_entropy;
  balance_plan plan_;
  std::unique_ptr<model<Scalar>> model_;
  std::unique_ptr<coordinates<Scalar>> coords_;
  std::unique_ptr<optimizer<Scalar>> opt_;
  schedule sched_;
  std::vector<Scalar> w_, p_, grad_, grad_p_;  // weights; parameters when not the weights
  struct {
    std::vector<Scalar> params, state;  // before the last step taken, at (epoch, batch)
    std::size_t epoch = 0, batch = 0;
    bool valid = false;
  } backup_;
  std::size_t start_epoch_ = 0, start_batch_ = 0, steps_ = 0;
  std::optional<balance_report> start_balance_;
  bool optimizer_decays_ = true;  // weight decay by the optimizer, not by the coordinates
  std::size_t balancings_ = 0;
  double balance_seconds_ = 0.0, balance_worst_ = 0.0;
};

}  // namespace scaleinv::train
