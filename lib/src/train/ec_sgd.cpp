// ec_sgd.cpp: the parameter quotient (classes of tied units, one edge per parameter) and EC-SGD,
// G-SGD run on it.
#include "scaleinv/train/ec_sgd.hpp"

#include <fmt/format.h>

#include <string>

#include "scaleinv/balance/balance.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/shared.hpp"
#include "scaleinv/train/tied_weights.hpp"

namespace scaleinv::train {
namespace {

std::string parameter_name(const network& net, edge_id e) {
  const std::uint32_t k = net.param(e);
  return k != npos ? fmt::format("parameter '{}'", net.param_names()[k]) : "the parameter of " + net.describe_edge(e);
}

// The parameters in tied_weights order: the first edge of each.
std::vector<edge_id> first_edges(const network& net) {
  std::vector<edge_id> first;
  std::vector<std::uint8_t> seen(net.param_names().size(), 0);
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (net.is_constant(e)) continue;
    const std::uint32_t k = net.param(e);
    if (k != npos) {
      if (seen[k] != 0) continue;
      seen[k] = 1;
    }
    first.push_back(e);
  }
  return first;
}

// Refuses a quotient with a cycle, naming the parameters on one (before finalize, which would
// name quotient nodes only). Kahn's algorithm leaves the nodes on or behind a cycle; walking back
// along edges from such nodes must repeat a node, which closes a cycle.
void refuse_cycles(const network& net, const parameter_quotient& q) {
  const network& g = q.net;
  const std::size_t n = g.num_nodes();
  std::vector<std::size_t> indegree(n, 0);
  std::vector<std::vector<edge_id>> out(n), in(n);
  for (edge_id e = 0; e < g.num_edges(); ++e) {
    ++indegree[g.edge_at(e).to];
    out[g.edge_at(e).from].push_back(e);
    in[g.edge_at(e).to].push_back(e);
  }
  std::vector<node_id> ready;
  for (node_id v = 0; v < n; ++v)
    if (indegree[v] == 0) ready.push_back(v);
  std::vector<std::uint8_t> done(n, 0);
  while (!ready.empty()) {
    const node_id v = ready.back();
    ready.pop_back();
    done[v] = 1;
    for (edge_id e : out[v])
      if (--indegree[g.edge_at(e).to] == 0) ready.push_back(g.edge_at(e).to);
  }
  node_id start = npos;
  for (node_id v = 0; v < n && start == npos; ++v)
    if (done[v] == 0) start = v;
  if (start == npos) return;
  // Every node left has an incoming edge from another node left.
  std::vector<std::size_t> visited_at(n, npos);
  std::vector<edge_id> walk;
  node_id v = start;
  while (visited_at[v] == npos) {
    visited_at[v] = walk.size();
    edge_id back = npos;
    for (edge_id e : in[v])
      if (done[g.edge_at(e).from] == 0) back = e;
    walk.push_back(back);
    v = g.edge_at(back).from;
  }
  std::string names;
  for (std::size_t i = visited_at[v]; i < walk.size(); ++i)
    names += (names.empty() ? "" : ", ") + parameter_name(net, q.first_edge[walk[i]]);
  throw invalid_argument(fmt::format(
      "EC-SGD: the parameter quotient of this network (one node per class of units whose scales are tied) has a "
      "cycle through {}: constant edges (an identity shortcut, for example) tie the scales of units at both ends "
      "of a chain of parameters, so the parameters on it have no order from inputs to outputs, and G-SGD's basis "
      "paths need one (docs/training.md, EC-SGD); use --optimizer sgd or pathsgd",
      names));
}

// The rescalings that the sharing allows must be the classes' own (as balancing checks,
// balance/structure.cpp): else the quotient's coordinates would not be invariant under all of them.
void refuse_extra_rescalings(const network& net, const balance_structure& s) {
  const tie_coverage c = check_tie_coverage(net, s);
  if (c.complete()) return;
  const char* what = net.has_constants() ? "shared parameters and constant edges" : "shared parameters";
  if (!c.verified)
    throw invalid_argument(
        fmt::format("EC-SGD: the rescalings that this network's {} allow could not be verified exactly (the exact "
                    "kernel needs entries beyond 64 bits), so the parameter quotient cannot be checked against them",
                    what));
  // A likely culprit: a parameter with a scalable end in a fixed class.
  std::string suspect;
  for (edge_id e = 0; e < net.num_edges() && suspect.empty(); ++e) {
    if (net.is_constant(e) || net.param(e) == npos) continue;
    for (node_id v : {net.edge_at(e).from, net.edge_at(e).to})
      if (suspect.empty() && net.is_scalable(v) && s.group_of[v] == npos)
        suspect = fmt::format(" ({} ties unit '{}' to a node of fixed scale, for example)", parameter_name(net, e),
                              net.node_at(v).id);
  }
  throw invalid_argument(fmt::format(
      "EC-SGD: the {} of this network allow {} independent rescalings, but its classes of tied units (equal scales "
      "for the heads of each parameter, and for its tails{}) give {}: some parameter is shared between edges whose "
      "ends need not share a scale{}, so the parameter quotient would not be invariant under every rescaling; use "
      "--optimizer sgd or pathsgd",
      what, c.surviving, net.has_constants() ? "; one scale for the ends of each constant edge" : "", c.active_groups,
      suspect));
}

}  // namespace

