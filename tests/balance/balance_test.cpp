// tests/balance/balance_test.cpp: the synaptic-balance theorems (math.md section 7): balancing keeps
// the function (exactly, for one rational step), lowers the cost by the closed-form amount, ends
// with every live unit balanced (the last hidden layer too), and reaches one balanced network from
// any order and any rescaling of the start: the canonical form. Tied units, p = 1, 2, 3, dead units.
#include "catch_shim.hpp"
#include "support.hpp"

#include <cmath>
#include <limits>
#include <numeric>
#include <span>

#include <fmt/format.h>

#include "scaleinv/balance/balance.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/train/model.hpp"
#include "train/train_support.hpp"

using namespace scaleinv;

namespace {

const std::vector<activation>& homogeneous_kinds() {
  static const std::vector<activation> acts = {activation::relu(),
                                               activation::leaky_relu(mpq_class(1, 10)),
                                               activation::prelu(mpq_class(1, 4)),
                                               activation::bilu(mpq_class(-1, 3), mpq_class(5, 2)),
                                               activation::linear(),
                                               activation::max_pool(),
                                               activation::avg_pool()};
  return acts;
}

std::vector<double> random_inputs(std::size_t n, splitmix64& rng) {
  std::vector<double> x(n);
  for (double& v : x) v = 2 * rng.uniform() - 1;
  return x;
}

// Largest relative output difference over a few random inputs.
double output_gap(const network& net, const std::vector<double>& a, const std::vector<double>& b, std::uint64_t seed) {
  splitmix64 rng(seed);
  double gap = 0;
  for (int t = 0; t < 5; ++t) {
    auto x = random_inputs(net.count(node_kind::input), rng);
    auto ya = evaluate<double>(net, std::span<const double>(a), std::span<const double>(x));
    auto yb = evaluate<double>(net, std::span<const double>(b), std::span<const double>(x));
    for (std::size_t i = 0; i < ya.size(); ++i)
      gap = std::max(gap, std::abs(ya[i] - yb[i]) / std::max(1.0, std::abs(ya[i])));
  }
  return gap;
}

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]) / std::max(std::abs(a[i]), 1e-300));
  return d;
}

network weighted_dag(std::uint64_t seed, activation act, double nonhomogeneous = 0.0) {
  random_dag_options o;
  o.seed = seed;
  o.inputs = 3;
  o.hidden = 9;
  o.outputs = 2;
  o.p = 0.45;
  o.bias = true;
  o.act = act;
  o.nonhomogeneous = nonhomogeneous;
  o.init_seed = seed + 100;
  return make_random_dag(o);
}

balance_options opts(double p, balance_method m, double tol = 1e-12) {
  balance_options o;
  o.p = p;
  o.method = m;
  o.tolerance = tol;
  o.max_iterations = 200000;
  return o;
}

const std::vector<balance_method>& all_methods() {
  static const std::vector<balance_method> m = {balance_method::forward, balance_method::backward,
                                                balance_method::alternating, balance_method::random,
                                                balance_method::newton};
  return m;
}

mpq_class exact_cost_sum(const network& net, const std::vector<mpq_class>& w, unsigned p,
                         const std::vector<edge_id>& edges) {
  mpq_class s = 0;
  for (edge_id e : edges) {
    mpq_class a = abs(w[e]), q = 1;
    for (unsigned k = 0; k < p; ++k) q *= a;
    s += q;
  }
  (void)net;
  return s;
}

}  // namespace

