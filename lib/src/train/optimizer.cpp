// optimizer.cpp: SGD, the optimizer registry.
#include "scaleinv/train/optimizer.hpp"

#include <fmt/format.h>

#include <type_traits>

#include "scaleinv/error.hpp"
#include "scaleinv/train/ec_sgd.hpp"
#include "scaleinv/train/gsgd.hpp"
#include "scaleinv/train/path_sgd.hpp"

namespace scaleinv::train {

template <class Scalar>
void sgd<Scalar>::step(std::vector<Scalar>& w, const std::vector<Scalar>& grad, double lr) {
  const auto eta = static_cast<Scalar>(lr), mu = static_cast<Scalar>(o_.momentum),
             wd = static_cast<Scalar>(o_.weight_decay);
  const std::size_t n = w.size();
  Scalar* wp = w.data();
  const Scalar* gp = grad.data();
  if (o_.momentum > 0) {
    Scalar* mp = this->state_.data();
    for (std::size_t i = 0; i < n; ++i) {
      Scalar g = gp[i] + wd * wp[i];
      mp[i] = mu * mp[i] + g;
      wp[i] -= eta * mp[i];
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) wp[i] -= eta * (gp[i] + wd * wp[i]);
  }
}

template <class Scalar>
void sgd<Scalar>::rescaled(const network& net, const std::vector<double>& node_scale) {
  std::vector<Scalar>& m = this->state_;
  if (m.empty()) return;
  if (m.size() != net.num_edges()) throw invalid_argument("balance: the optimizer buffer needs one entry per edge");
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge& ed = net.edge_at(e);
    const double f = node_scale[ed.to] / node_scale[ed.from];
    if (f != 1.0) m[e] = static_cast<Scalar>(static_cast<double>(m[e]) / f);
  }
}

template class sgd<float>;
template class sgd<double>;

namespace {
template <class Scalar>
using factory = std::unique_ptr<optimizer<Scalar>> (*)(std::shared_ptr<const network>, std::size_t,
                                                       const optimizer_options&);

struct registry_entry {
  optimizer_info info;
  factory<float> make_float;
  factory<double> make_double;
};

template <class Scalar>
std::unique_ptr<optimizer<Scalar>> make_sgd(std::shared_ptr<const network>, std::size_t size,
                                            const optimizer_options& o) {
  return std::make_unique<sgd<Scalar>>(size, o);
}
template <class Scalar>
std::unique_ptr<optimizer<Scalar>> make_gsgd(std::shared_ptr<const network> net, std::size_t,
                                             const optimizer_options& o) {
  return std::make_unique<gsgd<Scalar>>(std::move(net), o);
}

template <class Scalar>
std::unique_ptr<optimizer<Scalar>> make_ec_sgd(std::shared_ptr<const network> net, std::size_t,
                                               const optimizer_options& o) {
  return std::make_unique<ec_sgd<Scalar>>(std::move(net), o);
}

template <class Scalar>
std::unique_ptr<optimizer<Scalar>> make_path_sgd(std::shared_ptr<const network> net, std::size_t size,
                                                 const optimizer_options& o) {
  return std::make_unique<path_sgd<Scalar>>(std::move(net), size, o);
}

const std::vector<registry_entry>& entries() {
  static const std::vector<registry_entry> table{
      {{"sgd", "SGD on the trained parameters (weights, weight norm or GmP coordinates)", "", true, "", ""},
       &make_sgd<float>,
       &make_sgd<double>},
      {{"gsgd", "G-SGD on the basis-path values (Meng et al., ICLR 2019)",
        "G-SGD trains its own coordinates (the basis-path values)", false,
        "G-SGD's chart moves single edges, which would untie them; --optimizer ecsgd is G-SGD on the parameters",
        "G-SGD's chart fixes one edge per unit and could move a constant edge, where constant edges leave one scale "
        "per class of units; --optimizer ecsgd is G-SGD on the parameters, with constant edges never moved"},
       &make_gsgd<float>,
       &make_gsgd<double>},
      {{"ecsgd",
        "EC-SGD: G-SGD on the parameter quotient, for shared parameters and constant edges (one node per class of "
        "tied units, one edge per parameter; gsgd itself on other networks)",
        "EC-SGD trains its own coordinates (the basis-path values of the parameter quotient)", false, "", "", true},
       &make_ec_sgd<float>,
       &make_ec_sgd<double>},
      {{"pathsgd",
        "Path-SGD: SGD steps divided by each weight's sum over paths of the other squared weights (Neyshabur et "
        "al., NeurIPS 2015)",
        "Path-SGD normalizes by path sums of the weights themselves", true, "", ""},
       &make_path_sgd<float>,
       &make_path_sgd<double>},
  };
  return table;
}

const registry_entry& find_entry(std::string_view name) {
  for (const auto& e : entries())
    if (e.info.name == name) return e;
  std::string known;
  for (const auto& e : entries()) known += (known.empty() ? "" : ", ") + std::string(e.info.name);
  throw invalid_argument(fmt::format("unknown optimizer '{}': expected one of {}", name, known));
}
}  // namespace

const std::vector<optimizer_info>& optimizer_registry() {
  static const std::vector<optimizer_info> infos = [] {
    std::vector<optimizer_info> v;
    for (const auto& e : entries()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

const optimizer_info& find_optimizer(std::string_view name) { return find_entry(name).info; }

template <class Scalar>
std::unique_ptr<optimizer<Scalar>> make_optimizer(std::string_view name, std::shared_ptr<const network> net,
                                                  std::size_t size, const optimizer_options& o) {
  const registry_entry& e = find_entry(name);
  if constexpr (std::is_same_v<Scalar, float>) return e.make_float(std::move(net), size, o);
  else return e.make_double(std::move(net), size, o);
}

template std::unique_ptr<optimizer<float>> make_optimizer<float>(std::string_view, std::shared_ptr<const network>,
                                                                 std::size_t, const optimizer_options&);
template std::unique_ptr<optimizer<double>> make_optimizer<double>(std::string_view, std::shared_ptr<const network>,
                                                                   std::size_t, const optimizer_options&);

}  // namespace scaleinv::train
