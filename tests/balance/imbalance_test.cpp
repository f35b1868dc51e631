// tests/balance/imbalance_test.cpp: imbalance(), the per-unit and per-layer statistics as a
// library function: they agree with group_imbalance and balance_cost, the layers partition the
// groups, balancing brings every live group within the tolerance, and tied groups count once.
#include "catch_shim.hpp"
#include "support.hpp"

#include <algorithm>
#include <cmath>

#include "scaleinv/balance/balance.hpp"
#include "scaleinv/balance/imbalance.hpp"
#include "scaleinv/error.hpp"

using namespace scaleinv;

TEST_CASE("imbalance: units agree with group_imbalance, layers partition them", "[balance][imbalance]") {
  for (double p : {1.0, 2.0, 3.0}) {
    for (double depth_factor : {1.0, 1.5}) {
      const network net = test::weighted_mlp({4, 6, 5, 3}, true, 7);
      INFO("p " << p << ", depth factor " << depth_factor);
      const imbalance_report r = imbalance(net, p, depth_factor);
      const balance_structure s = make_balance_structure(net, depth_factor);
      const auto gb = group_imbalance(net, s, net.weights(), p);
      CHECK(r.p == p);
      CHECK(r.cost == balance_cost(net, s, net.weights(), p));
      REQUIRE(r.units.size() == gb.size());
      double worst = 0;
      for (std::size_t g = 0; g < gb.size(); ++g) {
        const unit_imbalance& u = r.units[g];
        CHECK(u.unit == net.node_at(s.members[g].front()).id);
        CHECK(u.members == 1);
        CHECK(u.live == gb[g].live);
        CHECK(u.in == gb[g].in);
        CHECK(u.out == gb[g].out);
        CHECK(u.relative == gb[g].relative());
        CHECK(u.log_ratio == std::log(gb[g].out / gb[g].in));
        worst = std::max(worst, u.relative);
      }
      CHECK(r.max_relative == worst);
      REQUIRE(r.layers.size() == 2);  // two hidden layers
      CHECK(r.layers[0].depth == 1);
      CHECK(r.layers[1].depth == 2);
      CHECK(r.layers[0].groups == 6);
      CHECK(r.layers[1].groups == 5);
      CHECK(r.layers[0].live == 6);
      CHECK(std::max(r.layers[0].max_relative, r.layers[1].max_relative) == r.max_relative);
      double in_sum = 0;
      for (std::size_t g = 0; g < 6; ++g) in_sum += r.units[g].in;
      CHECK(r.layers[0].mean_in == in_sum / 6);
    }
  }
}

TEST_CASE("imbalance: after balancing every live group is within the tolerance", "[balance][imbalance]") {
  network net = test::weighted_mlp({5, 8, 8, 2}, false, 3);
  CHECK(imbalance(net).max_relative > 1e-3);
  balance_options o;
  o.tolerance = 1e-10;
  REQUIRE(balance(net, o).converged);
  const imbalance_report r = imbalance(net);
  CHECK(r.max_relative <= 1e-10);
  for (const auto& l : r.layers) CHECK(l.mean_abs_log_ratio < 1e-9);
}

TEST_CASE("imbalance: dead units are not live, tied units count once", "[balance][imbalance]") {
  SECTION("a unit with zero incoming weights") {
    network net = test::weighted_mlp({2, 3, 1}, false, 5);
    std::vector<double> w = net.weights();
    w[0] = w[1] = 0;  // h1_0's incoming edges
    net.set_weights(w);
    const imbalance_report r = imbalance(net);
    REQUIRE(r.units.size() == 3);
    CHECK_FALSE(r.units[0].live);
    CHECK(r.units[0].relative == 0);
    CHECK(r.units[0].log_ratio == 0);
    CHECK(r.layers.at(0).live == 2);
  }
  SECTION("a convolution: one group per channel") {
    conv_options o;
    o.length = 8;
    o.channels = {1, 2, 1};
    o.init_seed = 4;
    const network net = make_conv1d(o);
    const imbalance_report r = imbalance(net);
    REQUIRE(r.units.size() == 2);
    CHECK(r.units[0].members == 6);
    CHECK(r.units[0].unit == "h1_0_0");
    CHECK(r.layers.size() == 1);
  }
}

TEST_CASE("imbalance: a network without weights is refused", "[balance][imbalance]") {
  CHECK_THROWS_AS(imbalance(test::mlp({2, 3, 1})), invalid_network);
}

// Issue 11 item 9: weights far from 1 made IN, OUT and the cost inf (or 0), the relative
// imbalance NaN and the largest one 0, silently. Now every statistic comes from logarithms when a
// term leaves the double range, and must be the true one.
namespace {
// Every weight of net set to v.
network with_all_weights(network net, double v) {
  net.set_weights(std::vector<double>(net.num_edges(), v));
  return net;
}
}  // namespace

