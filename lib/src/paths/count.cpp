// count.cpp: exact path counting. Counts are kept in unsigned 64-bit words while they fit, and in
// GMP integers from the first overflow on, so small networks pay no allocation.
#include "scaleinv/paths/count.hpp"

#include <cstdint>

namespace scaleinv {
namespace {
// Sums of v's neighbours' counts, in 64 bits when possible.
template <class Neighbours, class Other>
void accumulate(const network& net, node_id v, Neighbours edges, Other other, std::vector<std::uint64_t>& small,
                std::vector<std::uint8_t>& big_flag, std::vector<mpz_class>& big) {
  std::uint64_t sum = 0;
  bool overflow = false;
  for (edge_id e : edges) {
    node_id u = other(net.edge_at(e));
    if (big_flag[u] != 0 || __builtin_add_overflow(sum, small[u], &sum)) {
      overflow = true;
      break;
    }
  }
  if (!overflow) {
    small[v] = sum;
    return;
  }
  mpz_class total = 0;
  for (edge_id e : edges) {
    node_id u = other(net.edge_at(e));
    if (big_flag[u] != 0) total += big[u];
    else mpz_add_ui(total.get_mpz_t(), total.get_mpz_t(), static_cast<unsigned long>(small[u]));
  }
  big_flag[v] = 1;
  big[v] = std::move(total);
}
}  // namespace

path_counts count_paths(const network& net) {
  static_assert(sizeof(unsigned long) == 8, "64-bit unsigned long assumed by mpz_add_ui");
  const std::size_t n = net.num_nodes();
  const auto& order = net.topological_order();
  std::vector<std::uint64_t> fwd(n, 0), bwd(n, 0);
  std::vector<std::uint8_t> fwd_big(n, 0), bwd_big(n, 0);
  path_counts out;
  out.from_source.assign(n, 0);
  out.to_sink.assign(n, 0);
  auto tail = [](const edge& e) { return e.from; };
  auto head = [](const edge& e) { return e.to; };
  for (node_id v : order) {
    if (net.is_path_source(v)) fwd[v] = 1;
    else accumulate(net, v, net.in_edges(v), tail, fwd, fwd_big, out.from_source);
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    node_id v = *it;
    if (net.is_path_sink(v)) bwd[v] = 1;
    else accumulate(net, v, net.out_edges(v), head, bwd, bwd_big, out.to_sink);
  }
  for (node_id v = 0; v < n; ++v) {
    if (fwd_big[v] == 0) out.from_source[v] = static_cast<unsigned long>(fwd[v]);
    if (bwd_big[v] == 0) out.to_sink[v] = static_cast<unsigned long>(bwd[v]);
  }
  // Paths end at sinks: the total is the sum, over sinks, of the prefixes arriving there.
  out.total = 0;
  for (node_id v = 0; v < n; ++v) {
    if (!net.is_path_sink(v)) continue;
    for (edge_id e : net.in_edges(v)) out.total += out.from_source[net.edge_at(e).from];
  }
  return out;
}

std::vector<mpz_class> edge_path_counts(const network& net, const path_counts& counts) {
  std::vector<mpz_class> out(net.num_edges());
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge& ed = net.edge_at(e);
    out[e] = counts.from_source[ed.from] * counts.to_sink[ed.to];
  }
  return out;
}

}  // namespace scaleinv
