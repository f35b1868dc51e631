// tests/train/gsgd_test.cpp: G-SGD (math.md section 6): its path-value gradient against a slow
// direct solve, re-allocation realizing the path values, and the invariance theorem, for both
// skeletons; Path-SGD: gamma against path enumeration (exact), its invariance, its fast path.
#include "catch_shim.hpp"
#include "support.hpp"

#include <Eigen/Dense>

#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/paths/path_norm.hpp"
#include "scaleinv/train/gsgd.hpp"
#include "scaleinv/train/model.hpp"
#include "scaleinv/train/optimizer.hpp"
#include "scaleinv/train/path_sgd.hpp"

using namespace scaleinv;
using train::loss_kind;
using train::matrix;

namespace {
struct problem {
  network net;
  matrix<double> x, targets;
  std::vector<int> labels;
  std::vector<double> w;
};

problem make_problem(network net, std::uint64_t seed, std::size_t batch = 16) {
  problem p{std::move(net), {}, {}, {}, {}};
  splitmix64 rng(seed);
  train::model<double> m(p.net);
  p.x.resize(static_cast<Eigen::Index>(m.num_inputs()), static_cast<Eigen::Index>(batch));
  p.targets.resize(static_cast<Eigen::Index>(m.num_outputs()), static_cast<Eigen::Index>(batch));
  for (Eigen::Index j = 0; j < p.x.cols(); ++j) {
    for (Eigen::Index i = 0; i < p.x.rows(); ++i) p.x(i, j) = rng.normal();
    for (Eigen::Index i = 0; i < p.targets.rows(); ++i) p.targets(i, j) = rng.normal();
  }
  p.w.resize(p.net.num_edges());
  for (auto& v : p.w) v = (rng.below(2) ? 1 : -1) * (0.3 + rng.uniform());  // away from zero
  return p;
}

std::vector<double> grad_of(const problem& p, const std::vector<double>& w) {
  train::model<double> m(p.net);
  std::vector<double> g;
  m.loss_and_gradient(w, p.x, nullptr, &p.targets, loss_kind::mse, g);
  return g;
}

// All path values of w (every enumerated path), for comparing two networks.
std::vector<double> all_path_values(const network& net, const std::vector<double>& w) {
  std::vector<double> out;
  for_each_path(net, 100000, [&](std::span<const edge_id> path) {
    double v = 1;
    for (edge_id e : path) v *= w[e];
    out.push_back(v);
  });
  return out;
}

double max_rel_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::abs(a[i] - b[i]) / (1e-12 + std::abs(a[i]) + std::abs(b[i])));
  return m;
}

std::vector<network> cases() {
  std::vector<network> out;
  mlp_options o;
  o.widths = {3, 4, 3, 2};
  o.bias = true;
  out.push_back(make_mlp(o));
  o.bias = false;
  o.skip_span = 2;
  out.push_back(make_mlp(o));
  for (std::uint64_t seed : {2u, 5u, 9u, 14u}) {
    random_dag_options r = test::random_case(seed);
    r.hidden = 8;
    r.bias = true;
    r.p = 0.5;
    r.nonhomogeneous = 0;
    out.push_back(make_random_dag(r));
  }
  return out;
}
}  // namespace

TEST_CASE("G-SGD's path-value gradient equals a dense direct solve", "[gsgd][train]") {
  std::uint64_t seed = 1;
  for (network& net : cases()) {
    for (skeleton_kind sk : {skeleton_kind::first, skeleton_kind::diagonal}) {
      problem p = make_problem(network(net), seed++);
      train::gsgd<double> opt(p.net, {0.0, 0.0, sk});
      std::vector<double> g = grad_of(p, p.w);
      std::vector<double> fast = opt.path_gradient(p.w, g);
      // Direct: dL/dw = (dv/dw)^T dL/dv with dv_B/dw_e = v_B / w_e for e on B, solved densely.
      const path_basis& b = opt.basis();
      REQUIRE(b.skeleton == sk);
      std::vector<double> v = opt.path_values(p.w);
      Eigen::MatrixXd jt =
          Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(p.net.num_edges()), static_cast<Eigen::Index>(b.size()));
      for (std::size_t i = 0; i < b.size(); ++i)
        for (edge_id e : basis_path(p.net, b, i)) jt(e, static_cast<Eigen::Index>(i)) += v[i] / p.w[e];
      Eigen::VectorXd rhs = Eigen::Map<const Eigen::VectorXd>(g.data(), static_cast<Eigen::Index>(g.size()));
      Eigen::VectorXd direct = jt.colPivHouseholderQr().solve(rhs);
      REQUIRE((jt * direct - rhs).norm() <= 1e-9 * (1 + rhs.norm()));  // consistent: L depends on w only through v
      INFO("case " << seed - 1 << "\n" << test::dump(p.net));
      for (std::size_t i = 0; i < b.size(); ++i)
        REQUIRE(fast[i] == Approx(direct(static_cast<Eigen::Index>(i))).epsilon(1e-8).margin(1e-10));
    }
  }
}

