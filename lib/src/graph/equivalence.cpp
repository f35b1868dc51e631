// equivalence.cpp: rescaling equivalence by propagating scales over the nonzero edges, exactly or in log space.
#include "scaleinv/graph/equivalence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "scaleinv/error.hpp"
#include "scaleinv/exact/rational.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/graph/random.hpp"

namespace scaleinv {
namespace {

[[noreturn]] void not_same_graph(const std::string& what) {
  throw invalid_network("the networks are not the same graph: " + what);
}

std::string arrow(const network& net, edge_id e) {
  const edge& ed = net.edge_at(e);
  return net.node_at(ed.from).id + " -> " + net.node_at(ed.to).id;
}

// Same node ids, kinds and activations, same edges in the same order, and weights on both.
void require_same_graph(const network& a, const network& b) {
  if (!a.is_finalized() || !b.is_finalized())
    throw invalid_argument("rescaling_equivalence: both networks must be finalized");
  const std::size_t n = std::min(a.num_nodes(), b.num_nodes());
  for (node_id v = 0; v < n; ++v) {
    const node &na = a.node_at(v), &nb = b.node_at(v);
    if (na.id != nb.id) not_same_graph(fmt::format("node {} is '{}' in A but '{}' in B", v, na.id, nb.id));
    if (na.kind != nb.kind)
      not_same_graph(
          fmt::format("node {} ('{}') is {} in A but {} in B", v, na.id, to_string(na.kind), to_string(nb.kind)));
    if (na.kind == node_kind::hidden && !(na.act == nb.act))
      not_same_graph(
          fmt::format("node {} ('{}') has activation {} in A but {} in B", v, na.id, na.act.spec(), nb.act.spec()));
  }
  if (a.num_nodes() != b.num_nodes()) {
    const network& longer = a.num_nodes() > b.num_nodes() ? a : b;
    not_same_graph(fmt::format("A has {} nodes, B has {} (node {} is '{}' in {} only)", a.num_nodes(), b.num_nodes(), n,
                               longer.node_at(static_cast<node_id>(n)).id, &longer == &a ? "A" : "B"));
  }
  const std::size_t m = std::min(a.num_edges(), b.num_edges());
  for (edge_id e = 0; e < m; ++e) {
    if (a.edge_at(e).from != b.edge_at(e).from || a.edge_at(e).to != b.edge_at(e).to)
      not_same_graph(fmt::format("edge {} is {} in A but {} in B", e, arrow(a, e), arrow(b, e)));
  }
  if (a.num_edges() != b.num_edges()) {
    const network& longer = a.num_edges() > b.num_edges() ? a : b;
    not_same_graph(fmt::format("A has {} edges, B has {} (edge {} is {} in {} only)", a.num_edges(), b.num_edges(), m,
                               arrow(longer, static_cast<edge_id>(m)), &longer == &a ? "A" : "B"));
  }
  for (edge_id e = 0; e < m; ++e)
    if (a.is_constant(e) != b.is_constant(e))
      not_same_graph(fmt::format("edge {} ({}) is {} in A but {} in B", e, arrow(a, e),
                                 a.is_constant(e) ? "constant" : "not constant",
                                 b.is_constant(e) ? "constant" : "not constant"));
  for (const auto& [net, name] : {std::pair{&a, "A"}, std::pair{&b, "B"}})
    if (!net->has_weights() && net->num_edges() > 0)  // an edgeless network has its (empty) weights
      throw invalid_network(fmt::format("network {} has no weights: equivalence compares two weight settings", name));
}

// Exact arithmetic: the value is the scale c itself, r_e = w_B / w_A.
struct exact_policy {
  using value = mpq_class;
  std::vector<mpq_class> wa, wb, r;

