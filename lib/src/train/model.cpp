// model.cpp: batched forward/backward on the graph model (MLP fast path with Eigen products,
// general DAG path with one row of activations per node).
#include "scaleinv/train/model.hpp"

#include <cstdint>

#include <algorithm>
#include <climits>
#include <cmath>

#include "scaleinv/error.hpp"

namespace scaleinv::train {

namespace {
// The slopes of a piecewise-linear activation in Scalar, converted from their exact values once per
// layer or node rather than once per entry (mpq_class::get_d was a fifth of a conv net's step).
template <class Scalar>
struct slopes {
  Scalar pos, neg;
  explicit slopes(const activation& a)
      : pos(static_cast<Scalar>(a.pos.get_d())), neg(static_cast<Scalar>(a.neg.get_d())) {}
};

template <class Scalar>
Scalar act_value(const activation& a, const slopes<Scalar>& k, Scalar x) {
  switch (a.kind) {
    case activation_kind::tanh:
      return std::tanh(x);
    case activation_kind::sigmoid:
      return Scalar(1) / (Scalar(1) + std::exp(-x));
    default:
      return x < 0 ? k.neg * x : k.pos * x;
  }
}

// sigma'(x), given x and y = sigma(x); the x >= 0 side at exactly 0.
template <class Scalar>
Scalar act_slope(const activation& a, const slopes<Scalar>& k, Scalar x, Scalar y) {
  switch (a.kind) {
    case activation_kind::tanh:
      return Scalar(1) - y * y;
    case activation_kind::sigmoid:
      return y * (Scalar(1) - y);
    default:
      return x < 0 ? k.neg : k.pos;
  }
}

template <class Derived, class Scalar>
void apply_act(const activation& a, const Eigen::MatrixBase<Derived>& z, matrix<Scalar>& out) {
  out.resize(z.rows(), z.cols());
  if (a.kind == activation_kind::relu) {
    out = z.cwiseMax(Scalar(0));
  } else if (a.kind == activation_kind::linear) {
    out = z;
  } else {
    const slopes<Scalar> k(a);
    for (Eigen::Index j = 0; j < z.cols(); ++j)
      for (Eigen::Index i = 0; i < z.rows(); ++i) out(i, j) = act_value(a, k, z(i, j));
  }
}

// The dense block's kernels. Forward: z = W a (+ b). Backward, given d = dL/dz: dW = d a^T and
// db = the row sums of d into the gradient g (one entry per edge), and dL/da = W^T d when asked.
template <class Scalar>
void dense_forward(const layer_block& blk, const Scalar* w, const matrix<Scalar>& a, matrix<Scalar>& z) {
  z.noalias() = blk.weights(w) * a;
  if (blk.has_bias()) z.colwise() += blk.biases(w);
}

template <class Scalar>
void dense_backward(const layer_block& blk, const Scalar* w, const matrix<Scalar>& a, const matrix<Scalar>& d,
                    Scalar* g, matrix<Scalar>* da) {
  blk.weights(g).noalias() = d * a.transpose();
  if (blk.has_bias()) blk.biases(g) = d.rowwise().sum();
  if (da != nullptr) da->noalias() = blk.weights(w).transpose() * d;
}

template <class Scalar>
void times_slope(const activation& a, const matrix<Scalar>& z, const matrix<Scalar>& y, matrix<Scalar>& d) {
  if (a.kind == activation_kind::relu) {
    d = (z.array() < Scalar(0)).select(Scalar(0), d);
  } else if (a.kind == activation_kind::linear) {
    return;
  } else {
    const slopes<Scalar> k(a);
    for (Eigen::Index j = 0; j < d.cols(); ++j)
      for (Eigen::Index i = 0; i < d.rows(); ++i) d(i, j) *= act_slope(a, k, z(i, j), y(i, j));
  }
}
}  // namespace

template <class Scalar>
Scalar loss_gradient(const matrix<Scalar>& y, const std::vector<int>* labels, const matrix<Scalar>* targets,
                     loss_kind loss, matrix<Scalar>& dy, std::size_t* correct) {
  const auto batch = y.cols();
  if (batch == 0) throw invalid_argument("empty batch");
  dy.resize(y.rows(), batch);
  double total = 0;
  std::size_t right = 0;
  if (loss == loss_kind::cross_entropy) {
    if (labels == nullptr || static_cast<Eigen::Index>(labels->size()) != batch)
      throw invalid_argument("cross-entropy needs one class label per sample");
    for (Eigen::Index j = 0; j < batch; ++j) {
      int label = (*labels)[static_cast<std::size_t>(j)];
      if (label < 0 || label >= y.rows()) throw invalid_argument("class label out of range of the outputs");
      Eigen::Index best = 0;
      Scalar m = y.col(j).maxCoeff(&best);
      right += best == label ? 1 : 0;
      Scalar sum = 0;
      for (Eigen::Index i = 0; i < y.rows(); ++i) {
        dy(i, j) = std::exp(y(i, j) - m);
        sum += dy(i, j);
      }
      total += static_cast<double>(std::log(sum) + m - y(label, j));
      for (Eigen::Index i = 0; i < y.rows(); ++i) dy(i, j) /= sum;
      dy(label, j) -= Scalar(1);
    }
  } else {
    if (targets == nullptr || targets->rows() != y.rows() || targets->cols() != batch)
      throw invalid_argument("mse needs a target matrix of the outputs' shape");
    dy = y - *targets;
    total = 0.5 * static_cast<double>(dy.squaredNorm());
  }
  dy /= static_cast<Scalar>(batch);
  if (correct != nullptr) *correct = right;
  return static_cast<Scalar>(total / static_cast<double>(batch));
}

template <class Scalar>
model<Scalar>::model(std::shared_ptr<const network> shared, bool fast) : net_(std::move(shared)) {
  const network& net = *net_;
  if (fast) layout_ = find_layers(net);
  input_index_.assign(net.num_nodes(), -1);
  output_index_.assign(net.num_nodes(), -1);
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    if (net.node_at(v).kind == node_kind::input) {
      input_index_[v] = static_cast<std::int32_t>(inputs_.size());
      inputs_.push_back(v);
    } else if (net.node_at(v).kind == node_kind::output) {
      output_index_[v] = static_cast<std::int32_t>(outputs_.size());
      outputs_.push_back(v);
    }
  }
  if (layout_ && (layout_->input_nodes != inputs_ || layout_->output_nodes != outputs_)) layout_.reset();
}

