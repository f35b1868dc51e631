// python/src/network_binding.cpp: scaleinv.Network: a network read from a spec, a file or JSON
// text, its structure, and its weights as numpy float64 arrays.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/io/dot.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/paths/active.hpp"
#include "to_python.hpp"

namespace scaleinv::python {
namespace {

py::object weights_of(const py_network& n) {
  std::shared_lock lock(n.mutex);
  if (!n.net.has_weights()) return py::none();
  const auto& w = n.net.weights();
  return py::array_t<double>(static_cast<py::ssize_t>(w.size()), w.data());
}

void set_weights(py_network& n, const py::object& value) {
  if (value.is_none()) {
    writing(n, [](network& net) { net.clear_weights(); });
    return;
  }
  auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(value);
  if (!a) throw py::type_error("weights must be a sequence of numbers (a numpy array of float64)");
  if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n.net.num_edges())
    throw invalid_argument(fmt::format("weights must be a 1-D array of {} numbers (one per edge), not shape ({})",
                                       n.net.num_edges(), fmt::join(a.shape(), a.shape() + a.ndim(), ", ")));
  std::vector<double> w(a.data(), a.data() + a.shape(0));
  writing(n, [&w](network& net) { net.set_weights(w); });  // throws naming a non-finite weight
}

py::list nodes_of(const py_network& n) {
  py::list out;
  for (const node& v : n.net.nodes()) {
    py::dict d;
    d["id"] = v.id;
    d["kind"] = std::string(to_string(v.kind));
    if (v.kind == node_kind::hidden) d["activation"] = v.act.name();
    out.append(std::move(d));
  }
  return out;
}

py::array_t<std::uint32_t> edges_of(const py_network& n) {
  py::array_t<std::uint32_t> out({static_cast<py::ssize_t>(n.net.num_edges()), py::ssize_t{2}});
  auto r = out.mutable_unchecked<2>();
  for (edge_id e = 0; e < n.net.num_edges(); ++e) {
    r(e, 0) = n.net.edge_at(e).from;
    r(e, 1) = n.net.edge_at(e).to;
  }
  return out;
}

std::vector<std::string> active_units(const py_network& n) {
  std::vector<std::string> ids;
  reading(n, [&ids](const network& net) {
    active_subgraph a = find_active(net);
    for (node_id v = 0; v < net.num_nodes(); ++v)
      if (a.is_active_unit(net, v)) ids.push_back(net.node_at(v).id);
  });
  return ids;
}

// The network function on a batch x (batch x inputs) with its own weights: batch x outputs.
py::array_t<double> evaluate_batch(const py_network& n, const py::object& x_obj) {
  auto x = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(x_obj);
  const std::size_t inputs = n.net.count(node_kind::input), outputs = n.net.count(node_kind::output);
  if (!x || x.ndim() != 2 || static_cast<std::size_t>(x.shape(1)) != inputs)
    throw invalid_argument(fmt::format("x must be a 2-D array of shape (batch, {}): one row per sample", inputs));
  const auto batch = static_cast<std::size_t>(x.shape(0));
  std::vector<double> y(batch * outputs);
  reading(n, [&](const network& net) {
    if (!net.has_weights() && net.num_edges() > 0)
      throw invalid_network(fmt::format("'{}' has no weights: evaluate needs a weighted network", n.name));
    std::vector<double> none;
    std::span<const double> w =
        net.num_edges() > 0 ? std::span<const double>(net.weights()) : std::span<const double>(none);
    for (std::size_t s = 0; s < batch; ++s) {
      auto out = evaluate<double>(net, w, std::span<const double>(x.data() + s * inputs, inputs));
      std::copy(out.begin(), out.end(), y.begin() + static_cast<std::ptrdiff_t>(s * outputs));
    }
  });
  return py::array_t<double>({static_cast<py::ssize_t>(batch), static_cast<py::ssize_t>(outputs)}, y.data());
}

// A network from arrays (scaleinv.torch's unrolled models, too large for JSON text): node ids,
// kinds (0 input, 1 bias, 2 hidden, 3 output), for each node an index into `activations` (spec
// strings, -1 for nodes that are not hidden), edge tails and heads, per edge an index into
// `param_names` (-1: its own parameter), per edge a constant denominator d (0: not constant, d > 0:
// constant edge of weight exactly 1/d), and weights (one per edge, or None).
network_ptr from_arrays(const std::string& name, const std::vector<std::string>& ids, const py::object& kinds_obj,
                        const std::vector<std::string>& activations, const py::object& act_obj,
                        const py::object& src_obj, const py::object& dst_obj, const py::object& param_obj,
                        const std::vector<std::string>& param_names, const py::object& const_obj,
                        const py::object& weights_obj) {
  constexpr int flags = py::array::c_style | py::array::forcecast;
  auto kinds = py::array_t<std::uint8_t, flags>::ensure(kinds_obj);
  auto act = py::array_t<std::int64_t, flags>::ensure(act_obj);
  auto src = py::array_t<std::int64_t, flags>::ensure(src_obj);
  auto dst = py::array_t<std::int64_t, flags>::ensure(dst_obj);
  auto param = py::array_t<std::int64_t, flags>::ensure(param_obj);
  auto cden = py::array_t<std::int64_t, flags>::ensure(const_obj);
  py::array_t<double, flags> w;
  if (!weights_obj.is_none()) w = py::array_t<double, flags>::ensure(weights_obj);
  const std::size_t n = ids.size();
  if (!kinds || !act || kinds.size() != static_cast<py::ssize_t>(n) || act.size() != static_cast<py::ssize_t>(n))
    throw invalid_argument("from_arrays: kinds and activation indices need one entry per node id");
  if (!src || !dst || !param || !cden || dst.size() != src.size() || param.size() != src.size() ||
      cden.size() != src.size() || (!weights_obj.is_none() && (!w || w.size() != src.size())))
    throw invalid_argument("from_arrays: tails, heads, params, constants and weights need one entry per edge");
  std::vector<activation> acts;
  for (const auto& a : activations) acts.push_back(activation::parse(a));
  const std::size_t m = static_cast<std::size_t>(src.size());
  network net;
  {
    py::gil_scoped_release release;
    const auto* kp = kinds.data();
    const auto* ap = act.data();
    for (std::size_t v = 0; v < n; ++v) {
      if (kp[v] > 3) throw invalid_argument(fmt::format("from_arrays: node '{}' has kind {}", ids[v], kp[v]));
      activation a;
      if (ap[v] >= 0) {
        if (static_cast<std::size_t>(ap[v]) >= acts.size())
          throw invalid_argument(fmt::format("from_arrays: node '{}' has no activation {}", ids[v], ap[v]));
        a = acts[static_cast<std::size_t>(ap[v])];
      }
      net.add_node(ids[v], static_cast<node_kind>(kp[v]), a);
    }
    const std::int64_t* sp = src.data();
    const std::int64_t* dp = dst.data();
    const std::int64_t* pp = param.data();
    const std::int64_t* cp = cden.data();
    const double* wp = weights_obj.is_none() ? nullptr : w.data();
    for (std::size_t e = 0; e < m; ++e) {
      if (sp[e] < 0 || dp[e] < 0 || static_cast<std::size_t>(sp[e]) >= n || static_cast<std::size_t>(dp[e]) >= n)
        throw invalid_argument(fmt::format("from_arrays: edge {} joins nodes {} -> {} of {}", e, sp[e], dp[e], n));
      edge_id id = net.add_edge(static_cast<node_id>(sp[e]), static_cast<node_id>(dp[e]));
      if (cp[e] > 0) {
        net.set_constant(id, mpq_class(1, static_cast<unsigned long>(cp[e])));
        continue;
      }
      if (pp[e] >= 0) {
        if (static_cast<std::size_t>(pp[e]) >= param_names.size())
          throw invalid_argument(fmt::format("from_arrays: edge {} has parameter {} of {}", e, pp[e],
                                             param_names.size()));
        net.set_param(id, param_names[static_cast<std::size_t>(pp[e])]);
      }
      if (wp) net.set_weight(id, wp[e]);
    }
    net.finalize();
  }
  return make_network(std::move(net), name);
}

network_ptr load(const std::string& what, network (*reader)(const std::string&), const std::string& name) {
  network net;
  {
    py::gil_scoped_release release;
    net = reader(what);
  }
  return make_network(std::move(net), name);
}

}  // namespace

