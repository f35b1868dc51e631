// tests/train/ec_sgd_test.cpp: EC-SGD, G-SGD on the parameter quotient (docs/training.md): the
// quotient's dimension against analyze_shared, dL/dv on its basis-path values against central
// finite differences, the invariance theorem on a conv net with max pooling (per-channel scales,
// momentum and weight decay), bit-identity with gsgd on unshared networks, and the refusals.
#include "catch_shim.hpp"

#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "scaleinv/balance/balance.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/shared.hpp"
#include "scaleinv/train/ec_sgd.hpp"
#include "scaleinv/train/gsgd.hpp"
#include "scaleinv/train/model.hpp"
#include "scaleinv/train/tied_weights.hpp"
#include "support.hpp"
#include "train/train_support.hpp"

using namespace scaleinv;
using train::loss_kind;

namespace {

// A 1-D conv net with max pooling: inputs x0..x7 and a bias; conv layer 1 (2 channels, kernel 3,
// parameters w1_<c>_<k> and b1_<c>) on positions 0..5; max pooling of position pairs (constant
// edges into max_pool units p<c>_<s>); conv layer 2 (2 channels, kernel 2, parameters
// w2_<c>_<c'>_<k>, b2_<c>) on positions 0, 1; two outputs fed by every layer-2 unit (unshared).
network conv_pool_net() {
  network net;
  std::vector<node_id> x;
  for (int t = 0; t < 8; ++t) x.push_back(net.add_node(fmt::format("x{}", t), node_kind::input));
  const node_id b = net.add_node("b", node_kind::bias);
  node_id h1[2][6], p[2][3], h2[2][2];
  for (int c = 0; c < 2; ++c)
    for (int t = 0; t < 6; ++t) h1[c][t] = net.add_node(fmt::format("h1_{}_{}", c, t), node_kind::hidden);
  for (int c = 0; c < 2; ++c)
    for (int s = 0; s < 3; ++s)
      p[c][s] = net.add_node(fmt::format("p{}_{}", c, s), node_kind::hidden, activation::max_pool());
  for (int c = 0; c < 2; ++c)
    for (int t = 0; t < 2; ++t) h2[c][t] = net.add_node(fmt::format("h2_{}_{}", c, t), node_kind::hidden);
  const node_id y0 = net.add_node("y0", node_kind::output), y1 = net.add_node("y1", node_kind::output);
  for (int c = 0; c < 2; ++c)
    for (int t = 0; t < 6; ++t) {
      for (int k = 0; k < 3; ++k) net.set_param(net.add_edge(x[t + k], h1[c][t]), fmt::format("w1_{}_{}", c, k));
      net.set_param(net.add_edge(b, h1[c][t]), fmt::format("b1_{}", c));
    }
  for (int c = 0; c < 2; ++c)
    for (int t = 0; t < 6; ++t) net.set_constant(net.add_edge(h1[c][t], p[c][t / 2]));
  for (int c = 0; c < 2; ++c)
    for (int t = 0; t < 2; ++t) {
      for (int cc = 0; cc < 2; ++cc)
        for (int k = 0; k < 2; ++k)
          net.set_param(net.add_edge(p[cc][t + k], h2[c][t]), fmt::format("w2_{}_{}_{}", c, cc, k));
      net.set_param(net.add_edge(b, h2[c][t]), fmt::format("b2_{}", c));
    }
  for (node_id y : {y0, y1})
    for (int c = 0; c < 2; ++c)
      for (int t = 0; t < 2; ++t) net.add_edge(h2[c][t], y);
  net.finalize();
  return net;
}

// A JSON net with a shared parameter group (a two-tap kernel k0, k1 over two positions, and j0,
// j1), average pooling (constant 1/2 into a linear unit) and max pooling (constant 1).
const char* kPoolJson = R"({
  "format": "scaleinv.network", "version": 1,
  "nodes": [
    {"id": "x0", "kind": "input"}, {"id": "x1", "kind": "input"}, {"id": "x2", "kind": "input"},
    {"id": "x3", "kind": "input"}, {"id": "b", "kind": "bias"},
    {"id": "h0", "kind": "hidden"}, {"id": "h1", "kind": "hidden"}, {"id": "h2", "kind": "hidden"},
    {"id": "h3", "kind": "hidden"}, {"id": "a", "kind": "hidden", "activation": "linear"},
    {"id": "m", "kind": "hidden", "activation": "max_pool"}, {"id": "g", "kind": "hidden"},
    {"id": "y0", "kind": "output"}, {"id": "y1", "kind": "output"}
  ],
  "edges": [
    {"from": "x0", "to": "h0", "param": "k0"}, {"from": "x1", "to": "h0", "param": "k1"},
    {"from": "x2", "to": "h1", "param": "k0"}, {"from": "x3", "to": "h1", "param": "k1"},
    {"from": "x0", "to": "h2", "param": "j0"}, {"from": "x1", "to": "h2", "param": "j1"},
    {"from": "x2", "to": "h3", "param": "j0"}, {"from": "x3", "to": "h3", "param": "j1"},
    {"from": "b", "to": "h0", "param": "c0"}, {"from": "b", "to": "h1", "param": "c0"},
    {"from": "b", "to": "h2"}, {"from": "b", "to": "h3"},
    {"from": "h0", "to": "a", "constant": true, "weight": "1/2"},
    {"from": "h1", "to": "a", "constant": true, "weight": "1/2"},
    {"from": "h2", "to": "m", "constant": true}, {"from": "h3", "to": "m", "constant": true},
    {"from": "a", "to": "g"}, {"from": "m", "to": "g"}, {"from": "b", "to": "g"},
    {"from": "a", "to": "y0"}, {"from": "m", "to": "y0"}, {"from": "g", "to": "y0"},
    {"from": "g", "to": "y1"}, {"from": "m", "to": "y1"}, {"from": "b", "to": "y1"}
  ]
})";

