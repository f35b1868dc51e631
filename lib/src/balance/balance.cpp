// lib/src/balance/balance.cpp: synaptic balance; the problem statement and the rules are in
// scaleinv/balance/balance.hpp.
//
// Internally the unknowns are y_G = p log c_G per group (so a_G = exp(y_G) = c_G^p) and the cost is
// R(y) = sum over live edges of m_e exp(y_head - y_tail), m_e = gamma_e |w_e|^p, with y = 0 at
// fixed nodes. Its gradient is IN_G - OUT_G and its Hessian the weighted graph Laplacian
// sum_e r_e (chi_head - chi_tail)(chi_head - chi_tail)^T grounded at the fixed nodes, r_e the
// current edge terms. A closed-form step sets y_G += log(OUT_G / IN_G) / 2.
#include "scaleinv/balance/balance.hpp"

#include <Eigen/Core>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <type_traits>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/random.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/shared.hpp"
#include "scaleinv/graph/layout.hpp"

namespace scaleinv {
namespace {

constexpr std::uint32_t kFixed = npos;

struct union_find {
  std::vector<std::uint32_t> parent;
  explicit union_find(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0u); }
  std::uint32_t find(std::uint32_t v) {
    while (parent[v] != v) v = parent[v] = parent[parent[v]];
    return v;
  }
  void unite(std::uint32_t a, std::uint32_t b) {
    a = find(a), b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

void check_options(const balance_options& o) {
  if (!(o.p > 0) || !std::isfinite(o.p)) throw invalid_argument(fmt::format("balance: p must be a positive number, not {}", o.p));
  if (!(o.tolerance >= 0 && o.tolerance < 1))
    throw invalid_argument(fmt::format("balance: the tolerance must be in [0, 1), not {}", o.tolerance));
  if (!(o.depth_factor >= 1) || !std::isfinite(o.depth_factor))
    throw invalid_argument(fmt::format("balance: the depth factor must be a finite number >= 1, not {}", o.depth_factor));
}

double power(double w, double p) {
  const double a = std::abs(w);
  return p == 2.0 ? a * a : p == 1.0 ? a : std::pow(a, p);
}

// The live-edge problem of one weight setting: groups 0..ng-1, index ng = "fixed" (y = 0).
struct problem {
  std::size_t ng = 0;
  std::vector<std::uint8_t> live;               // per group
  std::vector<std::uint32_t> tail, head;        // per live edge: group or ng
  std::vector<double> m;                        // per live edge
  std::vector<std::uint32_t> in_start, in_list;   // CSR by head group: live-edge indices
  std::vector<std::uint32_t> out_start, out_list; // CSR by tail group
  std::vector<std::uint32_t> order;             // live groups in topological order
  double constant = 0;  // cost of live-ended edges no rescaling changes (fixed to fixed, inside a group)
};

template <class Scalar>
problem make_problem(const network& net, const balance_structure& s, const std::vector<Scalar>& w, double p) {
  problem pr;
  pr.ng = s.members.size();
  const auto ng = static_cast<std::uint32_t>(pr.ng);
  auto gof = [&](node_id v) { return s.group_of[v] == kFixed ? ng : s.group_of[v]; };
  // fed / drains at group level: worklists over nonzero edges between different groups, from the
  // fixed nodes forward (fed) and backward (drains).
  auto reach = [&](bool forward) {
    std::vector<std::uint8_t> seen(pr.ng, 0);
    std::vector<std::uint32_t> work;
    auto visit = [&](std::uint32_t g) {
      if (g != ng && !seen[g]) seen[g] = 1, work.push_back(g);
    };
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      if (w[e] == Scalar(0)) continue;
      const std::uint32_t t = gof(net.edge_at(e).from), h = gof(net.edge_at(e).to);
      if ((forward ? t : h) == ng) visit(forward ? h : t);
    }
    while (!work.empty()) {
      const std::uint32_t g = work.back();
      work.pop_back();
      for (node_id v : s.members[g])
        for (edge_id e : forward ? net.out_edges(v) : net.in_edges(v)) {
          const std::uint32_t other = gof(forward ? net.edge_at(e).to : net.edge_at(e).from);
          if (w[e] != Scalar(0) && other != g) visit(other);
        }
    }
    return seen;
  };
  const std::vector<std::uint8_t> fed = reach(true), drains = reach(false);
  pr.live.assign(pr.ng, 0);
  for (std::size_t g = 0; g < pr.ng; ++g) pr.live[g] = fed[g] && drains[g];
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (w[e] == Scalar(0)) continue;
    const std::uint32_t t = gof(net.edge_at(e).from), h = gof(net.edge_at(e).to);
    if ((t != ng && !pr.live[t]) || (h != ng && !pr.live[h])) continue;
    if (t == h) {  // fixed to fixed, or inside a group: no rescaling changes it
      pr.constant += s.gamma[e] * power(static_cast<double>(w[e]), p);
      continue;
    }
    pr.tail.push_back(t);
    pr.head.push_back(h);
    pr.m.push_back(s.gamma[e] * power(static_cast<double>(w[e]), p));
  }
  const std::size_t ne = pr.m.size();
  pr.in_start.assign(pr.ng + 2, 0);
  pr.out_start.assign(pr.ng + 2, 0);
  for (std::size_t i = 0; i < ne; ++i) ++pr.in_start[pr.head[i] + 1], ++pr.out_start[pr.tail[i] + 1];
  for (std::size_t g = 0; g <= pr.ng; ++g) pr.in_start[g + 1] += pr.in_start[g], pr.out_start[g + 1] += pr.out_start[g];
  pr.in_list.resize(ne);
  pr.out_list.resize(ne);
  {
    auto a = pr.in_start, b = pr.out_start;
    for (std::uint32_t i = 0; i < ne; ++i) pr.in_list[a[pr.head[i]]++] = i, pr.out_list[b[pr.tail[i]]++] = i;
  }
  for (std::uint32_t g = 0; g < ng; ++g)
    if (pr.live[g]) pr.order.push_back(g);
  // A group's place: its first member in topological order.
  std::vector<std::uint32_t> rank(pr.ng, std::numeric_limits<std::uint32_t>::max());
  for (std::uint32_t g = 0; g < ng; ++g)
    for (node_id v : s.members[g]) rank[g] = std::min(rank[g], net.topo_rank(v));
  std::stable_sort(pr.order.begin(), pr.order.end(), [&](std::uint32_t a, std::uint32_t b) { return rank[a] < rank[b]; });
  return pr;
}

double relative(double in, double out) {
  if (!std::isfinite(in) || !std::isfinite(out)) return std::numeric_limits<double>::quiet_NaN();
  const double big = std::max(in, out);
  return big > 0 ? std::abs(in - out) / big : 0.0;
}

// max that keeps a NaN (std::max(worst, NaN) would drop it and report convergence).
void keep_max(double& worst, double r) {
  if (!(r <= worst)) worst = r;
}

// Stops a solver whose largest imbalance has not improved by 0.1% for `patience` iterations:
// the tolerance is below what rounding lets it reach.
struct stall_guard {
  std::size_t patience;
  double best = std::numeric_limits<double>::infinity();
  std::size_t since = 0;
  bool stalled(double worst) {
    if (worst < best * (1 - 1e-3)) {
      best = worst;
      since = 0;
      return false;
    }
    return ++since >= patience || std::isnan(worst);
  }
};

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
      const bool backward = method == balance_method::backward || (method == balance_method::alternating && done % 2 == 1);
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

// The layered-MLP path: one matrix per weight layer, layer-at-once updates (the units of a layer
// share no edge, so updating them together is the same as one after another).
class mlp_solver {
 public:
  using rmatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using vec = Eigen::VectorXd;

