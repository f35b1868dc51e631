// tests/constant_support.hpp: random networks with constant edges (math.md section 9) and shared
// parameters for the theorem tests, parameter weights that keep both, and the enumerated exact
// rank of A M that the structural answers are checked against.
#pragma once

#include <fmt/format.h>
#include <gmpxx.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support.hpp"

#include "scaleinv/paths/shared.hpp"

namespace scaleinv::test {

/// What with_constants() draws.
struct constant_case {
  double p_constant = 0.3;  ///< probability that an edge is constant
  double p_shared = 0.0;    ///< probability that another edge joins one of 1..3 shared parameters
  bool pooling = false;     ///< homogeneous hidden units become relu, leaky_relu, linear, max_pool or avg_pool
};

/// The values a random constant edge takes: max pooling and shortcuts (1), average pooling (1/2,
/// 1/3), and two that no pooling uses (-1, 2, 0 is left out: a zero constant is allowed but
/// makes every path through it zero).
inline mpq_class random_constant(splitmix64& rng) {
  static const long num[] = {1, 1, 1, -1, 2}, den[] = {1, 2, 3, 1, 1};
  const std::size_t i = rng.below(5);
  return make_rational(num[i], den[i]);
}

/// A copy of net (the same nodes and edges in the same order, no weights) with random constant
/// edges and shared parameters, drawn from seed.
inline network with_constants(const network& net, std::uint64_t seed, const constant_case& c) {
  splitmix64 rng(seed * 1000003 + 7);
  static const activation acts[] = {activation::relu(), activation::leaky_relu(mpq_class(1, 10)), activation::linear(),
                                    activation::max_pool(), activation::avg_pool()};
  network out;
  for (const auto& n : net.nodes()) {
    activation act = n.act;
    if (c.pooling && n.kind == node_kind::hidden && n.act.is_homogeneous()) act = acts[rng.below(5)];
    out.add_node(n.id, n.kind, act);
  }
  const std::size_t groups = 1 + rng.below(3);
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge_id f = out.add_edge(net.edge_at(e).from, net.edge_at(e).to);
    if (rng.uniform() < c.p_constant) out.set_constant(f, random_constant(rng));
    else if (rng.uniform() < c.p_shared) out.set_param(f, fmt::format("k{}", rng.below(groups)));
  }
  out.finalize();
  return out;
}

/// Random rational weights (random_rational) for the parameters: one value per shared parameter,
/// one per other edge, and the constants on constant edges.
inline std::vector<mpq_class> random_parameter_weights(const network& net, splitmix64& rng) {
  std::vector<mpq_class> per_param(net.param_names().size());
  for (auto& x : per_param) x = random_rational(rng);
  std::vector<mpq_class> w(net.num_edges());
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (net.is_constant(e)) w[e] = net.constant_value(e);
    else if (net.param(e) != npos) w[e] = per_param[net.param(e)];
    else w[e] = random_rational(rng);
  }
  return w;
}

/// The exact rank over Q of the enumerated A M: one row per path, one column per parameter
/// (parameter_columns), a constant edge contributing nothing (a zero row of M).
inline std::size_t enumerated_rank_am(const network& net, std::uint64_t max_paths = 200000) {
  const std::vector<std::uint32_t> col = parameter_columns(net);
  std::vector<std::vector<std::uint32_t>> rows;
  for (const auto& path : enumerate_paths(net, max_paths)) {
    std::vector<std::uint32_t> r;
    for (edge_id e : path)
      if (col[e] != npos) r.push_back(col[e]);
    rows.push_back(std::move(r));
  }
  return exact_rank(rows, static_cast<std::uint32_t>(net.num_parameters()));
}

}  // namespace scaleinv::test
