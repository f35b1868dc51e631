// trainer.cpp: the training loop (train/trainer.hpp).
#include "scaleinv/train/trainer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/graph/random.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/train/ec_sgd.hpp"

namespace scaleinv::train {
namespace {
using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

// The order of the samples in an epoch: a Fisher-Yates shuffle seeded by (seed, epoch), so a
// resumed run sees the same batches as an uninterrupted one.
std::vector<std::size_t> epoch_order(std::size_t n, std::uint64_t seed, std::size_t epoch) {
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  splitmix64 rng(seed * 0x9E3779B97F4A7C15ULL + epoch + 1);
  for (std::size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng.below(i)]);
  return idx;
}

template <class Scalar>
bool all_finite(const std::vector<Scalar>& v) {
  if (v.empty()) return true;
  // max |x| with NaN propagated: vectorized, about 4x faster than Eigen's allFinite here.
  const auto a =
      Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>(v.data(), static_cast<Eigen::Index>(v.size()));
  return a.abs().template maxCoeff<Eigen::PropagateNaN>() <= std::numeric_limits<Scalar>::max();
}

std::string non_finite_name(double x) { return std::isnan(x) ? "NaN" : "infinite"; }

struct evaluation {
  double loss = 0, accuracy = 0;
};

// Mean loss (and accuracy) over a whole set, in chunks of 2,048 samples.
template <class Scalar>
evaluation evaluate_set(const model<Scalar>& m, const std::vector<Scalar>& w, const dataset& d, loss_kind loss) {
  evaluation out;
  const std::size_t n = d.size(), chunk = 2048;
  if (n == 0) return out;
  std::size_t correct = 0;
  double total = 0;
  for (std::size_t s = 0; s < n; s += chunk) {
    const std::size_t b = std::min(chunk, n - s);
    const auto cols = static_cast<Eigen::Index>(s), count = static_cast<Eigen::Index>(b);
    matrix<Scalar> x = d.x.middleCols(cols, count).template cast<Scalar>();
    std::size_t right = 0;
    if (d.is_classification()) {
      std::vector<int> labels(d.labels.begin() + static_cast<std::ptrdiff_t>(s),
                              d.labels.begin() + static_cast<std::ptrdiff_t>(s + b));
      total += static_cast<double>(m.loss(w, x, &labels, nullptr, loss, &right)) * static_cast<double>(b);
    } else {
      matrix<Scalar> t = d.targets.middleCols(cols, count).template cast<Scalar>();
      total += static_cast<double>(m.loss(w, x, nullptr, &t, loss)) * static_cast<double>(b);
    }
    correct += right;
  }
  out.loss = total / static_cast<double>(n);
  out.accuracy = d.is_classification() ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
  return out;
}

// A batch: the samples order[s, s + size) of d, as columns.
template <class Scalar>
struct batch {
  matrix<Scalar> x, t;
  std::vector<int> labels;

  void fill(const dataset& d, const std::vector<std::size_t>& order, std::size_t s, std::size_t size) {
    x.resize(static_cast<Eigen::Index>(d.features()), static_cast<Eigen::Index>(size));
    labels.resize(size);
    if (!d.is_classification()) t.resize(d.targets.rows(), static_cast<Eigen::Index>(size));
    for (std::size_t k = 0; k < size; ++k) {
      const auto col = static_cast<Eigen::Index>(order[s + k]);
      x.col(static_cast<Eigen::Index>(k)) = d.x.col(col).template cast<Scalar>();
      if (d.is_classification()) labels[k] = d.labels[static_cast<std::size_t>(col)];
      else t.col(static_cast<Eigen::Index>(k)) = d.targets.col(col).template cast<Scalar>();
    }
  }
};

std::string names_where(bool (*pick)(const optimizer_info&)) {
  std::string out;
  for (const auto& info : optimizer_registry())
    if (pick(info)) out += (out.empty() ? "" : " or ") + std::string(info.name);
  return out;
}
}  // namespace