network pool_json_net() { return read_network_json(kPoolJson, "pool json"); }

// Parameters away from zero, one per parameter (tied_weights order).
std::vector<double> random_params(std::size_t n, splitmix64& rng) {
  std::vector<double> p(n);
  for (auto& v : p) v = (rng.below(2) ? 1 : -1) * (0.4 + rng.uniform());
  return p;
}

struct tied_problem {
  std::shared_ptr<const network> net;
  std::unique_ptr<train::tied_weights<double>> coords;
  std::unique_ptr<train::model<double>> model;
  train::matrix<double> x, t;

  explicit tied_problem(network n, std::uint64_t seed) : net(std::make_shared<const network>(std::move(n))) {
    coords = std::make_unique<train::tied_weights<double>>(*net);
    model = std::make_unique<train::model<double>>(net);
    splitmix64 rng(seed);
    x = test::normal_batch(net->count(node_kind::input), 12, rng);
    t = test::normal_batch(net->count(node_kind::output), 12, rng);
  }
  double loss(const std::vector<double>& p) const {
    std::vector<double> w;
    coords->effective_weights(p, w);
    return model->loss(w, x, nullptr, &t, loss_kind::mse);
  }
  std::vector<double> grad(const std::vector<double>& p) const {
    std::vector<double> w, g, gp;
    coords->effective_weights(p, w);
    model->loss_and_gradient(w, x, nullptr, &t, loss_kind::mse, g);
    coords->backprop(p, g, gp);
    return gp;
  }
};

// The number of rescalings analyze_shared finds, and its dimension.
shared_analysis shared_of(const network& net) {
  const active_subgraph active = find_active(net);
  return analyze_shared(net, active, make_basis(net, active));
}

}  // namespace

