// tests/balance/constant_balance_test.cpp: balancing with constant edges (math.md sections 7 and
// 9): the ends of a constant edge are one tie group, so balancing keeps the function, never
// changes a constant, does not count constants in the cost, and reaches one canonical form from
// every rescaling that respects them; with shared parameters too (a small CNN: two convolutions,
// max pooling per channel, a dense output).
#include "catch_shim.hpp"

#include <fmt/format.h>

#include <cmath>
#include <span>

#include "constant_support.hpp"
#include "support.hpp"

#include "scaleinv/balance/balance.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/paths/shared.hpp"

using namespace scaleinv;

namespace {

// Largest output difference, relative to max(1, |output|), over a few random inputs.
double output_gap(const network& net, const std::vector<double>& a, const std::vector<double>& b, std::uint64_t seed) {
  splitmix64 rng(seed);
  double gap = 0;
  for (int t = 0; t < 5; ++t) {
    std::vector<double> x(net.count(node_kind::input));
    for (double& v : x) v = 2 * rng.uniform() - 1;
    auto ya = evaluate<double>(net, std::span<const double>(a), std::span<const double>(x));
    auto yb = evaluate<double>(net, std::span<const double>(b), std::span<const double>(x));
    for (std::size_t i = 0; i < ya.size(); ++i)
      gap = std::max(gap, std::abs(ya[i] - yb[i]) / std::max(1.0, std::abs(ya[i])));
  }
  return gap;
}

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]) / std::max(std::abs(a[i]), 1e-300));
  return d;
}

void require_constants_kept(const network& net, const std::vector<double>& w) {
  for (edge_id e = 0; e < net.num_edges(); ++e)
    if (net.is_constant(e)) REQUIRE(w[e] == net.constant_value(e).get_d());
}

// A random DAG with constant edges (pooling activations included) and He-normal weights.
network weighted_constant_dag(std::uint64_t seed) {
  random_dag_options o = test::random_case(seed);
  o.hidden = 3 + o.hidden;
  test::constant_case c;
  c.p_constant = 0.3;
  c.pooling = seed % 2 == 0;
  network net = test::with_constants(make_random_dag(o), seed, c);
  init_weights(net, seed + 100);
  return net;
}

// conv:len=7,ch=1-2-2 with its two-channel output layer turned into hidden units (relu), a max
// pool per channel over all positions (constant edges 1), and a dense output y0 from the pools;
// He-normal weights equal across each parameter.
network small_cnn(std::uint64_t seed) {
  const network conv = from_spec("conv:len=7,ch=1-2-2,k=2");
  network net;
  for (const auto& n : conv.nodes())
    net.add_node(n.id, n.kind == node_kind::output ? node_kind::hidden : n.kind,
                 n.kind == node_kind::output ? activation::relu() : n.act);
  for (edge_id e = 0; e < conv.num_edges(); ++e)
    net.set_param(net.add_edge(conv.edge_at(e).from, conv.edge_at(e).to), conv.param_names()[conv.param(e)]);
  const node_id y = net.add_node("y0", node_kind::output);
  for (int c = 0; c < 2; ++c) {
    const node_id pool = net.add_node(fmt::format("pool{}", c), node_kind::hidden, activation::max_pool());
    for (node_id v = 0; v < conv.num_nodes(); ++v)
      if (conv.node_at(v).kind == node_kind::output && conv.node_at(v).id.rfind(fmt::format("y{}_", c), 0) == 0)
        net.set_constant(net.add_edge(v, pool));
    net.add_edge(pool, y);
  }
  net.finalize();
  init_weights(net, seed);
  return net;
}

}  // namespace