TEST_CASE("one exact balancing step keeps the function exactly and lowers the cost by (sqrt IN - sqrt OUT)^2",
          "[balance][exact]") {
  // Unit v gets incoming weights a*u (bias included) and outgoing weights b*z, where u and z are
  // integer vectors whose sum of |.|^p is a p-th power (U^p, Z^p), and b = a U q^2 / Z, so that
  // OUT / IN = q^(2p) and the balancing factor is the rational q.
  struct tuple_p {
    unsigned p;
    std::vector<long> u, z;
    long U, Z;
  };
  const std::vector<tuple_p> tuples = {
      {1, {1, -2, 3}, {2, 5, -1}, 6, 8}, {2, {1, 2, -2}, {-2, 3, 6}, 3, 7}, {3, {3, -4, 5}, {-3, 4, 5}, 6, 6}};
  splitmix64 rng(5);
  int checked = 0;
  for (const auto& tp : tuples)
    for (const activation& act : homogeneous_kinds()) {
      // inputs x0, x1, bias b; hidden v (the unit under test) and h (a neighbour); outputs y0..y2.
      network net;
      node_id x0 = net.add_node("x0", node_kind::input), x1 = net.add_node("x1", node_kind::input);
      node_id b = net.add_node("b", node_kind::bias);
      node_id v = net.add_node("v", node_kind::hidden, act), h = net.add_node("h", node_kind::hidden, act);
      std::vector<node_id> y;
      for (int k = 0; k < 3; ++k) y.push_back(net.add_node(fmt::format("y{}", k), node_kind::output));
      std::vector<edge_id> vin = {net.add_edge(x0, v), net.add_edge(x1, v), net.add_edge(b, v)};
      net.add_edge(x0, h);
      net.add_edge(x1, h);
      net.add_edge(v, h);
      std::vector<edge_id> vout;
      for (node_id t : y) vout.push_back(net.add_edge(v, t));
      for (node_id t : y) net.add_edge(h, t);
      net.finalize();
      std::vector<mpq_class> w = test::random_weights(net, rng);
      const mpq_class a = test::random_scale(rng), q = test::random_scale(rng);
      const mpq_class bb = a * tp.U * q * q / tp.Z;
      for (int k = 0; k < 3; ++k) w[vin[k]] = a * tp.u[k], w[vout[k]] = bb * tp.z[k];
      // the edge v -> h is an outgoing edge too: move it into the z part by zeroing it
      for (edge_id e : net.out_edges(v))
        if (net.edge_at(e).to == h) w[e] = 0;
      net.set_exact_weights(w);
      const balance_structure s = make_balance_structure(net);
      const std::uint32_t g = s.group_of[v];
      std::vector<edge_id> v_out_all(net.out_edges(v).begin(), net.out_edges(v).end());
      const mpq_class IN = exact_cost_sum(net, w, tp.p, vin), OUT = exact_cost_sum(net, w, tp.p, v_out_all);
      mpq_class c;
      REQUIRE(exact_balancing_factor(net, s, g, tp.p, c));
      CHECK(c == q);
      CHECK(std::abs(balancing_factor(net, s, net.weights(), tp.p, g) - q.get_d()) <= 1e-12 * q.get_d());
      std::vector<mpq_class> scale(net.num_nodes(), mpq_class(1));
      scale[v] = c;
      network after = apply_rescaling(net, scale);
      std::vector<mpq_class> w2 = after.exact_weights();
      // IN = OUT afterwards, exactly; the cost fell by IN + OUT - 2 sqrt(IN OUT), sqrt(IN OUT) = IN c^p.
      const mpq_class IN2 = exact_cost_sum(after, w2, tp.p, vin), OUT2 = exact_cost_sum(after, w2, tp.p, v_out_all);
      CHECK(IN2 == OUT2);
      mpq_class cp = 1;
      for (unsigned k = 0; k < tp.p; ++k) cp *= c;
      CHECK(IN2 == IN * cp);
      std::vector<edge_id> all(net.num_edges());
      std::iota(all.begin(), all.end(), 0u);
      const mpq_class before_cost = exact_cost_sum(net, w, tp.p, all),
                      after_cost = exact_cost_sum(after, w2, tp.p, all);
      CHECK(before_cost - after_cost == IN + OUT - 2 * IN * cp);
      // the function, exactly, on rational inputs
      for (int t = 0; t < 4; ++t) {
        std::vector<mpq_class> x = {test::random_rational(rng), test::random_rational(rng)};
        auto y1 = evaluate<mpq_class>(net, std::span<const mpq_class>(w), std::span<const mpq_class>(x));
        auto y2 = evaluate<mpq_class>(after, std::span<const mpq_class>(w2), std::span<const mpq_class>(x));
        CHECK(y1 == y2);
      }
      ++checked;
    }
  CHECK(checked == 21);
}

