// functional_dimension.cpp: the outputs' Jacobian by back-propagation on the DAG, and its rank by SVD.
#include "scaleinv/paths/functional_dimension.hpp"

#include <fmt/format.h>
#include <Eigen/Core>
#include <Eigen/SVD>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <limits>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/random.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/analysis.hpp"

namespace scaleinv {
namespace {

std::vector<node_id> output_nodes(const network& net) {
  std::vector<node_id> out;
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (net.node_at(v).kind == node_kind::output) out.push_back(v);
  return out;
}

// Bits of sides[v]: a piecewise-linear unit's pre-activation was < 0 / >= 0 on some sample.
constexpr std::uint8_t kSeenNegative = 1, kSeenNonnegative = 2;

// output_jacobian(), recording in sides (when given, one per node) which pieces each
// piecewise-linear unit used.
dense_matrix build_jacobian(const network& net, std::span<const double> weights, std::span<const double> samples,
                            std::size_t n, std::vector<std::uint8_t>* sides) {
  const std::size_t num_inputs = net.count(node_kind::input);
  if (weights.size() != net.num_edges())
    throw invalid_argument(
        fmt::format("output_jacobian: {} weights given for {} edges", weights.size(), net.num_edges()));
  if (samples.size() != n * num_inputs)
    throw invalid_argument(fmt::format("output_jacobian: {} sample values given, {} samples of {} inputs expected",
                                       samples.size(), n, num_inputs));
  const std::vector<node_id> outputs = output_nodes(net);
  const std::vector<std::uint32_t> columns = parameter_columns(net);
  dense_matrix jac;
  jac.rows = n * outputs.size();
  jac.cols = net.num_parameters();
  jac.data.assign(jac.rows * jac.cols, 0.0);

  const std::size_t num_nodes = net.num_nodes();
  const auto& order = net.topological_order();
  // Slopes of the piecewise-linear kinds as doubles, once.
  std::vector<double> neg(num_nodes, 0.0), pos(num_nodes, 1.0);
  for (node_id v = 0; v < num_nodes; ++v) {
    neg[v] = net.node_at(v).act.neg.get_d();
    pos[v] = net.node_at(v).act.pos.get_d();
  }
  std::vector<double> value(num_nodes), slope(num_nodes), grad(num_nodes);
  std::vector<edge_id> argmax(num_nodes, npos);

  for (std::size_t s = 0; s < n; ++s) {
    // Forward, as evaluate() does it; slope[v] = d value / d pre-activation for summing units.
    std::size_t next_input = 0;
    for (node_id v = 0; v < num_nodes; ++v) {
      if (net.node_at(v).kind == node_kind::input) value[v] = samples[s * num_inputs + next_input++];
      else if (net.node_at(v).kind == node_kind::bias) value[v] = 1.0;
    }
    for (node_id v : order) {
      const node& nd = net.node_at(v);
      if (nd.kind == node_kind::input || nd.kind == node_kind::bias) continue;
      auto in = net.in_edges(v);
      const bool hidden = nd.kind == node_kind::hidden;
      if (hidden && nd.act.kind == activation_kind::max_pool) {
        double best = 0.0;  // no inputs: 0, and no gradient
        argmax[v] = npos;
        for (std::size_t i = 0; i < in.size(); ++i) {
          double term = weights[in[i]] * value[net.edge_at(in[i]).from];
          if (i == 0 || term > best) {  // strict: the first term wins a tie, as in evaluate()
            best = term;
            argmax[v] = in[i];
          }
        }
        value[v] = best;
      } else {
        double pre = 0.0;
        for (edge_id e : in) pre += weights[e] * value[net.edge_at(e).from];
        if (!hidden) {
          value[v] = pre;  // outputs are linear
          slope[v] = 1.0;
        } else if (nd.act.kind == activation_kind::avg_pool) {
          value[v] = in.empty() ? 0.0 : pre / static_cast<double>(in.size());
          slope[v] = in.empty() ? 0.0 : 1.0 / static_cast<double>(in.size());
        } else if (nd.act.kind == activation_kind::tanh) {
          value[v] = std::tanh(pre);
          slope[v] = 1.0 - value[v] * value[v];
        } else if (nd.act.kind == activation_kind::sigmoid) {
          value[v] = 1.0 / (1.0 + std::exp(-pre));
          slope[v] = value[v] * (1.0 - value[v]);
        } else {
          // Piecewise linear: the x >= 0 piece at exactly 0, as apply_activation() takes it.
          slope[v] = pre < 0 ? neg[v] : pos[v];
          value[v] = slope[v] * pre;
          if (sides) (*sides)[v] |= pre < 0 ? kSeenNegative : kSeenNonnegative;
        }
      }
      if (!std::isfinite(value[v]))
        throw error(
            fmt::format("the value of node '{}' on input sample {} is not finite (the weights or inputs are "
                        "too large for double precision)",
                        nd.id, s));
    }
    // Backward, one pass per output: grad[u] = d output / d value[u]. Nodes after the output in
    // the topological order cannot reach it, so the pass starts at the output.
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      double* row = jac.data.data() + (s * outputs.size() + k) * jac.cols;
      std::fill(grad.begin(), grad.end(), 0.0);
      grad[outputs[k]] = 1.0;
      for (std::size_t pos_in_order = net.topo_rank(outputs[k]) + 1; pos_in_order-- > 0;) {
        node_id v = order[pos_in_order];
        const node& nd = net.node_at(v);
        if (grad[v] == 0.0 || nd.kind == node_kind::input || nd.kind == node_kind::bias) continue;
        if (nd.kind == node_kind::hidden && nd.act.kind == activation_kind::max_pool) {
          edge_id e = argmax[v];
          if (e == npos) continue;
          node_id u = net.edge_at(e).from;
          if (columns[e] != npos) row[columns[e]] += grad[v] * value[u];  // a constant edge: no column
          grad[u] += grad[v] * weights[e];
          continue;
        }
        double g = grad[v] * slope[v];
        if (g == 0.0) continue;
        for (edge_id e : net.in_edges(v)) {
          node_id u = net.edge_at(e).from;
          if (columns[e] != npos) row[columns[e]] += g * value[u];
          grad[u] += g * weights[e];
        }
      }
    }
  }
  return jac;
}

}  // namespace

