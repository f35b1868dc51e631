// imbalance.cpp: per-unit and per-layer imbalance statistics of a network's weights, from plain
// double sums when every term is a comfortable double, else from logarithms (log-sum-exp), so that
// weights of 1e300 or 1e-300 give the true imbalance instead of inf, NaN or 0.
#include "scaleinv/balance/imbalance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "detail.hpp"
#include "scaleinv/balance/balance.hpp"
#include "scaleinv/error.hpp"

namespace scaleinv {
namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// A running log(sum of exp(x_i)) that never overflows: the largest term is factored out.
struct log_sum {
  double max = kNegInf, sum = 0;  // value = max + log(sum)
  void add(double x) {
    if (x == kNegInf) return;
    if (x <= max) {
      sum += std::exp(x - max);
    } else {
      sum = sum * std::exp(max - x) + 1;
      max = x;
    }
  }
  double value() const { return sum > 0 ? max + std::log(sum) : kNegInf; }
};

// Per group and in all, IN, OUT and the cost as natural logarithms, from log |w_e|.
struct log_stats {
  std::vector<double> in, out;  // per group
  double cost = kNegInf;
};

log_stats wide_log_stats(const network& net, const balance_structure& s, const std::vector<double>& w, double p,
                         const detail::problem& pr) {
  const std::size_t ng = s.members.size();
  std::vector<log_sum> in(ng), out(ng);
  log_sum total;
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (w[e] == 0) continue;
    const std::uint32_t t = s.group_of[net.edge_at(e).from], h = s.group_of[net.edge_at(e).to];
    if ((t != detail::kFixed && !pr.live[t]) || (h != detail::kFixed && !pr.live[h])) continue;
    const double term = p * std::log(std::abs(w[e])) + std::log(s.gamma[e]);
    total.add(term);
    if (t == h) continue;  // fixed to fixed, or inside a group: in the cost only
    if (h != detail::kFixed) in[h].add(term);
    if (t != detail::kFixed) out[t].add(term);
  }
  log_stats r;
  r.in.resize(ng);
  r.out.resize(ng);
  for (std::size_t g = 0; g < ng; ++g) r.in[g] = in[g].value(), r.out[g] = out[g].value();
  r.cost = total.value();
  return r;
}

double log10_of(double x) { return x > 0 ? std::log10(x) : kNegInf; }
}  // namespace

imbalance_report imbalance(const network& net, double p, double depth_factor) {
  if (!net.has_weights() && net.num_edges() > 0) throw invalid_network("imbalance: the network has no weights");
  const balance_structure s = make_balance_structure(net, depth_factor);
  const std::vector<double>& w = net.weights();
  imbalance_report r;
  r.p = p;
  std::vector<group_balance> gb = group_imbalance(net, s, w, p);
  r.cost = balance_cost(net, s, w, p);
  // Plain sums are right when every live term is well inside the range of a double (then no sum
  // of them overflows either: that would take 1e26 terms); otherwise, or if some sum still is not
  // finite, everything comes from logarithms.
  bool finite = std::isfinite(r.cost);
  for (const auto& g : gb) finite = finite && std::isfinite(g.in) && std::isfinite(g.out);
  r.wide = !finite || !detail::powers_in_range(net, s, w, p, 650);
  log_stats logs;
  if (r.wide) {
    const detail::problem pr = detail::make_problem(net, s, w, p);  // for liveness
    logs = wide_log_stats(net, s, w, p, pr);
    r.cost = std::exp(logs.cost);
    r.log10_cost = logs.cost / std::log(10.0);
  } else {
    r.log10_cost = log10_of(r.cost);
  }
  struct layer_stats {
    std::size_t groups = 0, live = 0;
    double in = 0, out = 0, worst = 0, mean_rel = 0, mean_log = 0;
    log_sum log_in, log_out;
  };
  std::map<std::uint32_t, layer_stats> layers;
  double worst = 0;
  for (std::size_t k = 0; k < gb.size(); ++k) {
    const group_balance& g = gb[k];
    const node_id first = s.members[g.group].front();
    const std::uint32_t depth = s.depth[first];
    layer_stats& ls = layers[depth];
    ++ls.groups;
    unit_imbalance u;
    u.unit = net.node_at(first).id;
    u.members = s.members[g.group].size();
    u.depth = depth;
    u.live = g.live;
    if (r.wide) {
      const double li = logs.in[g.group], lo = logs.out[g.group];
      u.in = std::exp(li);
      u.out = std::exp(lo);
      u.log10_in = li / std::log(10.0);
      u.log10_out = lo / std::log(10.0);
      // |IN - OUT| / max(IN, OUT) = 1 - exp(-|log IN - log OUT|), with no IN or OUT formed.
      u.log_ratio = g.live ? lo - li : 0.0;
      u.relative = g.live ? -std::expm1(-std::abs(lo - li)) : 0.0;
      if (g.live) ls.log_in.add(li), ls.log_out.add(lo);  // the means are over live groups
    } else {
      u.in = g.in;
      u.out = g.out;
      u.log10_in = log10_of(g.in);
      u.log10_out = log10_of(g.out);
      u.relative = g.relative();
      u.log_ratio = g.live ? std::log(g.out / g.in) : 0.0;
    }
    if (g.live) {
      ++ls.live;
      ls.in += u.in, ls.out += u.out, ls.worst = std::max(ls.worst, u.relative), ls.mean_rel += u.relative;
      ls.mean_log += std::abs(u.log_ratio);
      worst = std::max(worst, u.relative);
    }
    r.units.push_back(std::move(u));
  }
  for (auto& [d, ls] : layers) {
    const double n = ls.live > 0 ? static_cast<double>(ls.live) : 1.0;
    layer_imbalance l;
    l.depth = d;
    l.groups = ls.groups;
    l.live = ls.live;
    if (r.wide) {
      const double ln_n = std::log(n), mi = ls.log_in.value() - ln_n, mo = ls.log_out.value() - ln_n;
      l.log10_mean_in = mi / std::log(10.0);
      l.log10_mean_out = mo / std::log(10.0);
      l.mean_in = std::exp(mi);
      l.mean_out = std::exp(mo);
    } else {
      l.mean_in = ls.in / n;
      l.mean_out = ls.out / n;
      l.log10_mean_in = log10_of(l.mean_in);
      l.log10_mean_out = log10_of(l.mean_out);
    }
    l.max_relative = ls.worst;
    l.mean_relative = ls.mean_rel / n;
    l.mean_abs_log_ratio = ls.mean_log / n;
    r.layers.push_back(l);
  }
  r.max_relative = worst;
  return r;
}

}  // namespace scaleinv
