// scaleinv/balance/balance.hpp: synaptic balance (Baldi et al., 2024) and ENorm (Stock et al.,
// ICLR 2019) for any DAG and any p > 0: per-unit imbalance, the closed-form balancing of one unit,
// balancing to convergence (sweeps, random order, or Newton on the log-scales), tied units, and
// the canonical form of a rescaling orbit (math.md section 7).
//
// The problem. A positive rescaling gives each scalable hidden unit v a factor c_v (incoming
// weights times c_v, outgoing ones divided by it; bias edges are incoming edges, so biases are
// scaled too and the network function is unchanged). The cost is
//     R = sum over edges e of gamma_e |w_e|^p,   gamma_e = depth_factor^depth(head of e),
// where depth(v) is the length of the longest path from a source to v (1 for the first hidden
// layer of an MLP); depth_factor = 1 (the default) is Baldi et al.'s L_p cost, > 1 is ENorm's
// depth penalty (Stock et al., section 3.3: cost sum_k c^k ||W_k||^2). For unit v,
// IN(v) = sum over incoming edges of gamma_e |w_e|^p and OUT(v) the same over outgoing edges.
// Balancing v rescales it by c = (OUT / IN)^(1 / (2p)); afterwards IN = OUT = sqrt(IN OUT) and R
// has dropped by exactly (sqrt(IN) - sqrt(OUT))^2. In log-scale coordinates x = log c the cost is
// a sum of exponentials of linear forms, strictly convex on the units balancing moves (below), so
// balancing in any order converges to its unique minimiser: the balanced network.
//
// Tied units. Edges that share a parameter (`param`, a convolution kernel entry) must keep equal
// weights, so their heads must share one scale and so must their tails (the finest such
// partition: union-find over each parameter's heads and over its tails). A tie group is balanced
// as one unit, with IN and OUT summed over all edges entering and leaving the group; edges inside
// a group do not change. A group that contains a node of fixed scale (an input, bias, output or
// non-homogeneous unit) cannot be rescaled at all.
//
// Dead units: the rule. A group is *live* when a path of nonzero weights runs from a fixed node to
// one of its members and from one of its members to a fixed node (through other groups). Only
// *live edges* (nonzero, both ends fixed or in live groups, ends in different groups) enter R,
// IN and OUT; only live groups are moved. Every other unit outputs zero or feeds nothing that
// reaches a fixed node, so its weights do not affect the network function, and its scale does not
// affect R. Balancing leaves such units alone (their incident weights still follow the scales of
// their live neighbours). A unit with weights on one side only is never live, which is the case
// math.md section 7 names: its cost over the orbit has no minimiser. `canonical()` fixes the scale
// of non-live groups too (see there). On a network without zero weights every group is live.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

enum class balance_method {
  forward,      ///< sweeps in topological order of the groups (input to output)
  backward,     ///< sweeps in reverse topological order
  alternating,  ///< forward, backward, forward, ...
  random,       ///< each sweep a fresh random permutation of the groups
  newton,       ///< damped Newton on the log-scales (conjugate gradients, Armijo line search),
                ///< after alternating sweeps while some unit is more than 50% out of balance
};

/// "forward", "backward", "alternating", "random", "newton".
std::string to_string(balance_method m);
/// @throws invalid_argument naming the accepted values.
balance_method parse_balance_method(const std::string& text);

struct balance_options {
  double p = 2.0;  ///< the cost's exponent, > 0
  balance_method method = balance_method::newton;
  /// Stop when every live group has |IN - OUT| <= tolerance * max(IN, OUT).
  double tolerance = 1e-10;
  /// Sweeps (forward/backward/alternating/random; a sweep visits every live group once) or
  /// Newton iterations.
  std::size_t max_iterations = 10000;
  double depth_factor = 1.0;  ///< ENorm's c >= 1 (see the file comment)
  std::uint64_t seed = 1;     ///< the random order's permutations
  bool fast = true;           ///< use the layered-MLP matrix path when it applies
};

/// The rescaling structure of a network: tie groups and per-edge cost factors.
struct balance_structure {
  /// Per node: its tie group, or npos for a node of fixed scale.
  std::vector<std::uint32_t> group_of;
  std::vector<std::vector<node_id>> members;  ///< per group, increasing node id
  /// Per node: the least node id of its class (the union-find class before fixed classes are set
  /// aside, so fixed nodes have one too; EC-SGD's parameter quotient, train/ec_sgd.hpp).
  std::vector<node_id> root;
  std::vector<double> gamma;         ///< per edge: depth_factor^depth(head)
  std::vector<std::uint32_t> depth;  ///< per node: longest path length from a source
  bool tied = false;                 ///< some group has more than one member
};

/// @pre net.is_finalized(). @throws invalid_argument when depth_factor < 1 or not finite.
balance_structure make_balance_structure(const network& net, double depth_factor = 1.0);

/// Whether the tie groups of s are all the rescalings that net's sharing allows: analyze_shared's
/// surviving rescalings (exact) against the tie groups with a unit on some input-to-output path.
/// Balancing (balance/canonical) and EC-SGD's parameter quotient need the two counts to agree.
struct tie_coverage {
  bool verified = false;          ///< the exact kernel fit in 64 bits (else the counts are unknown)
  std::size_t surviving = 0;      ///< independent rescalings the sharing allows
  std::size_t active_groups = 0;  ///< tie groups with a live unit
  bool complete() const { return verified && surviving == active_groups; }
};

