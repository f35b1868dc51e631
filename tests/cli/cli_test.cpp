// tests/cli/cli_test.cpp: the scaleinv subcommands, run in-process through scaleinv::cli::run on
// small networks whose answers are worked out by hand below.
//
// example:demo (lib/src/io/load.cpp), edges in file order:
//   0 x0->h0   1 x1->h0   2 b->h0   3 x0->h1   4 h0->h1   5 h1->y0   6 h0->y0   7 x1->y0
//   8 x0->h2   9 h0->h2
//   h2 has no outgoing edge, so it is dead and edges 8 and 9 lie on no path.
//   E = 10, H = 3 (h0, h1, h2), E - H = 7;  E_on = 8 (edges 0..7), H_on = 2 (h0, h1): dimension 6.
//   Paths: h1 reaches y0 one way (5), h0 two ways (4,5 and 6); x0: 0+{4,5 | 6} and 3,5 = 3 paths,
//   x1: 1+{4,5 | 6} and 7 = 3, b: 2+{4,5 | 6} = 2; 8 in all:
//     [0,4,5] [0,6] [3,5] [1,4,5] [1,6] [7] [2,4,5] [2,6].
//   Basis (lib/include/scaleinv/paths/basis.hpp): p(v), c(v) = least-id active in-/out-edge:
//     p(h0) = 0 (in 0,1,2), c(h0) = 4 (out 4,6; 9 is inactive), p(h1) = 3 (in 3,4), c(h1) = 5.
//   Free edges = active edges that are no p(v): 1, 2, 4, 5, 6, 7, so basis i is owned by:
//     B0 = B(1) = 1 + suffix(h0) = [1,4,5]      B3 = B(5) = prefix(h1) + 5 = [3,5]
//     B1 = B(2) = [2,4,5]                       B4 = B(6) = prefix(h0) + 6 = [0,6]
//     B2 = B(4) = prefix(h0) + 4 + 5 = [0,4,5]  B5 = B(7) = [7]
//   and B(p(v)) = B(c(v)): index_of[0] = index_of[4] = 2, index_of[3] = index_of[5] = 3.
//   Coordinates of a path e_1..e_k through units v_1..v_{k-1}: +1 for index_of[e_i], -1 for
//   index_of[p(v_j)] (math.md section 4). [0,4,5]: 2+2+3 -2 -3 = B2. [1,6]: +0 +4 -2 = B0 B4 / B2,
//   and with the weights w1 = -3/4, w6 = 3/2 its value is -9/8 = (5/28)(3/4)/(-5/42).
//
// example:mixed, edges:
//   0 x0->h0  1 x1->h0  2 x0->h1  3 x1->h1  4 h0->t  5 h1->t  6 t->h2  7 h0->h2  8 h2->y0
//   9 h2->y1  10 h1->y1
//   t (tanh) is a path end and a path start; E = 11, H = 4, E - H = 7; every edge is on a path,
//   the scalable units are h0, h1, h2: dimension 11 - 3 = 8. Paths: from h2 to a sink 2 (8, 9), from
//   h0 1 + 2 = 3 (to t, via h2), from h1 2 (to t, to y1): x0 5, x1 5, t 2 (6,8 and 6,9): 12.
//   p(h0) = 0, c(h0) = 4, p(h1) = 2, c(h1) = 5, p(h2) = 6, c(h2) = 8; free 1,3,4,5,7,8,9,10:
//     B0 [1,4]  B1 [3,5]  B2 [0,4]  B3 [2,5]  B4 [0,7,8]  B5 [6,8]  B6 [6,9]  B7 [2,10].
//   Path [1,7,9] (x1 h0 h2 y1): +0 +4 +6 -index_of[p(h0)=0]=2 -index_of[p(h2)=6]=5, so
//   B0 B2^-1 B4 B5^-1 B6; check: [1,4]-[0,4]+[0,7,8]-[6,8]+[6,9] = [1,7,9]. Weights: value
//   (-2)(-1/5)(-1) = -2/5; B0 = -1, B2 = 1/2, B4 = -1/5, B5 = 2, B6 = -2; -1 * 2 * -1/5 * 1/2 * -2 = -2/5.
#include "catch_shim.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli/cli_support.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/paths/basis.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace scaleinv::test;

namespace {

const json* find_diagnostic(const json& report, const std::string& code, const std::string& subject) {
  for (const auto& d : report.at("diagnostics"))
    if (d.at("code") == code && d.at("subject") == subject) return &d;
  return nullptr;
}

using edge_lists = std::vector<std::vector<scaleinv::edge_id>>;

}  // namespace

