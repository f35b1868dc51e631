// python/src/module.cpp: the `scaleinv._scaleinv` extension: scaleinv.Error, the version, and the
// bindings of each part of lib/ (network_binding.cpp, analysis_binding.cpp, train_binding.cpp).
#include <string>

#include "scaleinv/error.hpp"
#include "scaleinv/version.hpp"
#include "to_python.hpp"

PYBIND11_MODULE(_scaleinv, m) {
  namespace py = pybind11;
  m.doc() = "scaleinv: the positive-scaling symmetry of ReLU networks (bindings of the C++ library)";
  // Every scaleinv::error (parse_error, invalid_network, invalid_argument, ...) becomes
  // scaleinv.Error, a ValueError, with the library's message.
  py::register_exception<scaleinv::error>(m, "Error", PyExc_ValueError);
  m.attr("__version__") = std::string(scaleinv::version());
  scaleinv::python::bind_network(m);
  scaleinv::python::bind_analysis(m);
  scaleinv::python::bind_train(m);
}
