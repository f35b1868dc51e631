// scaleinv/paths/active.hpp: the active subgraph (edges and units on some path) and diagnostics
// that name what is dead and why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// Which nodes and edges lie on at least one path (math.md section 2). A path runs from a path
/// source (input, bias, non-homogeneous hidden unit) through scalable hidden units to a path
/// sink (output, non-homogeneous hidden unit).
struct active_subgraph {
  std::vector<std::uint8_t> reached;    ///< per node: some path from a source arrives here
  std::vector<std::uint8_t> coreached;  ///< per node: some path from here arrives at a sink
  std::vector<std::uint8_t> edge_on;    ///< per edge: it lies on a path
  std::size_t active_edges = 0;         ///< E_on
  std::size_t active_hidden = 0;        ///< H_on: active scalable hidden units
  std::size_t scalable_hidden = 0;      ///< H among homogeneous units, active or not

  bool is_active_edge(edge_id e) const { return edge_on[e] != 0; }
  /// A scalable hidden unit on some path. @pre v is a node of the network analysed.
  bool is_active_unit(const network& net, node_id v) const {
    return net.is_scalable(v) && reached[v] != 0 && coreached[v] != 0;
  }
};

/// O(V + E). @pre net.is_finalized().
active_subgraph find_active(const network& net);

/// One finding about a network, for people (message) and programs (code, subject).
struct diagnostic {
  std::string severity;  ///< "warning" (changes the dimension) or "note"
  std::string code;      ///< dead_unit, unused_input, unreached_output, inactive_edge, nonhomogeneous_unit, ...
  std::string subject;   ///< a node id, or "edge N"
  std::string message;   ///< a sentence naming the node or edge and saying why
};

/// Dead units (and why: no incoming edge, no outgoing edge, only dead neighbours), unused inputs,
/// outputs no path reaches, inactive edges, and units without rescaling symmetry.
std::vector<diagnostic> diagnose(const network& net, const active_subgraph& active);

}  // namespace scaleinv