balance_plan balance_plan::parse(const std::string& text) {
  balance_plan plan;
  if (text == "none") return plan;
  if (text == "before") {
    plan.before = true;
    return plan;
  }
  if (text.rfind("every=", 0) == 0) {
    const std::string k = text.substr(6);
    std::size_t used = 0;
    unsigned long long v = 0;
    try {
      v = std::stoull(k, &used);
    } catch (const std::exception&) { used = 0; }
    if (used == k.size() && !k.empty() && k[0] != '-' && v > 0) {
      plan.every = static_cast<std::size_t>(v);
      return plan;
    }
  }
  throw invalid_argument(fmt::format("--balance {}: expected none, before or every=K with K a positive integer", text));
}

void check_trainer_options(const trainer_options& o) {
  const training_settings& s = o.settings;
  const optimizer_info& info = find_optimizer(s.optimizer);
  const param_kind kind = parse_param_kind(s.param);
  parse_skeleton(s.skeleton);
  if (kind != param_kind::weights && !info.own_coordinates.empty())
    throw invalid_argument(fmt::format("--param {} works with --optimizer {} only: {}", s.param,
                                       names_where([](const optimizer_info& i) { return i.own_coordinates.empty(); }),
                                       info.own_coordinates));
  balance_plan::parse(s.balance);
  if (s.balance != "none" && (!info.follows_balancing || kind != param_kind::weights))
    throw invalid_argument(fmt::format(
        "--balance {} works with --optimizer {} and --param weights only (here: --optimizer {}, "
        "--param {}): G-SGD's path values and the other parameterizations do not see a "
        "rescaling of the weights",
        s.balance, names_where([](const optimizer_info& i) { return i.follows_balancing; }), s.optimizer, s.param));
}

void set_skeleton_one(network& net, skeleton_kind skeleton) {
  const active_subgraph active = find_active(net);
  const path_basis basis = make_basis(net, active, skeleton);
  std::vector<double> w = net.weights();
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    if (basis.parent_edge[v] != npos) w[basis.parent_edge[v]] = 1.0;
    if (basis.child_edge[v] != npos) w[basis.child_edge[v]] = 1.0;
  }
  net.set_weights(w);
}

template <class Scalar>
trainer<Scalar>::trainer(network net, std::shared_ptr<const data_split> data, trainer_options o)
    : o_(std::move(o)), data_(std::move(data)) {
  setup(std::move(net), nullptr, "");
}

template <class Scalar>
trainer<Scalar>::trainer(checkpoint from, const std::string& source, std::shared_ptr<const data_split> data,
                         trainer_options o)
    : o_(std::move(o)), data_(std::move(data)) {
  if (auto differs = checkpoint_mismatch(from.settings, o_.settings))
    throw invalid_argument(fmt::format(
        "--resume: the checkpoint was made with {}; give the same value to continue bit-identically", *differs));
  start_epoch_ = from.epoch;
  start_batch_ = from.batch;
  network net = std::move(from.net);
  setup(std::move(net), &from, source);
}

