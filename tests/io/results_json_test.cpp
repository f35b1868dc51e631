// tests/io/results_json_test.cpp: the results as JSON from the library are what `scaleinv COMMAND
// --json` prints, byte for byte (so the Python binding's dicts have the CLI's keys), and the
// alphabetical objects keep their order.
#include "catch_shim.hpp"
#include "support.hpp"

#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "scaleinv/balance/imbalance.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/results_json.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/count.hpp"

using namespace scaleinv;

namespace {
const std::vector<std::string> kNets{"example:demo", "example:mixed", "mlp:3-4-2,bias,init=1",
                                     "random:seed=3,inputs=3,hidden=8,outputs=2,p=0.6,tanh=0.3,init=2",
                                     "conv:len=8,ch=1-2-1,k=3,bias,init=1"};

std::string cli_out(const std::vector<std::string>& args) {
  const test::cli_result r = test::run(args);
  INFO(test::describe_run(args, r));
  REQUIRE(r.err.empty());
  return r.out;
}
}  // namespace

TEST_CASE("results JSON: the library's objects are the CLI's --json output", "[json][cli]") {
  for (const std::string& name : kNets) {
    INFO(name);
    const network net = load_network(name);
    const analysis a = analyze(net);
    CHECK(analysis_json(net, a, name).dump(2) + "\n" == cli_out({"analyze", name, "--json"}));
    const auto counts = edge_path_counts(net, count_paths(net));
    CHECK(analysis_json(net, a, name, &counts).dump(2) + "\n" == cli_out({"analyze", name, "--json", "--edge-paths"}));

    // The CLI's default skeleton is the diagonal one; --skeleton first gives the library's default.
    const path_basis basis = make_basis(net, find_active(net), skeleton_kind::diagonal);
    CHECK(basis_json(net, basis, name).dump() + "\n" == cli_out({"basis", name, "--json"}));
    CHECK(basis_json(net, make_basis(net, find_active(net)), name).dump() + "\n" ==
          cli_out({"basis", name, "--json", "--skeleton", "first"}));
    CHECK(basis_json(net, basis, name, 2).dump() + "\n" == cli_out({"basis", name, "--json", "--limit", "2"}));

    if (basis.size() > 0) {
      const std::vector<edge_id> path = basis_path(net, basis, basis.size() - 1);
      std::string text;
      for (edge_id e : path) {
        if (!text.empty()) text += ',';
        text += std::to_string(e);
      }
      CHECK(expression_json(express(net, path, skeleton_kind::diagonal), name).dump() + "\n" ==
            cli_out({"express", name, "--path", text, "--json"}));
    }

    network weighted = net;  // as the CLI does for a spec without weights
    if (!weighted.has_weights()) init_weights(weighted, 1);
    const imbalance_report ir = imbalance(weighted);
    CHECK(imbalance_json(ir, false).dump() + "\n" == cli_out({"imbalance", name, "--json"}));
    CHECK(imbalance_json(ir, true).dump() + "\n" == cli_out({"imbalance", name, "--json", "--units"}));

    functional_dimension_options fo;
    fo.inputs = 5;
    fo.seed = 2;
    CHECK(functional_dimension_json(net, functional_dimension(net, fo), name).dump(2) + "\n" ==
          cli_out({"fdim", name, "--json", "--inputs", "5", "--seed", "2"}));

    CHECK(equivalence_json(net, rescaling_equivalence(net, net), name, name).dump() + "\n" ==
          cli_out({"equivalent", name, name, "--json"}));
  }
}

TEST_CASE("results JSON: verify, with the timings set alike", "[json][cli]") {
  for (const std::string& name : kNets) {
    INFO(name);
    nlohmann::json cli = nlohmann::json::parse(cli_out({"verify", name, "--json"}));
    verify_result r = verify(load_network(name));
    r.seconds = cli.at("seconds").get<double>();
    r.rank_seconds = cli.at("rank_seconds").get<double>();
    CHECK(verify_json(r, name) == nlohmann::ordered_json(cli));
    CHECK(verify_json(r, name).dump(2) == cli.dump(2));
  }
}

TEST_CASE("results JSON: key order", "[json]") {
  const network net = load_network("example:demo");
  const nlohmann::ordered_json a = analysis_json(net, analyze(net), "example:demo");
  std::vector<std::string> keys;
  for (const auto& item : a.items()) keys.push_back(item.key());
  CHECK(std::is_sorted(keys.begin(), keys.end()));
  CHECK(keys.front() == "active_edges");

  balance_report rep;
  const nlohmann::ordered_json b = balance_report_json(rep, balance_method::newton, 0.5);
  CHECK(b.begin().key() == "order");
  CHECK(b.at("order") == "newton");
  CHECK(b.contains("cg_steps"));
  CHECK(b.contains("sweeps_first"));
  CHECK(balance_report_json(rep, balance_method::forward, 0.5).contains("unit_updates"));
  CHECK(b.at("seconds") == 0.5);
}
