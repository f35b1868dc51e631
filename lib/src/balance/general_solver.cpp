// general_solver.cpp: the general path: any DAG, any tie structure; closed-form sweeps in any
// order, and damped Newton (preconditioned conjugate gradients, Armijo line search) on the
// log-scales.
#include "detail.hpp"
#include "scaleinv/graph/random.hpp"

namespace scaleinv {
namespace detail {
namespace {

// The general path: any DAG, any tie structure. a[g] = exp(y_g), a[ng] = 1.
class general_solver {
 public:
  explicit general_solver(const problem& pr) : pr_(pr), a_(pr.ng + 1, 1.0), inv_(pr.ng + 1, 1.0) {}

  double in(std::uint32_t g) const {
    double sum = 0;
    for (std::uint32_t k = pr_.in_start[g]; k < pr_.in_start[g + 1]; ++k) {
      const std::uint32_t i = pr_.in_list[k];
      sum += pr_.m[i] * inv_[pr_.tail[i]];
    }
    return a_[g] * sum;
  }
  double out(std::uint32_t g) const {
    double sum = 0;
    for (std::uint32_t k = pr_.out_start[g]; k < pr_.out_start[g + 1]; ++k) {
      const std::uint32_t i = pr_.out_list[k];
      sum += pr_.m[i] * a_[pr_.head[i]];
    }
    return inv_[g] * sum;
  }
  double max_imbalance() const {
    double worst = 0;
    for (std::uint32_t g : pr_.order) keep_max(worst, relative(in(g), out(g)));
    return worst;
  }
  double cost() const {
    double sum = pr_.constant;
    for (std::size_t i = 0; i < pr_.m.size(); ++i) sum += pr_.m[i] * a_[pr_.head[i]] * inv_[pr_.tail[i]];
    return sum;
  }
  /// One closed-form step on g; returns the relative imbalance before it.
  double step(std::uint32_t g) {
    const double i = in(g), o = out(g);
    const double f = std::sqrt(o / i);
    a_[g] *= f;
    inv_[g] = 1.0 / a_[g];
    return relative(i, o);
  }

  /// Sweeps; returns the sweeps done.
  std::size_t sweeps(balance_method method, double tol, std::size_t cap, std::uint64_t seed, std::size_t& steps,
                     bool& converged) {
    std::vector<std::uint32_t> order = pr_.order;
    splitmix64 rng(seed);
    std::size_t done = 0;
    stall_guard guard{30};
    double worst = max_imbalance();
    converged = worst <= tol;
    while (!converged && done < cap && !guard.stalled(worst)) {
      const bool backward =
          method == balance_method::backward || (method == balance_method::alternating && done % 2 == 1);
      if (method == balance_method::random) {
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
        for (std::uint32_t g : order) step(g);
      } else if (backward) {
        for (auto it = pr_.order.rbegin(); it != pr_.order.rend(); ++it) step(*it);
      } else {
        for (std::uint32_t g : pr_.order) step(g);
      }
      steps += order.size();
      ++done;
      worst = max_imbalance();
      converged = worst <= tol;
    }
    return done;
  }

