// path_gram.cpp: rank of the path-edge incidence matrix from its Gram matrix, built from path
// counts modulo a prime: the largest level of edges eliminated by its diagonal, the rest densely,
// the kernel vectors reconstructed and checked exactly along every path by dynamic programming.
#include "scaleinv/paths/path_gram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "scaleinv/error.hpp"
#include "scaleinv/exact/certified_rank.hpp"
#include "scaleinv/exact/modular_rank.hpp"

namespace scaleinv {
namespace {
using u64 = std::uint64_t;
__extension__ typedef __int128 i128;  // GCC/Clang extension: exact path sums
constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// Rates measured with the Release build on the development machine (docs/benchmarks.md, "issue
// 11: verify"), rounded down so that the estimates err long: multiply-adds per second of the
// dense elimination, and entries per second of the scans that build G.
constexpr double kEliminationRate = 1.0e9;
constexpr double kScanRate = 5.0e7;

// The columns of A that are not 0 (active edges), split into the diagonal level and the rest.
struct columns {
  std::vector<edge_id> diag, dense;
  std::vector<std::uint32_t> level;     // per edge: the longest-path depth of its tail
  std::vector<std::uint32_t> interior;  // per node: its index among scalable units, or kNone
  std::size_t interior_count = 0;
};

columns make_columns(const network& net, const active_subgraph& active) {
  columns c;
  std::vector<std::uint32_t> depth(net.num_nodes(), 0);
  for (node_id v : net.topological_order())
    for (edge_id e : net.in_edges(v)) depth[v] = std::max(depth[v], depth[net.edge_at(e).from] + 1);
  c.level.assign(net.num_edges(), 0);
  std::vector<std::size_t> per_level(net.num_nodes() + 1, 0);
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    c.level[e] = depth[net.edge_at(e).from];
    if (active.is_active_edge(e)) ++per_level[c.level[e]];
  }
  // The largest level; no path holds two edges of one level (a path's tails deepen strictly).
  const auto widest =
      static_cast<std::uint32_t>(std::max_element(per_level.begin(), per_level.end()) - per_level.begin());
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (!active.is_active_edge(e)) continue;
    (c.level[e] == widest ? c.diag : c.dense).push_back(e);
  }
  c.interior.assign(net.num_nodes(), kNone);
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (net.is_scalable(v)) c.interior[v] = static_cast<std::uint32_t>(c.interior_count++);
  return c;
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

// Path counts modulo p: from a source to each node, from each node to a sink, and between
// scalable units (interior nodes of a path), the latter as a dense table.
struct modular_counts {
  u64 p = 0;
  std::vector<u64> from_source, to_sink;
  std::vector<std::uint32_t> between;  // [interior b * count + interior c]: paths b -> c
  std::size_t count = 0;

