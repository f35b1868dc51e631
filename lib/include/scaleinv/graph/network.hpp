// scaleinv/graph/network.hpp: a network as a DAG of input, bias, hidden and output nodes.
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scaleinv/graph/activation.hpp"

namespace scaleinv {

using node_id = std::uint32_t;
using edge_id = std::uint32_t;
inline constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();

enum class node_kind : std::uint8_t { input, bias, hidden, output };

/// "input", "bias", "hidden", "output".
std::string_view to_string(node_kind kind);

struct node {
  std::string id;
  node_kind kind = node_kind::hidden;
  activation act;  ///< meaningful for hidden nodes only
};

struct edge {
  node_id from = 0;
  node_id to = 0;
};

/// A network: nodes, edges (indexed 0.. in insertion order), optional weights and optional
/// shared-parameter ids. Build it with add_node / add_edge / set_*, then call finalize(), which
/// validates it and builds the adjacency and a topological order. Weights are all-or-nothing:
/// either every edge has one or none does. A weight is a double, or an exact rational (whose
/// double value is kept beside it). Every double is itself a rational, so exact_weight() is
/// defined for every weighted edge.
class network {
 public:
  /// @throws invalid_network when the id is empty or already used.
  node_id add_node(std::string id, node_kind kind, activation act = {});
  /// @pre from, to < num_nodes(). Validation of kinds happens in finalize().
  edge_id add_edge(node_id from, node_id to);
  /// @throws invalid_network when w is not finite (the message names the edge).
  void set_weight(edge_id e, double w);
  void set_exact_weight(edge_id e, const mpq_class& w);
  /// Marks e as using the shared parameter named `param`.
  void set_param(edge_id e, std::string_view param);
  /// Changes a hidden node's activation. @pre finalize() may have run; structure is unchanged.
  void set_activation(node_id v, activation act);

  /// Validates and indexes the network. @throws not_a_dag naming a cycle; invalid_network for an
  /// edge into an input or bias node, an edge out of an output, an activation on a non-hidden
  /// node, or weights given for some edges only.
  void finalize();
  bool is_finalized() const noexcept { return finalized_; }

  std::size_t num_nodes() const noexcept { return nodes_.size(); }
  std::size_t num_edges() const noexcept { return edges_.size(); }
  const node& node_at(node_id v) const { return nodes_[v]; }
  const edge& edge_at(edge_id e) const { return edges_[e]; }
  const std::vector<node>& nodes() const noexcept { return nodes_; }
  const std::vector<edge>& edges() const noexcept { return edges_; }
  std::optional<node_id> find_node(std::string_view id) const;
  std::size_t count(node_kind kind) const;

  /// Incoming / outgoing edge ids of v, in increasing edge id. @pre is_finalized().
  std::span<const edge_id> in_edges(node_id v) const {
    return {in_list_.data() + in_start_[v], in_list_.data() + in_start_[v + 1]};
  }
  std::span<const edge_id> out_edges(node_id v) const {
    return {out_list_.data() + out_start_[v], out_list_.data() + out_start_[v + 1]};
  }
  /// Every node, each after all of its predecessors. @pre is_finalized().
  const std::vector<node_id>& topological_order() const noexcept { return topo_; }
  /// Position of v in topological_order(). @pre is_finalized().
  std::uint32_t topo_rank(node_id v) const { return topo_rank_[v]; }

  /// A hidden node whose activation is positively homogeneous: it has a rescaling symmetry.
  bool is_scalable(node_id v) const {
    return nodes_[v].kind == node_kind::hidden && nodes_[v].act.is_homogeneous();
  }
  /// Where paths start: inputs, bias nodes, and non-homogeneous hidden units (math.md section 1).
  bool is_path_source(node_id v) const {
    return nodes_[v].kind == node_kind::input || nodes_[v].kind == node_kind::bias ||
           (nodes_[v].kind == node_kind::hidden && !nodes_[v].act.is_homogeneous());
  }
  /// Where paths end: outputs and non-homogeneous hidden units.
  bool is_path_sink(node_id v) const {
    return nodes_[v].kind == node_kind::output ||
           (nodes_[v].kind == node_kind::hidden && !nodes_[v].act.is_homogeneous());
  }

  bool has_weights() const noexcept { return !weights_.empty(); }
  /// True when some weight was given as an exact rational that no double represents.
  bool has_exact_weights() const noexcept { return !exact_.empty(); }
  double weight(edge_id e) const { return weights_[e]; }
  /// The exact value of e's weight. @pre has_weights().
  mpq_class exact_weight(edge_id e) const;
  /// Every weight as a double / as an exact rational. @pre has_weights().
  const std::vector<double>& weights() const noexcept { return weights_; }
  std::vector<mpq_class> exact_weights() const;
  /// Replaces all weights. @pre w.size() == num_edges(). @throws invalid_network when a weight is
  /// not finite, or (finalized) when edges sharing a parameter get different weights; the weights
  /// are then unchanged (set_weights).
  void set_weights(const std::vector<double>& w);
  void set_exact_weights(const std::vector<mpq_class>& w);
  void clear_weights();

  bool has_params() const noexcept { return !param_of_.empty(); }
  /// Index of e's shared parameter in param_names(), or npos when e has its own weight.
  std::uint32_t param(edge_id e) const { return param_of_.empty() ? npos : param_of_[e]; }
  const std::vector<std::string>& param_names() const noexcept { return param_names_; }
  /// Number of free parameters: distinct shared ids plus edges with no shared id.
  std::size_t num_parameters() const;

  /// "edge 3 (h0 -> y0)": how messages name an edge.
  std::string describe_edge(edge_id e) const;

 private:
  void require_mutable(const char* what) const;
  /// @throws invalid_network when two edges of one shared parameter have different weights.
  void check_ties() const;

  std::vector<node> nodes_;
  std::vector<edge> edges_;
  std::unordered_map<std::string, node_id> index_;
  std::vector<double> weights_;  // empty, or one per edge
  std::vector<std::uint8_t> weighted_;  // while building: which edges have a weight
  std::vector<mpq_class> exact_;        // empty, or one per edge when some weight is not a double
  std::vector<std::uint32_t> param_of_;  // empty, or one per edge
  std::vector<std::string> param_names_;
  std::unordered_map<std::string, std::uint32_t> param_index_;

  bool finalized_ = false;
  std::vector<std::uint32_t> in_start_, out_start_;
  std::vector<edge_id> in_list_, out_list_;
  std::vector<node_id> topo_;
  std::vector<std::uint32_t> topo_rank_;
};

/// The first structural difference between a and b (nodes: id, kind, activation; edges: ends and
/// shared parameter; weights are not compared), as a phrase naming the node or edge, or nullopt
/// when they have the same structure.
std::optional<std::string> structure_difference(const network& a, const network& b);

}  // namespace scaleinv