  template <class Scalar>
  mlp_solver(const layer_layout& lay, const std::vector<Scalar>& w, const std::vector<double>& gamma, double p) {
    const std::size_t L = lay.num_layers();
    m_.resize(L);
    bias_.resize(L);
    a_.resize(L);
    for (std::size_t l = 0; l < L; ++l) a_[l] = vec::Ones(static_cast<Eigen::Index>(lay.widths[l]));
    for (std::size_t l = 1; l < L; ++l) {
      const auto rows = static_cast<Eigen::Index>(lay.widths[l]), cols = static_cast<Eigen::Index>(lay.widths[l - 1]);
      m_[l].resize(rows, cols);
      const std::size_t off = lay.into(l).weight_offset;
      double* dst = m_[l].data();
      const std::size_t n = lay.widths[l] * lay.widths[l - 1];
      for (std::size_t i = 0; i < n; ++i) dst[i] = gamma[off + i] * power(static_cast<double>(w[off + i]), p);
      bias_[l] = vec::Zero(rows);
      if (lay.into(l).has_bias())
        for (Eigen::Index k = 0; k < rows; ++k) {
          const std::size_t e = lay.into(l).bias_offset + static_cast<std::size_t>(k);
          bias_[l][k] = gamma[e] * power(static_cast<double>(w[e]), p);
        }
    }
  }
  std::size_t layers() const { return m_.size(); }

  vec in(std::size_t l) const { return a_[l].cwiseProduct(m_[l] * a_[l - 1].cwiseInverse() + bias_[l]); }
  vec out(std::size_t l) const { return a_[l].cwiseInverse().cwiseProduct(m_[l + 1].transpose() * a_[l + 1]); }
  /// The largest relative imbalance; with `positive`, also whether every IN and OUT is positive
  /// (else some unit has a zero side and liveness needs the general path), from the same pass.
  double max_imbalance(bool* positive = nullptr) const {
    double worst = 0;
    if (positive) *positive = true;
    for (std::size_t l = 1; l + 1 < m_.size(); ++l) {
      vec i = in(l), o = out(l);
      for (Eigen::Index k = 0; k < i.size(); ++k) keep_max(worst, relative(i[k], o[k]));
      if (positive && !((i.array() > 0).all() && (o.array() > 0).all())) *positive = false;
    }
    return worst;
  }
  double cost() const {
    double c = 0;
    for (std::size_t l = 1; l < m_.size(); ++l) c += a_[l].dot(m_[l] * a_[l - 1].cwiseInverse() + bias_[l]);
    return c;
  }
  /// Balances layer l at once; returns its largest relative imbalance before the step.
  double step(std::size_t l) {
    vec i = in(l), o = out(l);
    a_[l].array() *= (o.array() / i.array()).sqrt();
    double worst = 0;
    for (Eigen::Index k = 0; k < i.size(); ++k) keep_max(worst, relative(i[k], o[k]));
    return worst;
  }

