// scaleinv/paths/basis.hpp: a basis of paths for any DAG (math.md section 4), the integer
// coordinates of any path in it, and the certificate that rank A = E_on - H_on.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/active.hpp"

namespace scaleinv {

/// How the skeleton (the p() and c() edges) is chosen, from the graph alone.
///
/// - first: p(v) is v's active incoming edge of least id, c(v) its active outgoing edge of least
///   id. On an MLP every unit's chains run through unit 0 of the next layer.
/// - diagonal: the skeleton of the G-SGD authors' code (MSRA-COLT/gsgd_mlp, generate_eye), for
///   any DAG. The depth of a unit is the length of the longest active path to it from an input
///   (or another path source), bias edges not counted; j(v) is v's rank, in node order, among the
///   active scalable units of its depth. p(v) is the (j mod k)-th of v's k active incoming edges
///   from non-bias nodes, in edge order (its first active incoming edge when k = 0: a bias edge),
///   and c(v) the (j mod k')-th of its k' active outgoing edges. On an MLP in make_mlp's order,
///   hidden unit j of layer l has p(j) from unit j mod n(l-1) and c(j) to unit j mod n(l+1).
enum class skeleton_kind : std::uint8_t { first, diagonal };

/// "first", "diagonal".
std::string_view to_string(skeleton_kind k);
/// @throws invalid_argument naming the accepted values.
skeleton_kind parse_skeleton(std::string_view text);

/// For every active scalable hidden unit v: p(v), an active incoming edge, and c(v), an active
/// outgoing edge, chosen by the skeleton rule (a choice made from the graph alone). prefix(u) follows
/// p() back to a source, suffix(v) follows c() on to a sink, and B(e) = prefix(tail e) + e +
/// suffix(head e). The distinct B(e) are the basis. Each is B(f) for exactly one *free* edge f
/// (an active edge that is no unit's p(v)); basis path i is the one owned by free_edges[i], and
/// free edges are numbered in increasing edge id.
struct path_basis {
  std::vector<edge_id> parent_edge;               ///< per node: p(v), or npos
  std::vector<edge_id> child_edge;                ///< per node: c(v), or npos
  std::vector<edge_id> free_edges;                ///< basis index -> the free edge it owns
  std::vector<std::uint32_t> index_of;            ///< per edge: the basis index i with B(e) = B_i (npos if inactive)
  skeleton_kind skeleton = skeleton_kind::first;  ///< how p() and c() were chosen

  std::size_t size() const noexcept { return free_edges.size(); }
};

/// O(V + E). @pre net.is_finalized(); active = find_active(net).
path_basis make_basis(const network& net, const active_subgraph& active, skeleton_kind skeleton = skeleton_kind::first);

/// The edges of basis path i, from its source to its sink. O(path length).
std::vector<edge_id> basis_path(const network& net, const path_basis& basis, std::size_t i);

/// One term of a path's expansion: value(path) = prod over terms of value(B_basis)^exponent.
struct coordinate {
  std::uint32_t basis = 0;
  std::int64_t exponent = 0;
};

/// The integer coordinates of a path in the basis (math.md section 4: Q = sum_i B(e_i) -
/// sum_j T(v_j)), sorted by basis index, zero terms dropped. O(path length log).
/// @throws invalid_argument naming the problem when the edges do not form a path from a path
/// source through scalable hidden units to a path sink.
std::vector<coordinate> path_coordinates(const network& net, const path_basis& basis, std::span<const edge_id> path);

/// Checks that `path` is a path (see path_coordinates); returns an empty string when it is, else
/// what is wrong.
std::string path_problem(const network& net, std::span<const edge_id> path);

/// The certificate of math.md section 4, checked in O(V + E) without enumerating paths:
/// basis_size independent paths (a unit-triangular submatrix on their free edges) and
/// kernel_size independent kernel vectors (one potential per active unit, one unit vector per
/// inactive edge) together prove rank A = basis_size = E - kernel_size.
struct certificate {
  bool valid = false;
  std::string failure;  ///< the first check that failed, when !valid
  std::size_t basis_size = 0;
  std::size_t kernel_size = 0;
  std::size_t rank = 0;  ///< the certified rank, when valid
};

certificate certify(const network& net, const active_subgraph& active, const path_basis& basis);

/// The kernel vector of unit v: +1 on its active outgoing edges, -1 on its active incoming ones,
/// as (edge, value) pairs. @pre v is an active scalable unit.
std::vector<std::pair<edge_id, int>> kernel_vector(const network& net, const active_subgraph& active, node_id v);

}  // namespace scaleinv