  // G_ef modulo p for two active edges (the number of paths holding both).
  u64 gram(const network& net, const columns& c, edge_id e, edge_id f) const {
    if (c.level[e] > c.level[f]) std::swap(e, f);
    const edge& a = net.edge_at(e);
    const edge& b = net.edge_at(f);
    if (e == f) return from_source[a.from] * to_sink[a.to] % p;
    if (c.level[e] == c.level[f]) return 0;
    const std::uint32_t head = c.interior[a.to], tail = c.interior[b.from];
    if (head == kNone || tail == kNone) return 0;  // a path ends at a's head or starts at b's tail
    const u64 mid = between[static_cast<std::size_t>(head) * count + tail];
    if (mid == 0) return 0;
    return from_source[a.from] * mid % p * to_sink[b.to] % p;
  }
};

modular_counts count_modulo(const network& net, const columns& c, u64 p) {
  modular_counts m;
  m.p = p;
  m.count = c.interior_count;
  const auto& order = net.topological_order();
  m.from_source.assign(net.num_nodes(), 0);
  m.to_sink.assign(net.num_nodes(), 0);
  for (node_id v : order) {
    if (net.is_path_source(v)) {
      m.from_source[v] = 1;
      continue;
    }
    u64 s = 0;
    for (edge_id e : net.in_edges(v)) s += m.from_source[net.edge_at(e).from];  // < E p < 2^64
    m.from_source[v] = s % p;
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const node_id v = *it;
    if (net.is_path_sink(v)) {
      m.to_sink[v] = 1;
      continue;
    }
    u64 s = 0;
    for (edge_id e : net.out_edges(v)) s += m.to_sink[net.edge_at(e).to];
    m.to_sink[v] = s % p;
  }
  m.between.assign(m.count * m.count, 0);
  for (node_id b : order) {
    if (c.interior[b] == kNone) continue;
    std::uint32_t* row = m.between.data() + static_cast<std::size_t>(c.interior[b]) * m.count;
    row[c.interior[b]] = 1;
    for (std::size_t k = net.topo_rank(b) + 1; k < order.size(); ++k) {
      const node_id v = order[k];
      if (c.interior[v] == kNone) continue;
      u64 s = 0;
      for (edge_id e : net.in_edges(v)) {
        const std::uint32_t t = c.interior[net.edge_at(e).from];
        if (t != kNone) s += row[t];
      }
      row[c.interior[v]] = static_cast<std::uint32_t>(s % p);
    }
  }
  return m;
}

// Every (dense index, G_ad) with G_ad nonzero modulo p, for the diagonal edge a.
void shared_with(const network& net, const columns& c, const modular_counts& m, edge_id a,
                 std::vector<std::pair<std::uint32_t, u64>>& out) {
  out.clear();
  for (std::size_t i = 0; i < c.dense.size(); ++i) {
    const u64 g = m.gram(net, c, a, c.dense[i]);
    if (g != 0) out.emplace_back(static_cast<std::uint32_t>(i), g);
  }
}

// One attempt with the prime p: false when p fails to certify (a path count or a minor that p
// divides, or a kernel vector that does not reconstruct or check).
bool attempt(const network& net, const active_subgraph& active, const columns& c, u64 p, path_gram_rank& out) {
  const modular_counts m = count_modulo(net, c, p);
  const std::size_t nd = c.dense.size(), na = c.diag.size();
  std::vector<u64> s(nd * nd, 0);  // the Schur complement, upper triangle
  for (std::size_t i = 0; i < nd; ++i)
    for (std::size_t j = i; j < nd; ++j) s[i * nd + j] = m.gram(net, c, c.dense[i], c.dense[j]);
  std::vector<u64> inv_diag(na);
  std::vector<std::pair<std::uint32_t, u64>> col;
  for (std::size_t t = 0; t < na; ++t) {
    const u64 d = m.gram(net, c, c.diag[t], c.diag[t]);
    if (d == 0) return false;  // p divides the number of paths through the edge
    inv_diag[t] = inverse_mod(d, p);
    shared_with(net, c, m, c.diag[t], col);
    for (std::size_t x = 0; x < col.size(); ++x) {
      const u64 h = col[x].second * inv_diag[t] % p;
      u64* row = s.data() + static_cast<std::size_t>(col[x].first) * nd;
      for (std::size_t y = x; y < col.size(); ++y) {
        u64& cell = row[col[y].first];
        cell = (cell + p - h * col[y].second % p) % p;
      }
    }
  }
  std::vector<std::uint32_t> pivots;
  const std::size_t rank_s = symmetric_rank_mod(s, nd, p, pivots);
  std::vector<std::uint8_t> is_pivot(nd, 0);
  for (auto v : pivots) is_pivot[v] = 1;
  std::vector<std::vector<u64>> kernel;  // over the dense edges, then completed on the diagonal ones
  for (std::size_t j = 0; j < nd; ++j)
    if (is_pivot[j] == 0) kernel.push_back(modular_kernel_vector(s, nd, p, pivots, j));
  s = {};
  // x_diag = -D^-1 G_(diag, dense) x_dense, one pass over the diagonal edges for all vectors.
  std::vector<std::vector<u64>> on_diag(kernel.size(), std::vector<u64>(na, 0));
  for (std::size_t t = 0; t < na && !kernel.empty(); ++t) {
    shared_with(net, c, m, c.diag[t], col);
    for (std::size_t v = 0; v < kernel.size(); ++v) {
      u64 acc = 0;
      for (const auto& [i, g] : col) acc = (acc + g * kernel[v][i]) % p;
      on_diag[v][t] = (p - acc * inv_diag[t] % p) % p;
    }
  }
  std::vector<u64> full(na + nd);
  std::vector<std::int64_t> integer, k(net.num_edges(), 0);
  for (std::size_t v = 0; v < kernel.size(); ++v) {
    std::copy(on_diag[v].begin(), on_diag[v].end(), full.begin());
    std::copy(kernel[v].begin(), kernel[v].end(), full.begin() + static_cast<std::ptrdiff_t>(na));
    if (!reconstruct_integer_vector(full, p, integer)) return false;
    for (std::size_t t = 0; t < na; ++t) k[c.diag[t]] = integer[t];
    for (std::size_t i = 0; i < nd; ++i) k[c.dense[i]] = integer[na + i];
    if (!annihilates_every_path(net, active, k)) return false;
  }
  out.rank = na + rank_s;
  out.kernel_vectors = kernel.size();
  out.prime = p;
  out.certified = true;
  return true;
}
}  // namespace

