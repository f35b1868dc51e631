// tests/cli/constant_cli_test.cpp: every command on networks with constant edges, in-process.
//
// example:pool (lib/src/io/load.cpp), edges: 0 x0->h0, 1 x1->h0, 2 b->h0, 3 x2->h1, 4 x3->h1,
// 5 b->h1, 6 h0=>a (constant 1/2), 7 h1=>a (1/2), 8 h0=>m (1), 9 h1=>m (1), 10 a->g, 11 m->g,
// 12 b->g, 13 g->s, 14 a=>s (1, the identity shortcut), 15 s->y0, 16 m->y0. a is linear (average
// pooling by its 1/2 edges), m max_pool, s linear (the addition). 17 edges, 5 constant, 12
// parameters, 6 hidden units; E_on - H_on = 11; the constant edges join h0, h1, a, m, s into one
// scale, so 2 rescalings survive and the dimension is 12 - 2 = 10.
#include "catch_shim.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli/cli_support.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/paths/enumerate.hpp"

using nlohmann::json;
using namespace scaleinv;
using namespace scaleinv::test;

namespace {
const std::vector<int> kConstant{6, 7, 8, 9, 14};

// The constant edges of a written network: still constant, with their weights.
void require_constants(const std::string& path) {
  const json doc = json::parse(read_file(path));
  const std::vector<std::string> weights{"0.5", "0.5", "1.0", "1.0", "1.0"};
  for (std::size_t i = 0; i < kConstant.size(); ++i) {
    const json& e = doc["edges"][kConstant[i]];
    INFO(path << " edge " << kConstant[i] << ": " << e.dump());
    CHECK(e.value("constant", false));
    CHECK(e["weight"].dump() == weights[i]);
  }
  std::size_t constants = 0;
  for (const auto& e : doc["edges"]) constants += e.value("constant", false) ? 1 : 0;
  CHECK(constants == kConstant.size());
}
}  // namespace

TEST_CASE("analyze, basis, express, verify on example:pool", "[cli][constant]") {
  json a = run_json_line({"analyze", "example:pool", "--json"});
  CHECK(a.at("edges") == 17);
  CHECK(a.at("constant_edges") == 5);
  CHECK(a.at("parameters") == 12);
  CHECK(a.at("unshared_dimension") == 11);
  CHECK(a.at("dimension") == 10);
  CHECK(a.at("shared").at("parameters") == 12);
  CHECK(a.at("shared").at("surviving_rescalings") == 2);
  CHECK(a.at("shared").at("rescalings") ==
        json::array({json{{"a", 1}, {"h0", 1}, {"h1", 1}, {"m", 1}, {"s", 1}}, json{{"g", 1}}}));
  bool noted = false;
  for (const auto& d : a.at("diagnostics")) noted = noted || d.at("code") == "constant_edges";
  CHECK(noted);
  cli_result r = run({"analyze", "example:pool"});
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "parameters       12  (+5 constant edges, not parameters)\n"));
  CHECK(contains(r.out, "dimension        10  (rank(A M) over the parameters, exact"));
  CHECK(contains(r.out, "rescalings       2 of 6 survive the constant edges"));
  CHECK(contains(r.out,
                 "5 edges are constant (12 parameters for 17 edges): rank(A M) = 10, with 2 rescalings surviving "
                 "the constant edges"));

  r = run({"basis", "example:pool"});
  REQUIRE(r.code == 0);
  CHECK(starts_with(r.out, "11 basis paths (the unshared dimension E_on - H_on"));
  CHECK(contains(r.out, "\nconstant edges: the network's dimension is rank(A M) = 10 over its 12 parameters"));

  // x0 -> h0 => a => s -> y0: two constant edges on the path; the value identity holds exactly.
  json x = run_json_line({"express", "example:pool", "--path", "0,6,14,15", "--json"});
  CHECK(x.at("values_agree") == true);
  CHECK(x.at("value") == "5/12");  // 1/2 * 1/2 * 1 * 5/3

  json v = run_json_line({"verify", "example:pool", "--json"});
  CHECK(v.at("agree") == true);
  CHECK(v.at("rank") == 11);
  CHECK(v.at("shared_rank") == 10);
  CHECK(v.at("shared_dimension") == 10);
}

