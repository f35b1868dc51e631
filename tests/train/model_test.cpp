// tests/train/model_test.cpp: back-propagation against central finite differences for every
// activation, loss and graph kind, and the MLP fast path against the general DAG path.
#include "catch_shim.hpp"
#include "support.hpp"
#include "train/train_support.hpp"

#include "scaleinv/train/model.hpp"

using namespace scaleinv;
using train::loss_kind;
using train::matrix;

namespace {
std::vector<double> random_double_weights(const network& net, splitmix64& rng) {
  std::vector<double> w(net.num_edges());
  for (auto& x : w) x = 0.8 * rng.normal();
  return w;
}

// Central differences; kinks (relu at 0, max ties) are rare with random data and are skipped
// when the one-sided differences disagree, which is how a kink shows itself.
void check_gradient(const network& net, loss_kind loss, std::uint64_t seed, bool fast) {
  splitmix64 rng(seed);
  train::model<double> m(net, fast);
  const std::size_t batch = 5;
  auto x = test::normal_batch(m.num_inputs(), batch, rng);
  std::vector<int> labels;
  matrix<double> targets = test::normal_batch(m.num_outputs(), batch, rng);
  for (std::size_t b = 0; b < batch; ++b) labels.push_back(static_cast<int>(rng.below(m.num_outputs())));
  const std::vector<int>* lp = loss == loss_kind::cross_entropy ? &labels : nullptr;
  const matrix<double>* tp = loss == loss_kind::mse ? &targets : nullptr;
  auto w = random_double_weights(net, rng);
  std::vector<double> grad;
  m.loss_and_gradient(w, x, lp, tp, loss, grad);
  const double h = 1e-6;
  std::size_t checked = 0;
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    auto wp = w, wm = w;
    wp[e] += h;
    wm[e] -= h;
    double f0 = m.loss(w, x, lp, tp, loss), fp = m.loss(wp, x, lp, tp, loss), fm = m.loss(wm, x, lp, tp, loss);
    double right = (fp - f0) / h, left = (f0 - fm) / h;
    if (std::abs(right - left) > 1e-3 * (1 + std::abs(right))) continue;  // a kink between
    double numeric = (fp - fm) / (2 * h);
    INFO("seed " << seed << " edge " << net.describe_edge(e) << " analytic " << grad[e] << " numeric " << numeric);
    REQUIRE(std::abs(grad[e] - numeric) <= 1e-6 * (1 + std::abs(numeric)));
    ++checked;
  }
  REQUIRE(checked * 10 >= net.num_edges() * 9);  // kinks must stay rare, or the test proves little
}

const std::vector<activation>& all_activations() {
  static const std::vector<activation> acts = {activation::relu(),
                                               activation::leaky_relu(mpq_class(1, 10)),
                                               activation::prelu(mpq_class(1, 4)),
                                               activation::bilu(mpq_class(-1, 2), 2),
                                               activation::linear(),
                                               activation::tanh(),
                                               activation::sigmoid(),
                                               activation::max_pool(),
                                               activation::avg_pool()};
  return acts;
}
}  // namespace

TEST_CASE("gradients match finite differences: MLPs, both paths, every activation and loss", "[train][gradient]") {
  for (const auto& act : all_activations()) {
    for (loss_kind loss : {loss_kind::cross_entropy, loss_kind::mse}) {
      mlp_options o;
      o.widths = {3, 4, 3, 2};
      o.bias = true;
      o.act = act;
      network net = make_mlp(o);
      INFO(act.spec() << (loss == loss_kind::mse ? " mse" : " cross-entropy"));
      check_gradient(net, loss, 11, true);
      check_gradient(net, loss, 12, false);
    }
  }
}

TEST_CASE("gradients match finite differences: skip MLPs and random DAGs with biases and mixed units",
          "[train][gradient]") {
  mlp_options o;
  o.widths = {3, 4, 4, 4, 2};
  o.skip_span = 2;
  o.bias = true;
  check_gradient(make_mlp(o), loss_kind::cross_entropy, 3, true);
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    random_dag_options r = test::random_case(seed);
    r.bias = true;
    r.outputs = 2;
    network net = make_random_dag(r);
    splitmix64 rng(seed);
    for (node_id v = 0; v < net.num_nodes(); ++v)
      if (net.node_at(v).kind == node_kind::hidden)
        net.set_activation(v, all_activations()[rng.below(all_activations().size())]);
    check_gradient(net, seed % 2 ? loss_kind::mse : loss_kind::cross_entropy, seed, true);
  }
}

TEST_CASE("the MLP fast path is taken where it applies and agrees with the general path", "[train]") {
  mlp_options o;
  o.widths = {5, 7, 6, 3};
  o.bias = true;
  o.act = activation::leaky_relu(mpq_class(1, 10));
  network net = make_mlp(o);
  REQUIRE(find_layers(net).has_value());
  o.skip_span = 2;
  REQUIRE_FALSE(find_layers(make_mlp(o)).has_value());
  REQUIRE_FALSE(find_layers(make_random_dag(test::random_case(3))).has_value());
  train::model<double> fast(net, true), general(net, false);
  REQUIRE(fast.is_fast());
  REQUIRE_FALSE(general.is_fast());
  splitmix64 rng(5);
  auto x = test::normal_batch(5, 9, rng);
  std::vector<int> labels{0, 1, 2, 0, 1, 2, 0, 1, 2};
  auto w = random_double_weights(net, rng);
  std::vector<double> g1, g2;
  double l1 = fast.loss_and_gradient(w, x, &labels, nullptr, loss_kind::cross_entropy, g1);
  double l2 = general.loss_and_gradient(w, x, &labels, nullptr, loss_kind::cross_entropy, g2);
  REQUIRE(l1 == Approx(l2).epsilon(1e-12));
  for (std::size_t e = 0; e < g1.size(); ++e) REQUIRE(g1[e] == Approx(g2[e]).epsilon(1e-10).margin(1e-14));
  // float32 agrees with float64 to float precision.
  train::model<float> f32(net, true);
  std::vector<float> wf(w.begin(), w.end()), gf;
  matrix<float> xf = x.cast<float>();
  float lf = f32.loss_and_gradient(wf, xf, &labels, nullptr, loss_kind::cross_entropy, gf);
  REQUIRE(lf == Approx(l1).epsilon(1e-5));
}

TEST_CASE("models reject data of the wrong shape", "[train]") {
  network net = test::mlp({3, 2, 2});
  train::model<double> m(net);
  matrix<double> x = matrix<double>::Zero(4, 2);
  std::vector<double> w(net.num_edges(), 0.1), g;
  std::vector<int> labels{0, 1};
  REQUIRE_THROWS_WITH(m.loss_and_gradient(w, x, &labels, nullptr, loss_kind::cross_entropy, g),
                      Catch::Contains("the data has 4 features, the network 3 inputs"));
  matrix<double> ok = matrix<double>::Zero(3, 2);
  std::vector<int> bad{0, 5};
  REQUIRE_THROWS_WITH(m.loss_and_gradient(w, ok, &bad, nullptr, loss_kind::cross_entropy, g),
                      Catch::Contains("out of range"));
}
