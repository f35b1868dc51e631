// gsgd.cpp: G-SGD's step on the basis-path values, for any DAG, with a layered-MLP fast path.
#include "scaleinv/train/gsgd.hpp"

#include <fmt/format.h>
#include <Eigen/Core>

#include <algorithm>
#include <climits>
#include <cmath>

#include "scaleinv/error.hpp"

namespace scaleinv::train {

template <class Scalar>
gsgd<Scalar>::gsgd(std::shared_ptr<const network> shared, sgd_options o, bool fast) : net_(std::move(shared)), o_(o) {
  const network& net = *net_;
  // The chart fixes one p() edge per unit and moves the free ones: with constant edges it could
  // move a constant and it over-fixes (one scale per class of units joined by constant edges, not
  // per unit); docs/constant_edges.md. Refused for every skeleton, before the basis is made.
  if (net.has_constants())
    throw invalid_argument(
        "G-SGD does not train a network with constant edges yet: its chart fixes one edge per unit "
        "and could move a constant edge, where constant edges leave one scale per class of units "
        "(docs/constant_edges.md); EC-SGD (--optimizer ecsgd, train/ec_sgd.hpp) trains such networks");
  active_ = find_active(net);
  basis_ = make_basis(net, active_, o.skeleton);
  is_free_.assign(net.num_edges(), 0);
  for (edge_id f : basis_.free_edges) is_free_[f] = 1;
  if (o.momentum > 0) this->state_.assign(net.num_edges(), Scalar(0));
  if (fast) layout_ = find_layers(net);
  if (layout_ && !read_skeleton()) layout_.reset();
}

// The fast path needs every edge active and, in each dense block l, the skeleton as index maps:
// p(j) of hidden unit j of layer l is the weight (j, p_col[l][j]) of block l, and c(x) of hidden
// unit x of layer l - 1 the weight (c_row[l][x], x) of block l. Any skeleton of make_basis on a
// stack of dense blocks has that form (p() is never a bias edge there); this reads it, or says no.
template <class Scalar>
bool gsgd<Scalar>::read_skeleton() {
  const network& net = *net_;
  const auto& lay = *layout_;
  const std::size_t L = lay.num_layers();
  if (active_.active_edges != net.num_edges()) return false;
  p_col_.assign(L, {});
  c_row_.assign(L, {});
  c_start_.assign(L, {});
  c_cols_.assign(L, {});
  for (std::size_t l = 1; l < L; ++l) {
    const layer_block& b = lay.into(l);
    auto in_block = [&](edge_id e, std::size_t& row, std::size_t& col) {
      if (e == npos || e < b.weight_offset || e >= b.weight_offset + b.in * b.out) return false;
      row = (e - b.weight_offset) / b.in;
      col = (e - b.weight_offset) % b.in;
      return true;
    };
    if (b.hidden) {
      p_col_[l].resize(b.out);
      for (std::size_t j = 0; j < b.out; ++j) {
        std::size_t row = 0, col = 0;
        const node_id v = net.edge_at(static_cast<edge_id>(b.weight_offset + j * b.in)).to;
        if (!in_block(basis_.parent_edge[v], row, col) || row != j) return false;
        p_col_[l][j] = static_cast<std::uint32_t>(col);
      }
    }
    if (l >= 2) {  // the units x of layer l - 1 are hidden: their c() edges are in block l
      c_row_[l].resize(b.in);
      std::vector<std::uint32_t> count(b.out + 1, 0);
      for (std::size_t x = 0; x < b.in; ++x) {
        std::size_t row = 0, col = 0;
        const node_id u = net.edge_at(static_cast<edge_id>(b.weight_offset + x)).from;
        if (!in_block(basis_.child_edge[u], row, col) || col != x) return false;
        c_row_[l][x] = static_cast<std::uint32_t>(row);
        ++count[row + 1];
      }
      // The c() edges of each row, by column (a CSR list).
      for (std::size_t j = 0; j < b.out; ++j) count[j + 1] += count[j];
      c_start_[l] = count;
      c_cols_[l].resize(b.in);
      for (std::size_t x = 0; x < b.in; ++x) c_cols_[l][count[c_row_[l][x]]++] = static_cast<std::uint32_t>(x);
    }
  }
  return true;
}

// pp[u]: product of the p() chain from a source to u; sp[v]: product of the c() chain from v to a
// sink. v_{B_f} = pp[tail f] * w_f * sp[head f].
template <class Scalar>
void gsgd<Scalar>::prefix_suffix(const std::vector<Scalar>& w, std::vector<Scalar>& pp, std::vector<Scalar>& sp) const {
  const auto& order = net_->topological_order();
  pp.assign(net_->num_nodes(), Scalar(1));
  sp.assign(net_->num_nodes(), Scalar(1));
  for (node_id v : order)
    if (edge_id p = basis_.parent_edge[v]; p != npos) pp[v] = pp[net_->edge_at(p).from] * w[p];
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    if (edge_id c = basis_.child_edge[*it]; c != npos) sp[*it] = w[c] * sp[net_->edge_at(c).to];
}

template <class Scalar>
std::vector<Scalar> gsgd<Scalar>::path_values(const std::vector<Scalar>& w) const {
  std::vector<Scalar> pp, sp, v(basis_.size());
  prefix_suffix(w, pp, sp);
  for (std::size_t i = 0; i < basis_.size(); ++i) {
    const edge& ed = net_->edge_at(basis_.free_edges[i]);
    v[i] = pp[ed.from] * w[basis_.free_edges[i]] * sp[ed.to];
  }
  return v;
}

template <class Scalar>
std::vector<Scalar> gsgd<Scalar>::path_gradient(const std::vector<Scalar>& w, const std::vector<Scalar>& grad) const {
  std::vector<Scalar> y = weighted_path_gradient(w, grad), v = path_values(w);
  for (std::size_t i = 0; i < v.size(); ++i) y[i] = v[i] != Scalar(0) ? y[i] / v[i] : Scalar(0);
  return y;
}

template <class Scalar>
std::vector<Scalar> gsgd<Scalar>::weighted_path_gradient(const std::vector<Scalar>& w,
                                                         const std::vector<Scalar>& grad) const {
  // y over free edges: y_f = g_f - [f = c(tail f)] F(tail f), where F(u) sums y_B over the basis
  // paths whose suffix passes through u (their owned edge ends at u, or they reach u from a
  // predecessor x through c(x)).
  const std::size_t n = net_->num_nodes();
  std::vector<Scalar> flow(n, Scalar(0)), y(basis_.size(), Scalar(0));
  for (node_id u : net_->topological_order()) {
    Scalar f_u = 0;
    for (edge_id e : net_->in_edges(u)) {
      if (!active_.is_active_edge(e)) continue;
      node_id x = net_->edge_at(e).from;
      bool through_c = basis_.child_edge[x] == e;
      if (is_free_[e] != 0) {
        Scalar ye = w[e] * grad[e] - (through_c ? flow[x] : Scalar(0));
        y[basis_.index_of[e]] = ye;
        f_u += ye;
      }
      if (through_c) f_u += flow[x];
    }
    flow[u] = net_->is_path_sink(u) ? Scalar(0) : f_u;
  }
  return y;
}

template <class Scalar>
void gsgd<Scalar>::step(std::vector<Scalar>& w, const std::vector<Scalar>& grad, double lr) {
  if (layout_) {
    step_mlp(w.data(), grad.data(), this->state_.empty() ? nullptr : this->state_.data(), lr);
    return;
  }
  const auto eta = static_cast<Scalar>(lr);
  std::vector<Scalar> pp, sp;
  prefix_suffix(w, pp, sp);
  std::vector<Scalar> y = weighted_path_gradient(w, grad);
  std::vector<Scalar> v(basis_.size());
  for (std::size_t i = 0; i < basis_.size(); ++i) {
    const edge& ed = net_->edge_at(basis_.free_edges[i]);
    v[i] = pp[ed.from] * w[basis_.free_edges[i]] * sp[ed.to];
    const Scalar d = v[i] != Scalar(0) ? y[i] / v[i] : Scalar(0);  // dL/dv_B
    Scalar g = d + static_cast<Scalar>(o_.weight_decay) * v[i];
    if (!this->state_.empty()) {
      Scalar& m = this->state_[basis_.free_edges[i]];
      m = static_cast<Scalar>(o_.momentum) * m + g;
      g = m;
    }
    v[i] -= eta * g;
  }
  // Re-allocate downstream first: sp is rebuilt from the new weights as the sweep goes up.
  const auto& order = net_->topological_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    node_id t = *it;
    for (edge_id f : net_->out_edges(t)) {
      if (is_free_[f] == 0) continue;
      Scalar denom = pp[t] * sp[net_->edge_at(f).to];
      if (denom != Scalar(0)) w[f] = v[basis_.index_of[f]] / denom;
    }
    if (edge_id c = basis_.child_edge[t]; c != npos) sp[t] = w[c] * sp[net_->edge_at(c).to];
  }
}