TEST_CASE("balancing keeps the function, biases included, for every homogeneous activation and every order",
          "[balance]") {
  for (const activation& act : homogeneous_kinds())
    for (double p : {1.0, 2.0, 3.0})
      for (balance_method m : all_methods()) {
        network net = weighted_dag(11, act);
        const std::vector<double> w0 = net.weights();
        balance_report r = balance(net, opts(p, m, 1e-10));
        INFO(act.name() << " p=" << p << " " << to_string(m));
        CHECK(r.converged);
        CHECK(r.cost_after <= r.cost_before);
        CHECK(output_gap(net, w0, net.weights(), 3) <= 1e-10);
        // the negative control: biases left unscaled (a public implementation's defect) change it
        {
          std::vector<double> broken = net.weights();
          bool any = false;
          for (edge_id e = 0; e < net.num_edges(); ++e)
            if (net.node_at(net.edge_at(e).from).kind == node_kind::bias && net.is_scalable(net.edge_at(e).to) &&
                std::abs(r.scale[net.edge_at(e).to] - 1) > 1e-3)
              broken[e] = w0[e], any = true;
          if (any) CHECK(output_gap(net, w0, broken, 3) > 1e-6);
        }
      }
}

TEST_CASE("every live unit ends balanced, the last hidden layer too, and the cost never rises", "[balance]") {
  for (double p : {1.0, 2.0, 3.0})
    for (balance_method m : all_methods())
      for (bool fast : {true, false}) {
        network net = test::weighted_mlp({6, 7, 5, 4, 3}, true, 21);
        balance_options o = opts(p, m, 1e-11);
        o.fast = fast;
        balance_report r = balance(net, o);
        INFO("p=" << p << " " << to_string(m) << " fast=" << fast);
        CHECK(r.fast_path == (fast && m != balance_method::random));
        CHECK(r.converged);
        CHECK(r.max_imbalance_before > 1e-3);
        CHECK(r.max_imbalance_after <= 1e-11);
        CHECK(r.cost_after < r.cost_before);
        const balance_structure s = make_balance_structure(net);
        auto gb = group_imbalance(net, s, net.weights(), p);
        REQUIRE(gb.size() == 16);
        for (const auto& b : gb) {
          CHECK(b.live);
          CHECK(std::abs(b.in - b.out) <= 1e-11 * std::max(b.in, b.out));
        }
        // the last hidden layer (4 units, node ids 6+7+5 .. +4, bias nodes after) by name
        for (node_id v = 0; v < net.num_nodes(); ++v)
          if (net.is_scalable(v) && s.depth[v] == 3) {
            const auto& b = gb[s.group_of[v]];
            CHECK(std::abs(b.in - b.out) <= 1e-11 * b.in);
          }
      }
}

TEST_CASE("each closed-form step lowers the cost by exactly (sqrt IN - sqrt OUT)^2", "[balance]") {
  for (double p : {1.0, 2.0, 3.0}) {
    network net = weighted_dag(4, activation::relu(), 0.2);
    const balance_structure s = make_balance_structure(net);
    splitmix64 rng(9);
    std::vector<double> w = net.weights();
    double cost = balance_cost(net, s, w, p);
    for (int step = 0; step < 60; ++step) {
      const auto g = static_cast<std::uint32_t>(rng.below(s.members.size()));
      auto gb = group_imbalance(net, s, w, p);
      if (!gb[g].live) continue;
      const double c = balancing_factor(net, s, w, p, g);
      std::vector<double> scale(net.num_nodes(), 1.0);
      for (node_id v : s.members[g]) scale[v] = c;
      network tmp = net;
      tmp.set_weights(w);
      w = apply_rescaling(tmp, scale).weights();
      const double next = balance_cost(net, s, w, p);
      const double drop = std::pow(std::sqrt(gb[g].in) - std::sqrt(gb[g].out), 2);
      CHECK(next <= cost * (1 + 1e-15));
      CHECK(std::abs((cost - next) - drop) <= 1e-12 * cost);
      auto after = group_imbalance(net, s, w, p);
      CHECK(after[g].relative() <= 1e-13);
      cost = next;
    }
  }
}

