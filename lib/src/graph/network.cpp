// network.cpp: building, validating and indexing a network DAG (topological order via Boost.Graph).
#include "scaleinv/graph/network.hpp"

#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>
#include <boost/iterator/transform_iterator.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "scaleinv/error.hpp"
#include "scaleinv/exact/rational.hpp"

namespace scaleinv {

std::string_view to_string(node_kind kind) {
  switch (kind) {
    case node_kind::input: return "input";
    case node_kind::bias: return "bias";
    case node_kind::hidden: return "hidden";
    case node_kind::output: return "output";
  }
  return "?";
}

namespace {
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

edge_id network::add_edge(node_id from, node_id to) {
  require_mutable("add_edge");
  if (from >= nodes_.size() || to >= nodes_.size()) {
    throw invalid_network("edge " + std::to_string(edges_.size()) + " names a node index that does not exist");
  }
  if (edges_.size() >= npos - 1) throw invalid_network("too many edges (at most 2^32 - 2)");
  edges_.push_back({from, to});
  return static_cast<edge_id>(edges_.size() - 1);
}

void network::set_weight(edge_id e, double w) {
  if (!std::isfinite(w)) throw invalid_network(describe_edge(e) + " has a non-finite weight");
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
      throw invalid_network(describe_edge(e) + " and " + describe_edge(first[k]) + " share parameter '" + param_names_[k] +
                            "' but have different weights");
  }
}

void network::set_weights(const std::vector<double>& w) {
  if (w.size() != edges_.size()) throw invalid_argument("set_weights: expected one weight per edge");
  for (std::size_t e = 0; e < w.size(); ++e)
    if (!std::isfinite(w[e])) throw invalid_network(describe_edge(static_cast<edge_id>(e)) + " has a non-finite weight");
  if (finalized_ && !param_of_.empty()) {
    std::vector<double> old = std::move(weights_);
    weights_ = w;
    exact_.clear();
    try {
      check_ties();
    } catch (...) {
      weights_ = std::move(old);
      throw;
    }
    return;
  }
  weights_ = w;
  exact_.clear();
}

void network::set_exact_weights(const std::vector<mpq_class>& w) {
  if (w.size() != edges_.size()) throw invalid_argument("set_exact_weights: expected one weight per edge");
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
}

std::size_t network::num_parameters() const {
  if (param_of_.empty()) return edges_.size();
  std::size_t own = static_cast<std::size_t>(std::count(param_of_.begin(), param_of_.end(), npos));
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
      throw invalid_network(describe_edge(e) + " enters " + std::string(to_string(to)) + " node '" +
                            nodes_[ed.to].id + "'; inputs and bias nodes have no incoming edges");
    }
    if (nodes_[ed.from].kind == node_kind::output) {
      throw invalid_network(describe_edge(e) + " leaves output node '" + nodes_[ed.from].id +
                            "'; outputs have no outgoing edges");
    }
  }
  if (!weights_.empty() || !weighted_.empty()) {
    weighted_.resize(m, 0);
    auto with = std::find(weighted_.begin(), weighted_.end(), 1);
    auto without = std::find(weighted_.begin(), weighted_.end(), 0);
    if (with != weighted_.end() && without != weighted_.end()) {
      throw invalid_network(describe_edge(static_cast<edge_id>(without - weighted_.begin())) +
                            " has no weight, but " +
                            describe_edge(static_cast<edge_id>(with - weighted_.begin())) +
                            " has one: give every edge a weight, or none");
    }
    weights_.resize(m, 0.0);
    if (!exact_.empty()) exact_.resize(m);
  }
  weighted_.clear();
  weighted_.shrink_to_fit();
  if (!param_of_.empty()) param_of_.resize(m, npos);
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

  // Topological order by Boost.Graph's DFS-based topological_sort (it throws on a cycle).
  csr_graph g(boost::edges_are_unsorted_multi_pass, boost::make_transform_iterator(edges_.begin(), edge_pair{}),
              boost::make_transform_iterator(edges_.end(), edge_pair{}), static_cast<std::uint32_t>(n));
  std::vector<csr_vertex> reversed;
  reversed.reserve(n);
  try {
    boost::topological_sort(g, std::back_inserter(reversed));
  } catch (const boost::not_a_dag&) {
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
  topo_.assign(reversed.rbegin(), reversed.rend());
  topo_rank_.assign(n, 0);
  for (std::uint32_t i = 0; i < n; ++i) topo_rank_[topo_[i]] = i;
  finalized_ = true;
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
      return "it has " + a.describe_edge(e) + (param_a.empty() ? "" : " (parameter '" + param_a + "')") + ", the other " +
             b.describe_edge(e) + (param_b.empty() ? "" : " (parameter '" + param_b + "')");
  }
  return std::nullopt;
}

}  // namespace scaleinv
