// tests/graph/network_test.cpp: building, validating and indexing the network DAG.
#include "catch_shim.hpp"

#include <fmt/format.h>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/network.hpp"
#include "scaleinv/graph/random.hpp"

using namespace scaleinv;

TEST_CASE("adjacency lists are complete and in increasing edge id, the order is topological", "[network]") {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    random_dag_options o;
    o.seed = seed;
    o.inputs = 3;
    o.hidden = 8;
    o.outputs = 2;
    o.p = 0.4;
    o.bias = true;
    network net = make_random_dag(o);
    std::vector<int> in_seen(net.num_edges(), 0), out_seen(net.num_edges(), 0);
    for (node_id v = 0; v < net.num_nodes(); ++v) {
      auto in = net.in_edges(v), out = net.out_edges(v);
      for (std::size_t i = 0; i < in.size(); ++i) {
        REQUIRE(net.edge_at(in[i]).to == v);
        if (i > 0) REQUIRE(in[i - 1] < in[i]);
        ++in_seen[in[i]];
      }
      for (std::size_t i = 0; i < out.size(); ++i) {
        REQUIRE(net.edge_at(out[i]).from == v);
        if (i > 0) REQUIRE(out[i - 1] < out[i]);
        ++out_seen[out[i]];
      }
    }
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      REQUIRE(in_seen[e] == 1);
      REQUIRE(out_seen[e] == 1);
      REQUIRE(net.topo_rank(net.edge_at(e).from) < net.topo_rank(net.edge_at(e).to));
    }
    REQUIRE(net.topological_order().size() == net.num_nodes());
  }
}

TEST_CASE("cycles are rejected and named", "[network][validation]") {
  network net;
  node_id x = net.add_node("x", node_kind::input), a = net.add_node("a", node_kind::hidden),
          b = net.add_node("b", node_kind::hidden), c = net.add_node("c", node_kind::hidden),
          y = net.add_node("y", node_kind::output);
  net.add_edge(x, a);
  net.add_edge(a, b);
  net.add_edge(b, c);
  net.add_edge(c, a);
  net.add_edge(c, y);
  try {
    net.finalize();
    FAIL("a cycle was accepted");
  } catch (const not_a_dag& e) {
    REQUIRE(e.cycle() == std::vector<std::string>{"a", "b", "c", "a"});
    REQUIRE(std::string(e.what()) == "the network is not a DAG: cycle a -> b -> c -> a");
  }
}

namespace {
// A random graph on n hidden nodes: edges between random pairs (duplicates included), added in a
// random order; with `dag`, every edge goes forward in a random hidden ranking of the nodes (which
// is not their index order), else some go backward too.
network random_graph(splitmix64& rng, bool dag) {
  const std::size_t n = 1 + rng.below(40);
  network net;
  std::vector<std::size_t> rank(n);
  for (std::size_t v = 0; v < n; ++v) {
    net.add_node(fmt::format("n{}", v), node_kind::hidden);
    rank[v] = v;
  }
  for (std::size_t v = n; v > 1; --v) std::swap(rank[v - 1], rank[rng.below(v)]);
  const std::size_t m = rng.below(3 * n + 1);
  for (std::size_t k = 0; k < m; ++k) {
    auto a = static_cast<node_id>(rng.below(n)), b = static_cast<node_id>(rng.below(n));
    if (a == b) continue;
    if (dag && rank[a] > rank[b]) std::swap(a, b);
    net.add_edge(a, b);
  }
  return net;
}
}  // namespace

TEST_CASE("the topological order is boost::topological_sort's, exactly", "[network]") {
  // Every downstream result (basis paths, training hashes) follows this order: finalize()'s own
  // depth-first search must give Boost's order node for node, not merely some topological order.
  using boost_graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    INFO("seed " << seed);
    splitmix64 rng(seed);
    network net = random_graph(rng, true);
    boost_graph g(net.num_nodes());
    for (const edge& e : net.edges()) boost::add_edge(e.from, e.to, g);  // out-edges in edge id order
    std::vector<std::size_t> reversed;
    boost::topological_sort(g, std::back_inserter(reversed));
    std::vector<node_id> expected(reversed.rbegin(), reversed.rend());
    net.finalize();
    REQUIRE(net.topological_order() == expected);
    for (std::uint32_t i = 0; i < expected.size(); ++i) REQUIRE(net.topo_rank(expected[i]) == i);
  }
}

