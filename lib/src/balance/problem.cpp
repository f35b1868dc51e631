// problem.cpp: the live-edge problem of one weight setting (liveness, cost terms, adjacency,
// order), and what it gives directly: per-group IN and OUT, and the closed-form factor.
#include <fmt/format.h>

#include "detail.hpp"
#include "scaleinv/error.hpp"

namespace scaleinv {
namespace detail {

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
    // A constant edge lies inside a group (or joins fixed nodes): it cannot change and is not a
    // parameter, so it is not counted in R.
    if (w[e] == Scalar(0) || net.is_constant(e)) continue;
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
  std::stable_sort(pr.order.begin(), pr.order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return rank[a] < rank[b]; });
  return pr;
}

template problem make_problem<double>(const network&, const balance_structure&, const std::vector<double>&, double);

}  // namespace detail

using detail::make_problem;
using detail::problem;

double group_balance::relative() const { return live ? detail::relative(in, out) : 0.0; }

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

double balancing_factor(const network& net, const balance_structure& s, const std::vector<double>& w, double p,
                        std::uint32_t group) {
  auto gb = group_imbalance(net, s, w, p);
  if (group >= gb.size()) throw invalid_argument(fmt::format("balance: no group {}", group));
  if (!gb[group].live) return 1.0;
  return std::pow(gb[group].out / gb[group].in, 1.0 / (2.0 * p));
}

}  // namespace scaleinv
