// shared.cpp: rank(A M) from the basis rows, and the rescalings that survive weight sharing.
#include "scaleinv/paths/shared.hpp"

#include <gmpxx.h>

#include <algorithm>

#include "scaleinv/exact/certified_rank.hpp"

namespace scaleinv {

std::vector<std::uint32_t> parameter_columns(const network& net) {
  std::vector<std::uint32_t> col(net.num_edges());
  auto next = static_cast<std::uint32_t>(net.param_names().size());
  for (edge_id e = 0; e < net.num_edges(); ++e)
    col[e] = net.param(e) != npos ? net.param(e) : net.is_constant(e) ? npos : next++;
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
    if (active.is_active_edge(e) && col[e] != npos) used[col[e]] = 1;
  for (auto u : used) out.unused_parameters += u == 0 ? 1 : 0;

  int_matrix bm;
  bm.cols = static_cast<std::uint32_t>(out.parameters);
  std::vector<std::uint32_t> row;
  for (std::size_t i = 0; i < basis.size(); ++i) {
    row.clear();
    for (edge_id e : basis_path(net, basis, i))
      if (col[e] != npos) row.push_back(col[e]);  // a parameter twice: entry 2; a constant edge: no column
    bm.add_01_row(row);
  }
  rank_certificate rank = certified_rank(bm, /*want_kernel=*/true, rank_options);
  out.dimension = rank.rank;
  out.method = rank.method;
  if (!rank.has_kernel) return out;  // no verified kernel: the number of survivors is unknown

  // Each kernel vector theta: phi along the p() tree (phi = 0 at path sources and sinks), then
  // theta[col e] == phi(head) - phi(tail) on every active edge, where a constant edge has theta 0
  // (no column: phi(head) == phi(tail) there). phi is nonzero only below (in the p() tree) a tree
  // edge with theta != 0, and an edge with theta == 0 between two units with phi == 0 passes
  // trivially; so only those subtrees, their units' edges and the edges of the parameters in
  // theta are visited: the cost follows theta's support, not the network's size.
  const std::size_t nodes = net.num_nodes();
  std::vector<std::size_t> child_start(nodes + 1, 0), edge_start(out.parameters + 1, 0);
  for (node_id v = 0; v < nodes; ++v)
    if (basis.parent_edge[v] != npos) ++child_start[net.edge_at(basis.parent_edge[v]).from + 1];
  for (edge_id e = 0; e < net.num_edges(); ++e)
    if (active.is_active_edge(e) && col[e] != npos) ++edge_start[col[e] + 1];
  for (std::size_t v = 0; v < nodes; ++v) child_start[v + 1] += child_start[v];
  for (std::size_t k = 0; k < out.parameters; ++k) edge_start[k + 1] += edge_start[k];
  std::vector<node_id> children(child_start.back());
  std::vector<edge_id> edges_of(edge_start.back());
  {
    std::vector<std::size_t> fill(child_start.begin(), child_start.end() - 1);
    for (node_id v = 0; v < nodes; ++v)
      if (basis.parent_edge[v] != npos) children[fill[net.edge_at(basis.parent_edge[v]).from]++] = v;
    fill.assign(edge_start.begin(), edge_start.end() - 1);
    for (edge_id e = 0; e < net.num_edges(); ++e)
      if (active.is_active_edge(e) && col[e] != npos) edges_of[fill[col[e]]++] = e;
  }
  bool all_ok = true;
  std::vector<std::int64_t> phi(nodes, 0), theta(out.parameters, 0);
  std::vector<std::uint8_t> in_tree(nodes, 0);
  std::vector<node_id> below, stack;
  auto theta_of = [&](edge_id e) { return col[e] == npos ? std::int64_t{0} : theta[col[e]]; };
  auto edge_ok = [&](edge_id e) {
    const edge& ed = net.edge_at(e);
    return !active.is_active_edge(e) || theta_of(e) == phi[ed.to] - phi[ed.from];
  };
  for (const auto& sparse_theta : rank.kernel) {
    bool touches_used = false;
    for (const auto& [k, v] : sparse_theta) touches_used = touches_used || used[k] != 0;
    if (!touches_used) continue;  // an unused parameter, not a rescaling
    for (const auto& [k, v] : sparse_theta) theta[k] = v;
    // The units below tree edges with theta != 0, in topological order.
    below.clear();
    for (const auto& [k, v] : sparse_theta)
      for (std::size_t t = edge_start[k]; t < edge_start[k + 1]; ++t) {
        const node_id head = net.edge_at(edges_of[t]).to;
        if (basis.parent_edge[head] != edges_of[t] || in_tree[head] != 0) continue;
        in_tree[head] = 1;
        stack.assign(1, head);
        while (!stack.empty()) {
          const node_id u = stack.back();
          stack.pop_back();
          below.push_back(u);
          for (std::size_t c = child_start[u]; c < child_start[u + 1]; ++c)
            if (in_tree[children[c]] == 0) {
              in_tree[children[c]] = 1;
              stack.push_back(children[c]);
            }
        }
      }
    std::sort(below.begin(), below.end(), [&](node_id a, node_id b) { return net.topo_rank(a) < net.topo_rank(b); });
    for (node_id v : below) {
      const edge_id p = basis.parent_edge[v];
      all_ok = all_ok && !__builtin_add_overflow(phi[net.edge_at(p).from], theta_of(p), &phi[v]);
    }
    for (node_id v : below) {
      for (edge_id e : net.in_edges(v)) all_ok = all_ok && edge_ok(e);
      for (edge_id e : net.out_edges(v)) all_ok = all_ok && edge_ok(e);
    }
    for (const auto& [k, v] : sparse_theta)
      for (std::size_t t = edge_start[k]; t < edge_start[k + 1]; ++t) all_ok = all_ok && edge_ok(edges_of[t]);
    std::sort(below.begin(), below.end());
    rescaling_direction dir;
    for (node_id v : below)
      if (phi[v] != 0) dir.emplace_back(v, phi[v]);
    out.surviving.push_back(std::move(dir));
    for (node_id v : below) {
      phi[v] = 0;
      in_tree[v] = 0;
    }
    for (const auto& [k, v] : sparse_theta) theta[k] = 0;
  }
  canonicalize(out.surviving, net.num_nodes());
  out.surviving_checked = all_ok && out.surviving.size() + out.unused_parameters + out.dimension == out.parameters;
  return out;
}

}  // namespace scaleinv