TEST_CASE("a G-SGD step is gradient descent on the path values, re-allocated exactly", "[gsgd][train]") {
  std::uint64_t seed = 100;
  for (network& net : cases()) {
    for (skeleton_kind sk : {skeleton_kind::first, skeleton_kind::diagonal}) {
      problem p = make_problem(network(net), seed++);
      train::gsgd<double> opt(p.net, {0.0, 0.0, sk});
      std::vector<double> g = grad_of(p, p.w);
      std::vector<double> v = opt.path_values(p.w), d = opt.path_gradient(p.w, g);
      const double lr = 0.01;
      std::vector<double> w = p.w;
      opt.step(w, g, lr);
      std::vector<double> after = opt.path_values(w);
      const path_basis& b = opt.basis();
      for (std::size_t i = 0; i < v.size(); ++i)
        REQUIRE(after[i] == Approx(v[i] - lr * d[i]).epsilon(1e-12).margin(1e-15));
      for (node_id u = 0; u < p.net.num_nodes(); ++u)
        if (b.parent_edge[u] != npos) REQUIRE(w[b.parent_edge[u]] == p.w[b.parent_edge[u]]);  // p() edges fixed
    }
  }
}

// G-SGD's conditioning is fixed by the skeleton path values at the start (math.md section 6): from
// a random start some skeletons carry tiny ones and G-SGD diverges at SGD's learning rate (outputs
// of 1e9 on random DAG case 4 with the diagonal skeleton at 0.01), and in a diverging run rounding
// is amplified without bound. Each case therefore runs at the largest of 0.01, 0.005, ... that
// keeps the first run's outputs bounded, and only then compares the two runs.
TEST_CASE("G-SGD invariance: rescaling-equivalent starts stay equivalent, SGD's do not", "[gsgd][train][theorem]") {
  for (skeleton_kind sk : {skeleton_kind::first, skeleton_kind::diagonal}) {
    std::uint64_t seed = 200;
    for (network& net : cases()) {
      problem p = make_problem(network(net), seed++);
      // A second start: a random positive rescaling of the first (spread e^{+-1}).
      splitmix64 rng(seed);
      std::vector<double> s(p.net.num_nodes(), 1.0);
      for (node_id u = 0; u < p.net.num_nodes(); ++u)
        if (p.net.is_scalable(u)) s[u] = std::exp(2 * rng.uniform() - 1);
      std::vector<double> w2 = rescale(p.net, std::span<const double>(p.w), std::span<const double>(s));
      REQUIRE(max_rel_diff(all_path_values(p.net, p.w), all_path_values(p.net, w2)) < 1e-14);
      train::model<double> m(p.net);
      const double start_scale = m.predict(p.w, p.x).cwiseAbs().maxCoeff();
      auto run_gsgd = [&](std::vector<double> w, double lr) {
        train::gsgd<double> opt(p.net, {0.9, 0.0, sk});
        for (int k = 0; k < 30; ++k) opt.step(w, grad_of(p, w), lr);
        return w;
      };
      double lr = 0.01;
      std::vector<double> ga = run_gsgd(p.w, lr);
      while (!(m.predict(ga, p.x).cwiseAbs().maxCoeff() < 10 * (1 + start_scale)) && lr > 1e-5)
        ga = run_gsgd(p.w, lr /= 2);
      const std::vector<double> gb = run_gsgd(w2, lr);
      std::vector<double> sa = p.w, sb = w2;
      train::sgd<double> sgd_a(p.w.size(), {0.9, 0.0}), sgd_b(p.w.size(), {0.9, 0.0});
      for (int k = 0; k < 30; ++k) {
        sgd_a.step(sa, grad_of(p, sa), 0.01);
        sgd_b.step(sb, grad_of(p, sb), 0.01);
      }
      matrix<double> ya = m.predict(ga, p.x), yb = m.predict(gb, p.x), za = m.predict(sa, p.x), zb = m.predict(sb, p.x);
      const double gsgd_gap = (ya - yb).cwiseAbs().maxCoeff(), sgd_gap = (za - zb).cwiseAbs().maxCoeff();
      const double scale = ya.cwiseAbs().maxCoeff();
      INFO("skeleton " << to_string(sk) << ", case " << seed - 200 << ", G-SGD lr " << lr << ": G-SGD output gap "
                       << gsgd_gap << ", SGD output gap " << sgd_gap << ", G-SGD output scale " << scale << " (start "
                       << start_scale << ")");
      REQUIRE(scale < 10 * (1 + start_scale));  // a bounded run was found
      REQUIRE(max_rel_diff(all_path_values(p.net, ga), all_path_values(p.net, gb)) < 1e-9);
      REQUIRE(gsgd_gap < 1e-9);
      REQUIRE(sgd_gap > 1e-3);
    }
  }
}