// ---------------------------------------------------------------------------------------------
// analyze

TEST_CASE("analyze example:demo --json", "[cli]") {
  json j = run_json_line({"analyze", "example:demo", "--json"});
  INFO(j.dump(2));
  CHECK(j.at("network") == "example:demo");
  CHECK(j.at("inputs") == 2);
  CHECK(j.at("bias") == 1);
  CHECK(j.at("hidden") == 3);
  CHECK(j.at("outputs") == 1);
  CHECK(j.at("edges") == 10);
  CHECK(j.at("parameters") == 10);
  CHECK(j.at("paths") == "8");  // a string: path counts are big integers
  CHECK(j.at("active_edges") == 8);
  CHECK(j.at("active_hidden") == 2);
  CHECK(j.at("nonhomogeneous_hidden") == 0);
  CHECK(j.at("dimension") == 6);
  CHECK(j.at("formula") == 7);
  CHECK(j.at("theorem_holds") == false);
  // Why they differ: edges 8, 9 on no path, h2 dead.
  CHECK(j.at("reasons") == json::array({"2 edges are on no input-to-output path", "1 hidden unit is dead"}));
  // Certificate: 6 basis paths; kernel: 2 potentials (h0, h1) + 2 inactive edges; 6 + 4 = 10 = E.
  CHECK(j.at("certificate").at("valid") == true);
  CHECK(j.at("certificate").at("basis_paths") == 6);
  CHECK(j.at("certificate").at("kernel_vectors") == 4);
  CHECK(j.at("certificate").at("failure") == "");

  const auto& diags = j.at("diagnostics");
  CHECK(diags.size() == 3);  // h2 dead, edges 8 and 9 inactive; nothing else
  const json* dead = find_diagnostic(j, "dead_unit", "h2");
  REQUIRE(dead != nullptr);
  CHECK(dead->at("severity") == "warning");
  CHECK(contains(dead->at("message").get<std::string>(), "'h2'"));
  CHECK(contains(dead->at("message").get<std::string>(), "no outgoing edges"));
  for (int e : {8, 9}) {
    const json* d = find_diagnostic(j, "inactive_edge", "edge " + std::to_string(e));
    INFO("edge " << e);
    REQUIRE(d != nullptr);
    CHECK(d->at("severity") == "warning");
    CHECK(contains(d->at("message").get<std::string>(), "edge " + std::to_string(e) + " ("));
    CHECK(contains(d->at("message").get<std::string>(), "'h2'"));
  }
  CHECK(find_diagnostic(j, "inactive_edge", "edge 7") == nullptr);
}

TEST_CASE("analyze example:demo --edge-paths: paths through each edge", "[cli]") {
  // from_source * to_sink: edges 0, 1, 2 carry 1 * 2 paths; 3: 1 * 1; 4: 3 (x0, x1, b reach h0)
  // * 1; 5: (1 + 3) * 1; 6: 3 * 1; 7: 1; 8 and 9: 0. They sum to 18, the total length of the 8
  // paths listed at the top of this file (3+2+2+3+2+1+3+2).
  json j = run_json_line({"analyze", "example:demo", "--json", "--edge-paths"});
  CHECK(j.at("edge_paths") == json::array({"2", "2", "2", "1", "3", "4", "3", "1", "0", "0"}));
}

TEST_CASE("analyze example:mixed --json", "[cli]") {
  json j = run_json_line({"analyze", "example:mixed", "--json"});
  INFO(j.dump(2));
  CHECK(j.at("edges") == 11);
  CHECK(j.at("hidden") == 4);
  CHECK(j.at("nonhomogeneous_hidden") == 1);
  CHECK(j.at("paths") == "12");
  CHECK(j.at("active_edges") == 11);
  CHECK(j.at("active_hidden") == 3);
  CHECK(j.at("dimension") == 8);
  CHECK(j.at("formula") == 7);
  CHECK(j.at("theorem_holds") == false);
  CHECK(j.at("reasons") == json::array({"1 hidden unit is not positively homogeneous (no rescaling)"}));
  CHECK(j.at("certificate").at("valid") == true);
  CHECK(j.at("certificate").at("basis_paths") == 8);
  CHECK(j.at("certificate").at("kernel_vectors") == 3);
  CHECK(j.at("diagnostics").size() == 1);
  const json* d = find_diagnostic(j, "nonhomogeneous_unit", "t");
  REQUIRE(d != nullptr);
  CHECK(contains(d->at("message").get<std::string>(), "'t' (tanh)"));
}

