// tests/cli/zoo_cli_test.cpp: "zoo:" models through the commands, in-process.
#include "catch_shim.hpp"

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "cli/cli_support.hpp"

using nlohmann::json;
using namespace scaleinv;
using namespace scaleinv::test;

TEST_CASE("zoo: analyze a ResNet-20 at 3x1x1", "[cli][zoo]") {
  // Only the kernels' centres meet the 1x1 input: 33,738 parameters; 448 classes of hidden
  // channels (16 + 48 in stage 1, 32 + 32 + 64 in stage 2, 64 + 64 + 128 in stage 3).
  json j = run_json_line({"analyze", "zoo:resnet20,input=3x1x1", "--json"});
  CHECK(j.at("outputs") == 10);
  CHECK(j.at("parameters") == 33738);
  CHECK(j.at("dimension") == 33738 - 448);
}

TEST_CASE("zoo: imbalance draws weights for a spec without init, bad names are bad input", "[cli][zoo]") {
  const cli_result r = run({"imbalance", "zoo:lenet5,input=1x16x16"});
  INFO(describe_run({"imbalance", "zoo:lenet5,input=1x16x16"}, r));
  CHECK(r.code == cli::ok);
  require_error({"analyze", "zoo:alexnet"}, cli::bad_input, "unknown zoo model 'alexnet'");
  require_error({"analyze", "zoo:resnet18"}, cli::bad_input, "smaller input");
}
