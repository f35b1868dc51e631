// tests/cli/equivalence_cli_test.cpp: `scaleinv rescale` and `scaleinv equivalent`, run in-process.
//
// example:demo (lib/src/io/load.cpp), edges: 0 x0->h0 (1/2), 1 x1->h0 (-3/4), 2 b->h0 (1/8),
// 3 x0->h1 (2), 4 h0->h1 (-1/3), 5 h1->y0 (5/7), 6 h0->y0 (3/2), 7 x1->y0 (-1), 8 x0->h2 (2/5),
// 9 h0->h2 (1). It has exact rational weights (-1/3, 5/7, 2/5 are no doubles), so `rescale --seed`
// draws rational scales and `equivalent` compares exactly. With scales c(h0) = 3/2, c(h1) = 1/2:
// edge 3 becomes 2 * 1/2 = 1, edge 4 -1/3 * (1/2) / (3/2) = -1/9, edge 5 (5/7) / (1/2) = 10/7.
#include "catch_shim.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli/cli_support.hpp"
#include "scaleinv/exact/rational.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace scaleinv::test;

namespace {

// A copy of the network file with edge e's weight replaced.
std::string with_weight(const temp_dir& dir, const std::string& from, std::size_t e, const json& weight,
                        const std::string& name) {
  json doc = json::parse(read_file(from));
  doc["edges"][e]["weight"] = weight;
  return dir.write(name, doc.dump());
}

}  // namespace

TEST_CASE("rescale example:demo --seed 3, then equivalent recovers the scales", "[cli][equivalence]") {
  temp_dir dir;
  const std::string b = dir.file("b.json");
  cli_result r = run({"rescale", "example:demo", "--seed", "3", "-o", b});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK(dir.entries() == std::vector<std::string>{"b.json"});  // no temporary left behind

  // The scales are random_rational_scales(demo, 3) on h0, h1, h2 (x0, x1, b, y0 keep 1).
  scaleinv::network demo = scaleinv::load_network("example:demo");
  std::vector<mpq_class> s = scaleinv::random_rational_scales(demo, 3);
  json expected = json::object();
  for (const char* id : {"h0", "h1", "h2"}) expected[id] = scaleinv::to_string(s[*demo.find_node(id)]);
  // --print-scales says the same, in the --scales format.
  cli_result printed = run({"rescale", "example:demo", "--seed", "3", "-o", dir.file("b2.json"), "--print-scales"});
  REQUIRE(printed.code == 0);
  CHECK(json::parse(printed.out) == expected);
  CHECK(read_file(dir.file("b2.json")) == read_file(b));

  json j = run_json({"equivalent", "example:demo", b, "--json"});
  INFO(j.dump(2));
  CHECK(j.at("equivalent") == true);
  CHECK(j.at("exact") == true);
  CHECK(j.at("tolerance") == 0.0);
  CHECK(j.at("reason") == "");
  CHECK(j.at("failed_edge").is_null());
  CHECK(j.at("scales") == expected);
  CHECK(j.at("undetermined") == json::array());
  // Swapped, the scales are inverted.
  json back = run_json({"equivalent", b, "example:demo", "--json"});
  for (const char* id : {"h0", "h1", "h2"})
    CHECK(back.at("scales").at(id) == scaleinv::to_string(1 / s[*demo.find_node(id)]));

  SECTION("the table") {
    cli_result t = run({"equivalent", "example:demo", b});
    INFO(t.out << t.err);
    REQUIRE(t.code == 0);
    CHECK(t.err.empty());
    CHECK(t.out.rfind("equivalent: yes (exact rational arithmetic)\n", 0) == 0);
    CHECK(contains(t.out, "unit  scale"));
    for (const char* id : {"h0", "h1", "h2"})
      CHECK(contains(t.out, std::string(id) + "    " + expected[id].get<std::string>()));
  }
}

