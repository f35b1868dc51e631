// tests/cli/train_defects_test.cpp: the trainer defects a new user found (issue 11): shared
// parameters stay tied through training, resume and output; NET and --resume agree; divergence
// stops with its own exit code and keeps the last finite state; no test set is said, not printed
// as zeros; the CSV log carries what the JSON log carries, in the shortest exact form.
#include "catch_shim.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli/cli_support.hpp"
#include "scaleinv/io/network_json.hpp"

using namespace scaleinv::test;

namespace {
const std::vector<std::string> kConv{"train",   "conv:len=17,ch=1-4-2,k=9",
                                     "--data",  "teacher:n=120,in=17,hidden=5,out=2",
                                     "--loss",  "mse",
                                     "--batch", "16",
                                     "--seed",  "2",
                                     "--quiet"};

// Every parameter's edges carry one weight.
void require_tied(const std::string& path) {
  auto doc = nlohmann::json::parse(read_file(path));
  std::map<std::string, double> value;
  std::size_t shared = 0;
  for (const auto& e : doc["edges"]) {
    if (!e.contains("param")) continue;
    ++shared;
    const std::string k = e["param"].get<std::string>();
    const double w = e["weight"].get<double>();
    auto [it, fresh] = value.emplace(k, w);
    INFO("parameter " << k);
    CHECK((fresh || it->second == w));
  }
  CHECK(shared > value.size());  // some parameter is on more than one edge
}
}  // namespace

