// tests/train/trainer_test.cpp: the trainer as a library component: callbacks, cancellation and
// bit-identical resume without the CLI; the checkpoint struct and its settings table; the
// optimizer registry and the rescaling hook.
#include "catch_shim.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "scaleinv/balance/balance.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/io/checkpoint.hpp"
#include "scaleinv/io/dataset.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/train/optimizer.hpp"
#include "scaleinv/train/tied_weights.hpp"
#include "scaleinv/train/trainer.hpp"
#include "support.hpp"

using namespace scaleinv;

namespace {
train::trainer_options spirals_options(const std::string& optimizer, const std::string& param) {
  train::trainer_options o;
  o.settings.optimizer = optimizer;
  o.settings.param = param;
  o.settings.data = "spirals:n=300";
  o.settings.seed = 5;
  o.settings.batch_size = 32;
  o.settings.lr = optimizer == "gsgd" ? 0.02 : 0.05;
  o.settings.momentum = 0.9;
  o.epochs = 3;
  return o;
}

std::shared_ptr<const data_split> spirals() {
  return std::make_shared<const data_split>(load_data("spirals:n=300", 5, 0.2));
}
}  // namespace

TEST_CASE("trainer: the library loop gives what the CLI gives, and reports every batch and epoch", "[train][trainer]") {
  test::temp_dir dir;
  for (std::string opt : {"sgd", "gsgd"}) {
    auto o = spirals_options(opt, "weights");
    train::trainer<float> t(load_network("mlp:2-10-10-2,bias"), spirals(), o);
    std::size_t batches = 0, epochs = 0;
    train::trainer_callbacks cb;
    cb.on_batch = [&](const train::batch_progress& p) {
      ++batches;
      CHECK(p.batches == 8);  // 240 training samples in batches of 32
      CHECK(p.batch >= 1);
      CHECK(p.batch <= p.batches);
    };
    cb.on_epoch = [&](const train::epoch_report& r) {
      ++epochs;
      CHECK(r.epoch == epochs);
      CHECK(r.classification);
      CHECK(r.basis_paths.has_value() == (opt == "gsgd"));
    };
    const auto result = t.run(cb);
    CHECK_FALSE(result.cancelled);
    CHECK(batches == 24);
    CHECK(epochs == 3);
    const std::string out = dir.file(opt + ".json");
    auto r = test::run({"train", "mlp:2-10-10-2,bias", "--data", "spirals:n=300", "--seed", "5", "--batch", "32",
                        "--lr", opt == "gsgd" ? "0.02" : "0.05", "--momentum", "0.9", "--epochs", "3", "--optimizer",
                        opt, "--quiet", "-o", out});
    REQUIRE(r.code == 0);
    CHECK(write_network_json(t.trained_network()) == test::read_file(out));
  }
}

TEST_CASE("trainer: cancelled through the flag, it writes a checkpoint that resumes bit-identically",
          "[train][trainer]") {
  test::temp_dir dir;
  for (std::string param : {"weights", "gmp"}) {
    auto o = spirals_options("sgd", param);
    train::trainer<double> straight(load_network("mlp:2-10-10-2,bias"), spirals(), [&] {
      auto so = o;
      so.settings.float64 = true;
      return so;
    }());
    straight.run();
    o.settings.float64 = true;
    o.cancel_checkpoint = dir.file(param + "-ck.json");
    std::atomic<bool> stop{false};
    train::trainer<double> first(load_network("mlp:2-10-10-2,bias"), spirals(), o);
    train::trainer_callbacks cb;
    cb.cancel = &stop;
    cb.on_batch = [&](const train::batch_progress& p) {
      if (p.epoch == 2 && p.batch == 5) stop = true;
    };
    const auto r = first.run(cb);
    REQUIRE(r.cancelled);
    CHECK(r.epoch == 1);
    CHECK(r.batch == 5);
    CHECK(r.checkpoint == o.cancel_checkpoint);
    checkpoint ck = read_checkpoint(r.checkpoint);
    CHECK(ck.epoch == 1);
    CHECK(ck.batch == 5);
    CHECK(ck.params.has_value() == (param == "gmp"));
    train::trainer<double> second(std::move(ck), r.checkpoint, spirals(), o);
    CHECK(second.start_epoch() == 1);
    CHECK_FALSE(second.run().cancelled);
    CHECK(write_network_json(second.trained_network()) == write_network_json(straight.trained_network()));
  }
}

