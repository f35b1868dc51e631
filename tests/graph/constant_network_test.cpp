// tests/graph/constant_network_test.cpp: constant edges in the graph model (math.md section 9):
// their weights (fixed, exact, refused when changed), the parameter count, the JSON key and its
// round trip, DOT, equivalence (equal constants, ends of one scale) and scales that respect them.
#include "catch_shim.hpp"

#include "constant_support.hpp"
#include "support.hpp"

#include "scaleinv/error.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/io/dot.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"

using namespace scaleinv;
using scaleinv::test::contains;

namespace {
// x0, x1 -> h0 (relu) =1/3=> h1 (linear) -> y; x1 -> y. Edges: 0 x0->h0, 1 x1->h0, 2 h0=>h1 (constant
// 1/3), 3 h1->y, 4 x1->y.
network small(bool weights) {
  network net;
  net.add_node("x0", node_kind::input);
  net.add_node("x1", node_kind::input);
  net.add_node("h0", node_kind::hidden);
  net.add_node("h1", node_kind::hidden, activation::linear());
  net.add_node("y", node_kind::output);
  net.add_edge(0, 2);
  net.add_edge(1, 2);
  net.set_constant(net.add_edge(2, 3), mpq_class(1, 3));
  net.add_edge(3, 4);
  net.add_edge(1, 4);
  if (weights) {
    net.set_weight(0, 0.5);
    net.set_exact_weight(1, mpq_class(-2, 5));
    net.set_weight(3, 2.0);
    net.set_weight(4, -1.0);
  }
  net.finalize();
  return net;
}

std::string json_net(const std::string& edges) {
  return R"({"format": "scaleinv.network", "version": 1, "nodes": [{"id": "x0", "kind": "input"},
    {"id": "h0", "kind": "hidden"}, {"id": "h1", "kind": "hidden", "activation": "avg_pool"},
    {"id": "y0", "kind": "output"}],
    "edges": [)" +
         edges + "]}";
}
}  // namespace

TEST_CASE("constant edges: weights, parameters and refusals", "[constant][network]") {
  network net = small(true);
  REQUIRE(net.has_constants());
  CHECK(net.num_constants() == 1);
  CHECK(net.is_constant(2));
  CHECK_FALSE(net.is_constant(0));
  CHECK(net.constant_value(2) == mpq_class(1, 3));
  CHECK(net.num_parameters() == 4);
  CHECK(net.has_parameter_map());
  REQUIRE(net.has_weights());
  CHECK(net.exact_weight(2) == mpq_class(1, 3));  // exact, though no double is 1/3
  CHECK(net.weight(2) == mpq_class(1, 3).get_d());

  // set_weights keeps the constant's exact value; another value is refused, naming the edge.
  std::vector<double> w = net.weights();
  w[0] = 3;
  net.set_weights(w);
  CHECK(net.exact_weight(2) == mpq_class(1, 3));
  CHECK(net.exact_weight(0) == 3);
  w[2] = 0.5;
  CHECK_THROWS_WITH(net.set_weights(w), Catch::Contains("edge 2 (h0 -> h1) is constant with weight 1/3"));
  std::vector<mpq_class> q = net.exact_weights();
  q[2] = mpq_class(1, 3).get_d();  // the nearest double is not the constant
  CHECK_THROWS_WITH(net.set_exact_weights(q), Catch::Contains("is constant"));
  net.put_constants(q);
  net.set_exact_weights(q);
  CHECK(net.exact_weight(2) == mpq_class(1, 3));
  // put_constants on doubles, and clear_weights keeps the constants (not weights).
  std::vector<double> d(net.num_edges(), 7.0);
  net.put_constants(d);
  CHECK(d == std::vector<double>{7, 7, mpq_class(1, 3).get_d(), 7, 7});
  net.clear_weights();
  CHECK_FALSE(net.has_weights());
  CHECK(net.constant_value(2) == mpq_class(1, 3));

  // Without other weights the network has none; init_weights draws them and keeps the constant.
  network bare = small(false);
  CHECK_FALSE(bare.has_weights());
  init_weights(bare, 3);
  REQUIRE(bare.has_weights());
  CHECK(bare.exact_weight(2) == mpq_class(1, 3));

  // A constant edge with a shared parameter, or a non-finite constant, is refused.
  network both;
  both.add_node("x", node_kind::input);
  both.add_node("y", node_kind::output);
  const edge_id e = both.add_edge(0, 1);
  both.set_constant(e);
  both.set_param(e, "k");
  CHECK_THROWS_WITH(both.finalize(), Catch::Contains("is constant and has shared parameter 'k'"));
  network inf;
  inf.add_node("x", node_kind::input);
  inf.add_node("y", node_kind::output);
  CHECK_THROWS_AS(inf.set_constant(inf.add_edge(0, 1), std::numeric_limits<double>::infinity()), invalid_network);
  // A weight given to a constant edge must be its constant.
  network given;
  given.add_node("x", node_kind::input);
  given.add_node("y", node_kind::output);
  given.set_constant(given.add_edge(0, 1), mpq_class(2));
  CHECK_THROWS_WITH(given.set_weight(0, 3.0), Catch::Contains("is constant with weight 2"));
  given.set_weight(0, 2.0);
  given.finalize();
  CHECK(given.has_weights());  // every edge constant: the weights are the constants

  // structure_difference names a constant that differs.
  network other = small(true);
  CHECK_FALSE(structure_difference(small(true), other));
  network plain;
  for (const auto& n : other.nodes()) plain.add_node(n.id, n.kind, n.act);
  for (const auto& ed : other.edges()) plain.add_edge(ed.from, ed.to);
  plain.finalize();
  CHECK(structure_difference(other, plain).value_or("") ==
        "it has edge 2 (h0 -> h1) (constant, weight 1/3), the other edge 2 (h0 -> h1) (not constant)");
}