dense_matrix output_jacobian(const network& net, std::span<const double> weights, std::span<const double> samples,
                             std::size_t n) {
  return build_jacobian(net, weights, samples, n, nullptr);
}

std::optional<double> numerical_rank::gap() const {
  if (!smallest_kept || !largest_dropped) return std::nullopt;
  if (*largest_dropped == 0.0) return std::numeric_limits<double>::infinity();
  return *smallest_kept / *largest_dropped;
}

numerical_rank matrix_rank(const dense_matrix& m) {
  for (std::size_t i = 0; i < m.data.size(); ++i) {
    if (!std::isfinite(m.data[i]))
      throw error(fmt::format("matrix_rank: entry ({}, {}) is not finite", i / m.cols, i % m.cols));
  }
  numerical_rank r;
  if (m.rows == 0 || m.cols == 0) return r;
  using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const row_major> a(m.data.data(), static_cast<Eigen::Index>(m.rows), static_cast<Eigen::Index>(m.cols));
  // Singular values only (no U, V). Not BDCSVD: Eigen 3.4.0's (Debian's) reads perm(-1) in
  // perturbCol0 when deflating rank-deficient matrices, and rank-deficient is the point here
  // (fixed upstream with "l > 0 ? perm(l - 1) : i"). JacobiSVD first reduces a non-square matrix
  // to a square one by column-pivoting QR, then runs two-sided Jacobi, accurate to high
  // relative precision.
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(a);
  const auto& sv = svd.singularValues();
  r.singular_values.assign(sv.data(), sv.data() + sv.size());
  std::sort(r.singular_values.begin(), r.singular_values.end(), std::greater<>());  // Eigen sorts; be sure
  r.sigma_max = r.singular_values.empty() ? 0.0 : r.singular_values.front();
  // numpy.linalg.matrix_rank's default tolerance.
  r.threshold = static_cast<double>(std::max(m.rows, m.cols)) * DBL_EPSILON * r.sigma_max;
  r.rank = static_cast<std::size_t>(
      std::count_if(r.singular_values.begin(), r.singular_values.end(), [&](double s) { return s > r.threshold; }));
  if (r.rank > 0) r.smallest_kept = r.singular_values[r.rank - 1];
  if (r.rank < r.singular_values.size()) r.largest_dropped = r.singular_values[r.rank];
  return r;
}