TEST_CASE("analyze mlp:3-4-2 and mlp:3-4-2,bias --json", "[cli]") {
  SECTION("no bias") {
    // E = 3*4 + 4*2 = 20, H = 4, paths 3*4*2 = 24, dimension = E - H = 16 = formula.
    json j = run_json_line({"analyze", "mlp:3-4-2", "--json"});
    CHECK(j.at("inputs") == 3);
    CHECK(j.at("bias") == 0);
    CHECK(j.at("hidden") == 4);
    CHECK(j.at("outputs") == 2);
    CHECK(j.at("edges") == 20);
    CHECK(j.at("parameters") == 20);
    CHECK(j.at("paths") == "24");
    CHECK(j.at("active_edges") == 20);
    CHECK(j.at("active_hidden") == 4);
    CHECK(j.at("dimension") == 16);
    CHECK(j.at("formula") == 16);
    CHECK(j.at("theorem_holds") == true);
    CHECK(j.at("reasons").empty());
    CHECK(j.at("diagnostics").empty());
    CHECK(j.at("certificate").at("basis_paths") == 16);
    CHECK(j.at("certificate").at("kernel_vectors") == 4);
  }
  SECTION("bias") {
    // Bias nodes b1 (into the hidden layer) and b2 (into the outputs): E = 4*(3+1) + 2*(4+1) = 26,
    // H = 4; paths: 24 from the inputs, b1 -> h -> y: 4*2 = 8, b2 -> y: 2, total 34;
    // dimension 26 - 4 = 22 = formula.
    json j = run_json_line({"analyze", "mlp:3-4-2,bias", "--json"});
    CHECK(j.at("inputs") == 3);
    CHECK(j.at("bias") == 2);
    CHECK(j.at("hidden") == 4);
    CHECK(j.at("edges") == 26);
    CHECK(j.at("paths") == "34");
    CHECK(j.at("active_edges") == 26);
    CHECK(j.at("active_hidden") == 4);
    CHECK(j.at("dimension") == 22);
    CHECK(j.at("formula") == 22);
    CHECK(j.at("theorem_holds") == true);
    CHECK(j.at("diagnostics").empty());
  }
}

TEST_CASE("analyze mlp:784-500-500-10", "[cli]") {
  // paths 784 * 500 * 500 * 10 = 1,960,000,000 (more than 2^31); E = 784*500 + 500*500 + 500*10 =
  // 647,000, H = 1,000, dimension 646,000.
  SECTION("json") {
    json j = run_json_line({"analyze", "mlp:784-500-500-10", "--json"});
    CHECK(j.at("paths") == "1960000000");
    CHECK(j.at("edges") == 647000);
    CHECK(j.at("hidden") == 1000);
    CHECK(j.at("active_edges") == 647000);
    CHECK(j.at("active_hidden") == 1000);
    CHECK(j.at("dimension") == 646000);
    CHECK(j.at("formula") == 646000);
    CHECK(j.at("theorem_holds") == true);
    CHECK(j.at("certificate").at("valid") == true);
  }
  SECTION("table") {
    cli_result r = run({"analyze", "mlp:784-500-500-10"});
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.err.empty());
    CHECK(contains(r.out, "network          mlp:784-500-500-10\n"));
    CHECK(contains(r.out, "weights (edges)  647,000\n"));
    CHECK(contains(r.out, "paths            1,960,000,000 (1.96e+09)\n"));
    CHECK(contains(r.out, "dimension        646,000  (E_on - H_on, certified)\n"));
    CHECK(contains(r.out, "#weights-#hidden 646,000\n"));
    CHECK(contains(r.out, "agree            yes\n"));
    CHECK_FALSE(contains(r.out, "diagnostics"));
  }
}

TEST_CASE("analyze example:demo table says why the formula disagrees", "[cli]") {
  cli_result r = run({"analyze", "example:demo"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "inputs           2 (+1 bias)\n"));
  CHECK(contains(r.out, "dimension        6  (E_on - H_on, certified)\n"));
  CHECK(contains(r.out, "#weights-#hidden 7\n"));
  CHECK(contains(r.out, "agree            no: 2 edges are on no input-to-output path; 1 hidden unit is dead\n"));
  CHECK(contains(r.out, "diagnostics      3\n"));
  CHECK(contains(r.out, "hidden unit 'h2' is dead"));
  // --show 1 lists one diagnostic and says how many are left.
  r = run({"analyze", "example:demo", "--show", "1"});
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "  ... and 2 more"));
}

