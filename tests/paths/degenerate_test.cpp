// tests/paths/degenerate_test.cpp: the degenerate networks, each in its own case: no hidden units,
// direct input-output edges, dead units, units with no path, a single path, an empty network.
#include "catch_shim.hpp"
#include "support.hpp"

#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/basis.hpp"

using namespace scaleinv;

namespace {
// Structural answer, certificate and enumerated exact rank must all agree.
analysis checked(const network& net) {
  analysis r = analyze(net);
  auto en = test::enumerate_and_rank(net);
  REQUIRE(r.cert.valid);
  REQUIRE(r.dimension == en.rank);
  REQUIRE(r.paths == mpz_class(static_cast<unsigned long>(en.paths)));
  return r;
}

bool has_diagnostic(const analysis& r, const std::string& code, const std::string& subject) {
  for (const auto& d : r.diagnostics)
    if (d.code == code && d.subject == subject) return true;
  return false;
}
}  // namespace

TEST_CASE("empty network", "[degenerate]") {
  network net;
  net.finalize();
  analysis r = checked(net);
  REQUIRE(r.paths == 0);
  REQUIRE(r.dimension == 0);
  REQUIRE(r.formula == 0);
  REQUIRE(r.theorem_holds);
  REQUIRE(r.diagnostics.empty());
}

TEST_CASE("no hidden units: every edge is its own basis path", "[degenerate]") {
  network net = test::mlp({3, 2});
  analysis r = checked(net);
  REQUIRE(r.dimension == 6);
  REQUIRE(r.paths == 6);
  REQUIRE(r.theorem_holds);
}

TEST_CASE("a single path", "[degenerate]") {
  network net = test::mlp({1, 1, 1, 1});
  analysis r = checked(net);
  REQUIRE(r.paths == 1);
  REQUIRE(r.dimension == 1);  // 3 edges - 2 hidden: only the product of the weights matters
  REQUIRE(r.theorem_holds);
}

TEST_CASE("direct input-to-output edges beside hidden paths", "[degenerate]") {
  network net;
  node_id x = net.add_node("x", node_kind::input), h = net.add_node("h", node_kind::hidden),
          y = net.add_node("y", node_kind::output);
  net.add_edge(x, h);
  net.add_edge(h, y);
  net.add_edge(x, y);
  net.finalize();
  analysis r = checked(net);
  REQUIRE(r.paths == 2);
  REQUIRE(r.dimension == 2);
  REQUIRE(r.theorem_holds);
}

TEST_CASE("dead units: no incoming edge, no outgoing edge, only dead neighbours", "[degenerate]") {
  network net;
  node_id x = net.add_node("x", node_kind::input), h = net.add_node("h", node_kind::hidden),
          no_in = net.add_node("no_in", node_kind::hidden), no_out = net.add_node("no_out", node_kind::hidden),
          behind = net.add_node("behind", node_kind::hidden), y = net.add_node("y", node_kind::output);
  net.add_edge(x, h);           // 0
  net.add_edge(h, y);           // 1
  net.add_edge(no_in, y);       // 2: its tail is reached by nothing
  net.add_edge(no_in, behind);  // 3
  net.add_edge(behind, y);      // 4: behind is fed only by a dead unit
  net.add_edge(x, no_out);      // 5: no_out leads nowhere
  net.finalize();
  analysis r = checked(net);
  REQUIRE(r.paths == 1);
  REQUIRE(r.active_edges == 2);
  REQUIRE(r.active_hidden == 1);
  REQUIRE(r.dimension == 1);
  REQUIRE(r.formula == 6 - 4);
  REQUIRE(r.theorem_holds == false);
  REQUIRE(has_diagnostic(r, "dead_unit", "no_in"));
  REQUIRE(has_diagnostic(r, "dead_unit", "no_out"));
  REQUIRE(has_diagnostic(r, "dead_unit", "behind"));
  for (int e : {2, 3, 4, 5}) REQUIRE(has_diagnostic(r, "inactive_edge", "edge " + std::to_string(e)));
  for (const auto& d : r.diagnostics) {
    if (d.subject == "no_in") REQUIRE(d.message.find("no incoming edges") != std::string::npos);
    if (d.subject == "no_out") REQUIRE(d.message.find("no outgoing edges") != std::string::npos);
    if (d.subject == "behind") REQUIRE(d.message.find("come from units no input reaches") != std::string::npos);
  }
  REQUIRE(r.reasons.size() == 2);
}

TEST_CASE("units with no path at all: a hidden island, an unused input, an unreached output", "[degenerate]") {
  network net;
  node_id x = net.add_node("x", node_kind::input), unused = net.add_node("unused", node_kind::input),
          island = net.add_node("island", node_kind::hidden), y = net.add_node("y", node_kind::output),
          lonely = net.add_node("lonely", node_kind::output);
  net.add_edge(x, y);
  (void)unused;
  (void)island;
  (void)lonely;
  net.finalize();
  analysis r = checked(net);
  REQUIRE(r.dimension == 1);
  REQUIRE(r.formula == 0);
  REQUIRE(has_diagnostic(r, "dead_unit", "island"));
  REQUIRE(has_diagnostic(r, "unused_input", "unused"));
  REQUIRE(has_diagnostic(r, "unreached_output", "lonely"));
}

TEST_CASE("a network with no path at all", "[degenerate]") {
  network net;
  node_id x = net.add_node("x", node_kind::input), h = net.add_node("h", node_kind::hidden);
  net.add_node("y", node_kind::output);
  net.add_edge(x, h);
  net.finalize();
  analysis r = checked(net);
  REQUIRE(r.paths == 0);
  REQUIRE(r.dimension == 0);
  REQUIRE(r.active_edges == 0);
}

TEST_CASE("non-homogeneous units split paths and keep their edges' freedom", "[degenerate]") {
  // x -> t (tanh) -> y: two paths of one edge each, no rescaling: dimension 2 = E, not E - H = 1.
  network net;
  node_id x = net.add_node("x", node_kind::input), t = net.add_node("t", node_kind::hidden, activation::sigmoid()),
          y = net.add_node("y", node_kind::output);
  net.add_edge(x, t);
  net.add_edge(t, y);
  net.finalize();
  analysis r = checked(net);
  REQUIRE(r.paths == 2);
  REQUIRE(r.dimension == 2);
  REQUIRE(r.formula == 1);
  REQUIRE(has_diagnostic(r, "nonhomogeneous_unit", "t"));
}

TEST_CASE("parallel edges between the same two nodes are separate weights", "[degenerate]") {
  network net;
  node_id x = net.add_node("x", node_kind::input), h = net.add_node("h", node_kind::hidden),
          y = net.add_node("y", node_kind::output);
  net.add_edge(x, h);
  net.add_edge(x, h);
  net.add_edge(h, y);
  net.finalize();
  analysis r = checked(net);
  REQUIRE(r.paths == 2);
  REQUIRE(r.dimension == 2);
}
