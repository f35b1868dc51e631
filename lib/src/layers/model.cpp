// model.cpp: layer constructors, shape inference and parameter counts of layer-level models.
#include "scaleinv/layers/model.hpp"

#include <fmt/format.h>

#include <cmath>
#include <unordered_map>
#include <utility>

#include "scaleinv/error.hpp"

namespace scaleinv::layers {

const char* to_string(layer_kind kind) {
  switch (kind) {
    case layer_kind::conv2d:
      return "Conv2d";
    case layer_kind::linear:
      return "Linear";
    case layer_kind::max_pool2d:
      return "MaxPool2d";
    case layer_kind::avg_pool2d:
      return "AvgPool2d";
    case layer_kind::adaptive_avg_pool2d:
      return "AdaptiveAvgPool2d";
    case layer_kind::flatten:
      return "Flatten";
    case layer_kind::add:
      return "Add";
    case layer_kind::relu:
      return "ReLU";
    case layer_kind::leaky_relu:
      return "LeakyReLU";
    case layer_kind::identity:
      return "Identity";
    case layer_kind::batch_norm:
      return "BatchNorm";
  }
  return "?";
}

namespace {
layer make(std::string name, layer_kind kind) {
  layer l;
  l.name = std::move(name);
  l.kind = kind;
  return l;
}
layer pool(std::string name, layer_kind kind, std::size_t kernel, std::size_t stride, std::size_t padding) {
  layer l = make(std::move(name), kind);
  l.kh = l.kw = kernel;
  l.sh = l.sw = stride;
  l.ph = l.pw = padding;
  return l;
}
}  // namespace

layer conv2d(std::string name, std::size_t out, std::size_t kernel, std::size_t stride, std::size_t padding, bool bias,
             std::size_t groups, std::size_t dilation) {
  layer l = pool(std::move(name), layer_kind::conv2d, kernel, stride, padding);
  l.out = out;
  l.bias = bias;
  l.groups = groups;
  l.dh = l.dw = dilation;
  return l;
}
layer linear(std::string name, std::size_t out, bool bias) {
  layer l = make(std::move(name), layer_kind::linear);
  l.out = out;
  l.bias = bias;
  return l;
}
layer max_pool2d(std::string name, std::size_t kernel, std::size_t stride, std::size_t padding) {
  return pool(std::move(name), layer_kind::max_pool2d, kernel, stride, padding);
}
layer avg_pool2d(std::string name, std::size_t kernel, std::size_t stride, std::size_t padding) {
  return pool(std::move(name), layer_kind::avg_pool2d, kernel, stride, padding);
}
layer adaptive_avg_pool2d(std::string name, std::size_t out_h, std::size_t out_w) {
  layer l = make(std::move(name), layer_kind::adaptive_avg_pool2d);
  l.out_h = out_h;
  l.out_w = out_w;
  return l;
}
layer global_avg_pool(std::string name) { return adaptive_avg_pool2d(std::move(name), 1, 1); }
layer flatten(std::string name) { return make(std::move(name), layer_kind::flatten); }
layer add(std::string name, std::vector<std::string> inputs) {
  layer l = make(std::move(name), layer_kind::add);
  l.inputs = std::move(inputs);
  return l;
}
layer relu(std::string name) { return make(std::move(name), layer_kind::relu); }
layer leaky_relu(std::string name, const mpq_class& slope) {
  layer l = make(std::move(name), layer_kind::leaky_relu);
  l.slope = slope;
  return l;
}
layer identity(std::string name) { return make(std::move(name), layer_kind::identity); }
layer batch_norm(std::string name) { return make(std::move(name), layer_kind::batch_norm); }

const std::string& model::push(layer l, const std::string& from) {
  if (l.inputs.empty() && !from.empty()) l.inputs.push_back(from);
  layers.push_back(std::move(l));
  return layers.back().name;
}

namespace {

// Sizes in double: every product of sizes is formed there and checked against 2^40 first.
struct dshape {
  double c, h, w;
};

[[noreturn]] void fail(const layer& l, const std::string& what) {
  throw invalid_argument(fmt::format("layer '{}' ({}): {}", l.name, to_string(l.kind), what));
}

void check_size(const layer& l, double x, const char* what) {
  if (!(x <= max_layer_size)) fail(l, fmt::format("{} {:.4g} is beyond 2^40", what, x));
}

// One spatial dimension of a window (conv or pool): the output size, refusing a window larger
// than the padded input or an output of size 0.
double window_out(const layer& l, double in, double k, double s, double p, double d, const char* dim) {
  if (k == 0 || s == 0 || d == 0) fail(l, fmt::format("kernel, stride and dilation must be positive ({})", dim));
  const double span = d * (k - 1) + 1, padded = in + 2 * p;
  if (span > padded)
    fail(l, fmt::format("kernel {} (dilated span {:.0f}) is larger than its padded input {:.0f} ({})", k, span, padded,
                        dim));
  return std::floor((padded - span) / s) + 1;
}

dshape layer_shape(const layer& l, const std::vector<dshape>& in) {
  const dshape& x = in[0];
  const auto D = [](std::size_t v) { return static_cast<double>(v); };
  switch (l.kind) {
    case layer_kind::conv2d: {
      if (l.out == 0) fail(l, "0 output channels");
      if (l.groups == 0) fail(l, "0 groups");
      if (std::fmod(x.c, D(l.groups)) != 0 || l.out % l.groups != 0)
        fail(l, fmt::format("in channels {:.0f} and out channels {} are not both divisible by groups {}", x.c, l.out,
                            l.groups));
      return {D(l.out), window_out(l, x.h, D(l.kh), D(l.sh), D(l.ph), D(l.dh), "height"),
              window_out(l, x.w, D(l.kw), D(l.sw), D(l.pw), D(l.dw), "width")};
    }
    case layer_kind::linear:
      if (l.out == 0) fail(l, "0 output features");
      if (x.h != 1 || x.w != 1)
        fail(l, fmt::format("its input {:.0f}x{:.0f}x{:.0f} is not flat (put a Flatten before it)", x.c, x.h, x.w));
      return {D(l.out), 1, 1};
    case layer_kind::max_pool2d:
    case layer_kind::avg_pool2d:
      if (2 * l.ph > l.kh || 2 * l.pw > l.kw) fail(l, "padding must be at most half the kernel");
      return {x.c, window_out(l, x.h, D(l.kh), D(l.sh), D(l.ph), 1, "height"),
              window_out(l, x.w, D(l.kw), D(l.sw), D(l.pw), 1, "width")};
    case layer_kind::adaptive_avg_pool2d:
      if (l.out_h == 0 || l.out_w == 0) fail(l, "output size 0");
      return {x.c, D(l.out_h), D(l.out_w)};
    case layer_kind::flatten:
      return {x.c * x.h * x.w, 1, 1};
    case layer_kind::add:
      if (in.size() < 2) fail(l, "needs two or more inputs");
      for (std::size_t i = 1; i < in.size(); ++i)
        if (in[i].c != x.c || in[i].h != x.h || in[i].w != x.w)
          fail(l, fmt::format("input '{}' is {:.0f}x{:.0f}x{:.0f}, input '{}' is {:.0f}x{:.0f}x{:.0f}", l.inputs[0],
                              x.c, x.h, x.w, l.inputs[i], in[i].c, in[i].h, in[i].w));
      return x;
    default:
      return x;
  }
}

std::size_t arity(layer_kind k) { return k == layer_kind::add ? 0 : 1; }

}  // namespace

std::vector<shape3> infer_shapes(const model& m) {
  if (m.input.c == 0 || m.input.h == 0 || m.input.w == 0)
    throw invalid_argument(fmt::format("model input {}x{}x{} has a zero size", m.input.c, m.input.h, m.input.w));
  const double input_size =
      static_cast<double>(m.input.c) * static_cast<double>(m.input.h) * static_cast<double>(m.input.w);
  if (!(input_size <= max_layer_size))
    throw invalid_argument(fmt::format("model input {}x{}x{} is beyond 2^40 values", m.input.c, m.input.h, m.input.w));
  if (m.layers.empty()) throw invalid_argument("model has no layers");
  std::unordered_map<std::string, std::size_t> index;  // name -> layer, input = npos
  std::vector<dshape> ds;
  std::vector<std::size_t> readers(m.layers.size(), 0);
  std::vector<std::pair<std::size_t, std::size_t>> bn_of;  // (BatchNorm, the layer it folds into)
  const auto D = [](std::size_t v) { return static_cast<double>(v); };
  const dshape input{D(m.input.c), D(m.input.h), D(m.input.w)};
  for (std::size_t li = 0; li < m.layers.size(); ++li) {
    const layer& l = m.layers[li];
    if (l.name.empty() || l.name == "input") throw invalid_argument(fmt::format("layer {} has no usable name", li + 1));
    if (index.count(l.name)) fail(l, "a second layer of this name");
    std::vector<std::string> names = l.inputs;
    if (names.empty()) names.push_back(li == 0 ? "input" : m.layers[li - 1].name);
    if (arity(l.kind) == 1 && names.size() != 1) fail(l, fmt::format("takes one input, not {}", names.size()));
    std::vector<dshape> in;
    for (const std::string& n : names) {
      if (n == "input") {
        in.push_back(input);
        continue;
      }
      auto it = index.find(n);
      if (it == index.end()) fail(l, "reads '" + n + "', which is no earlier layer");
      in.push_back(ds[it->second]);
      ++readers[it->second];
    }
    if (l.kind == layer_kind::batch_norm) {
      auto it = index.find(names[0]);
      const layer* prev = it == index.end() ? nullptr : &m.layers[it->second];
      if (!prev || (prev->kind != layer_kind::conv2d && prev->kind != layer_kind::linear))
        fail(l, "does not directly follow a Conv2d or Linear, so it cannot be folded into one");
      bn_of.emplace_back(li, it->second);
    }
    if (l.kind == layer_kind::leaky_relu && l.slope < 0) fail(l, "negative slope");
    const dshape s = layer_shape(l, in);
    if (!(s.h >= 1 && s.w >= 1 && s.c >= 1)) fail(l, "its output has a zero size");
    check_size(l, s.c, "channels");
    check_size(l, s.h, "height");
    check_size(l, s.w, "width");
    check_size(l, s.c * s.h * s.w, "output size");
    index.emplace(l.name, li);
    ds.push_back(s);
  }
  for (std::size_t li = 0; li + 1 < m.layers.size(); ++li) {
    if (readers[li] == 0) fail(m.layers[li], "no later layer reads it (only the last layer is the output)");
  }
  for (const auto& [bn, conv] : bn_of)
    if (readers[conv] != 1)
      fail(m.layers[bn], "its " + std::string(to_string(m.layers[conv].kind)) + " '" + m.layers[conv].name +
                             "' is read by other layers too, so it cannot be folded");
  std::vector<shape3> out;
  out.reserve(ds.size());
  for (const dshape& s : ds)
    out.push_back({static_cast<std::size_t>(s.c), static_cast<std::size_t>(s.h), static_cast<std::size_t>(s.w)});
  return out;
}

parameter_counts count_parameters(const model& m) {
  const std::vector<shape3> s = infer_shapes(m);
  double pytorch = 0, folded = 0;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t li = 0; li < m.layers.size(); ++li) {
    const layer& l = m.layers[li];
    index.emplace(l.name, li);
    const std::string& src = l.inputs.empty() ? (li == 0 ? std::string("input") : m.layers[li - 1].name) : l.inputs[0];
    const shape3 in = src == "input" ? m.input : s[index.at(src)];
    const double out = static_cast<double>(s[li].c);
    if (l.kind == layer_kind::conv2d || l.kind == layer_kind::linear) {
      double w = l.kind == layer_kind::linear ? out * static_cast<double>(in.c)
                                              : out * static_cast<double>(in.c / l.groups) * static_cast<double>(l.kh) *
                                                    static_cast<double>(l.kw);
      pytorch += w + (l.bias ? out : 0);
      folded += w + (l.bias ? out : 0);
    } else if (l.kind == layer_kind::batch_norm) {
      pytorch += 2 * out;
      if (!m.layers[index.at(src)].bias) folded += out;  // the folded beta becomes the conv's bias
    }
  }
  if (!(pytorch <= 9007199254740992.0)) throw invalid_argument("model: more than 2^53 parameters");
  return {static_cast<std::uint64_t>(pytorch), static_cast<std::uint64_t>(folded)};
}

}  // namespace scaleinv::layers