namespace {

// The general path's state for a batch: pre-activations and values, one row per node.
template <class Scalar>
struct dag_state {
  matrix<Scalar> pre, val;
  std::vector<std::vector<edge_id>> argmax;  // per node (max_pool only): winning edge per sample
};

template <class Scalar>
void dag_forward(const network& net, const std::vector<Scalar>& w, const matrix<Scalar>& x,
                 const std::vector<std::int32_t>& input_index, dag_state<Scalar>& s) {
  const auto batch = x.cols();
  s.pre.setZero(static_cast<Eigen::Index>(net.num_nodes()), batch);
  s.val.setZero(static_cast<Eigen::Index>(net.num_nodes()), batch);
  s.argmax.assign(net.num_nodes(), {});
  for (node_id v : net.topological_order()) {
    const node& nd = net.node_at(v);
    const auto r = static_cast<Eigen::Index>(v);
    if (nd.kind == node_kind::input) {
      s.val.row(r) = x.row(input_index[v]);
      continue;
    }
    if (nd.kind == node_kind::bias) {
      s.val.row(r).setOnes();
      continue;
    }
    auto in = net.in_edges(v);
    if (nd.kind == node_kind::hidden && nd.act.kind == activation_kind::max_pool) {
      auto& arg = s.argmax[v];
      arg.assign(static_cast<std::size_t>(batch), npos);
      for (Eigen::Index b = 0; b < batch; ++b) {
        Scalar best = 0;
        for (std::size_t i = 0; i < in.size(); ++i) {
          Scalar t = w[in[i]] * s.val(static_cast<Eigen::Index>(net.edge_at(in[i]).from), b);
          if (i == 0 || t > best) {
            best = t;
            arg[static_cast<std::size_t>(b)] = in[i];
          }
        }
        s.pre(r, b) = best;
        s.val(r, b) = best;
      }
      continue;
    }
    for (edge_id e : in) s.pre.row(r) += w[e] * s.val.row(static_cast<Eigen::Index>(net.edge_at(e).from));
    if (nd.kind == node_kind::hidden && nd.act.kind == activation_kind::avg_pool) {
      if (!in.empty()) s.pre.row(r) /= static_cast<Scalar>(in.size());
      s.val.row(r) = s.pre.row(r);
    } else if (nd.kind == node_kind::hidden) {
      const slopes<Scalar> k(nd.act);
      for (Eigen::Index b = 0; b < batch; ++b) s.val(r, b) = act_value(nd.act, k, s.pre(r, b));
    } else {
      s.val.row(r) = s.pre.row(r);
    }
  }
}
}  // namespace

