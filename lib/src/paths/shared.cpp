// shared.cpp: rank(A M) from the basis rows, and the rescalings that survive weight sharing.
#include "scaleinv/paths/shared.hpp"

#include <gmpxx.h>

#include <algorithm>

#include "scaleinv/exact/certified_rank.hpp"

namespace scaleinv {

std::vector<std::uint32_t> parameter_columns(const network& net) {
  std::vector<std::uint32_t> col(net.num_edges());
  auto next = static_cast<std::uint32_t>(net.param_names().size());
  for (edge_id e = 0; e < net.num_edges(); ++e) col[e] = net.param(e) != npos ? net.param(e) : next++;
  return col;
}

namespace {
// Replaces a basis of directions by the reduced row echelon basis of their span, each row scaled
// to a primitive integer vector with a positive pivot: the same space, described canonically (for
// a convolution, one direction per channel). Skipped above 256 directions (cost k^2 * units).
void canonicalize(std::vector<rescaling_direction>& dirs, std::size_t nodes) {
  if (dirs.empty() || dirs.size() > 256) return;
  std::vector<std::vector<mpq_class>> m(dirs.size(), std::vector<mpq_class>(nodes, 0));
  for (std::size_t i = 0; i < dirs.size(); ++i)
    for (const auto& [v, k] : dirs[i]) m[i][v] = static_cast<long>(k);
  std::size_t rank = 0;
  for (std::size_t c = 0; c < nodes && rank < m.size(); ++c) {
    std::size_t piv = rank;
    while (piv < m.size() && m[piv][c] == 0) ++piv;
    if (piv == m.size()) continue;
    std::swap(m[piv], m[rank]);
    mpq_class lead = m[rank][c];
    for (auto& x : m[rank]) x /= lead;
    for (std::size_t i = 0; i < m.size(); ++i) {
      if (i == rank || m[i][c] == 0) continue;
      mpq_class f = m[i][c];
      for (std::size_t k = c; k < nodes; ++k) m[i][k] -= f * m[rank][k];
    }
    ++rank;
  }
  std::vector<rescaling_direction> out;
  for (std::size_t i = 0; i < rank; ++i) {
    mpz_class den = 1, g = 0;
    for (const auto& x : m[i])
      if (x != 0) mpz_lcm(den.get_mpz_t(), den.get_mpz_t(), x.get_den_mpz_t());
    std::vector<mpz_class> ints(nodes);
    for (std::size_t v = 0; v < nodes; ++v) {
      ints[v] = m[i][v].get_num() * (den / m[i][v].get_den());
      mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), ints[v].get_mpz_t());
    }
    rescaling_direction d;
    for (std::size_t v = 0; v < nodes; ++v)
      if (ints[v] != 0) d.emplace_back(static_cast<node_id>(v), mpz_class(ints[v] / g).get_si());
    out.push_back(std::move(d));
  }
  dirs = std::move(out);
}
}  // namespace

shared_analysis analyze_shared(const network& net, const active_subgraph& active, const path_basis& basis,
                               const certified_rank_options& rank_options) {
  shared_analysis out;
  out.parameters = net.num_parameters();
  std::vector<std::uint32_t> col = parameter_columns(net);
  std::vector<std::uint8_t> used(out.parameters, 0);
  for (edge_id e = 0; e < net.num_edges(); ++e)
    if (active.is_active_edge(e)) used[col[e]] = 1;
  for (auto u : used) out.unused_parameters += u == 0 ? 1 : 0;

  int_matrix bm;
  bm.cols = static_cast<std::uint32_t>(out.parameters);
  std::vector<std::uint32_t> row;
  for (std::size_t i = 0; i < basis.size(); ++i) {
    row.clear();
    for (edge_id e : basis_path(net, basis, i)) row.push_back(col[e]);  // a parameter twice: entry 2
    bm.add_01_row(row);
  }
  rank_certificate rank = certified_rank(bm, /*want_kernel=*/true, rank_options);
  out.dimension = rank.rank;
  out.method = rank.method;
  if (!rank.has_kernel) return out;  // no verified kernel: the number of survivors is unknown

  // Each kernel vector theta: phi along the p() tree (phi = 0 at path sources and sinks), then
  // theta[col e] == phi(head) - phi(tail) on every active edge.
  const auto& order = net.topological_order();
  bool all_ok = true;
  std::vector<std::int64_t> phi(net.num_nodes(), 0), theta(out.parameters, 0);
  for (const auto& sparse_theta : rank.kernel) {
    bool touches_used = false;
    for (const auto& [k, v] : sparse_theta) touches_used = touches_used || used[k] != 0;
    if (!touches_used) continue;  // an unused parameter, not a rescaling
    for (const auto& [k, v] : sparse_theta) theta[k] = v;
    std::fill(phi.begin(), phi.end(), 0);
    for (node_id v : order) {
      edge_id p = basis.parent_edge[v];
      if (p != npos) phi[v] = phi[net.edge_at(p).from] + theta[col[p]];
    }
    for (edge_id e = 0; e < net.num_edges() && all_ok; ++e) {
      if (!active.is_active_edge(e)) continue;
      const edge& ed = net.edge_at(e);
      all_ok = theta[col[e]] == phi[ed.to] - phi[ed.from];
    }
    rescaling_direction dir;
    for (node_id v = 0; v < net.num_nodes(); ++v)
      if (phi[v] != 0) dir.emplace_back(v, phi[v]);
    out.surviving.push_back(std::move(dir));
    for (const auto& [k, v] : sparse_theta) theta[k] = 0;
  }
  canonicalize(out.surviving, net.num_nodes());
  out.surviving_checked = all_ok &&
                          out.surviving.size() + out.unused_parameters + out.dimension == out.parameters;
  return out;
}

}  // namespace scaleinv
