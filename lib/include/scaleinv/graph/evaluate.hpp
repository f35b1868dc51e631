// scaleinv/graph/evaluate.hpp: the network function, path values and positive rescaling, for any
// number type: double for speed, mpq_class for identities that must hold exactly.
#pragma once

#include <gmpxx.h>

#include <cmath>
#include <span>
#include <type_traits>
#include <vector>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// sigma(x) for a hidden unit. With T = mpq_class the piecewise-linear kinds are exact.
/// @throws invalid_argument for tanh or sigmoid with an exact number type.
template <class T>
T apply_activation(const activation& act, const T& x) {
  switch (act.kind) {
    case activation_kind::tanh:
    case activation_kind::sigmoid:
      if constexpr (std::is_same_v<T, double>) {
        return act.kind == activation_kind::tanh ? std::tanh(x) : 1.0 / (1.0 + std::exp(-x));
      } else {
        throw invalid_argument(act.name() + " cannot be evaluated exactly");
      }
    default:
      if constexpr (std::is_same_v<T, double>) {
        return x < 0 ? act.neg.get_d() * x : act.pos.get_d() * x;
      } else {
        return x < 0 ? T(act.neg * x) : T(act.pos * x);
      }
  }
}

/// Evaluates the network on one input. inputs[i] feeds the i-th input node in node order; bias
/// nodes are 1; outputs come back in output node order.
/// @pre net.is_finalized(); weights.size() == net.num_edges().
/// @throws invalid_argument when the input count is wrong.
template <class T>
std::vector<T> evaluate(const network& net, std::span<const T> weights, std::span<const T> inputs) {
  if (weights.size() != net.num_edges()) throw invalid_argument("evaluate: one weight per edge expected");
  std::vector<T> value(net.num_nodes(), T(0));
  std::size_t next_input = 0;
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    if (net.node_at(v).kind == node_kind::input) {
      if (next_input == inputs.size()) throw invalid_argument("evaluate: too few inputs");
      value[v] = inputs[next_input++];
    } else if (net.node_at(v).kind == node_kind::bias) {
      value[v] = T(1);
    }
  }
  if (next_input != inputs.size()) throw invalid_argument("evaluate: too many inputs");
  std::vector<T> out;
  for (node_id v : net.topological_order()) {
    const node& nd = net.node_at(v);
    if (nd.kind == node_kind::input || nd.kind == node_kind::bias) continue;
    auto in = net.in_edges(v);
    if (nd.kind == node_kind::hidden && nd.act.kind == activation_kind::max_pool) {
      T best(0);  // a pooling unit with no inputs outputs 0
      for (std::size_t i = 0; i < in.size(); ++i) {
        T term = weights[in[i]] * value[net.edge_at(in[i]).from];
        if (i == 0 || term > best) best = term;
      }
      value[v] = best;
      continue;
    }
    T pre(0);
    for (edge_id e : in) pre += weights[e] * value[net.edge_at(e).from];
    if (nd.kind == node_kind::hidden && nd.act.kind == activation_kind::avg_pool) {
      value[v] = in.empty() ? T(0) : T(pre / T(static_cast<long>(in.size())));
      continue;
    }
    value[v] = nd.kind == node_kind::hidden ? apply_activation(nd.act, pre) : pre;
  }
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (net.node_at(v).kind == node_kind::output) out.push_back(value[v]);
  return out;
}

/// Positive rescaling (math.md section 1): unit v scaled by scale[v] > 0 multiplies its incoming
/// weights by scale[v] and its outgoing weights by 1 / scale[v]. Scales of nodes that are not
/// scalable hidden units are ignored (taken as 1). A constant edge must keep its weight, so its
/// ends need one scale (math.md section 9); its weight is copied unchanged.
/// @throws invalid_argument when a scalable unit's scale is not positive, or when the ends of a
/// constant edge have different scales (naming the edge).
template <class T>
std::vector<T> rescale(const network& net, std::span<const T> weights, std::span<const T> scale) {
  if (weights.size() != net.num_edges() || scale.size() != net.num_nodes())
    throw invalid_argument("rescale: one weight per edge and one scale per node expected");
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (net.is_scalable(v) && !(scale[v] > 0))
      throw invalid_argument("rescale: the scale of unit '" + net.node_at(v).id + "' is not positive");
  std::vector<T> out(weights.begin(), weights.end());
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge& ed = net.edge_at(e);
    if (net.is_constant(e)) {
      const T one(1);
      const T& head = net.is_scalable(ed.to) ? scale[ed.to] : one;
      const T& tail = net.is_scalable(ed.from) ? scale[ed.from] : one;
      if (head != tail)
        throw invalid_argument("rescale: " + net.describe_edge(e) + " is constant, so '" + net.node_at(ed.to).id +
                               "' and '" + net.node_at(ed.from).id +
                               "' need one scale (a unit joined to an input, bias or output by constant edges keeps "
                               "scale 1), but they were given different scales");
      continue;
    }
    if (net.is_scalable(ed.to)) out[e] *= scale[ed.to];
    if (net.is_scalable(ed.from)) out[e] /= scale[ed.from];
  }
  return out;
}

/// The product of the weights along a path.
template <class T>
T path_value(std::span<const T> weights, std::span<const edge_id> path) {
  T v(1);
  for (edge_id e : path) v *= weights[e];
  return v;
}

}  // namespace scaleinv
