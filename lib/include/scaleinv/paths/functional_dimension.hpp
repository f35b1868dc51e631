// scaleinv/paths/functional_dimension.hpp: the rank of the outputs' Jacobian w.r.t. all parameters (math.md section 9).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/shared.hpp"

namespace scaleinv {

/// A dense row-major matrix of doubles: entry (r, c) is data[r * cols + c].
struct dense_matrix {
  std::size_t rows = 0, cols = 0;
  std::vector<double> data;

  double& operator()(std::size_t r, std::size_t c) { return data[r * cols + c]; }
  double operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
};

/// The Jacobian of the outputs with respect to the parameters, exact up to rounding, by one
/// reverse (back-propagation) pass over the DAG per (sample, output): O(n (V + E) + n O (V + E))
/// time for n samples and O outputs, O(V) extra memory beyond the result.
///
/// Row s * O + k is output k (in output node order) on sample s; column j is parameter j of
/// parameter_columns(net) (paths/shared.hpp: shared ids first, then the other edges in edge
/// order; without sharing, column e is edge e), num_parameters() columns; the derivatives of the
/// edges that share a parameter are summed, and a constant edge (not a parameter) has no column. The network function
/// is evaluate()'s (graph/evaluate.hpp): bias nodes are 1, outputs are linear. Derivatives: a piecewise-linear unit has
/// slope neg for pre-activation x < 0 and pos for x >= 0 (at exactly 0 the x >= 0 side, as evaluate() takes); tanh 1 -
/// tanh(x)^2; sigmoid s (1 - s); avg_pool passes 1 / fan-in to every term; max_pool passes everything to its argmax
/// term, the first in edge order on ties (as evaluate() picks it).
/// @param samples n rows of num_inputs() values each, row-major, in input node order.
/// @pre net.is_finalized(); weights.size() == net.num_edges(); edges sharing a parameter carry one value.
/// @throws invalid_argument when the sizes disagree; error when a node's value overflows (is not
/// finite) on some sample.
dense_matrix output_jacobian(const network& net, std::span<const double> weights, std::span<const double> samples,
                             std::size_t n);

/// The numerical rank of a matrix by its singular values (Eigen's JacobiSVD with a column-pivoting
/// QR preconditioner: O(rows cols min(rows, cols)) for the QR plus O(min^3) per Jacobi sweep),
/// with the threshold of numpy.linalg.matrix_rank: sigma > max(rows, cols) * eps * sigma_max,
/// eps = 2^-52.
struct numerical_rank {
  std::size_t rank = 0;
  std::vector<double> singular_values;    ///< min(rows, cols) of them, decreasing
  double sigma_max = 0;                   ///< the largest singular value (0 for an empty or zero matrix)
  double threshold = 0;                   ///< max(rows, cols) * 2^-52 * sigma_max
  std::optional<double> smallest_kept;    ///< singular_values[rank - 1], when rank > 0
  std::optional<double> largest_dropped;  ///< singular_values[rank], when rank < min(rows, cols)
  /// smallest_kept / largest_dropped, the spectral gap (+infinity when the dropped value is 0);
  /// empty when either side is missing.
  std::optional<double> gap() const;
};

/// @throws error when an entry is not finite (Eigen's SVD would not terminate sensibly).
numerical_rank matrix_rank(const dense_matrix& m);

/// What the functional dimension is computed from.
struct functional_dimension_options {
  std::optional<std::size_t> inputs;     ///< number of input samples n; default: default_sample_count()
  std::uint64_t seed = 1;                ///< inputs, and weights when the network has none
  std::size_t max_entries = 20'000'000;  ///< refuse Jacobians with more doubles than this
};

/// The default number of input samples for P parameters and O >= 1 outputs: ceil(4 P / O) + 1,
/// so that rows = n O >= 4 P; lowered to the largest n whose Jacobian fits max_entries, but never
/// below ceil(P / O) + 1 (rows >= P, necessary for rank P). Why more than P rows: the samples that
/// fall in one activation region of a piecewise-linear network give at most (I + 1) O independent
/// rows for I inputs, so with n = ceil(P / O) the rank often falls short of what the same
/// parameters reach with more samples. 1 when the network has no outputs or no parameters.
/// @pre net.is_finalized().
std::size_t default_sample_count(const network& net, std::size_t max_entries = 20'000'000);

/// The weights the computation uses: the network's own (as doubles) when it has them, else
/// He-normal from the seed (graph/builders.hpp init_weights), with every edge of a shared
/// parameter given the value drawn for its first edge and every constant edge its constant. @pre net.is_finalized().
std::vector<double> functional_dimension_weights(const network& net, std::uint64_t seed);

/// n samples of num_inputs() standard normals each (row-major), from splitmix64 seeded by
/// splitmix64(seed).next() ^ 0x66646966 (not the weight stream of the same seed: inputs drawn from
/// that stream would correlate with the He-normal weights).
std::vector<double> functional_dimension_inputs(const network& net, std::size_t n, std::uint64_t seed);

/// The functional dimension at one parameter (Grigsby, Lindsey et al.) and the path-space
/// dimension it is bounded by.
struct functional_dimension_result {
  std::size_t functional_dimension = 0;  ///< numerical rank of the Jacobian
  std::size_t path_dimension = 0;        ///< analyze(net).dimension, E_on - H_on
  std::size_t parameters = 0;            ///< Jacobian columns: net.num_parameters()
  std::size_t outputs = 0;
  std::size_t inputs = 0;  ///< samples n
  std::size_t rows = 0;    ///< n * outputs
  std::uint64_t seed = 0;
  bool drawn_weights = false;  ///< true when the weights were drawn from the seed
  numerical_rank spectrum;
  /// Active piecewise-linear units (on some path) with slope 0 on every sample, such as a ReLU
  /// whose pre-activation is negative on every input: dead on this batch, in node order.
  std::vector<node_id> dead_units;
  /// Active piecewise-linear units with two different slopes whose pre-activation stays on one
  /// side of 0, with a nonzero slope, on every sample: linear on this batch (a ReLU active on
  /// every input), in node order. (Units of kind linear are never listed.)
  std::vector<node_id> linear_units;
};

/// Draws the inputs (and the weights when the network has none), builds the Jacobian by
/// output_jacobian() and takes its rank by matrix_rank(). Cost: O(n O (V + E)) for the Jacobian
/// and O(rows cols min(rows, cols)) and a few Jacobi sweeps of O(min(rows, cols)^3) for the SVD.
/// @pre net.is_finalized().
/// @throws invalid_argument when options.inputs is 0, or when rows * cols exceeds
/// options.max_entries (the message gives the size and how to shrink it); error when the
/// Jacobian is not finite (weights so large that the outputs overflow).
functional_dimension_result functional_dimension(const network& net, const functional_dimension_options& options = {});

}  // namespace scaleinv
