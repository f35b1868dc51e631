// tests/paths/constant_test.cpp: constant edges (math.md section 9): the dimension rank(A M) over
// the parameters with constant edges as zero rows of M, against the enumerated exact rank on random
// DAGs with constant and shared edges; the surviving rescalings against an independent count;
// the degenerate cases; and invariance: rescalings that respect constant edges leave path values
// and outputs exactly unchanged, one that breaks a constant edge changes the output.
#include "catch_shim.hpp"

#include <fmt/format.h>

#include <map>

#include "constant_support.hpp"
#include "support.hpp"

#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/shared.hpp"
#include "scaleinv/paths/verify.hpp"

using namespace scaleinv;

namespace {

shared_analysis shared_of(const network& net) {
  active_subgraph a = find_active(net);
  return analyze_shared(net, a, make_basis(net, a));
}

// The number of rescalings that survive, counted without path matrices: the dimension of the
// space of potentials phi on the active scalable units (phi = 0 on every other node) with
// phi(head) = phi(tail) on every active constant edge and phi(head) - phi(tail) equal on all active
// edges of a shared parameter. (phi -> the multipliers of the parameters is injective, since every
// active unit lies on a path from a source where phi = 0, so this is dim ker(A M) minus the
// parameters on no active edge.)
std::size_t independent_surviving(const network& net) {
  const active_subgraph a = find_active(net);
  std::vector<std::uint32_t> column(net.num_nodes(), npos);
  std::uint32_t units = 0;
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (a.is_active_unit(net, v)) column[v] = units++;
  // The row phi(head) - phi(tail) of edge e, fixed nodes dropped.
  auto difference = [&](edge_id e) {
    std::map<std::uint32_t, mpq_class> row;
    if (column[net.edge_at(e).to] != npos) row[column[net.edge_at(e).to]] += 1;
    if (column[net.edge_at(e).from] != npos) row[column[net.edge_at(e).from]] -= 1;
    return row;
  };
  auto to_sparse = [](const std::map<std::uint32_t, mpq_class>& m) {
    sparse_row r;
    for (const auto& [c, x] : m)
      if (x != 0) r.emplace_back(c, x);
    return r;
  };
  rational_eliminator elim(units);
  std::vector<edge_id> first(net.param_names().size(), npos);
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (!a.is_active_edge(e)) continue;
    if (net.is_constant(e)) {
      elim.add(to_sparse(difference(e)));
    } else if (const std::uint32_t k = net.param(e); k != npos) {
      if (first[k] == npos) {
        first[k] = e;
        continue;
      }
      auto row = difference(e);
      for (const auto& [c, x] : difference(first[k])) row[c] -= x;
      elim.add(to_sparse(row));
    }
  }
  return units - elim.rank();
}

// A network built edge by edge: (from, to, param, constant value or "" for a parameter).
struct spec_edge {
  std::string from, to, param, constant;
};
network build(const std::vector<std::pair<std::string, node_kind>>& nodes, const std::vector<spec_edge>& edges) {
  network net;
  for (const auto& [id, kind] : nodes) net.add_node(id, kind);
  for (const auto& ed : edges) {
    const edge_id e = net.add_edge(*net.find_node(ed.from), *net.find_node(ed.to));
    if (!ed.param.empty()) net.set_param(e, ed.param);
    if (!ed.constant.empty()) net.set_constant(e, *parse_rational(ed.constant));
  }
  net.finalize();
  return net;
}

// The checks every network with constant edges must pass; returns its analysis.
shared_analysis check_theorem(const network& net) {
  const shared_analysis s = shared_of(net);
  const std::size_t rank = test::enumerated_rank_am(net);
  REQUIRE(s.parameters == net.num_parameters());
  REQUIRE(s.dimension == rank);
  REQUIRE(s.surviving_checked);
  // Surviving rescalings = parameters used - dimension, and the independent count.
  REQUIRE(s.surviving.size() == s.parameters - s.unused_parameters - s.dimension);
  REQUIRE(s.surviving.size() == independent_surviving(net));
  // Each surviving direction keeps every active constant edge: its ends share the exponent.
  const active_subgraph a = find_active(net);
  for (const auto& dir : s.surviving) {
    std::vector<std::int64_t> phi(net.num_nodes(), 0);
    for (const auto& [v, k] : dir) {
      REQUIRE(a.is_active_unit(net, v));
      phi[v] = k;
    }
    for (edge_id e = 0; e < net.num_edges(); ++e)
      if (net.is_constant(e) && a.is_active_edge(e)) REQUIRE(phi[net.edge_at(e).to] == phi[net.edge_at(e).from]);
  }
  // analyze and verify report the same dimension.
  const analysis r = analyze(net);
  REQUIRE(r.dimension == rank);
  REQUIRE(r.unshared_dimension == a.active_edges - a.active_hidden);
  REQUIRE(r.cert.valid);
  const verify_result v = verify(net, 200000);
  REQUIRE(v.shared == net.has_parameter_map());  // a draw can have no constant and no shared edge
  if (v.shared) {
    REQUIRE(v.shared_rank == rank);
    REQUIRE(v.shared_dimension == rank);
  }
  REQUIRE(v.passed());
  return s;
}