TEST_CASE("every order and every rescaling of the start reach the same balanced network", "[balance][canonical]") {
  std::vector<network> nets = {test::weighted_mlp({5, 6, 6, 3}, true, 2), weighted_dag(7, activation::relu()),
                               weighted_dag(8, activation::leaky_relu(mpq_class(1, 5)), 0.2),
                               from_spec("skip:4-5-5-5-2,span=2,bias,init=3")};
  for (std::size_t k = 0; k < nets.size(); ++k)
    for (double p : {1.0, 2.0, 3.0}) {
      INFO("net " << k << " p=" << p);
      network ref = nets[k];
      balance(ref, opts(p, balance_method::newton, 1e-13));
      for (balance_method m : all_methods())
        for (std::uint64_t seed : {1u, 2u, 3u}) {
          if (m != balance_method::random && seed > 1) continue;
          network a = nets[k];
          balance_options o = opts(p, m, 1e-13);
          o.seed = seed;
          balance(a, o);
          CHECK(max_relative_difference(a.weights(), ref.weights()) <= 1e-9);
        }
      // From a random rescaling: balance agrees on every edge between live units and fixed nodes
      // (units that are not live are left where they were); the canonical form agrees everywhere.
      network cref = nets[k];
      canonicalize(cref);
      const balance_structure s = make_balance_structure(ref);
      const auto gb = group_imbalance(ref, s, ref.weights(), p);
      auto live_end = [&](node_id v) { return s.group_of[v] == npos || gb[s.group_of[v]].live; };
      std::size_t live_edges = 0;
      for (std::uint64_t seed : {5u, 6u}) {
        network b = apply_rescaling(nets[k], random_scales(nets[k], seed, 1.5));
        REQUIRE(max_relative_difference(b.weights(), nets[k].weights()) > 0.1);
        network cb = b;
        balance(b, opts(p, balance_method::alternating, 1e-13));
        for (edge_id e = 0; e < b.num_edges(); ++e)
          if (live_end(b.edge_at(e).from) && live_end(b.edge_at(e).to)) {
            ++live_edges;
            CHECK(std::abs(b.weight(e) - ref.weight(e)) <= 1e-9 * std::abs(ref.weight(e)));
          }
        if (p == 2.0) {
          canonicalize(cb);
          CHECK(max_relative_difference(cb.weights(), cref.weights()) <= 1e-9);
        }
      }
      CHECK(live_edges > 0);
    }
}

TEST_CASE("tied units (convolution channels, param groups) are balanced as one", "[balance][tied]") {
  for (double p : {1.0, 2.0, 3.0}) {
    network net = from_spec("conv:len=10,ch=2-3-2-1,k=3,bias,init=4");
    const balance_structure s = make_balance_structure(net);
    CHECK(s.tied);
    CHECK(s.members.size() == 5);                       // one group per hidden channel: 3 + 2
    const tie_coverage c = check_tie_coverage(net, s);  // the exact count from analyze_shared agrees
    CHECK(c.verified);
    CHECK(c.surviving == 5);
    CHECK(c.complete());
    const std::vector<double> w0 = net.weights();
    for (balance_method m : all_methods()) {
      network a = net;
      balance_report r = balance(a, opts(p, m, 1e-12));
      INFO("p=" << p << " " << to_string(m));
      CHECK(r.converged);
      CHECK_FALSE(r.fast_path);
      CHECK(output_gap(a, w0, a.weights(), 1) <= 1e-10);
      // shared parameters still have one value
      std::vector<double> value(a.param_names().size(), std::nan(""));
      for (edge_id e = 0; e < a.num_edges(); ++e) {
        const auto q = a.param(e);
        if (q == npos) continue;
        if (std::isnan(value[q])) value[q] = a.weight(e);
        else CHECK(a.weight(e) == value[q]);
      }
      // a channel is balanced as a whole, with sums over all positions
      auto gb = group_imbalance(a, s, a.weights(), p);
      for (const auto& b : gb) CHECK(std::abs(b.in - b.out) <= 1e-12 * b.in);
    }
    // and the canonical form of the tied net is rescaling-invariant over the tied rescalings
    std::vector<double> sc(net.num_nodes(), 1.0);
    splitmix64 rng(3);
    for (const auto& g : s.members) {
      const double c = std::exp(rng.normal());
      for (node_id v : g) sc[v] = c;
    }
    network b = apply_rescaling(net, sc);
    network ca = net, cb = b;
    canonicalize(ca);
    canonicalize(cb);
    CHECK(max_relative_difference(ca.weights(), cb.weights()) <= 1e-9);
  }
  // A JSON param group tying two units of different depth structure.
  network net;
  node_id x = net.add_node("x", node_kind::input), bnode = net.add_node("b", node_kind::bias);
  node_id h0 = net.add_node("h0", node_kind::hidden), h1 = net.add_node("h1", node_kind::hidden);
  node_id y = net.add_node("y", node_kind::output);
  edge_id e0 = net.add_edge(x, h0), e1 = net.add_edge(x, h1);
  net.add_edge(bnode, h0);
  net.add_edge(h0, y);
  net.add_edge(h1, y);
  net.set_param(e0, "shared");
  net.set_param(e1, "shared");
  net.finalize();
  net.set_weights({0.5, 0.5, 2.0, 3.0, -0.25});
  const balance_structure s = make_balance_structure(net);
  REQUIRE(s.members.size() == 1);
  CHECK(s.members[0] == std::vector<node_id>{h0, h1});
  const std::vector<double> w0 = net.weights();
  balance(net, opts(2, balance_method::forward));
  CHECK(net.weight(0) == net.weight(1));
  CHECK(output_gap(net, w0, net.weights(), 2) <= 1e-12);
  // IN = 0.25 + 0.25 + 4, OUT = 9 + 1/16, so c = (OUT/IN)^(1/4) for both units
  const double c = std::pow((9 + 0.0625) / 4.5, 0.25);
  CHECK(std::abs(net.weight(0) - 0.5 * c) <= 1e-14);
  CHECK(std::abs(net.weight(4) - (-0.25 / c)) <= 1e-14);
}

