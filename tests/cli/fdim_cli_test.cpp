// tests/cli/fdim_cli_test.cpp: `scaleinv fdim`, run in-process through scaleinv::cli::run.
//
// mlp:3-4-2,bias: E = 3*4 + 4 + 4*2 + 2 = 26 parameters, H = 4, path dimension 22. The default
// sample count is ceil(4 * 26 / 2) + 1 = 53, so 106 rows. At seed 1 the He-normal draw gives h1_0
// a bias that keeps it active on all 53 samples: linear on them, and the rank is 21. Seed 2 reaches 22.
#include "catch_shim.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cli.hpp"
#include "cli/cli_support.hpp"

using nlohmann::json;
using namespace scaleinv::test;

TEST_CASE("fdim mlp:3-4-2,bias --json", "[cli][fdim]") {
  json j = run_json({"fdim", "mlp:3-4-2,bias", "--json"});
  INFO(j.dump(2));
  CHECK(j.at("network") == "mlp:3-4-2,bias");
  CHECK(j.at("functional_dimension") == 21);
  CHECK(j.at("path_dimension") == 22);
  CHECK(j.at("parameters") == 26);
  CHECK(j.at("outputs") == 2);
  CHECK(j.at("inputs") == 53);
  CHECK(j.at("rows") == 106);
  CHECK(j.at("seed") == 1);
  CHECK(j.at("weights") == "he_normal");
  CHECK(j.at("dead_units") == json::array());
  CHECK(j.at("linear_units") == json::array({"h1_0"}));
  const double sigma_max = j.at("sigma_max"), threshold = j.at("threshold");
  CHECK(threshold == Approx(106 * 0x1.0p-52 * sigma_max).epsilon(1e-12));
  const double kept = j.at("smallest_kept"), dropped = j.at("largest_dropped");
  CHECK(kept > threshold);
  CHECK(dropped <= threshold);
  CHECK(kept / dropped > 1e10);  // a clear gap: the rank is not a rounding accident

  json two = run_json({"fdim", "mlp:3-4-2,bias", "--json", "--seed", "2"});
  CHECK(two.at("functional_dimension") == 22);
  CHECK(two.at("linear_units") == json::array());
  CHECK(two.at("seed") == 2);
}

TEST_CASE("fdim --inputs, and a network with its own weights", "[cli][fdim]") {
  // One sample, two outputs: rows 2, and the two output biases give rank 2.
  json one = run_json({"fdim", "mlp:3-4-2,bias", "--json", "--inputs", "1"});
  CHECK(one.at("inputs") == 1);
  CHECK(one.at("rows") == 2);
  CHECK(one.at("functional_dimension") == 2);
  CHECK(one.at("largest_dropped").is_null());  // min(rows, cols) = 2 values, both kept
  // init=7 attaches weights: they are used, not drawn.
  json own = run_json({"fdim", "mlp:3-4-2,bias,init=7", "--json", "--inputs", "100"});
  CHECK(own.at("weights") == "network");
  CHECK(own.at("rows") == 200);
  CHECK(own.at("functional_dimension").get<int>() <= 22);
}

TEST_CASE("fdim table", "[cli][fdim]") {
  cli_result r = run({"fdim", "mlp:3-4-2,bias"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  CHECK(contains(r.out, "network              mlp:3-4-2,bias\n"));
  CHECK(contains(r.out, "functional dimension 21  (numerical rank of the 106 x 26 Jacobian)\n"));
  CHECK(contains(r.out, "path dimension       22  (E_on - H_on, the upper bound)\n"));
  CHECK(contains(r.out, "rows                 106  (53 input samples x 2 outputs)\n"));
  CHECK(contains(r.out, "threshold            "));
  CHECK(contains(r.out, "spectral gap         "));
  CHECK(contains(r.out, "linear units         1  (h1_0: on one side of the kink on every input sample)\n"));
  CHECK(contains(r.out, "agree                no: 1 below the path dimension\n"));
  CHECK(contains(r.out, "dead ReLUs"));
  CHECK(contains(r.out, "hidden symmetries"));
  cli_result two = run({"fdim", "mlp:3-4-2,bias", "--seed", "2"});
  REQUIRE(two.code == 0);
  CHECK(contains(two.out, "agree                yes"));
  CHECK_FALSE(contains(two.out, "usual reasons"));
  // Too few rows for the dimension is named as such.
  cli_result few = run({"fdim", "mlp:3-4-2,bias", "--inputs", "3"});
  REQUIRE(few.code == 0);
  CHECK(contains(few.out, "why                  6 rows cannot have rank 22: use more --inputs\n"));
}

TEST_CASE("fdim --help", "[cli][fdim]") {
  cli_result r = run({"fdim", "--help"});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  for (const char* part : {"Usage: fdim", "NET", "--inputs", "--seed", "--json", "2^-52"}) {
    INFO(part);
    CHECK(contains(r.out, part));
  }
  cli_result top = run({"--help"});
  CHECK(contains(top.out, "fdim"));
}

TEST_CASE("fdim bad input", "[cli][fdim]") {
  require_error({"fdim", "mlp:3-x"}, scaleinv::cli::bad_input, "mlp:3-x");
  require_error({"fdim", "/nonexistent/net.json"}, scaleinv::cli::bad_input, "/nonexistent/net.json");
  require_error({"fdim"}, scaleinv::cli::usage, "NET");
  require_error({"fdim", "mlp:3-4-2,bias", "--inputs", "0"}, scaleinv::cli::usage, "--inputs");
  require_error({"fdim", "mlp:3-4-2,bias", "--inputs", "many"}, scaleinv::cli::usage, "--inputs");
  require_error({"fdim", "mlp:3-4-2,bias", "--seed", "-1"}, scaleinv::cli::usage, "--seed");
  require_error({"fdim", "mlp:3-4-2,bias", "--frob"}, scaleinv::cli::usage, "--frob");
  // A Jacobian over the size limit is refused before anything is computed, with the size.
  require_error({"fdim", "mlp:784-500-10"}, scaleinv::cli::usage, "more than the limit of 20000000");
  require_error({"fdim", "mlp:3-4-2,bias", "--inputs", "1000000"}, scaleinv::cli::usage, "--inputs");
  // The unknown-command message lists fdim.
  require_error({"fdimm"}, scaleinv::cli::usage, " fdim");
}
