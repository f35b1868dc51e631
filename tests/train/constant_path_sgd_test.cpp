// tests/train/constant_path_sgd_test.cpp: Path-SGD and the path norm with constant edges (math.md
// section 9): a constant edge takes no step and is a factor of every path sum through it; the step
// still commutes with the rescalings that keep the constants.
#include "catch_shim.hpp"

#include <cmath>
#include <span>
#include <vector>

#include "constant_support.hpp"
#include "support.hpp"

#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/paths/enumerate.hpp"
#include "scaleinv/paths/path_norm.hpp"
#include "scaleinv/train/path_sgd.hpp"
#include "scaleinv/train/tied_weights.hpp"

using namespace scaleinv;

namespace {

double rel_gap(double a, double b) { return std::abs(a - b) / std::max({std::abs(a), std::abs(b), 1e-300}); }

// A random DAG with constant edges (and shared parameters when shared), exact random weights.
network weighted(std::uint64_t seed, bool shared) {
  test::constant_case c;
  c.p_constant = 0.35;
  c.p_shared = shared ? 0.3 : 0.0;
  c.pooling = seed % 2 == 0;
  random_dag_options o = test::random_case(seed);
  network net = test::with_constants(make_random_dag(o), seed, c);
  splitmix64 rng(seed * 17 + 1);
  net.set_exact_weights(test::random_parameter_weights(net, rng));
  return net;
}

}  // namespace

TEST_CASE("Path-SGD with constant edges: gamma per parameter is the exact path sum, constants take no step",
          "[constant][pathsgd][theorem]") {
  std::size_t with_constant_on_path = 0;
  for (std::uint64_t seed = 1; seed <= 120; ++seed) {
    const network net = weighted(seed, seed % 3 == 0);
    INFO("seed " << seed << "\n" << test::dump(net));
    train::tied_weights<double> tied(net);
    REQUIRE(tied.size() == net.num_parameters());
    const std::vector<double> p = tied.from_weights(net.weights());
    train::path_sgd<double> opt(net, p.size(), {});
    const std::vector<double> gamma = opt.gammas(p);

    // The exact gamma of each parameter: in(tail) out(head) over its edges, constants as factors.
    const path_sums<mpq_class> exact = compute_path_sums(net, net.exact_weights());
    std::vector<mpq_class> want(p.size(), mpq_class(0));
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      if (net.is_constant(e)) {
        REQUIRE(tied.slot(e) == npos);
        if (exact.gamma(net, e) != 0 && net.constant_value(e) * net.constant_value(e) != 1) ++with_constant_on_path;
        continue;
      }
      want[tied.slot(e)] += exact.gamma(net, e);
    }
    for (std::size_t k = 0; k < p.size(); ++k) REQUIRE(rel_gap(gamma[k], want[k].get_d()) < 1e-12);

    // One step: p_k -= lr g_k / gamma_k (no step where gamma is 0); the constants stay.
    splitmix64 rng(seed);
    std::vector<double> grad(p.size());
    for (double& g : grad) g = rng.normal();
    std::vector<double> q = p;
    opt.step(q, grad, 0.01);
    for (std::size_t k = 0; k < p.size(); ++k)
      REQUIRE(q[k] == (gamma[k] > 0 ? p[k] - 0.01 * (grad[k] / gamma[k]) : p[k]));
    std::vector<double> w;
    tied.effective_weights(q, w);
    for (edge_id e = 0; e < net.num_edges(); ++e)
      if (net.is_constant(e)) REQUIRE(w[e] == net.constant_value(e).get_d());
  }
  CHECK(with_constant_on_path > 60);  // constants other than +-1 on paths: ignoring them would fail
}

TEST_CASE("Path-SGD with constant edges commutes with the rescalings that keep them",
          "[constant][pathsgd][invariance]") {
  for (std::uint64_t seed = 1; seed <= 80; ++seed) {
    const network net = weighted(seed, false);
    INFO("seed " << seed << "\n" << test::dump(net));
    const std::vector<double> scale = random_scales(net, seed + 7, 1.0);
    const network b = apply_rescaling(net, scale);
    train::tied_weights<double> tied(net);
    const std::vector<double> pa = tied.from_weights(net.weights()), pb = tied.from_weights(b.weights());
    // f_k = c(head) / c(tail) of parameter k; the loss gradient transforms as dL/dw / f.
    std::vector<double> f(pa.size(), 1.0), ga(pa.size()), gb(pa.size());
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      if (net.is_constant(e)) continue;
      const edge& ed = net.edge_at(e);
      f[tied.slot(e)] =
          (net.is_scalable(ed.to) ? scale[ed.to] : 1.0) / (net.is_scalable(ed.from) ? scale[ed.from] : 1.0);
    }
    splitmix64 rng(seed);
    for (std::size_t k = 0; k < pa.size(); ++k) {
      ga[k] = rng.normal();
      gb[k] = ga[k] / f[k];
    }
    train::path_sgd<double> oa(net, pa.size(), {}), ob(b, pb.size(), {});
    std::vector<double> qa = pa, qb = pb;
    oa.step(qa, ga, 0.05);
    ob.step(qb, gb, 0.05);
    for (std::size_t k = 0; k < pa.size(); ++k)
      REQUIRE(std::abs(qb[k] - f[k] * qa[k]) <= 1e-10 * (std::abs(qb[k]) + 1));
  }
}

TEST_CASE("the path norm multiplies each path by its constant edges", "[constant][pathnorm]") {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    const network net = weighted(seed, seed % 2 == 0);
    INFO("seed " << seed << "\n" << test::dump(net));
    const std::vector<mpq_class> w = net.exact_weights();
    mpq_class enumerated = 0;
    for_each_path(net, 100000, [&](std::span<const edge_id> path) {
      const mpq_class v = path_value(std::span<const mpq_class>(w), path);
      enumerated += v * v;
    });
    REQUIRE(compute_path_sums(net, w).squared_norm == enumerated);
  }
}