// ---------------------------------------------------------------------------------------------
// basis

TEST_CASE("basis example:demo --json", "[cli]") {
  json j = run_json_line({"basis", "--skeleton", "first", "example:demo", "--json"});
  INFO(j.dump());
  CHECK(j.at("dimension") == 6);
  CHECK(j.at("listed") == 6);
  auto basis = j.at("basis").get<edge_lists>();
  auto owned = j.at("owned").get<std::vector<scaleinv::edge_id>>();
  // Derived at the top of this file.
  CHECK(basis == edge_lists{{1, 4, 5}, {2, 4, 5}, {0, 4, 5}, {3, 5}, {0, 6}, {7}});
  CHECK(owned == std::vector<scaleinv::edge_id>{1, 2, 4, 5, 6, 7});
  scaleinv::network net = scaleinv::load_network("example:demo");
  REQUIRE(basis.size() == owned.size());
  for (std::size_t i = 0; i < basis.size(); ++i) {
    INFO("basis path " << i);
    CHECK(scaleinv::path_problem(net, basis[i]).empty());                // each is a source-to-sink path
    CHECK(std::count(basis[i].begin(), basis[i].end(), owned[i]) == 1);  // through its own free edge
    if (i > 0) CHECK(owned[i - 1] < owned[i]);                           // numbered in increasing edge id
  }
  // --limit lists fewer, but the dimension is still the whole basis.
  json two = run_json_line({"basis", "--skeleton", "first", "example:demo", "--json", "--limit", "2"});
  CHECK(two.at("dimension") == 6);
  CHECK(two.at("listed") == 2);
  CHECK(two.at("basis").get<edge_lists>() == edge_lists{{1, 4, 5}, {2, 4, 5}});
  CHECK(two.at("owned") == json::array({1, 2}));
}

TEST_CASE("basis example:demo table and example:mixed", "[cli]") {
  cli_result r = run({"basis", "--skeleton", "first", "example:demo"});
  REQUIRE(r.code == 0);
  CHECK(starts_with(r.out, "6 basis paths (the dimension), first skeleton\n"));
  CHECK(contains(r.out, "B0  edges 1,4,5  (x1 -> h0 -> h1 -> y0)  owns edge 1\n"));
  CHECK(contains(r.out, "B5  edges 7  (x1 -> y0)  owns edge 7\n"));
  // mixed (first skeleton, the edges of least index): derived at the top of this file; t ends B0..B3 and starts B5, B6.
  json j = run_json_line({"basis", "--skeleton", "first", "example:mixed", "--json"});
  CHECK(j.at("dimension") == 8);
  CHECK(j.at("basis").get<edge_lists>() ==
        edge_lists{{1, 4}, {3, 5}, {0, 4}, {2, 5}, {0, 7, 8}, {6, 8}, {6, 9}, {2, 10}});
  CHECK(j.at("owned") == json::array({1, 3, 4, 5, 7, 8, 9, 10}));
}

// Issue 11 item 10: on a shared network the basis paths are those of the unshared path space
// (E_on - H_on), not the network's dimension rank(A M): the output says which is which, and the
// JSON carries the shared dimension beside them, equal to what analyze reports.
TEST_CASE("basis on a shared network names the unshared basis and the shared dimension", "[cli]") {
  const std::string conv = "conv:len=8,ch=1-3-2,k=3";
  json a = run_json_line({"analyze", conv, "--json"});
  REQUIRE(a.at("dimension") == 24);
  REQUIRE(a.at("unshared_dimension") == 108);
  json j = run_json_line({"basis", conv, "--json"});
  CHECK(j.at("dimension") == 108);
  CHECK(j.at("basis").size() == 108);
  CHECK(j.at("shared_dimension") == a.at("dimension"));
  cli_result r = run({"basis", conv, "--limit", "1"});
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(starts_with(r.out,
                    "108 basis paths (the unshared dimension E_on - H_on: a basis of the path space as if every "
                    "edge had its own weight), diagonal skeleton, first 1 listed\n"));
  CHECK(contains(r.out,
                 "\nshared parameters: the network's dimension is rank(A M) = 24 over its 27 parameters, what "
                 "`analyze` reports\n"));
  CHECK_FALSE(contains(r.out, "(the dimension)"));
  CHECK(contains(r.out, "\nB0  edges "));  // the paths are listed as without sharing
  CHECK_FALSE(contains(r.out, "\nB1  "));  // --limit 1
  // Without sharing nothing changes: no shared_dimension key, the old first line.
  CHECK_FALSE(run_json_line({"basis", "example:demo", "--json"}).contains("shared_dimension"));
}

