// tests/cli/optimizers_cli_test.cpp: the optimizers as the papers ran them, through the CLI:
// Path-SGD (also on shared parameters), G-SGD's skeleton choice and --skeleton-one, the path
// norm of analyze, and the skeleton in basis and express.
#include "catch_shim.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cli.hpp"
#include "cli/cli_support.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/paths/basis.hpp"

using namespace scaleinv::test;

namespace {
const std::vector<std::string> kSpirals{"--data", "spirals:n=600", "--batch", "32", "--seed", "3", "--json"};
}

TEST_CASE("train --optimizer pathsgd learns, on plain and on shared parameters", "[cli][train][pathsgd]") {
  auto r =
      run(plus({"train", "mlp:2-12-12-2,bias", "--optimizer", "pathsgd", "--epochs", "8", "--lr", "0.05"}, kSpirals));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto epochs = json_lines(r.out);
  REQUIRE(epochs.size() == 8);
  CHECK(epochs.back()["train_loss"].get<double>() < epochs.front()["train_loss"].get<double>());
  CHECK(epochs.back()["optimizer"] == "pathsgd");
  temp_dir dir;
  const std::string out = dir.file("conv.json");
  r = run({"train", "conv:len=17,ch=1-4-2,k=9", "--data", "teacher:n=120,in=17,hidden=5,out=2", "--optimizer",
           "pathsgd", "--epochs", "3", "--lr", "0.05", "--quiet", "-o", out});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(run({"analyze", out}).code == 0);  // ties kept
  require_usage_error({"train", "mlp:2-4-2", "--optimizer", "pathsgd", "--param", "gmp", "--data", "spirals:n=50"},
                      "--param gmp works with --optimizer sgd only");
}

TEST_CASE("train --skeleton and --skeleton-one", "[cli][train][gsgd]") {
  temp_dir dir;
  // --skeleton-one: with no epochs, the written network is the start, skeleton weights 1.
  for (std::string sk : {"diagonal", "first"}) {
    const std::string out = dir.file(sk + ".json");
    auto r = run({"train", "mlp:2-5-3-2,bias", "--data", "spirals:n=50", "--epochs", "0", "--skeleton-one",
                  "--skeleton", sk, "--quiet", "-o", out});
    INFO(r.err);
    REQUIRE(r.code == 0);
    scaleinv::network net = scaleinv::read_network_file(out);
    scaleinv::path_basis b = scaleinv::make_basis(net, scaleinv::find_active(net), scaleinv::parse_skeleton(sk));
    std::size_t ones = 0;
    for (scaleinv::node_id v = 0; v < net.num_nodes(); ++v) {
      if (b.parent_edge[v] == scaleinv::npos) continue;
      CHECK(net.weight(b.parent_edge[v]) == 1.0);
      CHECK(net.weight(b.child_edge[v]) == 1.0);
      ++ones;
    }
    CHECK(ones == 8);
  }
  // G-SGD with each skeleton learns; the banner names it; a checkpoint made with one skeleton
  // does not resume with the other.
  for (std::string sk : {"diagonal", "first"}) {
    auto r = run(plus({"train", "mlp:2-12-12-2", "--optimizer", "gsgd", "--epochs", "6", "--lr", "0.1",
                       "--skeleton-one", "--skeleton", sk},
                      kSpirals));
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto epochs = json_lines(r.out);
    CHECK(epochs.back()["train_loss"].get<double>() < epochs.front()["train_loss"].get<double>());
  }
  auto text = run({"train", "mlp:2-6-2", "--optimizer", "gsgd", "--data", "spirals:n=50", "--epochs", "1"});
  CHECK(contains(text.out, "basis paths, diagonal skeleton"));
  const std::string ck = dir.file("ck.json");
  REQUIRE(run({"train", "mlp:2-6-2", "--optimizer", "gsgd", "--data", "spirals:n=50", "--epochs", "1", "--quiet",
               "--checkpoint", ck})
              .code == 0);
  require_usage_error({"train", "--optimizer", "gsgd", "--data", "spirals:n=50", "--epochs", "2", "--quiet", "--resume",
                       ck, "--skeleton", "first"},
                      "the checkpoint was made with skeleton = \"diagonal\"");
}

TEST_CASE("analyze --path-norm: exact square, and the norm", "[cli][analyze][pathsgd]") {
  temp_dir dir;
  // Two paths: x -> h -> y (2 * 3) and x -> y (1/2): norm^2 = 36 + 1/4.
  const std::string net = dir.write("n.json", R"({"format": "scaleinv.network", "version": 1,
    "nodes": [{"id": "x", "kind": "input"}, {"id": "h", "kind": "hidden"}, {"id": "y", "kind": "output"}],
    "edges": [{"from": "x", "to": "h", "weight": 2}, {"from": "h", "to": "y", "weight": 3},
              {"from": "x", "to": "y", "weight": "1/2"}]})");
  auto j = run_json({"analyze", net, "--path-norm", "--json"});
  CHECK(j["path_norm"]["squared"] == "145/4");
  CHECK(std::stod(j["path_norm"]["value"].get<std::string>()) == Approx(std::sqrt(36.25)));
  auto r = run({"analyze", net, "--path-norm"});
  CHECK(contains(r.out, "path norm"));
  CHECK(contains(r.out, "145/4"));
  require_bad_input({"analyze", "mlp:2-3-1", "--path-norm"}, "--path-norm needs weights");
}

TEST_CASE("basis and express report their skeleton", "[cli][basis]") {
  auto d = run_json({"basis", "mlp:3-4-5-2", "--json"});
  auto f = run_json({"basis", "mlp:3-4-5-2", "--json", "--skeleton", "first"});
  CHECK(d["skeleton"] == "diagonal");
  CHECK(f["skeleton"] == "first");
  CHECK(d["dimension"] == f["dimension"]);
  CHECK(d["basis"] != f["basis"]);
  auto x = run_json({"express", "mlp:3-4-5-2", "--path", "0,12,32", "--json", "--skeleton", "first"});
  CHECK(x["skeleton"] == "first");
  auto t = run({"basis", "mlp:3-4-5-2", "--limit", "1"});
  CHECK(contains(t.out, "diagonal skeleton"));
}