std::vector<mpq_class> random_inputs(const network& net, splitmix64& rng) {
  std::vector<mpq_class> x;
  for (std::size_t i = 0; i < net.count(node_kind::input); ++i) x.push_back(test::random_rational(rng));
  return x;
}

}  // namespace

TEST_CASE("constant edges: rank(A M) over the parameters equals the enumerated rank on 480 random DAGs",
          "[constant][dimension][theorem]") {
  std::size_t below_unshared = 0, pinned = 0, with_shared = 0, with_unused = 0;
  for (std::uint64_t seed = 1; seed <= 480; ++seed) {
    random_dag_options o = test::random_case(seed);
    test::constant_case c;
    c.p_constant = seed % 4 == 0 ? 0.6 : 0.3;
    c.p_shared = seed % 3 == 0 ? 0.0 : 0.4;
    c.pooling = seed % 2 == 0;
    network net = test::with_constants(make_random_dag(o), seed, c);
    INFO("seed " << seed << "\n" << test::dump(net));
    const shared_analysis s = check_theorem(net);
    const active_subgraph a = find_active(net);
    if (s.dimension < a.active_edges - a.active_hidden) ++below_unshared;
    if (s.surviving.size() < a.active_hidden) ++pinned;
    if (net.has_params()) ++with_shared;
    if (s.unused_parameters > 0) ++with_unused;
  }
  // The sample must exercise what constant edges change.
  CHECK(below_unshared > 200);
  CHECK(pinned > 150);
  CHECK(with_shared > 200);
  CHECK(with_unused > 20);
}