TEST_CASE("the parameter quotient: one node per class of tied units, one edge per parameter, its dimension rank(A M)",
          "[ecsgd][train]") {
  for (const network& net : {conv_pool_net(), pool_json_net(), load_network("conv:len=12,ch=1-3-2,k=3,bias"),
                             load_network("cnn:in=1x8x8,layers=c3k3-max2-c2k2-max2-fc5-fc2,bias")}) {
    const train::parameter_quotient q = train::make_parameter_quotient(net);
    INFO(write_network_json(q.net));
    CHECK(q.net.num_edges() == net.num_parameters());
    CHECK_FALSE(q.net.has_constants());
    CHECK_FALSE(q.net.has_params());
    const shared_analysis sh = shared_of(net);
    REQUIRE(sh.surviving_checked);
    const active_subgraph qa = find_active(q.net);
    CHECK(qa.active_hidden == sh.surviving.size());
    CHECK(make_basis(q.net, qa).size() == sh.dimension);
  }
  // Without shared parameters or constant edges the quotient is the network itself.
  mlp_options o;
  o.widths = {3, 5, 4, 2};
  o.bias = true;
  const network mlp = make_mlp(o);
  const train::parameter_quotient q = train::make_parameter_quotient(mlp);
  REQUIRE(q.net.num_nodes() == mlp.num_nodes());
  REQUIRE(q.net.num_edges() == mlp.num_edges());
  for (node_id v = 0; v < mlp.num_nodes(); ++v) {
    CHECK(q.net.node_at(v).id == mlp.node_at(v).id);
    CHECK(q.net.node_at(v).kind == mlp.node_at(v).kind);
  }
  for (edge_id e = 0; e < mlp.num_edges(); ++e) {
    CHECK(q.net.edge_at(e).from == mlp.edge_at(e).from);
    CHECK(q.net.edge_at(e).to == mlp.edge_at(e).to);
  }
}

TEST_CASE("EC-SGD's dL/dv on the quotient's basis-path values matches central finite differences", "[ecsgd][train]") {
  for (auto [name, net] :
       {std::pair<std::string, network>{"conv: spec", load_network("conv:len=10,ch=1-2-2,k=3,bias")},
        std::pair<std::string, network>{"conv with max pooling", conv_pool_net()},
        std::pair<std::string, network>{"JSON pooling and param group", pool_json_net()},
        std::pair<std::string, network>{"2-D cnn with average pooling and a dense hidden layer",
                                        load_network("cnn:in=1x6x6,layers=c2k2-avg2-c2k2-fc3-fc2,bias")}}) {
    for (skeleton_kind k : {skeleton_kind::diagonal, skeleton_kind::first}) {
      INFO(name << ", skeleton " << (k == skeleton_kind::diagonal ? "diagonal" : "first"));
      tied_problem pr(net, 7);
      train::sgd_options so;
      so.skeleton = k;
      train::ec_sgd<double> ec(pr.net, so);
      splitmix64 rng(3);
      const std::vector<double> theta = random_params(pr.coords->size(), rng);
      const auto& g = ec.on_quotient();
      const std::vector<double> v = g.path_values(theta), dv = g.path_gradient(theta, pr.grad(theta));
      REQUIRE(v.size() == *ec.basis_size());
      for (std::size_t b = 0; b < v.size(); ++b) {
        const double h = 1e-5 * std::max(1.0, std::abs(v[b]));
        auto loss_at = [&](double delta) {
          std::vector<double> vb = v, th = theta;
          vb[b] += delta;
          g.realize(th, vb);
          const std::vector<double> got = g.path_values(th);
          for (std::size_t i = 0; i < v.size(); ++i) REQUIRE(std::abs(got[i] - vb[i]) <= 1e-12 * (1 + std::abs(vb[i])));
          return pr.loss(th);
        };
        const double fd = (loss_at(h) - loss_at(-h)) / (2 * h);
        INFO("basis path " << b << ": v = " << v[b]);
        CHECK(std::abs(fd - dv[b]) <= 1e-6 * (1 + std::abs(dv[b])));
      }
    }
  }
}

