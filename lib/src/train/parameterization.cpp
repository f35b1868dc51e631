// parameterization.cpp: weights, weight norm and GmP coordinates of a layered MLP, their
// effective weights and the chain rule back; GmP's angle maps run as whole-column array
// operations across a layer's units (see gmp.cpp for the per-vector reference).
#include "scaleinv/train/parameterization.hpp"

#include <fmt/format.h>

#include <Eigen/Core>

#include <algorithm>
#include <climits>
#include <cmath>
#include <span>

#include "scaleinv/error.hpp"
#include "scaleinv/train/gmp.hpp"
#include "scaleinv/train/tied_weights.hpp"

namespace scaleinv::train {

std::string_view to_string(param_kind kind) {
  switch (kind) {
    case param_kind::weights:
      return "weights";
    case param_kind::weightnorm:
      return "weightnorm";
    case param_kind::gmp:
      return "gmp";
  }
  return "weights";
}

param_kind parse_param_kind(std::string_view text) {
  if (text == "weights") return param_kind::weights;
  if (text == "weightnorm") return param_kind::weightnorm;
  if (text == "gmp") return param_kind::gmp;
  throw invalid_argument(fmt::format("unknown parameterization '{}': expected weights, weightnorm or gmp", text));
}

std::optional<std::string> param_unsupported(const network& net, param_kind kind) {
  if (kind == param_kind::weights) return std::nullopt;
  if (net.has_params())
    return fmt::format(
        "--param {} keeps one weight vector per unit, and this network shares parameters between edges "
        "(a convolution or a JSON \"param\"): train it with --param weights",
        to_string(kind));
  if (net.has_constants())
    return fmt::format(
        "--param {} trains every incoming weight of a unit, and this network has constant edges (fixed "
        "weights that are not parameters): train it with --param weights",
        to_string(kind));
  auto lay = find_layers(net);
  if (!lay)
    return fmt::format(
        "--param {} needs a layered, fully connected MLP in the mlp: edge order (no skip edges, no "
        "pooling units, one activation per layer): it keeps one incoming weight vector per unit and layer, "
        "and this network has no such layers",
        to_string(kind));
  if (kind == param_kind::gmp)
    for (std::size_t l = 1; l + 1 < lay->num_layers(); ++l)
      if (!lay->into(l).act.is_homogeneous())
        return fmt::format(
            "--param gmp needs positively homogeneous hidden units (relu, leaky_relu, prelu, bilu, linear): "
            "its start r act(u x + lambda) = act(w x + b) with r = ||w|| rests on act(c t) = c act(t) for c > 0, "
            "and hidden layer {} is {}",
            l, lay->into(l).act.name());
  return std::nullopt;
}

namespace {
template <class Scalar>
using col_arr = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
template <class Scalar>
using row_arr = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class Scalar>
using row_vec = Eigen::Array<Scalar, 1, Eigen::Dynamic>;
template <class Scalar>
using col_vec = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
using Eigen::Index;

}  // namespace

template <class Scalar>
parameterization<Scalar>::parameterization(const network& net, param_kind kind)
    : kind_(kind), num_weights_(net.num_edges()) {
  if (auto why = param_unsupported(net, kind)) throw invalid_argument(*why);
  if (kind == param_kind::weights) {
    size_ = num_weights_;
    decayed_.assign(size_, 1);
    return;
  }
  const layer_layout lay = *find_layers(net);
  const std::size_t L = lay.num_layers();
  std::size_t pos = 0, signs = 0, cache = 0, ucache = 0, tmp = 0;
  for (std::size_t l = 1; l < L; ++l) {
    const layer_block& edges = lay.into(l);
    block b;
    b.in = edges.in;
    b.out = edges.out;
    b.hidden = edges.hidden;
    if (b.hidden) b.act = edges.act;
    b.bias = edges.has_bias();
    b.w_off = edges.weight_offset;
    b.b_off = b.bias ? edges.bias_offset : 0;
    b.dir = pos;
    if (kind == param_kind::gmp && b.hidden) {
      // angles, r, lambda
      if (b.in >= 2) {
        pos += (b.in - 1) * b.out;
        b.cache = cache;
        cache += (b.in - 1) * b.out;
      } else {
        b.sign = signs;
        signs += b.out;
      }
      b.ucache = ucache;
      ucache += b.out;
      tmp = std::max(tmp, (detail::kGmpTile + 1) * b.out);
      decayed_.resize(pos, 0);
      b.scale = pos;
      pos += b.out;
    } else if (kind == param_kind::gmp) {
      // the Cartesian output layer: W, b
      pos += b.in * b.out;
      decayed_.resize(pos, 1);
    } else {
      // weight norm: v, g, b
      pos += b.in * b.out;
      decayed_.resize(pos, 0);
      b.scale = pos;
      pos += b.out;
      b.cache = cache;
      cache += b.out;
    }
    decayed_.resize(pos, 1);
    if (b.bias) {
      b.bias_p = pos;
      pos += b.out;
      decayed_.resize(pos, 1);
    }
    blocks_.push_back(b);
  }
  size_ = pos;
  signs_.assign(signs, Scalar(1));
  cos_.resize(kind == param_kind::gmp ? cache : 0);
  sin_.resize(cos_.size());
  pre_.resize(cache);
  u_.resize(ucache);
  tmp_.resize(tmp);
}

template <class Scalar>
void parameterization<Scalar>::set_signs(const std::vector<Scalar>& s) {
  if (s.size() != signs_.size())
    throw invalid_argument(
        fmt::format("{} direction signs given, the parameterization has {}", s.size(), signs_.size()));
  for (Scalar x : s)
    if (x != Scalar(1) && x != Scalar(-1)) throw invalid_argument("a direction sign must be +1 or -1");
  signs_ = s;
}

template <class Scalar>
std::vector<Scalar> parameterization<Scalar>::from_weights(const std::vector<double>& w) {
  if (w.size() != num_weights_) throw invalid_argument("one weight per edge expected");
  if (kind_ == param_kind::weights) return std::vector<Scalar>(w.begin(), w.end());
  std::vector<double> p(size_, 0.0), theta;
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    const block& b = blocks_[l];
    const bool gmp_hidden = kind_ == param_kind::gmp && b.hidden;
    for (std::size_t j = 0; j < b.out; ++j) {
      std::span<const double> row(w.data() + b.w_off + j * b.in, b.in);
      const double bias = b.bias ? w[b.b_off + j] : 0.0;
      if (b.bias) p[b.bias_p + j] = bias;
      if (gmp_hidden) {
        theta.assign(b.in - 1, 0.0);
        double sign = 1;
        const double r = to_spherical<double>(row, theta, &sign);
        // A zero row outputs the constant sigma(b). When that is 0 (relu and b <= 0), r = 0 gives the
        // same function (lambda = b keeps the unit's offset for when r moves); any other constant is
        // not r sigma(u x + lambda) for a unit vector u.
        const double constant = bias < 0 ? b.act.neg.get_d() * bias : b.act.pos.get_d() * bias;
        if (r == 0 && constant != 0)
          throw invalid_argument(
              fmt::format("--param gmp: unit {} of hidden layer {} has all-zero incoming weights and "
                          "bias {}: its constant output {} is not r {}(u x + lambda) for any unit "
                          "vector u",
                          j, l + 1, bias, constant, b.act.name()));
        for (std::size_t k = 0; k + 1 < b.in; ++k) p[b.dir + k * b.out + j] = theta[k];
        if (b.in == 1) signs_[b.sign + j] = static_cast<Scalar>(sign);
        p[b.scale + j] = r;
        if (b.bias) p[b.bias_p + j] = r == 0 ? bias : bias / r;
      } else if (kind_ == param_kind::gmp) {
        std::copy(row.begin(), row.end(), p.begin() + static_cast<std::ptrdiff_t>(b.dir + j * b.in));
      } else {
        const double g = stable_norm(row);
        if (g == 0) p[b.dir + j * b.in] = 1.0;  // v = e_1
        else std::copy(row.begin(), row.end(), p.begin() + static_cast<std::ptrdiff_t>(b.dir + j * b.in));
        p[b.scale + j] = g;
      }
    }
  }
  std::vector<Scalar> out(p.begin(), p.end());
  for (std::size_t i = 0; i < out.size(); ++i)
    if (!std::isfinite(out[i]))
      throw invalid_argument(
          fmt::format("--param {}: {} is {} and not finite in this precision", to_string(kind_), describe(i), p[i]));
  return out;
}

