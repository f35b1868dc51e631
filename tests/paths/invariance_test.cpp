// tests/paths/invariance_test.cpp: positive rescaling leaves path values and the network function
// unchanged, exactly (rational weights, inputs and scales), for every homogeneous activation.
#include "catch_shim.hpp"
#include "support.hpp"

#include "scaleinv/graph/evaluate.hpp"

using namespace scaleinv;

namespace {
std::vector<mpq_class> random_scales(const network& net, splitmix64& rng) {
  std::vector<mpq_class> s(net.num_nodes(), mpq_class(1));
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (net.is_scalable(v)) s[v] = test::random_scale(rng);
  return s;
}

std::vector<mpq_class> random_inputs(const network& net, splitmix64& rng) {
  std::vector<mpq_class> x;
  for (std::size_t i = 0; i < net.count(node_kind::input); ++i) x.push_back(test::random_rational(rng));
  return x;
}

const std::vector<activation>& homogeneous_activations() {
  static const std::vector<activation> acts = {activation::relu(),
                                               activation::leaky_relu(mpq_class(1, 10)),
                                               activation::prelu(mpq_class(1, 4)),
                                               activation::bilu(mpq_class(-1, 3), mpq_class(5, 2)),
                                               activation::linear(),
                                               activation::max_pool(),
                                               activation::avg_pool()};
  return acts;
}
}  // namespace

TEST_CASE("rescaling preserves every path value and the output exactly", "[invariance][theorem]") {
  for (const activation& act : homogeneous_activations()) {
    for (std::uint64_t seed = 1; seed <= 60; ++seed) {
      random_dag_options o = test::random_case(seed);
      o.act = act;
      o.nonhomogeneous = 0;
      network net = make_random_dag(o);
      splitmix64 rng(seed * 31 + 3);
      auto w = test::random_weights(net, rng);
      auto s = random_scales(net, rng);
      auto w2 = rescale(net, std::span<const mpq_class>(w), std::span<const mpq_class>(s));
      INFO("activation " << act.spec() << ", seed " << seed << "\n" << test::dump(net));
      for_each_path(net, 100000, [&](std::span<const edge_id> path) {
        REQUIRE(path_value(std::span<const mpq_class>(w), path) == path_value(std::span<const mpq_class>(w2), path));
      });
      for (int trial = 0; trial < 3; ++trial) {
        auto x = random_inputs(net, rng);
        REQUIRE(evaluate(net, std::span<const mpq_class>(w), std::span<const mpq_class>(x)) ==
                evaluate(net, std::span<const mpq_class>(w2), std::span<const mpq_class>(x)));
      }
    }
  }
}

TEST_CASE("rescaling MLPs with biases, every homogeneous activation", "[invariance][theorem]") {
  for (const activation& act : homogeneous_activations()) {
    mlp_options o;
    o.widths = {3, 5, 4, 2};
    o.bias = true;
    o.act = act;
    network net = make_mlp(o);
    splitmix64 rng(99);
    auto w = test::random_weights(net, rng);
    auto s = random_scales(net, rng);
    auto w2 = rescale(net, std::span<const mpq_class>(w), std::span<const mpq_class>(s));
    REQUIRE(w != w2);  // the rescaling moved the weights...
    for (int trial = 0; trial < 10; ++trial) {
      auto x = random_inputs(net, rng);
      INFO(act.spec() << " trial " << trial);
      REQUIRE(evaluate(net, std::span<const mpq_class>(w), std::span<const mpq_class>(x)) ==
              evaluate(net, std::span<const mpq_class>(w2), std::span<const mpq_class>(x)));  // ...not the function
    }
  }
}

TEST_CASE("the identity is not vacuous: rescaling a unit without scaling its bias changes the output", "[invariance]") {
  // The defect math.md section 7 warns about in public code: biases left unscaled.
  network net = test::mlp({2, 3, 1}, true);
  std::vector<mpq_class> w(net.num_edges(), mpq_class(1));
  std::vector<mpq_class> x{mpq_class(1), mpq_class(2)};
  node_id h = *net.find_node("h1_0");
  std::vector<mpq_class> s(net.num_nodes(), mpq_class(1));
  s[h] = 3;
  auto good = rescale(net, std::span<const mpq_class>(w), std::span<const mpq_class>(s));
  auto bad = good;
  for (edge_id e : net.in_edges(h))
    if (net.node_at(net.edge_at(e).from).kind == node_kind::bias) bad[e] = w[e];
  auto f = evaluate(net, std::span<const mpq_class>(w), std::span<const mpq_class>(x));
  REQUIRE(evaluate(net, std::span<const mpq_class>(good), std::span<const mpq_class>(x)) == f);
  REQUIRE(evaluate(net, std::span<const mpq_class>(bad), std::span<const mpq_class>(x)) != f);
}