TEST_CASE("rescale --scales FILE: hand-picked scales, worked out in the header", "[cli][equivalence]") {
  temp_dir dir;
  const std::string scales = dir.write("scales.json", R"({"h0": "3/2", "h1": 0.5})");
  const std::string b = dir.file("b.json");
  cli_result r = run({"rescale", "example:demo", "--scales", scales, "-o", b});
  INFO(r.err);
  REQUIRE(r.code == 0);
  scaleinv::network net = scaleinv::read_network_file(b);
  CHECK(scaleinv::to_string(net.exact_weight(3)) == "1");
  CHECK(scaleinv::to_string(net.exact_weight(4)) == "-1/9");
  CHECK(scaleinv::to_string(net.exact_weight(5)) == "10/7");
  CHECK(scaleinv::to_string(net.exact_weight(8)) == "2/5");  // h2 unlisted: scale 1
  json j = run_json({"equivalent", "example:demo", b, "--json"});
  CHECK(j.at("scales") == json::parse(R"({"h0": "3/2", "h1": "1/2", "h2": "1"})"));
  // To standard output without -o.
  cli_result stdout_net = run({"rescale", "example:demo", "--scales", scales});
  REQUIRE(stdout_net.code == 0);
  CHECK(stdout_net.out == read_file(b));
}

TEST_CASE("equivalent says no, exit 1, and names the edge", "[cli][equivalence]") {
  temp_dir dir;
  const std::string b = dir.file("b.json");
  const std::string scales = dir.write("scales.json", R"({"h0": "3/2", "h1": "1/2"})");
  REQUIRE(run({"rescale", "example:demo", "--scales", scales, "-o", b}).code == 0);
  SECTION("a perturbed weight") {
    // Edge 5 (h1 -> y0) should be 10/7; with 11/7 its ratio 11/5 contradicts c(y0)/c(h1) = 2.
    const std::string bad = with_weight(dir, b, 5, "11/7", "bad.json");
    cli_result r = run({"equivalent", "example:demo", bad});
    INFO(r.out << r.err);
    CHECK(r.code == scaleinv::cli::check_failed);
    CHECK(r.err.empty());
    CHECK(r.out ==
          "equivalent: no: edge 5 (h1 -> y0): ratio B/A = 11/5 contradicts c(y0)/c(h1) = 2, where c(h1) = 1/2 is "
          "forced by edge 3 from x0 and c(y0) = 1 is fixed (output)\n");
    json j = run_json({"equivalent", "example:demo", bad, "--json"}, scaleinv::cli::check_failed);
    CHECK(j.at("equivalent") == false);
    CHECK(j.at("failed_edge") == 5);
    CHECK(contains(j.at("reason").get<std::string>(), "contradicts"));
    CHECK(j.at("scales") == json::object());
  }
  SECTION("a sign flip") {
    const std::string bad = with_weight(dir, b, 6, -1, "flip.json");
    json j = run_json({"equivalent", "example:demo", bad, "--json"}, scaleinv::cli::check_failed);
    CHECK(j.at("failed_edge") == 6);
    CHECK(contains(j.at("reason").get<std::string>(), "edge 6 (h0 -> y0): weights have opposite signs"));
  }
  SECTION("a new zero") {
    const std::string bad = with_weight(dir, b, 7, 0, "zero.json");
    cli_result r = run({"equivalent", "example:demo", bad});
    CHECK(r.code == scaleinv::cli::check_failed);
    CHECK(r.out == "equivalent: no: edge 7 (x1 -> y0): -1 in A but 0 in B: rescaling keeps zeros\n");
  }
}

TEST_CASE("equivalent: floating point for double weights, --exact and --tol", "[cli][equivalence]") {
  temp_dir dir;
  const std::string b = dir.file("b.json");
  REQUIRE(run({"rescale", "mlp:3-4-2,bias,init=5", "--seed", "2", "--spread", "0.5", "-o", b}).code == 0);
  json j = run_json({"equivalent", "mlp:3-4-2,bias,init=5", b, "--json"});
  CHECK(j.at("equivalent") == true);
  CHECK(j.at("exact") == false);
  CHECK(j.at("tolerance") == 1e-9);
  scaleinv::network a = scaleinv::load_network("mlp:3-4-2,bias,init=5");
  std::vector<double> s = scaleinv::random_scales(a, 2, 0.5);
  for (const char* id : {"h1_0", "h1_1", "h1_2", "h1_3"})
    CHECK(std::abs(j.at("scales").at(id).get<double>() - s[*a.find_node(id)]) < 1e-12);
  // The rounded products are no exact rescaling.
  CHECK(run({"equivalent", "mlp:3-4-2,bias,init=5", b, "--exact"}).code == scaleinv::cli::check_failed);
  // A relative change of 1e-6 fails at the default tolerance and passes at --tol 1e-5.
  json doc = json::parse(read_file(b));
  doc["edges"][0]["weight"] = doc["edges"][0]["weight"].get<double>() * (1 + 1e-6);
  const std::string bad = dir.write("bad.json", doc.dump());
  cli_result r = run({"equivalent", "mlp:3-4-2,bias,init=5", bad});
  CHECK(r.code == scaleinv::cli::check_failed);
  CHECK(contains(r.out, "relative difference 1e-06 > tolerance 1e-09"));
  CHECK(run({"equivalent", "mlp:3-4-2,bias,init=5", bad, "--tol", "1e-5"}).code == 0);
  cli_result table = run({"equivalent", "mlp:3-4-2,bias,init=5", b});
  CHECK(table.out.rfind("equivalent: yes (floating point, relative tolerance 1e-09)\n", 0) == 0);
}