TEST_CASE("graphs with cycles are refused with a cycle of their own edges", "[network][validation]") {
  int cyclic = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    INFO("seed " << seed);
    splitmix64 rng(seed);
    network net = random_graph(rng, false);
    using boost_graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
    boost_graph g(net.num_nodes());
    for (const edge& e : net.edges()) boost::add_edge(e.from, e.to, g);
    bool boost_says_dag = true;
    try {
      std::vector<std::size_t> order;
      boost::topological_sort(g, std::back_inserter(order));
    } catch (const boost::not_a_dag&) { boost_says_dag = false; }
    if (boost_says_dag) {
      REQUIRE_NOTHROW(net.finalize());
      continue;
    }
    ++cyclic;
    try {
      net.finalize();
      FAIL("a cycle was accepted");
    } catch (const not_a_dag& e) {
      const auto& c = e.cycle();
      REQUIRE(c.size() >= 3);
      REQUIRE(c.front() == c.back());
      for (std::size_t i = 0; i + 1 < c.size(); ++i) {
        const node_id a = *net.find_node(c[i]), b = *net.find_node(c[i + 1]);
        REQUIRE(std::any_of(net.edges().begin(), net.edges().end(),
                            [&](const edge& x) { return x.from == a && x.to == b; }));
      }
    }
  }
  REQUIRE(cyclic > 10);  // the generator does make cycles
}

TEST_CASE("a cycle found after a finished search is named as before", "[network][validation]") {
  // Node 0's search finishes (0 -> 1 -> 2) before the search from 3 meets the cycle 3 -> 4 -> 5 -> 3.
  network net;
  for (int v = 0; v < 6; ++v) net.add_node(fmt::format("n{}", v), node_kind::hidden);
  net.add_edge(0, 1);
  net.add_edge(1, 2);
  net.add_edge(0, 2);
  net.add_edge(3, 4);
  net.add_edge(4, 2);
  net.add_edge(4, 5);
  net.add_edge(5, 3);
  REQUIRE_THROWS_WITH(net.finalize(), "the network is not a DAG: cycle n3 -> n4 -> n5 -> n3");
}

TEST_CASE("a self-loop is a cycle", "[network][validation]") {
  network net;
  node_id h = net.add_node("h", node_kind::hidden);
  net.add_edge(h, h);
  REQUIRE_THROWS_WITH(net.finalize(), "the network is not a DAG: cycle h -> h");
}

TEST_CASE("structural rules name the node or edge", "[network][validation]") {
  SECTION("edge into an input") {
    network net;
    node_id h = net.add_node("h", node_kind::hidden), x = net.add_node("x", node_kind::input);
    net.add_edge(h, x);
    REQUIRE_THROWS_WITH(net.finalize(), Catch::Contains("edge 0 (h -> x) enters input node 'x'"));
  }
  SECTION("edge into a bias node") {
    network net;
    node_id x = net.add_node("x", node_kind::input), b = net.add_node("b", node_kind::bias);
    net.add_edge(x, b);
    REQUIRE_THROWS_WITH(net.finalize(), Catch::Contains("enters bias node 'b'"));
  }
  SECTION("edge out of an output") {
    network net;
    node_id y = net.add_node("y", node_kind::output), h = net.add_node("h", node_kind::hidden);
    net.add_edge(y, h);
    REQUIRE_THROWS_WITH(net.finalize(), Catch::Contains("leaves output node 'y'"));
  }
  SECTION("duplicate and empty ids") {
    network net;
    net.add_node("a", node_kind::input);
    REQUIRE_THROWS_WITH(net.add_node("a", node_kind::hidden), "duplicate node id 'a'");
    REQUIRE_THROWS_AS(net.add_node("", node_kind::hidden), invalid_network);
  }
  SECTION("non-finite weights") {
    network net;
    node_id x = net.add_node("x", node_kind::input), y = net.add_node("y", node_kind::output);
    edge_id e = net.add_edge(x, y);
    REQUIRE_THROWS_WITH(net.set_weight(e, std::numeric_limits<double>::infinity()),
                        Catch::Contains("edge 0 (x -> y) has a non-finite weight"));
    REQUIRE_THROWS_AS(net.set_weight(e, std::nan("")), invalid_network);
  }
  SECTION("weights on some edges only") {
    network net;
    node_id x = net.add_node("x", node_kind::input), y = net.add_node("y", node_kind::output);
    net.add_edge(x, y);
    edge_id e1 = net.add_edge(x, y);
    net.set_weight(e1, 2.0);
    REQUIRE_THROWS_WITH(net.finalize(), Catch::Contains("edge 0 (x -> y) has no weight"));
  }
  SECTION("an activation on an input") {
    network net;
    net.add_node("x", node_kind::input, activation::tanh());
    REQUIRE_THROWS_WITH(net.finalize(), Catch::Contains("input node 'x' has an activation"));
  }
}

