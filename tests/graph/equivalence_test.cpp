// tests/graph/equivalence_test.cpp: rescaling_equivalence finds the scales of a rescaling, and says no
// (naming the edge) to perturbed weights, sign flips and new zeros, exactly and in floating point.
#include "catch_shim.hpp"
#include "support.hpp"

#include <cmath>
#include <span>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/graph/evaluate.hpp"

using namespace scaleinv;
using scaleinv::test::contains;

namespace {
network with_weights(network net, const std::vector<mpq_class>& w) {
  net.set_exact_weights(w);
  return net;
}

equivalence_options exact_mode() {
  equivalence_options o;
  o.exact = true;
  return o;
}

const std::vector<activation>& homogeneous_activations() {
  static const std::vector<activation> acts = {activation::relu(),
                                               activation::leaky_relu(mpq_class(1, 10)),
                                               activation::prelu(mpq_class(1, 4)),
                                               activation::bilu(mpq_class(-1, 3), mpq_class(5, 2)),
                                               activation::linear(),
                                               activation::max_pool()};
  return acts;
}

// The scales found must rebuild b from a exactly, agree with the applied ones on every determined
// unit, and leave each undetermined group truly free: multiplying a group by 3 changes nothing.
void check_recovered(const network& a, const network& b, const std::vector<mpq_class>& applied,
                     const equivalence_result& r) {
  INFO("reason: " << r.reason);
  REQUIRE(r.equivalent);
  REQUIRE(r.exact);
  REQUIRE(r.reason.empty());
  REQUIRE(r.failed_edge == npos);
  REQUIRE(r.exact_scales.size() == a.num_nodes());
  REQUIRE(r.scales.size() == a.num_nodes());
  REQUIRE(apply_rescaling(a, r.exact_scales).exact_weights() == b.exact_weights());
  std::vector<char> is_free(a.num_nodes(), 0);
  std::size_t grouped = 0;
  for (const auto& group : r.undetermined_groups) {
    REQUIRE(!group.empty());
    CHECK(r.exact_scales[group.front()] == 1);  // the group's first unit was given 1
    for (node_id v : group) {
      is_free[v] = 1;
      ++grouped;
      CHECK(a.is_scalable(v));
      CHECK(r.exact_scales[v] == applied[v] / applied[group.front()]);
    }
    std::vector<mpq_class> moved = r.exact_scales;
    for (node_id v : group) moved[v] *= 3;
    CHECK(apply_rescaling(a, moved).exact_weights() == b.exact_weights());
  }
  CHECK(grouped == r.undetermined.size());
  CHECK(std::is_sorted(r.undetermined.begin(), r.undetermined.end()));
  for (node_id v = 0; v < a.num_nodes(); ++v) {
    INFO("node " << a.node_at(v).id);
    if (!a.is_scalable(v)) CHECK(r.exact_scales[v] == 1);
    else if (!is_free[v]) CHECK(r.exact_scales[v] == applied[v]);
    CHECK(r.scales[v] == r.exact_scales[v].get_d());
  }
}

// x -> h -> y plus x -> y, weights 1, 2, 3 (edges 0, 1, 2).
network tiny(const char* h_id = "h", activation act = {}) {
  network net;
  node_id x = net.add_node("x", node_kind::input), h = net.add_node(h_id, node_kind::hidden, act),
          y = net.add_node("y", node_kind::output);
  net.add_edge(x, h);
  net.add_edge(h, y);
  net.add_edge(x, y);
  net.set_exact_weight(0, 1);
  net.set_exact_weight(1, 2);
  net.set_exact_weight(2, 3);
  net.finalize();
  return net;
}
}  // namespace