TEST_CASE("basis -o writes the file and nothing else", "[cli]") {
  temp_dir dir;
  const fs::path out = dir.path() / "basis.json";
  cli_result r = run({"basis", "--skeleton", "first", "example:demo", "--json", "-o", out.string()});
  REQUIRE(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK(json::parse(read_file(out)).at("dimension") == 6);
  CHECK(dir.entries() == std::vector<std::string>{"basis.json"});
}

// ---------------------------------------------------------------------------------------------
// express

TEST_CASE("express a basis path of example:demo", "[cli]") {
  // [0,4,5] = x0 -> h0 -> h1 -> y0 is B2 itself; its value is (1/2)(-1/3)(5/7) = -5/42.
  json j = run_json_line({"express", "--skeleton", "first", "example:demo", "--path", "0,4,5", "--json"});
  CHECK(j.at("path") == json::array({0, 4, 5}));
  CHECK(j.at("coefficients") == json::parse(R"([{"basis": 2, "exponent": 1}])"));
  CHECK(j.at("value") == "-5/42");
  CHECK(j.at("reconstructed") == "-5/42");
  CHECK(j.at("values_agree") == true);
}

TEST_CASE("express paths with several coefficients", "[cli]") {
  SECTION("demo [1,6] = B0 B2^-1 B4") {
    json j = run_json_line({"express", "--skeleton", "first", "example:demo", "--path", "1,6", "--json"});
    CHECK(j.at("coefficients") ==
          json::parse(R"([{"basis": 0, "exponent": 1}, {"basis": 2, "exponent": -1}, {"basis": 4, "exponent": 1}])"));
    CHECK(j.at("value") == "-9/8");
    CHECK(j.at("reconstructed") == "-9/8");
    CHECK(j.at("values_agree") == true);
  }
  SECTION("demo [2,6] = B1 B2^-1 B4, as text") {
    // value w2 w6 = (1/8)(3/2) = 3/16.
    cli_result r = run({"express", "--skeleton", "first", "example:demo", "--path", "2,6"});
    REQUIRE(r.code == 0);
    CHECK(r.out == "path 2,6 = B1^1 * B2^-1 * B4^1  (first skeleton)\nvalue 3/16 = product 3/16 (exact match)\n");
  }
  SECTION("mixed [1,7,9] = B0 B2^-1 B4 B5^-1 B6") {
    json j = run_json_line({"express", "--skeleton", "first", "example:mixed", "--path", "1,7,9", "--json"});
    CHECK(j.at("coefficients") == json::parse(R"([{"basis": 0, "exponent": 1}, {"basis": 2, "exponent": -1},
        {"basis": 4, "exponent": 1}, {"basis": 5, "exponent": -1}, {"basis": 6, "exponent": 1}])"));
    CHECK(j.at("value") == "-2/5");
    CHECK(j.at("reconstructed") == "-2/5");
    CHECK(j.at("values_agree") == true);
  }
  SECTION("a network without weights gives coordinates only") {
    // mlp:2-2-1 edges: 0 x0->h1_0, 1 x1->h1_0, 2 x0->h1_1, 3 x1->h1_1, 4 h1_0->y0, 5 h1_1->y0;
    // p(h1_0) = 0, so the free edges are 1, 3, 4, 5 and [1,4] is B0.
    json j = run_json_line({"express", "mlp:2-2-1", "--path", "1,4", "--json"});
    CHECK(j.at("coefficients") == json::parse(R"([{"basis": 0, "exponent": 1}])"));
    CHECK_FALSE(j.contains("value"));
  }
}

TEST_CASE("express refuses what is not a path", "[cli]") {
  require_usage_error(
      {"express", "--skeleton", "first", "example:demo", "--path", "0,5"},
      "not a path: edge 0 (x0 -> h0) is not followed by an edge leaving 'h0': edge 5 (h1 -> y0) comes next");
  require_usage_error({"express", "--skeleton", "first", "example:demo", "--path", "4,5"},
                      "not a path: edge 4 (h0 -> h1) starts at hidden unit 'h0'");
  require_usage_error({"express", "--skeleton", "first", "example:demo", "--path", "0,9"},
                      "not a path: edge 9 (h0 -> h2) ends at hidden unit 'h2'");
  require_usage_error({"express", "--skeleton", "first", "example:demo", "--path", "0,42"},
                      "edge 42 does not exist (the network has 10 edges, 0 to 9)");
  // t is where paths end: a path cannot run through it.
  require_usage_error({"express", "--skeleton", "first", "example:mixed", "--path", "0,4,6,8"},
                      "the path goes through 't'");
}

TEST_CASE("express rejects a malformed --path", "[cli]") {
  require_usage_error({"express", "--skeleton", "first", "example:demo", "--path", "0,x"},
                      "--path: 'x' is not an edge index");
  require_usage_error({"express", "--skeleton", "first", "example:demo", "--path", ""},
                      "--path: '' is not an edge index");
  require_usage_error({"express", "--skeleton", "first", "example:demo", "--path", "0,,4"},
                      "--path: '' is not an edge index");
  require_usage_error({"express", "--skeleton", "first", "example:demo", "--path", "-1"},
                      "--path: '-1' is not an edge index");
  require_usage_error({"express", "--skeleton", "first", "example:demo"}, "--path");  // required
}

// ---------------------------------------------------------------------------------------------
// verify

TEST_CASE("verify example:demo --json", "[cli]") {
  json j = run_json_line({"verify", "example:demo", "--json"});
  INFO(j.dump(2));
  CHECK(j.at("paths") == "8");
  CHECK(j.at("rank") == 6);
  CHECK(j.at("dimension") == 6);
  CHECK(j.at("agree") == true);
  CHECK(j.at("basis_size") == 6);
  CHECK(j.at("rank_method") == "path-gram");
  CHECK(j.at("basis_independent") == true);
  CHECK(j.at("coordinates_ok") == true);
}

TEST_CASE("verify example:mixed and mlp:6-6-6-6", "[cli]") {
  json mixed = run_json_line({"verify", "example:mixed", "--json"});
  CHECK(mixed.at("paths") == "12");
  CHECK(mixed.at("rank") == 8);
  CHECK(mixed.at("agree") == true);
  // mlp:6-6-6-6: 6^4 = 1296 paths, E = 3 * 36 = 108, H = 12, rank 96.
  json mlp = run_json_line({"verify", "mlp:6-6-6-6", "--json"});
  CHECK(mlp.at("paths") == "1296");
  CHECK(mlp.at("rank") == 96);
  CHECK(mlp.at("agree") == true);
  CHECK(mlp.at("coordinates_ok") == true);
  cli_result r = run({"verify", "mlp:6-6-6-6"});
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "agree            yes\n"));
}

