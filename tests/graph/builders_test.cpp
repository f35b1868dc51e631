// tests/graph/builders_test.cpp: MLPs, skip MLPs, random DAGs and the specs that name them.
#include "catch_shim.hpp"

#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"

using namespace scaleinv;

TEST_CASE("mlp layout: node ids, edge order, biases", "[builders]") {
  network net = from_spec("mlp:3-4-2,bias");
  REQUIRE(net.count(node_kind::input) == 3);
  REQUIRE(net.count(node_kind::hidden) == 4);
  REQUIRE(net.count(node_kind::output) == 2);
  REQUIRE(net.count(node_kind::bias) == 2);
  REQUIRE(net.num_edges() == 3 * 4 + 4 + 4 * 2 + 2);
  // target-major: edge 1 is x1 -> h1_0; edges 12..15 are the layer-1 biases.
  REQUIRE(net.describe_edge(1) == "edge 1 (x1 -> h1_0)");
  REQUIRE(net.describe_edge(3) == "edge 3 (x0 -> h1_1)");
  REQUIRE(net.describe_edge(12) == "edge 12 (b1 -> h1_0)");
  REQUIRE(net.describe_edge(16) == "edge 16 (h1_0 -> y0)");
  REQUIRE(net.describe_edge(25) == "edge 25 (b2 -> y1)");
  REQUIRE_FALSE(net.has_weights());
}

TEST_CASE("mlp options: activation and initial weights", "[builders]") {
  network net = from_spec("mlp:3-4-2,act=leaky_relu:0.2,init=5");
  REQUIRE(net.node_at(*net.find_node("h1_0")).act == activation::leaky_relu(mpq_class(1, 5)));
  REQUIRE(net.has_weights());
  network again = from_spec("mlp:3-4-2,act=leaky_relu:0.2,init=5");
  REQUIRE(net.weights() == again.weights());
  REQUIRE(net.weights() != from_spec("mlp:3-4-2,init=6").weights());
}

TEST_CASE("skip MLPs: identity shortcuts for equal widths, projections otherwise", "[builders]") {
  network same =
      from_spec("skip:2-3-3-3-2");  // span 2: x -> layer 2 (2x3 projection), 1 -> 3 (3 identity), 2 -> 4 (3x2)
  REQUIRE(same.num_edges() == (6 + 9 + 9 + 6) + (6 + 3 + 6));
  network span3 = from_spec("skip:2-3-3-3-2,span=3");  // 0 -> 3 (2x3), 1 -> 4 (3x2)
  REQUIRE(span3.num_edges() == 30 + 6 + 6);
  REQUIRE_THROWS_AS(from_spec("skip:2-3-3,span=1"), parse_error);
}

TEST_CASE("random DAGs are reproducible from the seed", "[builders]") {
  auto edges_of = [](const network& n) {
    std::vector<std::pair<node_id, node_id>> out;
    for (const auto& e : n.edges()) out.emplace_back(e.from, e.to);
    return out;
  };
  network a = from_spec("random:seed=7,inputs=3,hidden=10,outputs=2,p=0.4");
  network b = from_spec("random:seed=7,inputs=3,hidden=10,outputs=2,p=0.4");
  network c = from_spec("random:seed=8,inputs=3,hidden=10,outputs=2,p=0.4");
  REQUIRE(edges_of(a) == edges_of(b));
  REQUIRE(edges_of(a) != edges_of(c));
  REQUIRE(a.num_edges() > 0);
  // p = 1 gives every allowed edge: inputs to everything after them, hidden to later hidden and outputs.
  network full = from_spec("random:seed=1,inputs=2,hidden=3,outputs=1,p=1");
  REQUIRE(full.num_edges() == (2 * 3 + 3) + (2 + 3));
  network none = from_spec("random:seed=1,inputs=2,hidden=3,outputs=1,p=0");
  REQUIRE(none.num_edges() == 0);
  network tanh = from_spec("random:seed=3,inputs=2,hidden=40,outputs=1,p=0.3,tanh=0.5");
  std::size_t t = 0;
  for (const auto& n : tanh.nodes()) t += n.act.kind == activation_kind::tanh ? 1 : 0;
  REQUIRE(t > 5);
  REQUIRE(t < 35);
}