TEST_CASE("dead units and one-sided units follow the stated rule", "[balance][dead]") {
  // 4-5-5-2 MLP with biases. In layer 1, unit a gets no incoming weight (bias included): it
  // outputs 0; unit b gets no outgoing weight. In layer 2, unit c is fed only by a: it is dead too.
  network net = test::weighted_mlp({4, 5, 5, 2}, true, 6);
  std::vector<double> w = net.weights();
  auto unit = [&](const char* id) { return *net.find_node(id); };
  const node_id a = unit("h1_0"), b = unit("h1_1"), c = unit("h2_0");
  for (edge_id e : net.in_edges(a)) w[e] = 0;
  for (edge_id e : net.out_edges(b)) w[e] = 0;
  for (edge_id e : net.in_edges(c))
    if (net.edge_at(e).from != a) w[e] = 0;
  net.set_weights(w);
  for (double p : {1.0, 2.0, 3.0})
    for (balance_method m : all_methods()) {
      INFO("p=" << p << " " << to_string(m));
      network n1 = net;
      balance_report r = balance(n1, opts(p, m, 1e-12));
      CHECK(r.converged);
      CHECK_FALSE(r.fast_path);
      CHECK(r.groups == 10);
      CHECK(r.live_groups == 7);
      CHECK(r.scale[a] == 1.0);
      CHECK(r.scale[b] == 1.0);
      CHECK(r.scale[c] == 1.0);
      CHECK(output_gap(n1, w, n1.weights(), 4) <= 1e-10);
      const balance_structure s = make_balance_structure(n1);
      for (const auto& g : group_imbalance(n1, s, n1.weights(), p)) {
        if (g.live) CHECK(std::abs(g.in - g.out) <= 1e-12 * g.in);
      }
    }
  // the canonical form is the same for every rescaling, dead units included
  network c0 = net;
  canonicalize(c0);
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    network r = apply_rescaling(net, random_scales(net, seed, 2.0));
    canonicalize(r);
    CHECK(max_relative_difference(r.weights(), c0.weights()) <= 1e-9);
  }
  // a unit with no nonzero incident edge at all keeps scale 1, whatever the input's scale
  network iso = test::weighted_mlp({3, 3, 2}, false, 8);
  std::vector<double> wi = iso.weights();
  const node_id z = *iso.find_node("h1_2");
  for (edge_id e : iso.in_edges(z)) wi[e] = 0;
  for (edge_id e : iso.out_edges(z)) wi[e] = 0;
  iso.set_weights(wi);
  balance_report ri = canonicalize(iso);
  CHECK(ri.scale[z] == 1.0);
}