TEST_CASE("verify refuses networks with more paths than --max-paths", "[cli]") {
  // A path picks one unit per layer: mlp:6-6-6-6 has 6^4 = 1296 paths, mlp:6-6-6 has 6^3 = 216.
  // The refusal is a usage error (exit 2) that gives the exact count, before enumerating anything.
  require_usage_error({"verify", "mlp:6-6-6-6", "--max-paths", "10"},
                      "the network has 1296 paths, more than the limit of 10 for enumeration");
  require_usage_error({"verify", "mlp:6-6-6", "--max-paths", "10"},
                      "the network has 216 paths, more than the limit of 10 for enumeration");
  require_usage_error({"verify", "mlp:784-500-500-10"},
                      "the network has 1960000000 paths, more than the limit of 1000000");
  // Exactly at the limit is fine.
  cli_result r = run({"verify", "mlp:6-6-6", "--max-paths", "216"});
  CHECK(r.code == 0);
}

// Issue 11 item 3: verify had no time bound. What the estimate puts past --max-seconds is refused
// before any work, with the estimate and the flag that overrides it.
TEST_CASE("verify refuses up front what it estimates to pass --max-seconds", "[cli]") {
  cli_result r = run({"verify", "mlp:8-128-128-128-4", "--max-paths", "100000000", "--json"});
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "scaleinv: error: mlp:8-128-128-128-4: the check would take about "));
  CHECK(r.err.ends_with(" or more to run it anyway\n"));
  CHECK(contains(r.err, " MiB (67108864 paths"));
  CHECK(contains(r.err, "then 17920 densely), more than the limit of 60 s; pass --max-seconds "));
  require_usage_error({"verify", "mlp:6-6-6", "--max-seconds", "0.000001"}, "more than the limit of 1e-06 s");
  require_usage_error({"verify", "mlp:6-6-6", "--max-seconds", "0"}, "--max-seconds");
  CHECK(run({"verify", "mlp:6-6-6", "--max-seconds", "1000"}).code == 0);
}