template <class Scalar>
void gsgd<Scalar>::step(std::span<Scalar> w, std::span<const Scalar> grad, std::span<Scalar> momentum, double lr) {
  const std::size_t n = net_->num_edges();
  if (w.size() != n || grad.size() != n)
    throw invalid_argument(fmt::format("G-SGD step: {} weights and {} gradient entries for a network of {} edges",
                                       w.size(), grad.size(), n));
  const bool want_m = o_.momentum > 0.0;
  if (want_m ? momentum.size() != n : !momentum.empty())
    throw invalid_argument(fmt::format("G-SGD step: a momentum buffer of {} entries; expected {} (momentum {})",
                                       momentum.size(), want_m ? n : 0, o_.momentum));
  if (layout_) {
    step_mlp(w.data(), grad.data(), want_m ? momentum.data() : nullptr, lr);
    return;
  }
  // The general path works on vectors: copy in and out (its O(E) passes cost more than the copies).
  std::vector<Scalar> wv(w.begin(), w.end()), gv(grad.begin(), grad.end());
  if (want_m) this->state_.assign(momentum.begin(), momentum.end());
  step(wv, gv, lr);
  std::copy(wv.begin(), wv.end(), w.begin());
  if (want_m) std::copy(this->state_.begin(), this->state_.end(), momentum.begin());
}

