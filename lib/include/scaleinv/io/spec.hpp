// scaleinv/io/spec.hpp: the one reader of spec strings ("KIND:T0,T1,...", options KEY[=VALUE]),
// shared by the network specs (graph/builders.hpp) and the data specs (io/dataset.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scaleinv {

/// s cut at every sep, empty pieces kept: "a,,b" -> {"a", "", "b"}; "" -> {""}.
std::vector<std::string_view> split_on(std::string_view s, char sep);

/// A spec cut at its first colon: "KIND:T0,T1,..." -> kind "KIND", tokens {"T0", "T1", ...}.
struct spec_parts {
  std::string_view kind;                 ///< the text before the first colon (all of it without one)
  bool has_colon = false;                ///< whether there is a colon
  std::vector<std::string_view> tokens;  ///< the text after the colon cut at commas; none without a colon
};
spec_parts split_spec(std::string_view spec);

/// One spec option: "KEY=VALUE", or a bare flag "KEY".
struct spec_option {
  std::string_view key, value;
  bool is_flag = false;  ///< no '=' at all
};
/// Cuts a token at its first '=': "k=v" -> {"k", "v", false}; "k=" -> {"k", "", false}; "k" -> {"k", "", true}.
spec_option split_option(std::string_view token);

/// KEY=VALUE options in the order given (spec_parser::options).
struct spec_options {
  std::vector<std::pair<std::string_view, std::string_view>> items;
  /// The value of key, or nullopt when it was not given.
  std::optional<std::string_view> get(std::string_view key) const;
};

/// Reads the values in one spec. Every failure throws parse_error located at `subject` (such as
/// "data spec 'spirals:n=x'"), so messages read "SUBJECT: MESSAGE".
class spec_parser {
 public:
  explicit spec_parser(std::string subject) : subject_(std::move(subject)) {}
  const std::string& subject() const noexcept { return subject_; }

  /// @throws parse_error with message.
  [[noreturn]] void fail(const std::string& message) const;
  /// A decimal integer in [0, 2^64). @throws parse_error "WHAT 'TEXT' is too large" or "... is not a
  /// non-negative integer".
  std::uint64_t integer(std::string_view text, std::string_view what) const;
  /// An integer in [1, 2^32). @throws parse_error as integer, or "WHAT must be at least 1", "... is too large".
  std::size_t positive(std::string_view text, std::string_view what) const;
  /// A finite number. @throws parse_error "WHAT 'TEXT' is not a number" (NaN too), "... is out of
  /// the range of a double" (1e400, 1e-400), "... is not finite" (inf).
  double real(std::string_view text, std::string_view what) const;
  /// A finite number >= 0. @throws parse_error "WHAT 'TEXT' is not a non-negative number", or as
  /// real for a number out of range or infinite.
  double nonnegative_real(std::string_view text, std::string_view what) const;
  /// tokens[first..] as KEY=VALUE options of `kind`: each key in `known` (listed in the message
  /// otherwise), given once, with a nonempty value; every key in `required` present.
  /// @throws parse_error naming the offending option.
  spec_options options(const std::vector<std::string_view>& tokens, std::size_t first, std::string_view kind,
                       const std::vector<std::string_view>& known, const std::vector<std::string_view>& required) const;

 private:
  std::string subject_;
};

}  // namespace scaleinv
