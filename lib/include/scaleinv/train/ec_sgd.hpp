// scaleinv/train/ec_sgd.hpp: EC-SGD, G-SGD for networks with shared parameters and constant edges:
// G-SGD (train/gsgd.hpp) on the parameter quotient, the network with one node per class of tied
// units and one edge per parameter (docs/training.md, "EC-SGD: G-SGD on the parameter quotient").
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/train/gsgd.hpp"
#include "scaleinv/train/optimizer.hpp"

namespace scaleinv::train {

/// The parameter quotient of a network. Units whose scales are tied (the heads of one parameter,
/// the tails of one parameter, the two ends of a constant edge: balance.hpp's union-find) form
/// classes; a class with an input, bias, output or non-homogeneous unit is fixed (scale 1). The
/// quotient has one hidden node per class that is not fixed, a fixed class of one node is copied,
/// and a fixed class of several nodes becomes a source (input, or bias when it holds a bias node
/// and no input) for the parameters leaving it and an output for those entering it. Edge k is
/// parameter k in tied_weights order (first appearance in edge order; an unshared edge is its own
/// parameter), from its tail class to its head class. Constant edges are not in it. A network with
/// neither shared parameters nor constant edges is its own quotient (same nodes, same edges).
struct parameter_quotient {
  network net;
  /// Per node of the original network: the quotient node of its class (for a split fixed class,
  /// the source).
  std::vector<node_id> node_of;
  /// Per quotient edge (parameter): its first edge in the original network.
  std::vector<edge_id> first_edge;
};

/// Builds the parameter quotient of net. @pre net.is_finalized().
/// @throws invalid_argument naming a parameter when its tail and head fall in one class that is not
/// fixed (a parameter shared across layers, for example: its value is then a rescaling-invariant
/// by itself, or the sharing allows rescalings the classes do not have), when the quotient has a
/// cycle (an identity shortcut joining a block's input and output channels; the message names the
/// parameters on it), or when the rescalings that the sharing allows (analyze_shared's surviving
/// rescalings) are not the classes' own, or could not be verified exactly.
parameter_quotient make_parameter_quotient(const network& net);

/// --skeleton-one for a network with shared parameters or constant edges: sets every parameter that
/// is a skeleton edge (p() or c() of a node) of the parameter quotient to 1, on all of its edges, so
/// ties and constants are kept and every skeleton path value of the quotient is 1 (the G-SGD
/// authors' start, cal_mask, on the quotient). On a network with neither it is
/// train::set_skeleton_one. @pre net has weights. @throws invalid_argument as make_parameter_quotient.
void set_quotient_skeleton_one(network& net, skeleton_kind skeleton);

/// EC-SGD: G-SGD on the values of the basis paths of the parameter quotient. The trained vector is
/// the parameters theta (tied_weights order; the weights themselves on a network with nothing
/// shared and no constant edges); dL/dtheta is the tied gradient (the sum over a parameter's
/// edges). The loss depends on theta only through the quotient's path values (every path of the
/// network is a path of the quotient times constants), and the rescalings the network allows are
/// the node rescalings of the quotient, so the step is G-SGD's step on the quotient, with its
/// skeleton rule, momentum and weight decay in path-value space and its exact re-allocation. On a
/// network with nothing shared and no constant edges it is gsgd, bit for bit.
template <class Scalar>
class ec_sgd final : public optimizer<Scalar> {
 public:
  /// @pre net->is_finalized(). @throws invalid_argument as make_parameter_quotient.
  ec_sgd(std::shared_ptr<const network> net, sgd_options o, bool fast = true);
  /// The same on a copy of net.
  ec_sgd(const network& net, sgd_options o, bool fast = true) : ec_sgd(std::make_shared<const network>(net), o, fast) {}

  /// @pre theta.size() == grad.size() == number of parameters.
  void step(std::vector<Scalar>& theta, const std::vector<Scalar>& grad, double lr) override;
  /// Path values are invariant under rescaling: nothing to transform.
  void rescaled(const network&, const std::vector<double>&) override {}
  std::optional<std::size_t> basis_size() const override { return inner_->basis_size(); }

  const parameter_quotient& quotient() const noexcept { return *quotient_; }
  /// G-SGD on the quotient network: its basis, path values and path gradient in theta.
  const gsgd<Scalar>& on_quotient() const noexcept { return *inner_; }
  // state(): the momentum buffer, one entry per parameter (gsgd's buffer on the quotient's edges).

 private:
  std::shared_ptr<const parameter_quotient> quotient_;
  std::unique_ptr<gsgd<Scalar>> inner_;
};

}  // namespace scaleinv::train