TEST_CASE("constant edges in JSON: the key, the default weight, the round trip", "[constant][json]") {
  // No trained weights, a constant with its default weight 1 and one with an exact 1/2.
  network net = read_network_json(json_net(R"({"from": "x0", "to": "h0"}, {"from": "h0", "to": "h1", "constant": true},
                 {"from": "x0", "to": "h1", "constant": true, "weight": "1/2"},
                 {"from": "h1", "to": "y0", "constant": false})"),
                                  "t.json");
  CHECK_FALSE(net.has_weights());
  CHECK(net.num_constants() == 2);
  CHECK(net.constant_value(1) == 1);
  CHECK(net.constant_value(2) == mpq_class(1, 2));
  CHECK(net.num_parameters() == 2);
  const std::string text = write_network_json(net);
  CHECK(contains(text, R"({"constant":true,"from":"h0","to":"h1","weight":1.0})"));
  CHECK(contains(text, R"({"constant":true,"from":"x0","to":"h1","weight":0.5})"));
  CHECK(contains(text, R"({"from":"h1","to":"y0"})"));
  network back = read_network_json(text, "back.json");
  CHECK_FALSE(structure_difference(net, back));
  CHECK(write_network_json(back) == text);

  // With trained weights: a constant edge's weight does not count for "every edge or none".
  network weighted = read_network_json(
      json_net(
          R"({"from": "x0", "to": "h0", "weight": 2}, {"from": "h0", "to": "h1", "constant": true, "weight": "1/3"},
                 {"from": "h1", "to": "y0", "weight": "-3/7"})"),
      "w.json");
  REQUIRE(weighted.has_weights());
  CHECK(weighted.exact_weights() == std::vector<mpq_class>{2, mpq_class(1, 3), mpq_class(-3, 7)});
  network wback = read_network_json(write_network_json(weighted), "wback.json");
  CHECK(wback.exact_weights() == weighted.exact_weights());
  CHECK(wback.is_constant(1));

  // The bad cases (also in tests/data/bad/cases.txt).
  CHECK_THROWS_WITH(read_network_json(json_net(R"({"from": "x0", "to": "y0", "constant": 1})"), "b.json"),
                    Catch::Contains("\"constant\" must be true or false, not 1"));
  CHECK_THROWS_WITH(
      read_network_json(json_net(R"({"from": "x0", "to": "y0", "constant": true, "param": 3})"), "b.json"),
      Catch::Contains("a constant edge has no \"param\""));
  CHECK_THROWS_WITH(
      read_network_json(json_net(R"({"from": "x0", "to": "y0", "constant": true, "weight": "nan"})"), "b.json"),
      Catch::Contains("constant weight \"nan\" is not a finite number"));
}

TEST_CASE("constant edges in DOT are dashed", "[constant][dot]") {
  network net = small(true);
  const std::string dot = write_dot(net, true);
  CHECK(contains(dot, "\"h0\" -> \"h1\" [label=\"e2: 0.3333 const\""));
  CHECK(contains(dot, "style=dashed];\n  \"h1\" -> \"y\""));
  CHECK_FALSE(contains(dot, "\"x0\" -> \"h0\" [label=\"e0: 0.5\", style=dashed"));
}