TEST_CASE("random rational rescalings of random DAGs are recognized, with their scales", "[equivalence][theorem]") {
  std::size_t with_free = 0, with_tanh = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    network shape = make_random_dag(test::random_case(seed));
    splitmix64 rng(seed * 131 + 7);
    network a = with_weights(shape, test::random_weights(shape, rng));
    std::vector<mpq_class> s = random_rational_scales(a, seed);
    network b = apply_rescaling(a, s);
    INFO("seed " << seed << "\nA = " << test::dump(a) << "\nB = " << test::dump(b));
    check_recovered(a, b, s, rescaling_equivalence(a, b, exact_mode()));
    // And the other way round, with the inverse scales.
    std::vector<mpq_class> inverse;
    for (const auto& c : s) inverse.push_back(1 / c);
    check_recovered(b, a, inverse, rescaling_equivalence(b, a, exact_mode()));
    with_free += rescaling_equivalence(a, b, exact_mode()).undetermined.empty() ? 0 : 1;
    for (node_id v = 0; v < a.num_nodes(); ++v)
      with_tanh += a.node_at(v).kind == node_kind::hidden && !a.is_scalable(v);
  }
  // The corpus covers both degenerate cases.
  CHECK(with_free > 0);
  CHECK(with_tanh > 0);
}

TEST_CASE("random rational rescalings of MLPs with biases, every homogeneous activation", "[equivalence][theorem]") {
  for (const activation& act : homogeneous_activations()) {
    mlp_options o;
    o.widths = {3, 5, 4, 2};
    o.bias = true;
    o.act = act;
    network shape = make_mlp(o);
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      splitmix64 rng(seed);
      network a = with_weights(shape, test::random_weights(shape, rng));
      std::vector<mpq_class> s = random_rational_scales(a, seed + 100);
      network b = apply_rescaling(a, s);
      INFO(act.spec() << " seed " << seed);
      equivalence_result r = rescaling_equivalence(a, b, exact_mode());
      check_recovered(a, b, s, r);
      CHECK(r.undetermined.empty());  // every unit is tied to the inputs and outputs
      // The function is unchanged too (the point of the symmetry).
      std::vector<mpq_class> x{mpq_class(1, 2), mpq_class(-3), mpq_class(7, 5)};
      auto wa = a.exact_weights(), wb = b.exact_weights();
      CHECK(evaluate(a, std::span<const mpq_class>(wa), std::span<const mpq_class>(x)) ==
            evaluate(b, std::span<const mpq_class>(wb), std::span<const mpq_class>(x)));
    }
  }
}

TEST_CASE("not equivalent: one perturbed weight, anywhere", "[equivalence]") {
  network shape = test::mlp({3, 4, 3, 2}, true);
  splitmix64 rng(5);
  network a = with_weights(shape, test::random_weights(shape, rng));
  network b = apply_rescaling(a, random_rational_scales(a, 9));
  REQUIRE(rescaling_equivalence(a, b, exact_mode()).equivalent);
  for (edge_id e = 0; e < a.num_edges(); ++e) {
    // In an MLP with biases every edge lies on a cycle through fixed nodes, so every weight counts.
    std::vector<mpq_class> w = b.exact_weights();
    w[e] *= mpq_class(1001, 1000);
    equivalence_result r = rescaling_equivalence(a, with_weights(b, w), exact_mode());
    INFO("perturbed " << a.describe_edge(e) << ": " << r.reason);
    CHECK_FALSE(r.equivalent);
    CHECK(r.failed_edge != npos);
    CHECK(contains(r.reason, a.describe_edge(r.failed_edge) + ": ratio B/A = "));
    CHECK(contains(r.reason, "contradicts"));
    CHECK(r.scales.empty());
    CHECK(r.exact_scales.empty());
  }
}

