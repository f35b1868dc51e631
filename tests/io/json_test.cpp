// tests/io/json_test.cpp: the scaleinv.network format round-trips exactly.
#include "catch_shim.hpp"
#include "support.hpp"

#include "scaleinv/io/load.hpp"

using namespace scaleinv;

namespace {
void require_same(const network& a, const network& b) {
  REQUIRE(a.num_nodes() == b.num_nodes());
  REQUIRE(a.num_edges() == b.num_edges());
  for (node_id v = 0; v < a.num_nodes(); ++v) {
    REQUIRE(a.node_at(v).id == b.node_at(v).id);
    REQUIRE(a.node_at(v).kind == b.node_at(v).kind);
    REQUIRE(a.node_at(v).act == b.node_at(v).act);
  }
  REQUIRE(a.has_weights() == b.has_weights());
  for (edge_id e = 0; e < a.num_edges(); ++e) {
    REQUIRE(a.edge_at(e).from == b.edge_at(e).from);
    REQUIRE(a.edge_at(e).to == b.edge_at(e).to);
    if (a.has_weights()) REQUIRE(a.exact_weight(e) == b.exact_weight(e));
    REQUIRE((a.param(e) == npos) == (b.param(e) == npos));
    if (a.param(e) != npos) REQUIRE(a.param_names()[a.param(e)] == b.param_names()[b.param(e)]);
  }
}
}  // namespace

TEST_CASE("write then read gives the same network, exact weights included", "[json]") {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    random_dag_options o = test::random_case(seed);
    o.act = seed % 3 == 0 ? activation::bilu(mpq_class(-1, 3), 2) : activation::leaky_relu(mpq_class(1, 7));
    network net = make_random_dag(o);
    splitmix64 rng(seed);
    if (seed % 2 == 0) net.set_exact_weights(test::random_weights(net, rng));
    else init_weights(net, seed);
    std::string text = write_network_json(net);
    INFO(text);
    network back = read_network_json(text, "roundtrip.json");
    require_same(net, back);
    REQUIRE(write_network_json(back) == text);
  }
}

TEST_CASE("weights: numbers are binary doubles, strings are exact", "[json]") {
  network net = read_network_json(R"({"format": "scaleinv.network", "version": 1,
    "nodes": [{"id": "x", "kind": "input"}, {"id": "y", "kind": "output"}],
    "edges": [{"from": "x", "to": "y", "weight": 0.1}, {"from": "x", "to": "y", "weight": "0.1"},
              {"from": "x", "to": "y", "weight": "-3/4", "param": "k"},
              {"from": "x", "to": "y", "weight": 2, "param": 7}]})",
                                  "w.json");
  REQUIRE(net.exact_weight(0) == mpq_class(0.1));
  REQUIRE(net.exact_weight(1) == mpq_class(1, 10));
  REQUIRE(net.exact_weight(0) != net.exact_weight(1));
  REQUIRE(net.exact_weight(2) == mpq_class(-3, 4));
  REQUIRE(net.param_names()[net.param(3)] == "7");
  std::string text = write_network_json(net);
  REQUIRE(text.find("\"1/10\"") != std::string::npos);
  REQUIRE(text.find("-0.75") != std::string::npos);  // exactly a double: written as a number
}

TEST_CASE("activation forms in JSON", "[json]") {
  network net = read_network_json(R"({"format": "scaleinv.network", "version": 1, "nodes": [
    {"id": "a", "kind": "hidden", "activation": "leaky_relu", "slope": "1/5"},
    {"id": "b", "kind": "hidden", "activation": "leaky_relu:0.2"},
    {"id": "c", "kind": "hidden", "activation": "bilu", "slopes": [-1, "1/2"]},
    {"id": "d", "kind": "hidden"}], "edges": []})",
                                  "act.json");
  REQUIRE(net.node_at(0).act == activation::leaky_relu(mpq_class(1, 5)));
  REQUIRE(net.node_at(1).act == net.node_at(0).act);
  REQUIRE(net.node_at(2).act == activation::bilu(-1, mpq_class(1, 2)));
  REQUIRE(net.node_at(3).act == activation::relu());  // the default
}

TEST_CASE("built-in examples load", "[json]") {
  for (const auto& name : example_names()) {
    network net = load_network("example:" + name);
    REQUIRE(net.num_edges() > 0);
    REQUIRE(net.has_weights());
  }
}
