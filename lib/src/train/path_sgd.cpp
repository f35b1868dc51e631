// path_sgd.cpp: Path-SGD's step (train/path_sgd.hpp).
#include "scaleinv/train/path_sgd.hpp"

#include <fmt/format.h>

#include "scaleinv/error.hpp"
#include "scaleinv/train/tied_weights.hpp"

namespace scaleinv::train {

template <class Scalar>
path_sgd<Scalar>::path_sgd(std::shared_ptr<const network> net, std::size_t size, sgd_options o, bool fast)
    : net_(std::move(net)), o_(o) {
  const network& g = *net_;
  if (g.has_parameter_map()) {
    // Shared parameters or constant edges: the trained values are tied_weights' parameters; a
    // constant edge has none (slot npos) and keeps its constant in the path sums.
    tied_weights<Scalar> tied(g);
    slot_.resize(g.num_edges());
    for (edge_id e = 0; e < g.num_edges(); ++e) slot_[e] = tied.slot(e);
    for (edge_id e = 0; e < g.num_edges(); ++e)
      if (g.is_constant(e)) constants_.emplace_back(e, static_cast<Scalar>(g.constant_value(e).get_d()));
    if (size != tied.size())
      throw invalid_argument(fmt::format("Path-SGD: {} parameters given, the network has {}", size, tied.size()));
  } else if (size != g.num_edges()) {
    throw invalid_argument(
        fmt::format("Path-SGD trains the weights: {} parameters given, the network has {} edges", size, g.num_edges()));
  }
  if (o.momentum > 0) this->state_.assign(size, Scalar(0));
  if (fast && slot_.empty()) layout_ = find_layers(g);
  // The layer passes take every hidden unit as a path's inner unit: homogeneous layers only.
  if (layout_)
    for (const layer_block& b : layout_->blocks)
      if (b.hidden && !b.act.is_homogeneous()) layout_.reset();
}

template <class Scalar>
const std::vector<Scalar>& path_sgd<Scalar>::weights_of(const std::vector<Scalar>& p) {
  if (slot_.empty()) return p;
  w_.resize(slot_.size());
  for (std::size_t e = 0; e < slot_.size(); ++e)
    if (slot_[e] != npos) w_[e] = p[slot_[e]];
  for (const auto& [e, value] : constants_) w_[e] = value;
  return w_;
}

// in(v) and out(v) of paths/path_norm.hpp, in double; on dense blocks one pass per block each way.
template <class Scalar>
void path_sgd<Scalar>::sums(const std::vector<Scalar>& w) {
  const network& g = *net_;
  in_.assign(g.num_nodes(), 0.0);
  out_.assign(g.num_nodes(), 0.0);
  if (layout_) {
    // Layer-indexed vectors: in_ and out_ hold the units of each layer in node order.
    const auto& lay = *layout_;
    const std::size_t L = lay.num_layers();
    std::vector<std::vector<double>> in(L), out(L);
    in[0].assign(lay.widths[0], 1.0);
    for (std::size_t l = 1; l < L; ++l) {
      const layer_block& b = lay.into(l);
      in[l].assign(b.out, 0.0);
      const Scalar* W = w.data() + b.weight_offset;
      for (std::size_t j = 0; j < b.out; ++j) {
        double s = 0;
        for (std::size_t x = 0; x < b.in; ++x) {
          const double v = static_cast<double>(W[j * b.in + x]);
          s += v * v * in[l - 1][x];
        }
        if (b.has_bias()) {
          const double v = static_cast<double>(w[b.bias_offset + j]);
          s += v * v;  // a bias node is a path source
        }
        in[l][j] = s;
      }
    }
    out[L - 1].assign(lay.widths[L - 1], 1.0);
    for (std::size_t l = L - 1; l >= 1; --l) {
      const layer_block& b = lay.into(l);
      out[l - 1].assign(b.in, 0.0);
      if (l == 1) break;  // inputs: out is not needed (gamma uses out of heads only)
      const Scalar* W = w.data() + b.weight_offset;
      for (std::size_t j = 0; j < b.out; ++j) {
        const double oj = out[l][j];
        for (std::size_t x = 0; x < b.in; ++x) {
          const double v = static_cast<double>(W[j * b.in + x]);
          out[l - 1][x] += v * v * oj;
        }
      }
    }
    // Back to nodes: the blocks name their nodes through the edges.
    for (std::size_t l = 1; l < L; ++l) {
      const layer_block& b = lay.into(l);
      for (std::size_t x = 0; x < b.in; ++x) {
        const node_id u = g.edge_at(static_cast<edge_id>(b.weight_offset + x)).from;
        in_[u] = in[l - 1][x];
        out_[u] = out[l - 1][x];
      }
      for (std::size_t j = 0; j < b.out; ++j) {
        const node_id v = g.edge_at(static_cast<edge_id>(b.weight_offset + j * b.in)).to;
        in_[v] = in[l][j];
        out_[v] = out[l][j];
      }
      if (b.has_bias()) in_[g.edge_at(static_cast<edge_id>(b.bias_offset)).from] = 1.0;
    }
    return;
  }
  const auto& order = g.topological_order();
  for (node_id v : order) {
    double arriving = 0;
    for (edge_id e : g.in_edges(v)) {
      const double x = static_cast<double>(w[e]);
      arriving += x * x * in_[g.edge_at(e).from];
    }
    in_[v] = g.is_path_source(v) ? 1.0 : arriving;
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const node_id v = *it;
    if (g.is_path_sink(v)) {
      out_[v] = 1.0;
      continue;
    }
    double leaving = 0;
    for (edge_id e : g.out_edges(v)) {
      const double x = static_cast<double>(w[e]);
      leaving += x * x * out_[g.edge_at(e).to];
    }
    out_[v] = leaving;
  }
}

template <class Scalar>
std::vector<double> path_sgd<Scalar>::gammas(const std::vector<Scalar>& p) {
  const network& g = *net_;
  sums(weights_of(p));
  std::vector<double> gamma(p.size(), 0.0);
  for (edge_id e = 0; e < g.num_edges(); ++e) {
    const std::uint32_t k = slot_.empty() ? e : slot_[e];
    if (k == npos) continue;  // a constant edge: no parameter, no step
    gamma[k] += in_[g.edge_at(e).from] * out_[g.edge_at(e).to];
  }
  return gamma;
}

template <class Scalar>
void path_sgd<Scalar>::step(std::vector<Scalar>& p, const std::vector<Scalar>& grad, double lr) {
  gamma_ = gammas(p);
  const double mu = o_.momentum, wd = o_.weight_decay;
  const bool has_m = !this->state_.empty();
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (!(gamma_[k] > 0)) continue;
    double d = (static_cast<double>(grad[k]) + wd * static_cast<double>(p[k])) / gamma_[k];
    if (has_m) {
      this->state_[k] = static_cast<Scalar>(mu * static_cast<double>(this->state_[k]) + d);
      d = static_cast<double>(this->state_[k]);
    }
    p[k] = static_cast<Scalar>(static_cast<double>(p[k]) - lr * d);
  }
}

template <class Scalar>
void path_sgd<Scalar>::rescaled(const network& net, const std::vector<double>& node_scale) {
  std::vector<Scalar>& m = this->state_;
  if (m.empty()) return;
  if (m.size() != net.num_edges()) throw invalid_argument("balance: the optimizer buffer needs one entry per edge");
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge& ed = net.edge_at(e);
    const double f = node_scale[ed.to] / node_scale[ed.from];
    if (f != 1.0) m[e] = static_cast<Scalar>(static_cast<double>(m[e]) * f);
  }
}

template class path_sgd<float>;
template class path_sgd<double>;

}  // namespace scaleinv::train