TEST_CASE("weights: doubles, exact rationals, and parameters", "[network]") {
  network net;
  node_id x = net.add_node("x", node_kind::input), y = net.add_node("y", node_kind::output);
  edge_id e0 = net.add_edge(x, y), e1 = net.add_edge(x, y), e2 = net.add_edge(x, y);
  net.set_weight(e0, 0.5);
  net.set_exact_weight(e1, mpq_class(1, 3));
  net.set_exact_weight(e2, mpq_class(1, 3));
  net.set_param(e1, "k");
  net.set_param(e2, "k");
  net.finalize();
  REQUIRE(net.has_exact_weights());
  REQUIRE(net.exact_weight(e0) == mpq_class(1, 2));
  REQUIRE(net.exact_weight(e1) == mpq_class(1, 3));
  REQUIRE(net.weight(e1) == Approx(1.0 / 3.0));
  REQUIRE(net.param(e0) == npos);
  REQUIRE(net.param(e1) == net.param(e2));
  REQUIRE(net.num_parameters() == 2);
}

TEST_CASE("activations: homogeneity and the text form", "[network][activation]") {
  REQUIRE(activation::parse("relu").is_homogeneous());
  REQUIRE(activation::parse("leaky_relu:0.1").neg == mpq_class(1, 10));
  REQUIRE(activation::parse("bilu:-1/2:3") == activation::bilu(mpq_class(-1, 2), 3));
  REQUIRE(activation::parse("prelu").neg == mpq_class(1, 4));
  REQUIRE_FALSE(activation::parse("tanh").is_homogeneous());
  REQUIRE_FALSE(activation::parse("sigmoid").is_homogeneous());
  REQUIRE(activation::parse("linear").is_homogeneous());
  for (const char* s : {"relu", "leaky_relu:1/10", "prelu:1/4", "bilu:-1/2:3", "linear", "tanh", "sigmoid"})
    REQUIRE(activation::parse(s).spec() == s);
  REQUIRE_THROWS_WITH(activation::parse("swish"), Catch::Contains("unknown activation 'swish'"));
  REQUIRE_THROWS_WITH(activation::parse("leaky_relu:x"), Catch::Contains("slope 'x' is not a number"));
  REQUIRE_THROWS_WITH(activation::parse("bilu:1"), Catch::Contains("bilu:A:B"));
  REQUIRE_THROWS_WITH(activation::parse("relu:2"), Catch::Contains("expected the form relu"));
}

TEST_CASE("edges sharing a parameter must carry one value", "[network][validation]") {
  network net;
  node_id x = net.add_node("x", node_kind::input), y = net.add_node("y", node_kind::output);
  edge_id e0 = net.add_edge(x, y), e1 = net.add_edge(x, y);
  net.set_exact_weight(e0, mpq_class(1, 3));
  net.set_exact_weight(e1, mpq_class(1, 4));
  net.set_param(e0, "k");
  net.set_param(e1, "k");
  REQUIRE_THROWS_WITH(net.finalize(),
                      "edge 1 (x -> y) and edge 0 (x -> y) share parameter 'k' but have different weights");
}