template <class Scalar>
void gsgd<Scalar>::realize(std::vector<Scalar>& w, const std::vector<Scalar>& v) const {
  if (v.size() != basis_.size()) throw invalid_argument("G-SGD: one value per basis path expected");
  std::vector<Scalar> pp, sp;
  prefix_suffix(w, pp, sp);  // pp runs along p() edges, which stay fixed
  const auto& order = net_->topological_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const node_id t = *it;
    for (edge_id f : net_->out_edges(t)) {
      if (is_free_[f] == 0) continue;
      const Scalar denom = pp[t] * sp[net_->edge_at(f).to];
      if (denom != Scalar(0)) w[f] = v[basis_.index_of[f]] / denom;
    }
    if (edge_id c = basis_.child_edge[t]; c != npos) sp[t] = w[c] * sp[net_->edge_at(c).to];
  }
}

namespace {
template <class Scalar>
using vec = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
using skeleton_table = std::vector<std::vector<std::uint32_t>>;

// The MLP step's first half, on the weights before the step: prefix products along p() (pp[0] =
// 1), suffix products along c() (sp[L - 1] = 1), and the flows F_l (below).
template <class Scalar>
void mlp_products(const layer_layout& lay, const skeleton_table& p_col, const skeleton_table& c_row, const Scalar* w,
                  const Scalar* grad, std::vector<vec<Scalar>>& pp, std::vector<vec<Scalar>>& sp,
                  std::vector<vec<Scalar>>& flow) {
  using vec = scaleinv::train::vec<Scalar>;
  const std::size_t L = lay.num_layers();
  auto W = [&](std::size_t l) { return lay.into(l).weights(w).array(); };
  auto G = [&](std::size_t l) { return lay.into(l).weights(grad).array(); };
  auto B = [&](std::size_t l) { return lay.into(l).biases(w).array(); };
  auto BG = [&](std::size_t l) { return lay.into(l).biases(grad).array(); };
  pp.assign(L, vec());
  sp.assign(L, vec());
  flow.assign(L, vec());
  pp[0] = vec::Ones(static_cast<Eigen::Index>(lay.widths[0]));
  for (std::size_t l = 1; l + 1 < L; ++l) {
    auto Wl = W(l);
    pp[l].resize(Wl.rows());
    for (Eigen::Index j = 0; j < Wl.rows(); ++j) {
      const std::uint32_t x = p_col[l][static_cast<std::size_t>(j)];
      pp[l](j) = Wl(j, x) * pp[l - 1](x);
    }
  }
  sp[L - 1] = vec::Ones(static_cast<Eigen::Index>(lay.widths[L - 1]));
  for (std::size_t l = L - 1; l-- > 1;) {
    auto Wu = W(l + 1);
    sp[l].resize(Wu.cols());
    for (Eigen::Index x = 0; x < Wu.cols(); ++x) {
      const std::uint32_t j = c_row[l + 1][static_cast<std::size_t>(x)];
      sp[l](x) = Wu(j, x) * sp[l + 1](j);
    }
  }
  // F_l(j): the flow of layer l's unit j, the sum of y over its free in-edges (y = w dL/dw, minus
  // the flow of the tail on c() edges) plus the flow through its p() edge when that edge is also
  // its tail's c() (the free c() edges pass the tail's flow on: y + F = w g). Rows of W are j,
  // columns x.
  for (std::size_t l = 1; l + 1 < L; ++l) {
    auto Wl = W(l);
    auto Gl = G(l);
    // Row-wise dot products of W and G (Eigen vectorizes the row-major reduction), less p(j).
    vec fixed(Wl.rows());
    for (Eigen::Index j = 0; j < Wl.rows(); ++j) {
      const std::uint32_t x = p_col[l][static_cast<std::size_t>(j)];
      fixed(j) = Wl(j, x) * Gl(j, x);
    }
    flow[l] = (Wl * Gl).rowwise().sum() - fixed;
    if (lay.into(l).has_bias()) flow[l] += B(l) * BG(l);
    if (l >= 2)
      for (Eigen::Index j = 0; j < Wl.rows(); ++j) {
        const std::uint32_t x = p_col[l][static_cast<std::size_t>(j)];
        if (c_row[l][x] == static_cast<std::uint32_t>(j)) flow[l](j) += flow[l - 1](x);
      }
  }
}
}  // namespace