// ---------------------------------------------------------------------------------------------
// convert

TEST_CASE("convert example:demo --to dot --basis", "[cli]") {
  cli_result r = run({"convert", "example:demo", "--to", "dot", "--basis"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  CHECK(starts_with(r.out, "digraph"));
  CHECK(r.out.back() == '\n');
  // The free edges carry B0..B5 (6 basis paths), and there is no B6.
  for (int i = 0; i < 6; ++i) CHECK(contains(r.out, " B" + std::to_string(i) + "\""));
  CHECK_FALSE(contains(r.out, "B6"));
  CHECK(contains(r.out, "\"x1\" -> \"h0\" [label=\"e1: -0.75 B0\""));  // edge 1 owns B0
  CHECK(contains(r.out, "\"x1\" -> \"y0\" [label=\"e7: -1 B5\""));
  // The inactive edges 8, 9 and the dead unit h2 are grey.
  CHECK(contains(r.out, "\"x0\" -> \"h2\" [label=\"e8: 0.4\", color=gray"));
  CHECK(contains(r.out, "\"h2\" [shape=circle, label=\"h2\", color=gray"));
  // A non-ReLU unit's label has its activation on a second line: in DOT a line break inside a
  // quoted label is the two characters \n; an escaped backslash (\\n) would print a literal "\n".
  CHECK(contains(r.out, "label=\"h1\\nleaky_relu:1/10\""));
  // Without --basis: no basis labels.
  cli_result plain = run({"convert", "example:demo", "--to", "dot"});
  REQUIRE(plain.code == 0);
  CHECK(starts_with(plain.out, "digraph"));
  CHECK_FALSE(contains(plain.out, "B0"));
}

TEST_CASE("convert option errors", "[cli]") {
  require_usage_error({"convert", "example:demo", "--to", "json", "--basis"}, "--basis applies to --to dot only");
  require_usage_error({"convert", "example:demo", "--basis"}, "--basis applies to --to dot only");
  require_usage_error({"convert", "example:demo", "--to", "xml"}, "--to");
}

namespace {
// Writes `net` with convert --to json -o FILE, reads the file back and checks that nothing changed.
void check_round_trip(const std::string& spec) {
  INFO("round trip of " << spec);
  temp_dir dir;
  const fs::path file = dir.path() / "net.json";
  cli_result r = run({"convert", spec, "--to", "json", "-o", file.string()});
  INFO("exit " << r.code << ", stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK(dir.entries() == std::vector<std::string>{"net.json"});  // no temporary file left over

  scaleinv::network original = scaleinv::load_network(spec);
  scaleinv::network back = scaleinv::load_network(file.string());
  REQUIRE(back.num_nodes() == original.num_nodes());
  for (scaleinv::node_id v = 0; v < original.num_nodes(); ++v) {
    INFO("node " << v);
    CHECK(back.node_at(v).id == original.node_at(v).id);
    CHECK(back.node_at(v).kind == original.node_at(v).kind);
    if (original.node_at(v).kind == scaleinv::node_kind::hidden) CHECK(back.node_at(v).act == original.node_at(v).act);
  }
  REQUIRE(back.num_edges() == original.num_edges());
  REQUIRE(back.has_weights() == original.has_weights());
  CHECK(back.has_exact_weights() == original.has_exact_weights());
  for (scaleinv::edge_id e = 0; e < original.num_edges(); ++e) {
    INFO(original.describe_edge(e));
    CHECK(back.edge_at(e).from == original.edge_at(e).from);
    CHECK(back.edge_at(e).to == original.edge_at(e).to);
    if (original.has_weights()) {
      CHECK(back.weight(e) == original.weight(e));              // the same double, bit for bit
      CHECK(back.exact_weight(e) == original.exact_weight(e));  // and the same rational
    }
  }
  // Writing the network read back gives the same text: the format is a fixed point.
  cli_result again = run({"convert", file.string(), "--to", "json"});
  REQUIRE(again.code == 0);
  CHECK(again.out == read_file(file));
}
}  // namespace

TEST_CASE("convert --to json round trip", "[cli]") {
  SECTION("example:demo, exact weights such as -1/3 and 5/7") {
    check_round_trip("example:demo");
    // Spot-check the exact weights by hand: edge 4 is -1/3, edge 5 is 5/7, edge 0 is 1/2.
    temp_dir dir;
    const fs::path file = dir.path() / "demo.json";
    REQUIRE(run({"convert", "example:demo", "-o", file.string()}).code == 0);
    scaleinv::network back = scaleinv::load_network(file.string());
    CHECK(back.has_exact_weights());
    CHECK(back.exact_weight(4) == mpq_class(-1, 3));
    CHECK(back.exact_weight(5) == mpq_class(5, 7));
    CHECK(back.exact_weight(0) == mpq_class(1, 2));
    CHECK(back.node_at(4).act == scaleinv::activation::leaky_relu(mpq_class(1, 10)));
  }
  SECTION("example:mixed: bilu, prelu and tanh units") { check_round_trip("example:mixed"); }
  SECTION("an MLP without weights") { check_round_trip("mlp:3-4-2,bias"); }
  SECTION("an MLP with double weights") { check_round_trip("mlp:3-4-2,bias,init=7"); }
  SECTION("--json is --to json") {
    cli_result a = run({"convert", "example:demo", "--json"});
    cli_result b = run({"convert", "example:demo", "--to", "json"});
    REQUIRE(a.code == 0);
    CHECK(a.out == b.out);
    CHECK(starts_with(a.out, "{\n  \"format\": \"scaleinv.network\",\n  \"version\": 1,"));
  }
}

// ---------------------------------------------------------------------------------------------
// help, version, usage errors

TEST_CASE("help (--help) for the program and for each subcommand", "[cli]") {
  SECTION("top level") {
    for (const char* flag : {"--help", "-h"}) {
      cli_result r = run({flag});
      INFO(flag << ": " << r.out << r.err);
      CHECK(r.code == 0);
      CHECK(r.err.empty());
      for (const char* part : {"analyze", "basis", "express", "verify", "convert", "--version", "Exit codes"})
        CHECK(contains(r.out, part));
    }
  }
  struct sub_help {
    const char* name;
    std::vector<const char*> options;
  };
  const sub_help subs[] = {
      {"analyze", {"NET", "--json", "--edge-paths", "--show"}},
      {"basis", {"NET", "--json", "--limit", "--output"}},
      {"express", {"NET", "--path", "--json"}},
      {"verify", {"NET", "--json", "--max-paths", "--max-seconds"}},
      {"convert", {"NET", "--to", "--output", "--basis", "--json"}},
  };
  for (const auto& s : subs) {
    DYNAMIC_SECTION(s.name << " --help") {
      // Help is given even though NET (required) is missing.
      cli_result r = run({s.name, "--help"});
      INFO(r.out << r.err);
      CHECK(r.code == 0);
      CHECK(r.err.empty());
      CHECK(contains(r.out, std::string("Usage: ") + s.name));
      for (const char* option : s.options) {
        INFO("option " << option);
        CHECK(contains(r.out, option));
      }
      // The subcommand's help, not the program's list of subcommands.
      CHECK_FALSE(contains(r.out, "Subcommands:"));
    }
  }
}

TEST_CASE("the --version flag", "[cli]") {
  cli_result r = run({"--version"});
  CHECK(r.code == 0);
  CHECK(r.out == "scaleinv 0.1.0\n");
  CHECK(r.err.empty());
}

TEST_CASE("usage errors exit 2", "[cli]") {
  SECTION("no subcommand") { require_usage_error({}, "subcommand"); }
  SECTION("unknown subcommand") {
    // The message must name what the user typed, not only say that a subcommand is required.
    require_usage_error({"frobnicate"}, "frobnicate");
    require_usage_error({"frobnicate", "example:demo"}, "frobnicate");
  }
  SECTION("unknown option") {
    require_usage_error({"analyze", "example:demo", "--frob"}, "--frob");
    require_usage_error({"--frob"}, "--frob");
    require_usage_error({"verify", "example:demo", "--max-paths", "many"}, "--max-paths");
  }
  SECTION("missing NET") { require_usage_error({"analyze"}, "NET"); }
  SECTION("usage errors point to --help") {
    cli_result r = run({"analyze", "example:demo", "--frob"});
    CHECK(contains(r.err, "Run 'scaleinv --help' for usage."));
  }
}
