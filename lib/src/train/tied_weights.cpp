// tied_weights.cpp: one trained value per shared parameter; constant edges are not trained.
#include "scaleinv/train/tied_weights.hpp"

#include <fmt/format.h>

#include "scaleinv/error.hpp"

namespace scaleinv::train {

template <class Scalar>
tied_weights<Scalar>::tied_weights(const network& net) : slot_(net.num_edges()) {
  std::vector<std::uint32_t> of_param(net.param_names().size(), npos);
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    if (net.is_constant(e)) {  // not trained: its effective weight is the constant
      slot_[e] = npos;
      constant_.emplace_back(e, static_cast<Scalar>(net.constant_value(e).get_d()));
      continue;
    }
    const std::uint32_t k = net.param(e);
    if (k != npos && of_param[k] != npos) {
      slot_[e] = of_param[k];
      continue;
    }
    slot_[e] = static_cast<std::uint32_t>(names_.size());
    if (k != npos) of_param[k] = slot_[e];
    names_.push_back(k != npos ? fmt::format("parameter '{}'", net.param_names()[k]) : net.describe_edge(e));
    first_.push_back(e);
  }
}

template <class Scalar>
std::vector<Scalar> tied_weights<Scalar>::from_weights(const std::vector<double>& w) {
  if (w.size() != slot_.size()) throw invalid_argument("one weight per edge expected");
  std::vector<Scalar> p(names_.size());
  for (std::size_t k = 0; k < names_.size(); ++k) p[k] = static_cast<Scalar>(w[first_[k]]);
  for (edge_id e = 0; e < slot_.size(); ++e)
    if (slot_[e] != npos && w[e] != w[first_[slot_[e]]])
      throw invalid_argument(fmt::format("{} has weight {} on edge {} but {} on edge {}: shared weights must be equal",
                                         names_[slot_[e]], w[first_[slot_[e]]], first_[slot_[e]], w[e], e));
  return p;
}

template <class Scalar>
void tied_weights<Scalar>::effective_weights(const std::vector<Scalar>& p, std::vector<Scalar>& w) {
  w.resize(slot_.size());
  if (constant_.empty()) {
    for (std::size_t e = 0; e < slot_.size(); ++e) w[e] = p[slot_[e]];
    return;
  }
  for (std::size_t e = 0; e < slot_.size(); ++e)
    if (slot_[e] != npos) w[e] = p[slot_[e]];
  for (const auto& [e, value] : constant_) w[e] = value;
}

template <class Scalar>
void tied_weights<Scalar>::backprop(const std::vector<Scalar>&, const std::vector<Scalar>& grad_w,
                                    std::vector<Scalar>& grad_p) {
  grad_p.assign(names_.size(), Scalar(0));
  for (std::size_t e = 0; e < slot_.size(); ++e)
    if (slot_[e] != npos) grad_p[slot_[e]] += grad_w[e];  // a constant edge's gradient is dropped
}

template <class Scalar>
void tied_weights<Scalar>::add_weight_decay(const std::vector<Scalar>& p, std::vector<Scalar>& grad_p,
                                            double decay) const {
  const auto d = static_cast<Scalar>(decay);
  for (std::size_t k = 0; k < p.size(); ++k) grad_p[k] += d * p[k];
}

template <class Scalar>
void tied_weights<Scalar>::set_signs(const std::vector<Scalar>& s) {
  if (!s.empty()) throw invalid_argument(fmt::format("{} direction signs given, shared weights have none", s.size()));
}

template class tied_weights<float>;
template class tied_weights<double>;

}  // namespace scaleinv::train
