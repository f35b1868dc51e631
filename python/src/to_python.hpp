// python/src/to_python.hpp: JSON results (io/results_json.hpp) as Python objects, and the shared
// helpers of the binding files.
#pragma once

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

#include "scaleinv/graph/network.hpp"

namespace scaleinv::python {

namespace py = pybind11;

/// null -> None, booleans, integers (any size that JSON holds) -> int, numbers -> float, strings,
/// arrays -> list, objects -> dict in the object's key order. @pre the GIL is held.
py::object to_python(const nlohmann::ordered_json& j);

/// What Python's scaleinv.Network holds: a finalized network, the name results report it by (the
/// spec or file it came from, as the CLI's NET argument), and a lock so that a computation that
/// runs with the GIL released never sees the network change under it.
struct py_network {
  network net;
  std::string name;
  mutable std::shared_mutex mutex;

  py_network(network n, std::string nm) : net(std::move(n)), name(std::move(nm)) {}
};
using network_ptr = std::shared_ptr<py_network>;

/// Runs f(net) with the GIL released and the network locked for reading; f must not touch Python
/// objects. Returns what f returns (a C++ value, converted to Python after the GIL is back).
template <class F>
auto reading(const py_network& n, F&& f) {
  py::gil_scoped_release release;
  std::shared_lock lock(n.mutex);
  return std::forward<F>(f)(n.net);
}

/// The same for a change of n: the network is locked for writing.
template <class F>
auto writing(py_network& n, F&& f) {
  py::gil_scoped_release release;
  std::unique_lock lock(n.mutex);
  return std::forward<F>(f)(n.net);
}

/// A new Python-side network (a result: rescaled, balanced, ...).
inline network_ptr make_network(network net, std::string name) {
  return std::make_shared<py_network>(std::move(net), std::move(name));
}

void bind_network(py::module_& m);
void bind_analysis(py::module_& m);
void bind_train(py::module_& m);

}  // namespace scaleinv::python
