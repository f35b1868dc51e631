// basis.cpp: basis paths, coordinates and the rank certificate of math.md section 4.
#include "scaleinv/paths/basis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <span>

#include "scaleinv/error.hpp"

namespace scaleinv {

std::string_view to_string(skeleton_kind k) { return k == skeleton_kind::diagonal ? "diagonal" : "first"; }

skeleton_kind parse_skeleton(std::string_view text) {
  if (text == "first") return skeleton_kind::first;
  if (text == "diagonal") return skeleton_kind::diagonal;
  throw invalid_argument(fmt::format("unknown skeleton '{}': expected diagonal or first", text));
}

namespace {
// The diagonal rule's j(v): rank among the active scalable units of v's depth, in node order.
std::vector<std::uint32_t> diagonal_index(const network& net, const active_subgraph& active) {
  const std::size_t n = net.num_nodes();
  std::vector<std::uint32_t> depth(n, 0);
  for (node_id v : net.topological_order()) {
    if (!active.is_active_unit(net, v)) continue;
    std::uint32_t d = 0;
    for (edge_id e : net.in_edges(v)) {
      const node_id u = net.edge_at(e).from;
      if (active.is_active_edge(e) && net.node_at(u).kind != node_kind::bias) d = std::max(d, depth[u] + 1);
    }
    depth[v] = d;
  }
  std::vector<std::uint32_t> count, index(n, 0);
  for (node_id v = 0; v < n; ++v) {
    if (!active.is_active_unit(net, v)) continue;
    if (depth[v] >= count.size()) count.resize(depth[v] + 1, 0);
    index[v] = count[depth[v]]++;
  }
  return index;
}

// The (j mod k)-th of the edges that pass `keep`, or npos when none does.
template <class Keep>
edge_id pick(std::span<const edge_id> edges, std::uint32_t j, Keep keep) {
  std::size_t k = 0;
  for (edge_id e : edges) k += keep(e) ? 1 : 0;
  if (k == 0) return npos;
  std::size_t target = j % k;
  for (edge_id e : edges)
    if (keep(e) && target-- == 0) return e;
  return npos;
}
}  // namespace

path_basis make_basis(const network& net, const active_subgraph& active, skeleton_kind skeleton) {
  const std::size_t n = net.num_nodes(), m = net.num_edges();
  path_basis b;
  b.skeleton = skeleton;
  b.parent_edge.assign(n, npos);
  b.child_edge.assign(n, npos);
  std::vector<std::uint8_t> is_parent(m, 0);
  if (skeleton == skeleton_kind::diagonal) {
    const std::vector<std::uint32_t> j = diagonal_index(net, active);
    auto is_active = [&](edge_id e) { return active.is_active_edge(e); };
    auto not_bias = [&](edge_id e) {
      return active.is_active_edge(e) && net.node_at(net.edge_at(e).from).kind != node_kind::bias;
    };
    for (node_id v = 0; v < n; ++v) {
      if (!active.is_active_unit(net, v)) continue;
      edge_id p = pick(net.in_edges(v), j[v], not_bias);
      if (p == npos) p = pick(net.in_edges(v), 0, is_active);
      b.parent_edge[v] = p;
      is_parent[p] = 1;
      b.child_edge[v] = pick(net.out_edges(v), j[v], is_active);
    }
  } else {
    for (node_id v = 0; v < n; ++v) {
      if (!active.is_active_unit(net, v)) continue;
      for (edge_id e : net.in_edges(v)) {  // increasing id: the first active one is the least
        if (active.is_active_edge(e)) {
          b.parent_edge[v] = e;
          is_parent[e] = 1;
          break;
        }
      }
      for (edge_id e : net.out_edges(v)) {
        if (active.is_active_edge(e)) {
          b.child_edge[v] = e;
          break;
        }
      }
    }
  }
  b.index_of.assign(m, npos);
  std::size_t free = 0;  // counted first: free_edges is reserved once, not grown by doubling
  for (edge_id e = 0; e < m; ++e) free += active.is_active_edge(e) && is_parent[e] == 0 ? 1 : 0;
  b.free_edges.reserve(free);
  for (edge_id e = 0; e < m; ++e) {
    if (active.is_active_edge(e) && is_parent[e] == 0) {
      b.index_of[e] = static_cast<std::uint32_t>(b.free_edges.size());
      b.free_edges.push_back(e);
    }
  }
  // B(p(v)) = prefix(v) + suffix(v) = B(c(v)); c(v) is free, or it is p(w) for a later w, which
  // reverse topological order has already resolved.
  const auto& order = net.topological_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    node_id v = *it;
    if (b.parent_edge[v] != npos) b.index_of[b.parent_edge[v]] = b.index_of[b.child_edge[v]];
  }
  return b;
}

