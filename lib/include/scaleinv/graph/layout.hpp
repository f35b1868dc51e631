// scaleinv/graph/layout.hpp: the layer layout of a network that is a stack of blocks. Algorithms
// with a fast kernel per block kind (train::model, G-SGD, the weight-norm and GmP coordinates,
// balancing) ask for the layout once and run their kernel block by block; any other network takes
// their general-DAG path. Today's block kind is dense (a fully connected layer in make_mlp's edge
// order); convolutional blocks are the next kind.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

enum class block_kind : std::uint8_t { dense };

/// The edges from one layer into the next. Dense: the `out x in` weights are the edges
/// [weight_offset, weight_offset + out * in), row-major (the edge from unit i of the layer below to
/// unit j is weight_offset + j * in + i); the biases, when present, are the `out` edges from one
/// bias node starting at bias_offset.
struct layer_block {
  static constexpr std::size_t no_bias = SIZE_MAX;

  block_kind kind = block_kind::dense;
  std::size_t in = 0, out = 0;
  std::size_t weight_offset = 0;
  std::size_t bias_offset = no_bias;
  bool hidden = false;  ///< feeds a hidden layer (else the outputs)
  activation act;       ///< the hidden layer's activation (every unit has it)

  bool has_bias() const noexcept { return bias_offset != no_bias; }

  template <class Scalar>
  using row_matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  template <class Scalar>
  using column = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  /// The block's weights in a vector with one entry per edge (w), as an out x in matrix.
  template <class Scalar>
  Eigen::Map<row_matrix<Scalar>> weights(Scalar* w) const {
    return {w + weight_offset, static_cast<Eigen::Index>(out), static_cast<Eigen::Index>(in)};
  }
  template <class Scalar>
  Eigen::Map<const row_matrix<Scalar>> weights(const Scalar* w) const {
    return {w + weight_offset, static_cast<Eigen::Index>(out), static_cast<Eigen::Index>(in)};
  }
  /// The biases (out). @pre has_bias().
  template <class Scalar>
  Eigen::Map<column<Scalar>> biases(Scalar* w) const {
    return {w + bias_offset, static_cast<Eigen::Index>(out)};
  }
  template <class Scalar>
  Eigen::Map<const column<Scalar>> biases(const Scalar* w) const {
    return {w + bias_offset, static_cast<Eigen::Index>(out)};
  }
};

/// A network as layers 0 (inputs) .. L-1 (outputs) of widths[l] units, and the blocks between.
struct layer_layout {
  std::vector<std::size_t> widths;
  std::vector<layer_block> blocks;  ///< blocks[l - 1] feeds layer l
  std::vector<node_id> input_nodes, output_nodes;

  std::size_t num_layers() const noexcept { return widths.size(); }
  /// The block into layer l, 1 <= l < num_layers().
  const layer_block& into(std::size_t l) const { return blocks[l - 1]; }
};

/// The layout when net is exactly a stack of dense blocks in make_mlp's edge order: layered, fully
/// connected, with or without one bias node per layer, one activation per hidden layer, no pooling
/// units, the input and output nodes in node order; nullopt otherwise. O(V + E).
std::optional<layer_layout> find_layers(const network& net);

}  // namespace scaleinv