TEST_CASE("the contradiction message names the edge, the ratio and where the scales came from", "[equivalence]") {
  // x -> h -> y, x -> y: the direct edge x -> y joins two fixed nodes, so its ratio must be 1.
  network a = tiny();
  std::vector<mpq_class> w = a.exact_weights();
  w[0] *= 2;  // c(h) = 2 from edge 0 ...
  w[1] /= 2;  // ... and edge 1 agrees ...
  w[2] *= 3;  // ... but the direct edge is tripled
  equivalence_result r = rescaling_equivalence(a, with_weights(a, w), exact_mode());
  CHECK(r.exact);
  CHECK_FALSE(r.equivalent);
  CHECK(r.failed_edge == 2);
  CHECK(r.reason ==
        "edge 2 (x -> y): ratio B/A = 3 contradicts c(y)/c(x) = 1, where c(x) = 1 is fixed (input) "
        "and c(y) = 1 is fixed (output)");
  // A contradiction through a unit.
  w = a.exact_weights();
  w[0] *= 2;
  w[1] *= mpq_class(3, 2);
  r = rescaling_equivalence(a, with_weights(a, w), exact_mode());
  CHECK(r.failed_edge == 1);
  CHECK(r.reason ==
        "edge 1 (h -> y): ratio B/A = 3/2 contradicts c(y)/c(h) = 1/2, where c(h) = 2 is forced by "
        "edge 0 from x and c(y) = 1 is fixed (output)");
}

TEST_CASE("not equivalent: sign flips are not rescalings", "[equivalence]") {
  mlp_options o;
  o.widths = {3, 4, 2};
  o.bias = true;
  o.act = activation::linear();
  network shape = make_mlp(o);
  splitmix64 rng(11);
  network a = with_weights(shape, test::random_weights(shape, rng));
  network b = apply_rescaling(a, random_rational_scales(a, 4));
  SECTION("one edge") {
    for (edge_id e = 0; e < a.num_edges(); ++e) {
      std::vector<mpq_class> w = b.exact_weights();
      w[e] = -w[e];
      equivalence_result r = rescaling_equivalence(a, with_weights(b, w), exact_mode());
      INFO(r.reason);
      CHECK_FALSE(r.equivalent);
      CHECK(r.failed_edge == e);
      CHECK(contains(r.reason, a.describe_edge(e) + ": weights have opposite signs (A: "));
      CHECK(contains(r.reason, "sign flips are not rescalings"));
    }
  }
  SECTION("a whole unit: c = -1 keeps a linear network's function, but is no positive rescaling") {
    node_id h = *a.find_node("h1_2");
    std::vector<mpq_class> w = b.exact_weights();
    for (edge_id e : a.in_edges(h)) w[e] = -w[e];
    for (edge_id e : a.out_edges(h)) w[e] = -w[e];
    network flipped = with_weights(b, w);
    std::vector<mpq_class> x{mpq_class(2), mpq_class(-1, 3), mpq_class(5)};
    auto wa = a.exact_weights();
    REQUIRE(evaluate(a, std::span<const mpq_class>(wa), std::span<const mpq_class>(x)) ==
            evaluate(flipped, std::span<const mpq_class>(w), std::span<const mpq_class>(x)));
    equivalence_result r = rescaling_equivalence(a, flipped, exact_mode());
    CHECK_FALSE(r.equivalent);
    CHECK(r.failed_edge == a.in_edges(h).front());  // the unit's first edge in edge order
    CHECK(contains(r.reason, "opposite signs"));
  }
}

