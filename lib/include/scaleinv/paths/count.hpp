// scaleinv/paths/count.hpp: exact path counts by dynamic programming over a topological order.
#pragma once

#include <gmpxx.h>

#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// from_source[v]: paths that leave v counted from their start (1 at a path source, else the sum
/// over v's incoming edges); to_sink[v]: 1 at a path sink, else the sum over v's outgoing edges.
/// No path is enumerated. O(V + E) big-integer additions.
struct path_counts {
  std::vector<mpz_class> from_source;
  std::vector<mpz_class> to_sink;
  mpz_class total;  ///< the number of paths in the network
};

/// @pre net.is_finalized().
path_counts count_paths(const network& net);

/// The number of paths through each edge: from_source[tail] * to_sink[head]. Zero exactly on the
/// inactive edges.
std::vector<mpz_class> edge_path_counts(const network& net, const path_counts& counts);

}  // namespace scaleinv