  /// Damped Newton; returns the iterations done.
  std::size_t newton(double tol, std::size_t cap, std::size_t& cg_steps, bool& converged) {
    const std::size_t ng = pr_.ng;
    std::vector<double> grad(ng, 0), diag(ng, 0), r(pr_.m.size()), d(ng), z(ng), q(ng), res(ng), dir(ng);
    std::size_t it = 0;
    stall_guard guard{5};
    auto hess = [&](const std::vector<double>& v, std::vector<double>& hv) {
      std::fill(hv.begin(), hv.end(), 0.0);
      for (std::size_t i = 0; i < r.size(); ++i) {
        const std::uint32_t t = pr_.tail[i], h = pr_.head[i];
        const double vt = t < ng ? v[t] : 0.0, vh = h < ng ? v[h] : 0.0, x = r[i] * (vh - vt);
        if (h < ng) hv[h] += x;
        if (t < ng) hv[t] -= x;
      }
    };
    converged = false;
    while (it < cap) {
      std::fill(grad.begin(), grad.end(), 0.0);
      std::fill(diag.begin(), diag.end(), 0.0);
      std::vector<double> in(ng, 0.0), out(ng, 0.0);
      double cost = 0;
      for (std::size_t i = 0; i < r.size(); ++i) {
        const std::uint32_t t = pr_.tail[i], h = pr_.head[i];
        r[i] = pr_.m[i] * a_[h] * inv_[t];
        cost += r[i];
        if (h < ng) in[h] += r[i];
        if (t < ng) out[t] += r[i];
      }
      double worst = 0;
      for (std::uint32_t g : pr_.order) keep_max(worst, relative(in[g], out[g]));
      if (worst <= tol) {
        converged = true;
        break;
      }
      if (guard.stalled(worst)) break;
      for (std::uint32_t g : pr_.order) grad[g] = in[g] - out[g], diag[g] = in[g] + out[g];
      // Preconditioned CG on H d = -grad over the live groups (others have zero rows).
      std::fill(d.begin(), d.end(), 0.0);
      res = grad;
      for (double& x : res) x = -x;
      double rz = 0, r0 = 0;
      for (std::uint32_t g : pr_.order) z[g] = res[g] / diag[g], rz += res[g] * z[g], r0 += res[g] * res[g];
      dir = z;
      const double stop = std::min(1e-2, std::sqrt(worst)) * std::sqrt(r0);
      for (std::size_t k = 0; k < 200 && rz > 0; ++k) {
        hess(dir, q);
        double dq = 0;
        for (std::uint32_t g : pr_.order) dq += dir[g] * q[g];
        if (!(dq > 0)) break;
        const double alpha = rz / dq;
        double rr = 0, rz_new = 0;
        for (std::uint32_t g : pr_.order) {
          d[g] += alpha * dir[g];
          res[g] -= alpha * q[g];
          rr += res[g] * res[g];
          z[g] = res[g] / diag[g];
          rz_new += res[g] * z[g];
        }
        ++cg_steps;
        if (std::sqrt(rr) <= stop) break;
        const double beta = rz_new / rz;
        rz = rz_new;
        for (std::uint32_t g : pr_.order) dir[g] = z[g] + beta * dir[g];
      }
      // Armijo backtracking on R(y + t d).
      double slope = 0;
      for (std::uint32_t g : pr_.order) slope += grad[g] * d[g];
      double t = 1.0;
      std::vector<double> a_new(a_.size()), inv_new(inv_.size());
      // Near the minimiser the decrease falls below the rounding of R: take the full step.
      const int tries = -slope <= 1e-10 * cost ? 1 : 60;
      for (int back = 0; back < tries; ++back) {
        for (std::size_t g = 0; g < ng; ++g) a_new[g] = a_[g] * std::exp(t * d[g]), inv_new[g] = 1.0 / a_new[g];
        a_new[ng] = inv_new[ng] = 1.0;
        double c = 0;
        for (std::size_t i = 0; i < r.size(); ++i) c += pr_.m[i] * a_new[pr_.head[i]] * inv_new[pr_.tail[i]];
        if (back + 1 == tries || c <= cost + 1e-4 * t * slope) break;
        t *= 0.5;
      }
      a_.swap(a_new);
      inv_.swap(inv_new);
      ++it;
    }
    return it;
  }

  double log_a(std::uint32_t g) const { return std::log(a_[g]); }

 private:
  const problem& pr_;
  std::vector<double> a_, inv_;
};

}  // namespace

void balance_general(const network& net, const balance_structure& s, const std::vector<double>& w,
                     const balance_options& o, double tol, balance_report& rep) {
  problem pr = make_problem(net, s, w, o.p);
  rep.live_groups = pr.order.size();
  general_solver gs(pr);
  rep.cost_before = gs.cost();
  rep.max_imbalance_before = gs.max_imbalance();
  if (o.method == balance_method::newton) {
    std::size_t updates = 0;
    bool done = false;
    rep.sweeps_first = gs.sweeps(balance_method::alternating, std::max(tol, 0.5), 50, o.seed, updates, done);
    rep.iterations = gs.newton(tol, o.max_iterations, rep.unit_steps, rep.converged);
  } else {
    rep.iterations = gs.sweeps(o.method, tol, o.max_iterations, o.seed, rep.unit_steps, rep.converged);
  }
  for (std::uint32_t g : pr.order) {
    const double c = std::exp(gs.log_a(g) / o.p);
    for (node_id v : s.members[g]) rep.scale[v] = c;
  }
}

void measure_general(const network& net, const balance_structure& s, const std::vector<double>& w, double p,
                     balance_report& rep) {
  problem pr = make_problem(net, s, w, p);
  general_solver check(pr);
  rep.cost_after = check.cost();
  rep.max_imbalance_after = check.max_imbalance();
}

}  // namespace detail

double balance_cost(const network& net, const balance_structure& s, const std::vector<double>& w, double p) {
  detail::problem pr = detail::make_problem(net, s, w, p);
  return detail::general_solver(pr).cost();
}

}  // namespace scaleinv