  exact_policy(const network& a, const network& b) : wa(a.exact_weights()), wb(b.exact_weights()), r(a.num_edges()) {}
  int sign_a(edge_id e) const { return sgn(wa[e]); }
  int sign_b(edge_id e) const { return sgn(wb[e]); }
  std::string text_a(edge_id e) const { return to_string(wa[e]); }
  std::string text_b(edge_id e) const { return to_string(wb[e]); }
  void prepare(edge_id e) { r[e] = wb[e] / wa[e]; }
  void link(edge_id e) { r[e] = 1; }  // a constant edge: its ends share one scale
  static value one() { return 1; }
  value head_from_tail(edge_id e, const value& tail) const { return tail * r[e]; }
  value tail_from_head(edge_id e, const value& head) const { return head / r[e]; }
  bool holds(edge_id e, const value& tail, const value& head) const { return r[e] == head / tail; }
  std::string ratio_text(edge_id e) const { return to_string(r[e]); }
  static std::string quotient_text(const value& tail, const value& head) { return to_string(mpq_class(head / tail)); }
  static std::string text(const value& c) { return to_string(c); }
  static std::string mismatch_note(edge_id, const value&, const value&) { return ""; }
  static void store(equivalence_result& out, const std::vector<value>& c) {
    out.exact_scales = c;
    out.scales.reserve(c.size());
    for (const auto& x : c) out.scales.push_back(x.get_d());
  }
};

// Floating arithmetic in log space: the value is log c, r_e = log |w_B| - log |w_A|. Accepting
// |log(w_B / (w_A c_h / c_t))| <= -log(1 - tol) is exactly the relative test
// |w_B - x| <= tol * max(|w_B|, |x|) for x = w_A c_h / c_t of the same sign, and no product of
// scales can overflow.
struct log_policy {
  using value = double;
  const std::vector<double>& wa;
  const std::vector<double>& wb;
  std::vector<double> r;
  double tolerance, bound;

