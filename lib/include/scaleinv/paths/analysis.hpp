// scaleinv/paths/analysis.hpp: the whole structural report on a network in O(V + E).
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/shared.hpp"

namespace scaleinv {

/// What `scaleinv analyze` reports. dimension = E_on - H_on (rank of the path-edge matrix, by the
/// theorem of math.md section 3, certified by `certificate`); formula = E - H as the papers state
/// it for MLPs; theorem_holds says whether the two agree, and reasons say why they do not. With
/// shared parameters or constant edges, dimension is rank(A M) over the parameters (math.md
/// sections 5 and 9) and unshared_dimension keeps E_on - H_on; `shared` has the details and the
/// rescalings that survive the sharing and the constant edges.
struct analysis {
  std::size_t inputs = 0, bias = 0, hidden = 0, outputs = 0, edges = 0, parameters = 0;
  std::size_t constants = 0;       ///< constant edges (not parameters)
  std::size_t nonhomogeneous = 0;  ///< hidden units with no rescaling symmetry
  mpz_class paths;
  std::size_t active_edges = 0, active_hidden = 0;
  std::size_t dimension = 0;
  std::size_t unshared_dimension = 0;
  std::int64_t formula = 0;
  bool theorem_holds = false;
  std::vector<std::string> reasons;
  std::vector<diagnostic> diagnostics;
  certificate cert;
  std::optional<shared_analysis> shared;
};

/// @pre net.is_finalized().
analysis analyze(const network& net);

}  // namespace scaleinv
