// spec.cpp: cutting specs into kind, tokens and KEY[=VALUE] options, and reading their values.
#include "scaleinv/io/spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "scaleinv/error.hpp"

namespace scaleinv {

std::vector<std::string_view> split_on(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

spec_parts split_spec(std::string_view spec) {
  spec_parts parts;
  auto colon = spec.find(':');
  parts.kind = spec.substr(0, colon);
  parts.has_colon = colon != std::string_view::npos;
  if (parts.has_colon) parts.tokens = split_on(spec.substr(colon + 1), ',');
  return parts;
}

spec_option split_option(std::string_view token) {
  auto eq = token.find('=');
  if (eq == std::string_view::npos) return {token, {}, true};
  return {token.substr(0, eq), token.substr(eq + 1), false};
}

std::optional<std::string_view> spec_options::get(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k == key) return v;
  return std::nullopt;
}

void spec_parser::fail(const std::string& message) const { throw parse_error(subject_, 0, 0, message); }

std::uint64_t spec_parser::integer(std::string_view text, std::string_view what) const {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) fail(fmt::format("{} '{}' is too large", what, text));
  if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty())
    fail(fmt::format("{} '{}' is not a non-negative integer", what, text));
  return value;
}

std::size_t spec_parser::positive(std::string_view text, std::string_view what) const {
  std::uint64_t v = integer(text, what);
  if (v == 0) fail(fmt::format("{} must be at least 1", what));
  if (v > std::numeric_limits<std::uint32_t>::max()) fail(fmt::format("{} '{}' is too large", what, text));
  return static_cast<std::size_t>(v);
}

namespace {
// A spec's real number: the double, or why there is none ("is not a number", "is out of the range
// of a double", "is not finite").
const char* read_real(std::string_view text, double& value) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ptr != text.data() + text.size() || (ec != std::errc{} && ec != std::errc::result_out_of_range) ||
      (ec == std::errc{} && std::isnan(value)))
    return "is not a number";
  if (ec == std::errc::result_out_of_range) return "is out of the range of a double";
  if (!std::isfinite(value)) return "is not finite";
  return nullptr;
}
}  // namespace

double spec_parser::real(std::string_view text, std::string_view what) const {
  double value = 0;
  if (const char* why = read_real(text, value)) fail(fmt::format("{} '{}' {}", what, text, why));
  return value;
}

double spec_parser::nonnegative_real(std::string_view text, std::string_view what) const {
  double value = 0;
  const char* why = read_real(text, value);
  if (why != nullptr && std::string_view(why) != "is not a number") fail(fmt::format("{} '{}' {}", what, text, why));
  if (why != nullptr || value < 0) fail(fmt::format("{} '{}' is not a non-negative number", what, text));
  return value;
}

spec_options spec_parser::options(const std::vector<std::string_view>& tokens, std::size_t first, std::string_view kind,
                                  const std::vector<std::string_view>& known,
                                  const std::vector<std::string_view>& required) const {
  spec_options o;
  std::string known_list;
  for (auto k : known) known_list += fmt::format("{}{}=...", known_list.empty() ? "" : ", ", k);
  for (std::size_t i = first; i < tokens.size(); ++i) {
    std::string_view t = tokens[i];
    if (t.empty()) fail("empty option (a stray comma?)");
    auto [key, value, is_flag] = split_option(t);
    if (std::find(known.begin(), known.end(), key) == known.end())
      fail(fmt::format("unknown option '{}' for {} (expected {})", t, kind, known_list));
    if (is_flag || value.empty()) fail(fmt::format("option '{}' needs a value ({}=...)", t, key));
    if (o.get(key)) fail(fmt::format("option '{}' is given twice", key));
    o.items.emplace_back(key, value);
  }
  std::string missing;
  for (auto k : required)
    if (!o.get(k)) missing += fmt::format("{}{}=...", missing.empty() ? "" : ", ", k);
  if (!missing.empty()) fail(fmt::format("{} needs {}", kind, missing));
  return o;
}

}  // namespace scaleinv
