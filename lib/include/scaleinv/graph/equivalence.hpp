// scaleinv/graph/equivalence.hpp: are two weight settings of one graph related by a positive rescaling?
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <string>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// How rescaling_equivalence() compares weights.
///
/// Exact mode compares exact rationals (network::exact_weight; a double weight is the rational it
/// denotes) and finds exact rational scales. Floating mode works with log |w| and accepts an edge
/// when |w_B - w_A c(head) / c(tail)| <= tolerance * max(|w_B|, |w_A c(head) / c(tail)|).
///
/// The mode is chosen thus: `exact` set: exact. Else `tolerance` > 0: floating with that
/// tolerance. Else (the default) exact when both networks have exact rational weights
/// (network::has_exact_weights(): some weight is a rational no double represents), floating with
/// tolerance 1e-9 otherwise: weights that were computed in floating point rarely satisfy the
/// equations exactly, weights that were given as rationals should.
struct equivalence_options {
  bool exact = false;      ///< force exact rational arithmetic
  double tolerance = 0.0;  ///< > 0: floating mode with this relative tolerance, < 1; 0: the default
};

/// The default floating-mode tolerance.
inline constexpr double default_equivalence_tolerance = 1e-9;

/// The answer of rescaling_equivalence(). When `equivalent`, B = A rescaled by the scales:
/// w_B(e) = w_A(e) * c(head of e) / c(tail of e) for every edge e (graph/evaluate.hpp's rescale()).
struct equivalence_result {
  bool equivalent = false;
  bool exact = false;      ///< which arithmetic decided (see equivalence_options)
  double tolerance = 0.0;  ///< the relative tolerance used; 0 in exact mode
  /// Empty when equivalent; else one sentence naming the edge: "edge 3 (h0 -> y0): weights have
  /// opposite signs (A: 2, B: -2); sign flips are not rescalings".
  std::string reason;
  edge_id failed_edge = npos;  ///< the edge `reason` names, or npos
  /// When equivalent: c per node, indexed by node_id; 1 for every node that is not a scalable
  /// hidden unit (inputs, bias nodes, outputs, non-homogeneous units). Empty when not equivalent.
  std::vector<double> scales;
  std::vector<mpq_class> exact_scales;  ///< the same, exactly; exact mode only (else empty)
  /// Scalable units whose scale the weights do not determine, in increasing node id: no path of
  /// nonzero edges links them to a node of fixed scale 1. Each group below shares one free
  /// factor: its first (smallest-id) unit was given c = 1 and the others are relative to it, so
  /// any positive multiple of the group's scales is an equally valid answer.
  std::vector<node_id> undetermined;
  std::vector<std::vector<node_id>> undetermined_groups;  ///< by first unit; each in increasing id
};

/// Decides whether b's weights are a positive rescaling of a's (math.md sections 1 and 9): whether
/// there are c_v > 0 for the scalable hidden units (network::is_scalable; c = 1 elsewhere) with
/// w_b(e) = w_a(e) * c(head) / c(tail) for every edge, and finds them.
///
/// What is decided: equivalence of two weight settings under the group (R_{>0})^H, nothing more.
/// A zero weight stays zero under every rescaling, so an edge that is zero in exactly one network
/// makes the answer "no"; an edge zero in both constrains nothing. Signs never change. The scales
/// are found by propagating from the fixed nodes through the nonzero edges, then every nonzero
/// edge is checked. What is not decided: equality of the network functions. Two networks can
/// compute the same function without being equivalent (a dead unit's weights, a path through a
/// zero weight, a unit whose in- and out-weights are both negated around a linear activation,
/// permuted units), so "no" does not mean the functions differ. Shared parameters (`param`) are
/// ignored: the check is on the per-edge weights. A constant edge (math.md section 9) must have
/// the same constant in both networks, and its ends one scale (whatever its value, 0 included).
///
/// @pre a and b are finalized.
/// @throws invalid_network when a and b are not the same graph (the message names the first
/// difference: a node index and id, or an edge index; an edge constant in one network only) or
/// when either has no weights (a network without edges counts as weighted);
/// invalid_argument for a tolerance that is not in [0, 1) or NaN.
equivalence_result rescaling_equivalence(const network& a, const network& b, const equivalence_options& options = {});

/// The classes of nodes joined by constant edges (math.md section 9: a rescaling gives the ends of
/// a constant edge one scale): per node, the smallest node id of its class, or npos when the class
/// holds a node of fixed scale (an input, bias node, output or non-homogeneous unit), whose
/// members all keep scale 1. Without constant edges every node is its own class (npos for the
/// nodes of fixed scale). Indexed by node_id.
std::vector<node_id> constant_classes(const network& net);

/// The tie classes of the rescalings that keep every constant edge and every shared parameter:
/// constant_classes' joins, and for each shared parameter all the tails of its edges in one class
/// and all the heads in one (so each of its edges is multiplied by the same ratio of scales). Per
/// node the least node id of its class, npos for the nodes of classes holding a node of fixed
/// scale. These scales are sufficient, not all that sharing allows (analyze_shared counts those).
std::vector<node_id> tie_classes(const network& net);
/// The same classes before the fixed ones are set aside: per node the least node id of its class,
/// for every node (balance's tie groups and EC-SGD's parameter quotient start from these).
std::vector<node_id> tie_roots(const network& net);

/// Random positive rational scales: p/q with p, q uniform in 1..9 (canonical) for each scalable
/// unit, 1 for every other node; drawn in node order from splitmix64(seed), two draws per
/// scalable unit, so a seed names the same scales everywhere. Indexed by node_id. With constant
/// edges or shared parameters each unit then takes its class's scale (tie_classes: the first
/// unit's draw, or 1), so the scales leave every constant edge unchanged and every shared
/// parameter shared.
std::vector<mpq_class> random_rational_scales(const network& net, std::uint64_t seed);

/// Random log-normal scales c = exp(spread * N(0, 1)) for each scalable unit (splitmix64(seed),
/// one normal() per scalable unit in node order), 1 for every other node, constant edges and
/// shared parameters respected as above. Indexed by node_id.
/// @throws invalid_argument when spread is negative or not finite.
std::vector<double> random_scales(const network& net, std::uint64_t seed, double spread = 1.0);

/// A copy of net with its weights rescaled by scale (graph/evaluate.hpp's rescale(): unit v's
/// incoming weights times scale[v], outgoing ones divided by it; entries of nodes that are not
/// scalable are ignored). Exact: the result's weights are exact rationals (the weights of a
/// double-weight network are the rationals they denote).
/// @pre net.is_finalized().
/// @throws invalid_network when net has edges but no weights; invalid_argument when scale.size() !=
/// net.num_nodes(), when a scalable unit's scale is not positive (naming the unit), when the ends
/// of a constant edge get different scales (naming the edge), or when net has shared parameters
/// whose edges the rescaling gives different weights (naming them).
network apply_rescaling(const network& net, const std::vector<mpq_class>& scale);

/// The same with double scales: exact when net has exact rational weights
/// (network::has_exact_weights(); each scale is then taken as the rational it denotes), double
/// arithmetic otherwise.
/// @pre net.is_finalized().
/// @throws as the exact overload, and invalid_argument for a scale that is not finite.
network apply_rescaling(const network& net, const std::vector<double>& scale);

}  // namespace scaleinv