bool annihilates_every_path(const network& net, const active_subgraph& active, const std::vector<std::int64_t>& k) {
  std::vector<i128> sum(net.num_nodes(), 0);
  std::vector<std::uint8_t> seen(net.num_nodes(), 0);
  for (node_id v : net.topological_order()) {
    if (!net.is_path_source(v) && seen[v] == 0) continue;  // no active edge arrives: v starts nothing
    const i128 start = net.is_path_source(v) ? 0 : sum[v];
    for (edge_id e : net.out_edges(v)) {
      if (!active.is_active_edge(e)) continue;
      const node_id w = net.edge_at(e).to;
      const i128 s = start + k[e];
      if (net.is_path_sink(w)) {  // the path ends here (a non-homogeneous unit starts new ones at 0)
        if (s != 0) return false;
        continue;
      }
      if (seen[w] != 0 && sum[w] != s) return false;
      seen[w] = 1;
      sum[w] = s;
    }
  }
  return true;
}

path_gram_plan plan_path_gram(const network& net, const active_subgraph& active) {
  const columns c = make_columns(net, active);
  path_gram_plan plan;
  plan.diagonal = c.diag.size();
  plan.dense = c.dense.size();
  plan.columns = plan.diagonal + plan.dense;
  plan.interior = c.interior_count;
  plan.kernel = std::min(active.active_hidden, plan.dense);
  const double nd = static_cast<double>(plan.dense), na = static_cast<double>(plan.diagonal);
  const double ni = static_cast<double>(plan.interior), kd = static_cast<double>(plan.kernel);
  const double rank = nd - kd;
  // Elimination (n^3 / 6), back substitution (rank * n per kernel vector), the scans that build G
  // (the dense triangle, and the diagonal level against the dense edges twice), the table of path
  // counts between units (one pass over the edges per unit).
  plan.seconds = (nd * nd * nd / 6 + kd * rank * nd) / kEliminationRate +
                 (nd * nd / 2 + 2 * na * nd + ni * static_cast<double>(net.num_edges())) / kScanRate;
  plan.bytes = 8 * nd * nd + 4 * ni * ni + 8 * kd * (na + 2 * nd) + 16 * static_cast<double>(net.num_edges());
  return plan;
}

path_gram_rank rank_by_path_gram(const network& net, const active_subgraph& active, double max_seconds) {
  const columns c = make_columns(net, active);
  const path_gram_plan plan = plan_path_gram(net, active);
  // The Schur update costs sum over diagonal edges of (dense edges sharing a path with it)^2 / 2,
  // which the plan cannot see: counted here (modulo the first prime: a count of nonzeros, so a
  // rare zero mod p only lowers it) before any of it is done.
  {
    const modular_counts m = count_modulo(net, c, certified_rank_primes()[0]);
    std::vector<std::pair<std::uint32_t, u64>> col;
    double pairs = 0;
    for (edge_id a : c.diag) {
      shared_with(net, c, m, a, col);
      pairs += 0.5 * static_cast<double>(col.size()) * static_cast<double>(col.size() + 1);
    }
    const double seconds = plan.seconds + pairs / kScanRate;
    if (seconds > max_seconds)
      throw too_costly(
          fmt::format("the exact rank would take about {:.0f} s and {:.0f} MiB: the Schur complement of {} "
                      "diagonal edges touches {:.3g} pairs of the other {}; the limit is {:g} s",
                      seconds, mib(plan.bytes), plan.diagonal, pairs, plan.dense, max_seconds),
          seconds, plan.bytes);
  }
  path_gram_rank out;
  for (u64 p : certified_rank_primes()) {
    ++out.primes_tried;
    if (attempt(net, active, c, p, out)) return out;
  }
  return out;
}

}  // namespace scaleinv
