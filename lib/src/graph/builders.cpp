// builders.cpp: MLPs, skip MLPs, random DAGs and the spec strings naming them.
#include "scaleinv/graph/builders.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <variant>

#include "builders_detail.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/random.hpp"
#include "scaleinv/io/spec.hpp"

namespace scaleinv {
namespace {
// Refuses a network beyond max_built_edges or max_built_nodes. The counts print as integers,
// exactly, whatever their size (a double past 2^64 has no integer type to go through).
// A planned count in a double is exact up to 2^53; past that it is printed as what it is, rounded.
std::string count_text(double n) {
  return n <= 9007199254740992.0 ? fmt::format("{:.0f}", n) : fmt::format("about {:.4g}", n);
}

std::string layer_node(std::size_t layer, std::size_t layers, std::size_t i) {
  // fmt rather than operator+: GCC 12 warns falsely (-Wrestrict) on "x" + std::to_string(i).
  if (layer == 0) return fmt::format("x{}", i);
  if (layer + 1 == layers) return fmt::format("y{}", i);
  return fmt::format("h{}_{}", layer, i);
}
}  // namespace

namespace detail {
void check_size(const network_size& s, const char* what) {
  if (s.edges > max_built_edges)
    throw invalid_argument(
        fmt::format("{} would have {} edges; the limit is {:.0f}", what, count_text(s.edges), max_built_edges));
  if (s.nodes > max_built_nodes)
    throw invalid_argument(
        fmt::format("{} would have {} nodes; the limit is {:.0f}", what, count_text(s.nodes), max_built_nodes));
}
}  // namespace detail

using detail::check_size;

network_size planned_size(const mlp_options& o) {
  network_size s;
  const std::size_t L = o.widths.size();
  for (std::size_t l = 0; l < L; ++l) {
    const double w = static_cast<double>(o.widths[l]);
    s.nodes += w + (o.bias && l > 0 ? 1 : 0);
    if (l == 0) continue;
    s.edges += w * (static_cast<double>(o.widths[l - 1]) + (o.bias ? 1 : 0));
    if (o.skip_span >= 2 && l >= o.skip_span) {
      const double from = static_cast<double>(o.widths[l - o.skip_span]);
      s.edges += o.widths[l - o.skip_span] == o.widths[l] ? from : from * w;
    }
  }
  return s;
}

network_size planned_size(const random_dag_options& o) {
  // Every hidden unit and output may be fed by every source before it in the order: the inputs,
  // the bias, earlier hidden units. One draw each (make_random_dag).
  const double inputs = static_cast<double>(o.inputs) + (o.bias ? 1 : 0), hidden = static_cast<double>(o.hidden),
               outputs = static_cast<double>(o.outputs);
  network_size s;
  s.nodes = inputs + hidden + outputs;
  s.edges = inputs * (hidden + outputs) + hidden * (hidden - 1) / 2 + hidden * outputs;
  return s;
}

network_size planned_size(const conv_options& o) {
  network_size s;
  const std::size_t L = o.channels.size();
  for (std::size_t l = 0; l < L; ++l) {
    // Positions in layer l, length - l (kernel - 1), in double: no wrap when the spec leaves none.
    const double len = static_cast<double>(o.length) - static_cast<double>(l) * (static_cast<double>(o.kernel) - 1);
    if (len <= 0) break;
    s.nodes += len * static_cast<double>(o.channels[l]) + (o.bias && l > 0 ? 1 : 0);
    if (l > 0)
      s.edges += len * static_cast<double>(o.channels[l]) *
                 (static_cast<double>(o.channels[l - 1]) * static_cast<double>(o.kernel) + (o.bias ? 1 : 0));
  }
  return s;
}

network make_mlp(const mlp_options& o) {
  const std::size_t L = o.widths.size();
  if (L < 2) throw invalid_argument("an MLP needs at least two layers (inputs and outputs)");
  for (std::size_t w : o.widths)
    if (w == 0) throw invalid_argument("an MLP layer has width 0");
  if (o.skip_span == 1) throw invalid_argument("skip span 1 would duplicate the dense edges; use 2 or more");
  const network_size size = planned_size(o);
  check_size(size, "the network");  // before allocating anything
  network net;
  net.reserve(static_cast<std::size_t>(size.nodes), static_cast<std::size_t>(size.edges));
  std::vector<std::vector<node_id>> layer(L);
  for (std::size_t l = 0; l < L; ++l) {
    node_kind kind = l == 0 ? node_kind::input : (l + 1 == L ? node_kind::output : node_kind::hidden);
    for (std::size_t i = 0; i < o.widths[l]; ++i)
      layer[l].push_back(net.add_node(layer_node(l, L, i), kind, kind == node_kind::hidden ? o.act : activation{}));
  }
  std::vector<node_id> bias(L, npos);
  if (o.bias)
    for (std::size_t l = 1; l < L; ++l) bias[l] = net.add_node(fmt::format("b{}", l), node_kind::bias);
  for (std::size_t l = 1; l < L; ++l) {
    for (node_id to : layer[l])
      for (node_id from : layer[l - 1]) net.add_edge(from, to);
    if (o.bias)
      for (node_id to : layer[l]) net.add_edge(bias[l], to);
    if (o.skip_span >= 2 && l >= o.skip_span) {
      const auto& src = layer[l - o.skip_span];
      if (src.size() == layer[l].size()) {
        for (std::size_t i = 0; i < src.size(); ++i) net.add_edge(src[i], layer[l][i]);
      } else {
        for (node_id to : layer[l])
          for (node_id from : src) net.add_edge(from, to);
      }
    }
  }
  net.finalize();
  if (o.init_seed) init_weights(net, *o.init_seed);
  return net;
}

network make_random_dag(const random_dag_options& o) {
  if (!(o.p >= 0.0 && o.p <= 1.0)) throw invalid_argument("random DAG: p must lie in [0, 1]");
  if (!(o.nonhomogeneous >= 0.0 && o.nonhomogeneous <= 1.0))
    throw invalid_argument("random DAG: the tanh fraction must lie in [0, 1]");
  const network_size size = planned_size(o);
  if (size.edges * o.p > max_built_edges) throw invalid_argument("random DAG: too many edges expected");
  if (size.edges > max_random_pairs)
    throw invalid_argument(fmt::format("random DAG: {} candidate edges to draw; the limit is {:.0f}",
                                       count_text(size.edges), max_random_pairs));
  check_size({size.nodes, 0}, "random DAG: the network");
  splitmix64 rng(o.seed);
  network net;
  std::vector<node_id> sources;  // candidate tails, in order
  node_id b = npos;
  if (o.bias) b = net.add_node("b0", node_kind::bias);
  if (o.bias) sources.push_back(b);
  for (std::size_t i = 0; i < o.inputs; ++i) sources.push_back(net.add_node(fmt::format("x{}", i), node_kind::input));
  std::vector<node_id> hidden;
  for (std::size_t i = 0; i < o.hidden; ++i) {
    bool tanh = o.nonhomogeneous > 0 && rng.uniform() < o.nonhomogeneous;
    hidden.push_back(net.add_node(fmt::format("h{}", i), node_kind::hidden, tanh ? activation::tanh() : o.act));
  }
  std::vector<node_id> outputs;
  for (std::size_t i = 0; i < o.outputs; ++i) outputs.push_back(net.add_node(fmt::format("y{}", i), node_kind::output));
  for (node_id h : hidden) {
    for (node_id s : sources)
      if (rng.uniform() < o.p) net.add_edge(s, h);
    sources.push_back(h);
  }
  for (node_id y : outputs)
    for (node_id s : sources)
      if (rng.uniform() < o.p) net.add_edge(s, y);
  net.finalize();
  if (o.init_seed) init_weights(net, *o.init_seed);
  return net;
}

network make_conv1d(const conv_options& o) {
  const std::size_t L = o.channels.size();
  if (L < 2) throw invalid_argument("a convolutional network needs at least two layers of channels");
  if (o.kernel == 0 || o.length == 0) throw invalid_argument("conv: length and kernel must be positive");
  for (std::size_t c : o.channels)
    if (c == 0) throw invalid_argument("conv: a layer has 0 channels");
  // (L - 1)(kernel - 1) >= length, without forming the product (it can pass 2^64).
  if (o.kernel > 1 && L - 1 > (o.length - 1) / (o.kernel - 1))
    throw invalid_argument(
        fmt::format("conv: length {} leaves no positions after {} layers of kernel {}", o.length, L - 1, o.kernel));
  const network_size size = planned_size(o);
  check_size(size, "conv: the network");
  network net;
  net.reserve(static_cast<std::size_t>(size.nodes), static_cast<std::size_t>(size.edges));
  std::vector<std::vector<std::vector<node_id>>> unit(L);  // [layer][channel][position]
  for (std::size_t l = 0; l < L; ++l) {
    const std::size_t len = o.length - l * (o.kernel - 1);
    unit[l].resize(o.channels[l]);
    for (std::size_t c = 0; c < o.channels[l]; ++c) {
      for (std::size_t t = 0; t < len; ++t) {
        if (l == 0) unit[l][c].push_back(net.add_node(fmt::format("x{}_{}", c, t), node_kind::input));
        else if (l + 1 == L) unit[l][c].push_back(net.add_node(fmt::format("y{}_{}", c, t), node_kind::output));
        else unit[l][c].push_back(net.add_node(fmt::format("h{}_{}_{}", l, c, t), node_kind::hidden, o.act));
      }
    }
  }
  for (std::size_t l = 1; l < L; ++l) {
    node_id b = o.bias ? net.add_node(fmt::format("b{}", l), node_kind::bias) : npos;
    for (std::size_t c = 0; c < o.channels[l]; ++c) {
      for (std::size_t t = 0; t < unit[l][c].size(); ++t) {
        for (std::size_t ci = 0; ci < o.channels[l - 1]; ++ci)
          for (std::size_t k = 0; k < o.kernel; ++k)
            net.set_param(net.add_edge(unit[l - 1][ci][t + k], unit[l][c][t]),
                          fmt::format("w{}_{}_{}_{}", l, c, ci, k));
        if (o.bias) net.set_param(net.add_edge(b, unit[l][c][t]), fmt::format("b{}_{}", l, c));
      }
    }
  }
  net.finalize();
  if (o.init_seed) {
    // One draw per parameter, so shared edges carry one value.
    splitmix64 rng(*o.init_seed);
    std::vector<double> per_param(net.param_names().size());
    for (std::size_t k = 0; k < per_param.size(); ++k) {
      const std::string& name = net.param_names()[k];
      std::size_t fan_in =
          name[0] == 'b' ? 1 : o.channels[static_cast<std::size_t>(std::stoul(name.substr(1))) - 1] * o.kernel;
      per_param[k] = rng.normal() * std::sqrt(2.0 / static_cast<double>(fan_in));
    }
    std::vector<double> w(net.num_edges());
    for (edge_id e = 0; e < w.size(); ++e) w[e] = per_param[net.param(e)];
    net.set_weights(w);
  }
  return net;
}

void init_weights(network& net, std::uint64_t seed) {
  splitmix64 rng(seed);
  std::vector<double> w;
  w.reserve(net.num_edges());                                  // filled by push_back: no zeros written first
  std::vector<edge_id> first(net.param_names().size(), npos);  // a shared parameter's first edge
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    std::size_t fan_in = net.in_edges(net.edge_at(e).to).size();
    w.push_back(rng.normal() * std::sqrt(2.0 / static_cast<double>(fan_in)));
    if (const std::uint32_t k = net.param(e); k != npos) {
      if (first[k] == npos) first[k] = e;
      else w[e] = w[first[k]];  // tied: the draw is made (same sequence as without sharing), its first edge's kept
    }
  }
  net.put_constants(w);  // a constant edge keeps its constant (its draw is made all the same)
  net.set_weights(std::move(w));
}