template <class Scalar>
const Scalar* model<Scalar>::aligned_weights(const std::vector<Scalar>& w) const {
  if (reinterpret_cast<std::uintptr_t>(w.data()) % EIGEN_MAX_ALIGN_BYTES == 0) return w.data();
  w_copy_.assign(w.begin(), w.end());
  return w_copy_.data();
}

template <class Scalar>
matrix<Scalar> model<Scalar>::predict(const std::vector<Scalar>& w, const matrix<Scalar>& x) const {
  if (x.rows() != static_cast<Eigen::Index>(inputs_.size()))
    throw invalid_argument("the data has " + std::to_string(x.rows()) + " features, the network " +
                           std::to_string(inputs_.size()) + " inputs");
  if (w.size() != net_->num_edges()) throw invalid_argument("one weight per edge expected");
  if (layout_) {
    const Scalar* wp = aligned_weights(w);
    matrix<Scalar> a = x, z;
    for (const layer_block& blk : layout_->blocks) {
      dense_forward(blk, wp, a, z);
      if (blk.hidden) apply_act(blk.act, z, a);
      else a = z;
    }
    return a;
  }
  dag_state<Scalar> s;
  dag_forward(*net_, w, x, input_index_, s);
  matrix<Scalar> y(static_cast<Eigen::Index>(outputs_.size()), x.cols());
  for (std::size_t k = 0; k < outputs_.size(); ++k) y.row(static_cast<Eigen::Index>(k)) = s.val.row(outputs_[k]);
  return y;
}

template <class Scalar>
Scalar model<Scalar>::loss(const std::vector<Scalar>& w, const matrix<Scalar>& x, const std::vector<int>* labels,
                           const matrix<Scalar>* targets, loss_kind kind, std::size_t* correct) const {
  matrix<Scalar> dy;
  return loss_gradient(predict(w, x), labels, targets, kind, dy, correct);
}

