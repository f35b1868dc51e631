// python/src/train_binding.cpp: the trainer's pieces that scaleinv.torch drives: the G-SGD step
// (train/gsgd.hpp) over a flat weight vector in edge order, and the C++ model's loss and gradient
// (train/model.hpp), in float64 or float32.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <fmt/format.h>

#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "scaleinv/error.hpp"
#include "scaleinv/train/gsgd.hpp"
#include "scaleinv/train/model.hpp"
#include "to_python.hpp"

namespace scaleinv::python {
namespace {

template <class Scalar>
using array = py::array_t<Scalar, py::array::c_style>;

template <class Scalar>
constexpr const char* dtype_name() {
  return sizeof(Scalar) == 8 ? "float64" : "float32";
}

// A 1-D contiguous array of Scalar with n entries, as given (no conversion: the step writes back).
template <class Scalar>
array<Scalar> flat(const py::object& a, std::size_t n, const char* what) {
  if (!py::isinstance<array<Scalar>>(a))
    throw invalid_argument(fmt::format("{} must be a C-contiguous numpy array of {}", what, dtype_name<Scalar>()));
  auto out = py::reinterpret_borrow<array<Scalar>>(a);
  if (out.ndim() != 1 || static_cast<std::size_t>(out.shape(0)) != n)
    throw invalid_argument(fmt::format("{} must be a 1-D array of {} entries (one per edge)", what, n));
  return out;
}

template <class Scalar>
std::vector<Scalar> copy_of(const array<Scalar>& a) {
  return std::vector<Scalar>(a.data(), a.data() + a.size());
}

// The G-SGD step of the C++ trainer on a flat weight vector, in one precision.
template <class Scalar>
struct gsgd_step {
  using scalar = Scalar;
  train::gsgd<Scalar> opt;
  std::size_t edges;
  bool momentum;

  void step(py::object w_obj, py::object g_obj, double lr, py::object state_obj) {
    array<Scalar> w = flat<Scalar>(w_obj, edges, "weights");
    if (!w.writeable()) throw invalid_argument("weights must be writeable: the step updates them in place");
    array<Scalar> g = flat<Scalar>(g_obj, edges, "grad");
    std::optional<array<Scalar>> state;
    if (momentum) {
      if (state_obj.is_none()) throw invalid_argument("momentum > 0: give the momentum buffer (one entry per edge)");
      state = flat<Scalar>(state_obj, edges, "momentum buffer");
      if (!state->writeable()) throw invalid_argument("the momentum buffer must be writeable");
    }
    // In place on the caller's arrays (no copies on the MLP fast path: train/gsgd.hpp).
    std::span<Scalar> ws(w.mutable_data(), edges);
    std::span<const Scalar> gs(g.data(), edges);
    std::span<Scalar> ms = state ? std::span<Scalar>(state->mutable_data(), edges) : std::span<Scalar>();
    py::gil_scoped_release release;
    opt.step(ws, gs, ms, lr);
  }
};

// The Python class _GSGDStep: either precision, chosen by dtype.
class gsgd_binding {
 public:
  gsgd_binding(const py_network& n, double momentum, double weight_decay, const std::string& skeleton,
               const std::string& dtype) {
    train::sgd_options o;
    o.momentum = momentum;
    o.weight_decay = weight_decay;
    o.skeleton = parse_skeleton(skeleton);
    if (!(momentum >= 0.0)) throw invalid_argument(fmt::format("momentum {} is negative", momentum));
    if (!(weight_decay >= 0.0)) throw invalid_argument(fmt::format("weight_decay {} is negative", weight_decay));
    auto net = std::make_shared<const network>(reading(n, [](const network& x) { return x; }));
    const std::size_t edges = net->num_edges();
    if (dtype == "float64")
      impl_ = std::make_unique<gsgd_step<double>>(gsgd_step<double>{train::gsgd<double>(net, o), edges, momentum > 0});
    else if (dtype == "float32")
      impl_ = std::make_unique<gsgd_step<float>>(gsgd_step<float>{train::gsgd<float>(net, o), edges, momentum > 0});
    else throw invalid_argument(fmt::format("dtype '{}': expected float64 or float32", dtype));
  }

  void step(py::object w, py::object g, double lr, py::object state) {
    std::visit([&](auto& p) { p->step(w, g, lr, state); }, impl_);
  }
  std::size_t basis_size() const {
    return std::visit([](const auto& p) { return *p->opt.basis_size(); }, impl_);
  }
  bool is_fast() const {
    return std::visit([](const auto& p) { return p->opt.is_fast(); }, impl_);
  }
  py::object path_values(py::object w) const {
    return std::visit(
        [&](const auto& p) -> py::object {
          using Scalar = typename std::decay_t<decltype(*p)>::scalar;
          auto v = p->opt.path_values(copy_of(flat<Scalar>(w, p->edges, "weights")));
          return array<Scalar>(static_cast<py::ssize_t>(v.size()), v.data());
        },
        impl_);
  }