TEST_CASE("balance with constant edges keeps the function and the constants, on 120 random DAGs",
          "[constant][balance][theorem]") {
  std::size_t tied = 0;
  for (std::uint64_t seed = 1; seed <= 120; ++seed) {
    network net = weighted_constant_dag(seed);
    INFO("seed " << seed << "\n" << test::dump(net));
    const balance_structure s = make_balance_structure(net);
    // The ends of every constant edge are in one group, or both fixed.
    for (edge_id e = 0; e < net.num_edges(); ++e)
      if (net.is_constant(e)) REQUIRE(s.group_of[net.edge_at(e).from] == s.group_of[net.edge_at(e).to]);
    tied += s.tied ? 1 : 0;
    for (balance_method m : {balance_method::newton, balance_method::alternating, balance_method::random}) {
      balance_options bo;
      bo.method = m;
      bo.tolerance = 1e-11;
      std::vector<double> w = net.weights();
      const balance_report r = balance_weights(net, w, bo);
      INFO("order " << to_string(m));
      REQUIRE(r.converged);
      require_constants_kept(net, w);
      REQUIRE(output_gap(net, net.weights(), w, seed) < 1e-9);
      REQUIRE(r.cost_after <= r.cost_before * (1 + 1e-12));
      // The cost counts no constant edge: the same weights with the constants changed cost the same.
      std::vector<double> other = w;
      for (edge_id e = 0; e < net.num_edges(); ++e)
        if (net.is_constant(e)) other[e] *= 3;
      REQUIRE(balance_cost(net, s, other, 2.0) == balance_cost(net, s, w, 2.0));
    }
  }
  CHECK(tied > 20);  // 30 of the 120 draws tie units into groups
}

TEST_CASE("canonical form with constant edges: rescaled starts reach the same network",
          "[constant][balance][canonical]") {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    network net = weighted_constant_dag(seed);
    INFO("seed " << seed << "\n" << test::dump(net));
    network a = net;
    canonicalize(a);
    require_constants_kept(a, a.weights());
    REQUIRE(output_gap(net, net.weights(), a.weights(), seed) < 1e-9);
    for (std::uint64_t k = 1; k <= 3; ++k) {
      network b = apply_rescaling(net, random_scales(net, seed * 10 + k, 2.0));  // respects the constants
      canonicalize(b);
      require_constants_kept(b, b.weights());
      REQUIRE(max_relative_difference(a.weights(), b.weights()) < 1e-8);
    }
  }
}

TEST_CASE("balance a small CNN: shared kernels, max pooling by constant edges, dense output",
          "[constant][balance][shared]") {
  network net = small_cnn(7);
  REQUIRE(net.has_params());
  REQUIRE(net.num_constants() == 2 * 5);
  // Tie groups: one per channel of each conv layer, the pool joining its channel: 4, as many as
  // the rescalings that survive.
  const balance_structure s = make_balance_structure(net);
  CHECK(s.members.size() == 4);
  active_subgraph act = find_active(net);
  CHECK(analyze_shared(net, act, make_basis(net, act)).surviving.size() == 4);
  std::vector<double> w = net.weights();
  balance_options bo;
  bo.tolerance = 1e-12;
  const balance_report r = balance_weights(net, w, bo);
  REQUIRE(r.converged);
  require_constants_kept(net, w);
  REQUIRE(output_gap(net, net.weights(), w, 3) < 1e-9);
  for (edge_id e = 0; e < net.num_edges(); ++e)
    for (edge_id f = 0; f < e; ++f)
      if (net.param(e) != npos && net.param(e) == net.param(f)) REQUIRE(w[e] == w[f]);
  // Canonical form from a start rescaled along the surviving rescalings (one scale per channel).
  network a = net;
  canonicalize(a);
  std::vector<double> scale(net.num_nodes(), 1.0);
  splitmix64 rng(5);
  for (const auto& dir : analyze_shared(net, act, make_basis(net, act)).surviving) {
    const double t = std::exp(2 * rng.normal());
    for (const auto& [v, k] : dir) scale[v] *= std::pow(t, static_cast<double>(k));
  }
  network b = apply_rescaling(net, scale);
  canonicalize(b);
  require_constants_kept(b, b.weights());
  CHECK(max_relative_difference(a.weights(), b.weights()) < 1e-8);
}