  std::size_t sweeps(balance_method method, double tol, std::size_t cap, std::size_t& steps, bool& converged) {
    const std::size_t H = m_.size() - 2;  // hidden layers 1..H
    std::size_t done = 0;
    stall_guard guard{30};
    double worst = max_imbalance();
    converged = worst <= tol;
    while (!converged && done < cap && !guard.stalled(worst)) {
      const bool backward = method == balance_method::backward || (method == balance_method::alternating && done % 2 == 1);
      double seen = 0;  // the imbalance of each layer just before its step, all fresh values
      for (std::size_t k = 0; k < H; ++k) keep_max(seen, step(backward ? H - k : k + 1));
      steps += units();
      ++done;
      // A sweep whose every step started within tol moved each scale by at most a factor
      // 1 +- tol/2; confirm with fresh values before stopping.
      worst = seen;
      if (seen <= tol) {
        worst = max_imbalance();
        converged = worst <= tol;
      }
    }
    return done;
  }

  std::size_t newton(double tol, std::size_t cap, std::size_t& cg_steps, bool& converged) {
    const std::size_t L = m_.size();
    std::vector<vec> in(L), out(L), grad(L), diag(L), d(L), res(L), z(L), dir(L), q(L);
    auto dot = [&](const std::vector<vec>& x, const std::vector<vec>& y) {
      double s = 0;
      for (std::size_t l = 1; l + 1 < L; ++l) s += x[l].dot(y[l]);
      return s;
    };
    auto hess = [&](const std::vector<vec>& v, std::vector<vec>& hv) {
      // (Hv)_u = (IN_u + OUT_u) v_u - sum_in r_e v_tail - sum_out r_e v_head, r_e = m_e a_head / a_tail
      for (std::size_t l = 1; l + 1 < L; ++l) {
        hv[l] = v[l].cwiseProduct(diag[l]);
        if (l >= 2) hv[l] -= a_[l].cwiseProduct(m_[l] * a_[l - 1].cwiseInverse().cwiseProduct(v[l - 1]));
        if (l + 2 < L) hv[l] -= a_[l].cwiseInverse().cwiseProduct(m_[l + 1].transpose() * a_[l + 1].cwiseProduct(v[l + 1]));
      }
    };
    std::size_t it = 0;
    stall_guard guard{5};
    converged = false;
    while (it < cap) {
      double worst = 0;
      for (std::size_t l = 1; l + 1 < L; ++l) {
        in[l] = this->in(l);
        out[l] = this->out(l);
        for (Eigen::Index k = 0; k < in[l].size(); ++k) keep_max(worst, relative(in[l][k], out[l][k]));
        grad[l] = in[l] - out[l];
        diag[l] = in[l] + out[l];
        d[l] = vec::Zero(in[l].size());
        res[l] = -grad[l];
        z[l] = res[l].cwiseQuotient(diag[l]);
        dir[l] = z[l];
        q[l].resize(in[l].size());
      }
      if (worst <= tol) {
        converged = true;
        break;
      }
      if (guard.stalled(worst)) break;
      double rz = dot(res, z);
      const double stop = std::min(1e-2, std::sqrt(worst)) * std::sqrt(dot(res, res));
      for (std::size_t k = 0; k < 200 && rz > 0; ++k) {
        hess(dir, q);
        const double dq = dot(dir, q);
        if (!(dq > 0)) break;
        const double alpha = rz / dq;
        for (std::size_t l = 1; l + 1 < L; ++l) {
          d[l] += alpha * dir[l];
          res[l] -= alpha * q[l];
          z[l] = res[l].cwiseQuotient(diag[l]);
        }
        ++cg_steps;
        if (std::sqrt(dot(res, res)) <= stop) break;
        const double rz_new = dot(res, z), beta = rz_new / rz;
        rz = rz_new;
        for (std::size_t l = 1; l + 1 < L; ++l) dir[l] = z[l] + beta * dir[l];
      }
      const double slope = dot(grad, d), c0 = cost();
      std::vector<vec> a0 = a_;
      double t = 1.0;
      const int tries = -slope <= 1e-10 * c0 ? 1 : 60;  // below rounding: the full step
      for (int back = 0; back < tries; ++back) {
        for (std::size_t l = 1; l + 1 < L; ++l) a_[l] = a0[l].cwiseProduct((t * d[l]).array().exp().matrix());
        if (back + 1 == tries || cost() <= c0 + 1e-4 * t * slope) break;
        t *= 0.5;
      }
      ++it;
    }
    return it;
  }

