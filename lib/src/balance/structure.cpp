// structure.cpp: the balancing orders by name, the option checks, the tie groups (the tie classes
// of graph/equivalence.hpp, fixed classes set aside) with depths and cost factors, and the check that
// the tie groups are all the rescalings the sharing allows.
#include <fmt/format.h>


#include "detail.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/shared.hpp"

namespace scaleinv {

namespace detail {

void check_options(const balance_options& o) {
  if (!(o.p > 0) || !std::isfinite(o.p))
    throw invalid_argument(fmt::format("balance: p must be a positive number, not {}", o.p));
  if (!(o.tolerance >= 0 && o.tolerance < 1))
    throw invalid_argument(fmt::format("balance: the tolerance must be in [0, 1), not {}", o.tolerance));
  if (!(o.depth_factor >= 1) || !std::isfinite(o.depth_factor))
    throw invalid_argument(
        fmt::format("balance: the depth factor must be a finite number >= 1, not {}", o.depth_factor));
}

void check_ties(const network& net, const balance_structure& s) {
  if (!net.has_params()) return;  // complete by construction (check_tie_coverage), and no pass over the edges
  const tie_coverage c = check_tie_coverage(net, s);
  if (c.complete()) return;
  const char* what = net.has_constants() ? "shared parameters and constant edges" : "shared parameters";
  if (!c.verified)
    throw invalid_argument(fmt::format(
        "balance: the rescalings that this network's {} allow could not be verified exactly (the exact "
        "kernel needs entries beyond 64 bits), so tying units into {} groups cannot be checked against them",
        what, c.active_groups));
  throw invalid_argument(fmt::format(
      "balance: the {} of this network allow {} independent rescalings, but tying units into groups "
      "(equal scales for the heads of each parameter, and for its tails{}) gives {}: {}. Balancing is "
      "supported when the two agree, as for every conv: network (see docs/balance.md, Tied units)",
      what, c.surviving, net.has_constants() ? "; one scale for the ends of each constant edge" : "", c.active_groups,
      "some parameter is shared between edges whose ends need not share a scale (across layers, or with an input "
      "or output)"));
}

}  // namespace detail

tie_coverage check_tie_coverage(const network& net, const balance_structure& s) {
  tie_coverage c;
  const active_subgraph active = find_active(net);
  for (const auto& g : s.members) {
    bool any = false;
    for (node_id v : g) any = any || (active.reached[v] != 0 && active.coreached[v] != 0);
    c.active_groups += any ? 1 : 0;
  }
  if (!net.has_params()) {
    // Constant edges alone: the rescalings that keep every constant edge are exactly one scale per
    // class of nodes joined by constant edges (1 for a class with a fixed node), the tie groups.
    c.verified = true;
    c.surviving = c.active_groups;
    return c;
  }
  const path_basis basis = make_basis(net, active);
  const shared_analysis sh = analyze_shared(net, active, basis);
  c.verified = sh.surviving_checked;
  c.surviving = sh.surviving.size();
  return c;
}

using detail::kFixed;

std::string to_string(balance_method m) {
  switch (m) {
    case balance_method::forward:
      return "forward";
    case balance_method::backward:
      return "backward";
    case balance_method::alternating:
      return "alternating";
    case balance_method::random:
      return "random";
    case balance_method::newton:
      return "newton";
  }
  return "?";
}

balance_method parse_balance_method(const std::string& text) {
  for (auto m : {balance_method::forward, balance_method::backward, balance_method::alternating, balance_method::random,
                 balance_method::newton})
    if (text == to_string(m)) return m;
  throw invalid_argument(
      fmt::format("unknown balancing order '{}': use forward, backward, alternating, random or newton", text));
}

balance_structure make_balance_structure(const network& net, double depth_factor) {
  if (!(depth_factor >= 1) || !std::isfinite(depth_factor))
    throw invalid_argument(fmt::format("balance: the depth factor must be a finite number >= 1, not {}", depth_factor));
  const std::size_t n = net.num_nodes();
  balance_structure s;
  // The tie classes (graph/equivalence.hpp): a shared parameter's tails together and its heads
  // together; a constant edge keeps its weight, so its head and tail share one scale (math.md
  // section 9).
  s.root = tie_roots(net);
  std::vector<std::uint8_t> frozen(n, 0);
  for (node_id v = 0; v < n; ++v)
    if (!net.is_scalable(v)) frozen[s.root[v]] = 1;
  s.group_of.assign(n, kFixed);
  std::vector<std::uint32_t> root_group(n, kFixed);
  for (node_id v = 0; v < n; ++v) {
    const std::uint32_t r = s.root[v];
    if (frozen[r]) continue;
    if (root_group[r] == kFixed) {
      root_group[r] = static_cast<std::uint32_t>(s.members.size());
      s.members.emplace_back();
    }
    s.group_of[v] = root_group[r];
    s.members[root_group[r]].push_back(v);
    if (s.members[root_group[r]].size() > 1) s.tied = true;
  }
  s.depth.assign(n, 0);
  for (node_id v : net.topological_order())
    for (edge_id e : net.in_edges(v)) s.depth[v] = std::max(s.depth[v], s.depth[net.edge_at(e).from] + 1);
  s.gamma.assign(net.num_edges(), 1.0);
  if (depth_factor != 1.0)
    for (edge_id e = 0; e < net.num_edges(); ++e)
      s.gamma[e] = std::pow(depth_factor, static_cast<double>(s.depth[net.edge_at(e).to]));
  return s;
}

}  // namespace scaleinv
