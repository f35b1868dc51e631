// scaleinv/io/results_json.hpp: results as JSON, the objects `scaleinv COMMAND --json` prints
// (keys in docs/formats.md), so that every front end (the CLI, the Python binding) returns the
// same keys. It sits above paths/ and balance/: it serializes their results.
#pragma once

#include <gmpxx.h>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

#include "scaleinv/balance/balance.hpp"
#include "scaleinv/balance/imbalance.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/express.hpp"
#include "scaleinv/paths/functional_dimension.hpp"
#include "scaleinv/paths/verify.hpp"

namespace scaleinv {

// The objects of analyze, basis, express, verify and fdim have their keys in alphabetical order
// (as they have always been printed); equivalent, balance and imbalance in the order listed.

/// `analyze --json`: the analysis r of net, named `name` (the NET argument), with "shared" when
/// r.shared, and "edge_paths" (decimal strings, edge order) when edge_paths is given
/// (edge_path_counts).
nlohmann::ordered_json analysis_json(const network& net, const analysis& r, std::string_view name,
                                     const std::vector<mpz_class>* edge_paths = nullptr);

/// The "shared" object of analysis_json: rank(A M) and the surviving rescalings, units by id.
nlohmann::ordered_json shared_analysis_json(const network& net, const shared_analysis& s);

/// `basis --json`: {"basis": [[edge, ...], ...], "dimension", "listed", "network", "owned"}, the
/// first `limit` basis paths (0: all). "dimension" is the number of basis paths, E_on - H_on; with
/// shared parameters also "shared_dimension", rank(A M) (analyze_shared): the network's dimension,
/// which analyze reports.
nlohmann::ordered_json basis_json(const network& net, const path_basis& basis, std::string_view name,
                                  std::size_t limit = 0);

/// `express --json`: {"coefficients": [{"basis", "exponent"}, ...], "network", "path"}, and when
/// x.checked "value", "reconstructed" (null when undefined) and, when defined, "values_agree".
/// Rationals are strings "p/q".
nlohmann::ordered_json expression_json(const path_expression& x, std::string_view name);

/// `verify --json`: paths (a decimal string), rank, dimension, agree, basis_size,
/// basis_independent, coordinates_ok, rank_method, prime, rank_seconds, seconds, network, and
/// shared_rank, shared_dimension when r.shared.
nlohmann::ordered_json verify_json(const verify_result& r, std::string_view name);

/// `equivalent --json`: network_a, network_b, equivalent, exact, tolerance, reason, failed_edge
/// (null for none), scales (hidden unit id -> scale: "p/q" strings when exact, numbers else; empty
/// unless equivalent), undetermined, undetermined_groups (unit ids). a is the first network.
nlohmann::ordered_json equivalence_json(const network& a, const equivalence_result& r, std::string_view name_a,
                                        std::string_view name_b);

/// `fdim --json`: the functional dimension r of net beside its path dimension, with the spectrum's
/// threshold, sigma_max, smallest_kept and largest_dropped (null when absent), and the dead and
/// linear units by id.
nlohmann::ordered_json functional_dimension_json(const network& net, const functional_dimension_result& r,
                                                 std::string_view name);

/// One balancing run (`balance --json`'s leading keys and each "compare" entry): order, converged,
/// iterations, cg_steps (newton) or unit_updates, sweeps_first (newton), cost_before, cost_after,
/// max_imbalance_before, max_imbalance_after, groups, live_groups, fast_path, and `seconds`.
nlohmann::ordered_json balance_report_json(const balance_report& r, balance_method method, double seconds);

/// `imbalance --json`: p, cost, max_relative and, with units, "units" (one object per unit group:
/// unit, members, depth, live, in, out, relative, log_ratio), else "layers" (depth, groups, live,
/// mean_in, mean_out, max_relative, mean_relative, mean_abs_log_ratio).
nlohmann::ordered_json imbalance_json(const imbalance_report& r, bool units);

}  // namespace scaleinv
