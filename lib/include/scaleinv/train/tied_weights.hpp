// scaleinv/train/tied_weights.hpp: the coordinates of a network with shared parameters (a
// convolution's kernel entries, a JSON "param" group) or constant edges: one trained value per
// parameter, copied to every edge that carries it; the gradient of a parameter is the sum over its
// edges. A constant edge is no parameter: its effective weight is its constant and its gradient is
// dropped.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "scaleinv/train/coordinates.hpp"

namespace scaleinv::train {

/// Parameters in order of first appearance in edge order: a shared parameter where its first edge
/// is, an unshared edge where it is; constant edges are skipped. Weight decay applies to every
/// parameter (as to every weight of an unshared network), never to a constant.
template <class Scalar>
class tied_weights final : public coordinates<Scalar> {
 public:
  /// @pre net.is_finalized().
  explicit tied_weights(const network& net);

  param_kind kind() const noexcept override { return param_kind::weights; }
  bool is_identity() const noexcept override { return false; }
  std::size_t size() const noexcept override { return names_.size(); }
  std::size_t num_weights() const noexcept override { return slot_.size(); }

  /// The first edge's weight of each parameter. @throws invalid_argument when two edges of one
  /// parameter have different weights (naming the parameter and both edges).
  std::vector<Scalar> from_weights(const std::vector<double>& w) override;
  void effective_weights(const std::vector<Scalar>& p, std::vector<Scalar>& w) override;
  void backprop(const std::vector<Scalar>& p, const std::vector<Scalar>& grad_w, std::vector<Scalar>& grad_p) override;
  void add_weight_decay(const std::vector<Scalar>& p, std::vector<Scalar>& grad_p, double decay) const override;
  const std::vector<Scalar>& signs() const noexcept override { return no_signs_; }
  void set_signs(const std::vector<Scalar>& s) override;
  std::string describe(std::size_t i) const override { return names_[i]; }

  /// The parameter of edge e, or npos for a constant edge.
  std::uint32_t slot(edge_id e) const { return slot_[e]; }

 private:
  std::vector<std::uint32_t> slot_;                   // per edge; npos for a constant edge
  std::vector<std::pair<edge_id, Scalar>> constant_;  // the constant edges and their values
  std::vector<std::string> names_;                    // per parameter: "parameter 'w'" or the edge
  std::vector<edge_id> first_;                        // per parameter: its first edge
  std::vector<Scalar> no_signs_;
};

}  // namespace scaleinv::train