TEST_CASE("trainer: refusals name the options", "[train][trainer]") {
  auto o = spirals_options("gsgd", "gmp");
  CHECK_THROWS_WITH(train::check_trainer_options(o),
                    Catch::Matchers::Contains("--param gmp works with --optimizer sgd only"));
  o = spirals_options("gsgd", "weights");
  o.settings.balance = "every=3";
  CHECK_THROWS_WITH(train::check_trainer_options(o),
                    Catch::Matchers::Contains("--balance every=3 works with --optimizer sgd"));
  o = spirals_options("sgd", "weights");
  o.settings.balance = "every=0";
  CHECK_THROWS_AS(train::check_trainer_options(o), invalid_argument);
  o = spirals_options("adam", "weights");
  CHECK_THROWS_WITH(train::check_trainer_options(o), Catch::Matchers::Contains("unknown optimizer 'adam'"));
  o = spirals_options("sgd", "weights");
  // float32 settings with a float64 trainer
  CHECK_THROWS_AS(train::trainer<double>(load_network("mlp:2-4-2"), spirals(), o), invalid_argument);
  CHECK_THROWS_WITH(train::trainer<float>(load_network("mlp:3-4-2"), spirals(), o),
                    Catch::Matchers::Contains("the network has 3 inputs, the data 2 features"));
}

