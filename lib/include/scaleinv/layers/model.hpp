// scaleinv/layers/model.hpp: layer-level models (conv, pooling, residual additions, BatchNorm),
// their shapes and parameter counts, and their unrolling into a network (one node per channel and
// position, conv kernels as shared parameters, pooling and additions as constant edges).
#pragma once

#include <gmpxx.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/network.hpp"

namespace scaleinv::layers {

/// Channels x height x width. A Linear layer's output (and Flatten's) is features x 1 x 1.
struct shape3 {
  std::size_t c = 0, h = 0, w = 0;
  friend bool operator==(const shape3&, const shape3&) = default;
};

enum class layer_kind {
  conv2d,               ///< out channels, kernel, stride, padding, dilation, groups, bias
  linear,               ///< out features, bias; its input must be flat (h = w = 1)
  max_pool2d,           ///< kernel, stride, padding (padding adds no candidates, as PyTorch's -inf)
  avg_pool2d,           ///< kernel, stride, padding; divisor kh * kw (count_include_pad=True)
  adaptive_avg_pool2d,  ///< output size out_h x out_w (1 x 1: global average pooling)
  flatten,              ///< C x H x W -> (C H W) x 1 x 1, channel-major as torch.flatten
  add,                  ///< two or more inputs of one shape, summed
  relu,
  leaky_relu,  ///< slope
  identity,    ///< also what Dropout is at inference
  batch_norm   ///< inference mode; folded into the Conv2d / Linear it directly follows
};

/// "conv2d", "linear", ...
const char* to_string(layer_kind kind);

/// One layer. Sizes are (height, width) pairs; `inputs` names earlier layers ("input" is the
/// model's input); empty means the layer before it (the model input for the first layer).
struct layer {
  std::string name;
  layer_kind kind = layer_kind::identity;
  std::vector<std::string> inputs;
  std::size_t out = 0;  ///< conv2d out channels, linear out features
  std::size_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  std::size_t groups = 1;            ///< conv2d: in and out channels split into groups (depthwise: groups = in)
  bool bias = false;                 ///< conv2d, linear
  std::size_t out_h = 1, out_w = 1;  ///< adaptive_avg_pool2d
  mpq_class slope = 0;               ///< leaky_relu
};

/// Layer constructors (square kernels; set the fields for rectangular ones).
layer conv2d(std::string name, std::size_t out, std::size_t kernel, std::size_t stride = 1, std::size_t padding = 0,
             bool bias = true, std::size_t groups = 1, std::size_t dilation = 1);
layer linear(std::string name, std::size_t out, bool bias = true);
layer max_pool2d(std::string name, std::size_t kernel, std::size_t stride, std::size_t padding = 0);
layer avg_pool2d(std::string name, std::size_t kernel, std::size_t stride, std::size_t padding = 0);
layer adaptive_avg_pool2d(std::string name, std::size_t out_h, std::size_t out_w);
layer global_avg_pool(std::string name);
layer flatten(std::string name);
layer add(std::string name, std::vector<std::string> inputs);
layer relu(std::string name);
layer leaky_relu(std::string name, const mpq_class& slope);
layer identity(std::string name);
layer batch_norm(std::string name);

/// A model: the input shape and a DAG of layers, each after the layers it reads. The last layer
/// is the output; every other layer must be read by a later one.
struct model {
  shape3 input;
  std::vector<layer> layers;
  /// Appends l (reading `from`, when given and l.inputs is empty) and returns its name.
  const std::string& push(layer l, const std::string& from = {});
};

/// Sizes beyond this (a dimension, a tensor's C H W, a count) are refused as absurd.
inline constexpr double max_layer_size = 1099511627776.0;  // 2^40

/// The output shape of each layer (index as model::layers). @throws invalid_argument naming the
/// layer: unknown or later input, duplicate or empty name, zero sizes or strides, a kernel larger
/// than its padded input, a zero-size output, pooling padding over half the kernel, channels not
/// divisible by groups, Add inputs of different shapes or fewer than two, Linear on a non-flat
/// input, a BatchNorm not directly after a Conv2d / Linear that only it reads, a layer no later
/// layer reads (except the last), sizes beyond max_layer_size.
std::vector<shape3> infer_shapes(const model& m);

struct parameter_counts {
  std::uint64_t pytorch = 0;  ///< as torch counts them: weights, biases, BatchNorm gamma and beta
  std::uint64_t folded = 0;   ///< after folding BatchNorm: weights plus one bias per channel that has one
};
/// @throws invalid_argument as infer_shapes.
parameter_counts count_parameters(const model& m);

/// What unroll() will make, in double (exact below 2^53).
network_size planned_unroll(const model& m);

/// The model as a network: inputs "input[c,i,j]", units "<layer>[c,i,j]" ("<layer>[c]" when flat),
/// one bias node "<layer>.bias" per Conv2d / Linear with a bias (own, or a folded BatchNorm's).
/// Conv kernel entries are shared parameters "<layer>.w[o,i,kh,kw]" (i within the group), Linear
/// weights "<layer>.w[o,i]", biases "<layer>.b[o]". Max pooling: constant edges 1 into max_pool
/// units; average pooling: constant edges 1/(kh kw) (adaptive: 1/window) into linear units, none
/// from padding; Add: constant edges 1 into a linear unit. A Conv2d / Linear / Add whose output only
/// a ReLU / LeakyReLU reads becomes units of that activation; any other ReLU is new units fed by a
/// constant edge 1. The last layer's units are the outputs (through constant edges 1 when they are
/// not linear sums read by nothing else). @throws invalid_argument as infer_shapes, or when the
/// network would have more than max_edges edges (saying how many) or more than max_built_nodes nodes.
network unroll(const model& m, double max_edges);

}  // namespace scaleinv::layers