  std::size_t units() const {
    std::size_t n = 0;
    for (std::size_t l = 1; l + 1 < m_.size(); ++l) n += static_cast<std::size_t>(a_[l].size());
    return n;
  }
  const vec& a(std::size_t l) const { return a_[l]; }

 private:
  std::vector<rmatrix> m_;
  std::vector<vec> bias_, a_;
};

template <class Scalar>
void apply_scales(const network& net, std::vector<Scalar>& w, const std::vector<double>& scale) {
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge& ed = net.edge_at(e);
    const double f = scale[ed.to] / scale[ed.from];
    if (f != 1.0) w[e] = static_cast<Scalar>(static_cast<double>(w[e]) * f);
  }
}

// The MLP path applies when the net is a plain layered MLP with homogeneous hidden layers and no
// shared parameters: then every hidden unit is its own group.
std::optional<layer_layout> mlp_path(const network& net, const balance_structure& s) {
  if (s.tied || net.has_params()) return std::nullopt;
  auto lay = find_layers(net);
  if (!lay) return std::nullopt;
  for (std::size_t l = 1; l + 1 < lay->num_layers(); ++l)
    if (!lay->into(l).act.is_homogeneous()) return std::nullopt;
  return lay;
}

// Whether gamma_e |w_e|^p lies within e^(+-limit) on every nonzero edge. The solvers multiply
// these terms by scale factors of similar size, so the margin to the double range (e^709) must be
// wide: with limit 100, intermediate products stay far from overflow and underflow.
// Only edges that a rescaling changes and that enter the cost count (ends in different groups,
// both live or fixed); the quick pass over all such edges decides alone when it passes.
bool powers_in_range(const network& net, const balance_structure& s, const std::vector<double>& w, double p,
                     double limit = 100) {
  // With gamma = 1 (depth factor 1) the test is |w| in (e^(-limit/p), e^(limit/p)): no logarithms.
  const bool plain = std::all_of(s.gamma.begin(), s.gamma.end(), [](double g) { return g == 1.0; });
  const double lo = std::exp(-limit / p), hi = std::exp(limit / p);
  auto out_of_range = [&](edge_id e) {
    const double a = std::abs(w[e]);
    if (plain) return !(a > lo && a < hi);
    return !(std::abs(p * std::log(a) + std::log(s.gamma[e])) < limit);
  };
  bool quick = true;
  for (edge_id e = 0; e < w.size() && quick; ++e)
    if (w[e] != 0 && s.group_of[net.edge_at(e).from] != s.group_of[net.edge_at(e).to] && out_of_range(e)) quick = false;
  if (quick) return true;
  problem pr = make_problem(net, s, w, p);
  for (edge_id e = 0; e < w.size(); ++e) {
    const std::uint32_t t = s.group_of[net.edge_at(e).from], h = s.group_of[net.edge_at(e).to];
    if (w[e] == 0 || t == h || (t != kFixed && !pr.live[t]) || (h != kFixed && !pr.live[h])) continue;
    if (out_of_range(e)) return false;
  }
  return true;
}

// The cost and the largest relative imbalance over live edges for weights whose |w|^p leaves the
// range of a double: each term from its logarithm, summed in long double (range about 1e+-4932).
void wide_stats(const network& net, const balance_structure& s, const std::vector<double>& w, double p, double& cost,
                double& worst) {
  problem pr = make_problem(net, s, w, p);  // for liveness only (its m may be 0 or inf here)
  const std::size_t ng = s.members.size();
  std::vector<long double> in(ng, 0.0L), out(ng, 0.0L);
  long double total = 0;
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (w[e] == 0) continue;
    const std::uint32_t t = s.group_of[net.edge_at(e).from], h = s.group_of[net.edge_at(e).to];
    if ((t != kFixed && !pr.live[t]) || (h != kFixed && !pr.live[h])) continue;
    const long double v = std::exp(static_cast<long double>(p) * std::log(static_cast<long double>(std::abs(w[e]))) +
                                   std::log(static_cast<long double>(s.gamma[e])));
    total += v;
    if (t == h) continue;
    if (h != kFixed) in[h] += v;
    if (t != kFixed) out[t] += v;
  }
  cost = static_cast<double>(total);
  worst = 0;
  for (std::uint32_t g : pr.order) {
    const long double big = std::max(in[g], out[g]);
    keep_max(worst, big > 0 ? static_cast<double>(std::abs(in[g] - out[g]) / big) : 0.0);
  }
}