TEST_CASE("EC-SGD invariance: starts related by per-channel rescalings stay equivalent at every step",
          "[ecsgd][train][theorem]") {
  const network base = conv_pool_net();
  const balance_structure s = make_balance_structure(base);
  for (auto [momentum, decay] : {std::pair{0.0, 0.0}, std::pair{0.9, 0.01}}) {
    for (skeleton_kind k : {skeleton_kind::diagonal, skeleton_kind::first}) {
      INFO("momentum " << momentum << ", weight decay " << decay);
      tied_problem pr(base, 11);
      splitmix64 rng(17);
      std::vector<double> a = random_params(pr.coords->size(), rng);
      // Per-channel scales: one per class of tied units (a channel with its pooling units).
      std::vector<double> class_scale(base.num_nodes(), 1.0), scale(base.num_nodes(), 1.0);
      for (node_id v = 0; v < base.num_nodes(); ++v)
        if (s.group_of[v] != npos && s.root[v] == v) class_scale[v] = std::exp(1.5 * rng.normal());
      for (node_id v = 0; v < base.num_nodes(); ++v) scale[v] = class_scale[s.root[v]];
      network na = base;
      std::vector<double> wa;
      pr.coords->effective_weights(a, wa);
      na.set_weights(wa);
      const network nb = apply_rescaling(na, scale);  // keeps the ties and the constants
      std::vector<double> b = pr.coords->from_weights(nb.weights());
      train::sgd_options so{momentum, decay, k};
      train::ec_sgd<double> ea(pr.net, so), eb(pr.net, so);
      const auto& g = ea.on_quotient();
      double worst = 0;
      for (int step = 0; step < 20; ++step) {
        ea.step(a, pr.grad(a), 0.02);
        eb.step(b, pr.grad(b), 0.02);
        const std::vector<double> va = g.path_values(a), vb = g.path_values(b);
        for (std::size_t i = 0; i < va.size(); ++i)
          worst = std::max(worst, std::abs(va[i] - vb[i]) / (1e-300 + std::abs(va[i]) + std::abs(vb[i])));
        INFO("step " << step + 1);
        REQUIRE(worst < 1e-10);
      }
      CHECK(std::abs(pr.loss(a) - pr.loss(b)) <= 1e-10 * (1 + std::abs(pr.loss(a))));
      // The library's equivalence decision agrees.
      std::vector<double> wa2, wb2;
      pr.coords->effective_weights(a, wa2);
      pr.coords->effective_weights(b, wb2);
      network fa = base, fb = base;
      fa.set_weights(wa2);
      fb.set_weights(wb2);
      equivalence_options eo;
      eo.tolerance = 1e-9;
      CHECK(rescaling_equivalence(fa, fb, eo).equivalent);
    }
  }
}

TEST_CASE("EC-SGD on an unshared network is gsgd, bit for bit", "[ecsgd][train]") {
  std::vector<network> nets;
  mlp_options o;
  o.widths = {3, 6, 5, 2};
  o.bias = true;
  nets.push_back(make_mlp(o));
  o.bias = false;
  nets.push_back(make_mlp(o));
  random_dag_options r = test::random_case(5);
  r.hidden = 8;
  r.bias = true;
  nets.push_back(make_random_dag(r));
  for (const network& n : nets) {
    auto net = std::make_shared<const network>(n);
    for (skeleton_kind k : {skeleton_kind::diagonal, skeleton_kind::first}) {
      const train::sgd_options so{0.9, 0.01, k};
      train::gsgd<float> gs(net, so);
      train::ec_sgd<float> ec(net, so);
      CHECK(ec.on_quotient().is_fast() == gs.is_fast());
      train::gsgd<double> gd(net, so);
      train::ec_sgd<double> ed(net, so);
      train::model<float> mf(net);
      train::model<double> md(net);
      splitmix64 rng(23);
      const train::matrix<double> x = test::normal_batch(net->count(node_kind::input), 8, rng),
                                  t = test::normal_batch(net->count(node_kind::output), 8, rng);
      const train::matrix<float> xf = x.cast<float>(), tf = t.cast<float>();
      std::vector<double> w0 = random_params(net->num_edges(), rng);
      std::vector<float> wf(w0.begin(), w0.end()), wf2 = wf, gf;
      std::vector<double> wd = w0, wd2 = w0, gdv;
      for (int step = 0; step < 20; ++step) {
        mf.loss_and_gradient(wf, xf, nullptr, &tf, loss_kind::mse, gf);
        gs.step(wf, gf, 0.01);
        mf.loss_and_gradient(wf2, xf, nullptr, &tf, loss_kind::mse, gf);
        ec.step(wf2, gf, 0.01);
        md.loss_and_gradient(wd, x, nullptr, &t, loss_kind::mse, gdv);
        gd.step(wd, gdv, 0.01);
        md.loss_and_gradient(wd2, x, nullptr, &t, loss_kind::mse, gdv);
        ed.step(wd2, gdv, 0.01);
      }
      CHECK(wf == wf2);
      CHECK(wd == wd2);
      CHECK(gs.state() == ec.state());
      CHECK(gd.state() == ed.state());
    }
  }
}