TEST_CASE("constant edges: the degenerate cases", "[constant][dimension]") {
  const std::vector<std::pair<std::string, node_kind>> nodes{{"x0", node_kind::input},  {"x1", node_kind::input},
                                                             {"h1", node_kind::hidden}, {"h2", node_kind::hidden},
                                                             {"h3", node_kind::hidden}, {"y", node_kind::output}};
  SECTION("a constant edge from an input pins its head: phi = 0") {
    network net = build(nodes, {{"x0", "h1", "", "1"}, {"x1", "h1", "", ""}, {"h1", "y", "", ""}});
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 2);
    CHECK(s.dimension == 2);
    CHECK(s.surviving.empty());
  }
  SECTION("a constant edge into an output pins its tail") {
    network net = build(nodes, {{"x0", "h1", "", ""}, {"x1", "h1", "", ""}, {"h1", "y", "", "1/3"}});
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 2);
    CHECK(s.dimension == 2);
    CHECK(s.surviving.empty());
  }
  SECTION("a chain of constants is one scale") {
    // x0 -> h1 =c=> h2 =c=> h3 -> y, x1 -> h2: h1, h2, h3 share one scale; 3 parameters, rank 2.
    network net = build(nodes, {{"x0", "h1", "", ""},
                                {"h1", "h2", "", "1"},
                                {"h2", "h3", "", "2"},
                                {"x1", "h2", "", ""},
                                {"h3", "y", "", ""}});
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 3);
    CHECK(s.dimension == 2);
    REQUIRE(s.surviving.size() == 1);
    CHECK(s.surviving[0] == rescaling_direction{{2, 1}, {3, 1}, {4, 1}});
    CHECK(analyze(net).unshared_dimension == 5 - 3);
  }
  SECTION("a unit whose in-edges are all constant is pinned by its inputs") {
    network net = build(nodes, {{"x0", "h1", "", "1/2"}, {"x1", "h1", "", "1/2"}, {"h1", "y", "", ""}});
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 1);
    CHECK(s.dimension == 1);
    CHECK(s.surviving.empty());
  }
  SECTION("a unit whose in-edges are all constant, fed by hidden units, shares their scale") {
    // Average pooling: h1 and h2 feed h3 through 1/2 each; h3 -> y. One class {h1, h2, h3}.
    network net = build(nodes, {{"x0", "h1", "", ""},
                                {"x1", "h2", "", ""},
                                {"h1", "h3", "", "1/2"},
                                {"h2", "h3", "", "1/2"},
                                {"h3", "y", "", ""}});
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 3);
    CHECK(s.dimension == 2);
    REQUIRE(s.surviving.size() == 1);
    CHECK(s.surviving[0] == rescaling_direction{{2, 1}, {3, 1}, {4, 1}});
  }
  SECTION("every edge constant: no parameters, dimension 0, and the weights are the constants") {
    network net = build(nodes, {{"x0", "h1", "", "1"}, {"h1", "y", "", "3"}, {"x1", "y", "", "-1"}});
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 0);
    CHECK(s.dimension == 0);
    REQUIRE(net.has_weights());
    CHECK(net.exact_weights() == std::vector<mpq_class>{1, 3, -1});
  }
  SECTION("a constant edge from an input to an output is a path of fixed value") {
    network net = build(nodes, {{"x0", "y", "", "1"}, {"x0", "h1", "", ""}, {"h1", "y", "", ""}});
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 2);
    CHECK(s.dimension == 1);
    CHECK(s.surviving.size() == 1);
  }
  SECTION("a constant edge on no path constrains nothing in the path space") {
    // h2 is dead (no outgoing edge); x0 =c=> h2 and h1 =c=> h2 are inactive: h1 keeps its rescaling.
    network net =
        build(nodes, {{"x0", "h1", "", ""}, {"h1", "y", "", ""}, {"x0", "h2", "", "1"}, {"h1", "h2", "", "1"}});
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 2);
    CHECK(s.dimension == 1);
    CHECK(s.surviving.size() == 1);
  }
  SECTION("constant edges and a shared parameter together") {
    // x0 -k-> h1, x1 -k-> h2, h1 =c=> h3, h2 =c=> h3, h3 -> y: one class, k keeps it: 2 parameters, 1 survives.
    network net = build(nodes, {{"x0", "h1", "k", ""},
                                {"x1", "h2", "k", ""},
                                {"h1", "h3", "", "1"},
                                {"h2", "h3", "", "1"},
                                {"h3", "y", "", ""}});
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 2);
    CHECK(s.dimension == 1);
    CHECK(s.surviving.size() == 1);
  }
  SECTION("a constant edge and a parameter shared into and out of its class: nothing survives") {
    network net =
        build(nodes, {{"x0", "h1", "k", ""}, {"h1", "h2", "", "1"}, {"h2", "y", "k", ""}, {"x1", "h2", "", ""}});
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 2);
    CHECK(s.surviving.empty());
    CHECK(s.dimension == 2);
  }
  SECTION("a non-homogeneous unit is a fixed node: a constant edge to it pins the other end") {
    network net;
    net.add_node("x", node_kind::input);
    net.add_node("h", node_kind::hidden);
    net.add_node("t", node_kind::hidden, activation::parse("tanh"));
    net.add_node("y", node_kind::output);
    net.add_edge(0, 1);
    net.set_constant(net.add_edge(1, 2));
    net.add_edge(2, 3);
    net.add_edge(1, 3);
    net.finalize();
    shared_analysis s = check_theorem(net);
    CHECK(s.parameters == 3);
    CHECK(s.surviving.empty());
  }
}