template <class Scalar>
void parameterization<Scalar>::forward_gmp_hidden(const block& b, const std::vector<Scalar>& p, const Scalar* r_prev,
                                                  std::vector<Scalar>& w) {
  if (b.in == 1) {
    for (std::size_t j = 0; j < b.out; ++j)
      w[b.w_off + j] = signs_[b.sign + j] * (r_prev == nullptr ? Scalar(1) : r_prev[0]);
    return;
  }
  detail::gmp_layer_forward(p.data() + b.dir, b.out, b.in, r_prev, w.data() + b.w_off, cos_.data() + b.cache,
                            sin_.data() + b.cache, pre_.data() + b.cache, u_.data() + b.ucache, tmp_.data());
}

template <class Scalar>
void parameterization<Scalar>::effective_weights(const std::vector<Scalar>& p, std::vector<Scalar>& w) {
  if (p.size() != size_) throw invalid_argument(fmt::format("{} parameters expected, {} given", size_, p.size()));
  w.resize(num_weights_);
  if (kind_ == param_kind::weights) {
    std::copy(p.begin(), p.end(), w.begin());
    return;
  }
  const Scalar* r_prev = nullptr;
  for (const block& b : blocks_) {
    const auto m = static_cast<Index>(b.out), n = static_cast<Index>(b.in);
    if (b.bias)
      Eigen::Map<col_vec<Scalar>>(w.data() + b.b_off, m) = Eigen::Map<const col_vec<Scalar>>(p.data() + b.bias_p, m);
    if (kind_ == param_kind::gmp && b.hidden) {
      forward_gmp_hidden(b, p, r_prev, w);
      r_prev = p.data() + b.scale;
    } else if (kind_ == param_kind::gmp) {
      Eigen::Map<const row_arr<Scalar>> V(p.data() + b.dir, m, n);
      Eigen::Map<row_arr<Scalar>> W(w.data() + b.w_off, m, n);
      if (r_prev == nullptr) W = V;
      else W = V.rowwise() * Eigen::Map<const row_vec<Scalar>>(r_prev, n);
    } else {
      Eigen::Map<const row_arr<Scalar>> V(p.data() + b.dir, m, n);
      Eigen::Map<row_arr<Scalar>> W(w.data() + b.w_off, m, n);
      Scalar* norms = pre_.data() + b.cache;
      // Each row through aligned scratch: Eigen's reductions split into peeled and packet parts by
      // address, so a norm taken in place would round by where the allocator put p; stableNorm
      // scales, so rows of norm 1e20 or 1e-25 do not overflow or underflow in float.
      Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, 1>, Eigen::AlignedMax> row(scratch(static_cast<std::size_t>(n)),
                                                                                  n);
      for (Index j = 0; j < m; ++j) {
        row = V.row(j).matrix().transpose();
        const Scalar nrm = row.stableNorm();
        norms[j] = nrm;
        const Scalar s = nrm > Scalar(0) ? p[b.scale + static_cast<std::size_t>(j)] / nrm : Scalar(0);
        W.row(j) = V.row(j) * s;
      }
    }
  }
}

