// scaleinv/paths/express.hpp: one path in the basis: its integer coordinates and, when the network
// has weights, the exact check value(path) = prod_i value(B_i)^k_i (math.md section 4).
#pragma once

#include <gmpxx.h>

#include <optional>
#include <span>
#include <vector>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/basis.hpp"

namespace scaleinv {

/// What `scaleinv express` reports.
struct path_expression {
  std::vector<edge_id> path;
  std::vector<coordinate> coordinates;            ///< path_coordinates: the exponents k_i
  skeleton_kind skeleton = skeleton_kind::first;  ///< the basis's skeleton
  bool checked = false;  ///< the network has weights, so value (and reconstructed) were computed
  mpq_class value;       ///< value(path), the product of its weights, exactly
  /// prod_i value(B_i)^k_i, exactly; nullopt when a basis path in the product has value 0 (the
  /// product is then undefined).
  std::optional<mpq_class> reconstructed;
  /// The identity holds exactly: reconstructed is defined and equals value.
  bool values_agree() const { return reconstructed && *reconstructed == value; }
};

/// Expresses path in basis (made by make_basis for net) and, when net has weights, checks the
/// identity in exact rational arithmetic. A mismatch is a result (values_agree() false).
/// @throws invalid_argument as path_coordinates when the edges do not form a path.
path_expression express(const network& net, const path_basis& basis, std::span<const edge_id> path);

/// The same in the basis of make_basis(net, find_active(net), skeleton).
path_expression express(const network& net, std::span<const edge_id> path,
                        skeleton_kind skeleton = skeleton_kind::first);

}  // namespace scaleinv