/// @pre net.is_finalized(), s = make_balance_structure(net, ...). For a network without shared
/// parameters the answer is complete without any analysis (constant edges alone allow exactly one
/// scale per tie group).
tie_coverage check_tie_coverage(const network& net, const balance_structure& s);

/// IN and OUT of one group (live edges only), and whether the group is live.
struct group_balance {
  std::uint32_t group = 0;
  bool live = false;
  double in = 0, out = 0;
  /// |IN - OUT| / max(IN, OUT); 0 for a group that is not live.
  double relative() const;
};

/// Per-group IN/OUT for weights w (one per edge) under p. @pre w.size() == net.num_edges().
std::vector<group_balance> group_imbalance(const network& net, const balance_structure& s, const std::vector<double>& w,
                                           double p);

/// The balancing cost R over the live edges. @pre as group_imbalance.
double balance_cost(const network& net, const balance_structure& s, const std::vector<double>& w, double p);

struct balance_report {
  double cost_before = 0, cost_after = 0;                    ///< R over live edges
  double max_imbalance_before = 0, max_imbalance_after = 0;  ///< largest relative imbalance
  std::size_t iterations = 0;                                ///< sweeps or Newton iterations
  std::size_t unit_steps = 0;  ///< closed-form group updates (sweeps), or conjugate-gradient steps (Newton)
  /// Newton only: the alternating sweeps run first while some unit's relative imbalance exceeded
  /// 0.5 (at most 50): far from balance they gain more per pass than Newton's damped steps.
  std::size_t sweeps_first = 0;
  bool converged = false;
  bool fast_path = false;  ///< the layered-MLP matrix path ran
  std::size_t groups = 0, live_groups = 0;
  /// Per node: the factor applied (1 for nodes of fixed scale and for groups left alone).
  std::vector<double> scale;
};

/// Balances weights w (one per edge, rescaled in place) to the tolerance. The network function
/// is unchanged to rounding. Every solver stops early when its largest imbalance has not improved
/// for a while (30 sweeps, 5 Newton iterations): the tolerance is then below rounding level, and
/// `converged` is false. When gamma_e |w_e|^p leaves e^(+-100) on a live edge, the weights are
/// first rescaled by the log-least-squares rule (see canonicalize), which brings magnitudes toward
/// 1; cost_before and max_imbalance_before still describe the input (summed in long double).
/// @pre w.size() == net.num_edges().
/// @throws invalid_argument for p <= 0, a tolerance not in [0, 1), a bad depth factor; for
/// shared parameters whose allowed rescalings are not the tie groups (a parameter shared across
/// layers, or between a unit and an input or output: the number of tie groups then differs from
/// the surviving rescalings of analyze_shared); when |w|^p stays beyond e^(+-600) after the
/// prescaling or a balanced weight overflows.
template <class Scalar>
balance_report balance_weights(const network& net, std::vector<Scalar>& w, const balance_options& o);

/// Balancing during training: balances w as balance_weights does and transforms an optimizer
/// buffer m (one entry per edge, or empty) the way a gradient transforms. When w_e is multiplied by
/// f_e = c(head) / c(tail), dL/dw_e is divided by f_e, so m_e is divided by f_e too; the buffer
/// then stays what it would be had the whole gradient history been taken at the balanced weights
/// (mu m' + g(w') = (mu m + g(w)) / f, edge by edge). ENorm's public code does the same.
template <class Scalar>
balance_report balance_training(const network& net, std::vector<Scalar>& w, std::vector<Scalar>& m,
                                const balance_options& o);

/// The same on a network's own weights. @throws invalid_network when net has edges but no weights.
balance_report balance(network& net, const balance_options& o);

/// The closed-form balancing factor of one group, (OUT / IN)^(1 / (2p)) over live edges, or 1
/// when the group is not live.
double balancing_factor(const network& net, const balance_structure& s, const std::vector<double>& w, double p,
                        std::uint32_t group);

/// The canonical form of net's rescaling orbit: balance for p = 2 (depth factor 1, Newton to
/// `tolerance`, then alternating sweeps), then fix each group that is not live by the rule below,
/// so that canonical(W) and canonical(rescale(W)) agree to rounding (about tolerance relative;
/// compare two canonical files with `scaleinv equivalent`, or write them rounded with digits).
/// Rule for non-live groups: their log-scales minimise the sum, over the nonzero edges incident to
/// them (the live groups' scales held fixed), of (log |w_e| + x_head - x_tail)^2, so that the
/// magnitudes of those weights have geometric mean 1 where nothing else fixes them. A group with no
/// nonzero incident edge keeps scale 1 (every scale gives it the same weights). Solved by
/// Gauss-Seidel to 1e-14. @returns the report of the balancing step.
balance_report canonicalize(network& net, double tolerance = 1e-13);

/// True when an exact balancing step is possible: p is a positive integer and OUT/IN (exact
/// rationals over live edges, depth factor 1) is the (2p)-th power of a rational. Then `factor`
/// receives it exactly.
bool exact_balancing_factor(const network& net, const balance_structure& s, std::uint32_t group, unsigned p,
                            mpq_class& factor);

}  // namespace scaleinv
