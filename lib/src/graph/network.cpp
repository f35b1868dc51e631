// network.cpp: building, validating and indexing a network DAG (a cycle is located with Boost.Graph).
#include "scaleinv/graph/network.hpp"

#include <fmt/format.h>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/iterator/transform_iterator.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "scaleinv/error.hpp"
#include "scaleinv/exact/rational.hpp"

namespace scaleinv {

std::string_view to_string(node_kind kind) {
  switch (kind) {
    case node_kind::input:
      return "input";
    case node_kind::bias:
      return "bias";
    case node_kind::hidden:
      return "hidden";
    case node_kind::output:
      return "output";
  }
  return "?";
}

namespace {
std::string fmt_double(double w) { return fmt::format("{}", w); }

using csr_graph = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, boost::no_property,
                                                     boost::no_property, std::uint32_t, std::uint32_t>;
using csr_vertex = boost::graph_traits<csr_graph>::vertex_descriptor;

struct edge_pair {
  std::pair<std::uint32_t, std::uint32_t> operator()(const edge& e) const { return {e.from, e.to}; }
};

// Found by the DFS below: the back edge (from, to) closes a cycle.
struct back_edge_found {
  csr_vertex from, to;
};

struct cycle_finder : boost::default_dfs_visitor {
  std::vector<csr_vertex>* parent;
  void tree_edge(boost::graph_traits<csr_graph>::edge_descriptor e, const csr_graph& g) const {
    (*parent)[boost::target(e, g)] = boost::source(e, g);
  }
  void back_edge(boost::graph_traits<csr_graph>::edge_descriptor e, const csr_graph& g) const {
    throw back_edge_found{boost::source(e, g), boost::target(e, g)};
  }
};
}  // namespace

void network::require_mutable(const char* what) const {
  if (finalized_) throw invalid_argument(std::string("network::") + what + " after finalize()");
}

node_id network::add_node(std::string id, node_kind kind, activation act) {
  require_mutable("add_node");
  if (id.empty()) throw invalid_network("node " + std::to_string(nodes_.size()) + " has an empty id");
  if (nodes_.size() >= npos - 1) throw invalid_network("too many nodes (at most 2^32 - 2)");
  auto [it, inserted] = index_.emplace(id, static_cast<node_id>(nodes_.size()));
  if (!inserted) throw invalid_network("duplicate node id '" + id + "'");
  nodes_.push_back({std::move(id), kind, std::move(act)});
  return it->second;
}

void network::refuse_edge(node_id from, node_id to) const {
  require_mutable("add_edge");
  if (from >= nodes_.size() || to >= nodes_.size()) {
    throw invalid_network("edge " + std::to_string(edges_.size()) + " names a node index that does not exist");
  }
  throw invalid_network("too many edges (at most 2^32 - 2)");
}

void network::reserve(std::size_t nodes, std::size_t edges) {
  nodes_.reserve(nodes);
  index_.reserve(nodes);
  edges_.reserve(edges);
}

void network::set_weight(edge_id e, double w) {
  if (!std::isfinite(w)) throw invalid_network(describe_edge(e) + " has a non-finite weight");
  if (is_constant(e)) {  // its weight is the constant, written by finalize()
    check_constant_weight(e, w == constant_value(e).get_d(), fmt_double(w));
    return;
  }
  if (weights_.size() < edges_.size()) weights_.resize(edges_.size(), 0.0);
  if (!finalized_) {
    if (weighted_.size() < edges_.size()) weighted_.resize(edges_.size(), 0);
    weighted_[e] = 1;
  }
  weights_[e] = w;
  if (!exact_.empty()) {
    if (exact_.size() < edges_.size()) exact_.resize(edges_.size());
    exact_[e] = mpq_class(w);
  }
}

void network::set_exact_weight(edge_id e, const mpq_class& w) {
  if (is_constant(e)) {
    check_constant_weight(e, w == constant_value(e), to_string(w));
    return;
  }
  double d = w.get_d();
  if (!is_exact_double(w) && exact_.empty()) {
    exact_.resize(edges_.size());
    for (std::size_t i = 0; i < weights_.size(); ++i) exact_[i] = mpq_class(weights_[i]);
  }
  set_weight(e, d);
  if (!exact_.empty()) exact_[e] = w;
}

void network::set_param(edge_id e, std::string_view param) {
  auto [it, inserted] = param_index_.emplace(std::string(param), static_cast<std::uint32_t>(param_names_.size()));
  if (inserted) param_names_.emplace_back(param);
  if (param_of_.size() < edges_.size()) param_of_.resize(edges_.size(), npos);
  param_of_[e] = it->second;
}

void network::set_constant(edge_id e, const mpq_class& value) {
  require_mutable("set_constant");
  if (e >= edges_.size()) throw invalid_argument("network::set_constant: no edge " + std::to_string(e));
  mpq_class v = value;
  v.canonicalize();
  if (e < weighted_.size() && weighted_[e] != 0) {
    const bool same = exact_.empty() ? mpq_class(weights_[e]) == v : exact_[e] == v;
    if (!same)
      throw invalid_network(describe_edge(e) + " is constant with weight " + to_string(v) + " but was given weight " +
                            (exact_.empty() ? fmt_double(weights_[e]) : to_string(exact_[e])));
    weighted_[e] = 0;  // a constant's weight does not count for "every edge or none"
  }
  if (const_of_.size() < edges_.size()) const_of_.resize(edges_.size(), npos);
  if (const_of_[e] != npos) {
    constants_[const_of_[e]] = v;
    return;
  }
  const_of_[e] = static_cast<std::uint32_t>(constants_.size());
  constants_.push_back(v);
}

void network::set_constant(edge_id e, double value) {
  if (!std::isfinite(value)) throw invalid_network(describe_edge(e) + " has a non-finite constant weight");
  set_constant(e, mpq_class(value));
}

void network::check_constant_weight(edge_id e, bool equal, const std::string& given) const {
  if (!equal)
    throw invalid_network(describe_edge(e) + " is constant with weight " + to_string(constant_value(e)) +
                          ", which no weight setting changes, but was given weight " + given);
}

void network::check_constants(const std::vector<double>& w) const {
  for (edge_id e = 0; e < const_of_.size(); ++e)
    if (const_of_[e] != npos) check_constant_weight(e, w[e] == constant_value(e).get_d(), fmt_double(w[e]));
}

void network::check_constants(const std::vector<mpq_class>& w) const {
  for (edge_id e = 0; e < const_of_.size(); ++e)
    if (const_of_[e] != npos) check_constant_weight(e, w[e] == constant_value(e), to_string(w[e]));
}

void network::put_constants(std::vector<double>& w) const {
  for (edge_id e = 0; e < const_of_.size(); ++e)
    if (const_of_[e] != npos) w[e] = constant_value(e).get_d();
}

void network::put_constants(std::vector<mpq_class>& w) const {
  for (edge_id e = 0; e < const_of_.size(); ++e)
    if (const_of_[e] != npos) w[e] = constant_value(e);
}

void network::restore_exact_constants() {
  if (constants_.empty() || weights_.empty()) return;
  const bool needed =
      std::any_of(constants_.begin(), constants_.end(), [](const mpq_class& c) { return !is_exact_double(c); });
  if (exact_.empty() && !needed) return;
  if (exact_.empty()) {
    exact_.reserve(weights_.size());
    for (double w : weights_) exact_.emplace_back(w);
  }
  put_constants(exact_);
}

void network::fill_constant_weights() {
  if (constants_.empty() || edges_.empty()) return;
  if (weights_.empty()) {
    if (constants_.size() != edges_.size()) return;  // some edge is a parameter without a weight
    weights_.assign(edges_.size(), 0.0);
  }
  put_constants(weights_);
  restore_exact_constants();
}

void network::set_activation(node_id v, activation act) { nodes_[v].act = std::move(act); }

std::optional<node_id> network::find_node(std::string_view id) const {
  auto it = index_.find(std::string(id));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::size_t network::count(node_kind kind) const {
  return static_cast<std::size_t>(
      std::count_if(nodes_.begin(), nodes_.end(), [kind](const node& n) { return n.kind == kind; }));
}

mpq_class network::exact_weight(edge_id e) const { return exact_.empty() ? mpq_class(weights_[e]) : exact_[e]; }

std::vector<mpq_class> network::exact_weights() const {
  if (!exact_.empty()) return exact_;
  std::vector<mpq_class> out;
  out.reserve(weights_.size());
  for (double w : weights_) out.emplace_back(w);
  return out;
}

void network::check_ties() const {
  if (param_of_.empty() || weights_.empty()) return;
  // One parameter, one value: every edge of a parameter carries its first edge's weight.
  std::vector<edge_id> first(param_names_.size(), npos);
  for (edge_id e = 0; e < edges_.size(); ++e) {
    std::uint32_t k = param_of_[e];
    if (k == npos) continue;
    if (first[k] == npos) first[k] = e;
    else if (exact_.empty() ? weights_[e] != weights_[first[k]] : exact_[e] != exact_[first[k]])
      throw invalid_network(describe_edge(e) + " and " + describe_edge(first[k]) + " share parameter '" +
                            param_names_[k] + "' but have different weights");
  }
}

void network::set_weights(std::vector<double> w) {
  if (w.size() != edges_.size()) throw invalid_argument("set_weights: expected one weight per edge");
  for (std::size_t e = 0; e < w.size(); ++e)
    if (!std::isfinite(w[e]))
      throw invalid_network(describe_edge(static_cast<edge_id>(e)) + " has a non-finite weight");
  check_constants(w);
  if (finalized_ && !param_of_.empty()) {
    std::vector<double> old = std::move(weights_);
    std::vector<mpq_class> old_exact = std::move(exact_);
    weights_ = std::move(w);
    exact_.clear();
    try {
      check_ties();
    } catch (...) {
      weights_ = std::move(old);
      exact_ = std::move(old_exact);
      throw;
    }
    restore_exact_constants();
    return;
  }
  weights_ = std::move(w);
  exact_.clear();
  restore_exact_constants();
}

void network::set_exact_weights(const std::vector<mpq_class>& w) {
  if (w.size() != edges_.size()) throw invalid_argument("set_exact_weights: expected one weight per edge");
  check_constants(w);
  weights_.resize(w.size());
  bool all_double = true;
  for (std::size_t e = 0; e < w.size(); ++e) {
    weights_[e] = w[e].get_d();
    all_double = all_double && is_exact_double(w[e]);
  }
  if (all_double) exact_.clear();
  else exact_ = w;
  if (finalized_) check_ties();
}

void network::clear_weights() {
  weights_.clear();
  exact_.clear();
  weighted_.clear();
  if (finalized_) fill_constant_weights();
}

std::size_t network::num_parameters() const {
  if (param_of_.empty() && constants_.empty()) return edges_.size();
  std::size_t own = 0;
  for (edge_id e = 0; e < edges_.size(); ++e) own += param(e) == npos && !is_constant(e) ? 1 : 0;
  return own + param_names_.size();
}

std::string network::describe_edge(edge_id e) const {
  if (e >= edges_.size()) return "edge " + std::to_string(e);
  return "edge " + std::to_string(e) + " (" + nodes_[edges_[e].from].id + " -> " + nodes_[edges_[e].to].id + ")";
}

void network::finalize() {
  if (finalized_) return;
  const std::size_t n = nodes_.size(), m = edges_.size();
  for (node_id v = 0; v < n; ++v) {
    const node& nd = nodes_[v];
    if (nd.kind != node_kind::hidden && !(nd.act == activation{})) {
      throw invalid_network(std::string(to_string(nd.kind)) + " node '" + nd.id +
                            "' has an activation; only hidden nodes do");
    }
  }
  for (edge_id e = 0; e < m; ++e) {
    const edge& ed = edges_[e];
    node_kind to = nodes_[ed.to].kind;
    if (to == node_kind::input || to == node_kind::bias) {
      throw invalid_network(describe_edge(e) + " enters " + std::string(to_string(to)) + " node '" + nodes_[ed.to].id +
                            "'; inputs and bias nodes have no incoming edges");
    }
    if (nodes_[ed.from].kind == node_kind::output) {
      throw invalid_network(describe_edge(e) + " leaves output node '" + nodes_[ed.from].id +
                            "'; outputs have no outgoing edges");
    }
  }
  if (!const_of_.empty()) const_of_.resize(m, npos);
  if (!param_of_.empty()) param_of_.resize(m, npos);
  for (edge_id e = 0; e < m && has_constants() && has_params(); ++e)
    if (is_constant(e) && param_of_[e] != npos)
      throw invalid_network(describe_edge(e) + " is constant and has shared parameter '" + param_names_[param_of_[e]] +
                            "': a constant edge is not a parameter");
  if (weighted_.empty() && !weights_.empty()) {  // set_weights() before finalize(): every edge has one
    weights_.resize(m, 0.0);
    if (!exact_.empty()) exact_.resize(m);
    if (exact_.empty()) check_constants(weights_);
    else check_constants(exact_);
  } else if (!weighted_.empty()) {
    // Constant edges take their constant; the others have a weight each, or none has.
    weighted_.resize(m, 0);
    edge_id with = npos, without = npos;
    for (edge_id e = 0; e < m && (with == npos || without == npos); ++e) {
      if (is_constant(e)) continue;
      if (weighted_[e] != 0 && with == npos) with = e;
      if (weighted_[e] == 0 && without == npos) without = e;
    }
    if (with != npos && without != npos) {
      throw invalid_network(describe_edge(without) + " has no weight, but " + describe_edge(with) +
                            " has one: give every " + (has_constants() ? "edge that is not constant" : "edge") +
                            " a weight, or none");
    }
    if (with == npos) {
      weights_.clear();
      exact_.clear();
    } else {
      weights_.resize(m, 0.0);
      if (!exact_.empty()) exact_.resize(m);
    }
  }
  weighted_.clear();
  weighted_.shrink_to_fit();
  fill_constant_weights();
  check_ties();

  // Adjacency by counting sort; each list ends up in increasing edge id.
  in_start_.assign(n + 1, 0);
  out_start_.assign(n + 1, 0);
  for (const edge& ed : edges_) {
    ++in_start_[ed.to + 1];
    ++out_start_[ed.from + 1];
  }
  for (std::size_t v = 0; v < n; ++v) {
    in_start_[v + 1] += in_start_[v];
    out_start_[v + 1] += out_start_[v];
  }
  in_list_.resize(m);
  out_list_.resize(m);
  {
    std::vector<std::uint32_t> in_fill(in_start_.begin(), in_start_.end() - 1);
    std::vector<std::uint32_t> out_fill(out_start_.begin(), out_start_.end() - 1);
    for (edge_id e = 0; e < m; ++e) {
      in_list_[in_fill[edges_[e].to]++] = e;
      out_list_[out_fill[edges_[e].from]++] = e;
    }
  }

  if (!build_topological_order()) throw_cycle();
  finalized_ = true;
}

bool network::build_topological_order() {
  // Boost.Graph's topological_sort on the CSR graph of edges_ (out-edges in increasing edge id, as
  // out_list_) is the reverse finishing order of a depth-first search that starts from each
  // undiscovered node in increasing id and follows out-edges in order. This is that search,
  // iterative, on out_list_ directly: the same order (tests/graph/network_test.cpp compares them)
  // without copying ten million edges into a Boost graph first.
  const std::size_t n = nodes_.size();
  enum : std::uint8_t { white, gray, black };
  std::vector<std::uint8_t> color(n, white);
  std::vector<std::pair<node_id, std::uint32_t>> stack;  // node, next position in out_list_
  topo_.resize(n);
  std::size_t done = n;  // topo_ fills from the back: the last node to finish comes first
  for (node_id root = 0; root < n; ++root) {
    if (color[root] != white) continue;
    color[root] = gray;
    stack.emplace_back(root, out_start_[root]);
    while (!stack.empty()) {
      const node_id v = stack.back().first;
      const std::uint32_t i = stack.back().second;
      if (i == out_start_[v + 1]) {
        color[v] = black;
        topo_[--done] = v;
        stack.pop_back();
        continue;
      }
      stack.back().second = i + 1;
      const node_id w = edges_[out_list_[i]].to;
      if (color[w] == gray) return false;  // a back edge: w is on the stack
      if (color[w] == white) {
        color[w] = gray;
        stack.emplace_back(w, out_start_[w]);
      }
    }
  }
  topo_rank_.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) topo_rank_[topo_[i]] = i;
  return true;
}

void network::throw_cycle() const {
  // The error path keeps Boost.Graph: its depth-first search on the same graph finds the same
  // first back edge, and the tree edges lead back along the cycle.
  const std::size_t n = nodes_.size();
  csr_graph g(boost::edges_are_unsorted_multi_pass, boost::make_transform_iterator(edges_.begin(), edge_pair{}),
              boost::make_transform_iterator(edges_.end(), edge_pair{}), static_cast<std::uint32_t>(n));
  std::vector<csr_vertex> parent(n, static_cast<csr_vertex>(npos));
  try {
    boost::depth_first_search(g, boost::visitor(cycle_finder{{}, &parent}));
  } catch (const back_edge_found& found) {
    std::vector<std::string> cycle;
    for (csr_vertex v = found.from; v != found.to; v = parent[v]) cycle.push_back(nodes_[v].id);
    cycle.push_back(nodes_[found.to].id);
    std::reverse(cycle.begin(), cycle.end());
    cycle.push_back(nodes_[found.to].id);
    throw not_a_dag(std::move(cycle));
  }
  throw not_a_dag({"(cycle not located)"});
}

std::optional<std::string> structure_difference(const network& a, const network& b) {
  if (a.num_nodes() != b.num_nodes())
    return "it has " + std::to_string(a.num_nodes()) + " nodes, the other " + std::to_string(b.num_nodes());
  for (node_id v = 0; v < a.num_nodes(); ++v) {
    const node &x = a.node_at(v), &y = b.node_at(v);
    if (x.id != y.id || x.kind != y.kind || (x.kind == node_kind::hidden && !(x.act == y.act)))
      return "node " + std::to_string(v) + " is '" + x.id + "' (" + std::string(to_string(x.kind)) +
             (x.kind == node_kind::hidden ? ", " + x.act.name() : "") + "), in the other '" + y.id + "' (" +
             std::string(to_string(y.kind)) + (y.kind == node_kind::hidden ? ", " + y.act.name() : "") + ")";
  }
  if (a.num_edges() != b.num_edges())
    return "it has " + std::to_string(a.num_edges()) + " edges, the other " + std::to_string(b.num_edges());
  for (edge_id e = 0; e < a.num_edges(); ++e) {
    const edge &x = a.edge_at(e), &y = b.edge_at(e);
    const auto param_a = a.param(e) == npos ? std::string() : a.param_names()[a.param(e)];
    const auto param_b = b.param(e) == npos ? std::string() : b.param_names()[b.param(e)];
    if (x.from != y.from || x.to != y.to || param_a != param_b)
      return "it has " + a.describe_edge(e) + (param_a.empty() ? "" : " (parameter '" + param_a + "')") +
             ", the other " + b.describe_edge(e) + (param_b.empty() ? "" : " (parameter '" + param_b + "')");
    if (a.is_constant(e) != b.is_constant(e) || (a.is_constant(e) && a.constant_value(e) != b.constant_value(e))) {
      auto what = [e](const network& n) {
        return n.is_constant(e) ? " (constant, weight " + to_string(n.constant_value(e)) + ")" : " (not constant)";
      };
      return "it has " + a.describe_edge(e) + what(a) + ", the other " + b.describe_edge(e) + what(b);
    }
  }
  return std::nullopt;
}

}  // namespace scaleinv