TEST_CASE("skeleton-one on the parameter quotient sets whole parameters to 1 and keeps ties and constants",
          "[ecsgd][train]") {
  for (network net : {conv_pool_net(), pool_json_net()}) {
    init_weights(net, 4);
    network before = net;
    train::set_quotient_skeleton_one(net, skeleton_kind::diagonal);
    train::tied_weights<double> tied(net);
    const std::vector<double> p = tied.from_weights(net.weights()), p0 = tied.from_weights(before.weights());
    const train::parameter_quotient q = train::make_parameter_quotient(net);
    const path_basis basis = make_basis(q.net, find_active(q.net), skeleton_kind::diagonal);
    std::vector<std::uint8_t> skeleton(p.size(), 0);
    for (node_id v = 0; v < q.net.num_nodes(); ++v)
      for (edge_id k : {basis.parent_edge[v], basis.child_edge[v]})
        if (k != npos) skeleton[k] = 1;
    for (std::size_t k = 0; k < p.size(); ++k) CHECK(p[k] == (skeleton[k] != 0 ? 1.0 : p0[k]));
    for (edge_id e = 0; e < net.num_edges(); ++e)
      if (net.is_constant(e)) CHECK(net.exact_weight(e) == net.constant_value(e));
  }
}

TEST_CASE("EC-SGD refuses a parameter shared across layers, a cyclic quotient, and extra rescalings",
          "[ecsgd][train]") {
  {  // w on h1 -> h2 and on h2 -> h3: one class, a loop
    network net;
    const node_id x0 = net.add_node("x0", node_kind::input), x1 = net.add_node("x1", node_kind::input);
    const node_id h1 = net.add_node("h1", node_kind::hidden), h2 = net.add_node("h2", node_kind::hidden),
                  h3 = net.add_node("h3", node_kind::hidden), y = net.add_node("y", node_kind::output);
    net.add_edge(x0, h1);
    net.add_edge(x1, h1);
    net.set_param(net.add_edge(h1, h2), "w");
    net.set_param(net.add_edge(h2, h3), "w");
    net.add_edge(h3, y);
    net.finalize();
    CHECK_THROWS_WITH(train::ec_sgd<double>(net, {}),
                      Catch::Matchers::Contains("parameter 'w' has its tail and its head in one class") &&
                          Catch::Matchers::Contains("shared across layers"));
  }
  {  // a residual block: a => d (identity shortcut) closes a -> c -> d into a cycle
    network net;
    const node_id x0 = net.add_node("x0", node_kind::input), x1 = net.add_node("x1", node_kind::input);
    const node_id a = net.add_node("a", node_kind::hidden), c = net.add_node("c", node_kind::hidden),
                  d = net.add_node("d", node_kind::hidden, activation::linear()),
                  y = net.add_node("y", node_kind::output);
    net.add_edge(x0, a);
    net.add_edge(x1, a);
    net.set_param(net.add_edge(a, c), "conv1");
    net.set_param(net.add_edge(c, d), "conv2");
    net.set_constant(net.add_edge(a, d));
    net.add_edge(d, y);
    net.finalize();
    CHECK_THROWS_WITH(train::ec_sgd<double>(net, {}), Catch::Matchers::Contains("has a cycle through") &&
                                                          Catch::Matchers::Contains("parameter 'conv1'") &&
                                                          Catch::Matchers::Contains("parameter 'conv2'"));
  }
  {  // w on x0 -> h1 and on h2 -> h3: h2 is tied to an input, yet the sharing lets it rescale
    network net;
    const node_id x0 = net.add_node("x0", node_kind::input), x1 = net.add_node("x1", node_kind::input);
    const node_id h1 = net.add_node("h1", node_kind::hidden), h2 = net.add_node("h2", node_kind::hidden),
                  h3 = net.add_node("h3", node_kind::hidden), y = net.add_node("y", node_kind::output);
    net.set_param(net.add_edge(x0, h1), "w");
    net.add_edge(x1, h2);
    net.set_param(net.add_edge(h2, h3), "w");
    net.add_edge(h1, y);
    net.add_edge(h3, y);
    net.finalize();
    CHECK_THROWS_WITH(train::ec_sgd<double>(net, {}),
                      Catch::Matchers::Contains("allow 2 independent rescalings") &&
                          Catch::Matchers::Contains("parameter 'w' ties unit 'h2' to a node of fixed scale"));
  }
}