  log_policy(const network& a, const network& b, double tol)
      : wa(a.weights()), wb(b.weights()), r(a.num_edges()), tolerance(tol), bound(-std::log1p(-tol)) {}
  static int sign(double w) { return (w > 0) - (w < 0); }
  int sign_a(edge_id e) const { return sign(wa[e]); }
  int sign_b(edge_id e) const { return sign(wb[e]); }
  std::string text_a(edge_id e) const { return fmt::format("{}", wa[e]); }
  std::string text_b(edge_id e) const { return fmt::format("{}", wb[e]); }
  void prepare(edge_id e) { r[e] = std::log(std::abs(wb[e])) - std::log(std::abs(wa[e])); }
  void link(edge_id e) { r[e] = 0.0; }  // a constant edge: its ends share one scale
  static value one() { return 0.0; }
  value head_from_tail(edge_id e, value tail) const { return tail + r[e]; }
  value tail_from_head(edge_id e, value head) const { return head - r[e]; }
  bool holds(edge_id e, value tail, value head) const { return std::abs(r[e] - (head - tail)) <= bound; }
  std::string ratio_text(edge_id e) const { return fmt::format("{}", wb[e] / wa[e]); }
  static std::string quotient_text(value tail, value head) { return fmt::format("{}", std::exp(head - tail)); }
  static std::string text(value c) { return fmt::format("{}", std::exp(c)); }
  std::string mismatch_note(edge_id e, value tail, value head) const {
    return fmt::format(" (relative difference {:.3g} > tolerance {:.3g})", -std::expm1(-std::abs(r[e] - (head - tail))),
                       tolerance);
  }
  static void store(equivalence_result& out, const std::vector<value>& c) {
    out.scales.reserve(c.size());
    for (double x : c) out.scales.push_back(std::exp(x));
  }
};

std::string edge_list(const std::vector<edge_id>& edges) {
  auto join = [](auto first, auto last) {
    std::string s;
    for (auto it = first; it != last; ++it) s += (s.empty() ? "" : ", ") + std::to_string(*it);
    return s;
  };
  if (edges.size() <= 8) return join(edges.begin(), edges.end());
  return join(edges.begin(), edges.begin() + 4) + ", ..., " + join(edges.end() - 3, edges.end());
}

template <class Policy>
equivalence_result decide(const network& net, const network& b, Policy& p, equivalence_result result) {
  using value = typename Policy::value;
  const std::size_t n = net.num_nodes(), m = net.num_edges();
  auto fail = [&](edge_id e, std::string reason) {
    result.equivalent = false;
    result.failed_edge = e;
    result.reason = std::move(reason);
    return result;
  };

  // Zeros and signs: a rescaling multiplies by a positive number. A constant edge keeps its
  // weight: equal in both networks, and a link that gives its ends one scale (even when it is 0).
  std::vector<char> nonzero(m, 0);
  for (edge_id e = 0; e < m; ++e) {
    if (net.is_constant(e)) {
      if (net.constant_value(e) != b.constant_value(e))
        return fail(
            e, fmt::format("{}: constant weight {} in A but {} in B: constant edges never change", net.describe_edge(e),
                           to_string(net.constant_value(e)), to_string(b.constant_value(e))));
      nonzero[e] = 1;
      p.link(e);
      continue;
    }
    const int sa = p.sign_a(e), sb = p.sign_b(e);
    if (sa == 0 && sb == 0) continue;
    if (sa == 0 || sb == 0)
      return fail(e, fmt::format("{}: {} in A but {} in B: rescaling keeps zeros", net.describe_edge(e), p.text_a(e),
                                 p.text_b(e)));
    if (sa != sb)
      return fail(e, fmt::format("{}: weights have opposite signs (A: {}, B: {}); sign flips are not rescalings",
                                 net.describe_edge(e), p.text_a(e), p.text_b(e)));
    nonzero[e] = 1;
    p.prepare(e);
  }

  // Propagation (breadth first) over the nonzero edges, first from every node of fixed scale 1,
  // then from the first unassigned unit of each remaining component, whose scale is free.
  std::vector<value> c(n, Policy::one());
  std::vector<char> assigned(n, 0);
  std::vector<edge_id> via(n, npos);  // the edge that forced c(v); npos for a fixed or chosen node
  std::vector<node_id> root(n, 0);    // where the chain of forcing edges starts
  std::vector<node_id> queue;
  queue.reserve(n);
  auto reach = [&](node_id v, edge_id e, const value& cv, node_id from) {
    if (assigned[v]) return;
    assigned[v] = 1;
    c[v] = cv;
    via[v] = e;
    root[v] = root[from];
    queue.push_back(v);
  };
  auto spread = [&](std::size_t start) {
    for (std::size_t i = start; i < queue.size(); ++i) {
      const node_id u = queue[i];
      for (edge_id e : net.out_edges(u))
        if (nonzero[e] && !assigned[net.edge_at(e).to]) reach(net.edge_at(e).to, e, p.head_from_tail(e, c[u]), u);
      for (edge_id e : net.in_edges(u))
        if (nonzero[e] && !assigned[net.edge_at(e).from]) reach(net.edge_at(e).from, e, p.tail_from_head(e, c[u]), u);
    }
  };
  for (node_id v = 0; v < n; ++v) {
    if (net.is_scalable(v)) continue;
    assigned[v] = 1;
    root[v] = v;
    queue.push_back(v);
  }
  spread(0);
  for (node_id v = 0; v < n; ++v) {
    if (assigned[v]) continue;
    const std::size_t start = queue.size();
    assigned[v] = 1;
    root[v] = v;
    queue.push_back(v);
    spread(start);
    std::vector<node_id> group(queue.begin() + static_cast<std::ptrdiff_t>(start), queue.end());
    std::sort(group.begin(), group.end());
    result.undetermined.insert(result.undetermined.end(), group.begin(), group.end());
    result.undetermined_groups.push_back(std::move(group));
  }
  std::sort(result.undetermined.begin(), result.undetermined.end());

  // How c(v) came about, for a message.
  auto explain = [&](node_id v) {
    const node& nd = net.node_at(v);
    if (!net.is_scalable(v)) {
      std::string what = nd.kind == node_kind::hidden ? nd.act.name() + " unit, not positively homogeneous"
                                                      : std::string(to_string(nd.kind));
      return fmt::format("c({}) = 1 is fixed ({})", nd.id, what);
    }
    if (via[v] == npos) return fmt::format("c({}) = 1 is chosen (its scale is free)", nd.id);
    std::vector<edge_id> chain;
    for (node_id u = v; via[u] != npos;) {
      const edge_id e = via[u];
      chain.push_back(e);
      u = net.edge_at(e).from == u ? net.edge_at(e).to : net.edge_at(e).from;
    }
    std::reverse(chain.begin(), chain.end());
    const node_id r = root[v];
    return fmt::format("c({}) = {} is forced by edge{} {} from {}{}", nd.id, Policy::text(c[v]),
                       chain.size() == 1 ? "" : "s", edge_list(chain), net.node_at(r).id,
                       net.is_scalable(r) ? " (whose scale is free)" : "");
  };

  for (edge_id e = 0; e < m; ++e) {
    if (!nonzero[e]) continue;
    const node_id t = net.edge_at(e).from, h = net.edge_at(e).to;
    if (p.holds(e, c[t], c[h])) continue;
    if (net.is_constant(e))
      return fail(e, fmt::format("{} is constant, so c({}) must equal c({}), but c({})/c({}) = {}{}, where {} and {}",
                                 net.describe_edge(e), net.node_at(h).id, net.node_at(t).id, net.node_at(h).id,
                                 net.node_at(t).id, Policy::quotient_text(c[t], c[h]), p.mismatch_note(e, c[t], c[h]),
                                 explain(t), explain(h)));
    return fail(e,
                fmt::format("{}: ratio B/A = {} contradicts c({})/c({}) = {}{}, where {} and {}", net.describe_edge(e),
                            p.ratio_text(e), net.node_at(h).id, net.node_at(t).id, Policy::quotient_text(c[t], c[h]),
                            p.mismatch_note(e, c[t], c[h]), explain(t), explain(h)));
  }
  result.equivalent = true;
  Policy::store(result, c);
  return result;
}

template <class T>
void require_sharing_kept(const network& net, const std::vector<T>& w) {
  if (!net.has_params()) return;
  std::vector<edge_id> first(net.param_names().size(), npos);
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const std::uint32_t k = net.param(e);
    if (k == npos) continue;
    if (first[k] == npos) first[k] = e;
    else if (w[e] != w[first[k]])
      throw invalid_argument(
          fmt::format("the rescaling gives {} and {} different weights, but they share parameter '{}'",
                      net.describe_edge(first[k]), net.describe_edge(e), net.param_names()[k]));
  }
}

void require_rescalable(const network& net, std::size_t scales) {
  if (!net.has_weights() && net.num_edges() > 0)  // an edgeless network has its (empty) weights
    throw invalid_network("the network has no weights: there is nothing to rescale");
  if (scales != net.num_nodes())
    throw invalid_argument(fmt::format("apply_rescaling: {} scales given for {} nodes", scales, net.num_nodes()));
}

}  // namespace

