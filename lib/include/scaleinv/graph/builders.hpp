// scaleinv/graph/builders.hpp: networks from a few numbers: MLPs, MLPs with skip edges, random DAGs,
// and the NET spec strings ("mlp:784-500-10,bias") that name them on the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// A layered, fully connected network. widths[0] inputs, widths.back() outputs, the rest hidden.
/// Node ids: x0.. (inputs), h1_0.. (hidden layer 1), y0.. (outputs), b1.. (bias node of layer l).
/// Edge order: layer by layer; within a layer, target-major (row-major W[j][i], as W x), then
/// that layer's bias edges; then skip edges into the layer.
struct mlp_options {
  std::vector<std::size_t> widths;
  bool bias = false;
  activation act;
  std::optional<std::uint64_t> init_seed;  ///< attach He-normal weights drawn from this seed
  /// Skip edges from layer l - skip_span into layer l (0 = none; otherwise >= 2): unit i to unit i
  /// when the two widths are equal (a residual identity shortcut with its own weight), a full
  /// projection when they differ.
  std::size_t skip_span = 0;
};
/// @throws invalid_argument on fewer than two layers, a zero width, a skip span of 1, or more
/// edges or nodes than max_built_edges / max_built_nodes (below).
network make_mlp(const mlp_options& options);

/// A random DAG: inputs x0.., hidden h0.. (in a fixed topological order), outputs y0.., and a bias
/// node b0 when asked. Each edge allowed by the order (source before target, no edge into an
/// input, none out of an output) is present with probability p. The same seed gives the same
/// network everywhere.
struct random_dag_options {
  std::uint64_t seed = 0;
  std::size_t inputs = 2, hidden = 4, outputs = 1;
  double p = 0.5;
  bool bias = false;
  activation act;
  double nonhomogeneous = 0.0;  ///< probability that a hidden unit is tanh instead of act
  std::optional<std::uint64_t> init_seed;
};
/// @throws invalid_argument for p or the tanh fraction outside [0, 1], or a size beyond the limits
/// (max_built_edges expected edges, max_built_nodes, max_random_pairs).
network make_random_dag(const random_dag_options& options);

/// A 1-D convolutional network with weights shared across positions: channels[0] input channels
/// of `length` positions, then one layer per further entry, each unit (l, c, t) fed by units
/// (l - 1, c', t + k) for every input channel c' and k < kernel ("valid" convolution, stride 1),
/// so layer l has length - l (kernel - 1) positions. The last layer is the output. Edge (l, c, c',
/// k) at every position carries parameter "w<l>_<c>_<c'>_<k>"; with bias, a bias node b<l> feeds
/// every unit of layer l through parameter "b<l>_<c>". Node ids: x<c>_<t>, h<l>_<c>_<t>, y<c>_<t>.
struct conv_options {
  std::size_t length = 16;
  std::vector<std::size_t> channels{1, 4, 1};
  std::size_t kernel = 3;
  bool bias = false;
  activation act;
  std::optional<std::uint64_t> init_seed;  ///< He-normal weights, equal across each parameter
};
/// @throws invalid_argument when a layer would have no positions, the sizes are zero, or the
/// network would be larger than max_built_edges / max_built_nodes.
network make_conv1d(const conv_options& options);

