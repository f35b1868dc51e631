// scaleinv/train/gsgd.hpp: G-SGD on the basis-path values (Meng et al., ICLR 2019), for any DAG.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/train/model.hpp"
#include "scaleinv/train/optimizer.hpp"

namespace scaleinv::train {

/// G-SGD: gradient descent on the values v_B of the basis paths (math.md section 6), for any DAG.
///
/// One step, given weights w and dL/dw:
///  1. y_B = v_B dL/dv_B from g_e = w_e dL/dw_e by the triangular system on the free edges: each
///     basis path owns one free edge f; y_{B_f} = g_f minus the y of the basis paths that reach f
///     through their suffix, accumulated in one pass in topological order (O(E));
///  2. v_B <- v_B - lr (dL/dv_B + weight_decay v_B), with momentum on that gradient when asked
///     (the momentum buffer and the weight decay live in path-value space: one buffer entry per
///     basis path, decay toward zero path values);
///  3. re-allocation: the p(v) edges stay fixed and each free edge is solved from its basis path,
///     downstream first (reverse topological order), so the new weights realize the new path
///     values exactly up to rounding; a sign change of v_B moves to the owned edge.
/// Edges on no path have zero gradient and are left alone; a basis path whose fixed part has a
/// zero weight cannot be re-allocated and keeps its weights, and one whose value is zero gets no
/// gradient. On a layered MLP (graph/layout.hpp) the same arithmetic runs as whole-layer array
/// operations; the general path is the reference, and tests check that they agree.
template <class Scalar>
class gsgd final : public optimizer<Scalar> {
 public:
  /// @pre net->is_finalized(). The basis is chosen from the graph alone by o.skeleton
  /// (paths/basis.hpp). The optimizer shares ownership of the network. @throws invalid_argument
  /// when net has constant edges (the chart could move one; train/ec_sgd.hpp trains such networks).
  gsgd(std::shared_ptr<const network> net, sgd_options o, bool fast = true);
  /// The same on a copy of net.
  gsgd(const network& net, sgd_options o, bool fast = true) : gsgd(std::make_shared<const network>(net), o, fast) {}

  void step(std::vector<Scalar>& w, const std::vector<Scalar>& grad, double lr) override;
  /// The same step on storage the caller owns (a framework's flat parameter, gradient and
  /// momentum buffers): w and grad one entry per edge, momentum one per edge when the options'
  /// momentum is > 0 (it takes the place of state()) and empty otherwise. On the layered-MLP fast
  /// path nothing is copied and state() is left alone; the general path copies in and out through
  /// vectors and state(). Bit-identical to step(). @throws invalid_argument on sizes that do not
  /// fit.
  void step(std::span<Scalar> w, std::span<const Scalar> grad, std::span<Scalar> momentum, double lr);
  /// Path values are invariant under rescaling, and the momentum buffer and weight decay live in
  /// path-value space: nothing to transform.
  void rescaled(const network&, const std::vector<double>&) override {}
  std::optional<std::size_t> basis_size() const override { return basis_.size(); }
  const path_basis& basis() const noexcept { return basis_; }

  /// The basis-path values v_B for weights w, in basis order.
  std::vector<Scalar> path_values(const std::vector<Scalar>& w) const;
  /// dL/dv_B from w and dL/dw (step 1 above), in basis order.
  std::vector<Scalar> path_gradient(const std::vector<Scalar>& w, const std::vector<Scalar>& grad) const;
  /// The re-allocation alone (step 3, general path): moves the free edges of w so that the basis-path
  /// values become v (in basis order), the p() edges kept; a basis path whose fixed part has a zero
  /// weight keeps its weights. @pre v.size() == basis().size().
  void realize(std::vector<Scalar>& w, const std::vector<Scalar>& v) const;
  bool is_fast() const noexcept { return layout_.has_value(); }
  // state(): the momentum buffer, one entry per edge (used on free edges: the owned edge of each
  // basis path).

 private:
  void prefix_suffix(const std::vector<Scalar>& w, std::vector<Scalar>& pp, std::vector<Scalar>& sp) const;
  /// y_B = v_B dL/dv_B (step 1), in basis order.
  std::vector<Scalar> weighted_path_gradient(const std::vector<Scalar>& w, const std::vector<Scalar>& grad) const;
  /// The fast path on raw storage: m is the momentum buffer, or nullptr without momentum.
  void step_mlp(Scalar* w, const Scalar* grad, Scalar* m, double lr);
  bool read_skeleton();

  std::shared_ptr<const network> net_;
  sgd_options o_;
  active_subgraph active_;
  path_basis basis_;
  std::vector<std::uint8_t> is_free_;
  std::optional<layer_layout> layout_;
  // The fast path's skeleton per dense block l (read_skeleton): p_col_[l][j], c_row_[l][x], and
  // the c() edges of each row j as columns c_cols_[l][c_start_[l][j] .. c_start_[l][j + 1]).
  std::vector<std::vector<std::uint32_t>> p_col_, c_row_, c_start_, c_cols_;
};

}  // namespace scaleinv::train