equivalence_result rescaling_equivalence(const network& a, const network& b, const equivalence_options& options) {
  if (!(options.tolerance >= 0.0) || options.tolerance >= 1.0)
    throw invalid_argument(fmt::format("tolerance {} is not in [0, 1)", options.tolerance));
  require_same_graph(a, b);
  equivalence_result result;
  result.exact = options.exact || (options.tolerance == 0.0 && a.has_exact_weights() && b.has_exact_weights());
  if (result.exact) {
    exact_policy p(a, b);
    return decide(a, b, p, std::move(result));
  }
  result.tolerance = options.tolerance > 0.0 ? options.tolerance : default_equivalence_tolerance;
  log_policy p(a, b, result.tolerance);
  return decide(a, b, p, std::move(result));
}

namespace {
// Union-find over the nodes: the root of every class is its smallest node id.
struct node_classes {
  std::vector<node_id> parent;
  explicit node_classes(std::size_t n) : parent(n) {
    for (node_id v = 0; v < n; ++v) parent[v] = v;
  }
  node_id find(node_id v) {
    while (parent[v] != v) v = parent[v] = parent[parent[v]];
    return v;
  }
  void join(node_id x, node_id y) {
    const node_id a = find(x), b = find(y);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
  // Per node its class's root.
  std::vector<node_id> all_roots() {
    std::vector<node_id> out(parent.size());
    for (node_id v = 0; v < out.size(); ++v) out[v] = find(v);
    return out;
  }
};

// Per node its class's root, or npos when the class holds a node of fixed scale.
std::vector<node_id> without_fixed(const network& net, std::vector<node_id> root) {
  std::vector<std::uint8_t> fixed(root.size(), 0);
  for (node_id v = 0; v < root.size(); ++v)
    if (!net.is_scalable(v)) fixed[root[v]] = 1;
  for (node_id v = 0; v < root.size(); ++v)
    if (fixed[root[v]]) root[v] = npos;
  return root;
}
}  // namespace

std::vector<node_id> constant_classes(const network& net) {
  node_classes c(net.num_nodes());
  for (edge_id e = 0; e < net.num_edges(); ++e)
    if (net.is_constant(e)) c.join(net.edge_at(e).from, net.edge_at(e).to);
  return without_fixed(net, c.all_roots());
}

std::vector<node_id> tie_roots(const network& net) {
  node_classes c(net.num_nodes());
  const std::size_t np = net.param_names().size();
  std::vector<node_id> first_tail(np, npos), first_head(np, npos);
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge& ed = net.edge_at(e);
    if (net.is_constant(e)) {
      c.join(ed.from, ed.to);
      continue;
    }
    const std::uint32_t p = net.param(e);
    if (p == npos) continue;
    if (first_tail[p] == npos) {
      first_tail[p] = ed.from;
      first_head[p] = ed.to;
    } else {
      c.join(first_tail[p], ed.from);
      c.join(first_head[p], ed.to);
    }
  }
  return c.all_roots();
}

