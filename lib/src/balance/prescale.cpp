// prescale.cpp: weights whose |w|^p leaves the range of a double: the range test, the cost and
// imbalance summed in long double, and the log-least-squares rescaling (the prescaling of
// balance_with, and canonicalize's rule for units that are not live).
#include "detail.hpp"

namespace scaleinv::detail {

bool powers_in_range(const network& net, const balance_structure& s, const std::vector<double>& w, double p,
                     double limit) {
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

void wide_stats(const network& net, const balance_structure& s, const std::vector<double>& w, double p, double& cost,
                double& worst) {
  problem pr = make_problem(net, s, w, p);  // for liveness only (its m may be 0 or inf here)
  const std::size_t ng = s.members.size();
  std::vector<long double> in(ng, 0.0L), out(ng, 0.0L);
  long double total = 0;
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (w[e] == 0 || net.is_constant(e)) continue;  // a constant edge is not counted (make_problem)
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

std::vector<double> log_least_squares_scales(const network& net, const balance_structure& s,
                                             const std::vector<double>& w, bool live_only) {
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

}  // namespace scaleinv::detail
