// scaleinv/train/optimizer.hpp: the optimizer interface every trainer optimizer implements (a step,
// its state for checkpoints, and the hook by which an orbit move such as balancing transforms that
// state), plain SGD, and the registry that names them. G-SGD: train/gsgd.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/train/schedule.hpp"

namespace scaleinv::train {

struct sgd_options {
  double momentum = 0.0;      ///< heavy ball: m = mu m + g; w -= lr m
  double weight_decay = 0.0;  ///< L2 on the weights: g += lambda w
  /// The skeleton of optimizers in path coordinates (G-SGD): the authors' diagonal by default.
  skeleton_kind skeleton = skeleton_kind::diagonal;
};
/// What every optimizer is configured with.
using optimizer_options = sgd_options;

/// An optimizer of a vector of trained parameters p. The trainer calls step() once per batch with
/// dL/dp; state() is what a checkpoint must keep to continue bit-identically (a momentum buffer,
/// possibly empty); rescaled() is told when the weights were moved along their rescaling orbit
/// (synaptic balance), so that the state can follow.
template <class Scalar>
class optimizer {
 public:
  virtual ~optimizer() = default;

  /// One step of p given dL/dp at p. @pre grad.size() == p.size().
  virtual void step(std::vector<Scalar>& p, const std::vector<Scalar>& grad, double lr) = 0;

  /// The weights p (one per edge of net) were positively rescaled: node v by node_scale[v]
  /// (incoming weights times it, outgoing ones divided by it). Transforms the state to what it
  /// would be had the run reached the rescaled weights. @throws invalid_argument when the
  /// optimizer cannot follow such a move.
  virtual void rescaled(const network& net, const std::vector<double>& node_scale) = 0;

  /// The number of basis paths, for optimizers in path coordinates; nullopt otherwise.
  virtual std::optional<std::size_t> basis_size() const { return std::nullopt; }

  /// The state a checkpoint keeps (one entry per trained parameter, or per edge; empty when the
  /// optimizer keeps none).
  std::vector<Scalar>& state() noexcept { return state_; }
  const std::vector<Scalar>& state() const noexcept { return state_; }

 protected:
  std::vector<Scalar> state_;
};

/// SGD on the parameters, with momentum and weight decay (PyTorch's torch.optim.SGD semantics).
template <class Scalar>
class sgd final : public optimizer<Scalar> {
 public:
  sgd(std::size_t size, sgd_options o) : o_(o) { this->state_.assign(o.momentum > 0 ? size : 0, Scalar(0)); }
  void step(std::vector<Scalar>& w, const std::vector<Scalar>& grad, double lr) override;
  /// The momentum buffer is a gradient history: dL/dw_e divides by f_e = c(head) / c(tail) when
  /// w_e is multiplied by it, so the buffer is divided too (balance.hpp, balance_training).
  /// @pre the parameters are the weights (state().size() is 0 or net.num_edges()).
  void rescaled(const network& net, const std::vector<double>& node_scale) override;

 private:
  sgd_options o_;
};

/// What the trainer needs to know of an optimizer before making one.
struct optimizer_info {
  std::string_view name;
  std::string_view summary;  ///< one line, for --help
  /// Non-empty when the optimizer works on the weights in coordinates of its own, so that it
  /// needs --param weights: why (a clause, "G-SGD trains its own coordinates ...").
  std::string_view own_coordinates;
  bool follows_balancing = false;  ///< rescaled() transforms its state: --balance works with it
  /// Non-empty when it cannot train shared parameters (tied weights): why.
  std::string_view no_sharing;
  /// Non-empty when it cannot train a network with constant edges (fixed weights): why.
  std::string_view no_constants;
  /// Weight decay is the optimizer's own (in its coordinates, as G-SGD's on path values), also when
  /// the trained vector is not the weights (tied parameters): the coordinates then add none.
  bool decays_itself = false;
};

/// Every optimizer the trainer knows, in the order --help lists them. Adding an optimizer is one
/// class and one entry in this registry (optimizer.cpp).
const std::vector<optimizer_info>& optimizer_registry();

/// The entry named `name`. @throws invalid_argument listing the known names.
const optimizer_info& find_optimizer(std::string_view name);

/// Makes the optimizer `name` for `size` trained parameters of `net`.
/// @throws invalid_argument for an unknown name.
template <class Scalar>
std::unique_ptr<optimizer<Scalar>> make_optimizer(std::string_view name, std::shared_ptr<const network> net,
                                                  std::size_t size, const optimizer_options& o);

}  // namespace scaleinv::train
