// scaleinv/train/coordinates.hpp: the coordinates a network is trained in, as one interface: a
// vector of parameters p, its map to the network's weights (the "effective" network train::model
// evaluates), and the chain rule back. Weights, weight normalization and GmP implement it
// (train/parameterization.hpp); G-SGD keeps its own coordinates (train/gsgd.hpp) and needs weights.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv::train {

enum class param_kind { weights, weightnorm, gmp };

/// "weights", "weightnorm", "gmp".
std::string_view to_string(param_kind kind);
/// Reads the names above. @throws invalid_argument.
param_kind parse_param_kind(std::string_view text);

/// Why net cannot be trained in kind's coordinates (a sentence), or nullopt when it can. Plain
/// weights work for every network (shared parameters are trained as one value each, constant
/// edges are not trained); weight norm and GmP need a network without shared parameters or
/// constant edges that is a layered, fully connected MLP
/// (graph/layout.hpp find_layers), and GmP also needs positively homogeneous hidden units (relu, leaky_relu, prelu,
/// bilu, linear), since its start r relu(u x + lambda) = relu(w x + b) rests on relu(c t) = c
/// relu(t) for c > 0.
std::optional<std::string> param_unsupported(const network& net, param_kind kind);

/// Trained parameters and their map to weights (one per edge).
template <class Scalar>
class coordinates {
 public:
  virtual ~coordinates() = default;

  virtual param_kind kind() const noexcept = 0;
  /// The parameters are the weights themselves (the map is the identity).
  virtual bool is_identity() const noexcept { return kind() == param_kind::weights; }
  /// Number of trained parameters.
  virtual std::size_t size() const noexcept = 0;
  /// Number of weights (edges) of the effective network.
  virtual std::size_t num_weights() const noexcept = 0;

  /// Parameters whose effective network computes the same function as weights w.
  virtual std::vector<Scalar> from_weights(const std::vector<double>& w) = 0;
  /// The effective weights of parameters p (resizes w).
  virtual void effective_weights(const std::vector<Scalar>& p, std::vector<Scalar>& w) = 0;
  /// dL/dp (resized) from dL/dw at the effective weights. @pre effective_weights(p, ...) was the
  /// last call of effective_weights, with the same p.
  virtual void backprop(const std::vector<Scalar>& p, const std::vector<Scalar>& grad_w,
                        std::vector<Scalar>& grad_p) = 0;
  /// grad_p += decay * p on the parameters these coordinates decay.
  virtual void add_weight_decay(const std::vector<Scalar>& p, std::vector<Scalar>& grad_p, double decay) const = 0;

  /// Fixed state beside p that a checkpoint must keep (GmP's direction signs; else empty).
  virtual const std::vector<Scalar>& signs() const noexcept = 0;
  /// @throws invalid_argument when s does not fit.
  virtual void set_signs(const std::vector<Scalar>& s) = 0;

  /// What parameter i is, e.g. "layer 1, unit 3, angle 5".
  virtual std::string describe(std::size_t i) const = 0;
};

/// The coordinates of kind for net: tied_weights for weights on a network with shared parameters
/// or constant edges, else parameterization. @throws invalid_argument with param_unsupported's reason.
template <class Scalar>
std::unique_ptr<coordinates<Scalar>> make_coordinates(const network& net, param_kind kind);

}  // namespace scaleinv::train
