// scaleinv/graph/activation.hpp: hidden-unit activations and whether they are positively homogeneous.
#pragma once

#include <gmpxx.h>

#include <string>
#include <string_view>

namespace scaleinv {

enum class activation_kind { relu, leaky_relu, prelu, bilu, linear, tanh, sigmoid, max_pool, avg_pool };

/// A hidden unit's activation. The piecewise-linear kinds are f(x) = neg*x for x < 0 and pos*x
/// for x >= 0 (relu: 0,1; leaky_relu and prelu: slope,1; bilu: a,b; linear: 1,1); all of them
/// are positively homogeneous. tanh and sigmoid are not (math.md section 1). Pooling units do not
/// sum their inputs: max_pool outputs the largest weighted input max_e(w_e x_e), avg_pool their
/// mean; both are positively homogeneous (max(c t) = c max(t) for c > 0).
struct activation {
  activation_kind kind = activation_kind::relu;
  mpq_class neg = 0;  ///< slope for x < 0 (piecewise-linear kinds only)
  mpq_class pos = 1;  ///< slope for x >= 0 (piecewise-linear kinds only)

  static activation relu() { return {}; }
  static activation leaky_relu(const mpq_class& slope) { return {activation_kind::leaky_relu, slope, 1}; }
  static activation prelu(const mpq_class& slope) { return {activation_kind::prelu, slope, 1}; }
  static activation bilu(const mpq_class& a, const mpq_class& b) { return {activation_kind::bilu, a, b}; }
  static activation linear() { return {activation_kind::linear, 1, 1}; }
  static activation tanh() { return {activation_kind::tanh, 0, 0}; }
  static activation sigmoid() { return {activation_kind::sigmoid, 0, 0}; }
  static activation max_pool() { return {activation_kind::max_pool, 1, 1}; }
  static activation avg_pool() { return {activation_kind::avg_pool, 1, 1}; }
  bool is_pooling() const noexcept { return kind == activation_kind::max_pool || kind == activation_kind::avg_pool; }

  /// sigma(c x) = c sigma(x) for all c > 0.
  bool is_homogeneous() const noexcept { return kind != activation_kind::tanh && kind != activation_kind::sigmoid; }
  /// The kind's name: "relu", "leaky_relu", ...
  std::string name() const;
  /// The spec form: "relu", "leaky_relu:1/10", "bilu:1/4:2", ... (parse() reads it back).
  std::string spec() const;

  /// Reads "relu", "leaky_relu:0.1", "prelu:0.25", "bilu:A:B", "linear", "tanh", "sigmoid",
  /// "max_pool", "avg_pool".
  /// Slopes are exact decimals or rationals whose double is finite, and nonzero unless the slope
  /// is 0 (slope_range_problem). @throws invalid_argument naming the bad part.
  static activation parse(std::string_view text);

  friend bool operator==(const activation& a, const activation& b) {
    return a.kind == b.kind && a.neg == b.neg && a.pos == b.pos;
  }
};

/// Why no double stands for the exact slope q, or nullptr when one does: "is beyond the range of a
/// double" (the double would be infinite), "is too small for a double (it would round to 0)".
/// Evaluation and training use the double, the exact analysis the rational: they must agree on
/// what the unit is.
const char* slope_range_problem(const mpq_class& q);

/// The kind named by "relu", "leaky_relu", ...; false when the name is unknown.
bool activation_kind_from_name(std::string_view name, activation_kind& out);

}  // namespace scaleinv