TEST_CASE("constant edges: random scales respect them, equivalence requires them", "[constant][equivalence]") {
  network net = load_network("example:pool");
  REQUIRE(net.num_constants() == 5);
  const std::vector<node_id> cls = constant_classes(net);
  const node_id h0 = *net.find_node("h0"), g = *net.find_node("g");
  for (const char* id : {"h1", "a", "m", "s"}) CHECK(cls[*net.find_node(id)] == h0);
  CHECK(cls[g] == g);
  CHECK(cls[*net.find_node("x0")] == npos);
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const auto q = random_rational_scales(net, seed);
    const auto d = random_scales(net, seed, 1.0);
    for (const char* id : {"h1", "a", "m", "s"}) {
      CHECK(q[*net.find_node(id)] == q[h0]);
      CHECK(d[*net.find_node(id)] == d[h0]);
    }
    network b = apply_rescaling(net, q);
    for (edge_id e = 0; e < net.num_edges(); ++e)
      if (net.is_constant(e)) CHECK(b.exact_weight(e) == net.exact_weight(e));
    auto r = rescaling_equivalence(net, b);
    REQUIRE(r.equivalent);
    CHECK(r.exact_scales[*net.find_node("s")] == q[h0]);
    CHECK(r.exact_scales[g] == q[g]);
  }
  // A scale that breaks a constant edge is refused.
  std::vector<mpq_class> q(net.num_nodes(), mpq_class(1));
  q[h0] = 2;
  CHECK_THROWS_WITH(apply_rescaling(net, q), Catch::Contains("edge 6 (h0 -> a) is constant"));

  // Equivalence: B is A with h0's class scaled by 2 (constants kept). Changing a constant in B,
  // or making it a parameter, is caught.
  for (const node_id v : {h0, *net.find_node("h1"), *net.find_node("a"), *net.find_node("m"), *net.find_node("s")})
    q[v] = 2;
  const network b = apply_rescaling(net, q);
  REQUIRE(rescaling_equivalence(net, b).equivalent);
  std::string text = write_network_json(b);
  const std::string edge6 = R"({"constant":true,"from":"h0","to":"a","weight":0.5})";
  REQUIRE(text.find(edge6) != std::string::npos);
  const std::string changed_text = std::string(text).replace(text.find(edge6), edge6.size(),
                                                             R"({"constant":true,"from":"h0","to":"a","weight":0.25})");
  auto r = rescaling_equivalence(net, read_network_json(changed_text, "c.json"));
  CHECK_FALSE(r.equivalent);
  CHECK(r.failed_edge == 6);
  CHECK(contains(r.reason, "edge 6 (h0 -> a): constant weight 1/2 in A but 1/4 in B: constant edges never change"));
  std::string unconstant = text;
  REQUIRE(unconstant.find("{\"constant\":true,\"from\":\"a\"") != std::string::npos);
  unconstant.replace(unconstant.find("{\"constant\":true,\"from\":\"a\""), 17, "{");
  CHECK_THROWS_WITH(rescaling_equivalence(net, read_network_json(unconstant, "u.json")),
                    Catch::Contains("edge 14 (a -> s) is constant in A but not constant in B"));

  // Weights that only a rescaling breaking a constant edge relates are not equivalent. x =c=> h: h
  // is pinned, so the weight of h -> y cannot change.
  network pinned = read_network_json(json_net(R"({"from": "x0", "to": "h0", "constant": true},
      {"from": "h0", "to": "y0", "weight": 2}, {"from": "x0", "to": "h1", "weight": 1},
      {"from": "h1", "to": "y0", "weight": 1})"),
                                     "p.json");
  std::vector<double> w2 = pinned.weights();
  w2[1] = 4;
  network pinned2 = pinned;
  pinned2.set_weights(w2);
  auto rp = rescaling_equivalence(pinned, pinned2);
  CHECK_FALSE(rp.equivalent);
  CHECK(rp.failed_edge == 1);
  // A zero constant links its ends all the same.
  network zero = read_network_json(json_net(R"({"from": "x0", "to": "h0", "weight": 1},
      {"from": "h0", "to": "h1", "constant": true, "weight": 0}, {"from": "h1", "to": "y0", "weight": 1},
      {"from": "x0", "to": "h1", "weight": 1})"),
                                   "z.json");
  network zero2 = zero;
  zero2.set_weights({2, 0, 1, 1});  // h0 by 2, h1 by 1: the zero constant is unchanged, but h0 and h1 differ
  auto rz = rescaling_equivalence(zero, zero2);
  CHECK_FALSE(rz.equivalent);
  CHECK(contains(rz.reason, "edge 1 (h0 -> h1) is constant, so c(h1) must equal c(h0)"));
}
