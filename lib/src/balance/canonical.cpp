// canonical.cpp: the canonical form of a rescaling orbit: balanced for p = 2, then the rule for
// units that are not live (scaleinv/balance/balance.hpp, canonicalize).
#include "detail.hpp"
#include "scaleinv/error.hpp"

namespace scaleinv {

using detail::apply_scales;
using detail::balance_with;
using detail::check_options;
using detail::check_ties;
using detail::log_least_squares_scales;

balance_report canonicalize(network& net, double tolerance) {
  balance_options o;
  o.p = 2;
  o.tolerance = tolerance;
  o.method = balance_method::newton;
  o.max_iterations = 200;
  if (!net.has_weights() && net.num_edges() > 0) throw invalid_network("canonical: the network has no weights");
  check_options(o);
  const balance_structure s = make_balance_structure(net, 1.0);
  check_ties(net, s);
  std::vector<double> w = net.weights();
  balance_report rep = balance_with(net, s, w, o);
  if (!rep.converged) {  // Newton stalls only at rounding level; polish with sweeps
    o.method = balance_method::alternating;
    o.max_iterations = 100000;
    balance_report more = balance_with(net, s, w, o);
    for (std::size_t v = 0; v < rep.scale.size(); ++v) rep.scale[v] *= more.scale[v];
    rep.iterations += more.iterations;
    rep.unit_steps += more.unit_steps;
    rep.cost_after = more.cost_after;
    rep.max_imbalance_after = more.max_imbalance_after;
    rep.converged = more.converged;
  }
  // Non-live groups: least squares on log |w| with live groups and fixed nodes held.
  std::vector<double> scale = log_least_squares_scales(net, s, w, /*live_only=*/false);
  apply_scales(net, w, scale);
  for (std::size_t v = 0; v < scale.size(); ++v) rep.scale[v] *= scale[v];
  net.set_weights(w);
  return rep;
}

}  // namespace scaleinv