std::vector<node_id> tie_classes(const network& net) { return without_fixed(net, tie_roots(net)); }

namespace {
// Random scales drawn per unit; with constant edges or shared parameters, every unit then takes
// the draw of its tie class's first unit (1 for a class with a node of fixed scale), so no
// constant edge changes and every shared parameter stays shared.
template <class T>
void respect_constants(const network& net, std::vector<T>& scale) {
  if (!net.has_parameter_map()) return;
  const std::vector<node_id> cls = tie_classes(net);
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (net.is_scalable(v)) scale[v] = cls[v] == npos ? T(1) : scale[cls[v]];
}
}  // namespace

std::vector<mpq_class> random_rational_scales(const network& net, std::uint64_t seed) {
  splitmix64 rng(seed);
  std::vector<mpq_class> scale(net.num_nodes(), mpq_class(1));
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    if (!net.is_scalable(v)) continue;
    const long p = static_cast<long>(rng.below(9)) + 1;
    const long q = static_cast<long>(rng.below(9)) + 1;
    scale[v] = make_rational(p, q);
  }
  respect_constants(net, scale);
  return scale;
}

std::vector<double> random_scales(const network& net, std::uint64_t seed, double spread) {
  if (!(spread >= 0.0) || !std::isfinite(spread))
    throw invalid_argument(fmt::format("spread {} must be finite and not negative", spread));
  splitmix64 rng(seed);
  std::vector<double> scale(net.num_nodes(), 1.0);
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (net.is_scalable(v)) scale[v] = std::exp(spread * rng.normal());
  respect_constants(net, scale);
  return scale;
}

network apply_rescaling(const network& net, const std::vector<mpq_class>& scale) {
  require_rescalable(net, scale.size());
  const std::vector<mpq_class> w = net.exact_weights();
  std::vector<mpq_class> w2 = rescale(net, std::span<const mpq_class>(w), std::span<const mpq_class>(scale));
  require_sharing_kept(net, w2);
  network out = net;
  out.set_exact_weights(w2);
  return out;
}

network apply_rescaling(const network& net, const std::vector<double>& scale) {
  require_rescalable(net, scale.size());
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (net.is_scalable(v) && !std::isfinite(scale[v]))
      throw invalid_argument(fmt::format("the scale of unit '{}' is not finite", net.node_at(v).id));
  if (net.has_exact_weights()) {
    std::vector<mpq_class> exact;
    exact.reserve(scale.size());
    for (node_id v = 0; v < net.num_nodes(); ++v) exact.emplace_back(net.is_scalable(v) ? scale[v] : 1.0);
    return apply_rescaling(net, exact);
  }
  std::vector<double> w2 = rescale(net, std::span<const double>(net.weights()), std::span<const double>(scale));
  require_sharing_kept(net, w2);
  network out = net;
  out.set_weights(w2);
  return out;
}

}  // namespace scaleinv