TEST_CASE("constant edges: rescalings that respect them keep every path value and the output exactly",
          "[constant][invariance][theorem]") {
  std::size_t tried = 0, changed = 0, with_directions = 0, skipped = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    random_dag_options o = test::random_case(seed);
    o.nonhomogeneous = 0;  // exact evaluation
    test::constant_case c;
    c.p_constant = 0.35;
    c.p_shared = seed % 2 == 0 ? 0.3 : 0.0;
    c.pooling = true;
    network net = test::with_constants(make_random_dag(o), seed, c);
    splitmix64 rng(seed * 31 + 3);
    const std::vector<mpq_class> w = test::random_parameter_weights(net, rng);
    net.set_exact_weights(w);
    INFO("seed " << seed << "\n" << test::dump(net));
    // Scales that respect the constant edges: random ones (one per constant class) when nothing is
    // shared, else products of random powers of the surviving directions.
    std::vector<mpq_class> scale;
    if (!net.has_params()) {
      scale = random_rational_scales(net, seed);
    } else {
      scale.assign(net.num_nodes(), mpq_class(1));
      for (const auto& dir : shared_of(net).surviving) {
        const mpq_class t = test::random_scale(rng);
        for (const auto& [v, k] : dir)
          for (std::int64_t i = 0; i < (k < 0 ? -k : k); ++i)
            scale[v] = k < 0 ? mpq_class(scale[v] / t) : mpq_class(scale[v] * t);
        ++with_directions;
      }
      // The directions live on the active units; a constant or shared edge on no path may join a
      // unit they scale to one they do not (rescale() requires one scale on every constant edge,
      // and the check below equal weights on a parameter's edges): skip those draws.
      bool respects = true;
      std::vector<mpq_class> factor_of(net.param_names().size(), mpq_class(0));
      for (edge_id e = 0; e < net.num_edges(); ++e) {
        const edge& ed = net.edge_at(e);
        const mpq_class head = net.is_scalable(ed.to) ? scale[ed.to] : mpq_class(1);
        const mpq_class tail = net.is_scalable(ed.from) ? scale[ed.from] : mpq_class(1);
        const mpq_class factor = head / tail;
        if (net.is_constant(e) && factor != 1) respects = false;
        if (net.param(e) == npos) continue;
        mpq_class& first = factor_of[net.param(e)];
        if (first == 0) first = factor;
        else if (first != factor) respects = false;
      }
      if (!respects) {
        ++skipped;
        continue;
      }
    }
    const auto w2 = rescale(net, std::span<const mpq_class>(w), std::span<const mpq_class>(scale));
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      if (net.is_constant(e)) REQUIRE(w2[e] == w[e]);
      for (edge_id f = 0; f < e; ++f)
        if (net.param(e) != npos && net.param(e) == net.param(f)) REQUIRE(w2[e] == w2[f]);
    }
    for_each_path(net, 100000, [&](std::span<const edge_id> path) {
      REQUIRE(path_value(std::span<const mpq_class>(w), path) == path_value(std::span<const mpq_class>(w2), path));
    });
    for (int trial = 0; trial < 3; ++trial) {
      auto x = random_inputs(net, rng);
      REQUIRE(evaluate(net, std::span<const mpq_class>(w), std::span<const mpq_class>(x)) ==
              evaluate(net, std::span<const mpq_class>(w2), std::span<const mpq_class>(x)));
    }
    // apply_rescaling writes the same network, and equivalence finds it.
    const network b = apply_rescaling(net, scale);
    REQUIRE(b.exact_weights() == w2);
    equivalence_options eo;
    eo.exact = true;
    REQUIRE(rescaling_equivalence(net, b, eo).equivalent);

    // Negative control: scale one active unit with an active constant edge by 2 and leave the
    // constant edges alone. rescale() refuses; done by hand, the function changes.
    const active_subgraph a = find_active(net);
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      if (!net.is_constant(e) || !a.is_active_edge(e) || net.constant_value(e) == 0) continue;
      const node_id u = net.is_scalable(net.edge_at(e).from) ? net.edge_at(e).from : net.edge_at(e).to;
      if (!net.is_scalable(u)) continue;
      std::vector<mpq_class> broken(net.num_nodes(), mpq_class(1));
      broken[u] = 2;
      // rescale() names the first constant edge (in edge order) whose ends now differ.
      edge_id named = npos;
      for (edge_id f = 0; f < net.num_edges() && named == npos; ++f) {
        const edge& fd = net.edge_at(f);
        const mpq_class head = net.is_scalable(fd.to) ? broken[fd.to] : mpq_class(1);
        const mpq_class tail = net.is_scalable(fd.from) ? broken[fd.from] : mpq_class(1);
        if (net.is_constant(f) && head != tail) named = f;
      }
      REQUIRE(named != npos);
      REQUIRE_THROWS_WITH(rescale(net, std::span<const mpq_class>(w), std::span<const mpq_class>(broken)),
                          Catch::Contains(net.describe_edge(named) + " is constant"));
      std::vector<mpq_class> naive = w;
      for (edge_id f : net.in_edges(u))
        if (!net.is_constant(f)) naive[f] *= 2;
      for (edge_id f : net.out_edges(u))
        if (!net.is_constant(f)) naive[f] /= 2;
      ++tried;
      for (int trial = 0; trial < 5; ++trial) {
        auto x = random_inputs(net, rng);
        if (evaluate(net, std::span<const mpq_class>(w), std::span<const mpq_class>(x)) !=
            evaluate(net, std::span<const mpq_class>(naive), std::span<const mpq_class>(x))) {
          ++changed;
          break;
        }
      }
      break;
    }
  }
  CHECK(with_directions > 40);
  CHECK(skipped < 30);  // of 150 draws with shared parameters
  CHECK(tried > 100);
  CHECK(changed > tried / 2);  // not every time: a dead ReLU on all five inputs hides it

  // The smallest case, always: x -2-> h =1=> y; h by 2 with the constant kept doubles the output.
  network net = build({{"x", node_kind::input}, {"h", node_kind::hidden}, {"y", node_kind::output}},
                      {{"x", "h", "", ""}, {"h", "y", "", "1"}});
  const std::vector<mpq_class> w{2, 1}, naive{4, 1}, x{1};
  CHECK(evaluate(net, std::span<const mpq_class>(w), std::span<const mpq_class>(x)) == std::vector<mpq_class>{2});
  CHECK(evaluate(net, std::span<const mpq_class>(naive), std::span<const mpq_class>(x)) == std::vector<mpq_class>{4});
}
