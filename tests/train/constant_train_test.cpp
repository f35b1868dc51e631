// tests/train/constant_train_test.cpp: training a network with constant edges (pooling-like
// averaging and max pooling, an identity shortcut): the constants are part of the model's weights
// but not trained coordinates (tied_weights: gradient dropped), they come out unchanged, the output
// reads back, resume is bit-identical, and what would move a constant is refused.
#include "catch_shim.hpp"

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/io/checkpoint.hpp"
#include "scaleinv/io/dataset.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/train/gsgd.hpp"
#include "scaleinv/train/trainer.hpp"
#include "support.hpp"
#include "train/train_support.hpp"

using namespace scaleinv;

namespace {

// Two inputs and a bias; 8 relu units; average pooling a0..a3 (linear units, constant edges 1/2
// from pairs of them) and max pooling m0, m1 (constant edges 1 from halves); 6 relu units from the
// pools; two outputs, and an identity shortcut a0 => y0 (constant 1).
network pooling_net() {
  network net;
  const node_id x0 = net.add_node("x0", node_kind::input), x1 = net.add_node("x1", node_kind::input);
  const node_id b = net.add_node("b", node_kind::bias);
  std::vector<node_id> h, a, m, g;
  for (int i = 0; i < 8; ++i) h.push_back(net.add_node(fmt::format("h{}", i), node_kind::hidden));
  for (int i = 0; i < 4; ++i) a.push_back(net.add_node(fmt::format("a{}", i), node_kind::hidden, activation::linear()));
  for (int i = 0; i < 2; ++i)
    m.push_back(net.add_node(fmt::format("m{}", i), node_kind::hidden, activation::max_pool()));
  for (int i = 0; i < 6; ++i) g.push_back(net.add_node(fmt::format("g{}", i), node_kind::hidden));
  const node_id y0 = net.add_node("y0", node_kind::output), y1 = net.add_node("y1", node_kind::output);
  for (node_id v : h)
    for (node_id u : {x0, x1, b}) net.add_edge(u, v);
  for (int i = 0; i < 8; ++i) {
    net.set_constant(net.add_edge(h[i], a[i / 2]), mpq_class(1, 2));
    net.set_constant(net.add_edge(h[i], m[i / 4]));
  }
  for (node_id v : g) {
    for (node_id u : a) net.add_edge(u, v);
    for (node_id u : m) net.add_edge(u, v);
    net.add_edge(b, v);
  }
  for (node_id y : {y0, y1})
    for (node_id u : g) net.add_edge(u, y);
  net.set_constant(net.add_edge(a[0], y0));
  net.finalize();
  return net;
}

train::trainer_options options(const std::string& optimizer = "sgd") {
  train::trainer_options o;
  o.settings.optimizer = optimizer;
  o.settings.data = "spirals:n=300";
  o.settings.seed = 5;
  o.settings.batch_size = 32;
  o.settings.lr = 0.05;
  o.settings.momentum = 0.9;
  o.epochs = 8;
  return o;
}

std::shared_ptr<const data_split> spirals() {
  return std::make_shared<const data_split>(load_data("spirals:n=300", 5, 0.2));
}

void require_constants_kept(const network& net) {
  REQUIRE(net.has_weights());
  for (edge_id e = 0; e < net.num_edges(); ++e)
    if (net.is_constant(e)) REQUIRE(net.exact_weight(e) == net.constant_value(e));
}

}  // namespace

TEST_CASE("tied_weights with constant edges: no coordinate, the constant copied, its gradient dropped",
          "[constant][train]") {
  network net = pooling_net();
  init_weights(net, 3);
  auto coords = train::make_coordinates<double>(net, train::param_kind::weights);
  REQUIRE_FALSE(coords->is_identity());
  CHECK(coords->size() == net.num_parameters());
  CHECK(coords->size() == net.num_edges() - net.num_constants());
  std::vector<double> p = coords->from_weights(net.weights()), w, grad, gp;
  coords->effective_weights(p, w);
  CHECK(w == net.weights());
  train::model<double> model(net);
  splitmix64 rng(11);
  const train::matrix<double> x = test::normal_batch(2, 6, rng), t = test::normal_batch(2, 6, rng);
  model.loss_and_gradient(w, x, nullptr, &t, train::loss_kind::mse, grad);
  coords->backprop(p, grad, gp);
  REQUIRE(gp.size() == p.size());
  for (std::size_t k = 0; k < p.size(); ++k) {
    const double h = 1e-6;
    auto loss_at = [&](double delta) {
      auto q = p;
      q[k] += delta;
      std::vector<double> wq;
      coords->effective_weights(q, wq);
      return model.loss(wq, x, nullptr, &t, train::loss_kind::mse);
    };
    const double fd = (loss_at(h) - loss_at(-h)) / (2 * h);
    INFO("parameter " << k << " (" << coords->describe(k) << ")");
    CHECK(std::abs(fd - gp[k]) <= 1e-6 * (1 + std::abs(gp[k])));
  }
  // Weight decay acts on the parameters only: a constant stays whatever p is.
  std::vector<double> gd(p.size(), 0.0);
  coords->add_weight_decay(p, gd, 0.5);
  for (std::size_t k = 0; k < p.size(); ++k) CHECK(gd[k] == 0.5 * p[k]);
  std::vector<double> zero(p.size(), 0.0), wz;
  coords->effective_weights(zero, wz);
  for (edge_id e = 0; e < net.num_edges(); ++e)
    CHECK(wz[e] == (net.is_constant(e) ? net.constant_value(e).get_d() : 0.0));
}