TEST_CASE("the depth factor balances c^depth-weighted sums (ENorm)", "[balance]") {
  for (double cfac : {1.5, 2.0}) {
    network net = test::weighted_mlp({5, 6, 6, 3}, false, 12);
    const std::vector<double> w0 = net.weights();
    balance_options o = opts(2, balance_method::alternating, 1e-12);
    o.depth_factor = cfac;
    balance_report r = balance(net, o);
    CHECK(r.converged);
    CHECK(output_gap(net, w0, net.weights(), 5) <= 1e-10);
    // unit in layer k: IN over depth-k edges, OUT over depth-(k+1) edges: c^k IN = c^(k+1) OUT
    const balance_structure plain = make_balance_structure(net);
    for (const auto& g : group_imbalance(net, plain, net.weights(), 2))
      CHECK(std::abs(g.in - cfac * g.out) <= 1e-11 * g.in);
  }
}

TEST_CASE("float weights balance like double ones", "[balance]") {
  network net = test::weighted_mlp({8, 6, 6, 4}, true, 31);
  std::vector<float> wf(net.weights().begin(), net.weights().end());
  balance_report r = balance_weights(net, wf, opts(2, balance_method::newton, 1e-5));
  CHECK(r.converged);
  network d = net;
  d.set_weights(std::vector<double>(wf.begin(), wf.end()));
  CHECK(output_gap(net, net.weights(), d.weights(), 7) <= 1e-5);
}

TEST_CASE("balance rejects bad options with a clear message", "[balance][errors]") {
  network net = test::weighted_mlp({3, 3, 2}, false, 1);
  auto msg = [&](balance_options o) {
    try {
      balance(net, o);
    } catch (const invalid_argument& e) { return std::string(e.what()); }
    return std::string();
  };
  balance_options o;
  o.p = 0;
  CHECK(msg(o).find("p must be a positive number") != std::string::npos);
  o = {};
  o.tolerance = 1.5;
  CHECK(msg(o).find("tolerance") != std::string::npos);
  o = {};
  o.depth_factor = 0.5;
  CHECK(msg(o).find("depth factor") != std::string::npos);
  CHECK_THROWS_AS(parse_balance_method("sideways"), invalid_argument);
  network empty = test::mlp({2, 2});
  CHECK_THROWS_AS(balance(empty, balance_options{}), invalid_network);
}

TEST_CASE("balancing during training transforms the momentum buffer as a gradient", "[balance][train]") {
  // With w' = f w per edge (f = c(head) / c(tail)), the gradient at w' is g / f; the buffer m' = m / f
  // makes the next heavy-ball buffer mu m' + g(w') equal to (mu m + g(w)) / f.
  network net = test::weighted_mlp({5, 7, 6, 3}, true, 41);
  std::vector<double> w = net.weights();
  splitmix64 rng(2);
  train::model<double> model(net);
  const train::matrix<double> x = test::normal_batch(5, 16, rng);
  std::vector<int> labels(16);
  for (int& l : labels) l = static_cast<int>(rng.below(3));
  std::vector<double> g, m(w.size());
  for (double& v : m) v = rng.normal();
  model.loss_and_gradient(w, x, &labels, nullptr, train::loss_kind::cross_entropy, g);
  const double mu = 0.9;
  std::vector<double> next(w.size());
  for (std::size_t e = 0; e < w.size(); ++e) next[e] = mu * m[e] + g[e];
  std::vector<double> w2 = w, m2 = m, g2;
  balance_report r = balance_training(net, w2, m2, opts(2, balance_method::newton, 1e-12));
  REQUIRE(r.converged);
  model.loss_and_gradient(w2, x, &labels, nullptr, train::loss_kind::cross_entropy, g2);
  double worst = 0, moved = 0;
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const double f = r.scale[net.edge_at(e).to] / r.scale[net.edge_at(e).from];
    moved = std::max(moved, std::abs(std::log(f)));
    worst = std::max(worst, std::abs((mu * m2[e] + g2[e]) - next[e] / f) / std::max(1e-12, std::abs(next[e] / f)));
  }
  CHECK(moved > 0.1);
  CHECK(worst <= 1e-9);
  std::vector<double> empty;
  std::vector<double> w3 = w;
  CHECK_NOTHROW(balance_training(net, w3, empty, opts(2, balance_method::newton)));
  std::vector<double> wrong(3);
  CHECK_THROWS_AS(balance_training(net, w3, wrong, opts(2, balance_method::newton)), invalid_argument);
}