TEST_CASE("zero weights: a new zero is not a rescaling, a shared zero constrains nothing", "[equivalence]") {
  network shape = test::mlp({2, 3, 2}, true);
  splitmix64 rng(21);
  std::vector<mpq_class> wa = test::random_weights(shape, rng);
  network a = with_weights(shape, wa);
  std::vector<mpq_class> s = random_rational_scales(a, 2);
  network b = apply_rescaling(a, s);
  const edge_id e = 4;
  SECTION("zero in B only") {
    std::vector<mpq_class> w = b.exact_weights();
    w[e] = 0;
    equivalence_result r = rescaling_equivalence(a, with_weights(b, w), exact_mode());
    CHECK_FALSE(r.equivalent);
    CHECK(r.failed_edge == e);
    CHECK(r.reason == a.describe_edge(e) + ": " + to_string(wa[e]) + " in A but 0 in B: rescaling keeps zeros");
  }
  SECTION("zero in A only") {
    std::vector<mpq_class> w = wa;
    w[e] = 0;
    equivalence_result r = rescaling_equivalence(with_weights(a, w), b, exact_mode());
    CHECK_FALSE(r.equivalent);
    CHECK(r.failed_edge == e);
    CHECK(contains(r.reason, ": 0 in A but "));
    CHECK(contains(r.reason, "rescaling keeps zeros"));
  }
  SECTION("zero in both") {
    std::vector<mpq_class> w = wa;
    w[e] = 0;
    network a0 = with_weights(a, w);
    network b0 = apply_rescaling(a0, s);
    check_recovered(a0, b0, s, rescaling_equivalence(a0, b0, exact_mode()));
  }
}

TEST_CASE("undetermined units: no nonzero edge ties them to a fixed node", "[equivalence]") {
  SECTION("a unit whose edges are all zero") {
    network shape = test::mlp({2, 3, 1}, true);
    splitmix64 rng(8);
    std::vector<mpq_class> w = test::random_weights(shape, rng);
    node_id h = *shape.find_node("h1_1");
    for (edge_id e : shape.in_edges(h)) w[e] = 0;
    for (edge_id e : shape.out_edges(h)) w[e] = 0;
    network a = with_weights(shape, w);
    std::vector<mpq_class> s = random_rational_scales(a, 6);
    network b = apply_rescaling(a, s);
    equivalence_result r = rescaling_equivalence(a, b, exact_mode());
    check_recovered(a, b, s, r);
    CHECK(r.undetermined == std::vector<node_id>{h});
    REQUIRE(r.undetermined_groups.size() == 1);
    CHECK(r.undetermined_groups[0] == std::vector<node_id>{h});
    CHECK(r.exact_scales[h] == 1);
  }
  SECTION("a chain of units whose links to the inputs and outputs are zero") {
    // x -> h0 -> h1 -> y, x -> h2 -> y; the first and last edges of the chain are zero.
    network net;
    node_id x = net.add_node("x", node_kind::input), h0 = net.add_node("h0", node_kind::hidden),
            h1 = net.add_node("h1", node_kind::hidden), h2 = net.add_node("h2", node_kind::hidden),
            y = net.add_node("y", node_kind::output);
    net.add_edge(x, h0);
    net.add_edge(h0, h1);
    net.add_edge(h1, y);
    net.add_edge(x, h2);
    net.add_edge(h2, y);
    net.finalize();
    network a = with_weights(net, {mpq_class(0), mpq_class(3, 7), mpq_class(0), mpq_class(-2), mpq_class(5)});
    std::vector<mpq_class> s{1, mpq_class(4, 3), mpq_class(2, 9), mpq_class(7), 1};
    network b = apply_rescaling(a, s);
    equivalence_result r = rescaling_equivalence(a, b, exact_mode());
    check_recovered(a, b, s, r);
    CHECK(r.undetermined == std::vector<node_id>{h0, h1});
    CHECK(r.undetermined_groups == std::vector<std::vector<node_id>>{{h0, h1}});
    CHECK(r.exact_scales[h0] == 1);
    CHECK(r.exact_scales[h1] == mpq_class(2, 9) / mpq_class(4, 3));
    CHECK(r.exact_scales[h2] == 7);
  }
  SECTION("a unit with no edges at all") {
    network net;
    node_id x = net.add_node("x", node_kind::input), h = net.add_node("lonely", node_kind::hidden),
            y = net.add_node("y", node_kind::output);
    net.add_edge(x, y);
    net.finalize();
    network a = with_weights(net, {mpq_class(1, 3)});
    equivalence_result r = rescaling_equivalence(a, a, exact_mode());
    CHECK(r.equivalent);
    CHECK(r.undetermined == std::vector<node_id>{h});
  }
}