std::size_t default_sample_count(const network& net, std::size_t max_entries) {
  const std::size_t outputs = net.count(node_kind::output);
  const std::size_t params = net.num_parameters();
  if (outputs == 0 || params == 0) return 1;
  const std::size_t wanted = (4 * params + outputs - 1) / outputs + 1;
  const std::size_t least = (params + outputs - 1) / outputs + 1;
  const std::size_t fits = max_entries / params / outputs;  // n with n * outputs * params <= max_entries
  return std::max(least, std::min(wanted, fits));
}

std::vector<double> functional_dimension_weights(const network& net, std::uint64_t seed) {
  if (net.has_weights()) return net.weights();
  network copy = net;
  copy.clear_weights();
  init_weights(copy, seed);
  std::vector<double> w = copy.weights();
  if (net.has_params()) {
    // One parameter, one value: the value drawn for its first edge.
    std::vector<edge_id> first(net.param_names().size(), npos);
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      std::uint32_t k = net.param(e);
      if (k == npos) continue;
      if (first[k] == npos) first[k] = e;
      else w[e] = w[first[k]];
    }
  }
  net.put_constants(w);
  return w;
}

std::vector<double> functional_dimension_inputs(const network& net, std::size_t n, std::uint64_t seed) {
  splitmix64 rng(splitmix64(seed).next() ^ 0x66646966ULL);
  std::vector<double> x(n * net.count(node_kind::input));
  for (double& v : x) v = rng.normal();
  return x;
}

functional_dimension_result functional_dimension(const network& net, const functional_dimension_options& options) {
  functional_dimension_result r;
  r.seed = options.seed;
  r.outputs = net.count(node_kind::output);
  r.parameters = net.num_parameters();
  r.inputs = options.inputs.value_or(default_sample_count(net, options.max_entries));
  if (r.inputs == 0) throw invalid_argument("the functional dimension needs at least one input sample");
  const double rows = static_cast<double>(r.inputs) * static_cast<double>(r.outputs);
  const double entries = rows * static_cast<double>(r.parameters);
  const double sample_values = static_cast<double>(r.inputs) * static_cast<double>(net.count(node_kind::input));
  const double limit = static_cast<double>(options.max_entries);
  if (entries > limit || sample_values > limit) {
    throw invalid_argument(fmt::format(
        "the Jacobian would have {:.0f} rows ({} input samples x {} outputs) and {} columns (parameters): {:.4g} "
        "doubles, more than the limit of {}; use fewer input samples (--inputs) or a smaller network",
        rows, r.inputs, r.outputs, r.parameters, std::max(entries, sample_values), options.max_entries));
  }
  r.rows = r.inputs * r.outputs;
  r.drawn_weights = !net.has_weights();
  std::vector<double> w = functional_dimension_weights(net, options.seed);
  std::vector<double> x = functional_dimension_inputs(net, r.inputs, options.seed);
  std::vector<std::uint8_t> sides(net.num_nodes(), 0);
  r.spectrum = matrix_rank(build_jacobian(net, w, x, r.inputs, &sides));
  r.functional_dimension = r.spectrum.rank;
  r.path_dimension = analyze(net).dimension;
  const active_subgraph active = find_active(net);
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    const activation& act = net.node_at(v).act;
    // Units with neg == pos (linear) have no kink to stay on one side of.
    if (!active.is_active_unit(net, v) || act.is_pooling() || act.neg == act.pos || sides[v] == 0) continue;
    if (sides[v] == (kSeenNegative | kSeenNonnegative)) continue;
    const mpq_class& used = sides[v] == kSeenNegative ? act.neg : act.pos;
    (used == 0 ? r.dead_units : r.linear_units).push_back(v);
  }
  return r;
}

}  // namespace scaleinv