TEST_CASE("a non-homogeneous unit has no rescaling symmetry", "[invariance]") {
  network net;
  node_id x = net.add_node("x", node_kind::input), t = net.add_node("t", node_kind::hidden, activation::tanh()),
          y = net.add_node("y", node_kind::output);
  net.add_edge(x, t);
  net.add_edge(t, y);
  net.finalize();
  REQUIRE_FALSE(net.is_scalable(t));
  std::vector<double> w{0.7, 1.3}, x_in{0.9};
  // Scaling t's in-edge by 2 and out-edge by 1/2 by hand changes a tanh network's output.
  std::vector<double> w2{1.4, 0.65};
  auto f1 = evaluate(net, std::span<const double>(w), std::span<const double>(x_in));
  auto f2 = evaluate(net, std::span<const double>(w2), std::span<const double>(x_in));
  REQUIRE(std::abs(f1[0] - f2[0]) > 0.1);
  // rescale() leaves it alone.
  std::vector<double> s{1.0, 2.0, 1.0};
  REQUIRE(rescale(net, std::span<const double>(w), std::span<const double>(s)) == w);
  // And exact evaluation refuses it rather than rounding.
  std::vector<mpq_class> wq{mpq_class(1), mpq_class(1)}, xq{mpq_class(1)};
  REQUIRE_THROWS_AS(evaluate(net, std::span<const mpq_class>(wq), std::span<const mpq_class>(xq)), invalid_argument);
}

TEST_CASE("rescale rejects non-positive scales", "[invariance]") {
  network net = test::mlp({2, 2, 1});
  std::vector<mpq_class> w(net.num_edges(), mpq_class(1)), s(net.num_nodes(), mpq_class(1));
  s[*net.find_node("h1_1")] = 0;
  REQUIRE_THROWS_WITH(rescale(net, std::span<const mpq_class>(w), std::span<const mpq_class>(s)),
                      Catch::Contains("'h1_1' is not positive"));
  s[*net.find_node("h1_1")] = -2;
  REQUIRE_THROWS_AS(rescale(net, std::span<const mpq_class>(w), std::span<const mpq_class>(s)), invalid_argument);
}

TEST_CASE("rescaling preserves the output exactly on DAGs mixing every homogeneous kind, pooling included",
          "[invariance][theorem]") {
  const auto& acts = homogeneous_activations();
  for (std::uint64_t seed = 1; seed <= 150; ++seed) {
    network net = make_random_dag(test::random_case(seed));
    splitmix64 rng(seed * 977);
    for (node_id v = 0; v < net.num_nodes(); ++v)
      if (net.node_at(v).kind == node_kind::hidden) net.set_activation(v, acts[rng.below(acts.size())]);
    auto w = test::random_weights(net, rng);
    auto s = random_scales(net, rng);
    auto w2 = rescale(net, std::span<const mpq_class>(w), std::span<const mpq_class>(s));
    INFO("seed " << seed << "\n" << test::dump(net));
    for (int trial = 0; trial < 4; ++trial) {
      auto x = random_inputs(net, rng);
      REQUIRE(evaluate(net, std::span<const mpq_class>(w), std::span<const mpq_class>(x)) ==
              evaluate(net, std::span<const mpq_class>(w2), std::span<const mpq_class>(x)));
    }
  }
}

TEST_CASE("pooling units compute max and mean of their weighted inputs, exactly", "[invariance][pooling]") {
  network net;
  node_id a = net.add_node("a", node_kind::input), b = net.add_node("b", node_kind::input),
          mx = net.add_node("mx", node_kind::hidden, activation::max_pool()),
          av = net.add_node("av", node_kind::hidden, activation::avg_pool()), y = net.add_node("y", node_kind::output);
  net.add_edge(a, mx);
  net.add_edge(b, mx);
  net.add_edge(a, av);
  net.add_edge(b, av);
  net.add_edge(mx, y);
  net.add_edge(av, y);
  net.finalize();
  std::vector<mpq_class> w{mpq_class(1), mpq_class(-2), mpq_class(1, 2), mpq_class(3), mpq_class(1), mpq_class(1)};
  std::vector<mpq_class> x{mpq_class(-1), mpq_class(-1, 4)};
  // max(1 * -1, -2 * -1/4) = 1/2; mean(1/2 * -1, 3 * -1/4) = (-1/2 - 3/4) / 2 = -5/8; y = 1/2 - 5/8.
  auto out = evaluate(net, std::span<const mpq_class>(w), std::span<const mpq_class>(x));
  REQUIRE(out.size() == 1);
  REQUIRE(out[0] == mpq_class(-1, 8));
}