TEST_CASE("specs: errors name the spec and the bad part", "[builders][validation]") {
  REQUIRE_THROWS_WITH(from_spec("mlp:3-x-2"),
                      "network spec 'mlp:3-x-2': layer width 'x' is not a non-negative integer");
  REQUIRE_THROWS_WITH(from_spec("mlp:3"), Catch::Contains("at least two layers"));
  REQUIRE_THROWS_WITH(from_spec("mlp:3-2,wat"), Catch::Contains("unknown option 'wat'"));
  REQUIRE_THROWS_WITH(from_spec("random:inputs=2"), Catch::Contains("needs seed=S"));
  REQUIRE_THROWS_WITH(from_spec("random:seed=1,p=1.5"), Catch::Contains("not a probability"));
  REQUIRE_THROWS_WITH(from_spec("conv2d:3"), Catch::Contains("unknown network kind 'conv2d'"));
  REQUIRE_THROWS_WITH(from_spec("mlp:100000-100000-100000"), Catch::Contains("the limit is"));
}

namespace {
std::vector<std::pair<node_id, node_id>> edge_list(const network& n) {
  std::vector<std::pair<node_id, node_id>> out;
  for (const auto& e : n.edges()) out.emplace_back(e.from, e.to);
  return out;
}
}  // namespace

TEST_CASE("parse_network_spec reads without building, and planned_size is what build makes", "[builders]") {
  for (const char* text :
       {"mlp:3-4-2,bias", "mlp:2-5-5-1", "skip:2-3-3-3-2", "skip:2-3-3-3-2,span=3,bias", "skip:4-4-4,bias",
        "conv:len=8,ch=1-2-1,k=3,bias", "conv:len=6,ch=2-3-1,k=2", "conv:len=3,ch=1-1,k=1",
        "random:seed=1,inputs=2,hidden=3,outputs=1,p=1", "random:seed=1,inputs=2,hidden=3,outputs=1,p=1,bias"}) {
    INFO(text);
    const network_spec spec = parse_network_spec(text);
    CHECK(spec.text == text);
    const network net = build(spec);
    const network_size planned = planned_size(spec);
    CHECK(planned.nodes == static_cast<double>(net.num_nodes()));
    CHECK(planned.edges == static_cast<double>(net.num_edges()));  // p = 1: every pair is an edge
    CHECK(edge_list(net) == edge_list(from_spec(text)));
  }
  // A random DAG with p < 1 has at most the planned pairs.
  const network_spec sparse = parse_network_spec("random:seed=7,inputs=3,hidden=10,outputs=2,p=0.4");
  CHECK(static_cast<double>(build(sparse).num_edges()) <= planned_size(sparse).edges);
  CHECK(planned_size(sparse).edges == 3 * 12 + 45 + 20);
  // Sizes far past 2^64 are read and counted, not built.
  const network_spec huge = parse_network_spec("mlp:18446744073709551615-18446744073709551615-2,bias");
  CHECK(planned_size(huge).edges > 3e38);
  CHECK_THROWS_AS(build(huge), parse_error);
}

TEST_CASE("specs whose sizes overflow 64 bits are refused before anything is allocated", "[builders][validation]") {
  // Each once wrapped around in size_t arithmetic: the size check saw a small network (or "0
  // edges") and the builder then added nodes until memory ran out.
  CHECK_THROWS_WITH(from_spec("mlp:18446744073709551615-1,bias"),
                    "network spec 'mlp:18446744073709551615-1,bias': the network would have about 1.845e+19 edges; the "
                    "limit is 1000000000");
  CHECK_THROWS_WITH(from_spec("mlp:4294967295-4294967295-4294967295"),
                    Catch::Contains("would have about 3.689e+19 edges"));
  CHECK_THROWS_WITH(from_spec("conv:len=4294967296,ch=4294967296-1,k=4294967296"),
                    Catch::Contains("conv: the network would have about 1.845e+19 edges"));
  CHECK_THROWS_WITH(from_spec("conv:len=5,ch=1-1-1,k=9223372036854775809"), Catch::Contains("leaves no positions"));
  CHECK_THROWS_WITH(from_spec("random:seed=1,inputs=18446744073709551615,bias,p=1"),
                    Catch::Contains("too many edges expected"));
  // Few edges but too many nodes, or too many pairs to draw.
  CHECK_THROWS_WITH(from_spec("mlp:200000000-1"),
                    Catch::Contains("the network would have 200000001 nodes; the limit is 100000000"));
  CHECK_THROWS_WITH(from_spec("random:seed=1,inputs=200000000,p=0"),
                    Catch::Contains("200000005 nodes; the limit is 100000000"));
  CHECK_THROWS_WITH(from_spec("random:seed=1,inputs=10000000,hidden=10000000,p=0"),
                    Catch::Contains("random DAG: 150000015000000 candidate edges to draw; the limit is 10000000000"));
}