TEST_CASE("train keeps shared parameters tied: SGD trains the parameters, every file it writes reads back",
          "[cli][train][shared]") {
  temp_dir dir;
  const std::string out = dir.file("out.json"), ck = dir.file("ck.json"), resumed = dir.file("resumed.json");
  auto common =
      plus(kConv, {"--lr", "0.05", "--momentum", "0.9", "--weight-decay", "0.001", "--schedule", "step:2:0.5"});
  auto r = run(plus(common, {"--epochs", "4", "-o", out, "--json"}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto epochs = json_lines(r.out);
  REQUIRE(epochs.size() == 4);
  CHECK(epochs.back()["train_loss"].get<double>() < epochs.front()["train_loss"].get<double>());
  require_tied(out);
  // Every command reads what train wrote.
  CHECK(run({"analyze", out}).code == 0);
  CHECK(run({"balance", out, "-o", dir.file("b.json")}).code == 0);
  // A checkpoint resumes, bit-identically.
  REQUIRE(run(plus(common, {"--epochs", "2", "--checkpoint", ck})).code == 0);
  require_tied(ck);
  CHECK(run({"analyze", ck}).code == 0);
  r = run(plus(common, {"--epochs", "4", "--resume", ck, "-o", resumed}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(read_file(out) == read_file(resumed));
  // The JSON example of docs/formats.md (a JSON "param" group) trains too.
  const std::string json_net = dir.write("tied.json", R"({"format": "scaleinv.network", "version": 1,
    "nodes": [{"id": "x0", "kind": "input"}, {"id": "x1", "kind": "input"}, {"id": "h", "kind": "hidden"},
              {"id": "y0", "kind": "output"}, {"id": "y1", "kind": "output"}],
    "edges": [{"from": "x0", "to": "h", "param": "a"}, {"from": "x1", "to": "h", "param": "a"},
              {"from": "h", "to": "y0"}, {"from": "h", "to": "y1"}]})");
  REQUIRE(run({"train", json_net, "--data", "spirals:n=100", "--epochs", "2", "--lr", "0.1", "--quiet", "-o",
               dir.file("t.json")})
              .code == 0);
  auto t = nlohmann::json::parse(read_file(dir.file("t.json")));
  CHECK(t["edges"][0]["weight"] == t["edges"][1]["weight"]);
  CHECK(t["edges"][0]["weight"].get<double>() != 0.0);
}

TEST_CASE("train refuses what would untie shared parameters, saying why", "[cli][train][shared]") {
  require_usage_error(plus(kConv, {"--optimizer", "gsgd"}), "--optimizer gsgd does not train shared parameters");
  require_usage_error(plus(kConv, {"--param", "gmp"}), "shares parameters between edges");
  require_usage_error(plus(kConv, {"--param", "weightnorm"}), "shares parameters between edges");
  require_usage_error(plus(kConv, {"--balance", "before"}), "does not work on a network with shared parameters");
}

TEST_CASE("train --init-rescale on shared parameters: one scale per tie class keeps them tied",
          "[cli][train][shared]") {
  temp_dir dir;
  const std::string plain = dir.file("plain.json"), rescaled = dir.file("rescaled.json");
  // float64: the float32 default would round the rescaled weights, and equivalent compares to 1e-9.
  REQUIRE(run(plus(kConv, {"--epochs", "0", "--float64", "-o", plain})).code == 0);
  cli_result r = run(plus(kConv, {"--epochs", "0", "--float64", "--init-rescale", "1", "-o", rescaled}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  require_tied(rescaled);
  // The start moved (other weights) within its equivalence class.
  CHECK(read_file(plain) != read_file(rescaled));
  CHECK(run_json({"equivalent", plain, rescaled, "--json"}).at("equivalent") == true);
}

TEST_CASE("train --resume: NET may be left out, must match when given, nothing to do is said", "[cli][train]") {
  temp_dir dir;
  const std::vector<std::string> base{"--data", "spirals:n=200", "--batch", "32", "--quiet", "--lr", "0.1"};
  const std::string ck = dir.file("ck.json");
  REQUIRE(run(plus({"train", "mlp:2-8-2,bias"}, plus(base, {"--epochs", "2", "--checkpoint", ck}))).code == 0);
  // Another network named beside the checkpoint.
  require_usage_error(plus({"train", "example:demo"}, plus(base, {"--epochs", "3", "--resume", ck})),
                      "NET example:demo is not the network of the checkpoint");
  require_usage_error(plus({"train", "mlp:2-9-2,bias"}, plus(base, {"--epochs", "3", "--resume", ck})), "nodes");
  // NET left out, or the same structure named: both continue.
  const std::string a = dir.file("a.json"), b = dir.file("b.json");
  REQUIRE(run(plus({"train"}, plus(base, {"--epochs", "3", "--resume", ck, "-o", a}))).code == 0);
  REQUIRE(run(plus({"train", "mlp:2-8-2,bias"}, plus(base, {"--epochs", "3", "--resume", ck, "-o", b}))).code == 0);
  CHECK(read_file(a) == read_file(b));
  // Neither NET nor --resume.
  require_usage_error(plus({"train"}, plus(base, {"--epochs", "3"})), "train needs NET");
  // Already at --epochs.
  auto r = run(plus({"train"}, plus(base, {"--epochs", "2", "--resume", ck})));
  CHECK(r.code == 0);
  CHECK(contains(r.out, "is at epoch 2 and --epochs is 2: nothing to train"));
}

TEST_CASE("train: divergence stops with exit 6 and keeps the last finite state", "[cli][train]") {
  temp_dir dir;
  const std::string out = dir.file("nan.json"), ck = dir.file("ck.json");
  for (std::string precision : {"float32", "float64"}) {
    // MSE on a teacher overflows in both precisions within a few steps at this rate.
    auto args = std::vector<std::string>{"train",    "mlp:4-16-3",
                                         "--data",   "teacher:n=300,in=4,hidden=5,out=3",
                                         "--epochs", "10",
                                         "--lr",     "1e6",
                                         "--quiet",  "-o",
                                         out,        "--checkpoint",
                                         ck,         "--test-fraction",
                                         "0"};
    if (precision == "float64") args.push_back("--float64");
    auto r = run(args);
    INFO(describe_run(args, r));
    CHECK(r.code == scaleinv::cli::diverged);
    CHECK(starts_with(r.err, "scaleinv: error: training diverged at epoch "));
    CHECK(contains(r.err, "the loss is infinite"));
    CHECK(contains(r.err, "try a smaller learning rate than --lr 1000000"));
    CHECK(contains(r.err, "is in " + out + " and " + ck));
    // The kept state is finite and reads back as a network and as a checkpoint. (Whether a smaller
    // learning rate rescues it depends on how far the run had gone: either it trains or it stops
    // again the same way, never with another error.)
    REQUIRE(run({"analyze", out}).code == 0);
    auto resumed =
        run({"train", "--data", "teacher:n=300,in=4,hidden=5,out=3", "--epochs", "10", "--lr", "1e-6", "--quiet",
             "--test-fraction", "0", "--resume", ck, precision == "float64" ? "--float64" : "--quiet"});
    INFO(resumed.err);
    CHECK((resumed.code == 0 || resumed.code == scaleinv::cli::diverged));
  }
  // With a test set, the first non-finite loss may be the test loss at an epoch's end: also exit 6.
  auto t = run({"train", "mlp:4-16-3", "--data", "teacher:n=300,in=4,hidden=5,out=3", "--epochs", "10", "--lr", "1e6",
                "--quiet", "-o", out});
  CHECK(t.code == scaleinv::cli::diverged);
  CHECK(run({"analyze", out}).code == 0);
  // Without -o or --checkpoint the message says nothing was kept.
  auto r = run({"train", "mlp:4-16-3", "--data", "teacher:n=300,in=4,hidden=5,out=3", "--epochs", "10", "--lr", "1e6",
                "--quiet"});
  CHECK(r.code == scaleinv::cli::diverged);
  CHECK(contains(r.err, "Nothing was written"));
}

TEST_CASE(
    "train: no test set is said, and null in the logs, the CSV log has the balance columns and exact short numbers",
    "[cli][train]") {
  temp_dir dir;
  const std::string csv = dir.file("log.csv");
  auto r = run(
      {"train", "mlp:2-8-2,bias", "--data", "spirals:n=200", "--epochs", "2", "--lr", "0.1", "--test-fraction", "0"});
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "(200 train, no test set)"));
  CHECK(contains(r.out, "no test set"));
  CHECK_FALSE(contains(r.out, "test_loss"));
  auto j = run({"train", "mlp:2-8-2,bias", "--data", "spirals:n=200", "--epochs", "1", "--lr", "0.1", "--test-fraction",
                "0", "--json", "--log", csv, "--balance", "every=3"});
  REQUIRE(j.code == 0);
  auto line = json_lines(j.out).at(0);
  CHECK(line["test_loss"].is_null());
  CHECK(line["test_accuracy"].is_null());
  const std::string text = read_file(csv);
  const auto second = text.substr(text.find('\n') + 1);
  INFO(text);
  // epoch,optimizer,lr,train_loss,test_loss,test_accuracy,seconds,basis_paths,param,balance,balancings,...
  CHECK(starts_with(second, "1,sgd,0.1,"));
  CHECK(contains(second, ",,,"));  // test_loss, test_accuracy empty, then seconds
  CHECK(contains(second, ",weights,every=3,"));
  // Regression: no accuracy.
  auto reg = run({"train", "mlp:4-6-2", "--data", "teacher:n=100,in=4,hidden=3,out=2", "--epochs", "1", "--json"});
  REQUIRE(reg.code == 0);
  CHECK(json_lines(reg.out).at(0)["test_accuracy"].is_null());
  CHECK(json_lines(reg.out).at(0)["test_loss"].is_number());
}
