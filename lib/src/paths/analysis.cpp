// analysis.cpp: counts, active subgraph, basis, certificate and the explanation of E - H.
#include "scaleinv/paths/analysis.hpp"

#include <fmt/format.h>

#include "scaleinv/paths/count.hpp"

namespace scaleinv {

analysis analyze(const network& net) {
  analysis r;
  r.inputs = net.count(node_kind::input);
  r.bias = net.count(node_kind::bias);
  r.hidden = net.count(node_kind::hidden);
  r.outputs = net.count(node_kind::output);
  r.edges = net.num_edges();
  r.parameters = net.num_parameters();
  r.paths = count_paths(net).total;
  active_subgraph active = find_active(net);
  r.nonhomogeneous = r.hidden - active.scalable_hidden;
  r.active_edges = active.active_edges;
  r.active_hidden = active.active_hidden;
  r.dimension = active.active_edges - active.active_hidden;
  r.unshared_dimension = r.dimension;
  r.formula = static_cast<std::int64_t>(r.edges) - static_cast<std::int64_t>(r.hidden);
  r.diagnostics = diagnose(net, active);
  path_basis basis = make_basis(net, active);
  r.cert = certify(net, active, basis);
  r.constants = net.num_constants();
  if (net.has_parameter_map()) {
    r.shared = analyze_shared(net, active, basis);
    r.dimension = r.shared->dimension;
  }
  r.theorem_holds = static_cast<std::int64_t>(r.dimension) == r.formula;
  if (!r.theorem_holds) {
    std::size_t dead_edges = r.edges - r.active_edges;
    std::size_t dead_units = active.scalable_hidden - active.active_hidden;
    if (dead_edges > 0)
      r.reasons.push_back(
          fmt::format("{} edge{} on no input-to-output path", dead_edges, dead_edges == 1 ? " is" : "s are"));
    if (dead_units > 0)
      r.reasons.push_back(fmt::format("{} hidden unit{} dead", dead_units, dead_units == 1 ? " is" : "s are"));
    if (r.shared) {
      const std::size_t survivors = r.shared->surviving.size();
      const std::string what =
          net.has_params() && r.constants > 0 ? fmt::format("weights are shared and {} edge{} constant", r.constants,
                                                            r.constants == 1 ? " is" : "s are")
          : net.has_params()                  ? std::string("weights are shared")
                             : fmt::format("{} edge{} constant", r.constants, r.constants == 1 ? " is" : "s are");
      r.reasons.push_back(fmt::format(
          "{} ({} parameters for {} edges): rank(A M) = {}, with {} "
          "rescaling{} surviving the {}{}",
          what, r.parameters, r.edges, r.dimension,
          r.shared->surviving_checked ? std::to_string(survivors) : "an unknown number of",
          r.shared->surviving_checked && survivors == 1 ? "" : "s",
          net.has_params() && r.constants > 0 ? "sharing and the constant edges"
          : net.has_params()                  ? "sharing"
                                              : "constant edges",
          r.shared->unused_parameters > 0 ? fmt::format(" and {} parameters on no path", r.shared->unused_parameters)
                                          : ""));
    }
    if (r.nonhomogeneous > 0)
      r.reasons.push_back(fmt::format("{} hidden unit{} not positively homogeneous (no rescaling)", r.nonhomogeneous,
                                      r.nonhomogeneous == 1 ? " is" : "s are"));
  }
  return r;
}

}  // namespace scaleinv