TEST_CASE("train --optimizer ecsgd trains a conv: spec and a pooling network, logs ecsgd, resumes bit-identically",
          "[ecsgd][cli][train]") {
  using namespace scaleinv::test;
  temp_dir dir;
  const std::string log = dir.file("log.csv"), out = dir.file("out.json"), ck = dir.file("ck.json"),
                    resumed = dir.file("resumed.json");
  const std::vector<std::string> conv{"train",          "conv:len=17,ch=1-4-2,k=9",
                                      "--data",         "teacher:n=120,in=17,hidden=5,out=2",
                                      "--loss",         "mse",
                                      "--batch",        "16",
                                      "--seed",         "2",
                                      "--optimizer",    "ecsgd",
                                      "--momentum",     "0.9",
                                      "--weight-decay", "0.001"};
  cli_result r = run(plus(conv, {"--epochs", "3", "--lr", "1e-7", "--log", log, "-o", out, "--json"}));
  INFO(describe_run(conv, r));
  REQUIRE(r.code == 0);
  // From a He-normal start the skeleton path values make G-SGD's useful rates small (docs/training.md).
  const auto epochs = json_lines(r.out);
  REQUIRE(epochs.size() == 3);
  CHECK(epochs.back()["optimizer"] == "ecsgd");
  CHECK(epochs.back()["train_loss"].get<double>() < epochs.front()["train_loss"].get<double>());
  const std::string text = read_file(log);
  CHECK(text.find("ecsgd") != std::string::npos);
  CHECK(text.find("basis_paths") != std::string::npos);
  const network trained = read_network_file(out);
  train::tied_weights<double> tied(trained);
  CHECK_NOTHROW(tied.from_weights(trained.weights()));  // the shared parameters stay tied
  REQUIRE(run(plus(conv, {"--epochs", "2", "--lr", "1e-7", "--checkpoint", ck})).code == 0);
  r = run(plus(conv, {"--epochs", "3", "--lr", "1e-7", "--resume", ck, "-o", resumed}));
  REQUIRE(r.code == 0);
  CHECK(read_file(out) == read_file(resumed));
  // --skeleton-one on the quotient (ties kept): G-SGD's rates become SGD's.
  const std::string one = dir.file("one.json");
  r = run(plus(conv, {"--epochs", "4", "--skeleton-one", "--lr", "0.01", "--json", "-o", one}));
  REQUIRE(r.code == 0);
  const auto one_epochs = json_lines(r.out);
  REQUIRE(one_epochs.size() == 4);
  CHECK(one_epochs.back()["train_loss"].get<double>() < 0.5 * one_epochs.front()["train_loss"].get<double>());
  const network one_net = read_network_file(one);
  train::tied_weights<double> one_tied(one_net);
  CHECK_NOTHROW(one_tied.from_weights(one_net.weights()));
  // Constant edges: trained, kept exactly.
  const std::string pool = dir.write("pool.json", kPoolJson), pool_out = dir.file("pool_out.json");
  r = run({"train", pool, "--data", "teacher:n=100,in=4,hidden=3,out=2", "--loss", "mse", "--optimizer", "ecsgd",
           "--lr", "0.005", "--epochs", "2", "--quiet", "-o", pool_out});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const network pooled = read_network_file(pool_out);
  for (edge_id e = 0; e < pooled.num_edges(); ++e)
    if (pooled.is_constant(e)) CHECK(pooled.exact_weight(e) == pooled.constant_value(e));
  // An identity shortcut that closes a cycle of classes is refused, saying so; gsgd points at ecsgd.
  require_usage_error({"train", "example:pool", "--data", "teacher:n=100,in=4,hidden=3,out=1", "--optimizer", "ecsgd"},
                      "has a cycle through");
  require_usage_error({"train", "example:pool", "--data", "teacher:n=100,in=4,hidden=3,out=1", "--optimizer", "gsgd"},
                      "use --optimizer ecsgd");
}