parameter_quotient make_parameter_quotient(const network& net) {
  const balance_structure s = make_balance_structure(net);
  const std::size_t n = net.num_nodes();
  parameter_quotient q;
  q.first_edge = first_edges(net);
  auto fixed = [&](node_id v) { return s.group_of[v] == npos; };
  std::vector<std::uint32_t> size(n, 0);
  std::vector<std::uint8_t> has_input(n, 0), has_bias(n, 0), has_in(n, 0), has_out(n, 0);
  for (node_id v = 0; v < n; ++v) {
    ++size[s.root[v]];
    has_input[s.root[v]] |= net.node_at(v).kind == node_kind::input ? 1 : 0;
    has_bias[s.root[v]] |= net.node_at(v).kind == node_kind::bias ? 1 : 0;
  }
  for (edge_id e : q.first_edge) {
    const node_id t = s.root[net.edge_at(e).from], h = s.root[net.edge_at(e).to];
    if (t == h && !fixed(t))
      throw invalid_argument(fmt::format(
          "EC-SGD: {} has its tail and its head in one class of units whose scales are tied (the class of '{}'): "
          "it is shared across layers, or a constant edge runs beside it, so its value is invariant by itself and "
          "the parameter quotient would have a loop, which G-SGD's basis does not handle (docs/training.md, "
          "EC-SGD); use --optimizer sgd or pathsgd",
          parameter_name(net, e), net.node_at(t).id));
    has_out[t] = 1;
    has_in[h] = 1;
  }
  // One node per class, in order of least member; a fixed class of several nodes splits into a
  // source (its parameters out) and an output (its parameters in): its scale is 1 on both sides.
  q.node_of.assign(n, npos);
  std::vector<node_id> sink_of(n, npos);
  for (node_id v = 0; v < n; ++v) {
    const node& nd = net.node_at(v);
    if (s.root[v] != v) {
      q.node_of[v] = q.node_of[s.root[v]];
      sink_of[v] = sink_of[s.root[v]];
    } else if (size[v] == 1 || !fixed(v)) {
      q.node_of[v] = sink_of[v] = q.net.add_node(nd.id, size[v] == 1 ? nd.kind : node_kind::hidden,
                                                 nd.kind == node_kind::hidden ? nd.act : activation{});
    } else {
      const node_kind source = has_input[v] != 0  ? node_kind::input
                               : has_bias[v] != 0 ? node_kind::bias
                                                  : node_kind::input;
      if (has_out[v] != 0) q.node_of[v] = q.net.add_node(nd.id + "/source", source);
      if (has_in[v] != 0) sink_of[v] = q.net.add_node(nd.id + "/sink", node_kind::output);
    }
  }
  for (edge_id e : q.first_edge) q.net.add_edge(q.node_of[net.edge_at(e).from], sink_of[net.edge_at(e).to]);
  refuse_cycles(net, q);
  q.net.finalize();
  if (net.has_params()) refuse_extra_rescalings(net, s);
  return q;
}

void set_quotient_skeleton_one(network& net, skeleton_kind skeleton) {
  const parameter_quotient q = make_parameter_quotient(net);
  const active_subgraph active = find_active(q.net);
  const path_basis basis = make_basis(q.net, active, skeleton);
  tied_weights<double> tied(net);
  std::vector<double> p = tied.from_weights(net.weights()), w;
  for (node_id v = 0; v < q.net.num_nodes(); ++v)
    for (edge_id k : {basis.parent_edge[v], basis.child_edge[v]})
      if (k != npos) p[k] = 1.0;
  tied.effective_weights(p, w);
  net.put_constants(w);
  net.set_weights(w);
}

template <class Scalar>
ec_sgd<Scalar>::ec_sgd(std::shared_ptr<const network> net, sgd_options o, bool fast)
    : quotient_(std::make_shared<const parameter_quotient>(make_parameter_quotient(*net))) {
  inner_ = std::make_unique<gsgd<Scalar>>(std::shared_ptr<const network>(quotient_, &quotient_->net), o, fast);
  this->state_.swap(inner_->state());
}

template <class Scalar>
void ec_sgd<Scalar>::step(std::vector<Scalar>& theta, const std::vector<Scalar>& grad, double lr) {
  const std::size_t p = quotient_->first_edge.size();
  if (theta.size() != p || grad.size() != p)
    throw invalid_argument(
        fmt::format("EC-SGD: {} parameters expected, {} given with {} gradient entries", p, theta.size(), grad.size()));
  // The momentum buffer is this optimizer's state (checkpoints); gsgd steps with it in place.
  inner_->state().swap(this->state_);
  inner_->step(theta, grad, lr);
  inner_->state().swap(this->state_);
}

template class ec_sgd<float>;
template class ec_sgd<double>;

}  // namespace scaleinv::train
