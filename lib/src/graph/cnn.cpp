// cnn.cpp: 2-D convolutional networks (conv, max and average pooling as constant edges, dense
// layers) and the "cnn:" spec that names them (builders.hpp, cnn_options).
#include <fmt/format.h>

#include <string>

#include "builders_detail.hpp"
#include "scaleinv/error.hpp"

namespace scaleinv {
namespace {

using kind_t = cnn_layer::kind_t;

// The shape after each layer: channels x height x width (an fc layer is units x 1 x 1), in double
// so that no product of sizes can wrap; the first entry is the input. Refuses a layer that leaves
// no positions, naming it.
struct shape {
  double c = 0, h = 0, w = 0;
};

std::string layer_text(const cnn_layer& l) {
  switch (l.kind) {
    case kind_t::conv:
      return fmt::format("c{}k{}", l.channels, l.size);
    case kind_t::max_pool:
      return fmt::format("max{}", l.size);
    case kind_t::avg_pool:
      return fmt::format("avg{}", l.size);
    case kind_t::fc:
      return fmt::format("fc{}", l.channels);
  }
  return "?";
}

std::vector<shape> shapes(const cnn_options& o) {
  if (o.channels == 0 || o.height == 0 || o.width == 0)
    throw invalid_argument(fmt::format("cnn: the input {}x{}x{} has a zero size", o.channels, o.height, o.width));
  if (o.layers.empty()) throw invalid_argument("cnn: no layers (give layers=..., ending in a conv or fc layer)");
  std::vector<shape> s{{static_cast<double>(o.channels), static_cast<double>(o.height), static_cast<double>(o.width)}};
  bool dense = false;
  for (std::size_t i = 0; i < o.layers.size(); ++i) {
    const cnn_layer& l = o.layers[i];
    const std::string where = fmt::format("cnn: layer {} ({})", i + 1, layer_text(l));
    const shape& in = s.back();
    const auto k = static_cast<double>(l.size);
    if (dense && l.kind != kind_t::fc)
      throw invalid_argument(where + " follows a dense layer: conv and pooling need positions, an fc layer has none");
    if (l.kind == kind_t::fc) {
      if (l.channels == 0) throw invalid_argument(where + " has 0 units");
      s.push_back({static_cast<double>(l.channels), 1, 1});
      dense = true;
      continue;
    }
    if (l.size == 0) throw invalid_argument(where + " has size 0");
    if (l.kind == kind_t::conv) {
      if (l.channels == 0) throw invalid_argument(where + " has 0 channels");
      if (k > in.h || k > in.w)
        throw invalid_argument(
            fmt::format("{}: kernel {} is larger than its {:.0f}x{:.0f} input", where, l.size, in.h, in.w));
      s.push_back({static_cast<double>(l.channels), in.h - k + 1, in.w - k + 1});
    } else {
      if (k > in.h || k > in.w)
        throw invalid_argument(
            fmt::format("{}: window {} is larger than its {:.0f}x{:.0f} input", where, l.size, in.h, in.w));
      s.push_back({in.c, std::floor(in.h / k), std::floor(in.w / k)});
    }
  }
  if (o.layers.back().kind == kind_t::max_pool || o.layers.back().kind == kind_t::avg_pool)
    throw invalid_argument("cnn: the last layer is the output and must be conv or fc, not pooling (" +
                           layer_text(o.layers.back()) + ")");
  return s;
}

// One layer's units, [channel][i][j] flattened channel-major, as a dense fc layer reads them.
struct layer_units {
  std::size_t c = 0, h = 0, w = 0;
  std::vector<node_id> id;
  node_id at(std::size_t ch, std::size_t i, std::size_t j) const { return id[(ch * h + i) * w + j]; }
};

layer_units add_units(network& net, const shape& s, std::size_t l, bool output, bool flat, const activation& act) {
  layer_units u{static_cast<std::size_t>(s.c), static_cast<std::size_t>(s.h), static_cast<std::size_t>(s.w), {}};
  u.id.reserve(u.c * u.h * u.w);
  for (std::size_t c = 0; c < u.c; ++c)
    for (std::size_t i = 0; i < u.h; ++i)
      for (std::size_t j = 0; j < u.w; ++j) {
        if (l == 0) u.id.push_back(net.add_node(fmt::format("x{}_{}_{}", c, i, j), node_kind::input));
        else if (output && flat) u.id.push_back(net.add_node(fmt::format("y{}", c), node_kind::output));
        else if (output) u.id.push_back(net.add_node(fmt::format("y{}_{}_{}", c, i, j), node_kind::output));
        else if (flat) u.id.push_back(net.add_node(fmt::format("h{}_{}", l, c), node_kind::hidden, act));
        else u.id.push_back(net.add_node(fmt::format("h{}_{}_{}_{}", l, c, i, j), node_kind::hidden, act));
      }
  return u;
}

void connect(network& net, const layer_units& in, const layer_units& out, const cnn_layer& layer, std::size_t l,
             bool bias) {
  const node_id b = bias && (layer.kind == kind_t::conv || layer.kind == kind_t::fc)
                        ? net.add_node(fmt::format("b{}", l), node_kind::bias)
                        : npos;
  const std::size_t k = layer.size;
  for (std::size_t c = 0; c < out.c; ++c)
    for (std::size_t i = 0; i < out.h; ++i)
      for (std::size_t j = 0; j < out.w; ++j) {
        const node_id v = out.at(c, i, j);
        switch (layer.kind) {
          case kind_t::conv:
            for (std::size_t ci = 0; ci < in.c; ++ci)
              for (std::size_t di = 0; di < k; ++di)
                for (std::size_t dj = 0; dj < k; ++dj)
                  net.set_param(net.add_edge(in.at(ci, i + di, j + dj), v),
                                fmt::format("w{}_{}_{}_{}_{}", l, c, ci, di, dj));
            if (b != npos) net.set_param(net.add_edge(b, v), fmt::format("b{}_{}", l, c));
            break;
          case kind_t::max_pool:
          case kind_t::avg_pool:
            for (std::size_t di = 0; di < k; ++di)
              for (std::size_t dj = 0; dj < k; ++dj)
                net.set_constant(net.add_edge(in.at(c, i * k + di, j * k + dj), v));
            break;
          case kind_t::fc:
            for (node_id u : in.id) net.add_edge(u, v);
            if (b != npos) net.add_edge(b, v);
            break;
        }
      }
}

}  // namespace

network_size planned_size(const cnn_options& o) {
  const std::vector<shape> s = shapes(o);
  network_size n;
  n.nodes = s[0].c * s[0].h * s[0].w;
  for (std::size_t l = 1; l < s.size(); ++l) {
    const cnn_layer& layer = o.layers[l - 1];
    const double units = s[l].c * s[l].h * s[l].w, k = static_cast<double>(layer.size);
    const bool trained = layer.kind == kind_t::conv || layer.kind == kind_t::fc;
    n.nodes += units + (o.bias && trained ? 1 : 0);
    double fan_in = 0;
    if (layer.kind == kind_t::conv) fan_in = s[l - 1].c * k * k;
    else if (layer.kind == kind_t::fc) fan_in = s[l - 1].c * s[l - 1].h * s[l - 1].w;
    else fan_in = k * k;
    n.edges += units * (fan_in + (o.bias && trained ? 1 : 0));
  }
  return n;
}

network make_cnn(const cnn_options& o) {
  detail::check_size(planned_size(o), "cnn: the network");
  const std::vector<shape> s = shapes(o);
  network net;
  std::vector<layer_units> units;
  for (std::size_t l = 0; l < s.size(); ++l) {
    activation act = o.act;
    if (l > 0 && o.layers[l - 1].kind == kind_t::max_pool) act = activation::max_pool();
    if (l > 0 && o.layers[l - 1].kind == kind_t::avg_pool) act = activation::avg_pool();
    const bool flat = l > 0 && o.layers[l - 1].kind == kind_t::fc;
    units.push_back(add_units(net, s[l], l, l + 1 == s.size(), flat, act));
  }
  for (std::size_t l = 1; l < s.size(); ++l) connect(net, units[l - 1], units[l], o.layers[l - 1], l, o.bias);
  net.finalize();
  if (o.init_seed) init_weights(net, *o.init_seed);
  return net;
}

namespace detail {

cnn_options parse_cnn_options(const spec_parser& p, const std::vector<std::string_view>& tokens) {
  cnn_options o;
  bool seen_in = false, seen_layers = false;
  for (auto token : tokens) {
    auto [key, value, is_flag] = split_option(token);
    if (key == "bias" && is_flag) o.bias = true;
    else if (is_flag || value.empty()) p.fail("option '" + std::string(token) + "' needs a value (KEY=VALUE)");
    else if (key == "in") {
      const std::vector<std::string_view> dims = split_on(value, 'x');
      if (dims.size() != 3)
        p.fail("in='" + std::string(value) + "' is not CxHxW (channels x height x width, as 1x28x28)");
      o.channels = p.positive(dims[0], "input channels");
      o.height = p.positive(dims[1], "input height");
      o.width = p.positive(dims[2], "input width");
      seen_in = true;
    } else if (key == "layers") {
      o.layers.clear();
      for (auto text : split_on(value, '-')) {
        cnn_layer l;
        const std::string t(text);
        const auto k = t.find('k');
        if (t.rfind("fc", 0) == 0) {
          l.kind = kind_t::fc;
          l.channels = p.positive(text.substr(2), "fc units");
        } else if (t.rfind("max", 0) == 0 || t.rfind("avg", 0) == 0) {
          l.kind = t[0] == 'm' ? kind_t::max_pool : kind_t::avg_pool;
          l.size = p.positive(text.substr(3), "pooling window");
        } else if (t.rfind('c', 0) == 0 && k != std::string::npos) {
          l.kind = kind_t::conv;
          l.channels = p.positive(text.substr(1, k - 1), "conv channels");
          l.size = p.positive(text.substr(k + 1), "conv kernel");
        } else {
          p.fail("layer '" + t + "' is none of c<C>k<K> (conv), max<P>, avg<P> (pooling), fc<N> (dense)");
        }
        o.layers.push_back(l);
      }
      seen_layers = true;
    } else if (key == "act") o.act = parse_spec_activation(p, value);
    else if (key == "init") o.init_seed = p.integer(value, "init seed");
    else p.fail("unknown option '" + std::string(token) + "' (expected in, layers, bias, act, init)");
  }
  if (!seen_in || !seen_layers) p.fail("a cnn spec needs in=CxHxW and layers=... (such as c8k3-max2-fc10)");
  try {
    (void)shapes(o);  // a layer that leaves no positions is a spec error, found before building
  } catch (const invalid_argument& e) { p.fail(e.what()); }
  return o;
}

}  // namespace detail
}  // namespace scaleinv