TEST_CASE("convert keeps constant edges (JSON round trip) and dashes them in DOT", "[cli][constant]") {
  temp_dir dir;
  const std::string once = dir.file("once.json"), twice = dir.file("twice.json");
  REQUIRE(run({"convert", "example:pool", "-o", once}).code == 0);
  REQUIRE(run({"convert", once, "-o", twice}).code == 0);
  CHECK(read_file(once) == read_file(twice));
  require_constants(once);
  cli_result dot = run({"convert", "example:pool", "--to", "dot", "--basis"});
  REQUIRE(dot.code == 0);
  CHECK(contains(dot.out, "\"h0\" -> \"a\" [label=\"e6: 0.5 const\""));
  CHECK(contains(dot.out, "\"a\" -> \"s\" [label=\"e14: 1 const B"));  // on a basis path
  CHECK(contains(dot.out, "style=dashed];\n  \"h1\" -> \"a\""));
}

TEST_CASE("rescale and equivalent respect constant edges", "[cli][constant][equivalence]") {
  temp_dir dir;
  const std::string b = dir.file("b.json");
  REQUIRE(run({"rescale", "example:pool", "--seed", "3", "-o", b}).code == 0);
  require_constants(b);
  json eq = run_json({"equivalent", "example:pool", b, "--json"});
  CHECK(eq.at("equivalent") == true);
  CHECK(eq.at("exact") == true);
  for (const char* id : {"h1", "a", "m", "s"}) CHECK(eq.at("scales").at(id) == eq.at("scales").at("h0"));

  // Scales that break a constant edge are refused (exit 2), naming the edge; scales per class work.
  const std::string bad = dir.write("bad.json", R"({"h0": 2})");
  require_usage_error({"rescale", "example:pool", "--scales", bad}, "edge 6 (h0 -> a) is constant");
  const std::string good = dir.write("good.json", R"({"h0": 2, "h1": 2, "a": 2, "m": 2, "s": 2, "g": "1/3"})");
  const std::string c = dir.file("c.json");
  REQUIRE(run({"rescale", "example:pool", "--scales", good, "-o", c}).code == 0);
  require_constants(c);
  eq = run_json({"equivalent", "example:pool", c, "--json"});
  CHECK(eq.at("equivalent") == true);
  CHECK(eq.at("scales").at("s") == "2");
  CHECK(eq.at("scales").at("g") == "1/3");

  // A different constant in B is "not equivalent" (exit 1); an edge constant in one network only
  // is not the same graph (exit 3).
  json doc = json::parse(read_file(c));
  doc["edges"][14]["weight"] = 2;
  const std::string changed = dir.write("changed.json", doc.dump());
  eq = run_json({"equivalent", "example:pool", changed, "--json"}, scaleinv::cli::check_failed);
  CHECK(eq.at("equivalent") == false);
  CHECK(eq.at("failed_edge") == 14);
  CHECK(contains(eq.at("reason").get<std::string>(), "constant weight 1 in A but 2 in B"));
  doc = json::parse(read_file(c));
  doc["edges"][14].erase("constant");
  const std::string unconstant = dir.write("unconstant.json", doc.dump());
  require_bad_input({"equivalent", "example:pool", unconstant},
                    "edge 14 (a -> s) is constant in A but not constant in B");
}

TEST_CASE("balance and canonical with constant edges", "[cli][constant][balance]") {
  temp_dir dir;
  const std::string out = dir.file("balanced.json");
  json r = run_json_line({"balance", "example:pool", "--json", "-o", out});
  CHECK(r.at("converged") == true);
  CHECK(r.at("groups") == 2);  // {h0, h1, a, m, s} and {g}
  require_constants(out);
  CHECK(run({"equivalent", "example:pool", out}).code == 0);

  // Canonical forms of two rescaled copies agree to rounding and keep the constants.
  const std::string b = dir.file("b.json"), ca = dir.file("ca.json"), cb = dir.file("cb.json");
  REQUIRE(run({"rescale", "example:pool", "--seed", "5", "-o", b}).code == 0);
  REQUIRE(run({"canonical", "example:pool", "-o", ca, "--digits", "9"}).code == 0);
  REQUIRE(run({"canonical", b, "-o", cb, "--digits", "9"}).code == 0);
  require_constants(ca);
  require_constants(cb);
  const json ja = json::parse(read_file(ca)), jb = json::parse(read_file(cb));
  for (std::size_t e = 0; e < ja["edges"].size(); ++e) {
    const double x = ja["edges"][e]["weight"].get<double>(), y = jb["edges"][e]["weight"].get<double>();
    INFO("edge " << e);
    CHECK(std::abs(x - y) <= 1e-8 * std::max(1.0, std::abs(x)));
  }
}