TEST_CASE("equivalent reports undetermined units", "[cli][equivalence]") {
  // h1's edges are all zero: its scale is free.
  temp_dir dir;
  const std::string net = dir.write("net.json", R"({"format": "scaleinv.network", "version": 1,
    "nodes": [{"id": "x", "kind": "input"}, {"id": "h0", "kind": "hidden"}, {"id": "h1", "kind": "hidden"},
              {"id": "y", "kind": "output"}],
    "edges": [{"from": "x", "to": "h0", "weight": "1/3"}, {"from": "h0", "to": "y", "weight": 2},
              {"from": "x", "to": "h1", "weight": 0}, {"from": "h1", "to": "y", "weight": 0}]})");
  const std::string b = dir.file("b.json");
  const std::string scales = dir.write("scales.json", R"({"h0": 3, "h1": 5})");
  REQUIRE(run({"rescale", net, "--scales", scales, "-o", b}).code == 0);
  json j = run_json({"equivalent", net, b, "--json"});
  CHECK(j.at("scales") == json::parse(R"({"h0": "3", "h1": "1"})"));
  CHECK(j.at("undetermined") == json::array({"h1"}));
  CHECK(j.at("undetermined_groups") == json::parse(R"([["h1"]])"));
  cli_result r = run({"equivalent", net, b});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "h1    1      undetermined\n"));
  CHECK(contains(r.out, "undetermined: 1 unit in 1 group {h1}"));
}