 private:
  std::variant<std::unique_ptr<gsgd_step<double>>, std::unique_ptr<gsgd_step<float>>> impl_;
};

// loss_and_gradient in one precision: x is batch x inputs (row-major, as torch holds a batch).
template <class Scalar>
py::tuple loss_and_gradient(const py_network& n, const py::object& w_obj, const py::object& x_obj,
                            const py::object& labels_obj, const py::object& targets_obj, train::loss_kind loss) {
  const network& net = n.net;
  array<Scalar> w = flat<Scalar>(w_obj, net.num_edges(), "weights");
  auto x = py::array_t<Scalar, py::array::c_style | py::array::forcecast>::ensure(x_obj);
  train::model<Scalar> m(net);
  if (!x || x.ndim() != 2 || static_cast<std::size_t>(x.shape(1)) != m.num_inputs())
    throw invalid_argument(fmt::format("x must be a 2-D array of shape (batch, {})", m.num_inputs()));
  const auto batch = x.shape(0);
  train::matrix<Scalar> xm(static_cast<Eigen::Index>(m.num_inputs()), batch);
  auto xr = x.template unchecked<2>();
  for (py::ssize_t s = 0; s < batch; ++s)
    for (py::ssize_t i = 0; i < x.shape(1); ++i) xm(i, s) = xr(s, i);
  std::vector<int> labels;
  train::matrix<Scalar> targets;
  if (loss == train::loss_kind::cross_entropy) {
    auto l = py::array_t<int, py::array::c_style | py::array::forcecast>::ensure(labels_obj);
    if (!l || l.ndim() != 1 || l.shape(0) != batch)
      throw invalid_argument("labels must be a 1-D array of batch class indices");
    labels.assign(l.data(), l.data() + batch);
    for (int c : labels)
      if (c < 0 || static_cast<std::size_t>(c) >= m.num_outputs())
        throw invalid_argument(fmt::format("label {} is not in 0..{}", c, m.num_outputs() - 1));
  } else {
    auto t = py::array_t<Scalar, py::array::c_style | py::array::forcecast>::ensure(targets_obj);
    if (!t || t.ndim() != 2 || t.shape(0) != batch || static_cast<std::size_t>(t.shape(1)) != m.num_outputs())
      throw invalid_argument(fmt::format("targets must be a 2-D array of shape (batch, {})", m.num_outputs()));
    targets.resize(static_cast<Eigen::Index>(m.num_outputs()), batch);
    auto tr = t.template unchecked<2>();
    for (py::ssize_t s = 0; s < batch; ++s)
      for (py::ssize_t k = 0; k < t.shape(1); ++k) targets(k, s) = tr(s, k);
  }
  std::vector<Scalar> wv = copy_of(w), grad;
  Scalar value;
  {
    py::gil_scoped_release release;
    value = m.loss_and_gradient(wv, xm, labels.empty() ? nullptr : &labels, targets.size() ? &targets : nullptr, loss,
                                grad);
  }
  return py::make_tuple(static_cast<double>(value), array<Scalar>(static_cast<py::ssize_t>(grad.size()), grad.data()));
}

}  // namespace

void bind_train(py::module_& m) {
  py::class_<gsgd_binding>(m, "_GSGDStep",
                           "The C++ trainer's G-SGD step (train/gsgd.hpp) on a flat weight vector in edge order; "
                           "scaleinv.torch.GSGD drives it.")
      .def(py::init<const py_network&, double, double, const std::string&, const std::string&>(), py::arg("net"),
           py::arg("momentum") = 0.0, py::arg("weight_decay") = 0.0, py::arg("skeleton") = "diagonal",
           py::arg("dtype") = "float64")
      .def("step", &gsgd_binding::step, py::arg("weights"), py::arg("grad"), py::arg("lr"),
           py::arg("momentum_buffer") = py::none(),
           "Updates weights (and the momentum buffer, one entry per edge) in place.")
      .def_property_readonly("basis_size", &gsgd_binding::basis_size)
      .def_property_readonly("is_fast", &gsgd_binding::is_fast,
                             "The layered-MLP kernel runs (else the general DAG path).")
      .def("path_values", &gsgd_binding::path_values, py::arg("weights"), "The basis-path values v_B, in basis order.");
  m.def(
      "loss_and_gradient",
      [](const py_network& n, const py::object& w, const py::object& x, const py::object& labels,
         const py::object& targets, const std::string& loss) {
        train::loss_kind kind;
        if (loss == "ce") kind = train::loss_kind::cross_entropy;
        else if (loss == "mse") kind = train::loss_kind::mse;
        else throw invalid_argument(fmt::format("loss '{}': expected ce or mse", loss));
        if (kind == train::loss_kind::cross_entropy && labels.is_none())
          throw invalid_argument("loss 'ce' needs labels");
        if (kind == train::loss_kind::mse && targets.is_none()) throw invalid_argument("loss 'mse' needs targets");
        std::shared_lock lock(n.mutex);
        if (py::isinstance<array<float>>(w)) return loss_and_gradient<float>(n, w, x, labels, targets, kind);
        return loss_and_gradient<double>(n, w, x, labels, targets, kind);
      },
      py::arg("net"), py::arg("weights"), py::arg("x"), py::arg("labels") = py::none(), py::arg("targets") = py::none(),
      py::arg("loss") = "ce",
      "The C++ trainer's mean loss and dL/dw (one per edge) on a batch x of shape (batch, inputs): softmax "
      "cross-entropy on integer labels ('ce') or 1/2 ||y - t||^2 on targets ('mse'); float32 when weights is, else "
      "float64.");
}

}  // namespace scaleinv::python