TEST_CASE("the MLP fast path of G-SGD agrees with the general path, momentum and decay included", "[gsgd][train]") {
  for (bool bias : {false, true})
    for (skeleton_kind sk : {skeleton_kind::first, skeleton_kind::diagonal}) {
      mlp_options o;
      o.widths = {5, 6, 4, 7, 3, 2};  // wider and narrower layers: the diagonal skeleton wraps both ways
      o.bias = bias;
      problem p = make_problem(make_mlp(o), bias ? 301 : 302);
      train::gsgd<double> fast(p.net, {0.9, 1e-3, sk}, true), general(p.net, {0.9, 1e-3, sk}, false);
      REQUIRE(fast.is_fast());
      REQUIRE_FALSE(general.is_fast());
      std::vector<double> wf = p.w, wg = p.w;
      for (int k = 0; k < 20; ++k) {
        fast.step(wf, grad_of(p, wf), 0.02);
        general.step(wg, grad_of(p, wg), 0.02);
      }
      INFO("bias " << bias << ", skeleton " << to_string(sk));
      for (std::size_t e = 0; e < wf.size(); ++e) REQUIRE(wf[e] == Approx(wg[e]).epsilon(1e-9).margin(1e-12));
    }
}

TEST_CASE("G-SGD's step on caller-owned storage is bit-identical to the vector step", "[gsgd][train]") {
  // The span step (what the Python binding calls on torch's buffers, without copies on the MLP
  // fast path) against step(): the same bits, on the fast path and the general one, with and
  // without momentum; the momentum buffer the caller holds plays state().
  mlp_options o;
  o.widths = {5, 6, 4, 3};
  o.bias = true;
  std::vector<network> nets = cases();
  nets.push_back(make_mlp(o));
  for (std::size_t c = 0; c < nets.size(); ++c)
    for (double momentum : {0.0, 0.9}) {
      INFO("case " << c << ", momentum " << momentum);
      problem p = make_problem(nets[c], 400 + c);
      train::gsgd<double> a(p.net, {momentum, 1e-3, skeleton_kind::diagonal}),
          b(p.net, {momentum, 1e-3, skeleton_kind::diagonal});
      std::vector<double> wa = p.w, wb = p.w, mb(momentum > 0 ? p.w.size() : 0, 0.0);
      for (int k = 0; k < 10; ++k) {
        a.step(wa, grad_of(p, wa), 0.02);
        const std::vector<double> g = grad_of(p, wb);
        b.step(std::span<double>(wb), std::span<const double>(g), std::span<double>(mb), 0.02);
      }
      CHECK(wa == wb);
      if (momentum > 0) CHECK(a.state() == mb);
      // The fast path leaves b's own buffer alone (the general one copies through it).
      if (b.is_fast()) CHECK(b.state() == std::vector<double>(momentum > 0 ? p.w.size() : 0, 0.0));
    }
  problem p = make_problem(make_mlp(o), 9);
  train::gsgd<double> m(p.net, {0.9, 0, skeleton_kind::diagonal}), plain(p.net, {0, 0, skeleton_kind::diagonal});
  std::vector<double> w = p.w, g(w.size(), 0.0), short_w(w.size() - 1), none;
  CHECK_THROWS_WITH(m.step(std::span<double>(short_w), std::span<const double>(g), std::span<double>(none), 0.1),
                    Catch::Contains("for a network of"));
  CHECK_THROWS_WITH(m.step(std::span<double>(w), std::span<const double>(g), std::span<double>(none), 0.1),
                    Catch::Contains("a momentum buffer of 0 entries"));
  CHECK_THROWS_WITH(plain.step(std::span<double>(w), std::span<const double>(g), std::span<double>(w), 0.1),
                    Catch::Contains("expected 0"));
}

TEST_CASE("Path-SGD's gamma and the path norm are the sums over enumerated paths, exactly",
          "[pathsgd][train][theorem]") {
  for (std::uint64_t seed = 1; seed <= 120; ++seed) {
    network net = make_random_dag(test::random_case(seed));
    splitmix64 rng(seed);
    std::vector<mpq_class> w = test::random_weights(net, rng);
    if (seed % 7 == 0) w[rng.below(w.size())] = 0;  // a zero weight somewhere
    const path_sums<mpq_class> s = compute_path_sums(net, w);
    std::vector<mpq_class> gamma(net.num_edges(), 0);
    mpq_class norm2 = 0;
    for_each_path(net, 200000, [&](std::span<const edge_id> path) {
      mpq_class all = 1;
      for (edge_id e : path) all *= w[e] * w[e];
      norm2 += all;
      for (std::size_t i = 0; i < path.size(); ++i) {
        mpq_class others = 1;
        for (std::size_t k = 0; k < path.size(); ++k)
          if (k != i) others *= w[path[k]] * w[path[k]];
        // An edge used twice on a path cannot happen in a DAG.
        gamma[path[i]] += others;
      }
    });
    INFO("seed " << seed << "\n" << test::dump(net));
    REQUIRE(s.squared_norm == norm2);
    for (edge_id e = 0; e < net.num_edges(); ++e) REQUIRE(s.gamma(net, e) == gamma[e]);
  }
}

