// scaleinv/train/path_sgd.hpp: Path-SGD (Neyshabur, Salakhutdinov and Srebro, NeurIPS 2015), the
// rescaling-invariant steepest descent for the L2 path regularizer, for any DAG, with biases and
// shared parameters.
#pragma once

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "scaleinv/graph/layout.hpp"
#include "scaleinv/graph/network.hpp"
#include "scaleinv/train/optimizer.hpp"

namespace scaleinv::train {

/// One step: for every edge e, gamma_e = sum over the paths through e of the product of the other
/// squared weights = in(tail) out(head) (paths/path_norm.hpp; two dynamic programs, O(E), in
/// double whatever Scalar is); then d_e = (dL/dw_e + weight_decay w_e) / gamma_e,
/// m_e = momentum m_e + d_e, w_e -= lr m_e. An edge with gamma_e = 0 (on no path, or behind a zero
/// weight) is not moved. A shared parameter k (one value on several edges) uses
/// gamma_k = sum of gamma_e over its edges and dL/dtheta_k. Without weight decay the step commutes
/// with positive rescaling: rescaling-equivalent starts stay equivalent. A constant edge (fixed
/// weight, not a parameter) takes no step; its weight is a factor of the path sums like any other. On a stack of dense
/// blocks (graph/layout.hpp) the sums run as whole-layer passes; the general path is the
/// reference, and tests check that they agree.
template <class Scalar>
class path_sgd final : public optimizer<Scalar> {
 public:
  /// @pre net->is_finalized(); size is net->num_parameters() with shared parameters or constant
  /// edges (the order of train::tied_weights), else net->num_edges().
  path_sgd(std::shared_ptr<const network> net, std::size_t size, sgd_options o, bool fast = true);
  path_sgd(const network& net, std::size_t size, sgd_options o, bool fast = true)
      : path_sgd(std::make_shared<const network>(net), size, o, fast) {}

  void step(std::vector<Scalar>& p, const std::vector<Scalar>& grad, double lr) override;
  /// The momentum buffer holds steps, which scale like the weights: m_e is multiplied by f_e when
  /// w_e is. @pre the parameters are the weights.
  void rescaled(const network& net, const std::vector<double>& node_scale) override;

  /// gamma per trained parameter at parameters p (the step's denominators).
  std::vector<double> gammas(const std::vector<Scalar>& p);
  bool is_fast() const noexcept { return layout_.has_value(); }

 private:
  void sums(const std::vector<Scalar>& w);        // fills in_, out_
  void layer_sums(const std::vector<Scalar>& w);  // fills lin_, lout_ (layout_ only)
  void step_layers(std::vector<Scalar>& p, const std::vector<Scalar>& grad, double lr);  // layout_ only
  const std::vector<Scalar>& weights_of(const std::vector<Scalar>& p);

  std::shared_ptr<const network> net_;
  sgd_options o_;
  std::optional<layer_layout> layout_;
  std::vector<std::uint32_t> slot_;  // per edge: its parameter (npos: constant), with a parameter map (else empty)
  std::vector<std::pair<edge_id, Scalar>> constants_;  // the constant edges and their values
  std::vector<Scalar> w_;                              // the weights, with shared parameters
  std::vector<double> in_, out_, gamma_;
  std::vector<std::vector<double>> lin_, lout_;  // in and out per layer, units in node order (layout_)
};

}  // namespace scaleinv::train