// The log-least-squares rescaling: the log-scales x of the groups that move minimise
//   F(x) = sum over nonzero edges e with a moving end, ends in different groups, of
//          (log |w_e| + x_head - x_tail)^2,
// the others held at 0. Moving: every non-live group (live_only false: canonical()'s rule for dead
// units, live groups already balanced), or every live group (live_only true: the prescaling of
// balance_weights, where liveness is what the cost sees). The normal equations L x = -c (L a
// grounded graph Laplacian, singular only on components that touch no fixed end, where every
// solution gives the same weights) are solved by Jacobi-preconditioned conjugate gradients to a
// residual of 1e-13 relative. Returns one factor per node (1 for nodes that do not move).
std::vector<double> log_least_squares_scales(const network& net, const balance_structure& s, const std::vector<double>& w,
                                             bool live_only) {
  problem pr = make_problem(net, s, w, 2.0);
  const std::size_t ng = s.members.size();
  std::vector<std::uint8_t> moves(ng, 0);
  std::size_t moving = 0;
  for (std::size_t g = 0; g < ng; ++g) moves[g] = (pr.live[g] != 0) == live_only, moving += moves[g];
  std::vector<double> scale(net.num_nodes(), 1.0);
  if (moving == 0) return scale;
  struct term {
    std::uint32_t t, h;  // group or ng (held)
    double l;
  };
  std::vector<term> terms;
  auto held = [&](node_id v) -> std::uint32_t {
    const std::uint32_t g = s.group_of[v];
    return g == kFixed || !moves[g] ? static_cast<std::uint32_t>(ng) : g;
  };
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (w[e] == 0) continue;
    const std::uint32_t gt = s.group_of[net.edge_at(e).from], gh = s.group_of[net.edge_at(e).to];
    if (gt == gh) continue;
    const std::uint32_t t = held(net.edge_at(e).from), h = held(net.edge_at(e).to);
    if (t == ng && h == ng) continue;
    terms.push_back({t, h, std::log(std::abs(w[e]))});
  }
  // r = -c - L x with x = 0: for a moving head, -l; for a moving tail, +l.
  std::vector<double> x(ng + 1, 0.0), r(ng + 1, 0.0), diag(ng + 1, 0.0), z(ng + 1, 0.0), d(ng + 1, 0.0), q(ng + 1, 0.0);
  for (const term& tm : terms) {
    if (tm.h < ng) r[tm.h] -= tm.l, diag[tm.h] += 1;
    if (tm.t < ng) r[tm.t] += tm.l, diag[tm.t] += 1;
  }
  auto apply_l = [&](const std::vector<double>& v, std::vector<double>& out) {
    std::fill(out.begin(), out.end(), 0.0);
    for (const term& tm : terms) {
      const double diff = (tm.h < ng ? v[tm.h] : 0.0) - (tm.t < ng ? v[tm.t] : 0.0);
      if (tm.h < ng) out[tm.h] += diff;
      if (tm.t < ng) out[tm.t] -= diff;
    }
  };
  double rz = 0, r0 = 0;
  for (std::size_t g = 0; g < ng; ++g) {
    z[g] = diag[g] > 0 ? r[g] / diag[g] : 0.0;
    rz += r[g] * z[g];
    r0 += r[g] * r[g];
  }
  d = z;
  const double stop = 1e-13 * std::sqrt(r0);
  for (std::size_t k = 0; k < 10 * ng + 100 && rz > 0; ++k) {
    apply_l(d, q);
    double dq = 0;
    for (std::size_t g = 0; g < ng; ++g) dq += d[g] * q[g];
    if (!(dq > 0)) break;
    const double alpha = rz / dq;
    double rr = 0, rz_new = 0;
    for (std::size_t g = 0; g < ng; ++g) {
      x[g] += alpha * d[g];
      r[g] -= alpha * q[g];
      rr += r[g] * r[g];
      z[g] = diag[g] > 0 ? r[g] / diag[g] : 0.0;
      rz_new += r[g] * z[g];
    }
    if (std::sqrt(rr) <= stop) break;
    const double beta = rz_new / rz;
    rz = rz_new;
    for (std::size_t g = 0; g < ng; ++g) d[g] = z[g] + beta * d[g];
  }
  for (std::size_t g = 0; g < ng; ++g)
    if (moves[g])
      for (node_id v : s.members[g]) scale[v] = std::exp(x[g]);
  return scale;
}

// Sharing a parameter requires c(head) / c(tail) to be the same on all its edges. The tie groups
// (equal heads, equal tails) satisfy that; they are all the allowed rescalings when their number
// equals that of the rescalings analyze_shared finds. Otherwise the sharing allows rescalings
// that move tied units apart (a parameter shared across layers, a unit tied to an output), which
// balancing by groups would not see: refuse rather than return a network that is not the least-
// cost member of the orbit.
void check_ties(const network& net, const balance_structure& s) {
  if (!net.has_params()) return;
  const active_subgraph active = find_active(net);
  const path_basis basis = make_basis(net, active);
  const shared_analysis sh = analyze_shared(net, active, basis);
  std::size_t active_groups = 0;
  for (const auto& g : s.members) {
    bool any = false;
    for (node_id v : g) any = any || (active.reached[v] && active.coreached[v]);
    active_groups += any;
  }
  if (sh.surviving.size() != active_groups)
    throw invalid_argument(fmt::format(
        "balance: the shared parameters of this network allow {} independent rescalings, but tying units into groups "
        "(equal scales for the heads of each parameter, and for its tails) gives {}: some parameter is shared "
        "between edges whose ends need not share a scale (across layers, or with an input or output). Balancing is "
        "supported when the two agree, as for every conv: network (see docs/balance.md, Tied units)",
        sh.surviving.size(), active_groups));
}

}  // namespace