TEST_CASE("imbalance: weights of 1e300 and 1e-300 give the true imbalance", "[balance][imbalance]") {
  // mlp:3-4-2 with every weight equal to v: a hidden unit has IN = 3 v^2 and OUT = 2 v^2, so its
  // relative imbalance is 1/3 and log(OUT / IN) = log(2/3) whatever v is; the cost is 20 v^2.
  for (double v : {1e300, 1e-300, 1e150, 1.0}) {
    INFO("weights " << v);
    const imbalance_report r = imbalance(with_all_weights(test::mlp({3, 4, 2}), v));
    CHECK(r.wide == (v != 1.0));
    REQUIRE(r.units.size() == 4);
    for (const auto& u : r.units) {
      CHECK(u.live);
      CHECK(u.relative == Approx(1.0 / 3).epsilon(1e-12));
      CHECK(u.log_ratio == Approx(std::log(2.0 / 3)).epsilon(1e-12));
      CHECK(u.log10_in == Approx(std::log10(3.0) + 2 * std::log10(v)).epsilon(1e-14));
      CHECK(u.log10_out == Approx(std::log10(2.0) + 2 * std::log10(v)).epsilon(1e-14));
    }
    CHECK(r.max_relative == Approx(1.0 / 3).epsilon(1e-12));
    CHECK(r.log10_cost == Approx(std::log10(20.0) + 2 * std::log10(v)).epsilon(1e-14));
    REQUIRE(r.layers.size() == 1);
    CHECK(r.layers[0].max_relative == Approx(1.0 / 3).epsilon(1e-12));
    CHECK(r.layers[0].mean_abs_log_ratio == Approx(std::log(1.5)).epsilon(1e-12));
    CHECK(r.layers[0].log10_mean_in == Approx(std::log10(3.0) + 2 * std::log10(v)).epsilon(1e-14));
    if (v == 1e300) {  // no double holds 3e600: inf, and the logarithm says what it is
      CHECK(std::isinf(r.units[0].in));
      CHECK(std::isinf(r.cost));
    }
    if (v == 1e-300) CHECK(r.units[0].in == 0);
  }
}

TEST_CASE("imbalance: a net rescaled by 1e200 keeps its numbers, transformed", "[balance][imbalance]") {
  for (bool bias : {false, true}) {
    INFO("bias " << bias);
    const network net = test::weighted_mlp({4, 6, 5, 3}, bias, 11);
    const imbalance_report r = imbalance(net);
    REQUIRE_FALSE(r.wide);
    SECTION("every weight times 1e200: IN, OUT and the cost times 1e400, ratios unchanged") {
      std::vector<double> w = net.weights();
      for (double& x : w) x *= 1e200;
      network big = net;
      big.set_weights(w);
      const imbalance_report b = imbalance(big);
      CHECK(b.wide);
      REQUIRE(b.units.size() == r.units.size());
      for (std::size_t g = 0; g < r.units.size(); ++g) {
        INFO("unit " << r.units[g].unit);
        CHECK(b.units[g].relative == Approx(r.units[g].relative).margin(1e-12));
        CHECK(b.units[g].log_ratio == Approx(r.units[g].log_ratio).margin(1e-11));
        CHECK(b.units[g].log10_in == Approx(r.units[g].log10_in + 400).epsilon(1e-14));
        CHECK(b.units[g].log10_out == Approx(r.units[g].log10_out + 400).epsilon(1e-14));
      }
      CHECK(b.max_relative == Approx(r.max_relative).margin(1e-12));
      CHECK(b.log10_cost == Approx(r.log10_cost + 400).epsilon(1e-14));
    }
    SECTION("the first hidden layer rescaled by c = 1e200 (the same function)") {
      // w(u -> v) becomes w c(v) / c(u). A first-layer unit: IN times c^2, OUT divided by c^2. A
      // second-layer unit: the terms from the first layer divided by c^2, its bias term unchanged.
      const double c = 1e200;
      std::vector<double> w = net.weights();
      auto first_layer = [&](node_id v) { return net.node_at(v).id.rfind("h1_", 0) == 0; };
      for (edge_id e = 0; e < net.num_edges(); ++e) {
        if (first_layer(net.edge_at(e).to)) w[e] *= c;
        if (first_layer(net.edge_at(e).from)) w[e] /= c;
      }
      network scaled = net;
      scaled.set_weights(w);
      const imbalance_report s = imbalance(scaled);
      CHECK(s.wide);
      REQUIRE(s.units.size() == r.units.size());
      const double ln_c2 = 2 * std::log(c);
      for (std::size_t g = 0; g < r.units.size(); ++g) {
        const unit_imbalance &u = r.units[g], &t = s.units[g];
        INFO("unit " << u.unit);
        if (u.depth == 1) {
          CHECK(t.log10_in == Approx(u.log10_in + 400).epsilon(1e-14));
          CHECK(t.log10_out == Approx(u.log10_out - 400).epsilon(1e-14));
          CHECK(t.log_ratio == Approx(u.log_ratio - 2 * ln_c2).epsilon(1e-13));
          CHECK(t.relative == 1.0);  // 1 - e^-1842
        } else if (!bias) {          // every incoming term comes from the first layer
          CHECK(t.log10_in == Approx(u.log10_in - 400).epsilon(1e-14));
          CHECK(t.log10_out == Approx(u.log10_out).epsilon(1e-14));
          CHECK(t.log_ratio == Approx(u.log_ratio + ln_c2).epsilon(1e-13));
        } else {  // IN = bias term + (the rest) / 1e400: the bias term, to double precision
          const double bias_term = std::pow(net.weight(net.in_edges(*net.find_node(u.unit)).back()), 2);
          CHECK(t.in == Approx(bias_term).epsilon(1e-14));
          CHECK(t.out == Approx(u.out).epsilon(1e-14));
          CHECK(t.relative == Approx(std::abs(bias_term - u.out) / std::max(bias_term, u.out)).epsilon(1e-12));
        }
      }
      CHECK(s.max_relative == 1.0);
      CHECK(std::isfinite(s.log10_cost));
    }
  }
}
