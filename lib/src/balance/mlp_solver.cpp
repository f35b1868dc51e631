// mlp_solver.cpp: the layered-MLP matrix path of balancing: one matrix per weight layer,
// layer-at-once sweeps and Newton steps, used when find_layers (graph/layout.hpp) finds a stack of dense blocks.
#include <Eigen/Core>

#include "detail.hpp"

namespace scaleinv::detail {
namespace {

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
      const bool backward =
          method == balance_method::backward || (method == balance_method::alternating && done % 2 == 1);
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
        if (l + 2 < L)
          hv[l] -= a_[l].cwiseInverse().cwiseProduct(m_[l + 1].transpose() * a_[l + 1].cwiseProduct(v[l + 1]));
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

// The MLP path applies when the net is a plain layered MLP with homogeneous hidden layers, no
// shared parameters and no constant edges: then every hidden unit is its own group.
std::optional<layer_layout> mlp_path(const network& net, const balance_structure& s) {
  if (s.tied || net.has_parameter_map()) return std::nullopt;
  auto lay = find_layers(net);
  if (!lay) return std::nullopt;
  for (std::size_t l = 1; l + 1 < lay->num_layers(); ++l)
    if (!lay->into(l).act.is_homogeneous()) return std::nullopt;
  return lay;
}

}  // namespace

std::optional<layer_layout> balance_mlp(const network& net, const balance_structure& s, const std::vector<double>& w,
                                        const balance_options& o, double tol, balance_report& rep) {
  auto lay = o.fast && o.method != balance_method::random ? mlp_path(net, s) : std::nullopt;
  std::optional<mlp_solver> fast;
  if (lay) {
    fast.emplace(*lay, w, s.gamma, o.p);
    bool positive = false;
    rep.max_imbalance_before = fast->max_imbalance(&positive);
    if (!positive) fast.reset();  // a unit with a zero side: the general path decides liveness
  }
  if (!fast) return std::nullopt;
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
  return lay;
}

void measure_mlp(const layer_layout& lay, const balance_structure& s, const std::vector<double>& w, double p,
                 balance_report& rep) {
  mlp_solver check(lay, w, s.gamma, p);
  rep.cost_after = check.cost();
  rep.max_imbalance_after = check.max_imbalance();
}

}  // namespace scaleinv::detail
