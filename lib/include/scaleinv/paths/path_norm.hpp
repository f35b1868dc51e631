// scaleinv/paths/path_norm.hpp: the L2 path norm (Neyshabur, Salakhutdinov and Srebro, NeurIPS
// 2015), sqrt(sum over paths of the product of the squared weights), and Path-SGD's per-edge
// scale gamma_e = the same sum over the paths through e with w_e left out, by two dynamic
// programs in O(E): no path is enumerated.
#pragma once

#include <gmpxx.h>

#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// Sums of products of squared weights over partial paths.
/// - in(v): over the paths from a path source to v (1 at a path source: inputs, bias nodes,
///   non-homogeneous units);
/// - out(v): over the paths from v to a path sink (1 at a path sink: outputs, non-homogeneous
///   units);
/// - squared_norm: over the whole paths, sum of the arriving sums at the path sinks.
/// gamma_e = in(tail e) * out(head e) for every edge; it is 0 for an edge on no path.
template <class T>
struct path_sums {
  std::vector<T> in, out;
  T squared_norm = T(0);
  /// Path-SGD's gamma_e.
  T gamma(const network& net, edge_id e) const { return in[net.edge_at(e).from] * out[net.edge_at(e).to]; }
};

/// @pre net.is_finalized(); w.size() == net.num_edges(). T: float, double or mpq_class (exact).
template <class T>
path_sums<T> compute_path_sums(const network& net, const std::vector<T>& w);

}  // namespace scaleinv