namespace {
void append_prefix(const network& net, const path_basis& b, node_id u, std::vector<edge_id>& out) {
  std::size_t start = out.size();
  while (!net.is_path_source(u)) {
    edge_id e = b.parent_edge[u];
    out.push_back(e);
    u = net.edge_at(e).from;
  }
  std::reverse(out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
}

void append_suffix(const network& net, const path_basis& b, node_id v, std::vector<edge_id>& out) {
  while (!net.is_path_sink(v)) {
    edge_id e = b.child_edge[v];
    out.push_back(e);
    v = net.edge_at(e).to;
  }
}
}  // namespace

std::vector<edge_id> basis_path(const network& net, const path_basis& b, std::size_t i) {
  edge_id f = b.free_edges.at(i);
  std::vector<edge_id> out;
  append_prefix(net, b, net.edge_at(f).from, out);
  out.push_back(f);
  append_suffix(net, b, net.edge_at(f).to, out);
  return out;
}

std::string path_problem(const network& net, std::span<const edge_id> path) {
  if (path.empty()) return "a path needs at least one edge";
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] >= net.num_edges()) {
      return fmt::format("edge {} does not exist (the network has {} edges, 0 to {})", path[i], net.num_edges(),
                         net.num_edges() == 0 ? 0 : net.num_edges() - 1);
    }
  }
  node_id start = net.edge_at(path.front()).from;
  if (!net.is_path_source(start)) {
    return fmt::format("{} starts at hidden unit '{}', not at an input, a bias node or a non-homogeneous unit",
                       net.describe_edge(path.front()), net.node_at(start).id);
  }
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    node_id head = net.edge_at(path[i]).to;
    if (net.edge_at(path[i + 1]).from != head) {
      return fmt::format("{} is not followed by an edge leaving '{}': {} comes next", net.describe_edge(path[i]),
                         net.node_at(head).id, net.describe_edge(path[i + 1]));
    }
    if (net.is_path_sink(head)) {
      return fmt::format("the path goes through '{}', where paths end ({} unit)", net.node_at(head).id,
                         net.node_at(head).act.name());
    }
  }
  node_id end = net.edge_at(path.back()).to;
  if (!net.is_path_sink(end)) {
    return fmt::format("{} ends at hidden unit '{}', not at an output or a non-homogeneous unit",
                       net.describe_edge(path.back()), net.node_at(end).id);
  }
  return {};
}

std::vector<coordinate> path_coordinates(const network& net, const path_basis& b, std::span<const edge_id> path) {
  if (auto problem = path_problem(net, path); !problem.empty()) throw invalid_argument("not a path: " + problem);
  std::vector<coordinate> terms;
  terms.reserve(2 * path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    terms.push_back({b.index_of[path[i]], 1});
    if (i + 1 < path.size()) terms.push_back({b.index_of[b.parent_edge[net.edge_at(path[i]).to]], -1});
  }
  std::sort(terms.begin(), terms.end(), [](const coordinate& x, const coordinate& y) { return x.basis < y.basis; });
  std::vector<coordinate> out;
  for (const auto& t : terms) {
    if (!out.empty() && out.back().basis == t.basis) out.back().exponent += t.exponent;
    else out.push_back(t);
  }
  std::erase_if(out, [](const coordinate& c) { return c.exponent == 0; });
  return out;
}

std::vector<std::pair<edge_id, int>> kernel_vector(const network& net, const active_subgraph& active, node_id v) {
  std::vector<std::pair<edge_id, int>> out;
  for (edge_id e : net.in_edges(v))
    if (active.is_active_edge(e)) out.emplace_back(e, -1);
  for (edge_id e : net.out_edges(v))
    if (active.is_active_edge(e)) out.emplace_back(e, +1);
  std::sort(out.begin(), out.end());
  return out;
}