template <class Scalar>
void trainer<Scalar>::setup(network net, const checkpoint* from, const std::string& source) {
  check_trainer_options(o_);
  const training_settings& s = o_.settings;
  if (s.float64 != std::is_same_v<Scalar, double>)
    throw invalid_argument("the trainer's precision differs from the settings' float64");
  if (s.batch_size == 0) throw invalid_argument("the batch size must be positive");
  const dataset& tr = data_->train;
  loss_ = o_.loss ? *o_.loss : tr.is_classification() ? loss_kind::cross_entropy : loss_kind::mse;
  if (loss_ == loss_kind::cross_entropy && !tr.is_classification())
    throw invalid_argument("--loss ce needs class labels; " + tr.name + " is a regression set (use --loss mse)");
  const std::size_t inputs = net.count(node_kind::input), outputs = net.count(node_kind::output);
  if (inputs != tr.features())
    throw invalid_argument(fmt::format("the network has {} inputs, the data {} features", inputs, tr.features()));
  const std::size_t want_outputs = tr.is_classification() ? tr.classes : static_cast<std::size_t>(tr.targets.rows());
  if (outputs != want_outputs)
    throw invalid_argument(fmt::format("the network has {} outputs, the data {} {}", outputs, want_outputs,
                                       tr.is_classification() ? "classes" : "targets"));
  if (net.has_params()) {
    // Shared parameters are trained as one value each (tied_weights); what cannot keep them tied
    // is refused rather than untying them.
    const optimizer_info& info = find_optimizer(s.optimizer);
    if (!info.no_sharing.empty())
      throw invalid_argument(
          fmt::format("--optimizer {} does not train shared parameters, and this network shares them "
                      "between edges (a convolution or a JSON \"param\"): {}; use --optimizer ecsgd or sgd",
                      s.optimizer, info.no_sharing));
    if (s.balance != "none")
      throw invalid_argument(
          fmt::format("--balance {} does not work on a network with shared parameters yet: the trainer "
                      "keeps one value and one momentum entry per parameter, and balancing moves weights",
                      s.balance));
    // --init-rescale draws one scale per tie class (graph/equivalence.hpp), keeping them shared.
  }
  if (net.has_constants()) {
    // Constant edges keep their weights: trained as tied_weights coordinates without them;
    // what would move them is refused. (--init-rescale draws scales that respect them.)
    const optimizer_info& info = find_optimizer(s.optimizer);
    if (!info.no_constants.empty())
      throw invalid_argument(
          fmt::format("--optimizer {} does not train a network with constant edges (fixed weights such "
                      "as pooling or identity shortcuts), and this network has {}: {}; use --optimizer ecsgd, sgd or "
                      "pathsgd",
                      s.optimizer, net.num_constants(), info.no_constants));
    if (s.balance != "none")
      throw invalid_argument(
          fmt::format("--balance {} does not work on a network with constant edges yet: the trainer "
                      "keeps one value and one momentum entry per parameter, and balancing moves weights",
                      s.balance));
  }
  if (!net.has_weights()) init_weights(net, s.seed);
  if (o_.init_rescale > 0 && from == nullptr)
    net = apply_rescaling(net, random_scales(net, s.seed + 1, o_.init_rescale));
  if (s.skeleton_one && from == nullptr) {
    // With shared parameters or constant edges: the parameter quotient's skeleton, so ties and
    // constants are kept (the same edges as set_skeleton_one's on any other network).
    if (net.has_parameter_map()) set_quotient_skeleton_one(net, parse_skeleton(s.skeleton));
    else set_skeleton_one(net, parse_skeleton(s.skeleton));
  }
  net_ = std::make_shared<const network>(std::move(net));
  model_ = std::make_unique<model<Scalar>>(net_);
  w_.assign(net_->weights().begin(), net_->weights().end());
  // Coordinates other than the weights: the optimizer runs on the parameters p; w holds their
  // effective weights (recomputed from p before every gradient and evaluation), and weight decay
  // is the coordinates' (scale parameters only), not the optimizer's.
  coords_ = make_coordinates<Scalar>(*net_, parse_param_kind(s.param));
  if (!coords_->is_identity()) {
    if (from == nullptr) {
      p_ = coords_->from_weights(net_->weights());
    } else {
      if (!from->params || !from->signs)
        throw parse_error(source, 0, 0, "the checkpoint has no \"params\" or \"signs\" for --param " + s.param);
      if (from->params->size() != coords_->size() || from->signs->size() != coords_->signs().size())
        throw parse_error(source, 0, 0, "the checkpoint's parameters do not fit this network");
      p_.assign(from->params->begin(), from->params->end());
      coords_->set_signs(std::vector<Scalar>(from->signs->begin(), from->signs->end()));
    }
    coords_->effective_weights(p_, w_);
  }
  // Weight decay: the optimizer's on the weights, or in its own coordinates (EC-SGD's path values);
  // else the coordinates' (on the parameters they decay).
  optimizer_decays_ = coords_->is_identity() || find_optimizer(s.optimizer).decays_itself;
  const optimizer_options oo{s.momentum, optimizer_decays_ ? s.weight_decay : 0.0, parse_skeleton(s.skeleton)};
  opt_ = make_optimizer<Scalar>(s.optimizer, net_, params().size(), oo);
  if (from != nullptr) {
    std::vector<Scalar>& state = opt_->state();
    if (from->state.size() != state.size())
      throw parse_error(source, 0, 0, "the optimizer state does not fit this run");
    std::copy(from->state.begin(), from->state.end(), state.begin());
  }
  sched_ = schedule::parse(o_.schedule, s.lr);
  plan_ = balance_plan::parse(s.balance);
  if (plan_.before && from == nullptr) start_balance_ = rebalance();
}