TEST_CASE("rescale: bad --scales files are bad input naming the unit", "[cli][equivalence]") {
  temp_dir dir;
  struct bad_case {
    const char* text;
    const char* net;
    const char* message;
  };
  const bad_case cases[] = {
      {R"({"h9": 2})", "example:demo", "unknown unit 'h9'"},
      {R"({"h0": -2})", "example:demo", "scale of 'h0' is -2: scales must be positive"},
      {R"({"h1": "-1/3"})", "example:demo", "scale of 'h1' is -1/3: scales must be positive"},
      {R"({"h0": 0})", "example:demo", "scale of 'h0' is 0: scales must be positive"},
      {R"({"x0": 2})", "example:demo", "'x0' is an input node, not a hidden unit"},
      {R"({"b": 2})", "example:demo", "'b' is a bias node, not a hidden unit"},
      {R"({"y0": 2})", "example:demo", "'y0' is an output node, not a hidden unit"},
      {R"({"t": 2})", "example:mixed", "'t' is a tanh unit, which is not positively homogeneous"},
      {R"({"h0": "two"})", "example:demo", "scale of 'h0' is \"two\": expected a number or a rational string"},
      {R"({"h0": [2]})", "example:demo", "scale of 'h0' must be a number or a rational string, not array"},
      {R"([2, 3])", "example:demo", "the scales must be a JSON object {\"unit\": scale, ...}, not array"},
      {R"({"h0": )", "example:demo", "invalid JSON"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string file = dir.write("scales" + std::to_string(i++) + ".json", c.text);
    const std::string out = dir.file("out.json");
    require_bad_input({"rescale", c.net, "--scales", file, "-o", out}, file + ": " + c.message);
    CHECK_FALSE(fs::exists(out));
  }
  require_bad_input({"rescale", "example:demo", "--scales", dir.file("missing.json")}, "missing.json");
}

TEST_CASE("rescale and equivalent: other bad input and usage errors", "[cli][equivalence]") {
  require_bad_input({"rescale", "mlp:3-4-2", "--seed", "1"}, "'mlp:3-4-2' has no weights");
  require_bad_input({"equivalent", "mlp:3-4-2", "mlp:3-4-2"}, "network A has no weights");
  require_bad_input({"equivalent", "example:demo", "example:mixed"},
                    "the networks are not the same graph: node 2 is 'b' in A but 'h0' in B");
  require_bad_input({"equivalent", "example:demo", "no/such/file.json"}, "no/such/file.json");
  require_usage_error({"rescale", "example:demo"}, "give --seed S", error_prefix::unchecked);
  require_usage_error({"rescale", "example:demo", "--seed", "1", "--scales", "x.json"}, "excludes",
                      error_prefix::unchecked);
  require_usage_error({"rescale", "example:demo", "--spread", "2"}, "--spread requires --seed",
                      error_prefix::unchecked);
  require_usage_error({"rescale", "example:demo", "--seed", "1", "--spread", "2"}, "--spread applies to double weights",
                      error_prefix::unchecked);
  require_usage_error({"rescale", "example:demo", "--seed", "1", "--print-scales"}, "--print-scales requires",
                      error_prefix::unchecked);
  require_usage_error({"equivalent", "example:demo"}, "NET_B", error_prefix::unchecked);
  require_usage_error({"equivalent", "example:demo", "example:demo", "--exact", "--tol", "1e-3"}, "excludes",
                      error_prefix::unchecked);
  require_usage_error({"equivalent", "example:demo", "example:demo", "--tol", "0"}, "--tol 0 is not in (0, 1)",
                      error_prefix::unchecked);
  require_usage_error({"equivalent", "example:demo", "example:demo", "--tol", "1"}, "not in (0, 1)",
                      error_prefix::unchecked);
}

TEST_CASE("equivalent and rescale --help", "[cli][equivalence]") {
  struct sub_help {
    const char* name;
    std::vector<const char*> parts;
  };
  const sub_help subs[] = {
      {"equivalent",
       {"Usage: equivalent", "NET_A", "NET_B", "--json", "--exact", "--tol",
        "Exit codes: 0 equivalent, 1 not equivalent", "3 bad input", "not\nequality of functions"}},
      {"rescale",
       {"Usage: rescale", "NET", "--seed", "--spread", "--scales", "--output", "--print-scales", "Exit codes: 0 done"}},
  };
  for (const auto& s : subs) {
    cli_result r = run({s.name, "--help"});
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    for (const char* part : s.parts) {
      INFO("part " << part);
      CHECK(contains(r.out, part));
    }
    CHECK_FALSE(contains(r.out, "Subcommands:"));
  }
  cli_result top = run({"--help"});
  CHECK(contains(top.out, "equivalent"));
  CHECK(contains(top.out, "rescale"));
  cli_result unknown = run({"frobnicate"});
  CHECK(contains(unknown.err, "equivalent"));
  CHECK(contains(unknown.err, "rescale"));
}

TEST_CASE("rescale with shared parameters: per-channel scales keep them shared, per-unit ones fail",
          "[cli][equivalence]") {
  const std::string conv = "conv:len=4,ch=1-2-1,k=2,init=1";
  temp_dir dir;
  // --seed draws one scale per tie class, so the kernels stay shared and equivalent finds them.
  const std::string seeded = dir.file("seeded.json");
  cli_result r = run({"rescale", conv, "--seed", "1", "-o", seeded, "--print-scales"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  json printed = json::parse(r.out);
  CHECK(printed.at("h1_0_0") == printed.at("h1_0_2"));
  CHECK(printed.at("h1_0_0") != 1.0);
  CHECK(run_json({"equivalent", conv, seeded, "--json"}).at("equivalent") == true);
  // Scales of one's own that untie a kernel are refused, naming the parameter.
  const std::string untie = dir.write("untie.json", R"({"h1_0_0": 2})");
  require_usage_error({"rescale", conv, "--scales", untie, "-o", dir.file("u.json")}, "share parameter",
                      error_prefix::unchecked);
  const std::string scales = dir.write("scales.json", R"({"h1_0_0": 2, "h1_0_1": 2, "h1_0_2": 2})");
  const std::string b = dir.file("b.json");
  REQUIRE(run({"rescale", conv, "--scales", scales, "-o", b}).code == 0);
  json j = run_json({"equivalent", conv, b, "--json"});
  CHECK(j.at("equivalent") == true);
  CHECK(j.at("scales").at("h1_0_1") == 2.0);
  CHECK(j.at("scales").at("h1_1_1") == 1.0);
}