TEST_CASE("Path-SGD: a step divides by gamma, equivalent starts stay equivalent, fast path agrees",
          "[pathsgd][train]") {
  std::uint64_t seed = 400;
  for (network& net : cases()) {
    problem p = make_problem(std::move(net), seed++);
    // One plain step against the formula.
    train::path_sgd<double> one(p.net, p.w.size(), {0.0, 0.0});
    std::vector<double> g = grad_of(p, p.w), w = p.w;
    const auto sums = compute_path_sums(p.net, p.w);
    one.step(w, g, 0.01);
    for (edge_id e = 0; e < p.net.num_edges(); ++e) {
      const double gamma = sums.gamma(p.net, e);
      const double want = gamma > 0 ? p.w[e] - 0.01 * g[e] / gamma : p.w[e];
      REQUIRE(w[e] == Approx(want).epsilon(1e-12).margin(1e-15));
    }
    // Invariance, with momentum.
    splitmix64 rng(seed);
    std::vector<double> s(p.net.num_nodes(), 1.0);
    for (node_id u = 0; u < p.net.num_nodes(); ++u)
      if (p.net.is_scalable(u)) s[u] = std::exp(2 * rng.uniform() - 1);
    std::vector<double> wa = p.w, wb = rescale(p.net, std::span<const double>(p.w), std::span<const double>(s));
    train::path_sgd<double> a(p.net, wa.size(), {0.9, 0.0}), b(p.net, wb.size(), {0.9, 0.0});
    for (int k = 0; k < 30; ++k) {
      a.step(wa, grad_of(p, wa), 0.01);
      b.step(wb, grad_of(p, wb), 0.01);
    }
    train::model<double> m(p.net);
    const double gap = (m.predict(wa, p.x) - m.predict(wb, p.x)).cwiseAbs().maxCoeff();
    INFO("case " << seed - 400 << ": Path-SGD output gap " << gap);
    REQUIRE(max_rel_diff(all_path_values(p.net, wa), all_path_values(p.net, wb)) < 1e-9);
    REQUIRE(gap < 1e-9);
    REQUIRE(max_rel_diff(all_path_values(p.net, wa), all_path_values(p.net, p.w)) > 1e-6);  // it moved
  }
  for (bool bias : {false, true}) {
    mlp_options o;
    o.widths = {5, 6, 4, 7, 3, 2};
    o.bias = bias;
    problem p = make_problem(make_mlp(o), bias ? 501 : 502);
    train::path_sgd<double> fast(p.net, p.w.size(), {0.9, 1e-3}, true), general(p.net, p.w.size(), {0.9, 1e-3}, false);
    REQUIRE(fast.is_fast());
    REQUIRE_FALSE(general.is_fast());
    std::vector<double> wf = p.w, wg = p.w;
    for (int k = 0; k < 20; ++k) {
      fast.step(wf, grad_of(p, wf), 0.02);
      general.step(wg, grad_of(p, wg), 0.02);
    }
    INFO("bias " << bias);
    for (std::size_t e = 0; e < wf.size(); ++e) REQUIRE(wf[e] == Approx(wg[e]).epsilon(1e-9).margin(1e-12));
  }
}

TEST_CASE("learning-rate schedules", "[train][schedule]") {
  auto c = train::schedule::parse("constant", 0.1);
  REQUIRE(c.at(0) == 0.1);
  REQUIRE(c.at(50) == 0.1);
  auto s = train::schedule::parse("step:10:0.5", 0.1);
  REQUIRE(s.at(9) == Approx(0.1));
  REQUIRE(s.at(10) == Approx(0.05));
  REQUIRE(s.at(25) == Approx(0.025));
  auto e = train::schedule::parse("exp:0.9", 1.0);
  REQUIRE(e.at(2) == Approx(0.81));
  for (const char* bad : {"step", "step:0:0.5", "step:x:0.5", "exp:", "exp:-1", "cosine"})
    REQUIRE_THROWS_WITH(train::schedule::parse(bad, 0.1), Catch::Contains("expected constant, step:K:GAMMA"));
}