TEST_CASE("checkpoint: the struct round-trips, old checkpoints read with their defaults, the table decides",
          "[io][checkpoint]") {
  test::temp_dir dir;
  checkpoint c{load_network("mlp:2-3-2,init=4"), {}, 3, 7, {0.5, -1.25, 1e-300}, std::vector<double>{1, 2},
               std::vector<double>{-1}};
  c.settings = {"gsgd", "gmp", "every=4", "spirals:n=10", 11, true, 16, 0.125, 0.5, 0.25, "first", true};
  const std::string path = dir.write("ck.json", write_checkpoint_json(c));
  checkpoint back = read_checkpoint(path);
  CHECK(write_network_json(back.net) == write_network_json(c.net));
  CHECK(back.epoch == 3);
  CHECK(back.batch == 7);
  CHECK(back.state == c.state);
  CHECK(back.params == c.params);
  CHECK(back.signs == c.signs);
  CHECK_FALSE(checkpoint_mismatch(back.settings, c.settings).has_value());
  CHECK(back.settings.lr == 0.125);
  // Every command reads a checkpoint as a network.
  CHECK(write_network_json(read_network_file(path)) == write_network_json(c.net));

  // Settings that must match, and settings that may change.
  training_settings run = c.settings;
  run.lr = 1;
  run.momentum = 0;
  run.weight_decay = 0;
  CHECK_FALSE(checkpoint_mismatch(c.settings, run).has_value());
  run.seed = 12;
  CHECK(checkpoint_mismatch(c.settings, run) == std::optional<std::string>("seed = 11"));
  run = c.settings;
  run.optimizer = "sgd";
  CHECK(checkpoint_mismatch(c.settings, run) == std::optional<std::string>("optimizer = \"gsgd\""));
  run = c.settings;
  run.float64 = false;
  CHECK(checkpoint_mismatch(c.settings, run) == std::optional<std::string>("float64 = true"));

  // A checkpoint of a version before --param and --balance.
  std::string text = write_network_json(c.net, {{"training", R"({"epoch": 1, "batch": 0, "optimizer": "sgd", "seed": 1,
      "float64": false, "lr": 0.1, "momentum": 0, "weight_decay": 0, "batch_size": 128, "data": "spirals:n=10",
      "state": []})"}});
  checkpoint old = read_checkpoint(dir.write("old.json", text));
  CHECK(old.settings.param == "weights");
  CHECK(old.settings.balance == "none");
  CHECK_FALSE(old.params.has_value());

  // Not a checkpoint; a malformed one.
  CHECK_THROWS_WITH(read_checkpoint(dir.write("net.json", write_network_json(c.net))),
                    Catch::Matchers::Contains("not a checkpoint: it has no \"training\" object"));
  CHECK_THROWS_WITH(
      read_checkpoint(dir.write("bad.json", write_network_json(c.net, {{"training", R"({"epoch": -1})"}}))),
      Catch::Matchers::Contains("has no \"optimizer\""));
  CHECK_THROWS_AS(
      read_checkpoint(dir.write("bad2.json", write_network_json(c.net, {{"training", R"({"epoch": 1, "batch": 0,
      "optimizer": 3, "seed": 1, "float64": false, "lr": 0.1, "momentum": 0, "weight_decay": 0, "batch_size": 1,
      "data": "x", "state": []})"}}))),
      parse_error);
}

TEST_CASE("checkpoint: a number of the wrong kind is refused, not converted", "[io][checkpoint]") {
  // nlohmann's get<std::uint64_t>() turns -1 into 2^64 - 1 and 2.5 into 2, and 1e300 with
  // undefined behaviour (found by tests/fuzz/checkpoint_fuzz.cpp under UBSan).
  test::temp_dir dir;
  const network net = load_network("mlp:2-2-1,init=1");
  auto with = [&](const std::string& key, const std::string& value) {
    std::string t =
        R"({"epoch": 1, "batch": 0, "optimizer": "sgd", "seed": 1, "float64": false, "lr": 0.1, "momentum": 0,
        "weight_decay": 0, "batch_size": 128, "data": "spirals:n=10", "state": []})";
    const std::string from = "\"" + key + "\": ";
    const auto at = t.find(from) + from.size();
    t.replace(at, t.find_first_of(",}", at) - at, value);
    return dir.write("ck.json", write_network_json(net, {{"training", t}}));
  };
  CHECK_NOTHROW(read_checkpoint(with("epoch", "2")));
  for (const char* v : {"-1", "1.5", "1e300", "true", "\"1\""}) {
    INFO(v);
    CHECK_THROWS_WITH(read_checkpoint(with("epoch", v)),
                      Catch::Matchers::Contains("needs non-negative integers \"epoch\" and \"batch\""));
    CHECK_THROWS_WITH(read_checkpoint(with("batch", v)), Catch::Matchers::Contains("needs non-negative integers"));
    CHECK_THROWS_WITH(read_checkpoint(with("seed", v)),
                      Catch::Matchers::Contains("\"training\".\"seed\" has the wrong type"));
    CHECK_THROWS_WITH(read_checkpoint(with("batch_size", v)),
                      Catch::Matchers::Contains("\"batch_size\" has the wrong type"));
  }
  CHECK_THROWS_WITH(read_checkpoint(with("lr", "true")), Catch::Matchers::Contains("\"lr\" has the wrong type: true"));
  CHECK_THROWS_WITH(read_checkpoint(with("float64", "1")),
                    Catch::Matchers::Contains("\"float64\" has the wrong type: 1"));
  CHECK(read_checkpoint(with("momentum", "1")).settings.momentum == 1.0);  // an integer is a number
  // A deeply nested value is named by its kind, not printed (the printer recurses per level).
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK_THROWS_WITH(read_checkpoint(with("optimizer", deep)),
                    Catch::Matchers::Contains("\"optimizer\" has the wrong type: [...]"));
  CHECK_THROWS_WITH(
      read_network_json(R"({"format": "scaleinv.network", "version": )" + deep + R"(, "nodes": [], "edges": []})",
                        "deep.json"),
      Catch::Matchers::Contains("unsupported \"version\" [...]"));
}

TEST_CASE("optimizer registry: every entry is made, unknown names are refused", "[train][optimizer]") {
  auto net = std::make_shared<const network>(load_network("mlp:3-4-2,bias"));
  REQUIRE(train::optimizer_registry().size() >= 2);
  for (const auto& info : train::optimizer_registry()) {
    auto f = train::make_optimizer<float>(info.name, net, net->num_edges(), {0.9, 0.0});
    auto d = train::make_optimizer<double>(info.name, net, net->num_edges(), {0.9, 0.0});
    REQUIRE(f);
    REQUIRE(d);
    CHECK(train::find_optimizer(info.name).name == info.name);
  }
  CHECK_THROWS_WITH(train::make_optimizer<float>("lbfgs", net, 3, {}),
                    Catch::Matchers::Contains("expected one of sgd, gsgd"));
}

TEST_CASE("optimizer::rescaled transforms SGD's momentum as balance_training does", "[train][optimizer][balance]") {
  network net = test::weighted_mlp({3, 5, 4, 2}, true, 9);
  std::vector<double> w = net.weights(), w2 = w;
  train::sgd<double> opt(w.size(), {0.9, 0.0});
  splitmix64 rng(3);
  std::vector<double> m(w.size());
  for (double& x : m) x = rng.normal();
  opt.state() = m;
  balance_options bo;
  bo.tolerance = 1e-12;
  balance_report r = balance_training(net, w2, m, bo);
  opt.rescaled(net, r.scale);
  CHECK(opt.state() == m);
}

TEST_CASE("tied_weights: a parameter's gradient is the sum over its edges (finite differences), ties hold",
          "[train][shared]") {
  network net = load_network("conv:len=9,ch=1-3-2,k=3,bias,init=3");
  REQUIRE(net.has_params());
  auto coords = train::make_coordinates<double>(net, train::param_kind::weights);
  REQUIRE_FALSE(coords->is_identity());
  CHECK(coords->size() == net.num_parameters());
  std::vector<double> p = coords->from_weights(net.weights()), w, g, gp;
  coords->effective_weights(p, w);
  CHECK(w == net.weights());  // init_weights ties the draws
  train::model<double> m(net);
  splitmix64 rng(11);
  train::matrix<double> x(9, 6), t(static_cast<Eigen::Index>(m.num_outputs()), 6);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.normal();
  for (Eigen::Index i = 0; i < t.size(); ++i) t.data()[i] = rng.normal();
  m.loss_and_gradient(w, x, nullptr, &t, train::loss_kind::mse, g);
  coords->backprop(p, g, gp);
  REQUIRE(gp.size() == p.size());
  for (std::size_t k = 0; k < p.size(); ++k) {
    const double h = 1e-6;
    auto loss_at = [&](double delta) {
      auto q = p;
      q[k] += delta;
      std::vector<double> wq;
      coords->effective_weights(q, wq);
      return m.loss(wq, x, nullptr, &t, train::loss_kind::mse);
    };
    const double fd = (loss_at(h) - loss_at(-h)) / (2 * h);
    INFO("parameter " << k << " (" << coords->describe(k) << ")");
    CHECK(std::abs(fd - gp[k]) <= 1e-6 * (1 + std::abs(gp[k])));
  }
  // Unequal weights on one parameter are refused, naming it.
  std::vector<double> bad = net.weights();
  bad[0] += 1;
  CHECK_THROWS_WITH(coords->from_weights(bad), Catch::Matchers::Contains("shared weights must be equal"));
  CHECK_THROWS_WITH(net.set_weights(bad), Catch::Matchers::Contains("but have different weights"));
  CHECK(net.weights() != bad);  // unchanged
}