template <class Scalar>
balance_report trainer<Scalar>::rebalance() {
  const auto t0 = clock::now();
  balance_report r = balance_weights(*net_, w_, o_.balancing);
  opt_->rescaled(*net_, r.scale);
  balance_seconds_ += seconds_since(t0);
  ++balancings_;
  if (!(r.max_imbalance_after <= balance_worst_)) balance_worst_ = r.max_imbalance_after;
  return r;
}

template <class Scalar>
std::string trainer<Scalar>::coordinates_summary() const {
  if (auto n = opt_->basis_size()) return fmt::format("{} basis paths, {} skeleton", *n, o_.settings.skeleton);
  if (!coords_->is_identity())
    return fmt::format("{}: {} parameters for {} weights", o_.settings.param, p_.size(), w_.size());
  return "weights";
}

template <class Scalar>
network trainer<Scalar>::trained_network() const {
  network net = *net_;
  std::vector<double> w(w_.begin(), w_.end());
  net.put_constants(w);  // exactly, whatever the training precision
  net.set_weights(w);
  return net;
}

template <class Scalar>
checkpoint trainer<Scalar>::make_checkpoint(std::size_t epoch, std::size_t batch) const {
  checkpoint c{trained_network(), o_.settings, epoch, batch, {}, std::nullopt, std::nullopt};
  c.state.assign(opt_->state().begin(), opt_->state().end());
  if (!coords_->is_identity()) {
    c.params = std::vector<double>(p_.begin(), p_.end());
    c.signs = std::vector<double>(coords_->signs().begin(), coords_->signs().end());
  }
  return c;
}

template <class Scalar>
train_result trainer<Scalar>::diverge(std::size_t step, std::string what) {
  train_result r;
  r.diverged = true;
  r.step = step;
  r.what = std::move(what);
  // Back to the state before the last step taken: its loss was finite (the loss of a step is that
  // of the state before it, and every step's loss is checked). Without a step, the start stays.
  if (backup_.valid) {
    params() = backup_.params;
    opt_->state() = backup_.state;
    start_epoch_ = backup_.epoch;
    start_batch_ = backup_.batch;
    --steps_;
  }
  if (!coords_->is_identity()) coords_->effective_weights(p_, w_);
  r.epoch = start_epoch_;
  r.batch = start_batch_;
  // A parameter that went bad unseen by the loss (checked at epoch ends) may be in the backup too.
  r.finite = all_finite(w_) && all_finite(params()) && all_finite(opt_->state());
  if (r.finite && !o_.checkpoint.empty()) {
    r.checkpoint = o_.checkpoint;
    write_file_atomic(r.checkpoint, write_checkpoint_json(make_checkpoint(r.epoch, r.batch)));
  }
  return r;
}

