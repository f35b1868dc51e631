// unroll.cpp: a layer-level model as a network, one node per channel and position (model.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "scaleinv/error.hpp"
#include "scaleinv/layers/model.hpp"

namespace scaleinv::layers {
namespace {

constexpr int kInput = -1;

bool makes_sum(layer_kind k) { return k == layer_kind::conv2d || k == layer_kind::linear || k == layer_kind::add; }
bool is_alias(layer_kind k) {
  return k == layer_kind::identity || k == layer_kind::flatten || k == layer_kind::batch_norm;
}
bool is_activation(layer_kind k) { return k == layer_kind::relu || k == layer_kind::leaky_relu; }

// Which layer made the units each layer's output is (aliases and fused activations reuse units),
// the activation of each made layer's units, and how the last layer reaches the outputs.
struct plan {
  std::vector<std::vector<int>> inputs;  // per layer: the layers it reads (kInput: the model input)
  std::vector<int> owner;
  std::vector<activation> act;  // per layer that makes units
  std::vector<char> biased;     // Conv2d / Linear with a bias, its own or a folded BatchNorm's
  bool direct_output = false;   // the last layer's units are the outputs themselves
};

activation activation_of(const layer& l) {
  return l.kind == layer_kind::leaky_relu ? activation::leaky_relu(l.slope) : activation::relu();
}

plan make_plan(const model& m) {
  const std::size_t L = m.layers.size();
  plan p;
  std::unordered_map<std::string, int> index;
  p.inputs.resize(L);
  for (std::size_t li = 0; li < L; ++li) {
    const layer& l = m.layers[li];
    if (l.inputs.empty()) p.inputs[li].push_back(li == 0 ? kInput : static_cast<int>(li) - 1);
    for (const std::string& n : l.inputs) p.inputs[li].push_back(n == "input" ? kInput : index.at(n));
    index.emplace(l.name, static_cast<int>(li));
  }
  // Pass 1: every activation layer makes units; count the readers of each layer's units.
  std::vector<int> owner1(L);
  std::vector<std::size_t> readers(L + 1, 0);  // index owner + 1
  for (std::size_t li = 0; li < L; ++li) {
    const layer_kind k = m.layers[li].kind;
    owner1[li] = is_alias(k) ? (p.inputs[li][0] == kInput ? kInput : owner1[p.inputs[li][0]]) : static_cast<int>(li);
    if (!is_alias(k))
      for (int i : p.inputs[li]) ++readers[(i == kInput ? kInput : owner1[i]) + 1];
  }
  ++readers[owner1[L - 1] + 1];
  // Pass 2: an activation read from a sum that only it reads becomes that sum's activation.
  p.owner.assign(L, kInput);
  p.act.assign(L, activation::linear());
  p.biased.assign(L, 0);
  for (std::size_t li = 0; li < L; ++li) {
    const layer& l = m.layers[li];
    const int in = p.inputs[li][0];
    const int o = in == kInput ? kInput : p.owner[in];
    if (l.kind == layer_kind::batch_norm) p.biased[in] = 1;
    if (is_alias(l.kind)) {
      p.owner[li] = o;
    } else if (is_activation(l.kind) && o != kInput && makes_sum(m.layers[o].kind) &&
               p.act[o].kind == activation_kind::linear && readers[owner1[in] + 1] == 1 && owner1[in] == o) {
      p.owner[li] = o;
      p.act[o] = activation_of(l);
    } else {
      p.owner[li] = static_cast<int>(li);
      if (is_activation(l.kind)) p.act[li] = activation_of(l);
      if (l.kind == layer_kind::max_pool2d) p.act[li] = activation::max_pool();
      if ((l.kind == layer_kind::conv2d || l.kind == layer_kind::linear) && l.bias) p.biased[li] = 1;
    }
  }
  const int f = p.owner[L - 1];
  if (f == kInput) throw invalid_argument("model: the last layer's output is the model input (nothing is computed)");
  p.direct_output = p.act[f].kind == activation_kind::linear && readers[owner1[L - 1] + 1] == 1 && owner1[L - 1] == f &&
                    m.layers[f].kind != layer_kind::max_pool2d;
  return p;
}

struct tensor {
  shape3 s;
  std::vector<node_id> id;
  node_id at(std::size_t c, std::size_t i, std::size_t j) const { return id[(c * s.h + i) * s.w + j]; }
};

std::string unit_name(const std::string& layer, const shape3& s, std::size_t c, std::size_t i, std::size_t j) {
  return s.h == 1 && s.w == 1 ? fmt::format("{}[{}]", layer, c) : fmt::format("{}[{},{},{}]", layer, c, i, j);
}

tensor make_units(network& net, const std::string& name, const shape3& s, node_kind kind, const activation& act) {
  tensor t{s, {}};
  t.id.reserve(s.c * s.h * s.w);
  for (std::size_t c = 0; c < s.c; ++c)
    for (std::size_t i = 0; i < s.h; ++i)
      for (std::size_t j = 0; j < s.w; ++j)
        t.id.push_back(net.add_node(
            kind == node_kind::input ? fmt::format("input[{},{},{}]", c, i, j) : unit_name(name, s, c, i, j), kind,
            kind == node_kind::hidden ? act : activation{}));
  return t;
}

// The input positions a window at output position o reads in one dimension: first tap index and
// the taps that fall inside [0, in).
struct taps {
  std::vector<std::size_t> k;  // tap indices in range
};
taps window(std::size_t o, std::size_t in, std::size_t k, std::size_t s, std::size_t p, std::size_t d) {
  taps t;
  for (std::size_t a = 0; a < k; ++a) {
    const long pos = static_cast<long>(o * s + a * d) - static_cast<long>(p);
    if (pos >= 0 && pos < static_cast<long>(in)) t.k.push_back(a);
  }
  return t;
}
std::size_t tap_pos(std::size_t o, std::size_t a, std::size_t s, std::size_t p, std::size_t d) {
  return o * s + a * d - p;
}

void connect_conv(network& net, const layer& l, const tensor& in, const tensor& out, node_id bias) {
  const std::size_t gin = in.s.c / l.groups, gout = out.s.c / l.groups;
  const bool flat = l.kind == layer_kind::linear;
  for (std::size_t o = 0; o < out.s.c; ++o) {
    const std::size_t g = o / gout;
    std::vector<std::string> names(gin * l.kh * l.kw);
    for (std::size_t i = 0; i < gin; ++i)
      for (std::size_t a = 0; a < l.kh; ++a)
        for (std::size_t b = 0; b < l.kw; ++b)
          names[(i * l.kh + a) * l.kw + b] =
              flat ? fmt::format("{}.w[{},{}]", l.name, o, i) : fmt::format("{}.w[{},{},{},{}]", l.name, o, i, a, b);
    const std::string bname = fmt::format("{}.b[{}]", l.name, o);
    for (std::size_t y = 0; y < out.s.h; ++y) {
      const taps ty = window(y, in.s.h, l.kh, l.sh, l.ph, l.dh);
      for (std::size_t x = 0; x < out.s.w; ++x) {
        const taps tx = window(x, in.s.w, l.kw, l.sw, l.pw, l.dw);
        const node_id v = out.at(o, y, x);
        for (std::size_t i = 0; i < gin; ++i)
          for (std::size_t a : ty.k)
            for (std::size_t b : tx.k)
              net.set_param(
                  net.add_edge(in.at(g * gin + i, tap_pos(y, a, l.sh, l.ph, l.dh), tap_pos(x, b, l.sw, l.pw, l.dw)), v),
                  names[(i * l.kh + a) * l.kw + b]);
        if (bias != npos) net.set_param(net.add_edge(bias, v), bname);
      }
    }
  }
}

// Pooling windows: [start, end) per output position in one dimension.
std::pair<std::size_t, std::size_t> adaptive(std::size_t o, std::size_t in, std::size_t out) {
  return {o * in / out, ((o + 1) * in + out - 1) / out};
}

void connect_pool(network& net, const layer& l, const tensor& in, const tensor& out) {
  const bool is_max = l.kind == layer_kind::max_pool2d;
  for (std::size_t y = 0; y < out.s.h; ++y)
    for (std::size_t x = 0; x < out.s.w; ++x) {
      std::vector<std::pair<std::size_t, std::size_t>> at;
      mpq_class weight(1);
      if (l.kind == layer_kind::adaptive_avg_pool2d) {
        const auto [y0, y1] = adaptive(y, in.s.h, out.s.h);
        const auto [x0, x1] = adaptive(x, in.s.w, out.s.w);
        for (std::size_t i = y0; i < y1; ++i)
          for (std::size_t j = x0; j < x1; ++j) at.emplace_back(i, j);
        weight = mpq_class(1, static_cast<unsigned long>(at.size()));
      } else {
        for (std::size_t a : window(y, in.s.h, l.kh, l.sh, l.ph, 1).k)
          for (std::size_t b : window(x, in.s.w, l.kw, l.sw, l.pw, 1).k)
            at.emplace_back(tap_pos(y, a, l.sh, l.ph, 1), tap_pos(x, b, l.sw, l.pw, 1));
        if (!is_max) weight = mpq_class(1, static_cast<unsigned long>(l.kh * l.kw));
      }
      weight.canonicalize();
      for (std::size_t c = 0; c < out.s.c; ++c)
        for (const auto& [i, j] : at) net.set_constant(net.add_edge(in.at(c, i, j), out.at(c, y, x)), weight);
    }
}

void connect_same(network& net, const tensor& in, const tensor& out) {
  for (std::size_t k = 0; k < out.id.size(); ++k) net.set_constant(net.add_edge(in.id[k], out.id[k]));
}

}  // namespace

network_size planned_unroll(const model& m) {
  const std::vector<shape3> s = infer_shapes(m);
  const plan p = make_plan(m);
  const auto D = [](std::size_t v) { return static_cast<double>(v); };
  network_size n;
  n.nodes = D(m.input.c) * D(m.input.h) * D(m.input.w);
  for (std::size_t li = 0; li < m.layers.size(); ++li) {
    const layer& l = m.layers[li];
    if (p.owner[li] != static_cast<int>(li)) continue;
    const shape3& o = s[li];
    const shape3 in = p.inputs[li][0] == kInput ? m.input : s[p.inputs[li][0]];
    const double units = D(o.c) * D(o.h) * D(o.w);
    n.nodes += units + (p.biased[li] ? 1 : 0);
    double fan = 1;
    if (l.kind == layer_kind::conv2d || l.kind == layer_kind::avg_pool2d || l.kind == layer_kind::max_pool2d) {
      const bool conv = l.kind == layer_kind::conv2d;
      double sy = 0, sx = 0;  // taps in range summed over output rows / columns
      for (std::size_t y = 0; y < o.h; ++y) sy += D(window(y, in.h, l.kh, l.sh, l.ph, conv ? l.dh : 1).k.size());
      for (std::size_t x = 0; x < o.w; ++x) sx += D(window(x, in.w, l.kw, l.sw, l.pw, conv ? l.dw : 1).k.size());
      n.edges += D(o.c) * sy * sx * (conv ? D(in.c / l.groups) : 1);
      fan = 0;
    } else if (l.kind == layer_kind::adaptive_avg_pool2d) {
      double sy = 0, sx = 0;
      for (std::size_t y = 0; y < o.h; ++y) sy += D(adaptive(y, in.h, o.h).second - adaptive(y, in.h, o.h).first);
      for (std::size_t x = 0; x < o.w; ++x) sx += D(adaptive(x, in.w, o.w).second - adaptive(x, in.w, o.w).first);
      n.edges += D(o.c) * sy * sx;
      fan = 0;
    } else if (l.kind == layer_kind::linear) {
      fan = D(in.c);
    } else if (l.kind == layer_kind::add) {
      fan = D(p.inputs[li].size());
    }
    n.edges += units * (fan + (p.biased[li] ? 1 : 0));
  }
  if (!p.direct_output) {
    const shape3& o = s.back();
    n.nodes += D(o.c) * D(o.h) * D(o.w);
    n.edges += D(o.c) * D(o.h) * D(o.w);
  }
  return n;
}

network unroll(const model& m, double max_edges) {
  const std::vector<shape3> s = infer_shapes(m);
  const network_size size = planned_unroll(m);
  if (size.edges > max_edges)
    throw invalid_argument(fmt::format(
        "the unrolled model would have {:.0f} edges; the limit is {:.0f} (try a smaller input, as input=3x32x32)",
        size.edges, max_edges));
  if (size.nodes > max_built_nodes)
    throw invalid_argument(
        fmt::format("the unrolled model would have {:.0f} nodes; the limit is {:.0f}", size.nodes, max_built_nodes));
  const plan p = make_plan(m);
  const std::size_t L = m.layers.size();
  network net;
  const tensor input = make_units(net, "input", m.input, node_kind::input, {});
  std::vector<tensor> made(L);
  const auto units_of = [&](int i) {
    if (i == kInput) return input;
    tensor t = p.owner[i] == kInput ? input : made[p.owner[i]];
    t.s = s[i];
    return t;
  };
  for (std::size_t li = 0; li < L; ++li) {
    const layer& l = m.layers[li];
    if (p.owner[li] != static_cast<int>(li)) continue;
    const bool as_output = p.direct_output && p.owner[L - 1] == static_cast<int>(li);
    made[li] = make_units(net, l.name, s[li], as_output ? node_kind::output : node_kind::hidden, p.act[li]);
    const tensor in = units_of(p.inputs[li][0]);
    switch (l.kind) {
      case layer_kind::conv2d:
      case layer_kind::linear: {
        const node_id b = p.biased[li] ? net.add_node(l.name + ".bias", node_kind::bias) : npos;
        if (l.kind == layer_kind::linear) {
          layer flat = l;  // a Linear layer is a 1x1 conv on a flat input
          flat.kh = flat.kw = flat.sh = flat.sw = flat.dh = flat.dw = 1;
          flat.ph = flat.pw = 0;
          flat.groups = 1;
          connect_conv(net, flat, in, made[li], b);
        } else {
          connect_conv(net, l, in, made[li], b);
        }
        break;
      }
      case layer_kind::max_pool2d:
      case layer_kind::avg_pool2d:
      case layer_kind::adaptive_avg_pool2d:
        connect_pool(net, l, in, made[li]);
        break;
      case layer_kind::add:
        for (int i : p.inputs[li]) connect_same(net, units_of(i), made[li]);
        break;
      default:
        connect_same(net, in, made[li]);
        break;  // an activation that could not be fused
    }
  }
  if (!p.direct_output) {
    const tensor last = units_of(static_cast<int>(L) - 1);
    const tensor out = make_units(net, "output", s.back(), node_kind::output, {});
    connect_same(net, last, out);
  }
  net.finalize();
  return net;
}

}  // namespace scaleinv::layers
