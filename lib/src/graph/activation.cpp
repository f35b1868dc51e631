// activation.cpp: names and the text form of activations.
#include "scaleinv/graph/activation.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "scaleinv/error.hpp"
#include "scaleinv/exact/rational.hpp"

namespace scaleinv {
namespace {
constexpr std::array<std::pair<activation_kind, const char*>, 9> kNames{{
    {activation_kind::relu, "relu"},
    {activation_kind::leaky_relu, "leaky_relu"},
    {activation_kind::prelu, "prelu"},
    {activation_kind::bilu, "bilu"},
    {activation_kind::linear, "linear"},
    {activation_kind::tanh, "tanh"},
    {activation_kind::sigmoid, "sigmoid"},
    {activation_kind::max_pool, "max_pool"},
    {activation_kind::avg_pool, "avg_pool"},
}};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

mpq_class slope(std::string_view text, std::string_view whole) {
  auto q = parse_rational(text);
  if (!q) {
    throw invalid_argument("activation '" + std::string(whole) + "': slope '" + std::string(text) +
                           "' is not a number (expected a decimal such as 0.1 or a rational such as 1/10)");
  }
  if (const char* why = slope_range_problem(*q))
    throw invalid_argument("activation '" + std::string(whole) + "': slope '" + std::string(text) + "' " + why);
  return *q;
}
}  // namespace

const char* slope_range_problem(const mpq_class& q) {
  const double d = q.get_d();
  if (!std::isfinite(d) || std::abs(d) > std::numeric_limits<double>::max()) return "is beyond the range of a double";
  if (d == 0 && q != 0) return "is too small for a double (it would round to 0)";
  return nullptr;
}

bool activation_kind_from_name(std::string_view name, activation_kind& out) {
  for (const auto& [kind, n] : kNames) {
    if (name == n) {
      out = kind;
      return true;
    }
  }
  return false;
}

std::string activation::name() const {
  for (const auto& [k, n] : kNames)
    if (k == kind) return n;
  return "?";
}

std::string activation::spec() const {
  switch (kind) {
    case activation_kind::leaky_relu:
    case activation_kind::prelu:
      return name() + ":" + to_string(neg);
    case activation_kind::bilu:
      return name() + ":" + to_string(neg) + ":" + to_string(pos);
    default:
      return name();
  }
}

activation activation::parse(std::string_view text) {
  auto parts = split(text, ':');
  activation_kind kind{};
  if (!activation_kind_from_name(parts[0], kind)) {
    throw invalid_argument(
        "unknown activation '" + std::string(parts[0]) +
        "' (expected relu, leaky_relu:SLOPE, prelu:SLOPE, bilu:A:B, linear, tanh, sigmoid, max_pool or avg_pool)");
  }
  auto want = [&](std::size_t n, const char* form) {
    if (parts.size() != n) {
      throw invalid_argument("activation '" + std::string(text) + "': expected the form " + form);
    }
  };
  switch (kind) {
    case activation_kind::leaky_relu:
      if (parts.size() == 1) return leaky_relu(mpq_class(1, 100));  // the usual default slope 0.01
      want(2, "leaky_relu:SLOPE");
      return leaky_relu(slope(parts[1], text));
    case activation_kind::prelu:
      if (parts.size() == 1) return prelu(mpq_class(1, 4));  // He et al.'s initial slope 0.25
      want(2, "prelu:SLOPE");
      return prelu(slope(parts[1], text));
    case activation_kind::bilu:
      want(3, "bilu:A:B");
      return bilu(slope(parts[1], text), slope(parts[2], text));
    case activation_kind::relu:
      want(1, "relu");
      return relu();
    case activation_kind::linear:
      want(1, "linear");
      return linear();
    case activation_kind::tanh:
      want(1, "tanh");
      return tanh();
    case activation_kind::sigmoid:
      want(1, "sigmoid");
      return sigmoid();
    case activation_kind::max_pool:
      want(1, "max_pool");
      return max_pool();
    case activation_kind::avg_pool:
      want(1, "avg_pool");
      return avg_pool();
  }
  return relu();
}

}  // namespace scaleinv