template <class Scalar>
void parameterization<Scalar>::backward_gmp_hidden(const block& b, const Scalar* r_prev,
                                                   const std::vector<Scalar>& grad_w, std::vector<Scalar>& grad_p,
                                                   Scalar* grad_r_prev) {
  if (b.in == 1) {
    // u_j = sign_j: dL/dr_prev = sum_j dL/dW_eff(j, 0) sign_j; no angles.
    if (grad_r_prev != nullptr) {
      Scalar sum = 0;
      for (std::size_t j = 0; j < b.out; ++j) sum += grad_w[b.w_off + j] * signs_[b.sign + j];
      grad_r_prev[0] = sum;
    }
    return;
  }
  detail::gmp_layer_backward(grad_w.data() + b.w_off, b.out, b.in, r_prev, cos_.data() + b.cache, sin_.data() + b.cache,
                             pre_.data() + b.cache, u_.data() + b.ucache, grad_p.data() + b.dir, grad_r_prev,
                             tmp_.data());
}

template <class Scalar>
void parameterization<Scalar>::backprop(const std::vector<Scalar>& p, const std::vector<Scalar>& grad_w,
                                        std::vector<Scalar>& grad_p) {
  if (p.size() != size_ || grad_w.size() != num_weights_)
    throw invalid_argument("backprop: one parameter per parameter and one gradient entry per weight expected");
  grad_p.resize(size_);
  if (kind_ == param_kind::weights) {
    std::copy(grad_w.begin(), grad_w.end(), grad_p.begin());
    return;
  }
  for (std::size_t i = blocks_.size(); i-- > 0;) {
    const block& b = blocks_[i];
    const auto m = static_cast<Index>(b.out), n = static_cast<Index>(b.in);
    if (b.bias)
      Eigen::Map<col_vec<Scalar>>(grad_p.data() + b.bias_p, m) =
          Eigen::Map<const col_vec<Scalar>>(grad_w.data() + b.b_off, m);
    const bool has_prev = kind_ == param_kind::gmp && i > 0;
    const Scalar* r_prev = has_prev ? p.data() + blocks_[i - 1].scale : nullptr;
    Scalar* grad_r_prev = has_prev ? grad_p.data() + blocks_[i - 1].scale : nullptr;
    if (kind_ == param_kind::gmp && b.hidden) {
      backward_gmp_hidden(b, r_prev, grad_w, grad_p, grad_r_prev);
    } else if (kind_ == param_kind::gmp) {
      Eigen::Map<const row_arr<Scalar>> G(grad_w.data() + b.w_off, m, n), V(p.data() + b.dir, m, n);
      Eigen::Map<row_arr<Scalar>> dV(grad_p.data() + b.dir, m, n);
      if (r_prev == nullptr) {
        dV = G;
      } else {
        // The column sums into aligned scratch first (see effective_weights), then out.
        Eigen::Map<row_vec<Scalar>, Eigen::AlignedMax> sums(scratch(static_cast<std::size_t>(n)), n);
        sums = (G * V).colwise().sum();
        std::copy(sums.data(), sums.data() + n, grad_r_prev);
        dV = G.rowwise() * Eigen::Map<const row_vec<Scalar>>(r_prev, n);
      }
    } else {
      Eigen::Map<const row_arr<Scalar>> G(grad_w.data() + b.w_off, m, n), V(p.data() + b.dir, m, n);
      Eigen::Map<row_arr<Scalar>> dV(grad_p.data() + b.dir, m, n);
      const Scalar* norms = pre_.data() + b.cache;
      for (Index j = 0; j < m; ++j) {
        const Scalar nrm = norms[j];
        if (!(nrm > Scalar(0))) {
          dV.row(j).setZero();
          grad_p[b.scale + static_cast<std::size_t>(j)] = 0;
          continue;
        }
        // w = g v / ||v||: dL/dg = G.v / ||v||; dL/dv = (g / ||v||) (G - (dL/dg / ||v||) v).
        // The dot product through aligned scratch, for the same reason as the norms.
        Eigen::Map<row_vec<Scalar>, Eigen::AlignedMax> gv(scratch(static_cast<std::size_t>(n)), n);
        gv = G.row(j) * V.row(j);
        const Scalar dg = gv.sum() / nrm;
        grad_p[b.scale + static_cast<std::size_t>(j)] = dg;
        const Scalar s = p[b.scale + static_cast<std::size_t>(j)] / nrm;
        dV.row(j) = s * (G.row(j) - (dg / nrm) * V.row(j));
      }
    }
  }
}