TEST_CASE("non-homogeneous units keep scale 1", "[equivalence]") {
  // x -> t -> y with t tanh: doubling t's in-edge and halving its out-edge is no symmetry.
  network a = tiny("t", activation::tanh());
  REQUIRE_FALSE(a.is_scalable(1));
  std::vector<mpq_class> w = a.exact_weights();
  w[0] *= 2;
  w[1] /= 2;
  equivalence_result r = rescaling_equivalence(a, with_weights(a, w), exact_mode());
  CHECK_FALSE(r.equivalent);
  CHECK(r.failed_edge == 0);
  CHECK(contains(r.reason, "c(t) = 1 is fixed (tanh unit, not positively homogeneous)"));
  // apply_rescaling ignores its scale.
  std::vector<mpq_class> s{1, 5, 1};
  CHECK(apply_rescaling(a, s).exact_weights() == a.exact_weights());
  CHECK(rescaling_equivalence(a, a).equivalent);
}

TEST_CASE("different graphs are an error naming the first difference", "[equivalence]") {
  network a = tiny();
  SECTION("a node id") {
    REQUIRE_THROWS_AS(rescaling_equivalence(a, tiny("g")), invalid_network);
    REQUIRE_THROWS_WITH(rescaling_equivalence(a, tiny("g")),
                        "the networks are not the same graph: node 1 is 'h' in A but 'g' in B");
  }
  SECTION("an activation") {
    REQUIRE_THROWS_WITH(rescaling_equivalence(a, tiny("h", activation::leaky_relu(mpq_class(1, 10)))),
                        "the networks are not the same graph: node 1 ('h') has activation relu in A but "
                        "leaky_relu:1/10 in B");
  }
  SECTION("an edge") {
    network b;
    node_id x = b.add_node("x", node_kind::input), h = b.add_node("h", node_kind::hidden),
            y = b.add_node("y", node_kind::output);
    b.add_edge(x, h);
    b.add_edge(x, y);
    b.add_edge(h, y);
    b.finalize();
    b.set_weights({1, 2, 3});
    REQUIRE_THROWS_AS(rescaling_equivalence(a, b), invalid_network);
    REQUIRE_THROWS_WITH(rescaling_equivalence(a, b),
                        "the networks are not the same graph: edge 1 is h -> y in A but x -> y in B");
  }
  SECTION("node and edge counts") {
    network small = test::mlp({2, 2, 1}), large = test::mlp({2, 3, 1});
    small.set_weights(std::vector<double>(small.num_edges(), 1.0));
    large.set_weights(std::vector<double>(large.num_edges(), 1.0));
    REQUIRE_THROWS_WITH(rescaling_equivalence(small, large), Catch::Contains("not the same graph: node 4 is"));
    network bias = test::mlp({2, 2, 1}, true);
    REQUIRE_THROWS_AS(rescaling_equivalence(small, bias), invalid_network);
  }
  SECTION("no weights") {
    network bare = test::mlp({2, 2, 1});
    network weighted = bare;
    weighted.set_weights(std::vector<double>(bare.num_edges(), 1.0));
    REQUIRE_THROWS_WITH(rescaling_equivalence(weighted, bare), Catch::Contains("network B has no weights"));
    REQUIRE_THROWS_AS(rescaling_equivalence(bare, weighted), invalid_network);
  }
  SECTION("bad tolerances") {
    for (double tol : {-1e-9, 1.0, 2.0, std::nan("")}) {
      equivalence_options o;
      o.tolerance = tol;
      REQUIRE_THROWS_AS(rescaling_equivalence(a, a, o), invalid_argument);
    }
  }
}

