// path_sgd.cpp: Path-SGD's step (train/path_sgd.hpp).
#include "scaleinv/train/path_sgd.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <type_traits>

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

namespace {

// s[j] = sum over x of W(j, x)^2 in[x], x in order (W: rows x n, row-major), eight rows at a time:
// the eight sums are independent chains that overlap in the pipeline, and each is added in the
// order of the one-row loop, so the result is that loop's bit for bit.
template <class Scalar>
void row_square_sums(const Scalar* W, std::size_t rows, std::size_t n, const double* in, double* s) {
  constexpr std::size_t R = 8;
  std::size_t j = 0;
  for (; j + R <= rows; j += R) {
    double acc[R] = {};
    const Scalar* row = W + j * n;
    for (std::size_t x = 0; x < n; ++x) {
      const double a = in[x];
      for (std::size_t r = 0; r < R; ++r) {
        const double v = static_cast<double>(row[r * n + x]);
        acc[r] += v * v * a;
      }
    }
    for (std::size_t r = 0; r < R; ++r) s[j + r] = acc[r];
  }
  for (; j < rows; ++j) {
    double acc = 0;
    for (std::size_t x = 0; x < n; ++x) {
      const double v = static_cast<double>(W[j * n + x]);
      acc += v * v * in[x];
    }
    s[j] = acc;
  }
}

// take ? a : b, as a bit blend: a select the compiler keeps branch-free, so that the loops below
// vectorize (a conditional store would not, under the default -ftrapping-math, since the division
// feeding it would have to be speculated).
template <class Scalar>
Scalar blend(bool take, Scalar a, Scalar b) {
  using bits = std::conditional_t<sizeof(Scalar) == 4, std::uint32_t, std::uint64_t>;
  const bits m = take ? ~bits(0) : bits(0);
  return std::bit_cast<Scalar>((std::bit_cast<bits>(a) & m) | (std::bit_cast<bits>(b) & ~m));
}

// Path-SGD's update of n parameters with denominators gamma(i), branch-free so that it vectorizes:
// a parameter whose gamma is not positive keeps its value (and its momentum entry), as in the
// general step; the arithmetic of each entry is the general step's.
template <class Scalar, class Gamma>
void update(Scalar* p, const Scalar* g, Scalar* m, std::size_t n, Gamma gamma, double lr, double wd, double mu) {
  if (m == nullptr) {
    for (std::size_t i = 0; i < n; ++i) {
      const double gi = gamma(i);
      const double d = (static_cast<double>(g[i]) + wd * static_cast<double>(p[i])) / gi;
      const Scalar np = static_cast<Scalar>(static_cast<double>(p[i]) - lr * d);
      p[i] = blend(gi > 0, np, p[i]);
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double gi = gamma(i);
    const double d = (static_cast<double>(g[i]) + wd * static_cast<double>(p[i])) / gi;
    const Scalar nm = static_cast<Scalar>(mu * static_cast<double>(m[i]) + d);
    const Scalar np = static_cast<Scalar>(static_cast<double>(p[i]) - lr * static_cast<double>(nm));
    m[i] = blend(gi > 0, nm, m[i]);
    p[i] = blend(gi > 0, np, p[i]);
  }
}

}  // namespace

// in and out of every layer's units on a stack of dense blocks: one pass per block each way, rows
// contiguous; out of the inputs is not needed (gamma uses out of heads only) and left at 0.
template <class Scalar>
void path_sgd<Scalar>::layer_sums(const std::vector<Scalar>& w) {
  const auto& lay = *layout_;
  const std::size_t L = lay.num_layers();
  lin_.resize(L);
  lout_.resize(L);
  lin_[0].assign(lay.widths[0], 1.0);
  for (std::size_t l = 1; l < L; ++l) {
    const layer_block& b = lay.into(l);
    lin_[l].resize(b.out);
    row_square_sums(w.data() + b.weight_offset, b.out, b.in, lin_[l - 1].data(), lin_[l].data());
    if (b.has_bias()) {
      for (std::size_t j = 0; j < b.out; ++j) {
        const double v = static_cast<double>(w[b.bias_offset + j]);
        lin_[l][j] += v * v;  // a bias node is a path source
      }
    }
  }
  lout_[L - 1].assign(lay.widths[L - 1], 1.0);
  for (std::size_t l = L - 1; l >= 1; --l) {
    const layer_block& b = lay.into(l);
    std::vector<double>& below = lout_[l - 1];
    below.assign(b.in, 0.0);
    if (l == 1) break;
    const Scalar* W = w.data() + b.weight_offset;
    for (std::size_t j = 0; j < b.out; ++j) {
      const double oj = lout_[l][j];
      const Scalar* row = W + j * b.in;
      for (std::size_t x = 0; x < b.in; ++x) {
        const double v = static_cast<double>(row[x]);
        below[x] += v * v * oj;
      }
    }
  }
}

// in(v) and out(v) of paths/path_norm.hpp, in double; on dense blocks one pass per block each way.
template <class Scalar>
void path_sgd<Scalar>::sums(const std::vector<Scalar>& w) {
  const network& g = *net_;
  in_.assign(g.num_nodes(), 0.0);
  out_.assign(g.num_nodes(), 0.0);
  if (layout_) {
    layer_sums(w);
    const auto& lay = *layout_;
    // Back to nodes: the blocks name their nodes through the edges.
    for (std::size_t l = 1; l < lay.num_layers(); ++l) {
      const layer_block& b = lay.into(l);
      for (std::size_t x = 0; x < b.in; ++x) {
        const node_id u = g.edge_at(static_cast<edge_id>(b.weight_offset + x)).from;
        in_[u] = lin_[l - 1][x];
        out_[u] = lout_[l - 1][x];
      }
      for (std::size_t j = 0; j < b.out; ++j) {
        const node_id v = g.edge_at(static_cast<edge_id>(b.weight_offset + j * b.in)).to;
        in_[v] = lin_[l][j];
        out_[v] = lout_[l][j];
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

// The step on a stack of dense blocks: gamma of the edge from unit x of layer l - 1 to unit j of
// layer l is in(x) out(j) (a bias edge's tail has in = 1), computed row by row as the update runs.
template <class Scalar>
void path_sgd<Scalar>::step_layers(std::vector<Scalar>& p, const std::vector<Scalar>& grad, double lr) {
  layer_sums(p);
  const auto& lay = *layout_;
  const double mu = o_.momentum, wd = o_.weight_decay;
  Scalar* m = this->state_.empty() ? nullptr : this->state_.data();
  for (std::size_t l = 1; l < lay.num_layers(); ++l) {
    const layer_block& b = lay.into(l);
    const double* in = lin_[l - 1].data();
    const double* out = lout_[l].data();
    for (std::size_t j = 0; j < b.out; ++j) {
      const std::size_t k = b.weight_offset + j * b.in;
      const double oj = out[j];
      update(
          p.data() + k, grad.data() + k, m == nullptr ? nullptr : m + k, b.in,
          [in, oj](std::size_t x) { return in[x] * oj; }, lr, wd, mu);
    }
    if (b.has_bias()) {
      const std::size_t k = b.bias_offset;
      update(
          p.data() + k, grad.data() + k, m == nullptr ? nullptr : m + k, b.out,
          [out](std::size_t j) { return 1.0 * out[j]; }, lr, wd, mu);
    }
  }
}

template <class Scalar>
void path_sgd<Scalar>::step(std::vector<Scalar>& p, const std::vector<Scalar>& grad, double lr) {
  if (layout_) {
    step_layers(p, grad, lr);
    return;
  }
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