std::string to_string(balance_method m) {
  switch (m) {
    case balance_method::forward: return "forward";
    case balance_method::backward: return "backward";
    case balance_method::alternating: return "alternating";
    case balance_method::random: return "random";
    case balance_method::newton: return "newton";
  }
  return "?";
}

balance_method parse_balance_method(const std::string& text) {
  for (auto m : {balance_method::forward, balance_method::backward, balance_method::alternating, balance_method::random,
                 balance_method::newton})
    if (text == to_string(m)) return m;
  throw invalid_argument(fmt::format("unknown balancing order '{}': use forward, backward, alternating, random or newton", text));
}

double group_balance::relative() const { return live ? scaleinv::relative(in, out) : 0.0; }

balance_structure make_balance_structure(const network& net, double depth_factor) {
  if (!(depth_factor >= 1) || !std::isfinite(depth_factor))
    throw invalid_argument(fmt::format("balance: the depth factor must be a finite number >= 1, not {}", depth_factor));
  const std::size_t n = net.num_nodes();
  balance_structure s;
  union_find uf(n);
  if (net.has_params()) {
    std::vector<std::uint32_t> first_tail(net.param_names().size(), npos), first_head(net.param_names().size(), npos);
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      const std::uint32_t q = net.param(e);
      if (q == npos) continue;
      const edge& ed = net.edge_at(e);
      if (first_tail[q] == npos) first_tail[q] = ed.from, first_head[q] = ed.to;
      else uf.unite(first_tail[q], ed.from), uf.unite(first_head[q], ed.to);
    }
  }
  std::vector<std::uint8_t> frozen(n, 0);
  for (node_id v = 0; v < n; ++v)
    if (!net.is_scalable(v)) frozen[uf.find(v)] = 1;
  s.group_of.assign(n, kFixed);
  std::vector<std::uint32_t> root_group(n, kFixed);
  for (node_id v = 0; v < n; ++v) {
    const std::uint32_t r = uf.find(v);
    if (frozen[r]) continue;
    if (root_group[r] == kFixed) {
      root_group[r] = static_cast<std::uint32_t>(s.members.size());
      s.members.emplace_back();
    }
    s.group_of[v] = root_group[r];
    s.members[root_group[r]].push_back(v);
    if (s.members[root_group[r]].size() > 1) s.tied = true;
  }
  s.depth.assign(n, 0);
  for (node_id v : net.topological_order())
    for (edge_id e : net.in_edges(v)) s.depth[v] = std::max(s.depth[v], s.depth[net.edge_at(e).from] + 1);
  s.gamma.assign(net.num_edges(), 1.0);
  if (depth_factor != 1.0)
    for (edge_id e = 0; e < net.num_edges(); ++e) s.gamma[e] = std::pow(depth_factor, static_cast<double>(s.depth[net.edge_at(e).to]));
  return s;
}

std::vector<group_balance> group_imbalance(const network& net, const balance_structure& s, const std::vector<double>& w,
                                           double p) {
  problem pr = make_problem(net, s, w, p);
  std::vector<group_balance> out(pr.ng);
  for (std::uint32_t g = 0; g < pr.ng; ++g) out[g].group = g, out[g].live = pr.live[g] != 0;
  for (std::size_t i = 0; i < pr.m.size(); ++i) {
    if (pr.head[i] < pr.ng) out[pr.head[i]].in += pr.m[i];
    if (pr.tail[i] < pr.ng) out[pr.tail[i]].out += pr.m[i];
  }
  return out;
}

double balance_cost(const network& net, const balance_structure& s, const std::vector<double>& w, double p) {
  problem pr = make_problem(net, s, w, p);
  return general_solver(pr).cost();
}

double balancing_factor(const network& net, const balance_structure& s, const std::vector<double>& w, double p,
                        std::uint32_t group) {
  auto gb = group_imbalance(net, s, w, p);
  if (group >= gb.size()) throw invalid_argument(fmt::format("balance: no group {}", group));
  if (!gb[group].live) return 1.0;
  return std::pow(gb[group].out / gb[group].in, 1.0 / (2.0 * p));
}

