// imbalance.cpp: per-unit and per-layer imbalance statistics of a network's weights.
#include "scaleinv/balance/imbalance.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "scaleinv/balance/balance.hpp"
#include "scaleinv/error.hpp"

namespace scaleinv {

imbalance_report imbalance(const network& net, double p, double depth_factor) {
  if (!net.has_weights() && net.num_edges() > 0) throw invalid_network("imbalance: the network has no weights");
  const balance_structure s = make_balance_structure(net, depth_factor);
  const auto gb = group_imbalance(net, s, net.weights(), p);
  imbalance_report r;
  r.p = p;
  r.cost = balance_cost(net, s, net.weights(), p);
  struct layer_stats {
    std::size_t groups = 0, live = 0;
    double in = 0, out = 0, worst = 0, mean_rel = 0, mean_log = 0;
  };
  std::map<std::uint32_t, layer_stats> layers;
  double worst = 0;
  for (const auto& g : gb) {
    const node_id first = s.members[g.group].front();
    const std::uint32_t depth = s.depth[first];
    layer_stats& ls = layers[depth];
    ++ls.groups;
    const double rel = g.relative();
    const double lr = g.live ? std::log(g.out / g.in) : 0.0;
    if (g.live) {
      ++ls.live;
      ls.in += g.in, ls.out += g.out, ls.worst = std::max(ls.worst, rel), ls.mean_rel += rel, ls.mean_log += std::abs(lr);
      worst = std::max(worst, rel);
    }
    unit_imbalance u;
    u.unit = net.node_at(first).id;
    u.members = s.members[g.group].size();
    u.depth = depth;
    u.live = g.live;
    u.in = g.in;
    u.out = g.out;
    u.relative = rel;
    u.log_ratio = lr;
    r.units.push_back(std::move(u));
  }
  for (auto& [d, ls] : layers) {
    const double n = ls.live > 0 ? static_cast<double>(ls.live) : 1.0;
    layer_imbalance l;
    l.depth = d;
    l.groups = ls.groups;
    l.live = ls.live;
    l.mean_in = ls.in / n;
    l.mean_out = ls.out / n;
    l.max_relative = ls.worst;
    l.mean_relative = ls.mean_rel / n;
    l.mean_abs_log_ratio = ls.mean_log / n;
    r.layers.push_back(l);
  }
  r.max_relative = worst;
  return r;
}

}  // namespace scaleinv