void bind_network(py::module_& m) {
  py::class_<py_network, network_ptr> c(
      m, "Network",
      "A network: a DAG of input, bias, hidden and output nodes, with optional weights "
      "(one per edge). Make one with Network.from_spec, from_file, from_json or load.");
  c.def_static(
       "from_spec",
       [](const std::string& spec) {
         if (!is_spec(spec))
           throw invalid_argument(
               fmt::format("'{}' is not a network spec (mlp:, skip:, random:, conv: or example:)", spec));
         return load(spec, &load_network, spec);
       },
       py::arg("spec"),
       "A network from a spec: 'mlp:784-500-10,bias', 'skip:...', 'random:...', 'conv:...', 'example:demo'.")
      .def_static(
          "from_file", [](const std::string& path) { return load(path, &read_network_file, path); }, py::arg("path"),
          "A network from a scaleinv.network JSON file.")
      .def_static(
          "load", [](const std::string& net) { return load(net, &load_network, net); }, py::arg("net"),
          "A spec, a built-in example or a file: what the CLI's NET argument accepts.")
      .def_static(
          "from_json",
          [](const std::string& text, const std::string& name) {
            network net;
            {
              py::gil_scoped_release release;
              net = read_network_json(text, name);
            }
            return make_network(std::move(net), name);
          },
          py::arg("text"), py::arg("name") = "<json>",
          "A network from scaleinv.network JSON text; name is used in messages.")
      .def(
          "to_json",
          [](const py_network& n) { return reading(n, [](const network& net) { return write_network_json(net); }); },
          "The scaleinv.network JSON text (lossless: a weight no double holds is an exact rational string).")
      .def(
          "to_dot",
          [](const py_network& n, bool basis) {
            return reading(n, [basis](const network& net) { return write_dot(net, basis); });
          },
          py::arg("basis") = false, "Graphviz DOT text; basis=True marks the skeleton and the free edges.")
      .def_readwrite("name", &py_network::name, "How results name the network (the spec or file it came from).")
      .def_property_readonly("num_nodes", [](const py_network& n) { return n.net.num_nodes(); })
      .def_property_readonly("num_edges", [](const py_network& n) { return n.net.num_edges(); })
      .def_property_readonly(
          "num_parameters", [](const py_network& n) { return n.net.num_parameters(); },
          "Free parameters: shared ids plus edges without one.")
      .def_property_readonly("has_weights", [](const py_network& n) { return n.net.has_weights(); })
      .def_property_readonly(
          "has_exact_weights", [](const py_network& n) { return n.net.has_exact_weights(); },
          "Some weight is an exact rational that no double represents.")
      .def_property("weights", &weights_of, &set_weights,
                    "The weights as a float64 array, one per edge in edge order (a copy), or None. Assign an array "
                    "of num_edges finite numbers to replace them, None to remove them.")
      .def_property_readonly("nodes", &nodes_of, "One dict per node: id, kind and, for hidden nodes, activation.")
      .def_property_readonly("edges", &edges_of, "An (num_edges, 2) array of node indices: tail, head.")
      .def("evaluate", &evaluate_batch, py::arg("x"),
           "The network function on a batch: x of shape (batch, inputs), inputs in input-node order; returns "
           "(batch, outputs). Bias nodes output 1, outputs are linear.")
      .def("active_units", &active_units, "Ids of the active scalable hidden units (on some input-to-output path).")
      .def("__repr__", [](const py_network& n) {
        return fmt::format("<scaleinv.Network '{}': {} nodes, {} edges{}>", n.name, n.net.num_nodes(),
                           n.net.num_edges(), n.net.has_weights() ? ", weighted" : "");
      });
  m.def("_from_arrays", &from_arrays, py::arg("name"), py::arg("ids"), py::arg("kinds"), py::arg("activations"),
        py::arg("activation_index"), py::arg("tails"), py::arg("heads"), py::arg("params"),
        py::arg("param_names"), py::arg("constants"), py::arg("weights"),
        "A network from arrays (scaleinv.torch's unrolled models): see network_binding.cpp.");
  m.def("example_names", &example_names, "The names accepted after 'example:'.");
}

}  // namespace scaleinv::python
