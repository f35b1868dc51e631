// results_json.cpp: the JSON objects of analyze, basis, express, verify, equivalent, fdim,
// balance and imbalance.
#include "scaleinv/io/results_json.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "scaleinv/exact/rational.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/shared.hpp"

namespace scaleinv {
namespace {

// The alphabetical objects are built as nlohmann::json, whose objects are sorted maps (so nested
// objects, such as a rescaling's units by id, come out sorted too), then returned as ordered_json
// holding that same order.
using sorted_json = nlohmann::json;

sorted_json shared_sorted(const network& net, const shared_analysis& s) {
  sorted_json dirs = sorted_json::array();
  for (const auto& d : s.surviving) {
    sorted_json units = sorted_json::object();
    for (const auto& [v, k] : d) units[net.node_at(v).id] = k;
    dirs.push_back(units);
  }
  return {{"parameters", s.parameters},
          {"unused_parameters", s.unused_parameters},
          {"dimension", s.dimension},
          {"method", s.method},
          {"surviving_rescalings", s.surviving_checked ? nlohmann::json(s.surviving.size()) : nlohmann::json()},
          {"surviving_checked", s.surviving_checked},
          {"rescalings", s.surviving_checked ? dirs : nlohmann::json()}};  // unknown: null
}

sorted_json analysis_sorted(const analysis& r) {
  sorted_json diags = sorted_json::array();
  for (const auto& d : r.diagnostics)
    diags.push_back({{"severity", d.severity}, {"code", d.code}, {"subject", d.subject}, {"message", d.message}});
  return {{"inputs", r.inputs},
          {"bias", r.bias},
          {"hidden", r.hidden},
          {"outputs", r.outputs},
          {"edges", r.edges},
          {"parameters", r.parameters},
          {"constant_edges", r.constants},
          {"paths", r.paths.get_str()},
          {"active_edges", r.active_edges},
          {"active_hidden", r.active_hidden},
          {"nonhomogeneous_hidden", r.nonhomogeneous},
          {"dimension", r.dimension},
          {"unshared_dimension", r.unshared_dimension},
          {"formula", r.formula},
          {"theorem_holds", r.theorem_holds},
          {"reasons", r.reasons},
          {"certificate",
           {{"valid", r.cert.valid},
            {"basis_paths", r.cert.basis_size},
            {"kernel_vectors", r.cert.kernel_size},
            {"failure", r.cert.failure}}},
          {"diagnostics", diags}};
}

sorted_json optional_number(const std::optional<double>& x) { return x ? sorted_json(*x) : sorted_json(nullptr); }

sorted_json node_names(const network& net, const std::vector<node_id>& nodes) {
  sorted_json names = sorted_json::array();
  for (node_id v : nodes) names.push_back(net.node_at(v).id);
  return names;
}

}  // namespace

nlohmann::ordered_json analysis_json(const network& net, const analysis& r, std::string_view name,
                                     const std::vector<mpz_class>* edge_paths) {
  sorted_json j = analysis_sorted(r);
  j["network"] = name;
  if (r.shared) j["shared"] = shared_sorted(net, *r.shared);
  if (edge_paths) {
    sorted_json arr = sorted_json::array();
    for (const auto& c : *edge_paths) arr.push_back(c.get_str());
    j["edge_paths"] = arr;
  }
  return nlohmann::ordered_json(j);
}

nlohmann::ordered_json shared_analysis_json(const network& net, const shared_analysis& s) {
  return nlohmann::ordered_json(shared_sorted(net, s));
}

nlohmann::ordered_json basis_json(const network& net, const path_basis& basis, std::string_view name,
                                  std::size_t limit) {
  const std::size_t n = limit == 0 ? basis.size() : std::min(limit, basis.size());
  sorted_json paths = sorted_json::array(), owned = sorted_json::array();
  for (std::size_t i = 0; i < n; ++i) {
    paths.push_back(basis_path(net, basis, i));
    owned.push_back(basis.free_edges[i]);
  }
  sorted_json j = {{"network", name}, {"dimension", basis.size()},
                   {"listed", n},     {"basis", paths},
                   {"owned", owned},  {"skeleton", std::string(to_string(basis.skeleton))}};
  // The basis paths are those of the unshared path space; with shared parameters the network's
  // dimension is rank(A M), which the key names beside them.
  if (net.has_parameter_map()) j["shared_dimension"] = analyze_shared(net, find_active(net), basis).dimension;
  return nlohmann::ordered_json(j);
}

nlohmann::ordered_json expression_json(const path_expression& x, std::string_view name) {
  sorted_json j = {{"network", name},
                   {"path", x.path},
                   {"coefficients", sorted_json::array()},
                   {"skeleton", std::string(to_string(x.skeleton))}};
  for (const auto& c : x.coordinates) j["coefficients"].push_back({{"basis", c.basis}, {"exponent", c.exponent}});
  if (x.checked) {
    j["value"] = to_string(x.value);
    if (x.reconstructed) {
      j["reconstructed"] = to_string(*x.reconstructed);
      j["values_agree"] = *x.reconstructed == x.value;
    } else {
      j["reconstructed"] = nullptr;
    }
  }
  return nlohmann::ordered_json(j);
}

nlohmann::ordered_json verify_json(const verify_result& r, std::string_view name) {
  sorted_json j = {{"network", name},
                   {"paths", std::to_string(r.paths)},
                   {"rank", r.rank},
                   {"dimension", r.dimension},
                   {"agree", r.agree},
                   {"basis_size", r.basis_size},
                   {"basis_independent", r.basis_independent},
                   {"coordinates_ok", r.coordinates_exact},
                   {"rank_method", r.rank_method},
                   {"prime", r.prime},
                   {"rank_seconds", r.rank_seconds},
                   {"seconds", r.seconds}};
  if (r.shared) {
    j["shared_rank"] = r.shared_rank;
    j["shared_dimension"] = r.shared_dimension;
  }
  return nlohmann::ordered_json(j);
}

nlohmann::ordered_json equivalence_json(const network& a, const equivalence_result& r, std::string_view name_a,
                                        std::string_view name_b) {
  nlohmann::ordered_json j;
  j["network_a"] = name_a;
  j["network_b"] = name_b;
  j["equivalent"] = r.equivalent;
  j["exact"] = r.exact;
  j["tolerance"] = r.tolerance;
  j["reason"] = r.reason;
  j["failed_edge"] = r.failed_edge == npos ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.failed_edge);
  j["scales"] = nlohmann::ordered_json::object();
  if (r.equivalent) {
    for (node_id v = 0; v < a.num_nodes(); ++v) {
      if (a.node_at(v).kind != node_kind::hidden) continue;
      if (r.exact) j["scales"][a.node_at(v).id] = to_string(r.exact_scales[v]);
      else j["scales"][a.node_at(v).id] = r.scales[v];
    }
  }
  auto ids = [&](const std::vector<node_id>& vs) {
    auto list = nlohmann::ordered_json::array();
    for (node_id v : vs) list.push_back(a.node_at(v).id);
    return list;
  };
  j["undetermined"] = ids(r.undetermined);
  j["undetermined_groups"] = nlohmann::ordered_json::array();
  for (const auto& g : r.undetermined_groups) j["undetermined_groups"].push_back(ids(g));
  return j;
}

