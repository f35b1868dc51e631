// scaleinv/train/optimizer.hpp: SGD on the weights and G-SGD on the basis-path values (Meng et
// al., ICLR 2019) for any DAG, and learning-rate schedules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/train/model.hpp"

namespace scaleinv::train {

/// Learning rate at epoch e (0-based): constant; step (lr * gamma^floor(e / step)); exponential
/// (lr * gamma^e).
struct schedule {
  enum class kind { constant, step, exponential } type = kind::constant;
  double lr = 0.01;
  double gamma = 0.1;
  std::size_t step = 10;
  double at(std::size_t epoch) const;
  /// Reads "constant", "step:K:GAMMA", "exp:GAMMA". @throws invalid_argument.
  static schedule parse(const std::string& text, double lr);
};

struct sgd_options {
  double momentum = 0.0;      ///< heavy ball: m = mu m + g; w -= lr m
  double weight_decay = 0.0;  ///< L2 on the weights: g += lambda w
};

/// SGD on the weights, with momentum and weight decay (PyTorch's torch.optim.SGD semantics).
template <class Scalar>
class sgd {
 public:
  sgd(std::size_t size, sgd_options o) : o_(o), m_(o.momentum > 0 ? size : 0, Scalar(0)) {}
  void step(std::vector<Scalar>& w, const std::vector<Scalar>& grad, double lr);
  const std::vector<Scalar>& state() const noexcept { return m_; }
  std::vector<Scalar>& state() noexcept { return m_; }

 private:
  sgd_options o_;
  std::vector<Scalar> m_;
};

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
/// gradient. On a layered MLP (detect_mlp) the same arithmetic runs as whole-layer array
/// operations; the general path is the reference, and tests check that they agree.
template <class Scalar>
class gsgd {
 public:
  /// @pre net.is_finalized(). The basis is chosen from the graph alone (paths/basis.hpp).
  gsgd(const network& net, sgd_options o, bool fast = true);
  void step(std::vector<Scalar>& w, const std::vector<Scalar>& grad, double lr);
  std::size_t basis_size() const noexcept { return basis_.size(); }
  /// The basis-path values v_B for weights w, in basis order.
  std::vector<Scalar> path_values(const std::vector<Scalar>& w) const;
  /// dL/dv_B from w and dL/dw (step 1 above), in basis order.
  std::vector<Scalar> path_gradient(const std::vector<Scalar>& w, const std::vector<Scalar>& grad) const;
  /// Momentum buffer, one entry per edge (used on free edges: the owned edge of each basis path).
  const std::vector<Scalar>& state() const noexcept { return m_; }
  std::vector<Scalar>& state() noexcept { return m_; }
  bool is_fast() const noexcept { return layout_.has_value(); }

 private:
  void prefix_suffix(const std::vector<Scalar>& w, std::vector<Scalar>& pp, std::vector<Scalar>& sp) const;
  /// y_B = v_B dL/dv_B (step 1), in basis order.
  std::vector<Scalar> weighted_path_gradient(const std::vector<Scalar>& w, const std::vector<Scalar>& grad) const;
  void step_mlp(std::vector<Scalar>& w, const std::vector<Scalar>& grad, double lr);

  const network* net_;
  sgd_options o_;
  active_subgraph active_;
  path_basis basis_;
  std::vector<std::uint8_t> is_free_;
  std::vector<Scalar> m_;
  std::optional<mlp_layout> layout_;
};

}  // namespace scaleinv::train
