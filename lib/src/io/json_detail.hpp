// lib/src/io/json_detail.hpp: what the JSON readers share (private to lib/src/io).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace scaleinv::detail {

/// A JSON value as a message quotes it: a number, string, boolean or null as written; an array or
/// object as [...] or {...}. Not dump(): nlohmann's serializer recurses once per level of nesting,
/// so a 2 MB file of nested brackets in "version" overflowed the stack while the message was made.
inline std::string shown(const nlohmann::json& v) {
  if (v.is_array()) return "[...]";
  if (v.is_object()) return "{...}";
  return v.dump();
}

}  // namespace scaleinv::detail
