// error.cpp: message formatting for scaleinv's exceptions.
#include "scaleinv/error.hpp"

#include <fmt/format.h>

namespace scaleinv {
namespace {
std::string located(const std::string& where, std::size_t line, std::size_t column, const std::string& message) {
  if (where.empty()) return message;
  if (line == 0) return fmt::format("{}: {}", where, message);
  if (column == 0) return fmt::format("{}:{}: {}", where, line, message);
  return fmt::format("{}:{}:{}: {}", where, line, column, message);
}

std::string cycle_message(const std::vector<std::string>& cycle) {
  std::string out = "the network is not a DAG: cycle ";
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    if (i > 0) out += " -> ";
    out += cycle[i];
  }
  return out;
}
}  // namespace

parse_error::parse_error(std::string where, std::size_t line, std::size_t column, const std::string& message)
    : error(located(where, line, column, message)), where_(std::move(where)), line_(line), column_(column) {}

not_a_dag::not_a_dag(std::vector<std::string> cycle, const std::string& where)
    : invalid_network(where.empty() ? cycle_message(cycle) : fmt::format("{}: {}", where, cycle_message(cycle))),
      cycle_(std::move(cycle)) {}

}  // namespace scaleinv
