// tests/cli/train_cli_test.cpp: `scaleinv train` in-process: learning happens, resume is
// bit-identical (at epoch ends and mid-epoch), G-SGD's invariance shows through the CLI, logs
// and errors.
#include "catch_shim.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli/cli_support.hpp"

using namespace scaleinv::test;

namespace {
const std::vector<std::string> kBase{
    "train", "mlp:2-12-12-2,bias", "--data", "spirals:n=600", "--batch", "32", "--seed", "3"};
}  // namespace

TEST_CASE("train learns, and writes a log per epoch", "[cli][train]") {
  temp_dir dir;
  for (std::string opt : {"sgd", "gsgd"}) {
    auto r = run(plus(kBase, {"--optimizer", opt, "--epochs", "8", "--lr", opt == "sgd" ? "0.1" : "0.02", "--json",
                              "--log", (dir.path() / (opt + ".csv")).string()}));
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto epochs = json_lines(r.out);
    REQUIRE(epochs.size() == 8);
    CHECK(epochs.back()["train_loss"].get<double>() < epochs.front()["train_loss"].get<double>());
    if (opt == "gsgd") CHECK(epochs.back()["basis_paths"] == 12 * 3 + 12 * 13 + 2 * 13 - 24);
    std::string csv = read_file(dir.path() / (opt + ".csv"));
    CHECK(csv.rfind("epoch,optimizer,lr,train_loss,test_loss,test_accuracy,seconds,basis_paths,param,balance,"
                    "balancings,balance_seconds,"
                    "balance_max_imbalance\n",
                    0) == 0);
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 9);
  }
}

TEST_CASE("resume continues bit-identically, from an epoch end and from mid-epoch", "[cli][train]") {
  temp_dir dir;
  // float64 too: there the rounding of Eigen's small products depends on operand alignment, which
  // train::model pins (model.hpp, aligned_weights); before that, float64 resumes drifted in the last bit.
  for (std::string opt : {"sgd", "gsgd", "sgd-float64", "gsgd-float64"}) {
    const bool f64 = opt.size() > 8;
    auto common =
        plus(kBase, {"--optimizer", opt.substr(0, opt.find('-')), "--lr", "0.03", "--momentum", "0.9", "--quiet"});
    if (f64) common.push_back("--float64");
    auto straight = dir.path() / (opt + "-straight.json"), ck = dir.path() / (opt + "-ck.json"),
         resumed = dir.path() / (opt + "-resumed.json");
    REQUIRE(run(plus(common, {"--epochs", "4", "-o", straight.string()})).code == 0);
    // Stop after 2 epochs, then resume to 4.
    REQUIRE(run(plus(common, {"--epochs", "2", "--checkpoint", ck.string()})).code == 0);
    auto r = run(plus(common, {"--epochs", "4", "--resume", ck.string(), "-o", resumed.string()}));
    INFO(r.err);
    REQUIRE(r.code == 0);
    REQUIRE(read_file(straight) == read_file(resumed));
    // Interrupted in the middle of epoch 2 (batch 7 of 15 of the second epoch), then resumed.
    auto mid = dir.path() / (opt + "-mid.json"), mid_out = dir.path() / (opt + "-mid-out.json");
    r = run(plus(common, {"--epochs", "4", "--checkpoint", mid.string(), "--interrupt-after", "22"}));
    REQUIRE(r.code == 130);
    REQUIRE(r.out.find("interrupted at epoch 2, batch 7") != std::string::npos);
    auto doc = nlohmann::json::parse(read_file(mid));
    REQUIRE(doc["training"]["epoch"] == 1);
    REQUIRE(doc["training"]["batch"] == 7);
    REQUIRE(run(plus(common, {"--epochs", "4", "--resume", mid.string(), "-o", mid_out.string()})).code == 0);
    REQUIRE(read_file(straight) == read_file(mid_out));
  }
}

TEST_CASE("through the CLI: a rescaled start changes SGD's run but not G-SGD's", "[cli][train][theorem]") {
  for (std::string opt : {"gsgd", "sgd"}) {
    auto common = plus(kBase, {"--optimizer", opt, "--lr", "0.01", "--epochs", "3", "--float64", "--json"});
    auto plain = json_lines(run(common).out), rescaled = json_lines(run(plus(common, {"--init-rescale", "1.0"})).out);
    REQUIRE(plain.size() == 3);
    REQUIRE(rescaled.size() == 3);
    double gap = 0;
    for (std::size_t e = 0; e < 3; ++e)
      gap = std::max(gap, std::abs(plain[e]["test_loss"].get<double>() - rescaled[e]["test_loss"].get<double>()));
    INFO(opt << " test-loss gap " << gap);
    if (opt == "gsgd") REQUIRE(gap < 1e-9);
    else REQUIRE(gap > 1e-4);
  }
}

TEST_CASE("train errors: shapes, data, resume mismatches", "[cli][train]") {
  auto r = run({"train", "mlp:3-4-2", "--data", "spirals:n=100"});
  CHECK(r.code == 2);
  CHECK(r.err.find("the network has 3 inputs, the data 2 features") != std::string::npos);
  r = run({"train", "mlp:2-4-3", "--data", "spirals:n=100"});
  CHECK(r.code == 2);
  CHECK(r.err.find("3 outputs, the data 2 classes") != std::string::npos);
  r = run({"train", "mlp:2-4-2", "--data", "nosuch:1"});
  CHECK(r.code != 0);
  CHECK(r.err.rfind("scaleinv: error: ", 0) == 0);
  r = run({"train", "mlp:2-4-2", "--data", "spirals:n=100", "--optimizer", "adam"});
  CHECK(r.code == 2);
  temp_dir dir;
  auto ck = dir.path() / "ck.json";
  REQUIRE(run(plus(kBase, {"--epochs", "1", "--checkpoint", ck.string(), "--quiet"})).code == 0);
  r = run(plus(kBase, {"--epochs", "2", "--resume", ck.string(), "--optimizer", "gsgd", "--quiet"}));
  CHECK(r.code == 2);
  CHECK(r.err.find("--resume: the checkpoint was made with optimizer = \"sgd\"") != std::string::npos);
}
