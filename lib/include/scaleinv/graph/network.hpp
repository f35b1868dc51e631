// scaleinv/graph/network.hpp: a network as a DAG of input, bias, hidden and output nodes.
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scaleinv/graph/activation.hpp"

namespace scaleinv {

using node_id = std::uint32_t;
using edge_id = std::uint32_t;
inline constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();

namespace detail {
/// std::allocator, except that resize(n) default-initializes new elements instead of
/// value-initializing them: for large buffers of integers that are written in full right after.
template <class T>
struct uninitialized_allocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = uninitialized_allocator<U>;
  };
  uninitialized_allocator() = default;
  template <class U>
  uninitialized_allocator(const uninitialized_allocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
}  // namespace detail

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

/// A network: nodes, edges (indexed 0.. in insertion order), optional weights, optional
/// shared-parameter ids and constant edges. Build it with add_node / add_edge / set_*, then call
/// finalize(), which validates it and builds the adjacency and a topological order. Weights are
/// all-or-nothing: either every edge that is not constant has one or none does. A weight is a
/// double, or an exact rational (whose double value is kept beside it). Every double is itself a
/// rational, so exact_weight() is defined for every weighted edge.
///
/// A *constant* edge (pooling, an identity shortcut, the routing of an addition) has a fixed
/// weight that is not a parameter (math.md section 9): it is part of the network (path values,
/// evaluation) but has no column in the parameter map M, is never trained, rescaled or balanced,
/// and a rescaling must give its head and tail one scale. When the network has weights, a constant
/// edge's weight is its constant; set_weights() refuses any other value. A network whose edges are
/// all constant has weights (the constants).
class network {
 public:
  /// @throws invalid_network when the id is empty or already used.
  node_id add_node(std::string id, node_kind kind, activation act = {});
  /// @pre from, to < num_nodes() (else @throws invalid_network). Validation of kinds happens in
  /// finalize().
  edge_id add_edge(node_id from, node_id to) {
    if (finalized_ || from >= nodes_.size() || to >= nodes_.size() || edges_.size() >= npos - 1) [[unlikely]]
      refuse_edge(from, to);
    edges_.push_back({from, to});
    return static_cast<edge_id>(edges_.size() - 1);
  }
  /// Room for this many nodes and edges in all, so that building does not reallocate.
  void reserve(std::size_t nodes, std::size_t edges);
  /// @throws invalid_network when w is not finite (the message names the edge).
  void set_weight(edge_id e, double w);
  void set_exact_weight(edge_id e, const mpq_class& w);
  /// Marks e as using the shared parameter named `param`.
  void set_param(edge_id e, std::string_view param);
  /// Marks e as a constant edge with the fixed weight `value` (default 1). @pre !is_finalized().
  /// @throws invalid_network when value is not finite (the double overload) or e already has a
  /// different weight; finalize() refuses a constant edge that also has a shared parameter.
  void set_constant(edge_id e, const mpq_class& value = mpq_class(1));
  void set_constant(edge_id e, double value);
  /// Changes a hidden node's activation. @pre finalize() may have run; structure is unchanged.
  void set_activation(node_id v, activation act);

  /// Validates and indexes the network. @throws not_a_dag naming a cycle; invalid_network for an
  /// edge into an input or bias node, an edge out of an output, an activation on a non-hidden
  /// node, weights given for some (non-constant) edges only, or a constant edge with a shared
  /// parameter.
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
  bool is_scalable(node_id v) const { return nodes_[v].kind == node_kind::hidden && nodes_[v].act.is_homogeneous(); }
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
  /// not finite, when a constant edge gets another value than its constant (as a double for
  /// set_weights, exactly for set_exact_weights; put_constants() writes them), or (finalized)
  /// when edges sharing a parameter get different weights; the weights are then unchanged.
  /// set_weights keeps the exact value of a constant that no double represents.
  void set_weights(std::vector<double> w);
  void set_exact_weights(const std::vector<mpq_class>& w);
  /// Removes the weights (a network whose edges are all constant keeps its constants as weights).
  void clear_weights();