template <class Scalar>
Scalar model<Scalar>::loss_and_gradient(const std::vector<Scalar>& w, const matrix<Scalar>& x,
                                        const std::vector<int>* labels, const matrix<Scalar>* targets, loss_kind kind,
                                        std::vector<Scalar>& grad) const {
  if (x.rows() != static_cast<Eigen::Index>(inputs_.size()))
    throw invalid_argument("the data has " + std::to_string(x.rows()) + " features, the network " +
                           std::to_string(inputs_.size()) + " inputs");
  if (w.size() != net_->num_edges()) throw invalid_argument("one weight per edge expected");
  matrix<Scalar> dy;
  if (layout_) {
    // Every edge is a weight or bias of some layer, so each gradient entry is written below: no
    // zero fill needed. The input batch is used in place (a[0] stays empty).
    grad.resize(net_->num_edges());
    const auto& lay = *layout_;
    const std::size_t L = lay.num_layers();
    const Scalar* wp = aligned_weights(w);
    // The gradient is written through an aligned buffer too, for the same reason.
    const bool grad_aligned = reinterpret_cast<std::uintptr_t>(grad.data()) % EIGEN_MAX_ALIGN_BYTES == 0;
    if (!grad_aligned) grad_copy_.resize(grad.size());
    Scalar* gp = grad_aligned ? grad.data() : grad_copy_.data();
    // Reused from call to call (same sizes: no allocation after the first call; see model.hpp).
    std::vector<matrix<Scalar>>& a = a_;
    std::vector<matrix<Scalar>>& z = z_;
    a.resize(L);
    z.resize(L);
    auto input_of = [&](std::size_t l) -> const matrix<Scalar>& { return l == 1 ? x : a[l - 1]; };
    for (std::size_t l = 1; l < L; ++l) {
      const layer_block& blk = lay.into(l);
      dense_forward(blk, wp, input_of(l), z[l]);
      if (blk.hidden) apply_act(blk.act, z[l], a[l]);
    }
    matrix<Scalar>& d = d_;
    matrix<Scalar>& prev = prev_;
    Scalar value = loss_gradient(z[L - 1], labels, targets, kind, d);
    for (std::size_t l = L - 1; l >= 1; --l) {
      const layer_block& blk = lay.into(l);
      dense_backward(blk, wp, input_of(l), d, gp, l == 1 ? nullptr : &prev);
      if (l == 1) break;
      times_slope(lay.into(l - 1).act, z[l - 1], a[l - 1], prev);
      d.swap(prev);
    }
    if (!grad_aligned) std::copy(grad_copy_.begin(), grad_copy_.end(), grad.begin());
    return value;
  }
  grad.assign(net_->num_edges(), Scalar(0));
  dag_state<Scalar> s;
  dag_forward(*net_, w, x, input_index_, s);
  matrix<Scalar> y(static_cast<Eigen::Index>(outputs_.size()), x.cols());
  for (std::size_t k = 0; k < outputs_.size(); ++k) y.row(static_cast<Eigen::Index>(k)) = s.val.row(outputs_[k]);
  Scalar value = loss_gradient(y, labels, targets, kind, dy);
  matrix<Scalar> dval = matrix<Scalar>::Zero(s.val.rows(), s.val.cols());
  for (std::size_t k = 0; k < outputs_.size(); ++k) dval.row(outputs_[k]) = dy.row(static_cast<Eigen::Index>(k));
  const auto& order = net_->topological_order();
  Eigen::Matrix<Scalar, 1, Eigen::Dynamic> dpre(x.cols());
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    node_id v = *it;
    const node& nd = net_->node_at(v);
    if (nd.kind == node_kind::input || nd.kind == node_kind::bias) continue;
    const auto r = static_cast<Eigen::Index>(v);
    auto in = net_->in_edges(v);
    if (nd.kind == node_kind::hidden && nd.act.kind == activation_kind::max_pool) {
      for (Eigen::Index b = 0; b < x.cols(); ++b) {
        edge_id e = s.argmax[v][static_cast<std::size_t>(b)];
        if (e == npos) continue;
        const auto u = static_cast<Eigen::Index>(net_->edge_at(e).from);
        grad[e] += dval(r, b) * s.val(u, b);
        dval(u, b) += w[e] * dval(r, b);
      }
      continue;
    }
    dpre = dval.row(r);
    if (nd.kind == node_kind::hidden) {
      if (nd.act.kind == activation_kind::avg_pool) {
        if (!in.empty()) dpre /= static_cast<Scalar>(in.size());
      } else {
        const slopes<Scalar> k(nd.act);
        for (Eigen::Index b = 0; b < x.cols(); ++b) dpre(b) *= act_slope(nd.act, k, s.pre(r, b), s.val(r, b));
      }
    }
    for (edge_id e : in) {
      const auto u = static_cast<Eigen::Index>(net_->edge_at(e).from);
      grad[e] += dpre.dot(s.val.row(u));
      if (net_->node_at(net_->edge_at(e).from).kind != node_kind::input &&
          net_->node_at(net_->edge_at(e).from).kind != node_kind::bias)
        dval.row(u) += w[e] * dpre;
    }
  }
  return value;
}

template class model<float>;
template class model<double>;
template float loss_gradient(const matrix<float>&, const std::vector<int>*, const matrix<float>*, loss_kind,
                             matrix<float>&, std::size_t*);
template double loss_gradient(const matrix<double>&, const std::vector<int>*, const matrix<double>*, loss_kind,
                              matrix<double>&, std::size_t*);

}  // namespace scaleinv::train