namespace {
// balance_weights on a structure already built (for o.depth_factor) and checked by check_ties, so
// that canonicalize's two passes share one structure and one tie check.
template <class Scalar>
balance_report balance_with(const network& net, const balance_structure& s, std::vector<Scalar>& w,
                            const balance_options& o) {
  balance_report rep;
  rep.groups = s.members.size();
  rep.scale.assign(net.num_nodes(), 1.0);
  // Internally aim below the tolerance, so that the value recomputed from the rescaled weights
  // (rounded once more) still meets it.
  const double tol = o.tolerance * 0.5;
  // |w|^p must be a normal double on every live edge. When it is not (|w| beyond about 1e+-154
  // for p = 2), first rescale by the log-least-squares rule, which brings magnitudes toward 1.
  // The solvers read double weights: w itself when Scalar is double (no copy), else a copy.
  std::vector<double> copy;
  const std::vector<double>* wdp = nullptr;
  if constexpr (std::is_same_v<Scalar, double>) {
    wdp = &w;
  } else {
    copy.assign(w.begin(), w.end());
    wdp = &copy;
  }
  std::vector<double> pre;
  if (!powers_in_range(net, s, *wdp, o.p)) {
    pre = log_least_squares_scales(net, s, *wdp, /*live_only=*/true);
    copy.assign(w.begin(), w.end());
    apply_scales(net, copy, pre);
    wdp = &copy;
    if (!powers_in_range(net, s, copy, o.p, 600))
      throw invalid_argument(fmt::format(
          "balance: the weights span too many orders of magnitude: |w|^{} leaves the range of a double on some edge "
          "even after rescaling toward 1 (try a smaller p)", o.p));
  }
  auto lay = o.fast && o.method != balance_method::random ? mlp_path(net, s) : std::nullopt;
  std::optional<mlp_solver> fast;
  if (lay) {
    fast.emplace(*lay, *wdp, s.gamma, o.p);
    bool positive = false;
    rep.max_imbalance_before = fast->max_imbalance(&positive);
    if (!positive) fast.reset();  // a unit with a zero side: the general path decides liveness
  }
  if (fast) {
    rep.fast_path = true;
    rep.live_groups = rep.groups;
    rep.cost_before = fast->cost();
    if (o.method == balance_method::newton) {
      // Far from balance Newton's line search takes short steps; sweeps close the gap faster.
      std::size_t updates = 0;
      bool done = false;
      rep.sweeps_first = fast->sweeps(balance_method::alternating, std::max(tol, 0.5), 50, updates, done);
      rep.iterations = fast->newton(tol, o.max_iterations, rep.unit_steps, rep.converged);
    } else {
      rep.iterations = fast->sweeps(o.method, tol, o.max_iterations, rep.unit_steps, rep.converged);
    }
    const std::size_t L = lay->num_layers();
    for (std::size_t l = 1; l + 1 < L; ++l) {
      const auto& a = fast->a(l);
      for (Eigen::Index k = 0; k < a.size(); ++k) {
        const node_id v = net.edge_at(lay->into(l).weight_offset + static_cast<std::size_t>(k) * lay->widths[l - 1]).to;
        rep.scale[v] = std::pow(a[k], 1.0 / o.p);
      }
    }
    fast.reset();
  } else {
    problem pr = make_problem(net, s, *wdp, o.p);
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
  if (!pre.empty()) {
    // The solvers saw the prescaled weights; report the input's own cost and imbalance.
    for (std::size_t v = 0; v < rep.scale.size(); ++v) rep.scale[v] *= pre[v];
    std::vector<double> original(w.begin(), w.end());
    wide_stats(net, s, original, o.p, rep.cost_before, rep.max_imbalance_before);
  }
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (!(rep.scale[v] > 0) || !std::isfinite(rep.scale[v]))
      throw invalid_argument(fmt::format("balance: the balancing scale of unit '{}' is not a finite positive number (the "
                                         "weights span too many orders of magnitude for double precision)",
                                         net.node_at(v).id));
  // Check that no balanced weight overflows before writing any (w stays untouched on failure).
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const double f = rep.scale[net.edge_at(e).to] / rep.scale[net.edge_at(e).from];
    if (!std::isfinite(static_cast<double>(static_cast<Scalar>(static_cast<double>(w[e]) * f))))
      throw invalid_argument(fmt::format("balance: the balanced weight of {} overflows {}", net.describe_edge(e),
                                         sizeof(Scalar) == 4 ? "a float" : "a double"));
  }
  apply_scales(net, w, rep.scale);
  // The "after" numbers come from the rescaled weights themselves.
  if constexpr (std::is_same_v<Scalar, double>) {
    wdp = &w;
  } else {
    copy.assign(w.begin(), w.end());
    wdp = &copy;
  }
  const std::vector<double>& wd = *wdp;
  if (rep.fast_path) {
    mlp_solver check(*lay, wd, s.gamma, o.p);
    rep.cost_after = check.cost();
    rep.max_imbalance_after = check.max_imbalance();
  } else {
    problem pr = make_problem(net, s, wd, o.p);
    general_solver check(pr);
    rep.cost_after = check.cost();
    rep.max_imbalance_after = check.max_imbalance();
  }
  rep.converged = rep.max_imbalance_after <= o.tolerance;
  return rep;
}
}  // namespace

