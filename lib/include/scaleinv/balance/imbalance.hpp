// scaleinv/balance/imbalance.hpp: how far a network is from balance, per unit group and per layer
// (the statistics `scaleinv imbalance` prints).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// One unit group (balance_structure::members): IN and OUT over live edges (group_imbalance).
/// IN, OUT and their means can leave the range of a double (weights of 1e300, p = 2): each comes
/// with its base-10 logarithm, which is always exact to rounding, and the double itself is then
/// infinite or 0 (see imbalance_report::wide). The relative imbalance and the log ratio are
/// scale-free and always right.
struct unit_imbalance {
  std::string unit;         ///< the id of the group's first member
  std::size_t members = 0;  ///< units in the group (more than 1 for tied units)
  std::uint32_t depth = 0;  ///< the depth of the first member: longest path from an input or bias
  bool live = false;
  double in = 0, out = 0;              ///< inf or 0 when beyond the range of a double (log10_in, log10_out hold them)
  double log10_in = 0, log10_out = 0;  ///< log10(IN), log10(OUT); -inf for a sum of 0
  double relative = 0;                 ///< |IN - OUT| / max(IN, OUT); 0 when not live
  double log_ratio = 0;                ///< log(OUT / IN); 0 when not live
};

/// One layer: the unit groups whose first member has this depth. Means are over its live groups
/// (0 when none is live).
struct layer_imbalance {
  std::uint32_t depth = 0;
  std::size_t groups = 0, live = 0;
  double mean_in = 0, mean_out = 0;              ///< inf or 0 when beyond the range of a double
  double log10_mean_in = 0, log10_mean_out = 0;  ///< their base-10 logarithms (-inf for 0)
  double max_relative = 0, mean_relative = 0;
  double mean_abs_log_ratio = 0;  ///< mean |log(OUT / IN)|
};

struct imbalance_report {
  double p = 2.0;           ///< the cost's exponent
  double cost = 0;          ///< balance_cost: sum of gamma_e |w_e|^p over the live edges; inf or 0 beyond a double
  double log10_cost = 0;    ///< log10 of the cost (-inf for 0), always exact to rounding
  double max_relative = 0;  ///< the largest relative imbalance of a live group
  /// Some term gamma_e |w_e|^p of a live edge lies outside e^(+-650) (about 1e+-282), or a sum
  /// overflows: every statistic was then computed from logarithms (sums as log-sum-exp), so none
  /// overflows or underflows; the doubles in, out, cost and the means are whatever a double holds
  /// of them (inf, 0), and the log10 fields are the numbers to read. Otherwise the sums are plain
  /// double sums (group_imbalance, balance_cost) and the log10 fields their logarithms.
  bool wide = false;
  std::vector<unit_imbalance> units;    ///< one per unit group, in group order
  std::vector<layer_imbalance> layers;  ///< one per depth that has a group, increasing
};

/// The imbalance of net's own weights for the cost sum gamma_e |w_e|^p (balance/balance.hpp; gamma
/// from depth_factor), right for any finite weights and p: see imbalance_report::wide.
/// @pre net.is_finalized().
/// @throws invalid_network when net has edges but no weights; invalid_argument for a bad depth
/// factor (make_balance_structure).
imbalance_report imbalance(const network& net, double p = 2.0, double depth_factor = 1.0);

}  // namespace scaleinv