TEST_CASE("the solvers' own steps: one sweep is the closed-form step of every unit, and sweeps never raise the cost",
          "[balance]") {
  for (bool fast : {true, false})
    for (double p : {1.0, 2.0, 3.0}) {
      INFO("fast=" << fast << " p=" << p);
      // one hidden layer: its units share no edge, so one sweep is one closed-form step per unit
      network net = test::weighted_mlp({4, 6, 3}, true, 51);
      const balance_structure s = make_balance_structure(net);
      const auto gb = group_imbalance(net, s, net.weights(), p);
      double drop = 0;
      for (const auto& g : gb) drop += std::pow(std::sqrt(g.in) - std::sqrt(g.out), 2);
      balance_options o = opts(p, balance_method::forward, 0.0);
      o.max_iterations = 1;
      o.fast = fast;
      network one = net;
      balance_report r = balance(one, o);
      CHECK(r.fast_path == fast);
      CHECK(r.iterations == 1);
      CHECK(std::abs((r.cost_before - r.cost_after) - drop) <= 1e-12 * r.cost_before);
      for (std::uint32_t g = 0; g < s.members.size(); ++g) {
        const double c = balancing_factor(net, s, net.weights(), p, g);
        CHECK(std::abs(r.scale[s.members[g][0]] - c) <= 1e-13 * c);
      }
      // a deeper net: the cost after k sweeps falls with k, for every sweep order
      network deep = test::weighted_mlp({4, 6, 5, 5, 3}, true, 52);
      for (balance_method m : {balance_method::forward, balance_method::backward, balance_method::alternating}) {
        double last = std::numeric_limits<double>::infinity();
        for (std::size_t k = 1; k <= 8; ++k) {
          balance_options ok = opts(p, m, 0.0);
          ok.max_iterations = k;
          ok.fast = fast;
          network d = deep;
          balance_report rk = balance(d, ok);
          CHECK(rk.cost_after <= last * (1 + 1e-15));
          last = rk.cost_after;
        }
      }
    }
}

TEST_CASE("weights far from 1: balancing works through a log-least-squares prescaling", "[balance][extreme]") {
  // A start rescaled by factors up to 1e60 (|w|^2 up to 1e240) balances to the same network as
  // the moderate start, and the function is kept.
  network net = test::weighted_mlp({5, 8, 8, 3}, true, 61);
  std::vector<double> sc(net.num_nodes(), 1.0);
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (net.is_scalable(v)) sc[v] = v % 3 == 0 ? 1e60 : v % 3 == 1 ? 1e-55 : 1.0;
  network far = apply_rescaling(net, sc);
  for (bool fast : {true, false}) {
    balance_options o = opts(2, balance_method::newton, 1e-12);
    o.fast = fast;
    network a = net, b = far;
    balance(a, o);
    balance_report rb = balance(b, o);
    CHECK(rb.converged);
    CHECK(rb.cost_before > 1e100);  // the input's own cost, not the prescaled one
    CHECK(max_relative_difference(a.weights(), b.weights()) <= 1e-9);
    CHECK(output_gap(net, net.weights(), b.weights(), 3) <= 1e-9);
  }
  // |w|^p below the double range on a live edge (1e-200 squared), and p = 20 on 1e-20
  for (auto [wsmall, p] : {std::pair{1e-200, 2.0}, std::pair{1e-20, 20.0}}) {
    network tiny;
    node_id x = tiny.add_node("x", node_kind::input), h = tiny.add_node("h", node_kind::hidden);
    node_id g = tiny.add_node("g", node_kind::hidden), y = tiny.add_node("y", node_kind::output);
    tiny.add_edge(x, h);
    tiny.add_edge(h, g);
    tiny.add_edge(g, y);
    tiny.add_edge(x, g);
    tiny.finalize();
    tiny.set_weights({wsmall, 1.0, 1.0, 1.0});
    const std::vector<double> w0 = tiny.weights();
    balance_report r = balance(tiny, opts(p, balance_method::newton, 1e-12));
    INFO("w=" << wsmall << " p=" << p);
    CHECK(r.converged);
    CHECK(std::abs(r.cost_before - 3.0) <= 1e-12);
    for (double w : tiny.weights()) CHECK(std::isfinite(w));
    // h balanced: its in- and out-weight have equal magnitude sqrt(wsmall) (g adjusts too)
    CHECK(std::abs(std::abs(tiny.weight(0)) - std::abs(tiny.weight(1))) <= 1e-9 * std::abs(tiny.weight(1)));
    CHECK(output_gap(tiny, w0, tiny.weights(), 4) <= 1e-12);
  }
}