certificate certify(const network& net, const active_subgraph& active, const path_basis& b) {
  certificate c;
  const std::size_t n = net.num_nodes(), m = net.num_edges();
  auto fail = [&c](std::string why) {
    c.valid = false;
    c.failure = std::move(why);
    return c;
  };
  if (b.parent_edge.size() != n || b.child_edge.size() != n || b.index_of.size() != m)
    return fail("the basis was made for another network");
  std::vector<std::uint8_t> is_free(m, 0);
  for (edge_id f : b.free_edges) {
    if (f >= m || !active.is_active_edge(f)) return fail(fmt::format("basis edge {} is not an active edge", f));
    is_free[f] = 1;
  }
  // Kernel: one potential per active unit. It sums to 0 along every path because the unit is
  // neither a source nor a sink, so a path meets it only by entering and leaving once. Restricted
  // to the columns p(v) the potentials are triangular in topological order with -1 on the
  // diagonal (column p(v) is nonzero only in rows v and tail(p(v)), which comes earlier).
  std::size_t potentials = 0;
  for (node_id v = 0; v < n; ++v) {
    bool unit = active.is_active_unit(net, v);
    if (!unit) {
      if (b.parent_edge[v] != npos || b.child_edge[v] != npos)
        return fail(fmt::format("'{}' is not an active unit but has basis edges", net.node_at(v).id));
      continue;
    }
    ++potentials;
    if (net.is_path_source(v) || net.is_path_sink(v))
      return fail(fmt::format("unit '{}' is a path end; its potential is not in the kernel", net.node_at(v).id));
    edge_id p = b.parent_edge[v], ch = b.child_edge[v];
    if (p == npos || p >= m || net.edge_at(p).to != v || !active.is_active_edge(p))
      return fail(fmt::format("p('{}') is not an active incoming edge", net.node_at(v).id));
    if (ch == npos || ch >= m || net.edge_at(ch).from != v || !active.is_active_edge(ch))
      return fail(fmt::format("c('{}') is not an active outgoing edge", net.node_at(v).id));
    if (net.topo_rank(net.edge_at(p).from) >= net.topo_rank(v))
      return fail(fmt::format("p('{}') does not come from an earlier node", net.node_at(v).id));
    if (is_free[p] != 0) return fail(fmt::format("p('{}') is listed as a free edge", net.node_at(v).id));
  }
  std::size_t inactive = 0;
  for (edge_id e = 0; e < m; ++e) {
    if (active.is_active_edge(e)) {
      if (b.index_of[e] == npos || b.index_of[e] >= b.free_edges.size())
        return fail(fmt::format("{} has no basis path", net.describe_edge(e)));
      continue;
    }
    // A unit vector on an inactive edge is in the kernel: no path uses the edge.
    const edge& ed = net.edge_at(e);
    if (active.reached[ed.from] != 0 && active.coreached[ed.to] != 0)
      return fail(fmt::format("{} is marked inactive but lies on a path", net.describe_edge(e)));
    ++inactive;
  }
  // Basis: B(f) = prefix(tail f) + f + suffix(head f) is a path whose only free edges are f and
  // edges of suffix(head f), which lie strictly later in topological order. Ordered by the
  // topological rank of their tails, the basis-by-free-edge matrix is unit upper triangular.
  // prefix_ok / suffix_ok prove that prefixes reach a source through non-free edges and suffixes
  // reach a sink, for all nodes at once.
  const auto& order = net.topological_order();
  std::vector<std::uint8_t> prefix_ok(n, 0), suffix_ok(n, 0);
  for (node_id v : order) {
    if (net.is_path_source(v)) prefix_ok[v] = 1;
    else if (edge_id p = b.parent_edge[v]; p != npos) prefix_ok[v] = prefix_ok[net.edge_at(p).from];
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    node_id v = *it;
    if (net.is_path_sink(v)) suffix_ok[v] = 1;
    else if (edge_id ch = b.child_edge[v]; ch != npos) suffix_ok[v] = suffix_ok[net.edge_at(ch).to];
  }
  for (std::size_t i = 0; i < b.free_edges.size(); ++i) {
    const edge& ed = net.edge_at(b.free_edges[i]);
    if (prefix_ok[ed.from] == 0 || suffix_ok[ed.to] == 0)
      return fail(fmt::format("basis path {} does not run from a source to a sink", i));
    if (i > 0 && b.free_edges[i] <= b.free_edges[i - 1]) return fail("free edges are not in increasing order");
  }
  c.basis_size = b.free_edges.size();
  c.kernel_size = potentials + inactive;
  if (c.basis_size + c.kernel_size != m)
    return fail(
        fmt::format("{} basis paths and {} kernel vectors do not add up to {} edges", c.basis_size, c.kernel_size, m));
  c.valid = true;
  c.rank = c.basis_size;
  return c;
}

}  // namespace scaleinv