TEST_CASE("training a network with constant edges: it learns, the constants stay, the output reads back",
          "[constant][train]") {
  test::temp_dir dir;
  for (bool f64 : {false, true}) {
    auto o = options();
    o.settings.float64 = f64;
    std::vector<double> losses;
    train::trainer_callbacks cb;
    cb.on_epoch = [&](const train::epoch_report& r) { losses.push_back(r.train_loss); };
    network trained;
    if (f64) {
      train::trainer<double> t(pooling_net(), spirals(), o);
      t.run(cb);
      trained = t.trained_network();
    } else {
      train::trainer<float> t(pooling_net(), spirals(), o);
      t.run(cb);
      trained = t.trained_network();
    }
    INFO("float64 " << f64);
    REQUIRE(losses.size() == 8);
    CHECK(losses.back() < 0.8 * losses.front());
    require_constants_kept(trained);
    const std::string text = write_network_json(trained);
    network back = read_network_json(text, "trained.json");
    CHECK_FALSE(structure_difference(trained, back));
    CHECK(write_network_json(back) == text);
    require_constants_kept(back);
  }
}

TEST_CASE("training with constant edges: resume is bit-identical", "[constant][train]") {
  test::temp_dir dir;
  auto o = options();
  o.epochs = 3;
  o.settings.weight_decay = 1e-3;
  train::trainer<float> straight(pooling_net(), spirals(), o);
  straight.run();
  o.cancel_checkpoint = dir.file("ck.json");
  o.cancel_after_steps = 13;
  train::trainer<float> first(pooling_net(), spirals(), o);
  const auto r = first.run();
  REQUIRE(r.cancelled);
  checkpoint ck = read_checkpoint(r.checkpoint);
  REQUIRE(ck.params.has_value());
  CHECK(ck.params->size() == pooling_net().num_parameters());
  o.cancel_after_steps = 0;
  train::trainer<float> second(std::move(ck), r.checkpoint, spirals(), o);
  second.run();
  CHECK(write_network_json(second.trained_network()) == write_network_json(straight.trained_network()));
}

TEST_CASE("training with constant edges: what would move a constant is refused and --init-rescale keeps them",
          "[constant][train]") {
  CHECK_THROWS_WITH(train::trainer<float>(pooling_net(), spirals(), options("gsgd")),
                    Catch::Matchers::Contains("--optimizer gsgd does not train a network with constant edges"));
  for (skeleton_kind k : {skeleton_kind::diagonal, skeleton_kind::first}) {
    train::sgd_options so;
    so.skeleton = k;
    CHECK_THROWS_WITH(train::gsgd<float>(pooling_net(), so), Catch::Matchers::Contains("constant edges"));
  }
  auto o = options();
  o.settings.balance = "before";
  CHECK_THROWS_WITH(train::trainer<float>(pooling_net(), spirals(), o),
                    Catch::Matchers::Contains("--balance before does not work on a network with constant edges"));
  for (std::string param : {"weightnorm", "gmp"}) {
    o = options();
    o.settings.param = param;
    CHECK_THROWS_WITH(train::trainer<float>(pooling_net(), spirals(), o),
                      Catch::Matchers::Contains("this network has constant edges"));
  }
  // --init-rescale draws scales that respect the constants: the same function at the start.
  std::vector<double> start;
  for (double spread : {0.0, 1.5}) {
    o = options();
    o.settings.float64 = true;
    o.settings.lr = 1e-300;
    o.epochs = 1;
    o.init_rescale = spread;
    train::trainer<double> t(pooling_net(), spirals(), o);
    train::trainer_callbacks cb;
    cb.on_epoch = [&](const train::epoch_report& r) { start.push_back(*r.test_loss); };
    t.run(cb);
    require_constants_kept(t.trained_network());
  }
  REQUIRE(start.size() == 2);
  CHECK(std::abs(start[1] - start[0]) <= 1e-12 * start[0]);
}
