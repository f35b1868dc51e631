// scaleinv/train/parameterization.hpp: the coordinates an MLP is trained in: its weights, weight
// normalization (Salimans & Kingma, NeurIPS 2016) or the geometric parameterization (GmP, Chen &
// Ge, NeurIPS 2024; ../shared/design/math.md section 8), each mapped to the "effective" standard
// network that train::model evaluates, with the chain rule back to the parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/train/coordinates.hpp"
#include "scaleinv/train/model.hpp"

namespace scaleinv::train {

/// The parameters of one kind of coordinates and their map to the network's weights.
///
/// Effective network: a standard network on the same graph whose weights (one per edge, the
/// layout train::model reads) compute the same function as the parameters.
///
/// - weights: the parameters are the weights.
/// - weightnorm, every layer, output layer included: unit j's incoming weights are
///   w_j = g_j v_j / ||v_j||; the bias b_j is separate and trained as it is. Parameters per
///   layer: v (out x in, row-major, as the weights), g (out), b (out, when the layer has biases).
///   A unit with v_j = 0 has w_j = 0 and receives no gradient.
/// - gmp, hidden layers: z_j = r_j relu(u(theta_j)^T z_prev + lambda_j) with n - 1 angles theta_j
///   (n = the layer's fan-in, train/gmp.hpp), radius r_j and bias lambda_j. The effective network
///   has incoming weights u_j and bias lambda_j at unit j and carries r_j onto unit j's outgoing
///   weights: W_eff[l](k, j) = u_{l,k}(j) r_{l-1,j} (r = 1 for inputs). That holds for any sign
///   of r, so r is trained freely. The output layer has no ReLU and stays Cartesian: its weights
///   W and biases b are parameters, W_eff = W r_prev. Parameters per hidden layer: the angles
///   (n - 1) x out, stored angle-major (angle k of every unit is contiguous, so one step
///   vectorizes across units), then r (out), then lambda (out, with biases). Angles are not kept
///   in their conversion ranges during training (the map is periodic); n = 1: no angles, the
///   direction is a fixed sign per unit (signs()), not trained.
///
/// Weight decay (add_weight_decay) acts on the parameters that carry scale: r, g, lambda, the
/// biases and GmP's Cartesian output layer, never on directions (angles, v): decaying an angle
/// toward 0 would pull every unit toward e_1, and decaying v only changes its step size.
template <class Scalar>
class parameterization final : public coordinates<Scalar> {
 public:
  /// @pre net.is_finalized(). @throws invalid_argument with param_unsupported's reason.
  parameterization(const network& net, param_kind kind);

  param_kind kind() const noexcept override { return kind_; }
  /// Number of trained parameters.
  std::size_t size() const noexcept override { return size_; }
  /// Number of weights (edges) of the effective network.
  std::size_t num_weights() const noexcept override { return num_weights_; }

  /// The parameters whose effective network is weights w (one per edge): the same weights
  /// (kind weights), v = w and g = ||w|| (weightnorm; v = e_1, g = 0 for a zero row), or for GmP
  /// r = ||w_j||, theta = to_spherical(w_j), lambda = b_j / r_j (a zero row with zero bias: r = 0,
  /// all angles 0, lambda = 0). The effective network then equals w up to rounding for weights and
  /// weightnorm, and is a positive rescaling of w (same function) for GmP. Conversions run in
  /// double. Also sets signs(). @throws invalid_argument for a GmP unit with all-zero incoming
  /// weights but a nonzero bias (its output relu(b) is not r relu(u x + lambda) for any unit u)
  /// or a parameter that is not finite in Scalar.
  std::vector<Scalar> from_weights(const std::vector<double>& w) override;

  /// The effective weights of parameters p (resizes w). For GmP it keeps the cosines, sines and
  /// partial products of the angles for the next backprop().
  void effective_weights(const std::vector<Scalar>& p, std::vector<Scalar>& w) override;

  /// dL/dp (resized) from dL/dw at the effective weights. @pre effective_weights(p, ...) was the
  /// last call of effective_weights, with the same p.
  void backprop(const std::vector<Scalar>& p, const std::vector<Scalar>& grad_w, std::vector<Scalar>& grad_p) override;

  /// grad_p += decay * p on the decayed parameters (see the class comment).
  void add_weight_decay(const std::vector<Scalar>& p, std::vector<Scalar>& grad_p, double decay) const override;

  /// GmP's fixed directions +1/-1 of the units of layers with fan-in 1, in layer and unit order
  /// (empty otherwise). Part of the state a checkpoint must keep.
  const std::vector<Scalar>& signs() const noexcept override { return signs_; }
  /// @throws invalid_argument when the count differs or an entry is not +1 or -1.
  void set_signs(const std::vector<Scalar>& s) override;

  /// What parameter i is, e.g. "layer 1, unit 3, angle 5" or "layer 2, unit 0, r".
  std::string describe(std::size_t i) const override;

 private:
  struct block {
    std::size_t in = 0, out = 0;
    bool hidden = false, bias = false;
    activation act;                                        // hidden blocks: the layer's activation
    std::size_t w_off = 0, b_off = 0;                      // in the edge vector
    std::size_t dir = 0, scale = 0, bias_p = 0, sign = 0;  // in the parameters (and signs_)
    std::size_t cache = 0, ucache = 0;                     // offsets into the caches below
  };
  void forward_gmp_hidden(const block& b, const std::vector<Scalar>& p, const Scalar* r_prev, std::vector<Scalar>& w);
  void backward_gmp_hidden(const block& b, const Scalar* r_prev, const std::vector<Scalar>& grad_w,
                           std::vector<Scalar>& grad_p, Scalar* grad_r_prev);

  param_kind kind_;
  std::size_t size_ = 0, num_weights_ = 0;
  std::vector<block> blocks_;
  std::vector<std::uint8_t> decayed_;  // per parameter
  std::vector<Scalar> signs_;
  // GmP: cos, sin and prefix products prod_{j<k} sin t_j of the angles, angle-major like the
  // angles, and each unit's last coordinate u_j(n - 1) in u_; weightnorm: ||v_j|| in pre_.
  // tmp_: the layer maps' scratch (detail::gmp_layer_forward).
  // Eigen's allocator aligns them for its widest packets, so columns of a multiple of 16 units
  // start aligned and Eigen's cos/sin need no scalar peeling.
  using aligned_vector = std::vector<Scalar, Eigen::aligned_allocator<Scalar>>;
  aligned_vector cos_, sin_, pre_, u_, tmp_;
  aligned_vector scratch_;  // row-sized, for reductions that must not depend on p's address
  Scalar* scratch(std::size_t n) {
    if (scratch_.size() < n) scratch_.resize(n);
    return scratch_.data();
  }
};

}  // namespace scaleinv::train