nlohmann::ordered_json functional_dimension_json(const network& net, const functional_dimension_result& r,
                                                 std::string_view name) {
  sorted_json j = {{"network", name},
                   {"functional_dimension", r.functional_dimension},
                   {"path_dimension", r.path_dimension},
                   {"parameters", r.parameters},
                   {"outputs", r.outputs},
                   {"inputs", r.inputs},
                   {"rows", r.rows},
                   {"seed", r.seed},
                   {"weights", r.drawn_weights ? "he_normal" : "network"},
                   {"threshold", r.spectrum.threshold},
                   {"sigma_max", r.spectrum.sigma_max},
                   {"smallest_kept", optional_number(r.spectrum.smallest_kept)},
                   {"largest_dropped", optional_number(r.spectrum.largest_dropped)},
                   {"dead_units", node_names(net, r.dead_units)},
                   {"linear_units", node_names(net, r.linear_units)}};
  return nlohmann::ordered_json(j);
}

nlohmann::ordered_json balance_report_json(const balance_report& r, balance_method method, double seconds) {
  nlohmann::ordered_json j;
  j["order"] = to_string(method);
  j["converged"] = r.converged;
  j["iterations"] = r.iterations;
  j[method == balance_method::newton ? "cg_steps" : "unit_updates"] = r.unit_steps;
  if (method == balance_method::newton) j["sweeps_first"] = r.sweeps_first;
  j["cost_before"] = r.cost_before;
  j["cost_after"] = r.cost_after;
  j["max_imbalance_before"] = r.max_imbalance_before;
  j["max_imbalance_after"] = r.max_imbalance_after;
  j["groups"] = r.groups;
  j["live_groups"] = r.live_groups;
  j["fast_path"] = r.fast_path;
  j["seconds"] = seconds;
  return j;
}

namespace {
// A statistic that a double holds (a normal double, or an exact 0) as a number, else null; its
// base-10 logarithm is printed beside it.
nlohmann::ordered_json held_or_null(double value, double log10_value) {
  if (std::isnormal(value) || (value == 0 && std::isinf(log10_value))) return value;
  return nullptr;
}
// A base-10 logarithm as a number; null for the logarithm of 0.
nlohmann::ordered_json log10_or_null(double log10_value) {
  if (std::isfinite(log10_value)) return log10_value;
  return nullptr;
}
}  // namespace

nlohmann::ordered_json imbalance_json(const imbalance_report& r, bool units) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  if (units) {
    for (const auto& u : r.units) {
      nlohmann::ordered_json j;
      j["unit"] = u.unit;
      j["members"] = u.members;
      j["depth"] = u.depth;
      j["live"] = u.live;
      j["in"] = held_or_null(u.in, u.log10_in);
      j["out"] = held_or_null(u.out, u.log10_out);
      j["log10_in"] = log10_or_null(u.log10_in);
      j["log10_out"] = log10_or_null(u.log10_out);
      j["relative"] = u.relative;
      j["log_ratio"] = u.log_ratio;
      rows.push_back(j);
    }
  } else {
    for (const auto& l : r.layers) {
      nlohmann::ordered_json j;
      j["depth"] = l.depth;
      j["groups"] = l.groups;
      j["live"] = l.live;
      j["mean_in"] = held_or_null(l.mean_in, l.log10_mean_in);
      j["mean_out"] = held_or_null(l.mean_out, l.log10_mean_out);
      j["log10_mean_in"] = log10_or_null(l.log10_mean_in);
      j["log10_mean_out"] = log10_or_null(l.log10_mean_out);
      j["max_relative"] = l.max_relative;
      j["mean_relative"] = l.mean_relative;
      j["mean_abs_log_ratio"] = l.mean_abs_log_ratio;
      rows.push_back(j);
    }
  }
  nlohmann::ordered_json j;
  j["p"] = r.p;
  j["cost"] = held_or_null(r.cost, r.log10_cost);
  j["log10_cost"] = log10_or_null(r.log10_cost);
  j["wide"] = r.wide;
  j["max_relative"] = r.max_relative;
  j[units ? "units" : "layers"] = rows;
  return j;
}

}  // namespace scaleinv