  bool has_params() const noexcept { return !param_of_.empty(); }
  /// Index of e's shared parameter in param_names(), or npos when e has its own weight.
  std::uint32_t param(edge_id e) const { return param_of_.empty() ? npos : param_of_[e]; }
  const std::vector<std::string>& param_names() const noexcept { return param_names_; }
  /// Number of free parameters: distinct shared ids plus edges with no shared id that are not
  /// constant.
  std::size_t num_parameters() const;

  /// Some edge is constant.
  bool has_constants() const noexcept { return !constants_.empty(); }
  /// e has a fixed weight that is not a parameter.
  bool is_constant(edge_id e) const { return e < const_of_.size() && const_of_[e] != npos; }
  /// The fixed weight of a constant edge, exactly. @pre is_constant(e).
  const mpq_class& constant_value(edge_id e) const { return constants_[const_of_[e]]; }
  /// Number of constant edges.
  std::size_t num_constants() const noexcept { return constants_.size(); }
  /// The parameter map M is not the identity: some edges share a parameter or are constant.
  bool has_parameter_map() const noexcept { return has_params() || has_constants(); }
  /// Writes each constant edge's value into w (one entry per edge; as a double, or exactly).
  /// @pre w.size() == num_edges().
  void put_constants(std::vector<double>& w) const;
  void put_constants(std::vector<mpq_class>& w) const;

  /// "edge 3 (h0 -> y0)": how messages name an edge.
  std::string describe_edge(edge_id e) const;

 private:
  void require_mutable(const char* what) const;
  /// Throws what add_edge(from, to) is refused for.
  [[noreturn]] void refuse_edge(node_id from, node_id to) const;
  /// topo_ and topo_rank_, or false when the graph has a cycle. @pre the adjacency is built.
  bool build_topological_order();
  /// @throws not_a_dag naming a cycle (called when build_topological_order() found one).
  [[noreturn]] void throw_cycle() const;
  /// @throws invalid_network when two edges of one shared parameter have different weights.
  void check_ties() const;
  /// @throws invalid_network when a constant edge's weight in w is not its constant.
  void check_constants(const std::vector<double>& w) const;
  void check_constants(const std::vector<mpq_class>& w) const;
  /// exact_ for weights w whose constants may need more than a double: cleared when every
  /// constant is a double, else the rationals of w with the constants exact.
  void restore_exact_constants();
  /// Writes the constants into weights_ (allocating it when every edge is constant).
  void fill_constant_weights();
  void check_constant_weight(edge_id e, bool equal, const std::string& given) const;

  std::vector<node> nodes_;
  std::vector<edge> edges_;
  std::unordered_map<std::string, node_id> index_;
  std::vector<double> weights_;          // empty, or one per edge
  std::vector<std::uint8_t> weighted_;   // while building: which edges have a weight
  std::vector<mpq_class> exact_;         // empty, or one per edge when some weight is not a double
  std::vector<std::uint32_t> param_of_;  // empty, or one per edge
  std::vector<std::string> param_names_;
  std::unordered_map<std::string, std::uint32_t> param_index_;
  std::vector<std::uint32_t> const_of_;  // empty, or one per edge: index into constants_, or npos
  std::vector<mpq_class> constants_;     // the constant edges' values, in the order they were set

  bool finalized_ = false;
  std::vector<std::uint32_t> in_start_, out_start_;
  std::vector<edge_id, detail::uninitialized_allocator<edge_id>> in_list_, out_list_;
  std::vector<node_id> topo_;
  std::vector<std::uint32_t> topo_rank_;
};

/// The first structural difference between a and b (nodes: id, kind, activation; edges: ends,
/// shared parameter, constant and its value; other weights are not compared), as a phrase naming the node or edge, or
/// nullopt when they have the same structure.
std::optional<std::string> structure_difference(const network& a, const network& b);

}  // namespace scaleinv