TEST_CASE("floating mode: log-normal rescalings of double weights", "[equivalence]") {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    mlp_options o;
    o.widths = {4, 6, 5, 3};
    o.bias = seed % 2 == 0;
    o.init_seed = seed;
    network a = make_mlp(o);
    REQUIRE_FALSE(a.has_exact_weights());
    std::vector<double> s = random_scales(a, seed, 1.0);
    network b = apply_rescaling(a, s);
    REQUIRE_FALSE(b.has_exact_weights());
    INFO("seed " << seed);
    equivalence_result r = rescaling_equivalence(a, b);
    INFO(r.reason);
    REQUIRE(r.equivalent);
    CHECK_FALSE(r.exact);
    CHECK(r.tolerance == default_equivalence_tolerance);
    CHECK(r.exact_scales.empty());
    for (node_id v = 0; v < a.num_nodes(); ++v) CHECK(std::abs(r.scales[v] - s[v]) <= 1e-12 * s[v]);
    // Exactly, the rounded products are (almost surely) no rescaling.
    CHECK_FALSE(rescaling_equivalence(a, b, exact_mode()).equivalent);
    // A relative perturbation of 1e-6 of one weight is found; a looser tolerance accepts it.
    for (edge_id e : {edge_id{0}, static_cast<edge_id>(a.num_edges() / 2), static_cast<edge_id>(a.num_edges() - 1)}) {
      std::vector<double> w = b.weights();
      w[e] *= 1 + 1e-6;
      network bp = b;
      bp.set_weights(w);
      equivalence_result p = rescaling_equivalence(a, bp);
      INFO("perturbed " << a.describe_edge(e) << ": " << p.reason);
      CHECK_FALSE(p.equivalent);
      CHECK(contains(p.reason, "relative difference 1e-06 > tolerance 1e-09"));
      equivalence_options loose;
      loose.tolerance = 1e-5;
      CHECK(rescaling_equivalence(a, bp, loose).equivalent);
    }
  }
}

TEST_CASE("floating mode on random DAGs with large spreads", "[equivalence]") {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    random_dag_options o = test::random_case(seed);
    o.init_seed = seed;
    network a = make_random_dag(o);
    network b = apply_rescaling(a, random_scales(a, seed, 3.0));
    INFO("seed " << seed << "\n" << test::dump(a));
    equivalence_result r = rescaling_equivalence(a, b);
    INFO(r.reason);
    CHECK(r.equivalent);
    CHECK_FALSE(r.exact);
  }
}

TEST_CASE("which arithmetic decides", "[equivalence]") {
  network demo_like = tiny();  // weights 1, 2, 3: doubles
  std::vector<mpq_class> thirds{mpq_class(1, 3), mpq_class(2, 3), mpq_class(1, 7)};
  network exact_a = with_weights(demo_like, thirds);
  REQUIRE(exact_a.has_exact_weights());
  REQUIRE_FALSE(demo_like.has_exact_weights());
  // Both exact: exact. One double: floating. --exact forces exact, a tolerance forces floating.
  network exact_b = apply_rescaling(exact_a, std::vector<mpq_class>{1, mpq_class(5, 3), 1});
  CHECK(rescaling_equivalence(exact_a, exact_b).exact);
  CHECK_FALSE(rescaling_equivalence(demo_like, demo_like).exact);
  CHECK(rescaling_equivalence(demo_like, demo_like, exact_mode()).exact);
  equivalence_options tol;
  tol.tolerance = 1e-6;
  equivalence_result r = rescaling_equivalence(exact_a, exact_b, tol);
  CHECK_FALSE(r.exact);
  CHECK(r.tolerance == 1e-6);
  CHECK(r.equivalent);
  CHECK(std::abs(r.scales[1] - 5.0 / 3.0) < 1e-12);
}