template <class Scalar>
void parameterization<Scalar>::add_weight_decay(const std::vector<Scalar>& p, std::vector<Scalar>& grad_p,
                                                double decay) const {
  if (decay == 0) return;
  const auto wd = static_cast<Scalar>(decay);
  for (std::size_t i = 0; i < size_; ++i)
    if (decayed_[i] != 0) grad_p[i] += wd * p[i];
}

template <class Scalar>
std::string parameterization<Scalar>::describe(std::size_t i) const {
  if (kind_ == param_kind::weights) return fmt::format("weight {}", i);
  for (std::size_t l = 0; l < blocks_.size(); ++l) {
    const block& b = blocks_[l];
    const bool gmp_hidden = kind_ == param_kind::gmp && b.hidden;
    const std::size_t dir_size = gmp_hidden ? (b.in >= 2 ? (b.in - 1) * b.out : 0) : b.in * b.out;
    if (i >= b.dir && i < b.dir + dir_size) {
      const std::size_t d = i - b.dir;
      if (gmp_hidden) return fmt::format("layer {}, unit {}, angle {}", l + 1, d % b.out, d / b.out);
      return fmt::format("layer {}, unit {}, {} {}", l + 1, d / b.in, kind_ == param_kind::gmp ? "weight" : "v",
                         d % b.in);
    }
    if (kind_ == param_kind::weightnorm || gmp_hidden)
      if (i >= b.scale && i < b.scale + b.out)
        return fmt::format("layer {}, unit {}, {}", l + 1, i - b.scale, gmp_hidden ? "r" : "g");
    if (b.bias && i >= b.bias_p && i < b.bias_p + b.out)
      return fmt::format("layer {}, unit {}, {}", l + 1, i - b.bias_p, gmp_hidden ? "lambda" : "bias");
  }
  return fmt::format("parameter {} (out of range)", i);
}

template class parameterization<float>;
template class parameterization<double>;

template <class Scalar>
std::unique_ptr<coordinates<Scalar>> make_coordinates(const network& net, param_kind kind) {
  if (kind == param_kind::weights && net.has_parameter_map()) return std::make_unique<tied_weights<Scalar>>(net);
  return std::make_unique<parameterization<Scalar>>(net, kind);
}

template std::unique_ptr<coordinates<float>> make_coordinates<float>(const network&, param_kind);
template std::unique_ptr<coordinates<double>> make_coordinates<double>(const network&, param_kind);

}  // namespace scaleinv::train
