// lib/src/balance/balance.cpp: synaptic balance; the problem statement and the rules are in
// scaleinv/balance/balance.hpp, the internals in detail.hpp. Here: balancing one weight setting
// (prescaling when needed, the matrix or the general path, the checked rescaling) and its entry
// points.
#include "scaleinv/balance/balance.hpp"

#include <fmt/format.h>

#include <type_traits>

#include "detail.hpp"
#include "scaleinv/error.hpp"

namespace scaleinv {
namespace detail {

template <class Scalar>
balance_report balance_with(const network& net, const balance_structure& s, std::vector<Scalar>& w,
                            const balance_options& o) {
  balance_report rep;
  rep.groups = s.members.size();
  rep.scale.assign(net.num_nodes(), 1.0);
  // Internally aim below the tolerance, so that the value recomputed from the rescaled weights
  // (rounded once more) still meets it.
  const double tol = o.tolerance * 0.5;
  // |w|^p must be a normal double on every live edge. When it is not (|w| beyond about 1e+-154
  // for p = 2), first rescale by the log-least-squares rule, which brings magnitudes toward 1.
  // The solvers read double weights: w itself when Scalar is double (no copy), else a copy.
  std::vector<double> copy;
  const std::vector<double>* wdp = nullptr;
  if constexpr (std::is_same_v<Scalar, double>) {
    wdp = &w;
  } else {
    copy.assign(w.begin(), w.end());
    wdp = &copy;
  }
  std::vector<double> pre;
  if (!powers_in_range(net, s, *wdp, o.p)) {
    pre = log_least_squares_scales(net, s, *wdp, /*live_only=*/true);
    copy.assign(w.begin(), w.end());
    apply_scales(net, copy, pre);
    wdp = &copy;
    if (!powers_in_range(net, s, copy, o.p, 600))
      throw invalid_argument(fmt::format(
          "balance: the weights span too many orders of magnitude: |w|^{} leaves the range of a double on some edge "
          "even after rescaling toward 1 (try a smaller p)",
          o.p));
  }
  // The layered-MLP matrix path when it applies, else the general path.
  const std::optional<layer_layout> lay = balance_mlp(net, s, *wdp, o, tol, rep);
  if (!lay) balance_general(net, s, *wdp, o, tol, rep);
  if (!pre.empty()) {
    // The solvers saw the prescaled weights; report the input's own cost and imbalance.
    for (std::size_t v = 0; v < rep.scale.size(); ++v) rep.scale[v] *= pre[v];
    std::vector<double> original(w.begin(), w.end());
    wide_stats(net, s, original, o.p, rep.cost_before, rep.max_imbalance_before);
  }
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (!(rep.scale[v] > 0) || !std::isfinite(rep.scale[v]))
      throw invalid_argument(
          fmt::format("balance: the balancing scale of unit '{}' is not a finite positive number (the "
                      "weights span too many orders of magnitude for double precision)",
                      net.node_at(v).id));
  // Check that no balanced weight overflows before writing any (w stays untouched on failure).
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const double f = rep.scale[net.edge_at(e).to] / rep.scale[net.edge_at(e).from];
    if (!std::isfinite(static_cast<double>(static_cast<Scalar>(static_cast<double>(w[e]) * f))))
      throw invalid_argument(fmt::format("balance: the balanced weight of {} overflows {}", net.describe_edge(e),
                                         sizeof(Scalar) == 4 ? "a float" : "a double"));
  }
  apply_scales(net, w, rep.scale);
  // The "after" numbers come from the rescaled weights themselves.
  if constexpr (std::is_same_v<Scalar, double>) {
    wdp = &w;
  } else {
    copy.assign(w.begin(), w.end());
    wdp = &copy;
  }
  const std::vector<double>& wd = *wdp;
  if (rep.fast_path) measure_mlp(*lay, s, wd, o.p, rep);
  else measure_general(net, s, wd, o.p, rep);
  rep.converged = rep.max_imbalance_after <= o.tolerance;
  return rep;
}

template balance_report balance_with<float>(const network&, const balance_structure&, std::vector<float>&,
                                            const balance_options&);
template balance_report balance_with<double>(const network&, const balance_structure&, std::vector<double>&,
                                             const balance_options&);

}  // namespace detail

using detail::balance_with;
using detail::check_options;
using detail::check_ties;

template <class Scalar>
balance_report balance_weights(const network& net, std::vector<Scalar>& w, const balance_options& o) {
  check_options(o);
  if (w.size() != net.num_edges()) throw invalid_argument("balance: one weight per edge expected");
  const balance_structure s = make_balance_structure(net, o.depth_factor);
  check_ties(net, s);
  return balance_with(net, s, w, o);
}

template balance_report balance_weights<float>(const network&, std::vector<float>&, const balance_options&);
template balance_report balance_weights<double>(const network&, std::vector<double>&, const balance_options&);

template <class Scalar>
balance_report balance_training(const network& net, std::vector<Scalar>& w, std::vector<Scalar>& m,
                                const balance_options& o) {
  if (!m.empty() && m.size() != w.size())
    throw invalid_argument("balance: the optimizer buffer needs one entry per edge");
  balance_report rep = balance_weights(net, w, o);
  if (!m.empty())
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      const edge& ed = net.edge_at(e);
      const double f = rep.scale[ed.to] / rep.scale[ed.from];
      if (f != 1.0) m[e] = static_cast<Scalar>(static_cast<double>(m[e]) / f);
    }
  return rep;
}

template balance_report balance_training<float>(const network&, std::vector<float>&, std::vector<float>&,
                                                const balance_options&);
template balance_report balance_training<double>(const network&, std::vector<double>&, std::vector<double>&,
                                                 const balance_options&);

balance_report balance(network& net, const balance_options& o) {
  if (!net.has_weights() && net.num_edges() > 0) throw invalid_network("balance: the network has no weights");
  std::vector<double> w = net.weights();
  balance_report rep = balance_weights(net, w, o);
  net.set_weights(w);
  return rep;
}

}  // namespace scaleinv