bool is_spec(std::string_view text) {
  for (std::string_view prefix : {"mlp:", "skip:", "random:", "conv:", "cnn:", "zoo:", "example:"})
    if (text.substr(0, prefix.size()) == prefix) return true;
  return false;
}

namespace detail {
activation parse_spec_activation(const spec_parser& p, std::string_view text) {
  try {
    return activation::parse(text);
  } catch (const invalid_argument& e) { p.fail(e.what()); }
}
}  // namespace detail

namespace {
activation parse_activation(const spec_parser& p, std::string_view text) {
  return detail::parse_spec_activation(p, text);
}
}  // namespace

network_spec parse_network_spec(std::string_view spec) {
  spec_parser p{"network spec '" + std::string(spec) + "'"};
  const spec_parts parts = split_spec(spec);
  if (!parts.has_colon) p.fail("expected KIND:..., with KIND one of mlp, skip, random, conv, cnn, example");
  std::string_view kind = parts.kind;
  const std::vector<std::string_view>& tokens = parts.tokens;
  for (std::size_t i = 1; i < tokens.size(); ++i)
    if (tokens[i].empty()) p.fail("empty option (a stray comma?)");
  if (kind == "mlp" || kind == "skip") {
    mlp_options o;
    if (tokens[0].empty()) p.fail("expected layer widths such as 784-500-10 after '" + std::string(kind) + ":'");
    for (auto w : split_on(tokens[0], '-')) {
      std::uint64_t width = p.integer(w, "layer width");
      if (width == 0) p.fail("layer width 0: every layer needs at least one unit");
      o.widths.push_back(static_cast<std::size_t>(width));
    }
    if (o.widths.size() < 2)
      p.fail("an MLP needs at least two layers (inputs-outputs), got '" + std::string(tokens[0]) + "'");
    if (kind == "skip") o.skip_span = 2;
    for (std::size_t i = 1; i < tokens.size(); ++i) {
      auto [key, value, is_flag] = split_option(tokens[i]);
      if (key == "bias" && is_flag) o.bias = true;
      else if (key == "act" && !value.empty()) o.act = parse_activation(p, value);
      else if (key == "init" && !value.empty()) o.init_seed = p.integer(value, "init seed");
      else if (key == "span" && kind == "skip" && !value.empty()) {
        o.skip_span = static_cast<std::size_t>(p.integer(value, "skip span"));
        if (o.skip_span < 2) p.fail("skip span must be at least 2 (span 1 is the dense edges)");
      } else {
        p.fail("unknown option '" + std::string(tokens[i]) + "' (expected bias, act=A, init=S" +
               std::string(kind == "skip" ? ", span=K" : "") + ")");
      }
    }
    return {std::string(spec), o};
  }
  if (kind == "random") {
    random_dag_options o;
    bool seen_seed = false;
    if (tokens.size() == 1 && tokens[0].empty()) p.fail("a random DAG needs seed=S, so that it can be made again");
    if (tokens[0].empty()) p.fail("empty option (a stray comma?)");
    for (auto token : tokens) {
      auto [key, value, is_flag] = split_option(token);
      if (key == "bias" && is_flag) o.bias = true;
      else if (is_flag || value.empty()) p.fail("option '" + std::string(token) + "' needs a value (KEY=VALUE)");
      else if (key == "seed") {
        o.seed = p.integer(value, "seed");
        seen_seed = true;
      } else if (key == "inputs") o.inputs = static_cast<std::size_t>(p.integer(value, "inputs"));
      else if (key == "hidden") o.hidden = static_cast<std::size_t>(p.integer(value, "hidden"));
      else if (key == "outputs") o.outputs = static_cast<std::size_t>(p.integer(value, "outputs"));
      else if (key == "p") {
        o.p = p.real(value, "p");
        if (o.p < 0 || o.p > 1) p.fail("p = " + std::string(value) + " is not a probability in [0, 1]");
      } else if (key == "tanh") {
        o.nonhomogeneous = p.real(value, "tanh fraction");
        if (o.nonhomogeneous < 0 || o.nonhomogeneous > 1)
          p.fail("tanh = " + std::string(value) + " is not a fraction in [0, 1]");
      } else if (key == "act") o.act = parse_activation(p, value);
      else if (key == "init") o.init_seed = p.integer(value, "init seed");
      else
        p.fail("unknown option '" + std::string(token) +
               "' (expected seed, inputs, hidden, outputs, p, bias, act, tanh, init)");
    }
    if (!seen_seed) p.fail("a random DAG needs seed=S, so that it can be made again");
    return {std::string(spec), o};
  }
  if (kind == "conv") {
    conv_options o;
    bool seen_len = false, seen_ch = false, seen_k = false;
    for (auto token : tokens) {
      auto [key, value, is_flag] = split_option(token);
      if (key == "bias" && is_flag) o.bias = true;
      else if (is_flag || value.empty()) p.fail("option '" + std::string(token) + "' needs a value (KEY=VALUE)");
      else if (key == "len") {
        o.length = static_cast<std::size_t>(p.integer(value, "length"));
        seen_len = true;
      } else if (key == "k") {
        o.kernel = static_cast<std::size_t>(p.integer(value, "kernel"));
        seen_k = true;
      } else if (key == "ch") {
        o.channels.clear();
        for (auto c : split_on(value, '-'))
          o.channels.push_back(static_cast<std::size_t>(p.integer(c, "channel count")));
        seen_ch = true;
      } else if (key == "act") o.act = parse_activation(p, value);
      else if (key == "init") o.init_seed = p.integer(value, "init seed");
      else p.fail("unknown option '" + std::string(token) + "' (expected len, ch, k, bias, act, init)");
    }
    if (!seen_len || !seen_ch || !seen_k) p.fail("a conv spec needs len=L, ch=C0-C1-... and k=K");
    return {std::string(spec), o};
  }
  if (kind == "cnn") return {std::string(spec), detail::parse_cnn_options(p, tokens)};
  p.fail("unknown network kind '" + std::string(kind) + "' (expected mlp, skip, random, conv, cnn or example)");
}

network_size planned_size(const network_spec& spec) {
  return std::visit([](const auto& o) { return planned_size(o); }, spec.options);
}

namespace {
network make(const mlp_options& o) { return make_mlp(o); }
network make(const random_dag_options& o) { return make_random_dag(o); }
network make(const conv_options& o) { return make_conv1d(o); }
network make(const cnn_options& o) { return make_cnn(o); }
}  // namespace

network build(const network_spec& spec) {
  try {
    return std::visit([](const auto& o) { return make(o); }, spec.options);
  } catch (const invalid_argument& e) { throw parse_error("network spec '" + spec.text + "'", 0, 0, e.what()); }
}

network from_spec(std::string_view spec) { return build(parse_network_spec(spec)); }

}  // namespace scaleinv