TEST_CASE("sharing that is not a tie group is refused, not balanced wrongly", "[balance][tied]") {
  // param "t" on x0 -> h1_0 and h1_1 -> h2_0: only c(h1_0) = c(h2_0) / c(h1_1) is required, which
  // the tie groups would turn into c(h1_1) = 1, c(h1_0) = c(h2_0).
  network cross = test::weighted_mlp({3, 4, 4, 2}, true, 71);
  std::vector<double> w = cross.weights();
  network built;
  for (const auto& nd : cross.nodes()) built.add_node(nd.id, nd.kind, nd.act);
  for (edge_id e = 0; e < cross.num_edges(); ++e) built.add_edge(cross.edge_at(e).from, cross.edge_at(e).to);
  edge_id a = npos, b = npos;
  for (edge_id e = 0; e < cross.num_edges(); ++e) {
    const std::string from = cross.node_at(cross.edge_at(e).from).id, to = cross.node_at(cross.edge_at(e).to).id;
    if (from == "x0" && to == "h1_0") a = e;
    if (from == "h1_1" && to == "h2_0") b = e;
  }
  REQUIRE(a != npos);
  REQUIRE(b != npos);
  built.set_param(a, "t");
  built.set_param(b, "t");
  built.finalize();
  w[b] = w[a];
  built.set_weights(w);
  try {
    balance(built, balance_options{});
    FAIL("expected a refusal");
  } catch (const invalid_argument& e) {
    CHECK(std::string(e.what()).find("allow 7 independent rescalings") != std::string::npos);
  }
  CHECK_THROWS_AS(canonicalize(built), invalid_argument);
  // The count behind both refusals (balancing's and EC-SGD's): 8 hidden units, h1_0 and h2_0 tied,
  // h1_1 tied to the fixed input x0, so 6 groups against the 7 rescalings the sharing allows.
  const tie_coverage c = check_tie_coverage(built, make_balance_structure(built));
  CHECK(c.verified);
  CHECK(c.surviving == 7);
  CHECK(c.active_groups == 6);
  CHECK_FALSE(c.complete());
  const tie_coverage plain = check_tie_coverage(cross, make_balance_structure(cross));
  CHECK(plain.complete());
  CHECK(plain.active_groups == 8);
}

TEST_CASE("the canonical rule for dead units is rescaling-invariant on a long dead chain",
          "[balance][dead][canonical]") {
  // 40 hidden layers of 3 with the output layer zeroed: no unit is live, every scale comes from
  // the least-squares rule, which couples the whole chain.
  std::vector<std::size_t> widths{2};
  for (int k = 0; k < 40; ++k) widths.push_back(3);
  widths.push_back(2);
  network net = test::weighted_mlp(widths, false, 81);
  std::vector<double> w = net.weights();
  for (edge_id e = 0; e < net.num_edges(); ++e)
    if (net.node_at(net.edge_at(e).to).kind == node_kind::output) w[e] = 0;
  net.set_weights(w);
  network a = net, b = apply_rescaling(net, random_scales(net, 4, 0.5));
  balance_report ra = canonicalize(a);
  canonicalize(b);
  CHECK(ra.live_groups == 0);
  CHECK(max_relative_difference(a.weights(), b.weights()) <= 1e-10);
}
