// scaleinv/paths/shared.hpp: the path-space dimension under weight sharing, rank(A M), computed
// exactly from the E_on - H_on basis rows (math.md section 5), and the rescalings that survive
// the sharing.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "scaleinv/exact/certified_rank.hpp"
#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"

namespace scaleinv {

/// The parameter map M: column of each edge. Shared ids come first (in param_names() order),
/// then one column per edge without an id, in edge order. num_parameters() columns in all. A
/// constant edge has no column (npos): it is a zero row of M (math.md section 9).
std::vector<std::uint32_t> parameter_columns(const network& net);

/// A rescaling that the sharing allows: log-scale exponents phi(v) per active unit (v, phi(v)),
/// so that scaling each unit by t^phi(v), t > 0, multiplies every parameter by one factor.
using rescaling_direction = std::vector<std::pair<node_id, std::int64_t>>;

struct shared_analysis {
  std::size_t parameters = 0;         ///< P = num_parameters()
  std::size_t unused_parameters = 0;  ///< parameters on no active edge (they move no path value)
  std::size_t dimension = 0;          ///< rank(A M) over Q, exact
  std::string method;                 ///< how the rank was certified (certified_rank's method)
  /// A basis of the rescalings that survive the sharing: dimension = parameters -
  /// unused_parameters - surviving.size() (math: ker(A M) = surviving rescalings + unused).
  /// Meaningful only when surviving_checked; otherwise their number is unknown (not 0).
  std::vector<rescaling_direction> surviving;
  /// Each direction verified exactly against every active edge, and their number adds up as above.
  /// False only when no verified kernel of B M was available (an entry past 64 bits); then report
  /// the number of surviving rescalings as unknown.
  bool surviving_checked = false;
};

/// Rank of B M for the basis rows B: the rows of B span those of A, so rank(B M) = rank(A M).
/// Surviving rescalings come from the kernel of B M: a kernel vector theta is a log-multiplier per
/// parameter with M theta a potential difference on the active edges (0 on constant edges, whose
/// ends therefore share a potential); the potential is read off along the p() tree and checked on
/// every active edge.
/// @pre net.is_finalized(); active and basis made for net.
shared_analysis analyze_shared(const network& net, const active_subgraph& active, const path_basis& basis,
                               const certified_rank_options& rank_options = {});

}  // namespace scaleinv
