// active.cpp: forward/backward reachability over a topological order, and what it says.
#include "scaleinv/paths/active.hpp"

#include <fmt/format.h>

namespace scaleinv {

active_subgraph find_active(const network& net) {
  const auto& order = net.topological_order();
  active_subgraph a;
  a.reached.assign(net.num_nodes(), 0);
  a.coreached.assign(net.num_nodes(), 0);
  for (node_id v : order) {
    if (net.is_path_source(v)) {
      a.reached[v] = 1;
      continue;
    }
    for (edge_id e : net.in_edges(v)) {
      if (a.reached[net.edge_at(e).from] != 0) {
        a.reached[v] = 1;
        break;
      }
    }
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    node_id v = *it;
    if (net.is_path_sink(v)) {
      a.coreached[v] = 1;
      continue;
    }
    for (edge_id e : net.out_edges(v)) {
      if (a.coreached[net.edge_at(e).to] != 0) {
        a.coreached[v] = 1;
        break;
      }
    }
  }
  a.edge_on.assign(net.num_edges(), 0);
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge& ed = net.edge_at(e);
    a.edge_on[e] = static_cast<std::uint8_t>(a.reached[ed.from] != 0 && a.coreached[ed.to] != 0);
    a.active_edges += a.edge_on[e];
  }
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    if (!net.is_scalable(v)) continue;
    ++a.scalable_hidden;
    if (a.reached[v] != 0 && a.coreached[v] != 0) ++a.active_hidden;
  }
  return a;
}

std::vector<diagnostic> diagnose(const network& net, const active_subgraph& a) {
  std::vector<diagnostic> out;
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    const node& nd = net.node_at(v);
    if (nd.kind == node_kind::hidden && !nd.act.is_homogeneous()) {
      out.push_back({"warning", "nonhomogeneous_unit", nd.id,
                     fmt::format("hidden unit '{}' ({}) is not positively homogeneous: it has no rescaling "
                                 "symmetry, so paths end and start there (it counts as an output and an input)",
                                 nd.id, nd.act.name())});
    } else if (nd.kind == node_kind::hidden && (a.reached[v] == 0 || a.coreached[v] == 0)) {
      std::string why;
      if (a.reached[v] == 0) {
        why = net.in_edges(v).empty() ? "it has no incoming edges"
                                      : "its incoming edges all come from units no input reaches";
        why = "no path from an input reaches it: " + why;
      } else {
        why = net.out_edges(v).empty() ? "it has no outgoing edges"
                                       : "its outgoing edges all lead to units that reach no output";
        why = "it reaches no output: " + why;
      }
      out.push_back({"warning", "dead_unit", nd.id, fmt::format("hidden unit '{}' is dead: {}", nd.id, why)});
    } else if ((nd.kind == node_kind::input || nd.kind == node_kind::bias) && a.coreached[v] == 0) {
      out.push_back({"note", nd.kind == node_kind::input ? "unused_input" : "unused_bias", nd.id,
                     fmt::format("{} '{}' reaches no output{}", to_string(nd.kind), nd.id,
                                 net.out_edges(v).empty() ? " (it has no outgoing edges)" : "")});
    } else if (nd.kind == node_kind::output && a.reached[v] == 0) {
      out.push_back({"note", "unreached_output", nd.id,
                     fmt::format("output '{}' is reached by no path from an input{}", nd.id,
                                 net.in_edges(v).empty() ? " (it has no incoming edges)" : "")});
    }
  }
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (a.edge_on[e] != 0) continue;
    const edge& ed = net.edge_at(e);
    std::string why = a.reached[ed.from] == 0
                          ? fmt::format("no path from an input reaches its tail '{}'", net.node_at(ed.from).id)
                          : fmt::format("its head '{}' reaches no output", net.node_at(ed.to).id);
    out.push_back({"warning", "inactive_edge", fmt::format("edge {}", e),
                   fmt::format("{} is on no path: {}", net.describe_edge(e), why)});
  }
  if (net.has_params()) {
    std::size_t with_param = 0;
    for (edge_id e = 0; e < net.num_edges(); ++e) with_param += net.param(e) != npos ? 1 : 0;
    out.push_back({"note", "shared_parameters", "",
                   fmt::format("{} edges share {} named parameters ({} parameters in all); the dimension "
                               "reported is rank(A M) over the parameters",
                               with_param, net.param_names().size(), net.num_parameters())});
  }
  if (net.has_constants()) {
    out.push_back({"note", "constant_edges", "",
                   fmt::format("{} edge{} constant (fixed weights, not parameters: {} parameters in all); the "
                               "dimension reported is rank(A M) over the parameters, and a rescaling gives the ends of "
                               "a constant edge one scale",
                               net.num_constants(), net.num_constants() == 1 ? " is" : "s are", net.num_parameters())});
  }
  return out;
}

}  // namespace scaleinv