TEST_CASE("random scales: seeded, positive, 1 off the scalable units", "[equivalence]") {
  random_dag_options o;
  o.seed = 3;
  o.hidden = 30;
  o.nonhomogeneous = 0.3;
  o.bias = true;
  network net = make_random_dag(o);
  auto q = random_rational_scales(net, 17);
  CHECK(q == random_rational_scales(net, 17));
  CHECK(q != random_rational_scales(net, 18));
  auto d = random_scales(net, 17, 2.0);
  CHECK(d == random_scales(net, 17, 2.0));
  bool some_not_one = false;
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    if (!net.is_scalable(v)) {
      CHECK(q[v] == 1);
      CHECK(d[v] == 1.0);
      continue;
    }
    CHECK(q[v] > 0);
    CHECK(q[v].get_num() <= 9);
    CHECK(q[v].get_den() <= 9);
    CHECK(d[v] > 0);
    some_not_one = some_not_one || d[v] != 1.0;
  }
  CHECK(some_not_one);
  for (double c : random_scales(net, 17, 0.0)) CHECK(c == 1.0);
  REQUIRE_THROWS_AS(random_scales(net, 1, -1.0), invalid_argument);
  REQUIRE_THROWS_AS(random_scales(net, 1, INFINITY), invalid_argument);
}

TEST_CASE("apply_rescaling: exactness, errors and shared parameters", "[equivalence]") {
  network a = tiny();
  SECTION("no weights") {
    network bare = test::mlp({2, 2, 1});
    REQUIRE_THROWS_AS(apply_rescaling(bare, std::vector<mpq_class>(bare.num_nodes(), mpq_class(1))), invalid_network);
    REQUIRE_THROWS_AS(apply_rescaling(bare, std::vector<double>(bare.num_nodes(), 1.0)), invalid_network);
  }
  SECTION("bad scales") {
    REQUIRE_THROWS_AS(apply_rescaling(a, std::vector<mpq_class>{1, 2}), invalid_argument);
    REQUIRE_THROWS_WITH(apply_rescaling(a, std::vector<mpq_class>{1, -2, 1}), Catch::Contains("'h' is not positive"));
    REQUIRE_THROWS_WITH(apply_rescaling(a, std::vector<double>{1, 0.0, 1}), Catch::Contains("'h' is not positive"));
    REQUIRE_THROWS_WITH(apply_rescaling(a, std::vector<double>{1, INFINITY, 1}), Catch::Contains("'h' is not finite"));
  }
  SECTION("double scales: exact on exact weights, double otherwise") {
    network thirds = with_weights(a, {mpq_class(1, 3), mpq_class(2, 3), mpq_class(1, 7)});
    network t = apply_rescaling(thirds, std::vector<double>{1, 0.5, 1});
    CHECK(t.exact_weights() == std::vector<mpq_class>{mpq_class(1, 6), mpq_class(4, 3), mpq_class(1, 7)});
    network d = apply_rescaling(a, std::vector<double>{1, 0.5, 1});
    CHECK(d.weights() == std::vector<double>{0.5, 4.0, 3.0});
    // Rational scales on double weights are exact.
    network r = apply_rescaling(a, std::vector<mpq_class>{1, mpq_class(1, 3), 1});
    CHECK(r.exact_weights() == std::vector<mpq_class>{mpq_class(1, 3), mpq_class(6), mpq_class(3)});
  }
  SECTION("a rescaling that breaks a shared parameter") {
    network net;
    node_id x = net.add_node("x", node_kind::input), h = net.add_node("h", node_kind::hidden),
            y = net.add_node("y", node_kind::output);
    net.add_edge(x, h);
    net.add_edge(h, y);
    net.set_param(0, "k");
    net.set_param(1, "k");
    net.set_weights({2.0, 2.0});
    net.finalize();
    REQUIRE_THROWS_WITH(apply_rescaling(net, std::vector<mpq_class>{1, 2, 1}), Catch::Contains("share parameter 'k'"));
    CHECK(apply_rescaling(net, std::vector<mpq_class>{1, 1, 1}).exact_weights() == net.exact_weights());
  }
}