// The MLP fast path: the general step's arithmetic, one layer at a time, as array operations.
// Layer l's weights W (n_l x n_{l-1}); p(j) is the weight (j, p_col[j]) of a hidden layer, c(x)
// the weight (c_row[x], x) of the layer above x (read_skeleton). PP (prefix products) per unit of
// layer l-1, SP (suffix products) per unit of layer l; a bias node is a source (PP = 1).
template <class Scalar>
void gsgd<Scalar>::step_mlp(Scalar* w, const Scalar* grad, Scalar* m, double lr) {
  using vec = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
  const auto& lay = *layout_;
  const std::size_t L = lay.num_layers();
  const auto eta = static_cast<Scalar>(lr), mu = static_cast<Scalar>(o_.momentum),
             wd = static_cast<Scalar>(o_.weight_decay);
  // The dense blocks' weights, gradients and biases as arrays (coefficient-wise arithmetic).
  auto W = [&](std::size_t l) { return lay.into(l).weights(w).array(); };
  auto G = [&](std::size_t l) { return lay.into(l).weights(grad).array(); };
  auto B = [&](Scalar* v, std::size_t l) { return lay.into(l).biases(v).array(); };
  auto BG = [&](std::size_t l) { return lay.into(l).biases(grad).array(); };
  const bool has_m = m != nullptr;
  std::vector<vec> pp, sp, flow;
  mlp_products(lay, p_col_, c_row_, w, grad, pp, sp, flow);
  // Update in path-value space and re-allocate, from the output layer down, with the new suffix
  // products of the layer above; one fused pass per row. For an edge (x, j) with v = S_j w P_x:
  // dL/dv = y / v, which is g / (S_j P_x) except on c() edges (y = w g - F_x), which are redone
  // from their saved values after the row's pass, as p(j) is restored; a zero v gets no gradient,
  // as in the general path.
  vec sp_new = vec::Ones(static_cast<Eigen::Index>(lay.widths[L - 1]));
  std::vector<Scalar> saved_w, saved_m;
  for (std::size_t l = L - 1; l >= 1; --l) {
    auto Wl = W(l);
    auto Gl = G(l);
    const vec& P = pp[l - 1];
    const vec& S = sp[l];
    const auto rows = Wl.rows(), cols = Wl.cols();
    const bool hidden = l + 1 < L, c_edges = l >= 2;
    vec inv_p = (P != Scalar(0)).select(P.inverse(), Scalar(0));
    Scalar* mrow_base = has_m ? m + lay.into(l).weight_offset : nullptr;
    for (Eigen::Index j = 0; j < rows; ++j) {
      const Scalar sj = S(j), snj = sp_new(j);
      const Scalar inv_s = sj != Scalar(0) ? Scalar(1) / sj : Scalar(0);
      const Scalar inv_sn = snj != Scalar(0) ? Scalar(1) / snj : Scalar(0);
      Scalar* wr = Wl.data() + j * cols;
      const Scalar* gr = Gl.data() + j * cols;
      Scalar* mr = has_m ? mrow_base + j * cols : nullptr;
      // The entries this row's pass must not change as it does: p(j), kept fixed, and the c()
      // edges of the units below whose c() ends at j.
      const std::uint32_t* cx = nullptr;
      std::size_t nc = 0;
      if (c_edges) {
        cx = c_cols_[l].data() + c_start_[l][static_cast<std::size_t>(j)];
        nc = c_start_[l][static_cast<std::size_t>(j) + 1] - c_start_[l][static_cast<std::size_t>(j)];
      }
      const std::uint32_t px = hidden ? p_col_[l][static_cast<std::size_t>(j)] : 0;
      saved_w.assign(nc + 1, Scalar(0));
      saved_m.assign(nc + 1, Scalar(0));
      for (std::size_t k = 0; k < nc; ++k) {
        saved_w[k] = wr[cx[k]];
        if (has_m) saved_m[k] = mr[cx[k]];
      }
      if (hidden) {
        saved_w[nc] = wr[px];
        if (has_m) saved_m[nc] = mr[px];
      }
      // d = g / (S_j P_x) = g * inv_s * inv_p; branch-free so that the compiler vectorizes it.
      const Scalar* __restrict ip = inv_p.data();
      const Scalar* __restrict pv = P.data();
      const Scalar* __restrict g = gr;
      Scalar* __restrict wo = wr;
      const Eigen::Index len = cols;
      const Scalar keep = (snj != Scalar(0)) ? Scalar(0) : Scalar(1);
      if (has_m) {
        Scalar* __restrict mo = mr;
        for (Eigen::Index x = 0; x < len; ++x) {
          const Scalar wv = wo[x], v = sj * wv * pv[x];
          const Scalar d = (v != Scalar(0) ? g[x] * inv_s * ip[x] : Scalar(0)) + wd * v;
          const Scalar m = mu * mo[x] + d;
          mo[x] = m;
          const Scalar nv = (v - eta * m) * inv_sn * ip[x];
          wo[x] = (keep != Scalar(0) || pv[x] == Scalar(0)) ? wv : nv;
        }
      } else {
        for (Eigen::Index x = 0; x < len; ++x) {
          const Scalar wv = wo[x], v = sj * wv * pv[x];
          const Scalar d = (v != Scalar(0) ? g[x] * inv_s * ip[x] : Scalar(0)) + wd * v;
          const Scalar nv = (v - eta * d) * inv_sn * ip[x];
          wo[x] = (keep != Scalar(0) || pv[x] == Scalar(0)) ? wv : nv;
        }
      }
      for (std::size_t k = 0; k < nc; ++k) {
        const std::uint32_t x = cx[k];
        if (hidden && x == px) continue;  // p(j) is also c(x): fixed
        const Scalar wv = saved_w[k], v = sj * wv * P(x);
        Scalar d = v != Scalar(0) ? (wv * gr[x] - flow[l - 1](x)) / v : Scalar(0);
        d += wd * v;
        if (has_m) d = mr[x] = mu * saved_m[k] + d;
        const Scalar den = snj * P(x);
        wr[x] = den != Scalar(0) ? (v - eta * d) / den : wv;
      }
      if (hidden) {
        wr[px] = saved_w[nc];
        if (has_m) mr[px] = saved_m[nc];
      }
    }
    if (lay.into(l).has_bias()) {
      auto bl = B(w, l);
      auto bg = BG(l);
      Scalar* mb = has_m ? m + lay.into(l).bias_offset : nullptr;
      for (Eigen::Index j = 0; j < rows; ++j) {
        const Scalar sj = S(j), snj = sp_new(j), bv = bl(j), v = bv * sj;
        Scalar d = (v != Scalar(0) ? bv * bg(j) / v : Scalar(0)) + wd * v;
        if (has_m) d = mb[j] = mu * mb[j] + d;
        if (snj != Scalar(0)) bl(j) = (v - eta * d) / snj;
      }
    }
    if (l == 1) break;
    vec below(cols);
    for (Eigen::Index x = 0; x < cols; ++x) {
      const std::uint32_t j = c_row_[l][static_cast<std::size_t>(x)];
      below(x) = Wl(j, x) * sp_new(j);
    }
    sp_new.swap(below);
  }
}

template class gsgd<float>;
template class gsgd<double>;

}  // namespace scaleinv::train
