// python/src/analysis_binding.cpp: the library's analyses as functions returning dicts with the
// keys of the CLI's --json output (io/results_json.hpp serializes both), and the orbit moves
// (rescale, balance, canonical) returning new networks.
#include <pybind11/stl.h>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <variant>
#include <vector>

#include "scaleinv/balance/balance.hpp"
#include "scaleinv/balance/imbalance.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/exact/rational.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/io/results_json.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/count.hpp"
#include "scaleinv/paths/express.hpp"
#include "scaleinv/paths/functional_dimension.hpp"
#include "scaleinv/paths/verify.hpp"
#include "to_python.hpp"

namespace scaleinv::python {
namespace {

using json = nlohmann::ordered_json;
using scale_value = std::variant<double, std::string>;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

py::object analyze_py(const py_network& n, bool edge_paths) {
  json j = reading(n, [&](const network& net) {
    analysis r = analyze(net);
    if (!r.cert.valid) throw error("internal error: the dimension certificate failed: " + r.cert.failure);
    std::vector<mpz_class> counts;
    if (edge_paths) counts = edge_path_counts(net, count_paths(net));
    return analysis_json(net, r, n.name, edge_paths ? &counts : nullptr);
  });
  return to_python(j);
}

py::object verify_py(const py_network& n, std::uint64_t max_paths) {
  json j = reading(n, [&](const network& net) {
    auto t0 = std::chrono::steady_clock::now();
    verify_result r = verify(net, max_paths);
    r.seconds = seconds_since(t0);
    return verify_json(r, n.name);
  });
  return to_python(j);
}

py::object equivalent_py(const py_network& a, const py_network& b, bool exact, std::optional<double> tol) {
  equivalence_options o;
  o.exact = exact;
  if (tol) {
    if (exact) throw invalid_argument("give exact=True or tol, not both");
    if (!(*tol > 0.0 && *tol < 1.0)) throw invalid_argument(fmt::format("tol {} is not in (0, 1)", *tol));
    o.tolerance = *tol;
  }
  json j;
  {
    py::gil_scoped_release release;
    std::shared_lock la(a.mutex);
    std::shared_lock<std::shared_mutex> lb;  // the same network twice is locked once
    if (&a != &b) lb = std::shared_lock(b.mutex);
    j = equivalence_json(a.net, rescaling_equivalence(a.net, b.net, o), a.name, b.name);
  }
  return to_python(j);
}

// The scales of a dict {unit id: number or rational string}: one per node (1 for unlisted ones),
// each naming a hidden, positively homogeneous unit, positive; any string makes them exact.
struct named_scales {
  std::vector<mpq_class> exact;
  std::vector<double> approx;
  bool any_string = false;
};

named_scales read_scales(const network& net, const std::map<std::string, scale_value>& given) {
  named_scales out;
  out.exact.assign(net.num_nodes(), mpq_class(1));
  for (const auto& [id, value] : given) {
    std::optional<node_id> v = net.find_node(id);
    if (!v) throw invalid_argument(fmt::format("scales: unknown unit '{}': the network has no node with that id", id));
    if (!net.is_scalable(*v))
      throw invalid_argument(
          fmt::format("scales: '{}' is not a hidden unit with a positively homogeneous activation: "
                      "it has no rescaling symmetry",
                      id));
    mpq_class c;
    if (const double* d = std::get_if<double>(&value)) {
      if (!std::isfinite(*d))
        throw invalid_argument(fmt::format("scales: the scale of '{}' is {}, not finite", id, *d));
      c = mpq_class(*d);
    } else {
      const std::string& text = std::get<std::string>(value);
      auto q = parse_rational(text);
      if (!q)
        throw invalid_argument(
            fmt::format("scales: the scale of '{}' is '{}', not a rational such as \"3/2\"", id, text));
      c = *q;
      out.any_string = true;
    }
    if (sgn(c) <= 0)
      throw invalid_argument(fmt::format("scales: the scale of '{}' is {}: scales must be positive", id, to_string(c)));
    out.exact[*v] = c;
  }
  for (const auto& c : out.exact) out.approx.push_back(c.get_d());
  return out;
}

network_ptr rescale_py(const py_network& n, std::optional<std::uint64_t> seed, double spread,
                       std::optional<std::map<std::string, scale_value>> scales) {
  if (seed.has_value() == scales.has_value())
    throw invalid_argument("give seed=S (random scales) or scales={unit: scale, ...}, not both");
  network out = reading(n, [&](const network& net) {
    if (!net.has_weights() && net.num_edges() > 0)
      throw invalid_network(fmt::format("'{}' has no weights: rescale needs a weighted network", n.name));
    if (seed) {
      if (net.has_exact_weights()) return apply_rescaling(net, random_rational_scales(net, *seed));
      return apply_rescaling(net, random_scales(net, *seed, spread));
    }
    named_scales s = read_scales(net, *scales);
    if (s.any_string || net.has_exact_weights()) return apply_rescaling(net, s.exact);
    return apply_rescaling(net, s.approx);
  });
  return make_network(std::move(out), n.name + " (rescaled)");
}

py::tuple balance_py(const py_network& n, double p, const std::string& order, double tol, std::size_t max_iterations,
                     double depth_factor, std::uint64_t seed) {
  balance_options o;
  o.p = p;
  o.method = parse_balance_method(order);
  o.tolerance = tol;
  o.max_iterations = max_iterations;
  o.depth_factor = depth_factor;
  o.seed = seed;
  network copy = reading(n, [](const network& net) { return net; });
  json report;
  {
    py::gil_scoped_release release;
    auto t0 = std::chrono::steady_clock::now();
    balance_report r = balance(copy, o);
    report = balance_report_json(r, o.method, seconds_since(t0));
  }
  return py::make_tuple(make_network(std::move(copy), n.name + " (balanced)"), to_python(report));
}

py::tuple canonical_py(const py_network& n, double tol) {
  network copy = reading(n, [](const network& net) { return net; });
  json report;
  {
    py::gil_scoped_release release;
    auto t0 = std::chrono::steady_clock::now();
    balance_report r = canonicalize(copy, tol);
    report = balance_report_json(r, balance_method::newton, seconds_since(t0));
  }
  return py::make_tuple(make_network(std::move(copy), n.name + " (canonical)"), to_python(report));
}

}  // namespace

void bind_analysis(py::module_& m) {
  m.def("analyze", &analyze_py, py::arg("net"), py::arg("edge_paths") = false,
        "The dimension of the path space and what decides it: the dict of `scaleinv analyze --json` (keys in "
        "docs/formats.md); edge_paths=True adds the number of paths through each edge.");
  m.def(
      "basis",
      [](const py_network& n, std::size_t limit, const std::string& skeleton) {
        skeleton_kind k = parse_skeleton(skeleton);
        json j = reading(n, [&](const network& net) {
          return basis_json(net, make_basis(net, find_active(net), k), n.name, limit);
        });
        return to_python(j);
      },
      py::arg("net"), py::arg("limit") = 0, py::arg("skeleton") = "diagonal",
      "The basis paths as edge indices (`scaleinv basis --json`): dimension, listed, basis, owned. limit=0: all.");
  m.def(
      "express",
      [](const py_network& n, const std::vector<edge_id>& path, const std::string& skeleton) {
        skeleton_kind k = parse_skeleton(skeleton);
        json j = reading(n, [&](const network& net) {
          for (edge_id e : path)
            if (e >= net.num_edges())
              throw invalid_argument(
                  fmt::format("path: edge {} does not exist (the network has {} edges)", e, net.num_edges()));
          return expression_json(express(net, path, k), n.name);
        });
        return to_python(j);
      },
      py::arg("net"), py::arg("path"), py::arg("skeleton") = "diagonal",
      "A path (edge indices, source to sink) in the basis (`scaleinv express --json`): the exponents k_i with "
      "value(path) = prod value(B_i)^k_i, checked exactly when the network has weights.");
  m.def("verify", &verify_py, py::arg("net"), py::arg("max_paths") = 1000000,
        "Enumerates every path and computes rank A exactly (`scaleinv verify --json`); 'agree' and the other checks "
        "say whether it matches the structural answer.");
  m.def("equivalent", &equivalent_py, py::arg("a"), py::arg("b"), py::arg("exact") = false,
        py::arg("tol") = std::nullopt,
        "Are b's weights a positive rescaling of a's? (`scaleinv equivalent --json`: equivalent, scales by unit id, "
        "reason, ...).");
  m.def("rescale", &rescale_py, py::arg("net"), py::arg("seed") = std::nullopt, py::arg("spread") = 1.0,
        py::arg("scales") = std::nullopt,
        "A rescaled copy of net (same function, other weights): random scales from seed (log-normal with spread, or "
        "p/q for exact weights), or scales={unit id: number or rational string}.");
  m.def("balance", &balance_py, py::arg("net"), py::arg("p") = 2.0, py::arg("order") = "newton", py::arg("tol") = 1e-10,
        py::arg("max_iterations") = 10000, py::arg("depth_factor") = 1.0, py::arg("seed") = 1,
        "Synaptic balance: (balanced copy of net, report dict with the keys of `scaleinv balance --json`).");
  m.def("canonical", &canonical_py, py::arg("net"), py::arg("tol") = 1e-13,
        "The canonical form of net's rescaling orbit: (canonical copy, report dict).");
  m.def(
      "imbalance",
      [](const py_network& n, double p, double depth_factor, bool units) {
        json j = reading(n, [&](const network& net) { return imbalance_json(imbalance(net, p, depth_factor), units); });
        return to_python(j);
      },
      py::arg("net"), py::arg("p") = 2.0, py::arg("depth_factor") = 1.0, py::arg("units") = false,
      "How far each layer (units=True: each unit group) is from balance (`scaleinv imbalance --json`).");
  m.def(
      "fdim",
      [](const py_network& n, std::optional<std::size_t> inputs, std::uint64_t seed) {
        functional_dimension_options o;
        if (inputs) {
          if (*inputs == 0) throw invalid_argument("inputs must be positive");
          o.inputs = inputs;
        }
        o.seed = seed;
        json j = reading(n, [&](const network& net) {
          return functional_dimension_json(net, functional_dimension(net, o), n.name);
        });
        return to_python(j);
      },
      py::arg("net"), py::arg("inputs") = std::nullopt, py::arg("seed") = 1,
      "The functional dimension (rank of the outputs' Jacobian on random inputs) beside the path dimension "
      "(`scaleinv fdim --json`).");
}

}  // namespace scaleinv::python