template <class Scalar>
balance_report balance_weights(const network& net, std::vector<Scalar>& w, const balance_options& o) {
  check_options(o);
  if (w.size() != net.num_edges()) throw invalid_argument("balance: one weight per edge expected");
  const balance_structure s = make_balance_structure(net, o.depth_factor);
  check_ties(net, s);
  return balance_with(net, s, w, o);
}

template balance_report balance_weights<float>(const network&, std::vector<float>&, const balance_options&);
template balance_report balance_weights<double>(const network&, std::vector<double>&, const balance_options&);

template <class Scalar>
balance_report balance_training(const network& net, std::vector<Scalar>& w, std::vector<Scalar>& m,
                                const balance_options& o) {
  if (!m.empty() && m.size() != w.size()) throw invalid_argument("balance: the optimizer buffer needs one entry per edge");
  balance_report rep = balance_weights(net, w, o);
  if (!m.empty())
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      const edge& ed = net.edge_at(e);
      const double f = rep.scale[ed.to] / rep.scale[ed.from];
      if (f != 1.0) m[e] = static_cast<Scalar>(static_cast<double>(m[e]) / f);
    }
  return rep;
}

template balance_report balance_training<float>(const network&, std::vector<float>&, std::vector<float>&,
                                                const balance_options&);
template balance_report balance_training<double>(const network&, std::vector<double>&, std::vector<double>&,
                                                 const balance_options&);

balance_report balance(network& net, const balance_options& o) {
  if (!net.has_weights() && net.num_edges() > 0) throw invalid_network("balance: the network has no weights");
  std::vector<double> w = net.weights();
  balance_report rep = balance_weights(net, w, o);
  net.set_weights(w);
  return rep;
}

balance_report canonicalize(network& net, double tolerance) {
  balance_options o;
  o.p = 2;
  o.tolerance = tolerance;
  o.method = balance_method::newton;
  o.max_iterations = 200;
  if (!net.has_weights() && net.num_edges() > 0) throw invalid_network("canonical: the network has no weights");
  check_options(o);
  const balance_structure s = make_balance_structure(net, 1.0);
  check_ties(net, s);
  std::vector<double> w = net.weights();
  balance_report rep = balance_with(net, s, w, o);
  if (!rep.converged) {  // Newton stalls only at rounding level; polish with sweeps
    o.method = balance_method::alternating;
    o.max_iterations = 100000;
    balance_report more = balance_with(net, s, w, o);
    for (std::size_t v = 0; v < rep.scale.size(); ++v) rep.scale[v] *= more.scale[v];
    rep.iterations += more.iterations;
    rep.unit_steps += more.unit_steps;
    rep.cost_after = more.cost_after;
    rep.max_imbalance_after = more.max_imbalance_after;
    rep.converged = more.converged;
  }
  // Non-live groups: least squares on log |w| with live groups and fixed nodes held.
  std::vector<double> scale = log_least_squares_scales(net, s, w, /*live_only=*/false);
  apply_scales(net, w, scale);
  for (std::size_t v = 0; v < scale.size(); ++v) rep.scale[v] *= scale[v];
  net.set_weights(w);
  return rep;
}

bool exact_balancing_factor(const network& net, const balance_structure& s, std::uint32_t group, unsigned p,
                            mpq_class& factor) {
  if (p == 0 || group >= s.members.size()) return false;
  std::vector<double> wd = net.weights();
  problem pr = make_problem(net, s, wd, static_cast<double>(p));
  if (!pr.live[group]) return false;
  mpq_class in = 0, out = 0;
  auto gof = [&](node_id v) { return s.group_of[v]; };
  auto live_end = [&](std::uint32_t g) { return g == kFixed || pr.live[g]; };
  for (node_id v : s.members[group]) {
    for (edge_id e : net.in_edges(v)) {
      const std::uint32_t t = gof(net.edge_at(e).from);
      if (t == group || !live_end(t)) continue;
      mpq_class a = abs(net.exact_weight(e)), q = 1;
      for (unsigned k = 0; k < p; ++k) q *= a;
      in += q;
    }
    for (edge_id e : net.out_edges(v)) {
      const std::uint32_t h = gof(net.edge_at(e).to);
      if (h == group || !live_end(h)) continue;
      mpq_class a = abs(net.exact_weight(e)), q = 1;
      for (unsigned k = 0; k < p; ++k) q *= a;
      out += q;
    }
  }
  if (in == 0 || out == 0) return false;
  mpq_class ratio = out / in;
  ratio.canonicalize();
  mpz_class num, den;
  if (mpz_root(num.get_mpz_t(), ratio.get_num_mpz_t(), 2 * p) == 0) return false;
  if (mpz_root(den.get_mpz_t(), ratio.get_den_mpz_t(), 2 * p) == 0) return false;
  factor = mpq_class(num, den);
  factor.canonicalize();
  return true;
}

}  // namespace scaleinv
