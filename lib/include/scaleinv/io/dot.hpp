// scaleinv/io/dot.hpp: Graphviz DOT output, optionally marking the basis.
#pragma once

#include <string>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// A digraph, left to right, one rank per topological depth. With show_basis: the skeleton edges
/// (every unit's p() and c()) bold blue, each free edge red and labelled B<i> for the basis path
/// it owns, inactive edges and dead units grey and dashed.
std::string write_dot(const network& net, bool show_basis);

}  // namespace scaleinv