template <class Scalar>
train_result trainer<Scalar>::run(const trainer_callbacks& cb) {
  const dataset& tr = data_->train;
  const std::size_t n = tr.size(), size_b = o_.settings.batch_size, batches = (n + size_b - 1) / size_b;
  const bool identity = coords_->is_identity();
  const double decay = o_.settings.weight_decay;
  batch<Scalar> bt;
  for (std::size_t epoch = start_epoch_; epoch < o_.epochs; ++epoch) {
    const auto t0 = clock::now();
    const double lr = sched_.at(epoch);
    const auto order = epoch_order(n, o_.settings.seed, epoch);
    double total = 0;
    std::size_t seen = 0;
    for (std::size_t b = epoch == start_epoch_ ? start_batch_ : 0; b < batches; ++b) {
      if ((cb.cancel != nullptr && cb.cancel->load()) ||
          (o_.cancel_after_steps > 0 && steps_ == o_.cancel_after_steps)) {
        train_result r;
        r.cancelled = true;
        r.epoch = epoch;
        r.batch = b;
        r.checkpoint = o_.checkpoint.empty() ? o_.cancel_checkpoint : o_.checkpoint;
        if (!identity) coords_->effective_weights(p_, w_);  // w is one step behind p here
        write_file_atomic(r.checkpoint, write_checkpoint_json(make_checkpoint(epoch, b)));
        start_epoch_ = epoch;
        start_batch_ = b;
        return r;
      }
      const std::size_t s = b * size_b, size = std::min(size_b, n - s);
      bt.fill(tr, order, s, size);
      if (!identity) coords_->effective_weights(p_, w_);
      const bool labels = tr.is_classification();
      const Scalar value =
          model_->loss_and_gradient(w_, bt.x, labels ? &bt.labels : nullptr, labels ? nullptr : &bt.t, loss_, grad_);
      if (!std::isfinite(static_cast<double>(value)))
        return diverge(epoch * batches + b + 1, "the loss is " + non_finite_name(static_cast<double>(value)));
      // The state before this step, whose loss was just found finite (assignment reuses the storage).
      backup_.params = params();
      backup_.state = opt_->state();
      backup_.epoch = epoch;
      backup_.batch = b;
      backup_.valid = true;
      if (identity) {
        opt_->step(w_, grad_, lr);
      } else {
        coords_->backprop(p_, grad_, grad_p_);
        if (!optimizer_decays_) coords_->add_weight_decay(p_, grad_p_, decay);
        opt_->step(p_, grad_p_, lr);
      }
      ++steps_;
      if (plan_.every > 0 && (epoch * batches + b + 1) % plan_.every == 0) rebalance();
      total += static_cast<double>(value) * static_cast<double>(size);
      seen += size;
      if (cb.on_batch) cb.on_batch({epoch + 1, o_.epochs, b + 1, batches, total / static_cast<double>(seen)});
    }
    // A parameter that became infinite or NaN shows in the next step's loss; one that the loss does
    // not see (a dead unit's) is caught here, once per epoch.
    if (!all_finite(params()) || !all_finite(opt_->state()))
      return diverge((epoch + 1) * batches, "a parameter or the optimizer's state became infinite or NaN");
    if (!identity) coords_->effective_weights(p_, w_);
    epoch_report rep;
    if (data_->test.size() > 0) {
      const evaluation test = evaluate_set(*model_, w_, data_->test, loss_);
      if (!std::isfinite(test.loss))  // finite weights whose outputs overflow: back to before the epoch's last step
        return diverge((epoch + 1) * batches, "the test loss after it is " + non_finite_name(test.loss));
      rep.test_loss = test.loss;
      if (tr.is_classification()) rep.test_accuracy = test.accuracy;
    }
    rep.epoch = epoch + 1;
    rep.epochs = o_.epochs;
    rep.lr = lr;
    rep.train_loss = seen > 0 ? total / static_cast<double>(seen) : 0.0;
    rep.classification = tr.is_classification();
    rep.seconds = seconds_since(t0);
    rep.basis_paths = opt_->basis_size();
    rep.balancings = balancings_;
    rep.balance_seconds = balance_seconds_;
    rep.balance_max_imbalance = balance_worst_;
    if (cb.on_epoch) cb.on_epoch(rep);
    if (!o_.checkpoint.empty()) write_file_atomic(o_.checkpoint, write_checkpoint_json(make_checkpoint(epoch + 1, 0)));
  }
  start_epoch_ = std::max(start_epoch_, o_.epochs);
  start_batch_ = 0;
  return {};
}

template class trainer<float>;
template class trainer<double>;

}  // namespace scaleinv::train
