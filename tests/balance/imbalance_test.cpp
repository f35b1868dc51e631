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