TEST_CASE("fdim counts the parameters, not the constant edges", "[cli][constant][fdim]") {
  json f = run_json({"fdim", "example:pool", "--json", "--inputs", "80"});
  CHECK(f.at("parameters") == 12);
  CHECK(f.at("path_dimension") == 10);
  CHECK(f.at("functional_dimension").get<int>() <= 10);
  CHECK(f.at("functional_dimension").get<int>() >= 8);
  cli_result t = run({"fdim", "example:pool", "--inputs", "80"});
  CHECK(contains(t.out, "(rank(A M) over the parameters, the upper bound)"));
}

TEST_CASE("train a network with constant edges: -o reads back with its constants and G-SGD is refused",
          "[cli][constant][train]") {
  temp_dir dir;
  const std::string out = dir.file("trained.json");
  auto args = std::vector<std::string>{
      "train",   "example:pool", "--data", "teacher:n=200,in=4,hidden=3,out=1,seed=2", "--epochs", "3", "--lr", "0.01",
      "--quiet", "-o",           out};
  cli_result r = run(args);
  INFO(describe_run(args, r));
  REQUIRE(r.code == 0);
  require_constants(out);
  CHECK(run({"analyze", out}).code == 0);
  CHECK(json::parse(read_file(out))["edges"][0]["weight"].dump() != "0.5");  // trained
  require_usage_error({"train", "example:pool", "--data", "teacher:n=200,in=4,hidden=3,out=1", "--optimizer", "gsgd"},
                      "--optimizer gsgd does not train a network with constant edges");
}

TEST_CASE("train --optimizer pathsgd and analyze --path-norm with constant edges", "[cli][constant][pathsgd]") {
  temp_dir dir;
  const std::string out = dir.file("trained.json");
  auto args = std::vector<std::string>{"train",
                                       "example:pool",
                                       "--data",
                                       "teacher:n=200,in=4,hidden=3,out=1,seed=2",
                                       "--optimizer",
                                       "pathsgd",
                                       "--epochs",
                                       "3",
                                       "--lr",
                                       "0.01",
                                       "--quiet",
                                       "-o",
                                       out};
  cli_result r = run(args);
  INFO(describe_run(args, r));
  REQUIRE(r.code == 0);
  require_constants(out);
  CHECK(json::parse(read_file(out))["edges"][0]["weight"].dump() != "\"1/2\"");  // trained

  // example:pool's 20 paths, each with its constant edges as factors: the exact squared norm.
  json a = run_json_line({"analyze", "example:pool", "--path-norm", "--json"});
  const network net = load_network("example:pool");
  const std::vector<mpq_class> w = net.exact_weights();
  mpq_class squared = 0;
  for (const auto& path : enumerate_paths(net, 1000)) {
    const mpq_class v = path_value(std::span<const mpq_class>(w), std::span<const edge_id>(path));
    squared += v * v;
  }
  CHECK(a.at("path_norm").at("squared") == squared.get_str());
  // A constant edge of 1/2 counts: with every constant read as 1 the norm would differ.
  std::vector<mpq_class> ones = w;
  for (edge_id e = 0; e < net.num_edges(); ++e)
    if (net.is_constant(e)) ones[e] = 1;
  mpq_class without = 0;
  for (const auto& path : enumerate_paths(net, 1000)) {
    const mpq_class v = path_value(std::span<const mpq_class>(ones), std::span<const edge_id>(path));
    without += v * v;
  }
  CHECK(squared != without);
}