/// A 2-D convolutional network as the image classifiers are written: an input of channels x
/// height x width (PyTorch's C x H x W; input node x<c>_<i>_<j>, in that order, so a flattened image
/// maps pixel i * width + j to input i * width + j), then layers in order:
/// - conv: `channels` output channels, a kernel x kernel "valid" convolution, stride 1; edge (c,
///   c', di, dj) at every position carries parameter "w<l>_<c>_<c'>_<di>_<dj>"; with bias, a bias
///   node b<l> feeds every unit of channel c through parameter "b<l>_<c>".
/// - max / avg pooling: size x size windows, stride size (a trailing row or column that fills no
///   window is left out); each pooling unit (activation max_pool or avg_pool) is fed by constant
///   edges of weight 1 (docs/constant_edges.md), so pooling is never trained.
/// - fc: a dense layer of `channels` units from every unit of the layer before (flattened); its
///   edges are unshared (no parameter name); with bias, a bias node b<l> feeds each unit.
/// l counts every layer from 1 (pooling too). Hidden units are h<l>_<c>_<i>_<j> (conv, pooling)
/// or h<l>_<j> (fc); the last layer is the output (y<c>_<i>_<j> or y<j>) and must be conv or fc.
struct cnn_layer {
  enum class kind_t { conv, max_pool, avg_pool, fc } kind = kind_t::conv;
  std::size_t channels = 0;  ///< conv: output channels; fc: units
  std::size_t size = 0;      ///< conv: kernel; pooling: window (and stride)
};
struct cnn_options {
  std::size_t channels = 1, height = 28, width = 28;
  std::vector<cnn_layer> layers;
  bool bias = false;
  activation act;                          ///< of the conv and fc hidden units
  std::optional<std::uint64_t> init_seed;  ///< init_weights (He-normal, one draw per parameter)
};
/// @throws invalid_argument when a layer leaves no positions, an fc layer is followed by conv or
/// pooling, the last layer is pooling, a size is zero, or the network would be larger than
/// max_built_edges / max_built_nodes.
network make_cnn(const cnn_options& options);

/// The largest network the builders make: beyond either count they throw invalid_argument before
/// allocating anything. Edges: about 12 GiB of edges and adjacency; nodes: about 20 GiB of ids,
/// activations and the id index. A random DAG's limit is on its expected edges, p times the pairs
/// its order allows, and on the pairs themselves (max_random_pairs: one draw each).
inline constexpr double max_built_edges = 1e9;
inline constexpr double max_built_nodes = 1e8;
inline constexpr double max_random_pairs = 1e10;

/// What a builder will make, counted in double so that no product of sizes can overflow: nodes,
/// and edges (for a random DAG, every pair its order allows, each present with probability p).
struct network_size {
  double nodes = 0;
  double edges = 0;
};
network_size planned_size(const mlp_options& options);
network_size planned_size(const random_dag_options& options);
network_size planned_size(const conv_options& options);
network_size planned_size(const cnn_options& options);

/// Draws He-normal weights N(0, 2 / fan_in) for every edge from the seed; the edges of a shared
/// parameter all take its first edge's draw (the draws are the same as without sharing), and a
/// constant edge keeps its constant.
void init_weights(network& net, std::uint64_t seed);

/// True when text starts with a spec prefix: "mlp:", "skip:", "random:", "conv:", "cnn:", "zoo:" (layers/zoo.hpp)
/// or "example:".
bool is_spec(std::string_view text);

/// A network spec read but not built: the builder it names and that builder's options. Callers
/// that must bound the work (a fuzz target, a service) check planned_size(spec) before build().
struct network_spec {
  std::string text;  ///< the spec as given, for messages
  std::variant<mlp_options, random_dag_options, conv_options, cnn_options> options;
};
network_size planned_size(const network_spec& spec);

/// Reads a spec (docs/formats.md): "mlp:784-500-10[,bias][,act=A][,init=S]",
/// "skip:W0-W1-...[,span=K][,bias][,act=A][,init=S]", "random:seed=S,inputs=I,hidden=H,outputs=O,p=P
/// [,bias][,act=A][,tanh=F][,init=S]", "conv:len=L,ch=C0-C1-...,k=K[,bias][,act=A][,init=S]",
/// "cnn:in=CxHxW,layers=c8k3-max2-c16k3-max2-fc10[,bias][,act=A][,init=S]" (cnn_options: c<C>k<K> a
/// conv of C channels and kernel K, max<P> and avg<P> pooling, fc<N> dense), allocating nothing in proportion to the
/// sizes it names. ("example:" names are resolved by io/load.hpp.) @throws parse_error naming the spec and the bad
/// part.
network_spec parse_network_spec(std::string_view spec);

/// Builds a parsed spec. @throws parse_error naming the spec when its builder refuses the options
/// (a size beyond max_built_edges / max_built_nodes, a convolution with no positions left, ...).
network build(const network_spec& spec);

/// build(parse_network_spec(spec)). @throws parse_error naming the spec and the bad part.
network from_spec(std::string_view spec);

}  // namespace scaleinv
