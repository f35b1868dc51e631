// scaleinv/error.hpp: the exceptions lib/ throws. A mathematical "no" is a return value, never a throw.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace scaleinv {

/// Base of every exception scaleinv throws. what() is a complete sentence fit for a user.
class error : public std::runtime_error {
 public:
  explicit error(const std::string& message) : std::runtime_error(message) {}
};

/// Malformed text: a file or a network spec. what() starts with "where:line:column: " when known.
class parse_error : public error {
 public:
  /// @param where a file name or a description such as "spec 'mlp:3-x'"; line/column 0 = unknown.
  parse_error(std::string where, std::size_t line, std::size_t column, const std::string& message);
  const std::string& where() const noexcept { return where_; }
  std::size_t line() const noexcept { return line_; }
  std::size_t column() const noexcept { return column_; }

 private:
  std::string where_;
  std::size_t line_;
  std::size_t column_;
};

/// A network that breaks a structural rule; the message names the node or edge.
class invalid_network : public error {
 public:
  explicit invalid_network(const std::string& message) : error(message) {}
};

/// The graph has a directed cycle; cycle() lists its node ids, first node repeated at the end.
class not_a_dag : public invalid_network {
 public:
  /// @param where the file the network came from, or empty.
  explicit not_a_dag(std::vector<std::string> cycle, const std::string& where = "");
  const std::vector<std::string>& cycle() const noexcept { return cycle_; }

 private:
  std::vector<std::string> cycle_;
};

/// A request that is well formed but cannot be carried out (a limit exceeded, an edge list that
/// is not a path, ...).
class invalid_argument : public error {
 public:
  explicit invalid_argument(const std::string& message) : error(message) {}
};

}  // namespace scaleinv
