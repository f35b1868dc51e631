// lib/src/balance/detail.hpp: what the balance sources share (private to lib/src/balance): the
// live-edge problem, small numeric helpers, and the parts that balance_with puts together.
//
// Internally the unknowns are y_G = p log c_G per group (so a_G = exp(y_G) = c_G^p) and the cost is
// R(y) = sum over live edges of m_e exp(y_head - y_tail), m_e = gamma_e |w_e|^p, with y = 0 at
// fixed nodes. Its gradient is IN_G - OUT_G and its Hessian the weighted graph Laplacian
// sum_e r_e (chi_head - chi_tail)(chi_head - chi_tail)^T grounded at the fixed nodes, r_e the
// current edge terms. A closed-form step sets y_G += log(OUT_G / IN_G) / 2.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "scaleinv/balance/balance.hpp"
#include "scaleinv/graph/layout.hpp"

namespace scaleinv::detail {

/// group_of of a node whose scale is fixed.
constexpr std::uint32_t kFixed = npos;

/// @throws invalid_argument for p, a tolerance or a depth factor out of range (structure.cpp).
void check_options(const balance_options& o);

// |w|^p, with the common exponents 2 and 1 exact and fast.
inline double power(double w, double p) {
  const double a = std::abs(w);
  return p == 2.0 ? a * a : p == 1.0 ? a : std::pow(a, p);
}

// The live-edge problem of one weight setting: groups 0..ng-1, index ng = "fixed" (y = 0).
struct problem {
  std::size_t ng = 0;
  std::vector<std::uint8_t> live;                  // per group
  std::vector<std::uint32_t> tail, head;           // per live edge: group or ng
  std::vector<double> m;                           // per live edge
  std::vector<std::uint32_t> in_start, in_list;    // CSR by head group: live-edge indices
  std::vector<std::uint32_t> out_start, out_list;  // CSR by tail group
  std::vector<std::uint32_t> order;                // live groups in topological order
  double constant = 0;  // cost of live-ended edges no rescaling changes (fixed to fixed, inside a group)
};

/// The problem of weights w (problem.cpp; instantiated for double).
template <class Scalar>
problem make_problem(const network& net, const balance_structure& s, const std::vector<Scalar>& w, double p);

// |IN - OUT| / max(IN, OUT), NaN when either is not finite.
inline double relative(double in, double out) {
  if (!std::isfinite(in) || !std::isfinite(out)) return std::numeric_limits<double>::quiet_NaN();
  const double big = std::max(in, out);
  return big > 0 ? std::abs(in - out) / big : 0.0;
}

// max that keeps a NaN (std::max(worst, NaN) would drop it and report convergence).
inline void keep_max(double& worst, double r) {
  if (!(r <= worst)) worst = r;
}

// Stops a solver whose largest imbalance has not improved by 0.1% for `patience` iterations:
// the tolerance is below what rounding lets it reach.
struct stall_guard {
  std::size_t patience;
  double best = std::numeric_limits<double>::infinity();
  std::size_t since = 0;
  bool stalled(double worst) {
    if (worst < best * (1 - 1e-3)) {
      best = worst;
      since = 0;
      return false;
    }
    return ++since >= patience || std::isnan(worst);
  }
};

// Multiplies each w_e by scale[head] / scale[tail].
template <class Scalar>
void apply_scales(const network& net, std::vector<Scalar>& w, const std::vector<double>& scale) {
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge& ed = net.edge_at(e);
    const double f = scale[ed.to] / scale[ed.from];
    if (f != 1.0) w[e] = static_cast<Scalar>(static_cast<double>(w[e]) * f);
  }
}

// prescale.cpp: the weights' range, and the log-least-squares rescaling.
// Whether gamma_e |w_e|^p lies within e^(+-limit) on every nonzero edge. The solvers multiply
// these terms by scale factors of similar size, so the margin to the double range (e^709) must be
// wide: with limit 100, intermediate products stay far from overflow and underflow.
// Only edges that a rescaling changes and that enter the cost count (ends in different groups,
// both live or fixed); the quick pass over all such edges decides alone when it passes.
bool powers_in_range(const network& net, const balance_structure& s, const std::vector<double>& w, double p,
                     double limit = 100);
// The cost and the largest relative imbalance over live edges for weights whose |w|^p leaves the
// range of a double: each term from its logarithm, summed in long double (range about 1e+-4932).
void wide_stats(const network& net, const balance_structure& s, const std::vector<double>& w, double p, double& cost,
                double& worst);
// The log-least-squares rescaling: the log-scales x of the groups that move minimise
//   F(x) = sum over nonzero edges e with a moving end, ends in different groups, of
//          (log |w_e| + x_head - x_tail)^2,
// the others held at 0. Moving: every non-live group (live_only false: canonical()'s rule for dead
// units, live groups already balanced), or every live group (live_only true: the prescaling of
// balance_weights, where liveness is what the cost sees). The normal equations L x = -c (L a
// grounded graph Laplacian, singular only on components that touch no fixed end, where every
// solution gives the same weights) are solved by Jacobi-preconditioned conjugate gradients to a
// residual of 1e-13 relative. Returns one factor per node (1 for nodes that do not move).
std::vector<double> log_least_squares_scales(const network& net, const balance_structure& s,
                                             const std::vector<double>& w, bool live_only);

// structure.cpp.
// Sharing a parameter requires c(head) / c(tail) to be the same on all its edges. The tie groups
// (equal heads, equal tails) satisfy that; they are all the allowed rescalings when their number
// equals that of the rescalings analyze_shared finds. Otherwise the sharing allows rescalings
// that move tied units apart (a parameter shared across layers, a unit tied to an output), which
// balancing by groups would not see: refuse rather than return a network that is not the least-
// cost member of the orbit.
void check_ties(const network& net, const balance_structure& s);

// general_solver.cpp: the general path, any DAG and any tie structure.
/// Balances weights w (o.method, aiming at tol) with the general solver: fills rep's live_groups,
/// cost_before, max_imbalance_before, sweeps_first, iterations, unit_steps, converged, and the
/// scale of every live group's members.
void balance_general(const network& net, const balance_structure& s, const std::vector<double>& w,
                     const balance_options& o, double tol, balance_report& rep);
/// rep.cost_after and rep.max_imbalance_after of (rescaled) weights w, by the general solver.
void measure_general(const network& net, const balance_structure& s, const std::vector<double>& w, double p,
                     balance_report& rep);

// mlp_solver.cpp: the layered-MLP matrix path.
/// When the matrix path applies (o.fast, an order other than random, a plain layered MLP with
/// homogeneous hidden layers and no ties) and no unit has a zero side, balances weights w as
/// balance_general does, sets rep.fast_path and returns the layout; else returns nullopt (rep's
/// max_imbalance_before may then be set, and the general path decides).
std::optional<layer_layout> balance_mlp(const network& net, const balance_structure& s, const std::vector<double>& w,
                                        const balance_options& o, double tol, balance_report& rep);
/// rep.cost_after and rep.max_imbalance_after of (rescaled) weights w on the matrix path.
void measure_mlp(const layer_layout& lay, const balance_structure& s, const std::vector<double>& w, double p,
                 balance_report& rep);

// balance.cpp.
/// balance_weights on a structure already built (for o.depth_factor) and checked by check_ties, so
/// that canonicalize's two passes share one structure and one tie check. Instantiated for float
/// and double.
template <class Scalar>
balance_report balance_with(const network& net, const balance_structure& s, std::vector<Scalar>& w,
                            const balance_options& o);

}  // namespace scaleinv::detail
