// tests/cli/train_balance_cli_test.cpp: `scaleinv train --balance before|every=K` in-process: the
// balanced start is the canonical form of the orbit (a rescaled start balances to the same
// network), balancing keeps the function, runs with momentum, resumes bit-identically, and
// rejects what it cannot do.
#include "catch_shim.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli/cli_support.hpp"
#include "scaleinv/balance/balance.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/io/load.hpp"

using namespace scaleinv::test;

namespace {
const std::vector<std::string> kTrain{
    "train", "mlp:2-12-12-2,bias", "--data", "spirals:n=600", "--batch", "32", "--seed", "3", "--float64"};
double max_rel_gap(const scaleinv::network& a, const scaleinv::network& b) {
  double gap = 0;
  for (scaleinv::edge_id e = 0; e < a.num_edges(); ++e)
    gap = std::max(gap, std::abs(a.weight(e) - b.weight(e)) / std::max(1e-12, std::abs(a.weight(e))));
  return gap;
}
}  // namespace

TEST_CASE("train --balance before: the start is balanced, and a rescaled start balances to the same network",
          "[cli][train][balance]") {
  temp_dir dir;
  const std::string plain = dir.file("plain.json"), balanced = dir.file("balanced.json"),
                    rescaled = dir.file("rescaled.json");
  REQUIRE(run(plus(kTrain, {"--epochs", "0", "-o", plain, "--quiet"})).code == 0);
  REQUIRE(
      run(plus(kTrain, {"--epochs", "0", "--balance", "before", "--balance-tol", "1e-12", "-o", balanced, "--quiet"}))
          .code == 0);
  REQUIRE(run(plus(kTrain, {"--epochs", "0", "--balance", "before", "--balance-tol", "1e-12", "--init-rescale", "1.5",
                            "-o", rescaled, "--quiet"}))
              .code == 0);
  scaleinv::network p = scaleinv::load_network(plain), b = scaleinv::load_network(balanced),
                    r = scaleinv::load_network(rescaled);
  // same function: b is a rescaling of the initialisation
  scaleinv::equivalence_options eo;
  eo.tolerance = 1e-9;
  CHECK(scaleinv::rescaling_equivalence(p, b, eo).equivalent);
  CHECK(max_rel_gap(p, b) > 0.01);
  // balanced
  const auto s = scaleinv::make_balance_structure(b);
  for (const auto& g : scaleinv::group_imbalance(b, s, b.weights(), 2.0)) CHECK(g.relative() <= 1e-11);
  // the canonical form: the badly rescaled start balances to the same network
  CHECK(max_rel_gap(b, r) <= 1e-9);
}

TEST_CASE("train --balance every=K with momentum: learns, counts its balancings, resumes bit-identically",
          "[cli][train][balance]") {
  temp_dir dir;
  auto common = plus(kTrain, {"--lr", "0.05", "--momentum", "0.9", "--balance", "every=4"});
  cli_result r = run(plus(common, {"--epochs", "3", "--json"}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto ls = json_lines(r.out);
  REQUIRE(ls.size() == 3);
  // 480 training samples, batch 32: 15 steps per epoch, a balancing after steps 4, 8, 12, ...
  CHECK(ls[0]["balancings"] == 3);
  CHECK(ls[2]["balancings"] == 11);
  CHECK(ls[2]["balance"] == "every=4");
  CHECK(ls[2]["train_loss"].get<double>() < ls[0]["train_loss"].get<double>());
  // balancing changes the run (SGD is not rescaling-equivariant) ...
  auto unbalanced = json_lines(run(plus(kTrain, {"--lr", "0.05", "--momentum", "0.9", "--epochs", "3", "--json"})).out);
  REQUIRE(unbalanced.size() == 3);
  CHECK(std::abs(unbalanced[2]["test_loss"].get<double>() - ls[2]["test_loss"].get<double>()) > 1e-6);
  // ... and a run interrupted mid-epoch continues bit-identically, balancing at the same steps
  const std::string straight = dir.file("straight.json"), ck = dir.file("ck.json"), resumed = dir.file("resumed.json");
  REQUIRE(run(plus(common, {"--epochs", "3", "-o", straight, "--quiet"})).code == 0);
  REQUIRE(run(plus(common, {"--epochs", "3", "--checkpoint", ck, "--interrupt-after", "22", "--quiet"})).code == 130);
  REQUIRE(run(plus(common, {"--epochs", "3", "--resume", ck, "-o", resumed, "--quiet"})).code == 0);
  CHECK(read_file(straight) == read_file(resumed));
  // resuming with another --balance is refused
  cli_result mismatch = run(plus(plus(kTrain, {"--lr", "0.05", "--momentum", "0.9", "--balance", "every=5"}),
                                 {"--epochs", "3", "--resume", ck}));
  CHECK(mismatch.code == scaleinv::cli::usage);
  CHECK(contains(mismatch.err, "balance"));
}

TEST_CASE("train --balance: usage errors", "[cli][train][balance][errors]") {
  require_usage_error(plus(kTrain, {"--balance", "every=0"}), "every=K");
  require_usage_error(plus(kTrain, {"--balance", "every=x"}), "every=K");
  require_usage_error(plus(kTrain, {"--balance", "sometimes"}), "expected none, before or every=K");
  require_usage_error(plus(kTrain, {"--balance", "before", "--optimizer", "gsgd"}),
                      "--optimizer sgd or pathsgd and --param weights");
  require_usage_error(plus(kTrain, {"--balance", "every=3", "--param", "gmp"}),
                      "--optimizer sgd or pathsgd and --param weights");
  require_usage_error(plus(kTrain, {"--balance", "before", "--balance-p", "0"}), "--balance-p");
}
